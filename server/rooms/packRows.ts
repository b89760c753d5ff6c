// Packing accepted updates into ops_log rows: per room and author, one row
// holds the merged Loro update of that author's updates in a flush (exported
// from the room's document by their id ranges), with the op count, the id
// spans (the idempotency key) and the first and last time. Recovery then
// imports a few rows instead of one per keystroke.
import type { LoroDoc } from 'loro-crdt';
import type { OpRow } from '../storage/types';
import type { BufferedOp } from './room';
import { exportRanges, spanSummary } from './updateInfo';

export interface PackedRow extends OpRow {
  /** Client updates in this row. */
  updates: number;
  /** Time of the first of them (createdAt is the last one's). */
  firstAt: number;
  /** WAL entries this row holds, per segment: released once the row is in the database. */
  wal: Map<number, { n: number; bytes: number }>;
}

export interface PackOptions {
  /** Most time between the first and the last update of a row: the time resolution of analytics and time travel. */
  maxSpanMs: number;
  /** One row per update (multi-writer storage, whose cross-process dedup compares rows' spans). */
  single: boolean;
}

interface Open {
  row: PackedRow;
  ranges: Map<string, [number, number]>;
  parts: BufferedOp[];
}

/**
 * Rows for `updates` (in arrival order) of one room. An author's row grows
 * while each next update continues every peer range it holds (so a row's
 * spans stay one contiguous range per peer) and stays within maxSpanMs.
 * `nextOpId` allocates op ids in the order the rows were opened.
 */
export function packUpdates(doc: LoroDoc, ref: { docId: string; branch: string }, updates: BufferedOp[], o: PackOptions, nextOpId: () => number): PackedRow[] {
  const rows: Open[] = [];
  const open = new Map<string, Open>();
  for (const u of updates) {
    const cur = o.single ? undefined : open.get(u.author);
    if (cur && continues(cur, u, o.maxSpanMs)) {
      add(cur, u);
      continue;
    }
    const next: Open = {
      row: {
        opId: 0,
        docId: ref.docId,
        branch: ref.branch,
        createdAt: u.createdAt,
        firstAt: u.createdAt,
        author: u.author,
        bytes: u.bytes,
        peer: '',
        seqStart: 0,
        seqEnd: 0,
        opCount: 0,
        spans: '',
        updates: 0,
        wal: new Map(),
        dedupAfter: u.dedupAfter,
      },
      ranges: new Map(),
      parts: [],
    };
    add(next, u);
    rows.push(next);
    open.set(u.author, next);
  }
  return rows.map((r) => finish(doc, r, nextOpId()));
}

function continues(cur: Open, u: BufferedOp, maxSpanMs: number): boolean {
  if (u.createdAt - cur.row.firstAt > maxSpanMs) return false;
  for (const [peer, [s]] of u.spans.ranges) {
    const have = cur.ranges.get(peer);
    if (have && have[1] !== s) return false;
  }
  return true;
}

function add(cur: Open, u: BufferedOp): void {
  cur.parts.push(u);
  cur.row.updates++;
  cur.row.createdAt = Math.max(cur.row.createdAt, u.createdAt);
  for (const [peer, [s, e]] of u.spans.ranges) {
    const have = cur.ranges.get(peer);
    if (have) have[1] = e;
    else cur.ranges.set(peer, [s, e]);
  }
  const seg = cur.row.wal.get(u.walSegment) ?? { n: 0, bytes: 0 };
  seg.n++;
  seg.bytes += u.bytes.length;
  cur.row.wal.set(u.walSegment, seg);
}

function finish(doc: LoroDoc, cur: Open, opId: number): PackedRow {
  const sum = spanSummary(cur.ranges);
  const row = cur.row;
  row.opId = opId;
  for (const p of cur.parts) if (p.origin) p.origin.rowId = opId;
  row.peer = sum.peer;
  row.seqStart = sum.seqStart;
  row.seqEnd = sum.seqEnd;
  row.opCount = sum.opCount;
  row.spans = sum.json;
  // One update: its own bytes when they hold exactly its ops; else the merged export of the ranges.
  if (cur.parts.length > 1 || !cur.parts[0].exact) {
    row.bytes = exportRanges(doc, cur.ranges);
  }
  return row;
}
