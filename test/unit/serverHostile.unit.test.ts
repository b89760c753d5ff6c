// Hostile input at every edge, beyond serverBadInput: SQL and path
// characters, NUL, RTL and zero-width characters and very long ids through
// the websocket join, every HTTP route and the CLI; a 20 MB update; 10,000
// nested Loro maps; the Loro-panicking blobs the fuzzer found; a resent
// update whose dependencies are missing (refused, never stored twice). Each is refused with a clear error
// (or, for valid but odd input, handled), other rooms keep getting acks, and
// the database is intact afterwards.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoroDoc, LoroMap, VersionVector } from 'loro-crdt';
import { CrdtType, JoinErrorCode, MessageType, RoomErrorCode, UpdateStatusCode, encode } from 'loro-protocol';
import { startServer, type RunningServer } from '../../server';
import { runCli } from '../support/serverProcess';
import { RawClient, randomBatch, rmDir, stockClient, textOf, tmpDir, waitFor, textUpdate } from '../support/serverHarness';

const HOSTILE_IDS = [`'; DROP TABLE ops_log;--`, '../../etc', '..%2F..%2Fetc', 'nul\u0000byte', 'x'.repeat(400), '\u202edoc', 'zero\u200bwidth', 'doc@\u200b', `doc@'; DROP TABLE doc_branches;--`, 'doc@../../etc', 'doc@main\u0000x'];
const REGRESSIONS = path.resolve(__dirname, '..', '..', '..', 'test', 'fuzz', 'regressions', 'importUpdate');

const edit = (peer: bigint, text: string): Uint8Array => textUpdate(text, peer);

