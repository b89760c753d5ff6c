// Hostile clients against memory and descriptors (issue items 6–10), on a
// real server on 127.0.0.1 with raw `ws` clients: repeated joins and presence
// to readers that never read (backpressure drops them), fragment bytes
// reserved per connection and per process, the room limit at admission, read
// tokens cannot create branches, the branch list does not load rooms, idle and
// never-joining sockets are closed, slow and piled-up HTTP requests are cut.
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EphemeralStore } from 'loro-crdt';
import { CrdtType, MessageType, UpdateStatusCode, JoinErrorCode } from 'loro-protocol';
import { issueToken, startServer, type LimitSettings, type RunningServer } from '../../server';
import { RawClient, rmDir, tmpDir, waitFor, textUpdate, randomBatch } from '../support/serverHarness';

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef');
const enc = (s: string) => new TextEncoder().encode(s);
const tok = (o: Partial<Parameters<typeof issueToken>[1]> = {}) => issueToken(SECRET, { doc: 'nb', perm: 'write', ttlSeconds: 3600, ...o });
const noise = (n: number) => randomBytes(n).toString('base64').slice(0, n);
const errorsOf = (c: RawClient) => c.texts.filter((t) => t.startsWith('{')).map((t) => JSON.parse(t) as { code: string; message: string; limit?: string });
/** Stop reading the socket (the kernel buffers fill, then the server's send queue). */
const stopReading = (c: RawClient) => (c.ws as unknown as { _socket: net.Socket })._socket.pause();

