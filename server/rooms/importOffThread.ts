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
// (Room.slowImportsUntil), however small.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ImportStatus, LoroDoc } from 'loro-crdt';
import type { BlobInfo } from './updateInfo';

export interface ImportSettings {
  /** Worker threads importing big updates at once (0: every import on the main thread). */
  workers: number;
  /** An update whose import costs less than this many ops (its own, plus half the room's concurrent with it) is imported on the main thread. */
  minOps: number;
}

export const DEFAULT_IMPORTS: ImportSettings = { workers: 2, minOps: 20_000 };

export interface OffThreadRequest {
  id: number;
  /** The room's document (empty: a new room). */
  snapshot: Uint8Array;
  bytes: Uint8Array;
  /** maxNestingDepth (0: not checked). */
  depthLimit: number;
  /** Levels the room can still gain before it could pass the limit (nesting.ts depthHeadroom). */
  depthHeadroom: number;
}

export type OffThreadReply =
  /**
   * `depth`: the whole document's nesting depth after the import, when it was
   * measured; `snapshot`: null when the import is not to be kept (nothing
   * new, ops pending, too deep).
   */
  | { id: number; ok: true; status: ImportStatus; depth: number | null; snapshot: Uint8Array | null; importMs: number }
  /** Loro refused the update (or panicked on it). */
  | { id: number; ok: false; error: string };

/** The worker's first message: it loaded and takes a job. */
export const WORKER_READY = 'ready';

/** The worker could not run (its file is missing, the thread did not start): import on the main thread instead. */
export class WorkerUnavailableError extends Error {}

/** Ops (counter units) in the document's history. */
export function historyOps(doc: LoroDoc): number {
  const vv = doc.oplogVersion();
  let n = 0;
  for (const c of vv.toJSON().values()) n += c;
  vv.free();
  return n;
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
    let known = 0;
    for (const c of start.toJSON().values()) known += c;
    start.free();
    concurrent = Math.max(0, history - known);
  } else concurrent = history;
  const peers = blob.ranges.size;
  const cost = blob.span + concurrent / 2 + (peers * peers) / 50;
  return cost >= settings.minOps && cost * 4 >= history;
}

/** An import this slow (beyond what a document loaded from a snapshot costs to warm up) ... */
export const SLOW_IMPORT_MS = 100;
/** ... and this slow per op it added (normal: about 0.011 ms) is pathological. */
const SLOW_MS_PER_OP = 0.2;
/** The first import into a document loaded from a snapshot rebuilds the touched containers' history: about this much per op of history. */
const COLD_MS_PER_HISTORY_OP = 0.003;
/** A room found slow sends every update to a worker for this long (renewed while imports stay slow). */
export const SLOW_ROOM_MS = 60_000;

/**
 * Whether an import that took `ms` for `ops` new ops was pathologically slow.
 * `coldHistoryOps`: the document was loaded from a snapshot and not yet
 * imported into (the worker's copy always is): its history's warm-up is allowed for.
 */
export function isPathological(ms: number, ops: number, coldHistoryOps: number): boolean {
  const excess = ms - coldHistoryOps * COLD_MS_PER_HISTORY_OP;
  return excess > SLOW_IMPORT_MS && excess / Math.max(1, ops) > SLOW_MS_PER_OP;
}

interface Job {
  req: OffThreadRequest;
  resolve: (r: OffThreadReply) => void;
  reject: (e: Error) => void;
}

/**
 * At most `size` imports at once, each in a new worker that ends with it: a
 * wasm heap never shrinks, so a worker kept after a huge import would hold
 * its memory; starting one (about 0.1 s) is small next to such an import.
 */
export class ImportPool {
  private nextId = 1;
  private running = 0;
  private readonly queue: Job[] = [];
  private readonly workers = new Set<Worker>();
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly workerFile = path.join(__dirname, 'importWorker.js'),
  ) {}

  run(req: Omit<OffThreadRequest, 'id'>): Promise<OffThreadReply> {
    if (this.closed) return Promise.reject(new WorkerUnavailableError('the import workers are closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { ...req, id: this.nextId++ }, resolve, reject });
      this.startNext();
    });
  }

  /** Imports under way or waiting. */
  get pending(): number {
    return this.running + this.queue.length;
  }

  private startNext(): void {
    while (this.running < this.size && this.queue.length) {
      const job = this.queue.shift()!;
      this.running++;
      this.start(job);
    }
  }

  private start(job: Job): void {
    let worker: Worker;
    let online = false;
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      this.running--;
      this.workers.delete(worker);
      void worker.terminate();
      f();
      this.startNext();
    };
    try {
      worker = new Worker(this.workerFile);
    } catch (err) {
      this.running--;
      job.reject(new WorkerUnavailableError(`import worker did not start: ${err instanceof Error ? err.message : String(err)}`));
      this.startNext();
      return;
    }
    this.workers.add(worker);
    worker.unref();
    // The worker says it is ready once its modules (Loro's wasm) loaded; only then does it get the job.
    worker.on('message', (reply: OffThreadReply | typeof WORKER_READY) => {
      if (reply === WORKER_READY) {
        online = true;
        worker.postMessage(job.req);
      } else settle(() => job.resolve(reply));
    });
    worker.on('error', (err) => settle(() => job.reject(online ? err : new WorkerUnavailableError(`import worker did not start: ${err.message}`))));
    worker.on('exit', (code) => settle(() => job.reject(online && !this.closed ? new Error(`import worker ended (exit code ${code}) before it answered`) : new WorkerUnavailableError(`import worker ended before it started (exit code ${code})`))));
  }

  /** Stop every worker; imports under way or waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new WorkerUnavailableError('the server is stopping'));
    await Promise.all([...this.workers].map((w) => w.terminate()));
  }
}
