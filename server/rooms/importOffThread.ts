// Big imports off the event loop. Loro's import runs synchronously and, for
// an update with many ops (a catch-up after hours offline, many concurrent
// edits), takes seconds or minutes; on the main thread that stops every room,
// /healthz and the pings. Such an update is imported in a worker thread into
// a copy of the room's document (loaded from its snapshot, which is cheap);
// the room then swaps to the worker's snapshot. Accepts of that room wait
// meanwhile (SyncCore.accept); other rooms go on.
//
// Why only big updates: the copy costs the main thread a snapshot export and,
// at the next import into the swapped document, Loro's rebuild of the touched
// containers' history (measured on the 260k-op paper trace: about 0.06 s +
// 0.5–0.7 s, that is about 2.5 µs per op of history) while an import costs
// about 11 µs per op it brings, plus about 5 µs per op of the room's that it
// is concurrent with. `worthOffThread` weighs the two.
//
// Some patterns cost far more than their size: many peers inserting at one
// spot without seeing each other (measured: one update of 3,000 such peers
// 1.8 s, then 6–7 s for each 1-op update of a further concurrent peer). The
// number of peers in an update counts quadratically in the estimate; and a
// room whose import was measured far slower per op than normal
// (`isPathological`) sends every update to a worker for a while
// (Room.slowImportsUntil), however small. `OffThreadImports` is what
// SyncCore.accept asks.
import { LoroDoc, type ImportStatus, type VersionVector } from 'loro-crdt';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { ImportPool, WorkerUnavailableError, type OffThreadReply } from './importPool';
import { freeDoc, isBroken } from './loroHealth';
import { adoptImportedDoc, depthHeadroom } from './nesting';
import type { Room } from './room';
import { addedSpans, errText, fastUpdateShape, inspectBlob, type BlobInfo } from './updateInfo';

export interface ImportSettings {
  /** Worker threads importing big updates at once (0: every import on the main thread). */
  workers: number;
  /** An update whose import costs less than this many ops (its own, plus half the room's concurrent with it, plus its peers squared / 50) is imported on the main thread. */
  minOps: number;
}

export const DEFAULT_IMPORTS: ImportSettings = { workers: 2, minOps: 20_000 };

/** Ops (counter units) a version vector covers; frees it. */
function opsIn(vv: VersionVector): number {
  let n = 0;
  for (const c of vv.toJSON().values()) n += c;
  vv.free();
  return n;
}

/** Ops (counter units) in the document's history. */
export function historyOps(doc: LoroDoc): number {
  return opsIn(doc.oplogVersion());
}

/** The cost model above: an import's ops, plus half the ops it is concurrent with, plus its peers squared / 50. */
function importCost(ops: number, concurrent: number, peers: number): number {
  return ops + concurrent / 2 + (peers * peers) / 50;
}

/**
 * Whether importing `blob` into `doc` had better run in a worker (see the
 * cost model above). Its ops cost the most; ops of the document concurrent
 * with it (not in the versions it builds on) have to be replayed by Loro's
 * merge too, at about half the cost each.
 */
export function worthOffThread(doc: LoroDoc, blob: Pick<BlobInfo, 'span' | 'startFrontiers' | 'ranges'>, settings: ImportSettings): boolean {
  if (settings.workers <= 0) return false;
  const history = historyOps(doc);
  let concurrent = 0;
  if (blob.startFrontiers.length) {
    let start;
    try {
      start = doc.frontiersToVV(blob.startFrontiers);
    } catch {
      return false; // it builds on ops the room lacks: its ops will wait, pending, in the room's own document
    }
    concurrent = Math.max(0, history - opsIn(start));
  } else concurrent = history;
  const cost = importCost(blob.span, concurrent, blob.ranges.size);
  return cost >= settings.minOps && cost * 4 >= history;
}

/** An import this slow (beyond what a document loaded from a snapshot costs to warm up) ... */
const SLOW_IMPORT_MS = 100;
/** ... and this slow per op it added (normal: about 0.011 ms) is pathological. */
const SLOW_MS_PER_OP = 0.2;
/** The first import into a document loaded from a snapshot rebuilds the touched containers' history: about this much per op of history. */
const COLD_MS_PER_HISTORY_OP = 0.003;
/** A room found slow sends every update to a worker for this long (renewed while imports stay slow). */
const SLOW_ROOM_MS = 60_000;

/**
 * Whether an import that took `ms` for `ops` new ops was pathologically slow.
 * `coldHistoryOps`: the document was loaded from a snapshot and not yet
 * imported into (the worker's copy always is): its history's warm-up is allowed for.
 */
export function isPathological(ms: number, ops: number, coldHistoryOps: number): boolean {
  const excess = ms - coldHistoryOps * COLD_MS_PER_HISTORY_OP;
  return excess > SLOW_IMPORT_MS && excess / Math.max(1, ops) > SLOW_MS_PER_OP;
}


