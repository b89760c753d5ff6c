// History on a big real history: the automerge-paper editing trace
// (bench/traces/, 259,778 keystrokes, CC BY 4.0) replayed into one cell as a
// person typing it (one commit per keystroke, a made-up clock of 1 s per
// keystroke with a 10-minute pause every 400 keystrokes, the extension's
// change merge interval). Measures what opening the history panel does
// (read the changes, build the DAG, the first page with its summaries), paging
// (any page with summaries), the selected row's diff, blame of the cell and
// reverting one change in the middle of the history. Replaying is not timed.
//
// node out/bench/historyTrace.js [--limit N] [--runs 3]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { LoroMap, LoroText } from 'loro-crdt';
import { blameText, CellLabeler, HistoryDag, historyInputFromLoro, revertChange, rowDiff, summarizeSpans, type HistoryPage } from '../server/shared/history';
import type { NotebookDoc } from '../server/shared/notebookDoc';
import { loadAutomergePaper, replayTrace } from '../test/support/traceFixture';
import { fmt, table } from './stats';

const { values } = parseArgs({ options: { limit: { type: 'string' }, runs: { type: 'string', default: '3' } } });
const runs = Math.max(1, Number(values.runs) || 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time<T>(fn: () => T, n = runs): { ms: number; value: T } {
  const samples: number[] = [];
  let value!: T;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    value = fn();
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), value };
}

function summarized(nb: NotebookDoc, dag: HistoryDag, page: HistoryPage): HistoryPage {
  const labels = new CellLabeler(nb.doc);
  for (const row of page.rows) row.summary = summarizeSpans(nb.doc, dag.spans(row.id), labels).text;
  return page;
}

const trace = loadAutomergePaper();
const g0 = performance.now();
const limit = values.limit ? Number(values.limit) : undefined;
const { nb, edits } = replayTrace(trace, { secondsPerEdit: 1, pauseEvery: 400, pauseSeconds: 600, ...(limit ? { limit } : {}) });
const replaySec = (performance.now() - g0) / 1000;
const open = time(() => {
  const dag = HistoryDag.build(historyInputFromLoro(nb.doc));
  return { dag, page: summarized(nb, dag, dag.page(0, 200)) };
});
const dag = open.value.dag;
const middlePage = time(() => summarized(nb, dag, dag.page(Math.floor(dag.total / 2), 200)));
const lastPage = time(() => summarized(nb, dag, dag.page(Math.max(0, dag.total - 200), 200)));
const newest = dag.page(0, 1).rows[0];
const details = time(() => rowDiff(nb, dag.versionBefore(newest.id), newest.version, summarizeSpans(nb.doc, dag.spans(newest.id)).cells), 1);
const source = (nb.doc.getMovableList('cells').get(0) as LoroMap).get('source') as LoroText;
const blame = time(() => blameText(nb.doc, source));
const mid = dag.page(Math.floor(dag.total / 2), 1).rows[0];
const revert = time(() => revertChange(nb, dag.versionBefore(mid.id), mid.version, 'bench revert', 'bench'), 1);

console.log(`\nHistory on the automerge-paper trace: ${fmt(edits, 0)} keystrokes into one cell (replay ${fmt(replaySec, 1)} s, not timed), ${fmt(dag.changeCount, 0)} Loro changes, ${fmt(dag.total, 0)} rows; median of ${runs}, ms\n`);
console.log(
  table(
    ['open history (read + DAG + first page)', 'middle page of 200', 'last page of 200', 'row diff (newest)', `blame (${fmt(blame.value.length, 0)} lines)`, 'revert a middle change'],
    [[fmt(open.ms, 1), fmt(middlePage.ms, 1), fmt(lastPage.ms, 1), fmt(details.ms, 1), fmt(blame.ms, 1), fmt(revert.ms, 1)]],
  ),
);
console.log(`first row: ${open.value.page.rows[0].summary}`);
