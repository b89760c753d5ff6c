// A big room leaves memory (graceful stop, idle unload) with its last rows in
// a snapshot: to apply even one row on top of a snapshot, Loro decodes the
// document's whole history, so loading the room again (a restart, the next
// join) would pay that before serving anyone. Small rooms are left as they
// are (a stop with thousands of them stays quick).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { LoroDoc } from 'loro-crdt';
import { MessageType, UpdateStatusCode } from 'loro-protocol';
import type { RunningServer } from '../../server';
import { InspectableDuckDb } from '../support/inspectableStorage';
import { RawClient, serverPerTest, waitFor } from '../support/serverHarness';

/** Text that a snapshot cannot squeeze much (a snapshot of `chars` of it is about that many bytes). */
function prose(chars: number, seed: number): string {
  let s = '';
  let x = seed;
  while (s.length < chars) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    s += `${x.toString(36)} `;
  }
  return s.slice(0, chars);
}

describe('a big room leaves memory with its last rows in a snapshot', function () {
  this.timeout(120_000);
  const each = serverPerTest();
  let server: RunningServer | null = null;

  const start = (idleUnloadMs = 60_000) => each.start({ db: path.join(each.dir, 'db.duckdb'), idleUnloadMs, flush: { maxDelayMs: 20 } });

  /** Joins `room`, sends one update of `firstChars` characters, then `small` one-word updates, each acked. */
  async function write(url: string, room: string, firstChars: number, small: number): Promise<{ raw: RawClient; doc: LoroDoc }> {
    const doc = new LoroDoc();
    doc.setPeerId(11n);
    const raw = await RawClient.connect(url);
    raw.join(room);
    await raw.next(MessageType.JoinResponseOk);
    const send = async (text: string) => {
      const before = doc.oplogVersion();
      doc.getText('t').insert(doc.getText('t').length, text);
      doc.commit();
      const ack = await raw.ackFor(raw.update(room, [doc.export({ mode: 'update', from: before })]), 30_000);
      assert.equal(ack.status, UpdateStatusCode.Ok);
    };
    await send(prose(firstChars, 7));
    await server!.flush(); // the first flush snapshots a room without one (by cost)
    for (let i = 0; i < small; i++) {
      await send(` word${i}`);
      await server!.flush(); // a row each: rows after the snapshot, far too few to make one due
    }
    return { raw, doc };
  }

  const rowsAfterSnapshot = async (s: RunningServer, room: string) => (await s.storage.loadRoom(room, 'main')).ops.length;

  it('graceful stop: the big room has no row after its latest snapshot, the small one keeps its rows; both load whole', async () => {
    server = await start();
    const big = await write(server.url, 'big', 150_000, 5);
    const small = await write(server.url, 'small', 2_000, 5);
    assert.equal(await rowsAfterSnapshot(server, 'big'), 5, 'five rows after the automatic snapshot before the stop');
    const smallRows = await rowsAfterSnapshot(server, 'small');
    assert.ok(smallRows > 0, 'the small room has rows after its snapshot');
    big.raw.close();
    small.raw.close();
    await server.close();

    server = await start();
    assert.equal(await rowsAfterSnapshot(server, 'big'), 0, 'the stop wrote a snapshot covering every row of the big room');
    assert.equal(await rowsAfterSnapshot(server, 'small'), smallRows, 'no snapshot for the small room');
    for (const [room, doc] of [['big', big.doc], ['small', small.doc]] as const) {
      const state = await server.storage.loadRoom(room, 'main');
      const loaded = new LoroDoc();
      if (state.snapshot) loaded.import(state.snapshot.bytes);
      if (state.ops.length) loaded.importBatch(state.ops.map((o) => o.bytes));
      assert.equal(loaded.getText('t').toString(), doc.getText('t').toString(), `${room}: every acked edit, once`);
    }
  });

  it('a stop while an idle unload writes the snapshot waits for it: one snapshot, no id twice', async () => {
    // The storage holds every snapshot write until the test lets it go.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let writes = 0;
    let hold = false; // the automatic snapshot while writing goes through
    class HeldSnapshots extends InspectableDuckDb {
      override async writeSnapshot(row: Parameters<InspectableDuckDb['writeSnapshot']>[0]) {
        writes++;
        if (hold) await gate;
        return super.writeSnapshot(row);
      }
    }
    const storage = new HeldSnapshots({ path: path.join(each.dir, 'db.duckdb') });
    server = await each.start({ storage, walDir: path.join(each.dir, 'wal'), idleUnloadMs: 200, flush: { maxDelayMs: 20 } });
    const big = await write(server.url, 'big', 150_000, 3);
    const before = writes;
    hold = true;
    big.raw.close();
    await waitFor(() => writes > before, 'the idle unload to start its snapshot', 30_000);
    const stopping = server.close();
    // Before the fix the stop started a second write of the same snapshot at once.
    await waitFor(() => writes > before + 1, 'a second snapshot write', 3_000).catch(() => undefined);
    release();
    await stopping;
    assert.equal(writes, before + 1, 'one snapshot written for the room leaving memory');
    const check = new InspectableDuckDb({ path: path.join(each.dir, 'db.duckdb') });
    await check.init();
    try {
      const ids = (await check.query("SELECT snapshot_id FROM snapshots WHERE doc_id = 'big'")).map((r) => Number(r.snapshot_id));
      assert.equal(new Set(ids).size, ids.length, `snapshot ids ${JSON.stringify(ids)} are unique`);
    } finally {
      await check.close();
    }
  });

  it('idle unload: once its last member left, the big room is snapshotted before it is dropped', async () => {
    server = await start(200);
    const big = await write(server.url, 'big', 150_000, 3);
    assert.equal(await rowsAfterSnapshot(server, 'big'), 3);
    big.raw.close();
    await waitFor(async () => (await rowsAfterSnapshot(server!, 'big')) === 0, 'a snapshot when the idle room unloads', 30_000);
    // The room is served again from that snapshot, with every edit.
    const raw = await RawClient.connect(server.url);
    raw.join('big');
    await raw.next(MessageType.JoinResponseOk, undefined, 30_000);
    raw.close();
  });
});