describe('server hostile input', function () {
  this.timeout(120_000);
  let dir: string;
  let db: string;
  let server: RunningServer;
  let raw: RawClient;
  let peer = 500n;

  beforeEach(async () => {
    dir = tmpDir();
    db = path.join(dir, 'db.duckdb');
    server = await startServer({ port: 0, db, logLevel: 'silent', limits: { maxUpdateBytes: 8 * 1024 * 1024 } });
    raw = await RawClient.connect(server.url);
    raw.join('good');
    await raw.next(MessageType.JoinResponseOk);
  });
  afterEach(async () => {
    raw.close();
    await server.close();
    rmDir(dir);
  });

  /** A normal edit in room "good" is acked Ok and stored (the tables are intact). */
  async function databaseIntact(): Promise<void> {
    const id = raw.update('good', [edit(peer++, 'still fine')]);
    assert.equal((await raw.ackFor(id)).status, UpdateStatusCode.Ok);
    await server.flush();
    const a = await server.storage.analytics({ docId: 'good' });
    assert.ok(a.perBranch[0].updates >= 1);
    const rooms = (await server.storage.analytics({})).perBranch.map((b) => b.docId);
    for (const id of HOSTILE_IDS) assert.ok(!rooms.includes(id.split('@')[0]) || id.split('@')[0] === 'doc', `nothing stored for ${JSON.stringify(id)}`);
  }

  it('websocket: hostile doc ids and branches are refused with invalid_room_id; updates to them are refused; the database is intact', async () => {
    // (Ids over the protocol's 128 bytes: serverBadInput.)
    for (const roomId of HOSTILE_IDS.filter((x) => Buffer.byteLength(x) <= 128)) {
      raw.sendRaw(encode({ type: MessageType.JoinRequest, crdt: CrdtType.Loro, roomId, auth: new Uint8Array(), version: new Uint8Array() }));
      const id = roomId;
      const err = await raw.next(MessageType.JoinError, (m) => m.roomId === roomId);
      assert.equal(err.code, JoinErrorCode.AppError, JSON.stringify(id));
      assert.equal(err.appCode, 'invalid_room_id', JSON.stringify(id));
      assert.ok(err.message.length > 10, 'the message says why');
      const u = raw.update(roomId, [edit(peer++, 'x')]);
      assert.equal((await raw.ackFor(u)).status, UpdateStatusCode.PermissionDenied);
    }
    await databaseIntact();
  });

  it('HTTP: every route answers a hostile doc id or branch with 400 and a message (never 500); the database is intact', async () => {
    const routes = (docId: string, branch: string): [string, string, unknown?][] => {
      const d = encodeURIComponent(docId);
      const b = encodeURIComponent(branch);
      return [
        ['GET', `/api/docs/${d}/branches`],
        ['GET', `/api/docs/${d}/state?branch=${b}`],
        ['GET', `/api/docs/${d}/snapshots?branch=${b}`],
        ['GET', `/api/docs/${d}/at?t=${new Date().toISOString()}&branch=${b}`],
        ['GET', `/api/docs/${d}/analytics?branch=${b}`],
        ['GET', `/api/analytics?doc=${d}&branch=${b}`],
        ['POST', `/api/docs/${d}/checkpoint`, { message: 'm', author: 'a', branch }],
        ['POST', `/api/docs/${d}/branches`, { name: branch, from: 'main', author: 'a' }],
        ['POST', `/api/docs/${d}/merge`, { from: branch, into: 'main' }],
      ];
    };
    let checked = 0;
    for (const hostile of HOSTILE_IDS) {
      // As the doc id (with a sane branch), and as the branch (with a sane doc id).
      for (const [docId, branch] of [[hostile, 'main'], ['good', hostile.replace(/^doc@/, '')]] as const) {
        for (const [method, url, body] of routes(docId, branch)) {
          if (docId === 'good' && (url.startsWith('/api/docs/good/branches') && method === 'GET')) continue; // no branch in it
          if (docId === 'good' && url.includes('/analytics') && !url.includes('branch=')) continue;
          const res = await fetch(`${server.httpUrl}${url}`, { method, body: body ? JSON.stringify(body) : undefined, headers: body ? { 'content-type': 'application/json' } : undefined });
          const text = await res.text();
          assert.ok(res.status === 400 || res.status === 404, `${method} ${url}: ${res.status} ${text.slice(0, 200)}`);
          assert.ok(text.length > 10, `${method} ${url} says why`);
          checked++;
        }
      }
    }
    assert.ok(checked > 150, `checked ${checked} requests`);
    await databaseIntact();
  });

  it('CLI: checkpoint, compact and analytics refuse hostile --doc / --branch with a usage error; the database is intact', async () => {
    await server.close();
    for (const hostile of [`'; DROP TABLE ops_log;--`, '../../etc', 'a\u202eb']) {
      for (const args of [['checkpoint', '--doc', hostile], ['compact', '--doc', hostile, '--retain-ops', '1'], ['analytics', '--doc', hostile], ['checkpoint', '--doc', 'good', '--branch', hostile]]) {
        const r = await runCli([...args, '--db', db]);
        assert.notEqual(r.code, 0, `${args.join(' ')} must fail`);
        assert.match(r.stderr, /invalid|not allowed|control|format/i, `${args.join(' ')}: ${r.stderr}`);
      }
    }
    server = await startServer({ port: 0, db, logLevel: 'silent' });
    raw.close();
    raw = await RawClient.connect(server.url);
    raw.join('good');
    await raw.next(MessageType.JoinResponseOk);
    await databaseIntact();
  });

  it('a 20 MB string in one update is refused (PayloadTooLarge, over maxUpdateBytes) when announced in fragments; other rooms keep working', async () => {
    const d = new LoroDoc();
    d.setPeerId(42n);
    d.getText('t').insert(0, 'x'.repeat(20 * 1024 * 1024));
    d.commit();
    const big = d.export({ mode: 'update' });
    assert.ok(big.length > 8 * 1024 * 1024);
    raw.join('big');
    await raw.next(MessageType.JoinResponseOk, (m) => m.roomId === 'big');
    const batchId = randomBatch();
    raw.send({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId: 'big', batchId, fragmentCount: Math.ceil(big.length / (200 * 1024)), totalSizeBytes: big.length });
    assert.equal((await raw.ackFor(batchId)).status, UpdateStatusCode.PayloadTooLarge);
    // (Sent whole it is one websocket frame over maxFrameBytes: closed with 1009, see serverBadInput.)
    await databaseIntact();
    const analytics = await server.storage.analytics({ docId: 'big' });
    assert.equal(analytics.perBranch.length, 0, 'nothing stored for the refused update');
  });

  it('3,000 nested maps in one update: refused (InvalidUpdate, maxNestingDepth), and other rooms keep getting their acks in order', async () => {
    const d = new LoroDoc();
    d.setPeerId(43n);
    let m = d.getMap('root');
    for (let i = 0; i < 3_000; i++) m = m.setContainer('c', new LoroMap());
    m.set('leaf', 1);
    d.commit();
    const deep = d.export({ mode: 'update' });
    raw.join('deep');
    await raw.next(MessageType.JoinResponseOk, (m2) => m2.roomId === 'deep');
    const first = raw.update('deep', [deep]);
    const others = Array.from({ length: 20 }, (_, i) => raw.update('good', [edit(peer++, `after-${i}`)]));
    const ackDeep = await raw.ackFor(first, 60_000);
    assert.equal(ackDeep.status, UpdateStatusCode.InvalidUpdate);
    await waitFor(() => raw.texts.some((t) => t.includes('maxNestingDepth')), 'the error frame naming maxNestingDepth');
    for (const id of others) assert.equal((await raw.ackFor(id, 60_000)).status, UpdateStatusCode.Ok);
    // Every ack arrived, in the order the updates were sent.
    const order = raw.messages.filter((x) => x.type === MessageType.Ack).map((x) => (x as { refId: string }).refId);
    assert.deepEqual(order.filter((r) => r === first || others.includes(r as never)), [first, ...others]);
    // The room holds nothing of it and keeps working.
    assert.equal((await raw.ackFor(raw.update('deep', [edit(peer++, 'shallow')]))).status, UpdateStatusCode.Ok);
    const joiner = await RawClient.connect(server.url);
    joiner.join('deep');
    const ok = await joiner.next(MessageType.JoinResponseOk, () => true, 30_000);
    assert.equal(VersionVector.decode(ok.version).get('43'), undefined);
    joiner.close();
    const health = (await (await fetch(`${server.httpUrl}/healthz`)).json()) as { status: string };
    assert.equal(health.status, 'ok');
    await databaseIntact();
  });

  it('blobs that make Loro panic (found by fuzzing) are refused with InvalidUpdate; that room is rebuilt and keeps working, other rooms too', async () => {
    const files = fs.readdirSync(REGRESSIONS).filter((f) => f.startsWith('loro-'));
    assert.ok(files.length >= 2);
    // Loro's panic hook prints each panic with its stack; keep the test output readable.
    const consoleError = console.error;
    console.error = (...a: unknown[]) => (a.some((x) => String(x).includes('panicked at')) ? undefined : consoleError(...a));
    try {
      await sendEach(files);
    } finally {
      console.error = consoleError;
    }
  });

  async function sendEach(files: string[]): Promise<void> {
    for (const f of files) {
      const room = `victim-${f.length}-${files.indexOf(f)}`;
      raw.join(room);
      await raw.next(MessageType.JoinResponseOk, (m) => m.roomId === room);
      const i = files.indexOf(f);
      assert.equal((await raw.ackFor(raw.update(room, [edit(BigInt(900 + 2 * i), 'before ')]))).status, UpdateStatusCode.Ok);
      const id = raw.update(room, [new Uint8Array(fs.readFileSync(path.join(REGRESSIONS, f)))]);
      assert.equal((await raw.ackFor(id)).status, UpdateStatusCode.InvalidUpdate, f);
      // The panic broke that room's LoroDoc; the server rebuilds it, so the room keeps working.
      assert.equal((await raw.ackFor(raw.update(room, [edit(BigInt(901 + 2 * i), 'after ')]))).status, UpdateStatusCode.Ok, `${f}: the room accepts updates after the panic`);
      const joiner = await stockClient(server.url, room);
      try {
        await waitFor(() => /before/.test(textOf(joiner.doc)) && /after/.test(textOf(joiner.doc)), `${f}: a new member gets the room's content`);
      } finally {
        await joiner.close();
      }
      await databaseIntact();
    }
  }

  it('an update whose dependencies are missing, sent twice, is refused twice (not acked Ok, the client is told to rejoin) and stored once its dependencies arrive', async () => {
    const a = new LoroDoc();
    a.setPeerId(44n);
    a.getText('t').insert(0, 'first');
    a.commit();
    const v = a.oplogVersion();
    a.getText('t').insert(0, 'second ');
    a.commit();
    const gap = a.export({ mode: 'update', from: v });
    raw.join('gap');
    await raw.next(MessageType.JoinResponseOk, (m) => m.roomId === 'gap');
    for (let i = 0; i < 2; i++) {
      const id = raw.update('gap', [gap]);
      assert.equal((await raw.ackFor(id)).status, UpdateStatusCode.AppError);
      await waitFor(() => raw.texts.filter((t) => t.includes('"missing_dependencies"')).length > i, 'missing_dependencies frame');
      await raw.next(MessageType.RoomError, (m) => m.roomId === 'gap' && m.code === RoomErrorCode.RejoinSuggested);
    }
    await server.flush();
    assert.equal((await server.storage.analytics({ docId: 'gap' })).perBranch.length, 0, 'nothing stored while the update cannot be applied');
    // Once the missing part arrives the room applies both, and stores each op once.
    assert.equal((await raw.ackFor(raw.update('gap', [a.export({ mode: 'update' })]))).status, UpdateStatusCode.Ok);
    await server.flush();
    const st = await server.storage.loadRoom('gap', 'main');
    assert.equal(st.ops.length, 1);
    const doc = new LoroDoc();
    doc.importBatch(st.ops.map((o) => o.bytes));
    assert.equal(doc.getText('t').toString(), 'second first');
  });
});
