// One client's big merge must not stop the server. A catch-up after long
// offline work by several people (many concurrent edits in one text) takes
// Loro seconds to import; the fault harness saw a server sit inside that
// import for minutes with /healthz and every other room unanswered. Such an
// update is now imported in a worker thread (server/rooms/importOffThread.ts).
// Against a CLI server:
//  - while the big update is imported, /healthz answers and another room
//    joins, takes an update and acks it;
//  - the big update is then acked, a fresh joiner has every op once, and so
//    does a restart from the database;
//  - many peers inserting at one spot unsynced (issue 17 item 1): one update
//    of 1,500 such peers, then small updates of further concurrent peers,
//    each taking Loro seconds: the room is found slow and every update of it
//    goes to a worker; /healthz and another room answer throughout;
//  - a big update the worker refuses (nesting too deep) is refused with the
//    reason, the room is unchanged and keeps taking updates;
//  - a room whose rows since its snapshot hold such a crowd is loaded (after
//    a restart) in a worker too, with every insert once.
import * as assert from 'node:assert/strict';
import { LoroDoc, LoroMap } from 'loro-crdt';
import { MessageType, UpdateStatusCode } from 'loro-protocol';
import { CliServerRun, metric } from '../support/serverProcess';
import { RawClient, freshJoin, textOf, textUpdate, waitFor } from '../support/serverHarness';
import { crowdAtOneSpot } from '../support/loroEdit';

/** Random-position typing into the root text "t", committed every 50 keys (as an editor does). */
function typeRandomly(doc: LoroDoc, keys: number, seed: number): void {
  const t = doc.getText('t');
  let s = seed;
  for (let i = 0; i < keys; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    t.insert(s % (t.length + 1), 'x');
    if (i % 50 === 49) doc.commit();
  }
  doc.commit();
}

/**
 * A shared start, then `people` peers typing `keys` each while offline; one
 * update with all their work (what a rejoining client that merged theirs
 * sends). Built detached: only the history is needed here, not the text.
 */
function offlineWork(people: number, keys: number): { base: Uint8Array; merged: LoroDoc; heavy: Uint8Array } {
  const start = new LoroDoc();
  start.setPeerId(1n);
  start.getText('t').insert(0, 'shared start');
  start.commit();
  const merged = start.fork();
  merged.detach();
  for (let p = 0; p < people; p++) {
    const d = start.fork();
    d.setPeerId(BigInt(100 + p));
    typeRandomly(d, keys, 7 + p * 31);
    merged.import(d.export({ mode: 'update', from: start.oplogVersion() }));
    d.free();
  }
  const base = start.export({ mode: 'update' });
  const heavy = merged.export({ mode: 'update', from: start.oplogVersion() });
  start.free();
  return { base, merged, heavy };
}

async function joined(url: string, roomId: string): Promise<RawClient> {
  const c = await RawClient.connect(url);
  c.join(roomId);
  await c.next(MessageType.JoinResponseOk, (m) => m.roomId === roomId, 15_000);
  return c;
}

function acked(c: RawClient, batchId: string): boolean {
  return c.messages.some((m) => m.type === MessageType.Ack && m.refId === batchId);
}

