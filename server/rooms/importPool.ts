// The worker threads that import big updates (importWorker.ts): at most
// `size` at once, each in a new worker that ends with its import. Which
// updates go there, and what the room does with the result: importOffThread.ts.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ImportStatus } from 'loro-crdt';

export interface OffThreadRequest {
  id: number;
  /** The room's document (empty: a new room). */
  snapshot: Uint8Array;
  bytes: Uint8Array;
  /** Instead of `bytes`: stored rows imported together (a room loaded from the database). */
  batch?: Uint8Array[];
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
