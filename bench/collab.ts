// Collaboration benchmark (`node out/bench/collab.js [--quick]`, after a compile):
//  1. keystroke -> visible: one client types a keystroke into its notebook
//     model (NotebookSync.applyLocalText -> Loro -> room client -> sync server);
//     the time until every other client's notebook model (the editor view
//     after applying remote edits) shows it. p50/p99 over all (keystroke,
//     receiver) pairs, with 2, 10 and 50 clients in one room. Keystrokes are
//     paced (the next one after every receiver saw the last) and writers rotate.
//  2. opening a notebook of 500 cells with 100k ops of history: parse the
//     .sqlroom file, map it to the editor model, and a fresh client joining
//     the room (server backfill) until its model shows all 500 cells.
// Loopback only; the server runs in this process (DuckDB file in a temp dir).
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServer } from '../server/index';
import { NotebookDoc } from '../server/shared/notebookDoc';
import { parseSqlroomFile, serializeSqlroomFile } from '../server/shared/sqlroomFile';
import { NotebookSync } from '../extension/core/sync/notebookSync';
import { RoomClient } from '../extension/core/sync/roomClient';
import { fmt, fmtBytes, summarize, table } from './stats';

const quick = process.argv.includes('--quick');

class BenchClient {
  readonly nb = new NotebookDoc();
  readonly sync: NotebookSync;
  client!: RoomClient;
  /** Called after remote edits were applied to the model. */
  onVisible?: () => void;
  constructor(readonly name: string) {
    this.sync = new NotebookSync(this.nb);
  }
  join(url: string, room: string): void {
    this.client = new RoomClient({ url, roomId: room, doc: this.nb.doc, auth: { user: this.name }, onRemote: () => this.apply() });
  }
  apply(): void {
    for (let e = this.sync.nextRemoteEdit(), n = 0; e && n < 1_000_000; e = this.sync.nextRemoteEdit(), n++) this.sync.commitRemoteEdit(e);
    this.onVisible?.();
  }
  cellText(i: number): string {
    return this.sync.viewCells[i]?.source ?? '';
  }
}

