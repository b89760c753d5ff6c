// Nesting depth of Loro containers (a map in a list in a map …). Loro's
// recursive readers (toJSON, and so GET /at) overflow the wasm stack from
// about 4,000 levels, which breaks Loro for the whole process; the server
// refuses updates that nest deeper than maxNestingDepth and checks stored
// documents before rendering them. Everything here walks iteratively in JS.
import { LoroDoc, type ContainerID, type ImportStatus } from 'loro-crdt';
import type { Room } from './room';

const isCid = (v: unknown): v is ContainerID => typeof v === 'string' && v.startsWith('cid:');

/** Container ids directly inside a shallow value (tree nodes' metas included). */
function childIds(value: unknown, out: ContainerID[]): void {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (isCid(v)) out.push(v);
    else if (Array.isArray(v)) for (const x of v) stack.push(x);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) stack.push(x);
  }
}

/**
 * Deepest container nesting of the whole document (a root container is 1),
 * stopping early once `stopAbove` is passed.
 */
export function docDepth(doc: LoroDoc, stopAbove = Number.MAX_SAFE_INTEGER): number {
  const roots: ContainerID[] = [];
  childIds(doc.getShallowValue(), roots);
  const stack: [ContainerID, number][] = roots.map((c) => [c, 1]);
  let max = 0;
  while (stack.length) {
    const [cid, depth] = stack.pop()!;
    if (depth > max) max = depth;
    if (max > stopAbove) return max;
    let c;
    try {
      c = doc.getContainerById(cid);
    } catch {
      continue; // a user string that merely looks like a container id
    }
    const shallow = (c as { getShallowValue?: () => unknown } | undefined)?.getShallowValue?.();
    const kids: ContainerID[] = [];
    childIds(shallow, kids);
    for (const k of kids) stack.push([k, depth + 1]);
  }
  return max;
}

/**
 * Depth of one container, walking up its parents (memoised per room); stops
 * counting past `cap` (getContainerById costs more the deeper a container is).
 */
function depthOf(doc: LoroDoc, cid: ContainerID, memo: Map<string, number>, cap: number): number {
  const hit = memo.get(cid);
  if (hit !== undefined) return hit;
  type Node = { id: string; parent?: () => Node | undefined };
  const chain: string[] = [];
  let base = 0;
  let node: Node | undefined;
  try {
    node = doc.getContainerById(cid) as unknown as Node | undefined;
  } catch {
    node = undefined;
  }
  if (!node) return 0;
  while (node && chain.length <= cap) {
    const known = memo.get(node.id);
    if (known !== undefined) {
      base = known;
      break;
    }
    chain.push(node.id);
    node = node.parent?.();
  }
  if (chain.length > cap) return base + chain.length; // deeper than the cap: exact value not needed
  for (let i = chain.length - 1; i >= 0; i--) memo.set(chain[i], ++base);
  return base;
}

/** Deepest container the applied part of an import touched (exact up to `cap`, then just "more"). */
export function changedDepth(doc: LoroDoc, spans: Iterable<[string, { start: number; end: number }]>, memo: Map<string, number>, cap: number): number {
  let max = 0;
  for (const [peer, span] of spans) {
    if (span.end <= span.start) continue;
    for (const cid of doc.getChangedContainersIn({ peer: peer as `${number}`, counter: span.start }, span.end - span.start)) {
      max = Math.max(max, depthOf(doc, cid, memo, cap));
      if (max > cap) return max;
    }
  }
  return max;
}

interface RoomDepth {
  max: number;
  memo: Map<string, number>;
  /** Ops imported since `max` was last made exact (per peer, contiguous counter ranges merged). */
  unchecked: [string, { start: number; end: number }][];
  uncheckedOps: number;
  doc: LoroDoc;
}
const rooms = new WeakMap<Room, RoomDepth>();

function stateOf(room: Room, limit: number): RoomDepth {
  let s = rooms.get(room);
  if (!s || s.doc !== room.doc) {
    // First check of this room (or its document was rebuilt): measure it once.
    s = { max: docDepth(room.doc, limit), memo: new Map(), doc: room.doc, unchecked: [], uncheckedOps: 0 };
    rooms.set(room, s);
  }
  return s;
}

/**
 * Whether importing `bytes` (spanning `ops` counter units) could pass `limit`:
 * an update can deepen the document by at most one level per op, so only an
 * update with more ops than the headroom is tried first on a fork of the room.
 * Returns the depth it would reach when that passes the limit, else null.
 */
export function tooDeep(room: Room, bytes: Uint8Array, ops: number, limit: number): number | null {
  if (limit <= 0) return null;
  const s = stateOf(room, limit);
  if (s.max + ops <= limit) return null;
  const trial = room.doc.fork();
  try {
    const status = trial.import(bytes);
    const depth = changedDepth(trial, status.success, new Map(s.memo), limit);
    return depth > limit ? depth : null;
  } finally {
    trial.free();
  }
}

/**
 * After an import into the room: the depth the document may now have, exact
 * once it could pass `limit`. Each op deepens the document by one level at
 * most, so while the depth last measured plus the ops imported since stays
 * within the limit nothing is measured (asking Loro which containers a
 * keystroke touched costs about as much as importing it); past that, the
 * containers those ops touched are measured in one go. A result over the
 * limit is the fault of this import (the bound held before it).
 */
export function noteImported(room: Room, status: ImportStatus, limit: number): number {
  if (limit <= 0) return 0;
  const s = stateOf(room, limit);
  addUnchecked(s, status);
  if (s.max + s.uncheckedOps <= limit) return s.max;
  const depth = changedDepth(room.doc, s.unchecked, s.memo, limit);
  s.unchecked = [];
  s.uncheckedOps = 0;
  s.max = Math.max(s.max, depth);
  return s.max;
}

/** Levels the room's document may still gain before it could pass `limit` (Infinity: not checked). */
export function depthHeadroom(room: Room, limit: number): number {
  if (limit <= 0) return Infinity;
  const s = stateOf(room, limit);
  return limit - s.max - s.uncheckedOps;
}

/**
 * The room swapped `previous` for a document holding it plus an import done
 * elsewhere (importOffThread.ts): carry the depth state over. `measured`: the
 * new document's whole depth, when it was measured (the import could pass
 * the headroom); otherwise the import's ops stay within the headroom.
 * Container depths never change, so the memo stays valid.
 */
export function adoptImportedDoc(room: Room, previous: LoroDoc, status: ImportStatus, measured: number | null, limit: number): void {
  const s = rooms.get(room);
  if (limit <= 0 || !s || s.doc !== previous) return; // measured afresh at the next check
  s.doc = room.doc;
  if (measured === null) {
    addUnchecked(s, status);
    return;
  }
  s.max = measured;
  s.unchecked = [];
  s.uncheckedOps = 0;
}

function addUnchecked(s: RoomDepth, status: ImportStatus): void {
  for (const [peer, span] of status.success) {
    if (span.end <= span.start) continue;
    let last: (typeof s.unchecked)[number] | undefined;
    for (let i = s.unchecked.length - 1; i >= 0 && !last; i--) if (s.unchecked[i][0] === peer) last = s.unchecked[i];
    if (last && last[1].end === span.start) last[1].end = span.end;
    else s.unchecked.push([peer, { start: span.start, end: span.end }]);
    s.uncheckedOps += span.end - span.start;
  }
}
