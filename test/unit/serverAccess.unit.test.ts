// Access control on a real server (127.0.0.1): signed per-room tokens for
// joins and the HTTP API, read-only members, precise refusals, the loopback
// rule without a secret, and the CLI's token command.
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LoroDoc } from 'loro-crdt';
import { CrdtType, JoinErrorCode, MessageType, UpdateStatusCode } from 'loro-protocol';
import { isLoopbackHost, issueToken, startServer, type RunningServer } from '../../server';
import { RawClient, rmDir, textOf, tmpDir, waitFor, textUpdate } from '../support/serverHarness';
import { runCli, spawnServer } from '../support/serverProcess';

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef');

const update = textUpdate;

const enc = (s: string) => new TextEncoder().encode(s);
const tok = (o: Partial<Parameters<typeof issueToken>[1]> = {}) => issueToken(SECRET, { doc: 'nb', perm: 'write', ttlSeconds: 3600, ...o });

async function joined(url: string, roomId: string, token: string, user?: string): Promise<RawClient> {
  const c = await RawClient.connect(url);
  c.join(roomId, new Uint8Array(), enc(user ? JSON.stringify({ token, user }) : token));
  await c.next(MessageType.JoinResponseOk, (m) => m.roomId === roomId);
  return c;
}

function errorsOf(c: RawClient): { code: string; message: string; limit?: string; value?: number; room?: string }[] {
  return c.texts.filter((t) => t.startsWith('{')).map((t) => JSON.parse(t) as { code: string; message: string });
}

