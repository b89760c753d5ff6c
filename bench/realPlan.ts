// How the real editing trace (bench/traces/automerge-paper.json.gz, every
// keystroke of writing a paper) is cut into rooms and writers, independent of
// the CRDT. The Loro and Yjs encoders turn the same plan into updates.
//
// Each room holds a contiguous slice of the trace. Its writers each own one
// cell: writer w types the w-th contiguous part of the room's slice into cell
// w, which starts with the text the trace had at the start of that part. So
// every cell replays a valid stretch of the trace (positions always match the
// text they apply to) and all writers of a room type at the same time without
// waiting for each other. With 1 room and 1 writer it is the whole trace in
// one cell, as test/support/traceFixture.ts replays it.
import { LoroDoc } from 'loro-crdt';
import type { EditingTrace } from '../test/support/traceFixture';

export interface CellPlan {
  /** Cell id in the notebook (index = writer index). */
  id: string;
  /** Text of the cell in the base notebook (the trace's text at `from`). */
  start: string;
  /** Keystrokes [from, to) of the trace, typed into this cell. */
  from: number;
  to: number;
  /** Text of the cell after its keystrokes (the trace's text at `to`). */
  end: string;
}

export interface RealRoomPlan {
  roomId: string;
  /** One cell per writer; writer w types cells[w]. */
  cells: CellPlan[];
}

/** One keystroke of the trace: [position, deleted count, inserted text]. */
export type Patch = [number, number, string];

/** The trace as a flat keystroke list (every txn of automerge-paper is one patch). */
export function tracePatches(trace: EditingTrace): Patch[] {
  const out: Patch[] = [];
  for (const t of trace.txns) for (const p of t.patches) out.push(p);
  return out;
}

/**
 * Cuts the first `keystrokes` keystrokes into `rooms` contiguous slices, each
 * into `writers` contiguous parts. The texts at the cut points come from one
 * replay into a LoroText (fast, native; a JS string would copy the whole text
 * per keystroke).
 */
export function makeRealPlan(trace: EditingTrace, patches: Patch[], keystrokes: number, rooms: number, writers: number, prefix: string): RealRoomPlan[] {
  const n = Math.min(keystrokes, patches.length);
  const cuts = new Set<number>();
  const bounds = (r: number, w: number): [number, number] => {
    const lo = Math.floor((r * n) / rooms);
    const hi = Math.floor(((r + 1) * n) / rooms);
    return [lo + Math.floor((w * (hi - lo)) / writers), lo + Math.floor(((w + 1) * (hi - lo)) / writers)];
  };
  for (let r = 0; r < rooms; r++) {
    for (let w = 0; w < writers; w++) bounds(r, w).forEach((c) => cuts.add(c));
  }
  const textAt = textsAt(trace.startContent, patches, [...cuts].sort((a, b) => a - b));
  const plan: RealRoomPlan[] = [];
  for (let r = 0; r < rooms; r++) {
    const cells: CellPlan[] = [];
    for (let w = 0; w < writers; w++) {
      const [from, to] = bounds(r, w);
      cells.push({ id: `paper-${r}-${w}`, start: textAt.get(from)!, from, to, end: textAt.get(to)! });
    }
    plan.push({ roomId: `${prefix}-${r}`, cells });
  }
  return plan;
}

/** The trace's text after `k` keystrokes, for each k in `cuts` (ascending). */
function textsAt(start: string, patches: Patch[], cuts: number[]): Map<number, string> {
  const doc = new LoroDoc();
  const text = doc.getText('t');
  if (start) text.insert(0, start);
  const out = new Map<number, string>();
  let k = 0;
  for (const cut of cuts) {
    for (; k < cut; k++) {
      const [pos, del, ins] = patches[k];
      // ASCII trace: scalar positions are UTF-16 positions.
      if (del > 0) text.delete(pos, del);
      if (ins) text.insert(pos, ins);
      if (k % 4096 === 4095) doc.commit();
    }
    out.set(cut, text.toString());
  }
  doc.free();
  return out;
}

/** Total keystrokes of a plan. */
export function planKeystrokes(plan: RealRoomPlan[]): number {
  return plan.reduce((s, r) => s + r.cells.reduce((t, c) => t + c.to - c.from, 0), 0);
}