/** Updates this big are asked about (SyncCore decodes their meta anyway, for the nesting check); smaller ones only in a room found slow. */
export const BIG_UPDATE_BYTES = 16 * 1024;

/** What importing an update in a worker came to. */
export type OffThreadOutcome =
  /** In the room's document now (the room swapped to the worker's result), or nothing new. */
  | { kind: 'imported'; status: ImportStatus }
  | { kind: 'invalid'; reason: string }
  | { kind: 'too-deep'; depth: number }
  /** The server is stopping: nothing applied. */
  | { kind: 'stopping' }
  /** Import it on the main thread after all (no worker could run, or ops are left pending). */
  | { kind: 'here' };

/** The rooms' imports in worker threads: which updates go, the swap, and the slow-room mark. */
export class OffThreadImports {
  private readonly pool: ImportPool;
  /**
   * The snapshot a room swapped to, while its document is that one with no op
   * added since: the next worker import starts from it without an export here
   * (in a room found slow every update goes to a worker).
   */
  private readonly swapped = new WeakMap<Room, { doc: LoroDoc; ops: number; bytes: Uint8Array }>();
  private closed = false;
  private unavailableLogged = false;

  constructor(
    private readonly settings: ImportSettings,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.pool = new ImportPool(settings.workers);
  }

  /** Whether this update of `room` goes to a worker. `shared`: other processes write the room too (scale-out). */
  wanted(room: Room, bytes: Uint8Array, shared: boolean): boolean {
    const slow = Date.now() < room.slowImportsUntil;
    if (!slow && bytes.length <= BIG_UPDATE_BYTES) return false;
    // Pending ops live only in the room's own document, and other processes' rows are imported into it meanwhile: a swap would lose both.
    if (room.hadPending || shared || this.closed || this.settings.workers <= 0 || isBroken(room.doc)) return false;
    if (slow) return true;
    try {
      return worthOffThread(room.doc, inspectBlob(bytes), this.settings);
    } catch {
      return false; // not decodable: the main thread's import answers with Loro's error
    }
  }

  /**
   * Import `bytes` in a worker into a copy of the room's document and swap the
   * room to the result. The caller keeps the room's other imports waiting meanwhile.
   */
  async import(room: Room, bytes: Uint8Array, depthLimit: number): Promise<OffThreadOutcome> {
    const base = room.doc;
    const started = performance.now();
    const baseHistory = historyOps(base);
    const last = this.swapped.get(room);
    const snapshot = last && last.doc === base && last.ops === baseHistory ? last.bytes : base.export({ mode: 'snapshot' });
    let reply;
    try {
      reply = await this.pool.run({ snapshot, bytes, depthLimit, depthHeadroom: depthHeadroom(room, depthLimit) });
    } catch (err) {
      if (this.closed) return { kind: 'stopping' };
      if (!(err instanceof WorkerUnavailableError)) return { kind: 'invalid', reason: `import failed in a worker thread: ${errText(err)}` };
      if (!this.unavailableLogged) this.log.warn('no worker thread for big imports; importing on the main thread', { error: errText(err) });
      this.unavailableLogged = true;
      return { kind: 'here' };
    }
    if (!reply.ok) return { kind: 'invalid', reason: `import failed: ${reply.error}` };
    const added = addedSpans(reply.status).opCount;
    // The worker's copy was loaded from a snapshot: its history's warm-up is allowed for.
    if (isPathological(reply.importMs, added, baseHistory)) this.markSlow(room, reply.importMs, added);
    else if (room.slowImportsUntil) {
      room.slowImportsUntil = 0;
      this.log.info('imports in this room are fast again: back on the main thread', { room: room.key, ms: Math.round(reply.importMs) });
    }
    if (reply.depth !== null && reply.depth > depthLimit) return { kind: 'too-deep', depth: reply.depth };
    // Pending ops must wait in the room's own document for what they lack; a rebuild replaced the document meanwhile.
    if (reply.status.pending || room.doc !== base) return { kind: 'here' };
    if (!reply.snapshot) return { kind: 'imported', status: reply.status }; // nothing new
    room.doc = LoroDoc.fromSnapshot(reply.snapshot);
    room.coldDoc = true;
    this.swapped.set(room, { doc: room.doc, ops: baseHistory + added, bytes: reply.snapshot });
    adoptImportedDoc(room, base, reply.status, reply.depth, depthLimit);
    // `base` is not freed here: a join or snapshot may still hold it across an await; the wasm finalizer frees it.
    this.metrics.importsOffThread++;
    this.metrics.offThreadImportLatency.observe((performance.now() - started) / 1000);
    this.log.debug('update imported in a worker thread', { room: room.key, bytes: bytes.length, ms: Math.round(performance.now() - started) });
    return { kind: 'imported', status: reply.status };
  }

