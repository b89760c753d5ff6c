// A resent update that arrives while the first copy's write-ahead append is
// still waiting for its fsync imports nothing new (a "duplicate"). It must not
// be acknowledged before that append is durable: if the server died in
// between, an update acked Ok would be lost. The stock client resends unacked
// batches when it rejoins, so this happens after every reconnect under load
// (found by the kill soak with stock clients).
import * as assert from 'node:assert/strict';
import { LoroDoc } from 'loro-crdt';
import { SyncCore } from '../../server/rooms/syncCore';
import { parseRoomId } from '../../server/protocol/roomId';
import { resolveSettings } from '../../server/options';
import { Metrics } from '../../server/metrics';
import { createLogger } from '../../server/log';
import { MemoryStorage } from '../support/memoryStorage';
import { instantWal } from '../fuzz/targets/common';
import { textEdit } from '../support/loroEdit';

/** The instant WAL, with appends held until released (an fsync that takes its time), or failed. */
function heldWal() {
  const wal = instantWal() as { append: () => Promise<number> };
  const held: Array<{ resolve: (n: number) => void; reject: (e: Error) => void }> = [];
  const w = { wal, held, instant: false };
  wal.append = () => (w.instant ? Promise.resolve(1) : new Promise<number>((resolve, reject) => held.push({ resolve, reject })));
  return w;
}

const tick = () => new Promise((r) => setTimeout(r, 20));

describe('server: a resend while the first copy is not yet durable', () => {
  it('is answered only once the first copy is in the WAL (Ok), and not Ok when that append failed', async () => {
    const w = heldWal();
    const core = new SyncCore(new MemoryStorage(), w.wal as never, resolveSettings({ flush: { maxDelayMs: 5 } }), createLogger('silent'), new Metrics());
    const room = await core.getRoom(parseRoomId('inflight'));
    const client = new LoroDoc();
    client.setPeerId(9n);

    // The first copy waits for its fsync; the resend must wait too.
    const u1 = textEdit(client, 'a');
    const first = core.accept(room, u1, 'ana');
    await tick();
    assert.equal(w.held.length, 1, 'the first copy is being appended');
    let resendAnswered = false;
    const resend = core.accept(room, u1, 'ana').then((r) => ((resendAnswered = true), r));
    await tick();
    assert.equal(resendAnswered, false, 'a resend was answered while the first copy was not yet durable');
    w.held[0].resolve(1);
    assert.equal((await first).kind, 'stored');
    assert.equal((await resend).kind, 'duplicate');

    // The first copy's append fails: the resend is not acknowledged as a duplicate.
    const u2 = textEdit(client, 'b');
    const second = core.accept(room, u2, 'ana');
    await tick();
    assert.equal(w.held.length, 2);
    const resend2 = core.accept(room, u2, 'ana');
    await tick();
    w.held[1].reject(new Error('EIO: i/o error, write'));
    assert.equal((await second).kind, 'not-durable');
    // The resend first retries the failed append (the room holds the update); that fails too.
    await tick();
    assert.equal(w.held.length, 3, 'the resend retries the append of the held-back update');
    w.held[2].reject(new Error('EIO: i/o error, write'));
    const r2 = await resend2;
    assert.equal(r2.kind, 'not-durable', 'a resend of an update whose append failed must not be acked as a duplicate');
    w.instant = true;
    await core.close(1000);
  });
});
