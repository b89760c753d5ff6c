// History benchmark: building the version DAG from a notebook's own Loro
// history (10k and 100k changes by default), paging it, finding the version
// at a time, and opening a version ~100k changes back (the notebook at that
// version, serialised as the read-only .sqlroom the version file system
// serves; Loro's own forkAt for comparison) and one half-way back.
//
// Histories are real: several peers editing through NotebookDoc with syncs
// between them (forks and merges), each commit its own Loro change
// (test/support/historyFixture.ts). Generating them is not measured.
//
// node out/bench/history.js [--sizes 10000,100000] [--runs 3] [--sync-every 250]
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import {
  changesFromLoro,
  HistoryDag,
  historyInputFromLoro,
  frontiersIn,
  notebookAt,
} from '../server/shared/history';
import { serializeSqlroomFile } from '../server/shared/sqlroomFile';
import { changeCountOf, syntheticHistory } from '../test/support/historyFixture';
import { fmt, fmtBytes, table } from './stats';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time<T>(runs: number, fn: () => T): { ms: number; value: T } {
  let value!: T;
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    value = fn();
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), value };
}

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '10000,100000' }, runs: { type: 'string', default: '3' }, 'sync-every': { type: 'string', default: '250' } },
});
const sizes = values.sizes!.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const runs = Math.max(1, Number(values.runs) || 3);
// Syncs are what makes generating slow (Loro merges the concurrent edits); a sync every 250 commits still forks and merges often.
const syncEvery = Math.max(1, Number(values['sync-every']) || 250);

const rows: string[][] = [];
for (const size of sizes) {
  const g0 = performance.now();
  const nb = syntheticHistory(size, { peers: 4, syncEvery, seed: 1 });
  const genSec = (performance.now() - g0) / 1000;
  const changes = changeCountOf(nb.doc);
  const read = time(runs, () => changesFromLoro(nb.doc));
  const input = historyInputFromLoro(nb.doc);
  const build = time(runs, () => HistoryDag.build(input));
  const dag = build.value;
  const full = time(runs, () => HistoryDag.build(historyInputFromLoro(nb.doc)));
  const first = time(runs, () => dag.page(0, 200));
  const last = time(runs, () => dag.page(dag.total - 200, 200));
  const midTime = input.changes[Math.floor(input.changes.length / 2)].timestamp;
  const at = time(runs, () => dag.versionAt(midTime));
  // The oldest row: a version (almost) every change back.
  const oldest = dag.page(dag.total - 1, 1).rows[0];
  const open = time(runs, () => serializeSqlroomFile(notebookAt(nb, oldest.version), 'bench-doc_at_version'));
  const fork = time(runs, () => notebookAt(nb, oldest.version).toData());
  const loroFork = time(runs, () => nb.doc.forkAt(frontiersIn(nb.doc, oldest.version)).toJSON());
  const middle = dag.page(Math.floor(dag.total / 2), 1).rows[0];
  const openMiddle = time(runs, () => serializeSqlroomFile(notebookAt(nb, middle.version), 'bench-doc_at_version'));
  rows.push([
    fmt(changes, 0),
    fmt(dag.total, 0),
    String(dag.width),
    fmt(genSec, 1),
    fmt(read.ms, 1),
    fmt(build.ms, 1),
    fmt(full.ms, 1),
    fmt(first.ms, 2),
    fmt(last.ms, 2),
    fmt(at.ms, 1),
    fmt(fork.ms, 1),
    fmt(loroFork.ms, 1),
    fmt(open.ms, 1),
    fmt(openMiddle.ms, 1),
    fmtBytes(open.value.length),
  ]);
  console.log(`${size}: done (${changes} changes, ${dag.total} rows)`);
}

console.log(`\nHistory DAG: 4 peers, a sync every ${syncEvery} commits (median of ${runs}; times in ms unless noted)\n`);
console.log(
  table(
    ['changes', 'rows', 'lanes', 'generate s', 'read changes', 'build DAG', 'read+build', 'page first 200', 'page last 200', 'version at T', 'oldest: state', 'oldest: Loro forkAt', 'oldest: .sqlroom', 'middle: .sqlroom', 'oldest file'],
    rows,
  ),
);
