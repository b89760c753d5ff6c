// Updates whose dependencies the server lacks (Loro keeps them "pending"),
// with stock loro-websocket clients:
//  - a local edit sent right after a rejoin, before the client's catch-up
//    (the user types while the join response is on its way): every Loro op
//    is stored once, and the room equals the client;
//  - after a refusal (WAL full while the database is down) the client's next
//    updates cannot be applied: they are not acked Ok (nothing acked is
//    invisible to a fresh joiner), and the client is told to rejoin, at once
//    and again once the server accepts updates, so it resends what the
//    server lacks without the user doing anything.
// Our own client (extension/core/sync/roomClient) gets the same treatment.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { LoroDoc, VersionVector } from 'loro-crdt';
import { LoroWebsocketClient } from 'loro-websocket';
import { MessageType, RoomErrorCode, UpdateStatusCode, decode, type ProtocolMessage } from 'loro-protocol';
import { startServer, type RunningServer } from '../../server';
import { RoomClient } from '../../extension/core/sync/roomClient';
import { FaultyStorage } from '../support/serverFaults';
import { InspectableDuckDb, opsLogProblems } from '../support/inspectableStorage';
import { RawClient, freshJoin, rmDir, tmpDir, waitFor } from '../support/serverHarness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LoroAdaptor } = require('loro-adaptors/loro') as typeof import('loro-adaptors/dist/loro');

/** Whether `doc`'s ops are all in the room (as a fresh joiner sees it). */
async function roomHas(url: string, roomId: string, doc: LoroDoc): Promise<boolean> {
  const room = await freshJoin(url, roomId);
  const cmp = doc.oplogVersion().compare(room.oplogVersion());
  room.free();
  return cmp !== undefined && cmp <= 0;
}

interface Tapped {
  client: LoroWebsocketClient;
  doc: LoroDoc;
  /** Every ack the client received (status per batch), in order. */
  acks: { refId: string; status: number }[];
  roomErrors: number;
  /** Set to hold back the next JoinResponseOk until the promise it returns resolves. */
  holdNextJoinOk: ((deliver: () => void) => void) | null;
  close(): Promise<void>;
}

/**
 * A stock client (reconnect on) whose incoming messages we observe. Holding a
 * JoinResponseOk back stands for a join response still on the wire while the
 * user types.
 */
async function tappedClient(url: string, roomId: string, peer: bigint): Promise<Tapped> {
  const client = new LoroWebsocketClient({ url, disablePing: true, reconnect: { enabled: true, initialDelayMs: 50, maxDelayMs: 200 } } as ConstructorParameters<typeof LoroWebsocketClient>[0]);
  const doc = new LoroDoc();
  doc.setPeerId(peer);
  const t: Tapped = { client, doc, acks: [], roomErrors: 0, holdNextJoinOk: null, close: async () => undefined };
  const inner = client as unknown as { handleMessage(msg: ProtocolMessage): Promise<void> };
  const original = inner.handleMessage.bind(client);
  inner.handleMessage = async (msg: ProtocolMessage) => {
    if (msg.type === MessageType.Ack) t.acks.push({ refId: msg.refId, status: msg.status });
    if (msg.type === MessageType.RoomError) t.roomErrors++;
    if (msg.type === MessageType.JoinResponseOk && t.holdNextJoinOk) {
      const hold = t.holdNextJoinOk;
      t.holdNextJoinOk = null;
      await new Promise<void>((resolve) => hold(resolve));
    }
    return original(msg);
  };
  await client.waitConnected();
  const room = await client.join({ roomId, crdtAdaptor: new LoroAdaptor(doc, { onUpdateError: () => undefined }) });
  t.close = async () => {
    await room.destroy().catch(() => undefined);
    client.destroy();
  };
  return t;
}

function type(doc: LoroDoc, text: string): void {
  const t = doc.getText('t');
  t.insert(t.length, text);
  doc.commit();
}

