// The changed lines of each cell a row touched: the row's "small diff",
// shown when a row is selected or hovered. The cells' sources before the row
// (its parents' version) and after it are read from the notebook at those
// versions, then compared line by line with jsdiff (a well-kept library).
import { diffLines } from 'diff';
import type { NotebookDoc } from '../notebookDoc';
import type { CellData } from '../notebookTypes';
import type { CellTouch } from './summary';
import { notebookAt } from './versionDoc';

export interface DiffLine {
  kind: 'add' | 'del' | 'ctx' | 'gap';
  text: string;
}

export interface CellDiff {
  label: string;
  /** What happened to the cell as a whole, if anything ("added", "deleted"). */
  status?: 'added' | 'deleted';
  added: number;
  removed: number;
  lines: DiffLine[];
}

const CONTEXT = 1;
const MAX_LINES = 60;

/** Line diff of two texts, with CONTEXT unchanged lines around each change, capped at MAX_LINES. */
export function lineDiff(before: string, after: string): { added: number; removed: number; lines: DiffLine[] } {
  // Both end in a newline, so typing a new last line does not count as changing the line before it.
  const parts = diffLines(before.endsWith('\n') ? before : `${before}\n`, after.endsWith('\n') ? after : `${after}\n`);
  const all: DiffLine[] = [];
  let added = 0;
  let removed = 0;
  for (const p of parts) {
    const lines = p.value.replace(/\n$/, '').split('\n');
    const kind = p.added ? 'add' : p.removed ? 'del' : 'ctx';
    if (kind === 'add') added += lines.length;
    if (kind === 'del') removed += lines.length;
    for (const text of lines) all.push({ kind, text });
  }
  const keep = all.map((l) => l.kind !== 'ctx');
  const near = all.map((_, i) => {
    for (let k = Math.max(0, i - CONTEXT); k <= Math.min(all.length - 1, i + CONTEXT); k++) if (keep[k]) return true;
    return false;
  });
  const lines: DiffLine[] = [];
  for (let i = 0; i < all.length; i++) {
    if (near[i]) lines.push(all[i]);
    else if (lines.length > 0 && lines[lines.length - 1].kind !== 'gap') lines.push({ kind: 'gap', text: '…' });
  }
  if (lines.length > 0 && lines[lines.length - 1].kind === 'gap') lines.pop();
  if (lines.length > MAX_LINES) {
    const more = lines.length - MAX_LINES;
    lines.length = MAX_LINES;
    lines.push({ kind: 'gap', text: `… ${more} more lines` });
  }
  return { added, removed, lines };
}

/** The changed lines of each touched cell between `before` and `after` (version strings). */
export function rowDiff(nb: NotebookDoc, before: string, after: string, touched: readonly CellTouch[]): CellDiff[] {
  if (touched.length === 0) return [];
  const cellsAt = (version: string): Map<string, CellData> => new Map(notebookAt(nb, version).toData().cells.map((c) => [c.id, c]));
  const a = cellsAt(before);
  const b = cellsAt(after);
  const out: CellDiff[] = [];
  for (const t of touched) {
    if (!t.id) continue;
    const from = a.get(t.id)?.source;
    const to = b.get(t.id)?.source;
    if (from === undefined && to === undefined) continue;
    const d = lineDiff(from ?? '', to ?? '');
    const cd: CellDiff = { label: t.label, ...d };
    if (from === undefined) cd.status = 'added';
    else if (to === undefined) cd.status = 'deleted';
    out.push(cd);
  }
  return out;
}
