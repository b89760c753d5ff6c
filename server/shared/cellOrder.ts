// Plans the list operations that turn one ordering of cell ids into another
// while moving as few cells as possible: the cells on a longest increasing
// subsequence (by target position) stay put, every other kept cell moves once.

export type ReorderOp =
  | { type: 'delete'; index: number; id: string }
  | { type: 'move'; from: number; to: number; id: string }
  | { type: 'insert'; index: number; id: string };

/**
 * Ops to apply in order to `current` so that it equals `target`.
 * `target` must not contain duplicates; duplicates in `current` keep their
 * first occurrence and the later ones are deleted.
 * Indices are those of the list at the moment each op is applied; a move's
 * `to` is the element's index after the move (Loro's `move(from, to)`).
 */
export function planReorder(current: readonly string[], target: readonly string[]): ReorderOp[] {
  const targetPos = new Map<string, number>();
  target.forEach((id, i) => {
    if (targetPos.has(id)) throw new Error(`planReorder: duplicate target id ${JSON.stringify(id)}`);
    targetPos.set(id, i);
  });

  const ops: ReorderOp[] = [];
  const firstIndex = new Map<string, number>();
  current.forEach((id, i) => {
    if (!firstIndex.has(id)) firstIndex.set(id, i);
  });
  const list = current.slice();
  // Deletes from the end so earlier indices stay valid.
  for (let i = list.length - 1; i >= 0; i--) {
    const id = list[i];
    if (!targetPos.has(id) || firstIndex.get(id) !== i) {
      ops.push({ type: 'delete', index: i, id });
      list.splice(i, 1);
    }
  }

  const staying = new Set(longestIncreasingSubsequence(list.map((id) => targetPos.get(id)!)).map((i) => list[i]));
  for (let i = 0; i < target.length; i++) {
    const id = target[i];
    if (staying.has(id)) continue;
    // Place right after the previous target cell, which is already in order.
    const prev = i === 0 ? -1 : list.indexOf(target[i - 1]);
    const from = list.indexOf(id);
    if (from < 0) {
      ops.push({ type: 'insert', index: prev + 1, id });
      list.splice(prev + 1, 0, id);
      continue;
    }
    const to = from < prev ? prev : prev + 1;
    if (from === to) continue;
    ops.push({ type: 'move', from, to, id });
    list.splice(from, 1);
    list.splice(to, 0, id);
  }
  return ops;
}

/** Indices (ascending) of one longest strictly increasing subsequence of `seq`. O(n log n). */
export function longestIncreasingSubsequence(seq: readonly number[]): number[] {
  // tails[k] = index in seq of the smallest tail of an increasing run of length k+1.
  const tails: number[] = [];
  const prevOf: number[] = new Array<number>(seq.length);
  for (let i = 0; i < seq.length; i++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seq[tails[mid]] < seq[i]) lo = mid + 1;
      else hi = mid;
    }
    prevOf[i] = lo > 0 ? tails[lo - 1] : -1;
    tails[lo] = i;
  }
  const out: number[] = [];
  for (let i = tails.length > 0 ? tails[tails.length - 1] : -1; i >= 0; i = prevOf[i]) out.push(i);
  return out.reverse();
}