describe('updates whose dependencies the server lacks', function () {
  this.timeout(90_000);
  let dir: string;
  let server: RunningServer | null = null;
  const closers: (() => Promise<void>)[] = [];

  beforeEach(() => {
    dir = tmpDir();
  });
  afterEach(async () => {
    for (const c of closers.splice(0)) await c().catch(() => undefined);
    await server?.close();
    server = null;
    rmDir(dir);
  });

  it('a local edit sent right after a rejoin, before the catch-up (stock client): each Loro op is stored once and the room equals the client', async () => {
    const storage = new InspectableDuckDb({ path: path.join(dir, 'db.duckdb') });
    server = await startServer({ port: 0, storage, walDir: path.join(dir, 'wal'), logLevel: 'silent' });
    const c = await tappedClient(server.url, 'race', 31n);
    closers.push(() => c.close());
    type(c.doc, 'hello');
    await waitFor(() => roomHas(server!.url, 'race', c.doc), 'first edit in the room', 20_000);

    // Offline: the stock client drops edits made while disconnected and sends them as its catch-up after the rejoin.
    c.client.close();
    type(c.doc, ' offline');
    const acksBefore = c.acks.length;
    c.holdNextJoinOk = (deliver) => {
      // The join response is on its way; the user types: the stock client sends this edit at once.
      type(c.doc, ' typed');
      void waitFor(() => c.acks.length > acksBefore, 'the server answered the edit sent before the catch-up', 20_000).then(deliver, deliver);
    };
    void c.client.connect();
    await waitFor(() => roomHas(server!.url, 'race', c.doc), 'the room has every edit of the client', 30_000);
    const room = await freshJoin(server.url, 'race');
    assert.equal(room.getText('t').toString(), 'hello offline typed');
    await server.flush();
    assert.deepEqual(await opsLogProblems(storage), []);
    // Replaying the whole log gives the room.
    const stored = await storage.loadRoom('race', 'main');
    assert.equal(stored.snapshot, null, 'no snapshot yet: the rows are the whole log');
    const replay = new LoroDoc();
    replay.importBatch(stored.ops.map((o) => o.bytes));
    assert.equal(replay.getText('t').toString(), 'hello offline typed');
  });

  it('after a refusal (WAL full, database down) later updates are not acked Ok; the stock client is told to rejoin and, once the server accepts again, resends: a fresh joiner has everything', async () => {
    const faulty = new FaultyStorage(new InspectableDuckDb({ path: path.join(dir, 'db.duckdb') }));
    server = await startServer({ port: 0, storage: faulty, walDir: path.join(dir, 'wal'), walMaxBytes: 4096, logLevel: 'silent', flush: { maxDelayMs: 20, retryInitialMs: 20, retryMaxMs: 100 } });
    const c = await tappedClient(server.url, 'refused', 41n);
    closers.push(() => c.close());
    let okEnd = 0; // peer 41's counter after the last update acked Ok
    const roomEnd = async () => {
      const room = await freshJoin(server!.url, 'refused');
      const end = room.oplogVersion().get('41') ?? 0;
      room.free();
      return end;
    };
    faulty.mode = 'fail';
    // Type until the server refuses (the WAL fills while the database is down).
    let refusedAt = -1;
    for (let i = 0; i < 100 && refusedAt < 0; i++) {
      const n = c.acks.length;
      type(c.doc, `${i}:${'x'.repeat(300)}\n`);
      await waitFor(() => c.acks.length > n, `ack of edit ${i}`, 20_000);
      if (c.acks[n].status === UpdateStatusCode.Ok) okEnd = c.doc.oplogVersion().get('41') ?? 0;
      else refusedAt = i;
    }
    assert.ok(refusedAt >= 0, 'an edit was refused within 100 edits with a 4096-byte WAL limit');
    // The database is back and the WAL drains; the user keeps typing: these edits depend on the refused one.
    faulty.mode = 'none';
    await waitFor(() => server!.stats().walDepth === 0 && !server!.stats().degraded, 'WAL drained', 20_000);
    for (let i = 0; i < 3; i++) {
      const n = c.acks.length;
      type(c.doc, ` after-${i}`);
      await waitFor(() => c.acks.length > n, `ack of the edit after the refusal ${i}`, 20_000);
      if (c.acks[n].status === UpdateStatusCode.Ok) okEnd = c.doc.oplogVersion().get('41') ?? 0;
      // Nothing acked Ok is missing for a fresh joiner.
      const end = await roomEnd();
      assert.ok(end >= okEnd, `every update acked Ok is in the room for a fresh joiner (after edit ${i}: the room has peer 41 up to ${end}, acked Ok up to ${okEnd})`);
    }
    // The client was told to rejoin and resent what the server lacked; nobody typed it again.
    await waitFor(() => roomHas(server!.url, 'refused', c.doc), 'the room has every edit of the client', 30_000);
    assert.ok(c.roomErrors > 0, 'the client was told to rejoin');
    await server.flush();
    assert.deepEqual(await opsLogProblems(faulty.inner as InspectableDuckDb), []);
  });

  it('our room client: after a refusal it resends what the server lacks and converges', async () => {
    const faulty = new FaultyStorage(new InspectableDuckDb({ path: path.join(dir, 'db.duckdb') }));
    server = await startServer({ port: 0, storage: faulty, walDir: path.join(dir, 'wal'), walMaxBytes: 4096, logLevel: 'silent', flush: { maxDelayMs: 20, retryInitialMs: 20, retryMaxMs: 100 } });
    const doc = new LoroDoc();
    doc.setPeerId(51n);
    const rc = new RoomClient({ url: server.url, roomId: 'ours', doc, auth: { user: 'ana' }, initialBackoffMs: 50, maxBackoffMs: 200 });
    closers.push(async () => rc.close());
    await rc.whenSynced(20_000);
    faulty.mode = 'fail';
    // Type until the WAL is full (the database is down), then two more edits that depend on the refused ones.
    for (let i = 0; i < 100 && !server.stats().walFull; i++) {
      type(doc, `${i}:${'y'.repeat(300)}\n`);
      await waitFor(() => rc.current.pending === 0 || server!.stats().walFull, `edit ${i} acked or refused`, 20_000);
    }
    assert.ok(server.stats().walFull, 'the WAL limit was reached');
    type(doc, ' after-1');
    type(doc, ' after-2');
    faulty.mode = 'none';
    await rc.whenSynced(30_000);
    await waitFor(() => roomHas(server!.url, 'ours', doc), 'the room has every edit of our client', 30_000);
    await server.flush();
    assert.deepEqual(await opsLogProblems(faulty.inner as InspectableDuckDb), []);
  });
});

