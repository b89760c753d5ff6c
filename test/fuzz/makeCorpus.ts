// Regenerates the seed corpus (test/fuzz/corpus/<target>/seed-*): frames a
// stock loro-websocket client really sends in a session against the server,
// plus hand-made edge cases; real Loro updates of every container kind;
// valid and damaged .sqlroom files; the hostile clients' patterns (issue 17)
// at sizes a fuzz input can hold. Run: node out/test/fuzz/makeCorpus.js
// (`... makeCorpus.js hostile` writes only the hostile seeds).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import { LoroDoc, LoroMap, LoroText, EphemeralStore } from 'loro-crdt';
import { CrdtType, MessageType, UpdateStatusCode, encode } from 'loro-protocol';
import { startServer } from '../../server';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { joinFrames } from './engine/target';
import { baseDoc } from './targets/importUpdate';
import { rmDir, stockClient, tmpDir, waitFor, textUpdate } from '../support/serverHarness';
import { crowdAtOneSpot } from '../support/loroEdit';

const ROOT = path.resolve(__dirname, '..', '..', '..', 'test', 'fuzz', 'corpus');
const enc = new TextEncoder();

function write(target: string, name: string, data: Uint8Array | string): void {
  const dir = path.join(ROOT, target);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `seed-${name}`), typeof data === 'string' ? enc.encode(data) : data);
}

/** Frames a stock client sends: capture WebSocket.send in this process. */
async function captureClientSession(): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  const origSend = WebSocket.prototype.send;
  (WebSocket.prototype as { send: unknown }).send = function (this: WebSocket, data: unknown, ...rest: unknown[]) {
    if (data instanceof Uint8Array || data instanceof ArrayBuffer) frames.push(new Uint8Array(data instanceof ArrayBuffer ? data : data.slice()));
    return (origSend as (...a: unknown[]) => void).call(this, data, ...rest);
  };
  const dir = tmpDir();
  const server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent' });
  try {
    const a = await stockClient(server.url, 'seeddoc', new LoroDoc(), 'ana');
    const nb = a.doc.getMovableList('cells').insertContainer(0, new LoroMap());
    nb.setContainer('source', new LoroText()).insert(0, 'select 42');
    a.doc.commit();
    a.doc.getText('t').insert(0, 'hi');
    a.doc.commit();
    await waitFor(() => server.stats().opsAccepted >= 2, 'acks');
    await a.close();
    const b = await stockClient(server.url, 'seeddoc@feature', new LoroDoc(), 'bo');
    b.doc.getMap('meta').set('title', 'x');
    b.doc.commit();
    await waitFor(() => server.stats().opsAccepted >= 3, 'acks');
    await b.close();
  } finally {
    (WebSocket.prototype as { send: unknown }).send = origSend;
    await server.close();
    rmDir(dir);
  }
  return frames.filter((f) => f.length > 0 && f[0] === 0x25); // '%' = a protocol message
}

/**
 * What hostile clients sent in the red-team pass (issue 17), small enough for
 * a fuzz input: a crowd of unsynced peers at one spot and further concurrent
 * peers after it, nesting past maxNestingDepth, a message of many parts, a
 * flood of joins, fragments of a batch that was never opened and a header
 * that lies about its size.
 */
