// Recovery benchmark: time to bring a doc back from storage with N stored ops
// (each op row = one small Loro update, one keystroke), without a snapshot
// (replay every op) and with one (latest snapshot + the ops after it).
//
// Rows are written with the DuckDB appender in the server's schema
// (server/storage/schema.ts) — a fast fill, not what is measured; recovery is
// read through the server's storage API (DuckDbStorage.loadRoom) and imported
// into a LoroDoc. Each size runs in its own child process (its own peak RSS).
//
// node out/bench/recovery.js [--sizes 10000,100000,1000000] [--tail 1000]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance, DuckDBTimestampValue } from '@duckdb/node-api';
import { LoroDoc, LoroMap, LoroText } from 'loro-crdt';
import { NotebookDoc } from '../server/shared/notebookDoc';
import { DuckDbStorage } from '../server/storage/duckdbStorage';
import { SCHEMA } from '../server/storage/schema';
import { Prng } from './prng';
import { fmt, fmtBytes, table } from './stats';

const DOC = 'recovery-doc';
const BRANCH = 'main';
const CELLS = 8;
const CHUNK = 10_000;
const PER_SIZE_TIMEOUT_MS = 10 * 60_000;

interface SizeResult {
  ops: number;
  tail: number;
  fillSec: number;
  dbBytes: number;
  opBytes: number;
  snapshotBytes: number;
  /** Without snapshot: DB read (loadRoom), Loro import, total (s). */
  fullRead: number;
  fullImport: number;
  /** Same ops imported in slices of 1000 (s). */
  fullImportSliced: number;
  /** With snapshot: DB read, snapshot import, tail replay (s). */
  snapRead: number;
  snapImport: number;
  tailReplay: number;
  rssAfterFull: number;
  peakRss: number;
  ok: boolean;
}

