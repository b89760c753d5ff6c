// The import worker pool and the cost model that sends an update to it
// (server/rooms/importOffThread.ts); the server-level test is serverBigImport.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { LoroDoc } from 'loro-crdt';
import { isPathological, worthOffThread, type ImportSettings } from '../../server/rooms/importOffThread';
import { ImportPool, WorkerUnavailableError } from '../../server/rooms/importPool';
import { inspectBlob } from '../../server/rooms/updateInfo';
import { crowdAtOneSpot } from '../support/loroEdit';

const settings: ImportSettings = { workers: 2, minOps: 1000 };

function typed(peer: bigint, keys: number, from?: LoroDoc): LoroDoc {
  const d = from ? from.fork() : new LoroDoc();
  d.setPeerId(peer);
  const t = d.getText('t');
  for (let i = 0; i < keys; i++) {
    t.insert((i * 7919) % (t.length + 1), 'k');
    if (i % 50 === 49) d.commit();
  }
  d.commit();
  return d;
}

describe('import worker pool and its cost model', function () {
  this.timeout(60_000);

  it('cost model: few ops stay on the main thread; many go to a worker unless the room history dwarfs them; ops concurrent with it count half', () => {
    const empty = new LoroDoc();
    const small = typed(2n, 200);
    const big = typed(3n, 3000);
    assert.equal(worthOffThread(empty, inspectBlob(small.export({ mode: 'update' })), settings), false, 'under minOps');
    assert.equal(worthOffThread(empty, inspectBlob(big.export({ mode: 'update' })), settings), true, 'many ops into a new room');
    assert.equal(worthOffThread(empty, inspectBlob(big.export({ mode: 'update' })), { ...settings, workers: 0 }), false, 'workers 0: never');
    // A room with a long history and an update built on all of it: the swap would cost more than the import.
    const long = typed(4n, 20_000);
    const onTop = typed(8n, 3000, long);
    assert.equal(worthOffThread(long, inspectBlob(onTop.export({ mode: 'update', from: long.oplogVersion() })), settings), false, '3,000 ops against 20,000 of history');
    // The same 3,000 ops built on nothing: concurrent with all 20,000 (3,000 + 10,000).
    assert.equal(worthOffThread(long, inspectBlob(big.export({ mode: 'update' })), settings), true, 'concurrent with the whole history');
    // 1,500 ops built on a shared start, while the room moved on by 4,000 concurrent ops: 1,500 + 2,000 ≥ 1,000 and ×4 ≥ history.
    const start = typed(5n, 100);
    const room = typed(6n, 4000, start);
    const lagging = typed(7n, 1500, start);
    const u = lagging.export({ mode: 'update', from: start.oplogVersion() });
    assert.equal(worthOffThread(room, inspectBlob(u), settings), true, 'concurrent ops count');
    assert.equal(worthOffThread(room, inspectBlob(u), { ...settings, minOps: 4000 }), false, '1,500 + 4,000/2 < 4,000');
    // Built on ops the room lacks: left to the main thread (its ops wait, pending, in the room's own document).
    assert.equal(worthOffThread(empty, inspectBlob(u), settings), false, 'missing dependencies');
    for (const d of [empty, small, big, long, onTop, start, room, lagging]) d.free();
  });

  it('many peers in one update count quadratically; an import far slower per op than normal, beyond a cold document\'s warm-up, is pathological', () => {
    const few = crowdAtOneSpot(30, 0);
    const many = crowdAtOneSpot(300, 0);
    assert.equal(worthOffThread(few.start, inspectBlob(few.crowd), settings), false, '30 peers: 30 + 900/50 < 1,000');
    assert.equal(worthOffThread(many.start, inspectBlob(many.crowd), settings), true, '300 peers: 300 + 90,000/50 ≥ 1,000');
    few.start.free();
    many.start.free();

    assert.equal(isPathological(50, 1, 0), false, 'under 100 ms');
    assert.equal(isPathological(3500, 36_000, 0), false, 'a big catch-up at 0.1 ms an op');
    assert.equal(isPathological(600, 1500, 0), true, 'a crowd of peers at 0.4 ms an op');
    assert.equal(isPathological(6000, 1, 3000), true, 'one op concurrent with a crowd');
    assert.equal(isPathological(535, 1, 260_000), false, 'the first import into a 260k-op document loaded from a snapshot');
    assert.equal(isPathological(535, 1, 0), true, 'the same time on a warm document');
  });

  it('a worker imports into the room snapshot and sends back the new one; a refused update gets the error and the next import a fresh worker', async () => {
    const pool = new ImportPool(1);
    try {
      const room = typed(2n, 500);
      const update = typed(3n, 2000).export({ mode: 'update' });
      const reply = await pool.run({ snapshot: room.export({ mode: 'snapshot' }), bytes: update, depthLimit: 64, depthHeadroom: 10 });
      assert.ok(reply.ok);
      assert.equal(reply.depth, 1, 'more ops than the headroom: the depth was measured');
      const swapped = LoroDoc.fromSnapshot(reply.snapshot!);
      room.import(update);
      assert.equal(swapped.getText('t').toString(), room.getText('t').toString());
      assert.deepEqual(reply.status.success.get('3'), { start: 0, end: 2000 });

      const garbage = update.slice();
      garbage[garbage.length - 5] ^= 0xff;
      const bad = await pool.run({ snapshot: new Uint8Array(), bytes: garbage, depthLimit: 0, depthHeadroom: Infinity });
      assert.equal(bad.ok, false);
      assert.ok(!bad.ok && bad.error.length > 0);

      const again = await pool.run({ snapshot: new Uint8Array(), bytes: update, depthLimit: 0, depthHeadroom: Infinity });
      assert.ok(again.ok && again.snapshot && again.depth === null);
      assert.equal(pool.pending, 0);
      room.free();
      swapped.free();
    } finally {
      await pool.close();
    }
  });

  it('a worker that cannot start is reported as unavailable (the server then imports on the main thread)', async () => {
    const pool = new ImportPool(1, path.join(__dirname, 'no-such-worker.js'));
    try {
      await assert.rejects(pool.run({ snapshot: new Uint8Array(), bytes: new Uint8Array([1]), depthLimit: 0, depthHeadroom: Infinity }), WorkerUnavailableError);
    } finally {
      await pool.close();
    }
  });
});