function writeHostileSeeds(): void {
  const { start, base, crowd, after } = crowdAtOneSpot(100, 2);
  start.free();
  write('importUpdate', 'hostile-crowd', crowd);
  const deep = new LoroDoc();
  let m = deep.getMap('root');
  for (let i = 0; i < 300; i++) m = m.setContainer('c', new LoroMap());
  deep.commit();
  const deepUpdate = deep.export({ mode: 'update' });
  write('importUpdate', 'hostile-deep-nesting', deepUpdate);
  const batchId = '0x0a0b0c0d0e0f1011' as const;
  const join = (roomId: string) => encode({ type: MessageType.JoinRequest, crdt: CrdtType.Loro, roomId, auth: new Uint8Array(), version: new Uint8Array() });
  const update = (roomId: string, updates: Uint8Array[], id: `0x${string}` = batchId) => encode({ type: MessageType.DocUpdate, crdt: CrdtType.Loro, roomId, updates, batchId: id });
  write('protocol', 'hostile-crowd', joinFrames([join('crowd'), update('crowd', [base]), update('crowd', [crowd], '0x01'), ...after.map((u, i) => update('crowd', [u], `0x0${i + 2}`))]));
  write('protocol', 'hostile-deep-nesting', joinFrames([join('deep'), update('deep', [deepUpdate])]));
  write('protocol', 'hostile-many-parts', joinFrames([join('parts'), update('parts', Array.from({ length: 60 }, (_, i) => textUpdate('x', BigInt(10_000 + i))))]));
  write('protocol', 'hostile-join-flood', joinFrames(Array.from({ length: 150 }, (_, i) => join(`flood${i}`))));
  write('protocol', 'hostile-fragment-lies', joinFrames([
    join('frag'),
    encode({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId: 'frag', batchId, fragmentCount: 300, totalSizeBytes: 60 * 1024 * 1024 }),
    ...Array.from({ length: 6 }, (_, f) => encode({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId: 'frag', batchId: '0x99', index: f, fragment: new Uint8Array(1000) })),
    encode({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId: 'frag', batchId, index: 299, fragment: new Uint8Array(1000) }),
  ]));
}

