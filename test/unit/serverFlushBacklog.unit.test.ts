// Backpressure from the database flush (flush.maxBacklog). Updates are acked
// once they are in the write-ahead log; the flush moves them to the database
// later. When the flush falls behind (a server busy with more updates than it
// can take, each database round trip waiting a turn of a full event loop), a
// crash leaves everything unflushed to replay. Past maxBacklog unflushed
// updates the server stops reading its clients until the flush ends; TCP then
// slows the senders. While the database is down or stalled it does not: the
// WAL size limit applies then.
import * as assert from 'node:assert/strict';
import { MessageType, UpdateStatusCode } from 'loro-protocol';
import type { RunningServer } from '../../server';
import { startFaultyServer, type FaultyStorage } from '../support/serverFaults';
import { RawClient, freshJoin, rmDir, tmpDir, waitFor } from '../support/serverHarness';
import { AckWriter } from '../support/faultWriter';

const ROOM = 'backlog';

function okAcks(raw: RawClient): number {
  let n = 0;
  for (const m of raw.messages) if (m.type === MessageType.Ack && m.status === UpdateStatusCode.Ok) n++;
  return n;
}

/** Sends `n` updates keeping at most `window` unacked, as clients do (loro-websocket, the bench). */
async function sendWindowed(raw: RawClient, writer: AckWriter, n: number, window: number): Promise<void> {
  let sent = 0;
  while (sent < n) {
    while (sent < n && sent - okAcks(raw) < window) {
      raw.update(ROOM, [writer.next(40).bytes]);
      sent++;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Waits until `count()` has not changed for `quietMs` (or `capMs` passed); returns its value. */
async function settled(count: () => number, quietMs: number, capMs: number): Promise<number> {
  const end = Date.now() + capMs;
  let last = count();
  let since = Date.now();
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    const now = count();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) break;
  }
  return last;
}

describe('flush backlog backpressure (flush.maxBacklog)', function () {
  this.timeout(90_000);
  let dir = '';
  let server: RunningServer | null = null;
  let faulty: FaultyStorage;
  afterEach(async () => {
    await server?.close();
    server = null;
    rmDir(dir);
  });

  async function start(maxBacklog: number): Promise<RawClient> {
    dir = tmpDir();
    ({ faulty, server } = await startFaultyServer(dir, {
      limits: { maxUpdatesPerSecond: 0 },
      flush: { maxDelayMs: 20, maxBacklog, stallMs: 60_000, retryInitialMs: 20, retryMaxMs: 100 },
    }));
    const raw = await RawClient.connect(server.url);
    raw.join(ROOM);
    await raw.next(MessageType.JoinResponseOk);
    return raw;
  }

  it('a flush that cannot keep up stops the reading at about maxBacklog unflushed updates; all of them are acked and stored once it catches up', async () => {
    const raw = await start(100);
    const writer = new AckWriter(ROOM, 31n);
    const release = faulty.holdWrites(); // the first flush takes as long as the test wants
    const n = 3000;
    let sending: Promise<void> | null = null;
    try {
      sending = sendWindowed(raw, writer, n, 64);
      await waitFor(() => server!.stats().backlogPauses > 0, 'a backlog pause', 20_000);
      // Reading stopped: the acks end near maxBacklog (plus a window and a group commit), far
      // below what was sent. Without the pause the WAL acks every update while the database
      // write is held, and the client goes on sending.
      const ackedWhileHeld = await settled(() => okAcks(raw), 500, 10_000);
      assert.ok(ackedWhileHeld < n / 4, `acked ${ackedWhileHeld} of ${n} while the flush was held (maxBacklog 100)`);
      assert.ok(server!.stats().walDepth < n / 4, `unflushed ${server!.stats().walDepth}`);
      const metrics = await (await fetch(`${server!.httpUrl}/metrics`)).text();
      assert.match(metrics, /^sqlroom_backlog_pauses_total [1-9]/m);
    } finally {
      release();
    }
    await sending;
    await waitFor(() => okAcks(raw) === n, `all ${n} acks`, 60_000);
    await waitFor(() => server!.stats().walDepth === 0, 'every update in the database', 30_000);
    const doc = await freshJoin(server!.url, ROOM);
    assert.equal(doc.getText('t').toString(), writer.doc.getText('t').toString());
    raw.close();
  });

  it('does not pause while the database fails: the WAL takes the updates (its size limit applies)', async () => {
    const raw = await start(100);
    const writer = new AckWriter(ROOM, 32n);
    faulty.mode = 'fail';
    // The first flush has failed before the load starts (else a fast machine could ack 100 before it fails).
    raw.update(ROOM, [writer.next(40).bytes]);
    await waitFor(() => server!.stats().degraded, 'a failed flush', 20_000);
    const n = 400;
    await sendWindowed(raw, writer, n, 64);
    await waitFor(() => okAcks(raw) === n + 1, `all ${n + 1} acks from the WAL`, 30_000);
    assert.equal(server!.stats().backlogPauses, 0);
    faulty.mode = 'none';
    await waitFor(() => server!.stats().walDepth === 0, 'every update in the database', 30_000);
    raw.close();
  });
});
