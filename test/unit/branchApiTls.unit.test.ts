// Branch, merge, checkpoint and history calls go to the server a session is
// connected to, with the websocket's CA (sqlroom.server.caFile) and token: a
// real wss:// server with a self-signed certificate (openssl, temp folder)
// and a secret.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LoroDoc } from 'loro-crdt';
import { issueToken, startServer, type RunningServer } from '../../server';
import { BranchApi, BranchApiError } from '../../extension/history/branchApi';
import { RoomClient } from '../../extension/core/sync/roomClient';
import { rmDir, tmpDir } from '../support/serverHarness';

describe('history HTTP calls: the connected server, its CA and token', function () {
  this.timeout(60_000);
  let dir: string;
  let cert: Buffer;
  let server: RunningServer;
  const secret = Buffer.from('branch-api-tls-secret-0123456789ab');

  before(async () => {
    dir = tmpDir();
    const certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
    cert = readFileSync(certFile);
    server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent', tls: { cert, key: readFileSync(keyFile) }, secret });
  });
  after(async () => {
    await server?.close();
    rmDir(dir);
  });

  it('with the CA and token of the session: checkpoint and branch list work over https://', async () => {
    const token = issueToken(secret, { doc: 'tlsdoc', perm: 'write', ttlSeconds: 600 });
    const doc = new LoroDoc();
    doc.getText('t').insert(0, 'x');
    doc.commit();
    const c = new RoomClient({ url: server.url, roomId: 'tlsdoc', doc, auth: { user: 'ana', token }, ca: cert });
    try {
      await c.whenSynced(30_000);
      const api = BranchApi.of({ url: c.url, token, ca: cert });
      const cp = await api.checkpoint('tlsdoc', 'main', 'v1', 'ana');
      assert.ok(cp.snapshotId > 0);
      assert.deepEqual((await api.list('tlsdoc')).map((b) => b.branch), ['main']);
    } finally {
      c.close();
    }
  });

  it('without the CA the call fails on the certificate; without the token the server refuses it', async () => {
    const token = issueToken(secret, { doc: 'tlsdoc', perm: 'write', ttlSeconds: 600 });
    await assert.rejects(BranchApi.of({ url: server.url, token }).list('tlsdoc'), (e: unknown) => e instanceof BranchApiError && e.status === 0 && /certificate/i.test(e.message));
    await assert.rejects(BranchApi.of({ url: server.url, ca: cert }).list('tlsdoc'), (e: unknown) => e instanceof BranchApiError && e.status === 401);
  });
});
