// TLS: the server serves https:// and wss:// with a certificate and key;
// clients that trust the certificate (the `ca` option) sync, others are
// refused by TLS. The certificate is self-signed, made by openssl in a temp
// folder at test time (no key is committed).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import { LoroDoc } from 'loro-crdt';
import { MessageType, decode, encode, CrdtType, UpdateStatusCode } from 'loro-protocol';
import { issueToken, startServer, type RunningServer } from '../../server';
import { RoomClient, type RoomStatus } from '../../extension/core/sync/roomClient';
import { rmDir, tmpDir, waitFor } from '../support/serverHarness';
import { spawnServer, runCli } from '../support/serverProcess';

function selfSigned(dir: string): { cert: Buffer; key: Buffer; certFile: string; keyFile: string } {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return { cert: readFileSync(certFile), key: readFileSync(keyFile), certFile, keyFile };
}

function httpsGet(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, ca ? { ca } : {}, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('server TLS (wss://)', function () {
  this.timeout(30_000);
  let dir: string;
  let tls: ReturnType<typeof selfSigned>;
  let server: RunningServer;
  const secret = Buffer.from('tls-test-secret-0123456789abcdef');

  before(() => {
    dir = tmpDir();
    tls = selfSigned(dir);
  });
  after(() => rmDir(dir));
  beforeEach(async () => {
    server = await startServer({ port: 0, db: path.join(dir, `db-${Date.now()}.duckdb`), logLevel: 'silent', tls: { cert: tls.cert, key: tls.key }, secret });
  });
  afterEach(() => server.close());

  it('serves wss:// and https://; the extension client syncs when it trusts the certificate (ca)', async () => {
    assert.match(server.url, /^wss:\/\/127\.0\.0\.1:\d+$/);
    assert.match(server.httpUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await httpsGet(server.httpUrl + '/healthz', tls.cert);
    assert.equal(health.status, 200);
    assert.equal((JSON.parse(health.body) as { status: string }).status, 'ok');

    const token = issueToken(secret, { doc: 'secure', perm: 'write', ttlSeconds: 600 });
    const docs = [new LoroDoc(), new LoroDoc()];
    const statuses: RoomStatus[][] = [[], []];
    const clients = docs.map((doc, i) => new RoomClient({ url: server.url, roomId: 'secure', doc, auth: { user: `u${i}`, token }, ca: tls.cert, pingMs: 60_000, onStatus: (s) => statuses[i].push(s) }));
    try {
      await Promise.all(clients.map((c) => c.whenSynced(10_000)));
      docs[0].getText('t').insert(0, 'over tls');
      docs[0].commit();
      await clients[0].whenSynced(10_000);
      await waitFor(() => docs[1].getText('t').toString() === 'over tls', 'the second client receives the edit over wss');
    } finally {
      clients.forEach((c) => c.close());
    }
    await server.flush();
    assert.equal((await server.storage.loadRoom('secure', 'main')).ops.length, 1);
  });

  it('a client that does not trust the certificate is refused by TLS; plain ws:// is not served', async () => {
    await assert.rejects(httpsGet(server.httpUrl + '/healthz'), /self[- ]signed certificate/);
    const err = await new Promise<Error>((resolve) => {
      const ws = new WebSocket(server.url);
      ws.on('error', resolve);
      ws.on('open', () => resolve(new Error('opened')));
    });
    assert.match(err.message, /self[- ]signed certificate/);
    // The extension's client reports it (and keeps retrying) rather than crashing.
    const doc = new LoroDoc();
    const seen: RoomStatus[] = [];
    const logs: string[] = [];
    const c = new RoomClient({ url: server.url, roomId: 'secure', doc, auth: {}, initialBackoffMs: 50, maxBackoffMs: 100, onStatus: (s) => seen.push(s), log: (m) => logs.push(m) });
    try {
      await waitFor(() => logs.some((l) => /self[- ]signed certificate/.test(l)), 'a TLS error logged');
    } finally {
      c.close();
    }
    const plain = await new Promise<Error | 'open'>((resolve) => {
      const ws = new WebSocket(server.url.replace('wss://', 'ws://'));
      ws.on('error', resolve);
      ws.on('open', () => resolve('open'));
      ws.on('close', () => resolve(new Error('closed')));
    });
    assert.notEqual(plain, 'open');
  });

  it('raw protocol over wss with ca: join, update, ack', async () => {
    const ws = new WebSocket(server.url, { ca: tls.cert });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const msgs: ReturnType<typeof decode>[] = [];
    ws.on('message', (d: Buffer, bin) => bin && msgs.push(decode(new Uint8Array(d))));
    ws.send(encode({ type: MessageType.JoinRequest, crdt: CrdtType.Loro, roomId: 'secure', auth: new TextEncoder().encode(issueToken(secret, { doc: 'secure', perm: 'write', ttlSeconds: 60 })), version: new Uint8Array() }));
    await waitFor(() => msgs.some((m) => m.type === MessageType.JoinResponseOk), 'joined');
    const d = new LoroDoc();
    d.getText('t').insert(0, 'x');
    d.commit();
    ws.send(encode({ type: MessageType.DocUpdate, crdt: CrdtType.Loro, roomId: 'secure', updates: [d.export({ mode: 'update' })], batchId: '0x0000000000000001' }));
    await waitFor(() => msgs.some((m) => m.type === MessageType.Ack), 'acked');
    const ack = msgs.find((m) => m.type === MessageType.Ack) as { status: number };
    assert.equal(ack.status, UpdateStatusCode.Ok);
    ws.close();
  });
});

describe('server CLI TLS', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => rmDir(dir));

  it('--tls-cert/--tls-key print a wss:// URL; a missing or bad key file is a clear error', async () => {
    const tls = selfSigned(dir);
    const srv = await spawnServer(['--db', path.join(dir, 'db.duckdb'), '--tls-cert', tls.certFile, '--tls-key', tls.keyFile, '--log-level', 'warn']);
    try {
      assert.match(srv.url, /^wss:\/\//);
      assert.match(srv.httpUrl, /^https:\/\//);
      assert.equal((await httpsGet(srv.httpUrl + '/healthz', tls.cert)).status, 200);
      // The CLI's HTTP client trusts the certificate with --ca-file.
      const a = await runCli(['analytics', '--server', srv.httpUrl, '--ca-file', tls.certFile]);
      assert.equal(a.code, 0, a.stderr);
    } finally {
      await srv.kill('SIGTERM');
    }
    const half = await runCli(['serve', '--port', '0', '--db', path.join(dir, 'x.duckdb'), '--tls-cert', tls.certFile]);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /TLS needs both --tls-cert and --tls-key/);
    writeFileSync(path.join(dir, 'bad.pem'), 'not a key');
    const bad = await runCli(['serve', '--port', '0', '--db', path.join(dir, 'y.duckdb'), '--tls-cert', tls.certFile, '--tls-key', path.join(dir, 'bad.pem')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /cannot use the TLS certificate and key/);
  });
});