describe('RejoinSuggested, once per join', function () {
  this.timeout(60_000);

  it('pipelined updates the room cannot apply get one RejoinSuggested until the client has joined again (a second JoinRequest while the first is in progress is refused, and the stock client then gives up on the room)', async () => {
    const dir = tmpDir();
    const server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent' });
    const raw = await RawClient.connect(server.url);
    try {
      const a = new LoroDoc();
      a.setPeerId(61n);
      a.getText('t').insert(0, 'base');
      a.commit();
      const gap = () => {
        const v = a.oplogVersion();
        a.getText('t').insert(0, 'x');
        a.commit();
        return a.export({ mode: 'update', from: v });
      };
      const suggestions = () => raw.received.map((b) => decode(b)).filter((m) => m.type === MessageType.RoomError && m.code === RoomErrorCode.RejoinSuggested).length;
      raw.join('once');
      await raw.next(MessageType.JoinResponseOk, (m) => m.roomId === 'once');
      const ids = [gap(), gap(), gap()].map((g) => raw.update('once', [g]));
      for (const id of ids) assert.equal((await raw.ackFor(id)).status, UpdateStatusCode.AppError);
      await waitFor(() => suggestions() >= 1, 'RejoinSuggested');
      assert.equal(suggestions(), 1, 'one RejoinSuggested for three refused updates of one join');
      // After the client joined again, the next such update is suggested again.
      raw.join('once');
      await waitFor(() => raw.messages.filter((m) => m.type === MessageType.JoinResponseOk).length === 2, 'the second JoinResponseOk');
      assert.equal((await raw.ackFor(raw.update('once', [gap()]))).status, UpdateStatusCode.AppError);
      await waitFor(() => suggestions() === 2, 'a second RejoinSuggested after the rejoin');
      // What the server lacks arrives: everything is applied.
      assert.equal((await raw.ackFor(raw.update('once', [a.export({ mode: 'update' })]))).status, UpdateStatusCode.Ok);
      assert.ok(await roomHas(server.url, 'once', a));
    } finally {
      raw.close();
      await server.close();
      rmDir(dir);
    }
  });
});