describe('server access control (tokens)', function () {
  this.timeout(30_000);
  let dir: string;
  let server: RunningServer;
  const clients: RawClient[] = [];
  const track = (c: RawClient) => (clients.push(c), c);

  beforeEach(async () => {
    dir = tmpDir();
    server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent', secret: SECRET });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.close();
    rmDir(dir);
  });

  it('read-only member receives updates; its updates are refused (PermissionDenied + reason), never relayed, never in the WAL or ops_log', async () => {
    const writer = track(await joined(server.url, 'nb', tok({ user: 'ana' }), 'claimed-name'));
    const other = track(await joined(server.url, 'nb', tok({ user: 'bo' })));
    const reader = track(await RawClient.connect(server.url));
    reader.join('nb', new Uint8Array(), enc(JSON.stringify({ token: tok({ perm: 'read', user: 'rita' }) })));
    assert.equal((await reader.next(MessageType.JoinResponseOk)).permission, 'read');

    assert.equal((await writer.ackFor(writer.update('nb', [update('hello ', 1n)]))).status, UpdateStatusCode.Ok);
    // The reader follows.
    const follow = new LoroDoc();
    await waitFor(() => {
      for (const m of reader.messages) if (m.type === MessageType.DocUpdate) follow.importBatch(m.updates);
      return textOf(follow) === 'hello ';
    }, 'the reader receives the write');

    const acceptedBefore = server.stats().opsAccepted;
    const walBefore = server.stats().walDepth;
    const refusedId = reader.update('nb', [update('vandalism', 66n)]);
    assert.equal((await reader.ackFor(refusedId)).status, UpdateStatusCode.PermissionDenied);
    await waitFor(() => errorsOf(reader).some((e) => e.code === 'read_only'), 'read_only error frame');
    assert.match(errorsOf(reader).find((e) => e.code === 'read_only')!.message, /joined room nb read-only: updates are refused, not relayed and not stored/);
    // Fragmented writes are refused too.
    reader.send({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId: 'nb', batchId: '0x00000000000000aa', fragmentCount: 1, totalSizeBytes: 10 });
    assert.equal((await reader.ackFor('0x00000000000000aa')).status, UpdateStatusCode.PermissionDenied);
    assert.equal(server.stats().opsAccepted, acceptedBefore);
    assert.equal(server.stats().walDepth, walBefore);

    // A later write reaches the others; the refused one never did.
    assert.equal((await writer.ackFor(writer.update('nb', [update('world', 2n)]))).status, UpdateStatusCode.Ok);
    await waitFor(() => other.messages.filter((m) => m.type === MessageType.DocUpdate).length >= 2, 'other receives both writes');
    await waitFor(() => {
      for (const m of reader.messages) if (m.type === MessageType.DocUpdate) follow.importBatch(m.updates);
      return textOf(follow).includes('world');
    }, 'reader receives the second write');
    assert.ok(!textOf(follow).includes('vandalism'));
    const seen = new LoroDoc();
    for (const m of other.messages) if (m.type === MessageType.DocUpdate) seen.importBatch(m.updates);
    assert.ok(!textOf(seen).includes('vandalism'));
    // The writer joined first (one backfill of the empty document) and was sent nothing since: not the reader's update.
    assert.equal(writer.messages.filter((m) => m.type === MessageType.DocUpdate).length, 1);

    await server.flush();
    const a = await server.storage.analytics({ docId: 'nb' });
    // Authors come from the tokens (not from the name the client claims).
    assert.deepEqual(a.perAuthor.map((p) => [p.author, p.updates]).sort(), [['ana', 2]]);
    const state = await server.storage.loadRoom('nb', 'main');
    const stored = new LoroDoc();
    if (state.snapshot) stored.import(state.snapshot.bytes);
    stored.importBatch(state.ops.map((o) => o.bytes));
    assert.ok(!textOf(stored).includes('vandalism'));
  });

  it('read-only members may publish presence (relayed, never stored)', async () => {
    const reader = track(await RawClient.connect(server.url));
    reader.send({ type: MessageType.JoinRequest, crdt: CrdtType.LoroEphemeralStore, roomId: 'nb', auth: enc(tok({ perm: 'read' })), version: new Uint8Array() });
    assert.equal((await reader.next(MessageType.JoinResponseOk)).permission, 'read');
    const { EphemeralStore } = await import('loro-crdt');
    const store = new EphemeralStore(30_000);
    store.set('cursor', { name: 'rita', cell: 'c1' });
    reader.send({ type: MessageType.DocUpdate, crdt: CrdtType.LoroEphemeralStore, roomId: 'nb', updates: [store.encodeAll()], batchId: '0x00000000000000bb' });
    assert.equal((await reader.ackFor('0x00000000000000bb')).status, UpdateStatusCode.Ok);
    await server.flush();
    assert.equal((await server.storage.analytics({ docId: 'nb' })).perAuthor.length, 0);
  });

  it('refused joins: no token, garbage, wrong signature, expired, another doc, another branch — each says why (JoinError AuthFailed)', async () => {
    const c = track(await RawClient.connect(server.url));
    const otherSecret = issueToken(Buffer.from('ffffffffffffffffffffffffffffffff'), { doc: 'nb', perm: 'write', ttlSeconds: 3600 });
    const expired = issueToken(SECRET, { doc: 'nb', perm: 'write', ttlSeconds: 60, now: Date.now() - 2 * 3600_000 });
    const cases: [string, Uint8Array, string, RegExp][] = [
      ['nb', new Uint8Array(), 'token_required', /requires an access token/],
      ['nb', enc('{"user":"ana"}'), 'token_required', /requires an access token/],
      ['nb', enc('not-a-token'), 'malformed_token', /not a SQLRoom token/],
      ['nb', new Uint8Array([0xc3, 0x28, 0xff]), 'malformed_token', /not UTF-8/],
      ['nb', enc(otherSecret), 'bad_signature', /signature does not match/],
      ['nb', enc(expired), 'token_expired', /token expired at \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+ min ago\)/],
      ['other-doc', enc(tok()), 'wrong_doc', /token is for document "nb", not "other-doc"/],
      ['nb@dev', enc(tok({ branch: 'main' })), 'wrong_branch', /token is for branch "main" of "nb", not "dev"/],
    ];
    for (const [room, auth, appCode, re] of cases) {
      c.messages.length = 0;
      c.join(room, new Uint8Array(), auth);
      const err = await c.next(MessageType.JoinError, (m) => m.roomId === room);
      assert.equal(err.code, JoinErrorCode.AuthFailed, appCode);
      assert.match(err.message, re);
      assert.ok(err.message.endsWith(`(${appCode})`), err.message);
    }
    // Not joined: updates refused with the reason.
    assert.equal((await c.ackFor(c.update('nb', [update('x', 5n)]))).status, UpdateStatusCode.PermissionDenied);
    await waitFor(() => errorsOf(c).some((e) => e.code === 'not_joined'), 'not_joined frame');
    // The same connection can still join with a good token; a branch token works on its branch.
    c.join('nb@dev', new Uint8Array(), enc(tok({ branch: 'dev' })));
    assert.equal((await c.next(MessageType.JoinResponseOk, (m) => m.roomId === 'nb@dev')).permission, 'write');
    assert.equal((await c.ackFor(c.update('nb@dev', [update('on dev', 6n)]))).status, UpdateStatusCode.Ok);
    await server.flush();
    assert.equal((await server.storage.loadRoom('nb', 'main')).ops.length, 0);
  });

  it('HTTP API needs a bearer token for the document: 401 without or with a bad one, 403 for another doc/branch or a read-only write; /healthz and /metrics stay open', async () => {
    const call = async (p: string, token?: string, body?: unknown) => {
      const r = await fetch(server.httpUrl + p, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: r.status, auth: r.headers.get('www-authenticate'), body: (await r.json().catch(() => ({}))) as { error?: string; code?: string } };
    };
    assert.equal((await fetch(server.httpUrl + '/healthz')).status, 200);
    assert.equal((await fetch(server.httpUrl + '/metrics')).status, 200);

    let r = await call('/api/docs/nb/branches');
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'token_required');
    assert.match(r.auth!, /^Bearer/);
    r = await call('/api/docs/nb/branches', 'garbage');
    assert.deepEqual([r.status, r.body.code], [401, 'malformed_token']);
    r = await call('/api/docs/nb/branches', issueToken(Buffer.from('ffffffffffffffffffffffffffffffff'), { doc: 'nb', perm: 'write', ttlSeconds: 60 }));
    assert.deepEqual([r.status, r.body.code], [401, 'bad_signature']);
    r = await call('/api/docs/nb/branches', issueToken(SECRET, { doc: 'nb', perm: 'write', ttlSeconds: 60, now: Date.now() - 3600_000 }));
    assert.deepEqual([r.status, r.body.code], [401, 'token_expired']);
    r = await call('/api/docs/other/branches', tok());
    assert.deepEqual([r.status, r.body.code], [403, 'wrong_doc']);
    assert.match(r.body.error!, /token is for document "nb", not "other"/);
    r = await call('/api/docs/nb/checkpoint', tok({ perm: 'read' }), { message: 'm' });
    assert.deepEqual([r.status, r.body.code], [403, 'read_only']);
    r = await call('/api/docs/nb/merge', tok({ perm: 'write', branch: 'dev' }), { from: 'dev', into: 'main' });
    assert.deepEqual([r.status, r.body.code], [403, 'wrong_branch']);
    r = await call('/api/analytics', tok());
    assert.deepEqual([r.status, r.body.code], [403, 'wrong_doc']);
    assert.match(r.body.error!, /every document/);

    // Valid tokens work: read for GET, write for POST, '*' for analytics over everything.
    assert.equal((await call('/api/docs/nb/branches', tok({ perm: 'read' }))).status, 200);
    assert.equal((await call('/api/docs/nb/snapshots', tok({ perm: 'read' }))).status, 200);
    assert.equal((await call('/api/docs/nb/checkpoint', tok(), { message: 'ok' })).status, 200);
    assert.equal((await call('/api/docs/nb/analytics?branch=dev', tok({ perm: 'read', branch: 'dev' }))).status, 200);
    r = await call('/api/docs/nb/analytics', tok({ perm: 'read', branch: 'dev' }));
    assert.deepEqual([r.status, r.body.code], [403, 'wrong_branch']);
    assert.match(r.body.error!, /covers every branch \(add \?branch=dev\)/);
    assert.equal((await call('/api/analytics', issueToken(SECRET, { doc: '*', perm: 'read', ttlSeconds: 60 }))).status, 200);
  });

  it('without a secret the server refuses non-loopback hosts before binding; loopback stays open', async () => {
    assert.ok(isLoopbackHost('127.0.0.1') && isLoopbackHost('::1') && isLoopbackHost('localhost') && isLoopbackHost('127.1.2.3') && isLoopbackHost('[::1]'));
    assert.ok(!isLoopbackHost('0.0.0.0') && !isLoopbackHost('::') && !isLoopbackHost('192.168.1.5') && !isLoopbackHost('example.org'));
    for (const host of ['0.0.0.0', '::']) {
      await assert.rejects(
        startServer({ host, port: 0, db: path.join(dir, 'open.duckdb'), logLevel: 'silent' }),
        (err: Error) => err.message === `refusing to listen on ${host} without a secret: pass --secret-file or set SQLROOM_SECRET (tokens: sqlroom-server token --help)`,
      );
    }
    const cli = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--db', path.join(dir, 'cli.duckdb')]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /refusing to listen on 0\.0\.0\.0 without a secret: pass --secret-file or set SQLROOM_SECRET/);
    assert.equal(cli.stdout, '');
    // Loopback without a secret: open, as before.
    const open = await startServer({ port: 0, db: path.join(dir, 'loop.duckdb'), logLevel: 'silent' });
    try {
      const c = await RawClient.connect(open.url);
      c.join('nb');
      assert.equal((await c.next(MessageType.JoinResponseOk)).permission, 'write');
      c.close();
    } finally {
      await open.close();
    }
  });
});

