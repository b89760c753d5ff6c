// Storage wrapper that fails writes on demand (the database "cannot be
// written": locked, read-only, disk full), or commits and then reports failure
// (a commit whose success was not seen), for the fault tests.
import * as path from 'node:path';
import { DuckDbStorage, startServer, type FlushBatch, type RunningServer, type ServerOptions, type SnapshotRow, type Storage } from '../../server';

/**
 * 'dead': the process holding this wrapper has "crashed": every write fails
 * and close() leaves the inner storage open, so a new server can be started
 * on the same database (a new FaultyStorage around `inner`) while the old one
 * is abandoned.
 */
export type FaultMode = 'none' | 'fail' | 'commit-then-fail-once' | 'dead';

export class FaultyStorage implements Storage {
  mode: FaultMode = 'none';
  failedWrites = 0;
  private gate: Promise<void> | null = null;
  constructor(readonly inner: Storage) {}

  /** Batch writes wait (a database that takes long to answer) until the returned function is called. */
  holdWrites(): () => void {
    let open!: () => void;
    this.gate = new Promise((r) => (open = r));
    return () => {
      this.gate = null;
      open();
    };
  }

  /** A wrapper for the next server on the same, already open, inner storage. */
  static reopen(inner: Storage): FaultyStorage {
    const f = new FaultyStorage(inner);
    f.reuseInner = true;
    return f;
  }
  get kind(): string {
    return `faulty-${this.inner.kind}`;
  }
  /** Another server already opened `inner` (a restart after an abandoned one): do not open it twice. */
  reuseInner = false;
  init() {
    return this.reuseInner ? Promise.resolve() : this.inner.init();
  }
  loadRoom(docId: string, branch: string) {
    return this.inner.loadRoom(docId, branch);
  }
  async writeBatch(batch: FlushBatch): Promise<void> {
    while (this.gate) await this.gate;
    if (this.mode === 'fail' || this.mode === 'dead') {
      this.failedWrites++;
      throw new Error('IO Error: database is read-only (injected fault)');
    }
    await this.inner.writeBatch(batch);
    if (this.mode === 'commit-then-fail-once') {
      this.mode = 'none';
      this.failedWrites++;
      throw new Error('connection lost after commit (injected fault)');
    }
  }
  async writeSnapshot(row: SnapshotRow): Promise<void | number> {
    if (this.mode === 'fail' || this.mode === 'dead') throw new Error('IO Error: database is read-only (injected fault)');
    return this.inner.writeSnapshot(row);
  }
  deleteOpsUpTo(docId: string, branch: string, upto: number) {
    if (this.mode === 'dead') return Promise.reject(new Error('process is dead (injected)'));
    return this.inner.deleteOpsUpTo(docId, branch, upto);
  }
  listBranches(docId: string) {
    return this.inner.listBranches(docId);
  }
  listSnapshots(docId: string, branch: string) {
    return this.inner.listSnapshots(docId, branch);
  }
  loadAt(docId: string, branch: string, atMs: number) {
    return this.inner.loadAt(docId, branch, atMs);
  }
  analytics(q: Parameters<Storage['analytics']>[0]) {
    return this.inner.analytics(q);
  }
  maintenance() {
    return this.inner.maintenance();
  }
  close() {
    if (this.mode === 'dead') return Promise.resolve();
    return this.inner.close();
  }
}

/** A server on `dir`/db.duckdb behind a FaultyStorage (WAL in `dir`/wal, silent log), for the fault tests. */
export async function startFaultyServer(dir: string, opts: Partial<ServerOptions> = {}): Promise<{ faulty: FaultyStorage; server: RunningServer }> {
  const faulty = new FaultyStorage(new DuckDbStorage({ path: path.join(dir, 'db.duckdb') }));
  const server = await startServer({ port: 0, storage: faulty, walDir: path.join(dir, 'wal'), logLevel: 'silent', ...opts });
  return { faulty, server };
}