async function main(): Promise<void> {
  if (process.argv[2] === 'hostile') return writeHostileSeeds();
  writeHostileSeeds();
  fs.rmSync(ROOT, { recursive: true, force: true });
  // ---- importUpdate: real updates on top of baseDoc(), and other shapes
  const base = baseDoc();
  const fork = base.fork();
  fork.setPeerId(7n);
  let v = fork.oplogVersion();
  const step = (name: string, edit: (d: LoroDoc) => void) => {
    edit(fork);
    fork.commit({ message: name });
    write('importUpdate', name, fork.export({ mode: 'update', from: v }));
    v = fork.oplogVersion();
  };
  step('text-insert', (d) => d.getText('t').insert(5, ' world'));
  step('text-delete', (d) => d.getText('t').delete(0, 2));
  step('map-set', (d) => d.getMap('meta').set('k', { nested: [1, 'a', null] }));
  step('movable-move', (d) => {
    const cells = d.getMovableList('cells');
    cells.insertContainer(1, new LoroMap()).set('id', 'b');
    cells.move(1, 0);
  });
  step('counter', (d) => d.getCounter('n').increment(-5));
  step('tree', (d) => {
    const t = d.getTree('tree');
    const n = t.createNode();
    n.createNode().data.set('x', 1);
  });
  step('list-nested', (d) => d.getList('l').insertContainer(0, new LoroMap()).set('deep', 'yes'));
  write('importUpdate', 'all-since-base', fork.export({ mode: 'update', from: base.oplogVersion() }));
  write('importUpdate', 'snapshot', fork.export({ mode: 'snapshot' }));
  write('importUpdate', 'shallow-snapshot', fork.export({ mode: 'shallow-snapshot', frontiers: fork.oplogFrontiers() }));
  const lone = new LoroDoc();
  lone.setPeerId(9n);
  lone.getText('t').insert(0, 'concurrent');
  lone.commit();
  write('importUpdate', 'concurrent-peer', lone.export({ mode: 'update' }));
  // An update whose deps the room lacks (pending import).
  const gap = fork.fork();
  gap.setPeerId(11n);
  gap.getText('t').insert(0, 'a');
  gap.commit();
  const gapV = gap.oplogVersion();
  gap.getText('t').insert(0, 'b');
  gap.commit();
  write('importUpdate', 'missing-deps', gap.export({ mode: 'update', from: gapV }));
  write('importUpdate', 'empty', new Uint8Array());
  write('importUpdate', 'magic-only', new Uint8Array([0x6c, 0x6f, 0x72, 0x6f]));

  // ---- protocol: a real client session, then edge cases
  const session = await captureClientSession();
  session.forEach((f, i) => write('protocol', `client-frame-${i}`, joinFrames([f])));
  write('protocol', 'client-session', joinFrames(session.slice(0, 6)));
  const upd = fork.export({ mode: 'update', from: base.oplogVersion() });
  const batchId = '0x0102030405060708' as const;
  const join = encode({ type: MessageType.JoinRequest, crdt: CrdtType.Loro, roomId: 'doc', auth: enc.encode('{"user":"fz"}'), version: new Uint8Array() });
  const half = Math.ceil(upd.length / 2);
  write('protocol', 'fragments', joinFrames([
    join,
    encode({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId: 'doc', batchId, fragmentCount: 2, totalSizeBytes: upd.length }),
    encode({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId: 'doc', batchId, index: 0, fragment: upd.subarray(0, half) }),
    encode({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId: 'doc', batchId, index: 1, fragment: upd.subarray(half) }),
  ]));
  write('protocol', 'join-update-leave', joinFrames([join, encode({ type: MessageType.DocUpdate, crdt: CrdtType.Loro, roomId: 'doc', updates: [upd], batchId }), encode({ type: MessageType.Leave, crdt: CrdtType.Loro, roomId: 'doc' })]));
  write('protocol', 'update-not-joined', joinFrames([encode({ type: MessageType.DocUpdate, crdt: CrdtType.Loro, roomId: 'x', updates: [upd], batchId })]));
  write('protocol', 'join-version', joinFrames([encode({ type: MessageType.JoinRequest, crdt: CrdtType.Loro, roomId: 'doc@b', auth: new Uint8Array(), version: base.oplogVersion().encode() })]));
  write('protocol', 'ack', joinFrames([encode({ type: MessageType.Ack, crdt: CrdtType.Loro, roomId: 'doc', refId: batchId, status: UpdateStatusCode.InvalidUpdate })]));
  const eph = new EphemeralStore(30_000);
  eph.set('cursor', { line: 1 });
  write('protocol', 'presence', joinFrames([
    encode({ type: MessageType.JoinRequest, crdt: CrdtType.LoroEphemeralStore, roomId: 'doc', auth: new Uint8Array(), version: new Uint8Array() }),
    encode({ type: MessageType.DocUpdate, crdt: CrdtType.LoroEphemeralStore, roomId: 'doc', updates: [eph.encodeAll()], batchId }),
  ]));
  write('protocol', 'yjs-join', joinFrames([encode({ type: MessageType.JoinRequest, crdt: CrdtType.Yjs, roomId: 'doc', auth: new Uint8Array(), version: new Uint8Array() })]));
  write('protocol', 'hostile-room', joinFrames([encode({ type: MessageType.JoinRequest, crdt: CrdtType.Loro, roomId: "x'; DROP TABLE ops_log;--@../../etc", auth: new Uint8Array(), version: new Uint8Array() })]));

  // ---- sqlroomFile: valid files, then damaged ones
  const nb = new NotebookDoc();
  nb.insertCell(0, { kind: 'code', language: 'sql', source: 'select 1 as x;\nselect 2' });
  nb.insertCell(1, { kind: 'markup', language: 'markdown', source: '# Title' });
  nb.setMeta('title', 'Seed');
  nb.commit();
  const good = serializeSqlroomFile(nb, 'seed-doc', { server: 'ws://127.0.0.1:8787' });
  write('sqlroomFile', 'valid', good);
  write('sqlroomFile', 'valid-branch', serializeSqlroomFile(nb, 'seed-doc@feature-1'));
  const text = new TextDecoder().decode(good);
  write('sqlroomFile', 'no-snapshot', JSON.stringify({ format: 'sqlroom-notebook', version: 1, cells: [{ kind: 'code', language: 'sql', source: ['select 1'], name: 'q1', metadata: { a: 1 } }] }));
  write('sqlroomFile', 'hand-edit', text.replace('select 2', 'select 3'));
  write('sqlroomFile', 'truncated', good.subarray(0, Math.floor(good.length / 2)));
  write('sqlroomFile', 'jupyter', JSON.stringify({ nbformat: 4, cells: [] }));
  write('sqlroomFile', 'empty', '');
  write('sqlroomFile', 'utf16-bom', new Uint8Array([0xff, 0xfe, 0x7b, 0x00]));
  write('sqlroomFile', 'bad-base64', text.replace(/"loro": "[^"]{8}/, '"loro": "!!!!!!!!'));
  write('sqlroomFile', 'dup-ids', JSON.stringify({ format: 'sqlroom-notebook', version: 1, cells: [{ id: 'a' }, { id: 'a' }] }));
  write('sqlroomFile', 'newer-version', JSON.stringify({ format: 'sqlroom-notebook', version: 2, cells: [] }));
  console.log(`corpus written to ${ROOT}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
