// What the Activity view charts, from the notebook's own Loro history (no
// server needed): edits per author over time, edits per cell, and who
// touched which cells. With a sync server, the host adds the server's SQL
// analytics over ops_log (the whole team and time range), see activityPanel.
import type { LoroDoc } from 'loro-crdt';
import { HistoryDag } from './dag';
import { historyInputFromLoro } from './fromLoro';
import { CellLabeler, summarizeSpans } from './summary';

export interface ActivityData {
  /** One entry per Loro change: who, when (Unix ms), how many ops. */
  edits: { author: string; time: number; ops: number }[];
  /** Per (cell, author): characters typed + removed, or 1 per structural change. */
  cells: { cell: string; author: string; edits: number }[];
  /** From the sync server's analytics when the notebook is synced. */
  server?: ServerActivity;
  source: 'local' | 'server';
}

export interface ServerActivity {
  perAuthor: { author: string; updates: number; ops: number }[];
  perMinute: { minute: string; updates: number; ops: number }[];
}

/** Rows summarised for the per-cell charts (newest first); older rows count in the time chart only. */
const MAX_ROWS = 5000;

export function localActivity(doc: LoroDoc): ActivityData {
  const input = historyInputFromLoro(doc);
  const authorOf = (peer: string) => input.authors[peer] ?? 'unknown author';
  const edits = input.changes.map((c) => ({ author: authorOf(c.peer), time: c.timestamp * 1000, ops: c.length }));
  const dag = HistoryDag.build(input);
  const labels = new CellLabeler(doc);
  const perCell = new Map<string, { cell: string; author: string; edits: number }>();
  for (const row of dag.page(0, Math.min(dag.total, MAX_ROWS)).rows) {
    for (const t of summarizeSpans(doc, dag.spans(row.id), labels).cells) {
      const key = `${t.label}\n${row.author}`;
      const e = perCell.get(key) ?? { cell: t.label.replace(/`/g, ''), author: row.author, edits: 0 };
      e.edits += Math.max(1, t.inserted + t.removed);
      perCell.set(key, e);
    }
  }
  return { edits, cells: [...perCell.values()], source: 'local' };
}
