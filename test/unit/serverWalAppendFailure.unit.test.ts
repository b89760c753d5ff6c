// A write-ahead append that fails after the room imported the update: the
// client gets not-durable, and its resend must end up stored (before the fix
// the room already held the update, so the resend was acked as a duplicate
// and never written anywhere).
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

/** The instant WAL with an append that can be made to fail. */
function flakyWal() {
  const wal = instantWal() as { append: () => Promise<number> };
  let failing = false;
  let appends = 0;
  wal.append = () => {
    if (failing) return Promise.reject(new Error('EIO: i/o error, write'));
    appends++;
    return Promise.resolve(1);
  };
  return { wal, fail: (on: boolean) => (failing = on), appends: () => appends };
}

describe('server: write-ahead append failure', () => {
  it('a resend of an update whose WAL append failed is stored once, and nothing is acked while the append keeps failing', async () => {
    const storage = new MemoryStorage();
    const w = flakyWal();
    const core = new SyncCore(storage, w.wal as never, resolveSettings({ flush: { maxDelayMs: 5 } }), createLogger('silent'), new Metrics());
    const room = await core.getRoom(parseRoomId('walfail'));
    const client = new LoroDoc();
    client.setPeerId(7n);
    const u1 = textEdit(client, 'a');
    assert.equal((await core.accept(room, u1, 'ana')).kind, 'stored');

    w.fail(true);
    const u2 = textEdit(client, 'b');
    const r2 = await core.accept(room, u2, 'ana');
    assert.equal(r2.kind, 'not-durable');
    // Still failing: a resend, and another client's new update, are not acknowledged either.
    assert.equal((await core.accept(room, u2, 'ana')).kind, 'not-durable');
    const other = new LoroDoc();
    other.setPeerId(8n);
    const u3 = textEdit(other, 'c');
    assert.equal((await core.accept(room, u3, 'bo')).kind, 'not-durable');

    w.fail(false);
    const again = await core.accept(room, u2, 'ana'); // the client's retry
    assert.notEqual(again.kind, 'not-durable');
    await core.flushAll();
    const rows = storage.ops.filter((o) => o.docId === 'walfail');
    const fresh = new LoroDoc();
    fresh.importBatch(rows.map((r) => r.bytes));
    // u2 is durable now; u3 was refused before import, so its client still holds it to resend.
    assert.equal(fresh.getText('t').toString(), room.doc.getText('t').toString());
    assert.ok(fresh.getText('t').toString().includes('b'), 'the update whose append failed is stored');
    const spans = rows.map((r) => r.spans);
    assert.equal(new Set(spans).size, spans.length, 'no update stored twice');
    await core.close();
  });
});
