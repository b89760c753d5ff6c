// Scale-out glue for multi-writer storage (several processes on one DuckLake
// with a PostgreSQL catalog, docs/scale-out.md):
//   - applyRemote(): import rows other processes committed into a room, in
//     op-id order, and relay what was new to the room's clients;
//   - RemoteTail: polls the storage for such rows for every loaded room;
//   - leases: snapshot/compaction of a doc+branch only by the lease holder.
import { hostname } from 'node:os';
import type { Logger } from '../log';
import { newBatchId } from '../shared/updateBatch';
import type { RemoteRows, Storage } from '../storage/types';
import { newHolderId } from '../storage/sharedLakeStorage';
import type { Room } from './room';
import { errText } from './updateInfo';

export interface RemoteStats {
  rowsApplied: number;
  rowsRelayed: number;
  polls: number;
  pollErrors: number;
}

/** How long a room counts as written by several processes after rows from another one arrived. */
export const SHARED_WINDOW_MS = 10_000;

export const remoteStats: RemoteStats = { rowsApplied: 0, rowsRelayed: 0, polls: 0, pollErrors: 0 };

/**
 * Import `rr` (rows after room.seenOpId, maybe a snapshot first) into the room
 * and relay the new part to its clients. Rows not continuing seenOpId are left
 * for the next poll, so seenOpId only ever covers a gap-free prefix.
 */
export function applyRemote(room: Room, rr: RemoteRows, log: Logger): number {
  const before = room.doc.oplogVersion();
  let applied = 0;
  try {
    if (rr.snapshot && rr.snapshot.lastOpId > room.seenOpId) {
      try {
        room.doc.import(rr.snapshot.bytes);
        room.seenOpId = rr.snapshot.lastOpId;
      } catch (err) {
        log.error('snapshot from another process cannot be imported', { room: room.key, error: errText(err) });
        return 0;
      }
    }
    for (const r of rr.rows) {
      if (r.opId <= room.seenOpId) continue;
      if (r.opId !== room.seenOpId + 1) break;
      try {
        room.doc.import(r.bytes);
      } catch (err) {
        log.error('stored op from another process cannot be imported; skipped', { room: room.key, opId: r.opId, error: errText(err) });
      }
      room.seenOpId = r.opId;
      applied++;
    }
    room.lastStoredOpId = Math.max(room.lastStoredOpId, room.seenOpId);
    remoteStats.rowsApplied += applied;
    const after = room.doc.oplogVersion();
    const changed = after.compare(before) !== 0;
    after.free();
    if (changed && room.members.size > 0) {
      const update = room.doc.export({ mode: 'update', from: before });
      const batchId = newBatchId();
      for (const m of room.members) m.deliver(room, [update], batchId);
      remoteStats.rowsRelayed += applied;
    }
    if (changed) room.lastActivity = Date.now();
    // Another process writes this room too: flush ours sooner (flush.sharedDelayMs).
    if (applied > 0 && changed) room.sharedUntil = Date.now() + SHARED_WINDOW_MS;
    return applied;
  } finally {
    before.free();
  }
}

/** Polls the storage for rows of loaded rooms written by other processes. */
export class RemoteTail {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(
    private readonly storage: Storage,
    private readonly rooms: Map<string, Room>,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  start(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pollOnce().finally(() => {
        this.running = null;
        this.start();
      });
    }, this.pollMs);
    this.timer.unref?.();
  }

  async pollOnce(): Promise<number> {
    if (!this.storage.tail || this.rooms.size === 0) return 0;
    const list = [...this.rooms.values()];
    let applied = 0;
    try {
      remoteStats.polls++;
      const found = await this.storage.tail(list.map((r) => ({ docId: r.ref.docId, branch: r.ref.branch, after: r.seenOpId })));
      if (!found) return 0;
      for (const rr of found) {
        const room = this.rooms.get(list.find((r) => r.ref.docId === rr.docId && r.ref.branch === rr.branch)?.key ?? '');
        if (room) applied += applyRemote(room, rr, this.log);
      }
    } catch (err) {
      remoteStats.pollErrors++;
      this.log.warn('reading other processes\' rows failed; retrying', { error: errText(err) });
    }
    return applied;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.running;
  }
}

/** Read what other processes committed for these rooms now (before a fork or merge reads them). */
export async function catchUp(storage: Storage, rooms: Room[], log: Logger): Promise<void> {
  if (!storage.tail || rooms.length === 0) return;
  const found = await storage.tail(rooms.map((r) => ({ docId: r.ref.docId, branch: r.ref.branch, after: r.seenOpId })), true);
  for (const rr of found ?? []) {
    const room = rooms.find((r) => r.ref.docId === rr.docId && r.ref.branch === rr.branch);
    if (room) applyRemote(room, rr, log);
  }
}

export const LEASE_HOLDER = `${hostname()}-${newHolderId()}`;

export class LeaseBusyError extends Error {}

/**
 * DuckLake maintenance (merge files, expire snapshots, clean up): with several
 * processes only the holder of the lake-wide lease runs it; the others skip.
 */
export async function maintenanceUnderLease(storage: Storage): Promise<boolean> {
  if (!storage.acquireLease || !storage.releaseLease) {
    await storage.maintenance();
    return true;
  }
  if (!(await storage.acquireLease('*', 'maintenance', LEASE_HOLDER, 15 * 60_000))) return false;
  try {
    await storage.maintenance();
    return true;
  } finally {
    await storage.releaseLease('*', 'maintenance', LEASE_HOLDER).catch(() => undefined);
  }
}

/**
 * Run `fn` holding the doc+branch snapshot lease (a row in the catalog's
 * PostgreSQL database). Storage without leases (one process) runs it directly.
 * `waitMs` > 0 retries while another process holds it; otherwise LeaseBusyError.
 */
export async function withLease<T>(storage: Storage, room: Room, ttlMs: number, waitMs: number, fn: () => Promise<T>): Promise<T> {
  if (!storage.acquireLease || !storage.releaseLease) return fn();
  const { docId, branch } = room.ref;
  const end = Date.now() + waitMs;
  for (let i = 0; !(await storage.acquireLease(docId, branch, LEASE_HOLDER, ttlMs)); i++) {
    if (Date.now() >= end) throw new LeaseBusyError(`another server process is writing a snapshot of ${room.key}; try again shortly`);
    await new Promise((r) => setTimeout(r, Math.min(500, 50 * (i + 1))));
  }
  try {
    return await fn();
  } finally {
    await storage.releaseLease(docId, branch, LEASE_HOLDER).catch(() => undefined);
  }
}
