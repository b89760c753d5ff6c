// Lane layout of a DAG listed newest first, row by row, the way `git log
// --graph` draws it: every lane is a slot waiting for one node further down.
// Each row records only its own segments (lines ending in the node, lines
// passing through, lines leaving it), so any row can be drawn on its own and
// a virtualised list never needs its neighbours.

export interface RowLanes {
  lane: number;
  into: number[];
  through: number[];
  out: number[];
}

/**
 * `parents[i]` are the row indices of row i's parents; every parent index is
 * greater than i (rows are newest first, a parent comes later). Returns one
 * layout per row and the widest lane count.
 */
export function layoutLanes(parents: readonly (readonly number[])[]): { rows: RowLanes[]; width: number } {
  const slots: number[] = []; // slot -> row it waits for, -1 = free
  const rows: RowLanes[] = new Array(parents.length);
  let width = 0;
  const freeSlot = (): number => {
    const i = slots.indexOf(-1);
    if (i >= 0) return i;
    slots.push(-1);
    return slots.length - 1;
  };
  for (let row = 0; row < parents.length; row++) {
    const into: number[] = [];
    const through: number[] = [];
    for (let s = 0; s < slots.length; s++) {
      if (slots[s] === row) into.push(s);
      else if (slots[s] !== -1) through.push(s);
    }
    for (const s of into) slots[s] = -1;
    const lane = into.length > 0 ? into[0] : freeSlot();
    const out: number[] = [];
    parents[row].forEach((p, k) => {
      if (p <= row) throw new Error(`layoutLanes: row ${row} has parent ${p}, which is not below it`);
      // The first parent continues straight down in the node's lane, even when
      // another lane already waits for it (both lines then meet at the parent).
      if (k === 0 && slots[lane] === -1) {
        slots[lane] = p;
        out.push(lane);
        return;
      }
      const waiting = slots.indexOf(p);
      if (waiting >= 0) {
        // The parent already has a lane: join it (the lines meet at the parent's row).
        if (!out.includes(waiting)) out.push(waiting);
        return;
      }
      const s = freeSlot();
      slots[s] = p;
      out.push(s);
    });
    // Trailing free slots do not count towards the width.
    while (slots.length > 0 && slots[slots.length - 1] === -1) slots.pop();
    width = Math.max(width, lane + 1, slots.length);
    rows[row] = { lane, into, through, out };
  }
  return { rows, width };
}
