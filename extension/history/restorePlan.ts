// Plans the VS Code edits that turn a notebook's cells into a target list
// (no `vscode` import; the plan is turned into NotebookEdits by
// restoreEdits.ts). Cells are matched by id; the longest run of matched cells
// already in order stays in place; a kept cell whose text, kind or language
// changed is replaced, one whose name or metadata changed gets a metadata
// update; everything between kept cells is replaced by the target's cells
// there. All indices refer to the notebook before the edits, and the steps
// come last-index first so they can be applied one after another.
import type { CellData } from '../../server/shared/notebookTypes';
import { jsonEqual } from '../../server/shared/jsonValue';

export type RestoreStep =
  | { type: 'replace'; start: number; end: number; cells: CellData[] }
  | { type: 'metadata'; index: number; cell: CellData };

export function planRestore(current: readonly CellData[], target: readonly CellData[]): RestoreStep[] {
  const pairs = longestCommonRun(current.map((c) => c.id), target.map((c) => c.id));
  const steps: RestoreStep[] = [];
  let prevC = -1;
  let prevT = -1;
  for (const [ci, ti] of [...pairs, [current.length, target.length] as [number, number]]) {
    if (ci > prevC + 1 || ti > prevT + 1) steps.push({ type: 'replace', start: prevC + 1, end: ci, cells: target.slice(prevT + 1, ti) });
    if (ci < current.length) {
      const a = current[ci];
      const b = target[ti];
      if (a.source !== b.source || a.kind !== b.kind || a.language !== b.language) {
        steps.push({ type: 'replace', start: ci, end: ci + 1, cells: [b] });
      } else if ((a.name ?? '') !== (b.name ?? '') || !jsonEqual(a.metadata, b.metadata)) {
        steps.push({ type: 'metadata', index: ci, cell: b });
      }
    }
    prevC = ci;
    prevT = ti;
  }
  return steps.reverse();
}

/** Index pairs of a longest common subsequence of two id lists (ids unique within each list). */
function longestCommonRun(a: readonly string[], b: readonly string[]): Array<[number, number]> {
  // With unique ids this is a longest increasing subsequence of b-positions (patience sorting).
  const posInB = new Map(b.map((id, i) => [id, i]));
  const seq: Array<[number, number]> = [];
  a.forEach((id, i) => {
    const j = posInB.get(id);
    if (j !== undefined) seq.push([i, j]);
  });
  const tails: number[] = []; // index into seq of the smallest tail of each length
  const prev: number[] = new Array(seq.length).fill(-1);
  seq.forEach(([, j], k) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq[tails[mid]][1] < j) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[k] = tails[lo - 1];
    tails[lo] = k;
  });
  const out: Array<[number, number]> = [];
  for (let k = tails.length > 0 ? tails[tails.length - 1] : -1; k >= 0; k = prev[k]) out.push(seq[k]);
  return out.reverse();
}