async function waitUntil(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function keystrokeLatency(url: string, clients: number, keystrokes: number): Promise<{ p50: number; p99: number; n: number }> {
  const room = `bench-${clients}-${Date.now()}`;
  const seed = new BenchClient('seed');
  for (let i = 0; i < clients; i++) seed.nb.insertCell(i, { kind: 'code', language: 'sql', source: `-- client ${i}\n` });
  seed.nb.commit();
  seed.sync.resetView(seed.nb.toData().cells, seed.nb.toData().meta);
  seed.join(url, room);
  await seed.client.whenSynced();
  const peers = Array.from({ length: clients }, (_, i) => new BenchClient(`c${i}`));
  for (const p of peers) p.join(url, room);
  await waitUntil(() => peers.every((p) => p.sync.viewCells.length === clients), 'all clients joined');
  seed.client.close();
  const samples: number[] = [];
  for (let k = 0; k < keystrokes; k++) {
    const writer = peers[k % clients];
    const cell = k % clients;
    const id = writer.sync.viewCells[cell].id;
    const before = writer.cellText(cell);
    const after = before + 'x';
    const receivers = peers.filter((p) => p !== writer);
    const seen = new Map<BenchClient, number>();
    const done = new Promise<void>((resolve) => {
      for (const r of receivers) {
        r.onVisible = () => {
          if (!seen.has(r) && r.cellText(cell) === after) {
            seen.set(r, performance.now());
            if (seen.size === receivers.length) resolve();
          }
        };
      }
    });
    const t0 = performance.now();
    writer.sync.applyLocalText(cell, id, after, [{ start: before.length, end: before.length, insert: 'x' }]);
    await Promise.race([done, waitUntil(() => seen.size === receivers.length, `keystroke ${k}`, 30_000)]);
    for (const t of seen.values()) samples.push(t - t0);
  }
  for (const p of peers) p.client.close();
  const s = summarize(samples);
  return { p50: s.p50, p99: s.p99, n: s.n };
}

function bigNotebook(cells: number, ops: number): NotebookDoc {
  const nb = new NotebookDoc();
  for (let i = 0; i < cells; i++) nb.insertCell(i, { kind: 'code', language: 'sql', source: '' });
  nb.commit();
  const ids = nb.cellIds();
  const perCommit = 10;
  for (let k = 0; k < ops; k += perCommit) {
    const id = ids[(k / perCommit) % cells];
    for (let j = 0; j < perCommit; j++) nb.spliceCellSource(id, 0, 0, String.fromCharCode(97 + ((k + j) % 26)));
    nb.commit();
  }
  return nb;
}

async function openBigNotebook(url: string, cells: number, ops: number) {
  let t = performance.now();
  const nb = bigNotebook(cells, ops);
  const buildMs = performance.now() - t;
  const file = serializeSqlroomFile(nb, 'bench-open-doc');
  t = performance.now();
  const parsed = parseSqlroomFile(file);
  const parseMs = performance.now() - t;
  t = performance.now();
  const data = parsed.notebook.toData();
  const view = new NotebookSync(parsed.notebook, data);
  const mapMs = performance.now() - t;
  if (view.nextRemoteEdit() !== undefined) throw new Error('model and document differ after open');
  // Upload, then a fresh client joins and sees every cell.
  const room = `bench-open-${Date.now()}`;
  const owner = new BenchClient('owner');
  owner.nb.doc.import(nb.doc.export({ mode: 'snapshot' }));
  owner.sync.resetView(owner.nb.toData().cells, owner.nb.toData().meta);
  owner.join(url, room);
  await owner.client.whenSynced(120_000);
  const fresh = new BenchClient('fresh');
  t = performance.now();
  fresh.join(url, room);
  await waitUntil(() => fresh.sync.viewCells.length === cells, 'fresh client sees all cells', 120_000);
  const joinMs = performance.now() - t;
  owner.client.close();
  fresh.client.close();
  return { buildMs, fileBytes: file.length, parseMs, mapMs, joinMs, changes: nb.doc.changeCount(), ops: nb.doc.opCount() };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sqlroom-bench-collab-'));
  const server = await startServer({ host: '127.0.0.1', port: 0, db: path.join(dir, 'bench.duckdb'), logLevel: 'warn' });
  try {
    console.log(`Collaboration benchmark (${quick ? 'quick' : 'full'}), server ${server.url}, node ${process.version}, ${os.cpus().length} CPUs`);
    const rows: string[][] = [];
    const plan: Array<[number, number]> = quick ? [[2, 60], [10, 30], [50, 10]] : [[2, 300], [10, 100], [50, 40]];
    for (const [clients, keystrokes] of plan) {
      const r = await keystrokeLatency(server.url, clients, keystrokes);
      rows.push([`${clients} clients`, String(keystrokes), String(r.n), fmt(r.p50, 2), fmt(r.p99, 2)]);
      console.error(`  ${clients} clients done`);
    }
    console.log('\nKeystroke in one client -> visible in every other client\'s notebook model (ms)');
    console.log(table(['room', 'keystrokes', 'samples', 'p50 ms', 'p99 ms'], rows));
    const cells = 500;
    const ops = quick ? 20_000 : 100_000;
    const o = await openBigNotebook(server.url, cells, ops);
    console.log(`\nOpening a notebook of ${cells} cells with ${o.ops.toLocaleString('en-US')} ops (${o.changes.toLocaleString('en-US')} changes) of history`);
    console.log(
      table(
        ['step', 'value'],
        [
          ['.sqlroom file size', fmtBytes(o.fileBytes)],
          ['parse file (JSON + Loro snapshot + check)', `${fmt(o.parseMs)} ms`],
          ['map to the editor model (NotebookSync)', `${fmt(o.mapMs)} ms`],
          ['fresh client joins the room until 500 cells shown', `${fmt(o.joinMs)} ms`],
          ['(building the history for the benchmark)', `${fmt(o.buildMs)} ms`],
        ],
      ),
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
