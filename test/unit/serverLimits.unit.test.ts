// Limits on a real server (127.0.0.1): connections per address, update rate
// per connection, document size, update size, rooms per connection. A client
// over a limit is told which limit and its value; other clients and rooms
// carry on.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import { CrdtType, JoinErrorCode, MessageType, UpdateStatusCode } from 'loro-protocol';
import { issueToken, startServer, type RunningServer, type LimitSettings } from '../../server';
import { TokenBucket } from '../../server/protocol/limits';
import { RawClient, rmDir, storedUpdates, tmpDir, waitFor, textUpdate } from '../support/serverHarness';

let peerCounter = 100n;
const update = (text: string): Uint8Array => textUpdate(text, peerCounter++);

/** Random (incompressible) text of about n bytes in one update. */
function bigUpdate(n: number): Uint8Array {
  let s = '';
  while (s.length < n) s += Math.random().toString(36).slice(2);
  return update(s.slice(0, n));
}

interface ErrorFrame {
  code: string;
  message: string;
  limit?: string;
  value?: number;
  batchId?: string;
}
const errorsOf = (c: RawClient): ErrorFrame[] => c.texts.filter((t) => t.startsWith('{')).map((t) => JSON.parse(t) as ErrorFrame);

async function join(url: string, room: string): Promise<RawClient> {
  const c = await RawClient.connect(url);
  c.join(room);
  await c.next(MessageType.JoinResponseOk, (m) => m.roomId === room);
  return c;
}

/** Tries a websocket upgrade; resolves with the HTTP refusal (status + body) or 'open'. */
function tryUpgrade(url: string): Promise<{ status: number; body: string } | 'open'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