async function fillAndMeasure(n: number, tail: number): Promise<SizeResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sqlroom-recovery-'));
  const file = path.join(dir, 'recovery.duckdb');
  try {
    // ---- fill: n keystrokes by one typist moving between 8 cells ----
    const t0 = performance.now();
    const inst = await DuckDBInstance.create(file);
    const conn = await inst.connect();
    for (const ddl of SCHEMA) await conn.run(ddl);
    const doc = new LoroDoc();
    doc.setPeerId(42n);
    const nb = new NotebookDoc(doc);
    for (let c = 0; c < CELLS; c++) nb.insertCell(c, { id: `cell-${c}`, kind: 'code', language: 'sql', source: '' });
    nb.commit();
    const pending: Uint8Array[] = [doc.export({ mode: 'update' })];
    doc.subscribeLocalUpdates((u) => pending.push(u));
    // Type through the cells' LoroText handles directly: NotebookDoc's checked
    // splice costs ~5x more per keystroke, which only slows the fill.
    const texts = doc
      .getMovableList('cells')
      .toArray()
      .map((m) => (m as LoroMap).get('source') as LoroText);
    const rng = new Prng(7);
    const lengths = new Array<number>(CELLS).fill(0);
    let cell = 0;
    let opId = 0;
    let opBytes = 0;
    let snapshot: Uint8Array | null = null;
    const snapAt = Math.max(1, n - tail);
    const appender = await conn.createAppender('ops_log');
    const now = BigInt(Date.now()) * 1000n;
    const flushPending = () => {
      for (const u of pending) {
        opId++;
        opBytes += u.length;
        appender.appendBigInt(BigInt(opId));
        appender.appendVarchar(DOC);
        appender.appendVarchar(BRANCH);
        appender.appendTimestamp(new DuckDBTimestampValue(now + BigInt(opId)));
        appender.appendVarchar('typist');
        appender.appendBlob(u);
        appender.appendBigInt(0n);
        appender.appendBigInt(1n);
        appender.appendVarchar('42');
        appender.appendBigInt(1n);
        appender.appendBigInt(BigInt(u.length));
        appender.appendVarchar('{}');
        appender.endRow();
      }
      pending.length = 0;
    };
    // op 1 is the setup (cells); ops 2..n are keystrokes
    for (let k = 1; k < n; k++) {
      if (k % 50 === 0) cell = rng.int(CELLS);
      const len = lengths[cell];
      if (len > 0 && rng.next() < 0.1) {
        texts[cell].delete(len - 1, 1);
        lengths[cell]--;
      } else {
        const pos = rng.next() < 0.05 ? rng.int(len + 1) : len;
        texts[cell].insert(pos, 'abcdefghij klmnop'[rng.int(17)]);
        lengths[cell]++;
      }
      doc.commit();
      if (k % 100_000 === 0) console.error(`  recovery ${n}: filled ${k} ops (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      if (k + 1 === snapAt) {
        flushPending();
        snapshot = doc.export({ mode: 'snapshot' });
      }
      if (pending.length >= CHUNK) flushPending();
    }
    flushPending();
    appender.flushSync();
    appender.closeSync();
    if (!snapshot) snapshot = doc.export({ mode: 'snapshot' });
    const ts = `make_timestamp(${now}::BIGINT)`;
    await conn.run(`INSERT INTO doc_branches VALUES ('${DOC}', '${BRANCH}', ${ts}, NULL, NULL, ${opId})`);
    await conn.run(`INSERT INTO doc_meta VALUES ('${DOC}', NULL, ${ts}, ${opId})`);
    conn.closeSync();
    inst.closeSync();
    const expected = JSON.stringify(doc.toJSON());
    const expectedVv = doc.oplogVersion().toJSON();
    const fillSec = (performance.now() - t0) / 1000;

    // ---- recovery without snapshot: every op ----
    const storage = new DuckDbStorage({ path: file });
    await storage.init();
    let t = performance.now();
    const full = await storage.loadRoom(DOC, BRANCH);
    const fullRead = (performance.now() - t) / 1000;
    t = performance.now();
    const d1 = new LoroDoc();
    importInBatches(d1, full.ops.map((o) => o.bytes));
    const fullImport = (performance.now() - t) / 1000;
    const rssAfterFull = process.memoryUsage().rss;
    const ok1 = full.ops.length === opId && JSON.stringify(d1.toJSON()) === expected;
    d1.free();
    // The same ops in slices of 1000: one huge importBatch grows faster than linearly.
    t = performance.now();
    const d1s = new LoroDoc();
    const bytes = full.ops.map((o) => o.bytes);
    for (let i = 0; i < bytes.length; i += 1000) d1s.importBatch(bytes.slice(i, i + 1000));
    const fullImportSliced = (performance.now() - t) / 1000;
    const ok1s = JSON.stringify(d1s.toJSON()) === expected;
    d1s.free();
    bytes.length = 0;
    full.ops.length = 0;

    // ---- recovery with a snapshot at op snapAt: snapshot + tail ----
    await storage.writeSnapshot({
      snapshotId: 1,
      docId: DOC,
      branch: BRANCH,
      createdAt: Date.now(),
      createdBy: 'bench',
      lastOpId: snapAt,
      bytes: snapshot,
      message: null,
    });
    t = performance.now();
    const st = await storage.loadRoom(DOC, BRANCH);
    const snapRead = (performance.now() - t) / 1000;
    t = performance.now();
    const d2 = new LoroDoc();
    if (st.snapshot) d2.import(st.snapshot.bytes);
    const snapImport = (performance.now() - t) / 1000;
    t = performance.now();
    importInBatches(d2, st.ops.map((o) => o.bytes));
    const tailReplay = (performance.now() - t) / 1000;
    const ok2 =
      st.snapshot?.lastOpId === snapAt &&
      st.ops.length === opId - snapAt &&
      JSON.stringify(d2.toJSON()) === expected &&
      JSON.stringify([...d2.oplogVersion().toJSON()]) === JSON.stringify([...expectedVv]);
    await storage.close();
    const dbBytes = sizeOf(file);
    return {
      ops: opId,
      tail: opId - snapAt,
      fillSec,
      dbBytes,
      opBytes,
      snapshotBytes: snapshot.length,
      fullRead,
      fullImport,
      fullImportSliced,
      snapRead,
      snapImport,
      tailReplay,
      rssAfterFull,
      peakRss: procKb('VmHWM') * 1024,
      ok: ok1 && ok1s && ok2,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One importBatch, as the server's room loader (server/rooms/syncCore.ts) does. */
function importInBatches(doc: LoroDoc, updates: Uint8Array[]): void {
  if (updates.length) doc.importBatch(updates);
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return NaN;
  }
}

function procKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

function runChild(n: number, tail: number): Promise<SizeResult | string> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--max-old-space-size=8192', __filename, '--one', String(n), '--tail', String(tail)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let outText = '';
    p.stdout.on('data', (d: Buffer) => (outText += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), PER_SIZE_TIMEOUT_MS);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = outText.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as SizeResult);
      } catch {
        resolve(signal === 'SIGKILL' ? `timed out after ${PER_SIZE_TIMEOUT_MS / 60_000} min` : `failed (exit ${code ?? signal})`);
      }
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { sizes: { type: 'string', default: '10000,100000,1000000' }, tail: { type: 'string', default: '1000' }, one: { type: 'string' } },
  });
  const tail = Number(values.tail);
  if (values.one) {
    console.log(JSON.stringify(await fillAndMeasure(Number(values.one), tail)));
    return;
  }
  const sizes = values.sizes!.split(',').map(Number);
  console.log(`## Recovery (DuckDB storage, one doc; tail = ops after the snapshot = ${tail}, the server's default snapshot interval)`);
  const rows: string[][] = [];
  for (const n of sizes) {
    const r = await runChild(n, tail);
    if (typeof r === 'string') {
      rows.push([fmt(n, 0), r, '', '', '', '', '', '', '', '', '']);
      continue;
    }
    rows.push([
      fmt(r.ops, 0),
      `${fmtBytes(r.dbBytes)} (${fmt(r.opBytes / r.ops, 0)} B/op)`,
      fmt(r.fullRead * 1000, 0),
      fmt(r.fullImport * 1000, 0),
      fmt((r.fullRead + r.fullImport) * 1000, 0),
      fmt(r.fullImportSliced * 1000, 0),
      fmt(r.snapRead * 1000, 1),
      `${fmt(r.snapImport * 1000, 1)} (${fmtBytes(r.snapshotBytes)})`,
      fmt(r.tailReplay * 1000, 1),
      fmt((r.snapRead + r.snapImport + r.tailReplay) * 1000, 1),
      `${fmtBytes(r.peakRss)}${r.ok ? '' : ' MISMATCH'}`,
    ]);
    console.error(`  recovery ${n}: fill ${r.fillSec.toFixed(1)} s, ok=${r.ok}`);
  }
  console.log(
    table(
      ['ops', 'DB size', 'no-snap read ms', 'no-snap import ms', 'no-snap total ms', 'import in 1k slices ms', 'snap read ms', 'snapshot import ms', 'tail replay ms', 'snap total ms', 'peak RSS'],
      rows,
    ),
  );
  console.log('read = DuckDbStorage.loadRoom (SQL + rows to JS); import = one LoroDoc.importBatch of all ops, as the server room loader does;');
  console.log('import in 1k slices = the same ops as importBatch calls of 1000 updates (not what the server does today);');
  console.log('tail replay = importing the ops after the snapshot (includes decoding the lazily loaded snapshot);');
  console.log('every recovered doc is checked equal to the original. Fill (appender) time is not measured.');
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