describe('server CLI tokens', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => rmDir(dir));

  it('`sqlroom-server token` issues tokens that a server started with --secret-file accepts; SQLROOM_SECRET works too', async () => {
    const secretFile = path.join(dir, 'secret.txt');
    writeFileSync(secretFile, 'cli-secret-0123456789abcdef-cli\n');
    const w = await runCli(['token', '--secret-file', secretFile, '--doc', 'team-nb', '--perm', 'write', '--ttl', '7d', '--user', 'ana']);
    assert.equal(w.code, 0, w.stderr);
    const writeToken = w.stdout.trim();
    assert.match(writeToken, /^sqr1\./);
    process.env.SQLROOM_SECRET = 'cli-secret-0123456789abcdef-cli';
    let r;
    try {
      r = await runCli(['token', '--doc', 'team-nb', '--branch', 'main', '--perm', 'read', '--ttl', '1h']);
    } finally {
      delete process.env.SQLROOM_SECRET;
    }
    assert.equal(r.code, 0, r.stderr);
    const readToken = r.stdout.trim();
    // Usage errors.
    const noSecret = await runCli(['token', '--doc', 'x', '--perm', 'read']);
    assert.equal(noSecret.code, 2);
    assert.match(noSecret.stderr, /token needs the server secret: --secret-file FILE or env SQLROOM_SECRET/);
    const badPerm = await runCli(['token', '--secret-file', secretFile, '--doc', 'x', '--perm', 'admin']);
    assert.match(badPerm.stderr, /--perm read or --perm write/);
    writeFileSync(path.join(dir, 'short'), 'tiny');
    const short = await runCli(['token', '--secret-file', path.join(dir, 'short'), '--doc', 'x', '--perm', 'read']);
    assert.match(short.stderr, /at least 16 bytes/);
    // --user gets the server's user-name check (names.ts): a usage error that says why.
    for (const [bad, why] of [['', /user name is empty/], ['ana\u200b', /invisible or control character U\+200B/], ['x'.repeat(129), /longer than 128/], ['p\u0430ypal', /mixes letters of the Latin and Cyrillic scripts/]] as const) {
      const r = await runCli(['token', '--secret-file', secretFile, '--doc', 'x', '--perm', 'read', '--user', bad]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--user: /);
      assert.match(r.stderr, why);
    }

    const srv = await spawnServer(['--db', path.join(dir, 'db.duckdb'), '--secret-file', secretFile, '--log-level', 'warn']);
    try {
      const wc = await joined(srv.url, 'team-nb', writeToken);
      assert.equal((await wc.ackFor(wc.update('team-nb', [update('from cli token', 3n)]))).status, UpdateStatusCode.Ok);
      const rc = await RawClient.connect(srv.url);
      rc.join('team-nb', new Uint8Array(), enc(readToken));
      assert.equal((await rc.next(MessageType.JoinResponseOk)).permission, 'read');
      [wc, rc].forEach((c) => c.close());
      // The CLI asks the running server over HTTP with --token.
      const denied = await runCli(['analytics', '--server', srv.httpUrl, '--doc', 'team-nb']);
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /server answered 401: this server requires an access token/);
      const ok = await runCli(['analytics', '--server', srv.httpUrl, '--doc', 'team-nb', '--branch', 'main', '--token', readToken]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual((JSON.parse(ok.stdout) as { perAuthor: { author: string }[] }).perAuthor.map((p) => p.author), ['ana']);
    } finally {
      await srv.kill('SIGTERM');
    }
  });
});
