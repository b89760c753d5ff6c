// Hostile clients against access and audit (issue item 5), on a real server
// with a secret on 127.0.0.1: expiry rechecked on every write, authors from
// the token over HTTP, branch lists scoped to the token, one spelling per
// token, look-alike names refused, bad parameters answered 400, and a
// storage byte quota per token over all its connections.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { MessageType, UpdateStatusCode, JoinErrorCode } from 'loro-protocol';
import { issueToken, startServer, type LimitSettings, type RunningServer } from '../../server';
import { RawClient, rmDir, tmpDir, waitFor, textUpdate } from '../support/serverHarness';

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef');
const enc = (s: string) => new TextEncoder().encode(s);
const tok = (o: Partial<Parameters<typeof issueToken>[1]> = {}) => issueToken(SECRET, { doc: 'nb', perm: 'write', ttlSeconds: 3600, ...o });
/** Text that does not compress (Loro updates may be compressed). */
const noise = (n: number) => randomBytes(n).toString('base64').slice(0, n);
const errorsOf = (c: RawClient) => c.texts.filter((t) => t.startsWith('{')).map((t) => JSON.parse(t) as { code: string; message: string; limit?: string });

describe('server hostile clients: access and audit', function () {
  this.timeout(60_000);
  let dir: string;
  let server: RunningServer;
  const clients: RawClient[] = [];
  const track = (c: RawClient) => (clients.push(c), c);

  async function start(limits: Partial<LimitSettings> = {}): Promise<void> {
    server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent', secret: SECRET, limits });
  }
  async function joined(roomId: string, token: string): Promise<RawClient> {
    const c = track(await RawClient.connect(server.url));
    c.join(roomId, new Uint8Array(), enc(token));
    await c.next(MessageType.JoinResponseOk, (m) => m.roomId === roomId);
    return c;
  }
  const api = (p: string, token: string, body?: unknown) =>
    fetch(`${server.httpUrl}${p}`, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  beforeEach(() => {
    dir = tmpDir();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    rmDir(dir);
  });

  it('an open connection cannot write after its token expired: PermissionDenied + token_expired', async () => {
    await start();
    const c = await joined('nb', tok({ ttlSeconds: 2, user: 'ana' }));
    assert.equal((await c.ackFor(c.update('nb', [textUpdate('before ', 1n)]))).status, UpdateStatusCode.Ok);
    const exp = JSON.parse(Buffer.from(tok({ ttlSeconds: 2 }).split('.')[1], 'base64url').toString()).exp as number;
    await waitFor(() => Date.now() >= exp * 1000 + 50, 'the token to expire', 10_000);
    const late = c.update('nb', [textUpdate('after expiry', 2n)]);
    assert.equal((await c.ackFor(late)).status, UpdateStatusCode.PermissionDenied);
    await waitFor(() => errorsOf(c).some((e) => e.code === 'token_expired'), 'the token_expired error frame');
    await server.flush();
    const a = await server.storage.analytics({ docId: 'nb' });
    assert.equal(a.perBranch[0].updates, 1, 'only the update before expiry is stored');
  });

  it('HTTP checkpoint, fork and merge record the token\'s user, never a body "author"; control characters are refused', async () => {
    await start();
    const w = await joined('nb', tok({ user: 'ana' }));
    assert.equal((await w.ackFor(w.update('nb', [textUpdate('x', 3n)]))).status, UpdateStatusCode.Ok);
    const mallory = tok({ user: 'mallory' });
    assert.equal((await api('/api/docs/nb/checkpoint', mallory, { message: 'cp', author: 'alice' })).status, 200);
    const snaps = (await (await api('/api/docs/nb/snapshots', mallory)).json()) as { snapshots: { createdBy: string }[] };
    assert.deepEqual(snaps.snapshots.map((s) => s.createdBy), ['mallory']);
    assert.equal((await api('/api/docs/nb/branches', mallory, { name: 'side', author: 'alice' })).status, 201);
    const w2 = await joined('nb@side', tok({ user: 'ana' }));
    assert.equal((await w2.ackFor(w2.update('nb@side', [textUpdate('side edit', 4n)]))).status, UpdateStatusCode.Ok);
    assert.equal((await api('/api/docs/nb/merge', mallory, { from: 'side', into: 'main', author: 'alice\u0007\u001b]0;x' })).status, 200);
    await server.flush();
    const authors = (await server.storage.analytics({ docId: 'nb' })).perAuthor.map((a) => a.author).sort();
    assert.ok(!authors.includes('alice') && !authors.some((a) => /[\u0000-\u001f]/.test(a)), JSON.stringify(authors));
    assert.ok(authors.includes('mallory'), JSON.stringify(authors));
    // A token without a user: the body's author is checked like any name.
    const anon = tok();
    const bad = await api('/api/docs/nb/checkpoint', anon, { author: 'alice\u0007\u001b]0;x' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /author/);
  });

  it('a read token scoped to one branch lists only that branch', async () => {
    await start();
    const w = await joined('nb', tok());
    assert.equal((await w.ackFor(w.update('nb', [textUpdate('x', 5n)]))).status, UpdateStatusCode.Ok);
    for (const name of ['review', 'secret-plan']) assert.equal((await api('/api/docs/nb/branches', tok(), { name })).status, 201);
    const all = (await (await api('/api/docs/nb/branches', tok({ perm: 'read' }))).json()) as { branches: { branch: string }[] };
    assert.deepEqual(all.branches.map((b) => b.branch).sort(), ['main', 'review', 'secret-plan']);
    const scoped = (await (await api('/api/docs/nb/branches', tok({ perm: 'read', branch: 'review' }))).json()) as { branches: { branch: string; head: unknown[] }[] };
    assert.deepEqual(scoped.branches.map((b) => b.branch), ['review']);
    assert.ok(scoped.branches[0].head.length > 0);
  });

  it('a token signature in a non-canonical base64url spelling is refused (join and HTTP)', async () => {
    await start();
    const t = tok();
    const sig = t.split('.')[2];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 32 bytes in 43 characters: the last one carries 2 unused bits; setting one decodes to the same MAC.
    const last = alphabet.indexOf(sig.at(-1)!);
    const variant = `${t.slice(0, -1)}${alphabet[last ^ 1]}`;
    assert.deepEqual(Buffer.from(variant.split('.')[2], 'base64url'), Buffer.from(sig, 'base64url'), 'same bytes, other spelling');
    const c = track(await RawClient.connect(server.url));
    c.join('nb', new Uint8Array(), enc(variant));
    const err = await c.next(MessageType.JoinError);
    assert.equal(err.code, JoinErrorCode.AuthFailed);
    assert.match(err.message, /canonical base64url.*malformed_token/);
    const r = await api('/api/docs/nb/branches', variant);
    assert.equal(r.status, 401);
    assert.equal((await api('/api/docs/nb/branches', t)).status, 200, 'the canonical spelling still works');
  });

  it('look-alike and invisible branch and user names are refused: main\\u034f, Cyrillic mаin', async () => {
    await start();
    const w = await joined('nb', tok());
    assert.equal((await w.ackFor(w.update('nb', [textUpdate('x', 6n)]))).status, UpdateStatusCode.Ok);
    for (const name of ['main\u034f', 'm\u0430in', 'ma\u200cin']) {
      const c = track(await RawClient.connect(server.url));
      c.join(`nb@${name}`, new Uint8Array(), enc(tok()));
      const err = await c.next(MessageType.JoinError);
      assert.equal(err.appCode, 'invalid_room_id', JSON.stringify(name));
      const r = await api('/api/docs/nb/branches', tok(), { name });
      assert.equal(r.status, 400, JSON.stringify(name));
      assert.match(((await r.json()) as { error: string }).error, /invisible|mixes letters|control, format/);
    }
    await server.flush(); // main's branch row is written by the flush
    assert.deepEqual(((await (await api('/api/docs/nb/branches', tok())).json()) as { branches: { branch: string }[] }).branches.map((b) => b.branch), ['main']);
    assert.throws(() => tok({ user: '\u0430lice' }), /mixes letters/);
    assert.throws(() => tok({ user: 'ali\u200bce' }), /invisible/);
    // Plain names of one script stay fine.
    for (const name of ['ревизия', 'δοκιμή', 'feature/x-1']) assert.equal((await api('/api/docs/nb/branches', tok(), { name })).status, 201, name);
  });

  it('analytics with ?from=1 or another non-ISO time answers 400 with the parameter named (never 500)', async () => {
    await start();
    for (const q of ['from=1', 'to=yesterday', 'from=2026-13-45', 'to=1e9']) {
      const r = await api(`/api/docs/nb/analytics?${q}`, tok({ perm: 'read' }));
      assert.equal(r.status, 400, q);
      const body = (await r.json()) as { error: string; code: string };
      assert.equal(body.code, 'bad_parameter', q);
      assert.match(body.error, new RegExp(`parameter ${q.split('=')[0]} must be an ISO 8601 time`));
    }
    assert.equal((await api('/api/docs/nb/analytics?from=2026-01-01T00:00:00Z', tok({ perm: 'read' }))).status, 200);
  });

  it('one token over several connections gets one storage byte budget (maxTokenBytesPerSecond)', async () => {
    await start({ maxTokenBytesPerSecond: 2_000, rateBurstSeconds: 20 });
    const t = tok({ user: 'ana' });
    const conns = [await joined('nb', t), await joined('nb', t), await joined('nb', t)];
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const c = conns[i % 3];
      statuses.push((await c.ackFor(c.update('nb', [textUpdate(noise(15_000), BigInt(100 + i))]))).status);
    }
    // 40,000 bytes of burst: two 15 kB updates pass, the third is refused whichever connection sends it.
    assert.deepEqual(statuses.slice(0, 2), [UpdateStatusCode.Ok, UpdateStatusCode.Ok]);
    assert.ok(statuses.slice(2).every((s) => s === UpdateStatusCode.RateLimited), JSON.stringify(statuses));
    assert.ok(conns.some((c) => errorsOf(c).some((e) => e.code === 'token_quota' && e.limit === 'maxTokenBytesPerSecond')));
    // Another token is not charged for it.
    const other = await joined('nb', tok({ user: 'bo' }));
    assert.equal((await other.ackFor(other.update('nb', [textUpdate(noise(15_000), 200n)]))).status, UpdateStatusCode.Ok);
  });
});
