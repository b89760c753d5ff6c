// Bad input: malformed frames, garbage / truncated Loro bytes, updates for
// rooms not joined, oversize messages, hostile doc ids and branch names.
// Each gets a precise error; the connection, the server and other rooms stay
// healthy; nothing is written for them.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { LoroDoc } from 'loro-crdt';
import { BytesWriter, CrdtType, JoinErrorCode, MessageType, UpdateStatusCode, hexToBytes } from 'loro-protocol';
import { parseRoomId, startServer, type RunningServer } from '../../server';
import { RawClient, randomBatch, rmDir, stockClient, textOf, tmpDir, waitFor, textUpdate } from '../support/serverHarness';

const update = (text: string, peer = 9n): Uint8Array => textUpdate(text, peer);

describe('server bad input', function () {
  this.timeout(30_000);
  let dir: string;
  let server: RunningServer;
  let raw: RawClient;

  beforeEach(async () => {
    dir = tmpDir();
    server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent', limits: { maxFrameBytes: 600 * 1024 } });
    raw = await RawClient.connect(server.url);
    raw.join('good');
    await raw.next(MessageType.JoinResponseOk);
  });
  afterEach(async () => {
    raw.close();
    await server.close();
    rmDir(dir);
  });

  /** The connection still works: a valid update in the joined room is acked Ok. */
  async function stillHealthy(c: RawClient = raw, text = 'ok'): Promise<void> {
    const id = c.update('good', [update(text, BigInt(1000 + Math.floor(Math.random() * 1e6)))]);
    assert.equal((await c.ackFor(id)).status, UpdateStatusCode.Ok);
    assert.equal(c.closeCode, null);
  }

  it('malformed frames get a JSON error text frame; the connection stays usable', async () => {
    raw.sendRaw(new Uint8Array([1, 2, 3]));
    raw.sendRaw(Buffer.from('%LORgarbage-without-structure'));
    raw.sendRaw('hello');
    await waitFor(() => raw.texts.length === 3, 'three error frames');
    const errs = raw.texts.map((t) => JSON.parse(t) as { type: string; code: string; message: string });
    assert.deepEqual(errs.map((e) => e.code), ['malformed_frame', 'malformed_frame', 'unexpected_text']);
    assert.match(errs[0].message, /cannot decode loro-protocol message: .*too short/i);
    await stillHealthy();
    assert.equal(server.stats().protocolErrors, 3);
  });

  it('too many malformed frames close that connection (1002) only', async () => {
    const bad = await RawClient.connect(server.url);
    for (let i = 0; i < 40; i++) bad.sendRaw(new Uint8Array([0xff, i]));
    await waitFor(() => bad.closeCode !== null, 'close');
    assert.equal(bad.closeCode, 1002);
    await stillHealthy();
  });

  it('garbage and truncated Loro bytes are rejected with InvalidUpdate, not relayed, not stored', async () => {
    const watcher = await stockClient(server.url, 'good');
    const good = update('valid text', 77n);
    const truncated = good.subarray(0, good.length - 5);
    const flipped = new Uint8Array(good);
    flipped[flipped.length - 3] ^= 0xff;
    const garbage = new Uint8Array(200).map((_, i) => (i * 37) & 0xff);
    for (const bytes of [truncated, flipped, garbage, new Uint8Array()]) {
      const id = raw.update('good', [bytes]);
      assert.equal((await raw.ackFor(id)).status, UpdateStatusCode.InvalidUpdate);
    }
    // A batch with one bad part is rejected whole.
    const mixed = raw.update('good', [update('part of a bad batch', 78n), garbage]);
    assert.equal((await raw.ackFor(mixed)).status, UpdateStatusCode.InvalidUpdate);
    await server.flush();
    assert.equal(server.stats().opsAccepted, 0);
    assert.equal(server.stats().opsRejected >= 4, true);
    assert.equal(textOf(watcher.doc), '');
    assert.deepEqual((await server.storage.analytics({ docId: 'good' })).perBranch, []);
    await stillHealthy();
    await waitFor(() => textOf(watcher.doc) === 'ok', 'valid update relayed');
    await watcher.close();
  });

  it('updates for rooms not joined are refused (PermissionDenied) and nothing is written', async () => {
    const id = raw.update('other', [update('sneaky')]);
    assert.equal((await raw.ackFor(id)).status, UpdateStatusCode.PermissionDenied);
    const frag = randomBatch();
    raw.send({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId: 'other', batchId: frag, fragmentCount: 2, totalSizeBytes: 10 });
    assert.equal((await raw.ackFor(frag)).status, UpdateStatusCode.PermissionDenied);
    const orphan = randomBatch();
    raw.send({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId: 'good', batchId: orphan, index: 0, fragment: new Uint8Array(5) });
    assert.equal((await raw.ackFor(orphan)).status, UpdateStatusCode.FragmentTimeout);
    await server.flush();
    assert.deepEqual((await server.storage.analytics({ docId: 'other' })).perBranch, []);
    assert.deepEqual(await server.storage.listBranches('other'), []);
    await stillHealthy();
  });

  it('oversize messages and fragment lies get PayloadTooLarge / InvalidUpdate; frames over the limit close with 1009', async () => {
    // One DocUpdate larger than a protocol message (256 KiB) without fragmenting.
    const big = new Uint8Array(300 * 1024);
    const frame = encodeUnchecked('good', [big]);
    const id = frame.batchId;
    raw.sendRaw(frame.bytes);
    assert.equal((await raw.ackFor(id)).status, UpdateStatusCode.PayloadTooLarge);
    // Fragment header announcing more than the update limit.
    const huge = randomBatch();
    raw.send({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId: 'good', batchId: huge, fragmentCount: 1000, totalSizeBytes: 2 ** 31 });
    assert.equal((await raw.ackFor(huge)).status, UpdateStatusCode.PayloadTooLarge);
    // Fragments that do not add up to the announced size.
    const lie = randomBatch();
    raw.send({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId: 'good', batchId: lie, fragmentCount: 2, totalSizeBytes: 10 });
    raw.send({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId: 'good', batchId: lie, index: 0, fragment: new Uint8Array(8) });
    raw.send({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId: 'good', batchId: lie, index: 1, fragment: new Uint8Array(8) });
    assert.equal((await raw.ackFor(lie)).status, UpdateStatusCode.InvalidUpdate);
    // Fragmented garbage: reassembled, then rejected like any garbage.
    const fg = randomBatch();
    raw.send({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId: 'good', batchId: fg, fragmentCount: 2, totalSizeBytes: 16 });
    raw.send({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId: 'good', batchId: fg, index: 1, fragment: new Uint8Array(8).fill(1) });
    raw.send({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId: 'good', batchId: fg, index: 0, fragment: new Uint8Array(8).fill(2) });
    assert.equal((await raw.ackFor(fg)).status, UpdateStatusCode.InvalidUpdate);
    await stillHealthy();
    // A frame above the socket limit closes only that socket.
    const other = await RawClient.connect(server.url);
    other.sendRaw(new Uint8Array(700 * 1024));
    await waitFor(() => other.closeCode !== null, 'close on oversize frame');
    assert.equal(other.closeCode, 1009);
    await stillHealthy();
    await server.flush();
    assert.equal(server.stats().opsAccepted, 2);
  });

  it('hostile doc ids and branch names get a precise JoinError; unicode ids work', async () => {
    const hostile: [string, RegExp][] = [
      [`x'; DROP TABLE ops_log; --`, /character "'" not allowed/],
      ['a"b', /character "\\"" not allowed/],
      ['../../etc/passwd', /not allowed/],
      ['doc@../x', /invalid branch: "\.\." not allowed/],
      ['doc@a@b', /more than one "@"/],
      ['', /invalid doc id: empty/],
      ['doc@', /invalid branch: empty/],
      ['tab\there', /control/],
      ['nul\u0000byte', /control/],
      ['rtl\u202eoverride', /control, format/],
      ['cafe\u0301', /NFC/],
      ['doc@feature//x', /empty path segment/],
      ['doc@/abs', /must not start|empty path segment/],
      ['.hidden', /must not start with "\."/],
    ];
    for (const [roomId, re] of hostile) {
      raw.join(roomId);
      const err = await raw.next(MessageType.JoinError, (m) => m.roomId === roomId);
      assert.equal(err.code, JoinErrorCode.AppError, roomId);
      assert.equal(err.appCode, 'invalid_room_id');
      assert.match(err.message, re, `${JSON.stringify(roomId.slice(0, 40))}: ${err.message}`);
      assert.throws(() => parseRoomId(roomId));
    }
    // Ids longer than the protocol's 128 bytes cannot be echoed in a JoinError: a text error says why.
    for (const long of ['x'.repeat(300), 'y'.repeat(5000)]) {
      const before = raw.texts.length;
      raw.sendRaw(rawJoin(long));
      await waitFor(() => raw.texts.length > before, 'text error');
      const e = JSON.parse(raw.texts[raw.texts.length - 1]) as { code: string; message: string };
      assert.equal(e.code, 'invalid_room_id');
      assert.match(e.message, /invalid room id: \d+ bytes, at most 128 allowed/);
    }
    // An update to a refused room is refused too.
    const id = raw.update(`x'; DROP TABLE ops_log; --`, [update('nope')]);
    assert.equal((await raw.ackFor(id)).status, UpdateStatusCode.PermissionDenied);
    // Sane unicode is fine, including branches.
    for (const roomId of ['Notizbuch-übersicht', '数据分析', 'report@feature/q3-✓'.replace('✓', 'x'), 'ノート@ブランチ']) {
      raw.join(roomId);
      await raw.next(MessageType.JoinResponseOk, (m) => m.roomId === roomId);
      const u = raw.update(roomId, [update(`hi ${roomId}`)]);
      assert.equal((await raw.ackFor(u)).status, UpdateStatusCode.Ok, roomId);
    }
    await server.flush();
    const stats = await server.storage.analytics({});
    assert.deepEqual(stats.perBranch.map((b) => `${b.docId}@${b.branch}`).sort(), ['Notizbuch-übersicht@main', 'report@feature/q3-x', 'ノート@ブランチ', '数据分析@main'].sort());
    await stillHealthy();
  });

  it('auth hook: refused joins get AuthFailed; read-only joins receive state but cannot write', async () => {
    const s2 = await startServer({
      port: 0,
      db: path.join(dir, 'auth.duckdb'),
      logLevel: 'silent',
      auth: ({ auth }) => {
        const token = Buffer.from(auth).toString('utf8');
        if (token === 'writer') return { permission: 'write', author: 'w' };
        if (token === 'reader') return { permission: 'read', author: 'r' };
        return null;
      },
    });
    try {
      const w = await RawClient.connect(s2.url);
      w.join('secret', new Uint8Array(), Buffer.from('writer'));
      assert.equal((await w.next(MessageType.JoinResponseOk)).permission, 'write');
      assert.equal((await w.ackFor(w.update('secret', [update('top secret')]))).status, UpdateStatusCode.Ok);
      const r = await RawClient.connect(s2.url);
      r.join('secret', new Uint8Array(), Buffer.from('reader'));
      assert.equal((await r.next(MessageType.JoinResponseOk)).permission, 'read');
      const state = await r.next(MessageType.DocUpdate);
      const d = new LoroDoc();
      d.importBatch(state.updates);
      assert.equal(textOf(d), 'top secret');
      assert.equal((await r.ackFor(r.update('secret', [update('vandalism', 66n)]))).status, UpdateStatusCode.PermissionDenied);
      const x = await RawClient.connect(s2.url);
      x.join('secret', new Uint8Array(), Buffer.from('nobody'));
      const err = await x.next(MessageType.JoinError);
      assert.equal(err.code, JoinErrorCode.AuthFailed);
      await s2.flush();
      const a = await s2.storage.analytics({ docId: 'secret' });
      assert.deepEqual(a.perAuthor.map((p) => [p.author, p.updates]), [['w', 1]]);
      [w, r, x].forEach((c) => c.close());
    } finally {
      await s2.close();
    }
  });

  it('HTTP rejects hostile ids and bad parameters with 400 and a message', async () => {
    const get = async (p: string) => {
      const r = await fetch(server.httpUrl + p);
      return { status: r.status, body: (await r.json()) as { error?: string } };
    };
    let r = await get(`/api/docs/${encodeURIComponent("a'b")}/analytics`);
    assert.equal(r.status, 400);
    assert.match(r.body.error!, /invalid doc id: character "'" not allowed/);
    r = await get('/api/docs/%E0%A4%A/analytics');
    assert.equal(r.status, 400);
    r = await get('/api/docs/good/at?t=yesterday');
    assert.equal(r.status, 400);
    assert.match(r.body.error!, /ISO 8601/);
    r = await get('/api/docs/good/analytics?branch=..');
    assert.equal(r.status, 400);
    const post = await fetch(`${server.httpUrl}/api/docs/good/checkpoint`, { method: 'POST', body: '{not json' });
    assert.equal(post.status, 400);
    assert.match(((await post.json()) as { error: string }).error, /body is not JSON/);
    r = await get('/nope');
    assert.equal(r.status, 404);
    await stillHealthy();
  });
});

/** Build frames by hand (the stock encoder refuses oversize messages and long room ids). */
function rawFrame(roomId: string, type: number, body: (w: BytesWriter) => void): Uint8Array {
  const w = new BytesWriter();
  w.pushBytes(new TextEncoder().encode(CrdtType.Loro));
  w.pushVarString(roomId);
  w.pushByte(type);
  body(w);
  return w.finalize();
}

function encodeUnchecked(roomId: string, updates: Uint8Array[]): { bytes: Uint8Array; batchId: `0x${string}` } {
  const batchId = randomBatch();
  const bytes = rawFrame(roomId, MessageType.DocUpdate, (w) => {
    w.pushUleb128(updates.length);
    for (const u of updates) w.pushVarBytes(u);
    w.pushBytes(hexToBytes(batchId));
  });
  return { bytes, batchId };
}

function rawJoin(roomId: string): Uint8Array {
  return rawFrame(roomId, MessageType.JoinRequest, (w) => {
    w.pushVarBytes(new Uint8Array());
    w.pushVarBytes(new Uint8Array());
  });
}