describe('server: a big merge is imported off the event loop', function () {
  this.timeout(240_000);
  let run: CliServerRun;
  const clients: RawClient[] = [];
  beforeEach(() => (run = new CliServerRun()));
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await run.dispose();
  });

  it('/healthz and other rooms answer while it is imported; then it is acked and stored whole', async () => {
    const people = 3;
    const keys = 12_000; // 36,000 concurrent ops: Loro takes seconds (and grows faster than linearly)
    const { base, merged, heavy } = offlineWork(people, keys);
    let s = await run.start(run.args(), 30_000);
    const a = await joined(s.url, 'big');
    clients.push(a);
    assert.equal((await a.ackFor(a.update('big', [base]), 15_000)).status, UpdateStatusCode.Ok);
    const heavyBatch = a.updateInFragments('big', heavy);
    await waitFor(() => a.ws.bufferedAmount === 0, 'the big update sent', 30_000);
    // Let the server take it in and start importing.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(acked(a, heavyBatch), false, 'the big update takes a while to import (else this test shows nothing)');

    const health = await fetch(`${s.httpUrl}/healthz`);
    assert.equal(health.status, 200);
    const healthBeforeBigAck = !acked(a, heavyBatch);
    const b = await joined(s.url, 'other');
    clients.push(b);
    const ackB = await b.ackFor(b.update('other', [textUpdate('typed elsewhere', 7n)]), 120_000);
    assert.equal(ackB.status, UpdateStatusCode.Ok);
    const otherBeforeBigAck = !acked(a, heavyBatch);

    assert.equal((await a.ackFor(heavyBatch, 180_000)).status, UpdateStatusCode.Ok);
    assert.ok(healthBeforeBigAck, '/healthz answered while the big update was being imported');
    assert.ok(otherBeforeBigAck, 'another room joined and acked an update while the big update was being imported');
    assert.equal(await metric(s, 'sqlroom_imports_offthread_total'), 1);

    // Every op once, as a fresh joiner and as the database has it after a restart.
    const expectLength = 'shared start'.length + people * keys;
    const check = async (what: string): Promise<void> => {
      const room = await freshJoin(s.url, 'big', 60_000);
      assert.equal(room.oplogVersion().compare(merged.oplogVersion()), 0, `${what}: the room holds exactly the merged history`);
      assert.equal(textOf(room).length, expectLength, `${what}: every typed character once`);
      room.free();
    };
    await check('live');
    assert.equal(textOf(await freshJoin(s.url, 'other')), 'typed elsewhere');
    for (const c of clients.splice(0)) c.close();
    await run.stop();
    s = await run.start(run.args(), 60_000);
    await check('after a restart');
    merged.free();
  });

  it('many peers at one spot: the big update and the small ones after it are imported in a worker; /healthz and another room answer meanwhile', async () => {
    const peers = 1500;
    const { start, base, crowd: big, after: smalls } = crowdAtOneSpot(peers, 3);
    start.free();

    const s = await run.start(run.args(), 30_000);
    const a = await joined(s.url, 'crowd');
    clients.push(a);
    assert.equal((await a.ackFor(a.update('crowd', [base]), 15_000)).status, UpdateStatusCode.Ok);
    // Pipelined, as a hostile client sends them.
    const batches = [a.updateInFragments('crowd', big), ...smalls.map((u) => a.update('crowd', [u]))];
    const last = batches[batches.length - 1];
    await waitFor(() => a.ws.bufferedAmount === 0, 'the updates sent', 30_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(acked(a, last), false, 'the crowd takes a while to import (else this test shows nothing)');

    // While they are imported: /healthz, and another room's join, update and ack, three times over.
    let answeredBeforeLast = 0;
    for (let i = 0; i < 3; i++) {
      assert.equal((await fetch(`${s.httpUrl}/healthz`)).status, 200);
      const b = await joined(s.url, `other${i}`);
      clients.push(b);
      assert.equal((await b.ackFor(b.update(`other${i}`, [textUpdate(`elsewhere ${i}`, BigInt(7 + i))]), 120_000)).status, UpdateStatusCode.Ok);
      if (!acked(a, last)) answeredBeforeLast++;
    }
    for (const batch of batches) assert.equal((await a.ackFor(batch, 180_000)).status, UpdateStatusCode.Ok);
    assert.equal(answeredBeforeLast, 3, '/healthz and other rooms answered while the crowd was imported');
    assert.equal(await metric(s, 'sqlroom_imports_offthread_total'), 1 + smalls.length, 'the big update by its estimate, the small ones because the room was found slow');
    await waitFor(() => /pathologically slow/.test(s.stderr()), 'the slow room is logged');

    const room = await freshJoin(s.url, 'crowd', 60_000);
    assert.equal(textOf(room).length, 'base'.length + peers + smalls.length, 'every insert once');
    room.free();
  });

  it('a big update the worker refuses (nesting too deep) is refused with the reason; the room is unchanged', async () => {
    // A low threshold: a small document, a 6,000-op update.
    const s = await run.start(run.args(undefined, ['--import-min-ops', '1000']), 30_000);
    const a = await joined(s.url, 'deep');
    clients.push(a);
    assert.equal((await a.ackFor(a.update('deep', [textUpdate('before', 2n)]))).status, UpdateStatusCode.Ok);
    const d = new LoroDoc();
    d.setPeerId(3n);
    typeRandomly(d, 6000, 11);
    let m = d.getMap('m');
    for (let i = 0; i < 100; i++) m = m.setContainer('k', new LoroMap());
    d.commit();
    const deep = d.export({ mode: 'update' });
    assert.ok(deep.length > 16 * 1024, 'big enough to be checked before the import');
    const ack = await a.ackFor(a.updateInFragments('deep', deep), 60_000);
    assert.equal(ack.status, UpdateStatusCode.InvalidUpdate);
    await waitFor(() => a.texts.some((t) => /nested \d+ levels deep, more than maxNestingDepth 64/.test(t)), 'the refusal names the limit');
    assert.equal(await metric(s, 'sqlroom_imports_offthread_total'), 0);
    assert.equal((await a.ackFor(a.update('deep', [textUpdate(' after', 4n)]))).status, UpdateStatusCode.Ok);
    const room = await freshJoin(s.url, 'deep');
    assert.equal(room.getMap('m').size, 0, 'nothing of the refused update is in the room');
    assert.match(textOf(room), /^(before after| afterbefore)$/);
    d.free();
  });

  it('a room whose stored rows hold a crowd of unsynced peers is loaded in a worker after a restart, every insert once', async () => {
    const peers = 800;
    const { start, base, crowd, after: smalls } = crowdAtOneSpot(peers, 3);
    start.free();
    // No snapshot by cost, and a crowd under the size that is snapshotted on the way out: the rows are what a restart loads.
    const args = run.args(undefined, ['--snapshot-cost', '0', '--import-min-ops', '5000']);
    let s = await run.start(args, 30_000);
    const a = await joined(s.url, 'crowd');
    clients.push(a);
    for (const u of [base, crowd, ...smalls]) assert.equal((await a.ackFor(a.update('crowd', [u]), 180_000)).status, UpdateStatusCode.Ok);
    for (const c of clients.splice(0)) c.close();
    await run.stop();
    s = await run.start(args, 30_000);
    // Time travel to now reads the same rows: built in a worker too, not on the event loop.
    const at = await fetch(`${s.httpUrl}/api/docs/crowd/at?t=${encodeURIComponent(new Date().toISOString())}`);
    assert.equal(at.status, 200);
    assert.equal(((await at.json()) as { json: { t: string } }).json.t.length, 'base'.length + peers + smalls.length, 'every insert in the version');
    assert.equal(await metric(s, 'sqlroom_reads_offthread_total'), 1, 'the version was built in a worker');
    const room = await freshJoin(s.url, 'crowd', 180_000);
    assert.equal(textOf(room).length, 'base'.length + peers + smalls.length, 'every insert once');
    room.free();
    assert.equal(await metric(s, 'sqlroom_room_loads_offthread_total'), 1, 'the rows were imported in a worker');
    await waitFor(() => /room loaded in a worker thread/.test(s.stderr()), 'the load is logged');
    // The room takes further updates after the swap.
    const b = await joined(s.url, 'crowd');
    clients.push(b);
    assert.equal((await b.ackFor(b.update('crowd', [textUpdate('!', 999_999_999n)]), 180_000)).status, UpdateStatusCode.Ok);
  });
});