  /**
   * Load a room's stored rows (after its snapshot) in a worker when importing
   * them would be costly (estimated as for one update: their ops, plus their
   * peers squared / 50, since rows of many unsynced peers are what is slow).
   * True when `room.doc` now holds snapshot + rows; false: load on the main
   * thread (cheap rows, no worker, a row Loro refuses, ops left pending: the
   * main thread's load reports those row by row).
   */
  async load(room: Room, snapshot: Uint8Array | null, rows: Uint8Array[], shared: boolean): Promise<boolean> {
    if (shared) return false;
    const started = performance.now();
    const built = await this.importRows(snapshot, rows);
    if (!built) return false;
    const { reply, ops, peers } = built;
    const added = addedSpans(reply.status).opCount;
    let history = added;
    if (reply.snapshot) {
      const before = room.doc;
      room.doc = LoroDoc.fromSnapshot(reply.snapshot);
      freeDoc(before);
      room.coldDoc = true;
      history = historyOps(room.doc);
      this.swapped.set(room, { doc: room.doc, ops: history, bytes: reply.snapshot });
    } else if (snapshot) room.doc.import(snapshot); // the rows added nothing
    // The worker's copy was loaded from the stored snapshot: that history's warm-up is allowed for.
    if (isPathological(reply.importMs, added, history - added)) this.markSlow(room, reply.importMs, added);
    this.metrics.roomLoadsOffThread++;
    this.log.info('room loaded in a worker thread (costly rows since its snapshot)', { room: room.key, rows: rows.length, ops, peers, ms: Math.round(performance.now() - started) });
    return true;
  }

  /**
   * A past version for a reader (GET /at, a branch's head): snapshot + rows
   * built in a worker when importing the rows would be costly, so a document
   * poisoned with many unsynced peers does not stall the event loop at every
   * new read. Null: build it on the main thread (cheap rows, no worker, a row
   * Loro refuses, ops left pending).
   */
  async buildForRead(snapshot: Uint8Array | null, rows: Uint8Array[]): Promise<LoroDoc | null> {
    const built = await this.importRows(snapshot, rows);
    if (!built) return null;
    this.metrics.readsOffThread++;
    if (built.reply.snapshot) return LoroDoc.fromSnapshot(built.reply.snapshot);
    const doc = new LoroDoc(); // the rows added nothing
    if (snapshot) doc.import(snapshot);
    return doc;
  }

  /** snapshot + rows imported in a worker when that is costly (importCost of their ops and peers); null otherwise. */
  private async importRows(snapshot: Uint8Array | null, rows: Uint8Array[]): Promise<{ reply: Extract<OffThreadReply, { ok: true }>; ops: number; peers: number } | null> {
    if (!rows.length || this.closed || this.settings.workers <= 0) return null;
    // First a bound from the rows' block headers (cheap): each block is one peer's, so blocks bound the peers.
    let opsBound = 0;
    let blocksBound = 0;
    for (const r of rows) {
      const shape = fastUpdateShape(r);
      if (!shape) {
        blocksBound = Infinity;
        break;
      }
      opsBound += shape.ops;
      blocksBound += shape.blocks;
    }
    if (importCost(opsBound, 0, blocksBound) < this.settings.minOps) return null;
    let ops = 0;
    const peers = new Set<string>();
    try {
      for (const r of rows) {
        const meta = inspectBlob(r);
        ops += meta.span;
        for (const p of meta.ranges.keys()) peers.add(String(p));
      }
    } catch {
      return null;
    }
    // Rows are stored without their concurrency: their peers stand for it.
    if (importCost(ops, 0, peers.size) < this.settings.minOps) return null;
    let reply;
    try {
      reply = await this.pool.run({ snapshot: snapshot ?? new Uint8Array(), bytes: new Uint8Array(), batch: rows, depthLimit: 0, depthHeadroom: 0 });
    } catch {
      return null;
    }
    if (!reply.ok || reply.status.pending) return null;
    return { reply, ops, peers: peers.size };
  }

  /** A main-thread import took `ms`: a pathologically slow one sends the room's next updates to a worker. */
  noteMainImport(room: Room, ms: number, status: ImportStatus): void {
    const cold = room.coldDoc;
    room.coldDoc = false;
    if (ms <= SLOW_IMPORT_MS) return; // the common case: no need to count ops
    const added = addedSpans(status).opCount;
    if (isPathological(ms, added, cold ? historyOps(room.doc) : 0)) this.markSlow(room, ms, added);
  }

  private markSlow(room: Room, ms: number, ops: number): void {
    if (Date.now() >= room.slowImportsUntil) {
      this.log.warn('an import in this room was pathologically slow (many concurrent peers?): its updates are imported in a worker thread for a while', { room: room.key, ms: Math.round(ms), ops });
    }
    room.slowImportsUntil = Date.now() + SLOW_ROOM_MS;
  }

  /** Stop the workers; imports under way end as `stopping`. */
  close(): Promise<void> {
    this.closed = true;
    return this.pool.close();
  }
}