describe('server limits', function () {
  this.timeout(30_000);
  let dir: string;
  let server: RunningServer;
  const clients: RawClient[] = [];
  const track = (c: RawClient) => (clients.push(c), c);

  async function start(limits: Partial<LimitSettings>): Promise<void> {
    server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent', limits });
  }
  beforeEach(() => (dir = tmpDir()));
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    rmDir(dir);
  });

  it('token bucket: a burst up to capacity, then refusals until it refills (clock injected)', () => {
    let now = 0;
    const b = new TokenBucket(2, 4, () => now);
    assert.deepEqual([1, 2, 3, 4, 5].map(() => b.take(1)), [true, true, true, true, false]);
    now = 500; // +1 token
    assert.deepEqual([b.take(1), b.take(1)], [true, false]);
    now = 10_000; // full again: a cost larger than what is left is refused (no debt) …
    assert.equal(b.take(3), true);
    assert.equal(b.take(3), false);
    now = 20_000; // … and a cost larger than the whole bucket passes only as `oversize`, when full
    assert.equal(b.take(100), false);
    assert.equal(b.take(100, true), true);
    assert.equal(b.take(1), false);
  });

  it('connections per address: the one over the limit gets HTTP 429 with the limit; closing one frees a slot; the others keep working', async () => {
    await start({ maxConnectionsPerAddress: 3 });
    const open = [track(await join(server.url, 'a')), track(await join(server.url, 'a')), track(await join(server.url, 'b'))];
    const refused = await tryUpgrade(server.url);
    assert.notEqual(refused, 'open');
    const r = refused as { status: number; body: string };
    assert.equal(r.status, 429);
    const body = JSON.parse(r.body) as { error: string; code: string; limit: string; value: number };
    assert.deepEqual([body.code, body.limit, body.value], ['too_many_connections', 'maxConnectionsPerAddress', 3]);
    assert.match(body.error, /too many connections from .*127\.0\.0\.1: at most 3 \(maxConnectionsPerAddress\)/);
    for (const c of open) assert.equal((await c.ackFor(c.update(c === open[2] ? 'b' : 'a', [update('still fine')]))).status, UpdateStatusCode.Ok);
    open[0].close();
    await waitFor(async () => server.stats().clients === 2, 'the closed connection is gone');
    await waitFor(async () => (await tryUpgrade(server.url)) === 'open', 'a slot frees up', 5000);
  });

  it('update rate: updates over the limit are refused (RateLimited + which limit), not stored; other connections unaffected; repeated abuse closes with 1008', async () => {
    await start({ maxUpdatesPerSecond: 1, rateBurstSeconds: 1, maxRateLimitStrikes: 1000 });
    const flooder = track(await join(server.url, 'r'));
    const calm = track(await join(server.url, 'r'));
    const ids = Array.from({ length: 10 }, (_, i) => flooder.update('r', [update(`flood ${i}`)]));
    const statuses = [];
    for (const id of ids) statuses.push((await flooder.ackFor(id)).status);
    const refusedCount = statuses.filter((s) => s === UpdateStatusCode.RateLimited).length;
    assert.ok(refusedCount >= 1, `some of the burst is refused: ${statuses}`);
    assert.ok(statuses.every((s) => s === UpdateStatusCode.Ok || s === UpdateStatusCode.RateLimited), String(statuses));
    await waitFor(() => errorsOf(flooder).filter((e) => e.code === 'rate_limited').length === refusedCount, 'one error frame per refusal');
    const e = errorsOf(flooder).find((x) => x.code === 'rate_limited')!;
    assert.deepEqual([e.limit, e.value], ['maxUpdatesPerSecond', 1]);
    assert.match(e.message, /rate limit: at most 1 updates per second per connection \(maxUpdatesPerSecond\)/);
    // The calm client on its own connection is not limited by the flooder.
    assert.equal((await calm.ackFor(calm.update('r', [update('calm')]))).status, UpdateStatusCode.Ok);
    await server.flush();
    assert.equal(await storedUpdates(server.storage, 'r'), 10 - refusedCount + 1);
    assert.equal(flooder.closeCode, null);
    await server.close();

    // Bytes per second, and closing after too many refusals in a row.
    await start({ maxBytesPerSecond: 1000, rateBurstSeconds: 1, maxRateLimitStrikes: 3 });
    const big = track(await join(server.url, 'r2'));
    let reason = '';
    big.ws.on('close', (_code, r) => (reason = r.toString()));
    assert.equal((await big.ackFor(big.update('r2', [bigUpdate(5000)]))).status, UpdateStatusCode.Ok); // one large update passes, into debt
    assert.equal((await big.ackFor(big.update('r2', [update('next')]))).status, UpdateStatusCode.RateLimited);
    assert.deepEqual(
      (({ limit, value }) => [limit, value])(errorsOf(big).find((x) => x.code === 'rate_limited')!),
      ['maxBytesPerSecond', 1000],
    );
    big.update('r2', [update('again')]);
    big.update('r2', [update('and again')]);
    await waitFor(() => big.closeCode !== null, 'closed after 3 strikes');
    assert.equal(big.closeCode, 1008);
    assert.match(reason, /rate limit exceeded 3 times in a row \(maxBytesPerSecond 1000\)/);
    const other = track(await join(server.url, 'r2'));
    assert.equal((await other.ackFor(other.update('r2', [update('server fine')]))).status, UpdateStatusCode.Ok);
  });

  it('refused writes count against the rate too: a read-only client spamming updates is closed with 1008', async () => {
    const secret = Buffer.from('limits-secret-0123456789abcdef00');
    server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent', secret, limits: { maxUpdatesPerSecond: 1, rateBurstSeconds: 1, maxRateLimitStrikes: 3 } });
    const reader = track(await RawClient.connect(server.url));
    reader.join('ro', new Uint8Array(), new TextEncoder().encode(issueToken(secret, { doc: 'ro', perm: 'read', ttlSeconds: 60 })));
    assert.equal((await reader.next(MessageType.JoinResponseOk)).permission, 'read');
    for (let i = 0; i < 10; i++) reader.update('ro', [update(`spam ${i}`)]);
    await waitFor(() => reader.closeCode !== null, 'closed for spamming');
    assert.equal(reader.closeCode, 1008);
    assert.ok(errorsOf(reader).some((e) => e.code === 'read_only'));
    assert.ok(errorsOf(reader).some((e) => e.code === 'rate_limited'));
    await server.flush();
    assert.equal((await server.storage.loadRoom('ro', 'main')).ops.length, 0);
  });

  it('document size: once a document would pass maxDocBytes its updates are refused with the limit; other rooms carry on; nothing past the limit is stored', async () => {
    await start({ maxDocBytes: 8000 });
    const a = track(await join(server.url, 'big'));
    a.join('small');
    await a.next(MessageType.JoinResponseOk, (m) => m.roomId === 'small');
    const b = track(await join(server.url, 'big'));
    assert.equal((await a.ackFor(a.update('big', [bigUpdate(5000)]))).status, UpdateStatusCode.Ok);
    const refusedId = a.update('big', [bigUpdate(5000)]);
    assert.equal((await a.ackFor(refusedId)).status, UpdateStatusCode.PayloadTooLarge);
    await waitFor(() => errorsOf(a).some((e) => e.code === 'document_too_large'), 'document_too_large frame');
    const e = errorsOf(a).find((x) => x.code === 'document_too_large')!;
    assert.deepEqual([e.limit, e.value, e.batchId], ['maxDocBytes', 8000, refusedId]);
    assert.match(e.message, /document big holds about \d+ bytes; this update of \d+ bytes would pass maxDocBytes 8000/);
    // Every writer of that document is refused; small updates that fit still pass.
    assert.equal((await b.ackFor(b.update('big', [bigUpdate(4000)]))).status, UpdateStatusCode.PayloadTooLarge);
    assert.equal((await b.ackFor(b.update('big', [update('fits')]))).status, UpdateStatusCode.Ok);
    // Another room on the same connection is unaffected.
    assert.equal((await a.ackFor(a.update('small', [update('hello small')]))).status, UpdateStatusCode.Ok);
    await server.flush();
    assert.equal(await storedUpdates(server.storage, 'big'), 2);
    const rows = (await server.storage.analytics({ docId: 'big', branch: 'main' })).perBranch[0];
    assert.ok(rows.bytes <= 8000, `ops_log holds ${rows.bytes} bytes of the document`);
  });

  it('update size and rooms per connection: refusals name the limit', async () => {
    await start({ maxUpdateBytes: 10_000, maxRoomsPerConnection: 2 });
    const c = track(await join(server.url, 'u'));
    c.send({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId: 'u', batchId: '0x00000000000000cc', fragmentCount: 2, totalSizeBytes: 20_000 });
    assert.equal((await c.ackFor('0x00000000000000cc')).status, UpdateStatusCode.PayloadTooLarge);
    assert.equal((await c.ackFor(c.update('u', [bigUpdate(12_000)]))).status, UpdateStatusCode.PayloadTooLarge);
    await waitFor(() => errorsOf(c).filter((e) => e.code === 'update_too_large').length === 2, 'two update_too_large frames');
    for (const e of errorsOf(c)) assert.deepEqual([e.limit, e.value], ['maxUpdateBytes', 10_000]);
    c.join('v');
    await c.next(MessageType.JoinResponseOk, (m) => m.roomId === 'v');
    c.join('w');
    const err = await c.next(MessageType.JoinError, (m) => m.roomId === 'w');
    assert.equal(err.code, JoinErrorCode.AppError);
    assert.equal(err.appCode, 'too_many_rooms');
    assert.match(err.message, /at most 2 rooms per connection/);
    assert.equal((await c.ackFor(c.update('u', [update('still ok')]))).status, UpdateStatusCode.Ok);
  });
});