describe('server hostile clients: memory and descriptors', function () {
  this.timeout(90_000);
  let dir: string;
  let server: RunningServer | undefined;
  const clients: RawClient[] = [];
  const sockets: net.Socket[] = [];
  const track = (c: RawClient) => (clients.push(c), c);

  async function start(limits: Partial<LimitSettings> = {}, secret = true, idleUnloadMs?: number): Promise<RunningServer> {
    server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent', ...(secret ? { secret: SECRET } : {}), limits, ...(idleUnloadMs ? { idleUnloadMs } : {}) });
    return server;
  }
  async function joined(roomId: string, token = tok(), crdt: CrdtType = CrdtType.Loro): Promise<RawClient> {
    const c = track(await RawClient.connect(server!.url));
    c.send({ type: MessageType.JoinRequest, crdt, roomId, auth: enc(token), version: new Uint8Array() });
    await c.next(MessageType.JoinResponseOk, (m) => m.roomId === roomId, 30_000);
    return c;
  }
  /** An honest writer in another room still gets its ack. */
  async function honestAck(): Promise<void> {
    const h = await joined('honest', issueToken(SECRET, { doc: '*', perm: 'write', ttlSeconds: 60 }));
    assert.equal((await h.ackFor(h.update('honest', [textUpdate('still here', BigInt(Date.now() % 1e6))]), 30_000)).status, UpdateStatusCode.Ok);
  }

  beforeEach(() => {
    dir = tmpDir();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    for (const s of sockets.splice(0)) s.destroy();
    await server?.close();
    server = undefined;
    rmDir(dir);
  });

  it('item 6: a read token repeating JoinRequests without reading is disconnected once its send queue passes maxQueuedBytesPerConnection', async () => {
    const s = await start({ maxQueuedBytesPerConnection: 1024 * 1024, maxJoinsPerSecond: 0, maxJoinsPerSecondPerAddress: 0 });
    const w = await joined('nb');
    for (let i = 0; i < 2; i++) assert.equal((await w.ackFor(w.update('nb', [textUpdate(noise(150_000), BigInt(10 + i))]), 30_000)).status, UpdateStatusCode.Ok);
    const reader = await joined('nb', tok({ perm: 'read' }));
    stopReading(reader);
    // 100 joins × a ~300 KB snapshot: about 30 MB if the server queued them all.
    for (let i = 0; i < 100; i++) {
      reader.join('nb', new Uint8Array(), enc(tok({ perm: 'read' })));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => s.stats().clients === 1, 'the slow reader to be dropped (only the writer left)', 30_000);
    await honestAck();
  });

  it('item 6: JoinRequests past maxJoinsPerSecond are refused with join_rate_limited', async () => {
    await start({ maxJoinsPerSecond: 5, rateBurstSeconds: 2 });
    const c = track(await RawClient.connect(server!.url));
    for (let i = 0; i < 30; i++) c.join(`nb@main`, new Uint8Array(), enc(tok()));
    await waitFor(() => c.messages.filter((m) => m.type === MessageType.JoinResponseOk || m.type === MessageType.JoinError).length === 30, 'an answer to every join', 30_000);
    const refused = c.messages.filter((m) => m.type === MessageType.JoinError && m.appCode === 'join_rate_limited');
    assert.ok(refused.length >= 15, `refused ${refused.length} of 30 (a burst of 10 passes, plus what refills meanwhile)`);
    assert.match((refused[0] as { message: string }).message, /maxJoinsPerSecond/);
  });

  it('item 7: presence relayed to readers that never read: they are dropped, the server does not queue it for them', async () => {
    const s = await start({ maxQueuedBytesPerConnection: 1024 * 1024 });
    const receivers = [];
    for (let i = 0; i < 3; i++) {
      const r = await joined('nb', tok({ perm: 'read' }), CrdtType.LoroEphemeralStore);
      stopReading(r);
      receivers.push(r);
    }
    const sender = await joined('nb', tok({ perm: 'read' }), CrdtType.LoroEphemeralStore);
    const store = new EphemeralStore(30_000);
    for (let i = 0; i < 150; i++) {
      store.set('cursor', noise(60_000));
      const id = randomBatch();
      sender.send({ type: MessageType.DocUpdate, crdt: CrdtType.LoroEphemeralStore, roomId: 'nb', updates: [store.encode('cursor')], batchId: id });
      await sender.ackFor(id, 30_000);
      if (s.stats().clients === 1) break;
    }
    await waitFor(() => s.stats().clients === 1, 'the three paused receivers to be dropped', 30_000);
    await honestAck();
  });

  it('item 8: fragment bytes are reserved per connection (maxFragmentBytesPerConnection) and per process (maxFragmentBytesTotal)', async () => {
    await start({ maxBytesPerSecond: 0, maxFragmentBytesPerConnection: 50 * 1024 * 1024, maxFragmentBytesTotal: 80 * 1024 * 1024 });
    const header = (c: RawClient, size: number) => {
      const batchId = randomBatch();
      c.send({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId: 'nb', batchId, fragmentCount: Math.ceil(size / 200_000), totalSizeBytes: size });
      return batchId;
    };
    const a = await joined('nb');
    header(a, 40 * 1024 * 1024);
    const second = header(a, 40 * 1024 * 1024);
    assert.equal((await a.ackFor(second)).status, UpdateStatusCode.RateLimited);
    await waitFor(() => errorsOf(a).some((e) => e.code === 'fragment_budget' && e.limit === 'maxFragmentBytesPerConnection'), 'fragment_budget');
    const b = await joined('nb');
    const third = header(b, 45 * 1024 * 1024);
    assert.equal((await b.ackFor(third)).status, UpdateStatusCode.RateLimited);
    await waitFor(() => errorsOf(b).some((e) => e.code === 'server_busy' && e.limit === 'maxFragmentBytesTotal'), 'server_busy');
    // Closing the first connection gives its reservation back.
    a.ws.terminate();
    await waitFor(() => server!.stats().clients === 1, 'the first connection to close');
    const fourth = header(b, 45 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.messages.some((m) => m.type === MessageType.Ack && m.refId === fourth), false, 'accepted: waiting for its fragments');
  });

  it('item 8: a client that floods frames (fragments of a refused batch) is read no faster than maxReadBytesPerSecond, and is served again after', async () => {
    const rate = 4 * 1024 * 1024;
    const s = await start({ maxReadBytesPerSecond: rate, maxBytesPerSecond: 0 });
    const a = await joined('nb');
    const before = s.stats().bytesRead;
    const t0 = performance.now();
    // 12 MB of fragments for a batch the server never opened: each is read, then dropped.
    const batchId = randomBatch();
    const frame = new Uint8Array(200_000);
    const frames = 60;
    for (let f = 0; f < frames; f++) a.send({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId: 'nb', batchId, index: f, fragment: frame });
    // Read pacing holds by construction: one second's worth at once, then the rate. The
    // slack is what one socket read can hold beyond the frame that went over (a frame, a read chunk).
    const slack = 2 * 200_100 + 64 * 1024;
    let samples = 0;
    while (s.stats().bytesRead - before < frames * 200_000) {
      const read = s.stats().bytesRead - before;
      const bound = rate + (rate * (performance.now() - t0)) / 1000 + slack;
      assert.ok(read <= bound, `read ${read} bytes after ${Math.round(performance.now() - t0)} ms, more than the pace allows (${Math.round(bound)})`);
      samples++;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(samples > 5, 'the flood took a while to read');
    assert.ok(s.stats().readPauses > 0);
    // Paced, not dropped: the same connection's next update is acked.
    assert.equal((await a.ackFor(a.update('nb', [textUpdate('after the flood', 7n)]), 30_000)).status, UpdateStatusCode.Ok);
    // A light sender from the same address (loopback) was never held back by its neighbour's flood.
    await honestAck();
  });

  it('item 9: maxRoomsPerConnection holds for JoinRequests sent back to back (pending joins count)', async () => {
    await start({ maxRoomsPerConnection: 10, maxJoinsPerSecond: 0, maxJoinsPerSecondPerAddress: 0 });
    const c = track(await RawClient.connect(server!.url));
    for (let i = 0; i < 60; i++) c.join(`room${i}`, new Uint8Array(), enc(issueToken(SECRET, { doc: '*', perm: 'write', ttlSeconds: 60 })));
    await waitFor(() => c.messages.filter((m) => m.type === MessageType.JoinResponseOk || m.type === MessageType.JoinError).length === 60, 'an answer to every join', 30_000);
    assert.equal(c.messages.filter((m) => m.type === MessageType.JoinResponseOk).length, 10);
    assert.equal(c.messages.filter((m) => m.type === MessageType.JoinError && m.appCode === 'too_many_rooms').length, 50);
  });

  it('item 9: a read token cannot create branches by joining them; a written branch is joinable read-only', async () => {
    const s = await start();
    const w = await joined('nb');
    assert.equal((await w.ackFor(w.update('nb', [textUpdate('x', 7n)]))).status, UpdateStatusCode.Ok);
    const r = track(await RawClient.connect(s.url));
    for (let i = 0; i < 20; i++) r.join(`nb@b${i}`, new Uint8Array(), enc(tok({ perm: 'read' })));
    await waitFor(() => r.messages.filter((m) => m.type === MessageType.JoinError).length === 20, 'twenty refusals', 30_000);
    const err = r.messages.find((m) => m.type === MessageType.JoinError) as { code: number; appCode?: string; message: string };
    assert.deepEqual([err.code, err.appCode], [JoinErrorCode.AppError, 'unknown_branch']);
    assert.match(err.message, /read-only token cannot create it/);
    assert.equal((await fetch(`${s.httpUrl}/api/docs/nb/branches`, { method: 'POST', headers: { authorization: `Bearer ${tok()}` }, body: JSON.stringify({ name: 'b3' }) })).status, 201);
    const ok = await joined('nb@b3', tok({ perm: 'read' }));
    assert.equal((await ok.next(MessageType.JoinResponseOk)).permission, 'read');
  });

  it('item 9: GET /api/docs/:id/branches reads heads without loading the branch rooms', async () => {
    const s = await start({}, true, 200);
    const w = await joined('nb');
    assert.equal((await w.ackFor(w.update('nb', [textUpdate('x', 8n)]))).status, UpdateStatusCode.Ok);
    const auth = { authorization: `Bearer ${tok()}` };
    for (let i = 0; i < 8; i++) assert.equal((await fetch(`${s.httpUrl}/api/docs/nb/branches`, { method: 'POST', headers: auth, body: JSON.stringify({ name: `f${i}` }) })).status, 201);
    w.close();
    await waitFor(() => s.stats().rooms === 0, 'every room unloaded', 30_000);
    const body = (await (await fetch(`${s.httpUrl}/api/docs/nb/branches`, { headers: auth })).json()) as { branches: { branch: string; head: { peer: string; counter: number }[] }[] };
    assert.deepEqual(body.branches.map((b) => b.branch).sort(), ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'main']);
    assert.ok(body.branches.every((b) => b.head.length === 1 && b.head[0].peer === '8'), JSON.stringify(body.branches.map((b) => b.head)));
    assert.equal(s.stats().rooms, 0, 'no branch room was loaded to answer');
  });

  it('item 10: a socket that joins no room is closed after joinDeadlineMs, freeing its per-address slot', async () => {
    const s = await start({ joinDeadlineMs: 300, maxConnectionsPerAddress: 3 });
    const idle = [track(await RawClient.connect(s.url)), track(await RawClient.connect(s.url)), track(await RawClient.connect(s.url))];
    await assert.rejects(RawClient.connect(s.url), /429/);
    await waitFor(() => idle.every((c) => c.closeCode !== null), 'the idle sockets to be closed', 15_000);
    assert.deepEqual(idle.map((c) => c.closeCode), [1008, 1008, 1008]);
    assert.ok(errorsOf(idle[0]).some((e) => e.code === 'join_deadline'));
    await joined('nb');
  });

  it('item 10: a socket that stops answering pings is closed (pingIntervalMs)', async () => {
    const s = await start({ pingIntervalMs: 1000 }); // generous: a busy test process must still answer in time
    const c = await joined('nb');
    stopReading(c);
    await waitFor(() => s.stats().clients === 0, 'the silent socket to be closed', 15_000);
    const live = await joined('nb');
    await new Promise((r) => setTimeout(r, 2500)); // two ping rounds: a socket that answers stays
    assert.equal(live.closeCode, null);
  });

  it('item 10: a pong waiting behind a busy event loop is read before the ping check: no false disconnect', async () => {
    const s = await start({ pingIntervalMs: 300 });
    const c = await joined('nb');
    // Client and server share this process: after the client has answered a ping (ws answers
    // before it emits 'ping'), the loop is held past the next check, so that check's timer is due
    // while the pong waits unread in the server's socket.
    let pings = 0;
    c.ws.on('ping', () => {
      if (pings++ >= 3) return;
      const until = Date.now() + 450;
      while (Date.now() < until) {
        /* a busy event loop (a long import) */
      }
    });
    await waitFor(() => pings >= 5, 'five ping rounds on the same socket', 20_000);
    assert.equal(c.closeCode, null, 'the socket that answered every ping is still open');
    assert.ok(s.stats().clients >= 1);
  });

  it('item 10: half-open HTTP requests: capped per address and cut off after httpHeadersTimeoutMs', async () => {
    const s = await start({ maxHttpConnectionsPerAddress: 4, httpHeadersTimeoutMs: 1000 }, false);
    const port = s.port;
    const halfOpen = async () => {
      const sock = net.connect(port, '127.0.0.1');
      sockets.push(sock);
      sock.on('error', () => undefined); // a reset is what the test expects for the one over the cap
      sock.resume(); // read (and drop) what the server answers, so its close is seen
      await new Promise<void>((r) => sock.once('connect', () => r()).once('close', () => r()));
      if (!sock.destroyed) sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // never finishes its headers
      return sock;
    };
    const closed = (sock: net.Socket) => new Promise<void>((r) => (sock.destroyed ? r() : sock.once('close', () => r())));
    const held = [await halfOpen(), await halfOpen(), await halfOpen(), await halfOpen()];
    const extra = await halfOpen();
    await closed(extra); // over the cap: closed at once
    await Promise.all(held.map(closed)); // headers never came: cut after httpHeadersTimeoutMs
    const r = await fetch(`${s.httpUrl}/healthz`);
    assert.equal(r.status, 200);
  });
});
