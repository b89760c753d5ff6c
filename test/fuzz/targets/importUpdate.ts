// Fuzz target: what the server does with a client's Loro bytes. The input
// is one update (its Loro checksum re-computed, see engine/loroChecksum.ts)
// offered to SyncCore.accept() for a room that already holds a
// small notebook-like document. accept() must never throw; it answers
// stored / duplicate / invalid. Invariants checked after every input:
// - invalid or duplicate: the room's document did not change;
// - stored: the row it would write (the bytes in the buffer), imported on
//   top of the room's previous state in a fresh document, gives the same
//   version and JSON (recovery from the database reproduces the room);
//   offering the same bytes again is a duplicate (never stored twice).
import type { FuzzTarget } from '../engine/target';
import { InvariantError, KnownIssue } from '../engine/target';
import { instantWal, recordingLogger, serverModule } from './common';
import { withLoroChecksum } from '../engine/loroChecksum';
import { LoroDoc, LoroList, LoroMap, LoroText } from 'loro-crdt';

export const instrument = [serverModule('rooms/syncCore'), serverModule('rooms/updateInfo'), serverModule('rooms/room')];

/* eslint-disable @typescript-eslint/no-require-imports */
let m: {
  SyncCore: typeof import('../../../server/rooms/syncCore').SyncCore;
  Room: typeof import('../../../server/rooms/room').Room;
  versionOf: typeof import('../../../server/rooms/syncCore').versionOf;
  parseRoomId: typeof import('../../../server/protocol/roomId').parseRoomId;
  Metrics: typeof import('../../../server/metrics').Metrics;
  resolveSettings: typeof import('../../../server/options').resolveSettings;
  MemoryStorage: typeof import('../../support/memoryStorage').MemoryStorage;
};
let core: InstanceType<typeof m.SyncCore>;
let base: Uint8Array;
const errors: string[] = [];

/** The room's state before each input: cells with text, a map, a list, a counter, a tree. */
export function baseDoc(): LoroDoc {
  const d = new LoroDoc();
  d.setPeerId(1n);
  const cells = d.getMovableList('cells');
  const c = cells.insertContainer(0, new LoroMap());
  c.set('id', 'a');
  c.setContainer('source', new LoroText()).insert(0, 'select 1');
  d.getMap('meta').set('title', 't');
  d.getList('l').insertContainer(0, new LoroList()).insert(0, 1);
  d.getCounter('n').increment(2);
  d.getTree('tree').createNode();
  d.getText('t').insert(0, 'hello');
  d.commit({ message: 'base' });
  return d;
}

export const target: FuzzTarget = {
  name: 'importUpdate',
  instrument,
  maxLen: 16384,
  dictionary: [new Uint8Array([0x6c, 0x6f, 0x72, 0x6f]), new Uint8Array([0x00, 0x00]), new Uint8Array([0x01]), new Uint8Array([0x04]), new Uint8Array([0xff, 0xff, 0xff, 0xff]), 'cells', 'source', 'meta', 't'],
  setup() {
    m = {
      SyncCore: require('../../../server/rooms/syncCore').SyncCore,
      Room: require('../../../server/rooms/room').Room,
      versionOf: require('../../../server/rooms/syncCore').versionOf,
      parseRoomId: require('../../../server/protocol/roomId').parseRoomId,
      Metrics: require('../../../server/metrics').Metrics,
      resolveSettings: require('../../../server/options').resolveSettings,
      MemoryStorage: require('../../support/memoryStorage').MemoryStorage,
    };
    const storage = new m.MemoryStorage();
    core = new m.SyncCore(storage, instantWal() as never, m.resolveSettings({}), recordingLogger(errors), new m.Metrics());
    const d = baseDoc();
    base = d.export({ mode: 'snapshot' });
    d.free();
    // The room's state is in storage too, as on a server: a refusal that rebuilds the
    // room from storage (an update nested too deep) must come back to it.
    void storage.writeSnapshot({ snapshotId: 1, docId: 'fuzz', branch: 'main', createdAt: 0, createdBy: 'fuzz', lastOpId: 0, bytes: base, message: null });
  },
  async exec(input) {
    // Mutations would almost never pass Loro's checksum; fix it so they reach the decoder.
    const data = withLoroChecksum(input);
    const room = new m.Room(m.parseRoomId('fuzz'));
    const fresh = new LoroDoc();
    let trapped = false;
    let res: Awaited<ReturnType<typeof core.accept>> | undefined;
    try {
      room.doc.import(base);
      const before = JSON.stringify(m.versionOf(room.doc));
      res = await core.accept(room, data, 'fuzz');
      trapped = res.kind === 'invalid' && /unreachable|panic|RuntimeError/i.test(res.reason);
      if (trapped) throw new KnownIssue(`Loro trapped while decoding an update: ${(res as { reason: string }).reason}`, true);
      const after = JSON.stringify(m.versionOf(room.doc));
      if (res.kind === 'not-durable') throw new InvariantError(`not-durable with an instant WAL: ${res.reason}`);
      // Known Loro 1.17 defect (see test/fuzz/README.md): some checksum-valid
      // blobs make Loro's decoder panic ("capacity overflow"), which traps
      // the wasm instance; the server answers InvalidUpdate, but this
      // process's Loro can no longer be trusted, so the runner starts over.
      if (res.kind !== 'stored') {
        if (after !== before) throw new InvariantError(`a ${res.kind} update changed the room (${before} -> ${after})`);
        return;
      }
      if (room.buffer.length !== 1) throw new InvariantError(`stored but ${room.buffer.length} rows buffered`);
      const row = room.buffer[0];
      fresh.import(base);
      fresh.import(row.bytes);
      const replay = JSON.stringify(m.versionOf(fresh));
      if (replay !== after) throw new InvariantError(`the stored row does not reproduce the room's version: ${replay} vs ${after}`);
      if (JSON.stringify(fresh.toJSON()) !== JSON.stringify(room.doc.toJSON())) throw new InvariantError('the stored row does not reproduce the room state');
      const again = await core.accept(room, data, 'fuzz');
      if (again.kind === 'stored') throw new InvariantError(`the same bytes were stored twice (spans ${row.spans})`);
    } finally {
      try {
        room.doc.free();
        fresh.free();
      } catch (err) {
        // After a trap the doc stays borrowed: expected.
        if (!trapped) throw new InvariantError(`the room's document is unusable after accept() answered ${JSON.stringify(res)}: ${String(err)}`);
      }
      if (errors.length) throw new InvariantError(errors.splice(0)[0]);
    }
  },
  isExpected: () => false,
};
