// An in-memory Storage (no database) for fuzz targets and fast tests: keeps
// rows in arrays, one "transaction" = one synchronous push.
import type { Storage, FlushBatch, SnapshotRow, OpRow, RoomState } from '../../server';

export class MemoryStorage implements Storage {
  readonly kind = 'memory';
  ops: OpRow[] = [];
  snapshots: SnapshotRow[] = [];
  branches = new Set<string>();
  async init(): Promise<void> {}
  async loadRoom(docId: string, branch: string): Promise<RoomState> {
    const mine = this.ops.filter((o) => o.docId === docId && o.branch === branch);
    const snaps = this.snapshots.filter((s) => s.docId === docId && s.branch === branch);
    const snap = snaps[snaps.length - 1] ?? null;
    const after = mine.filter((o) => !snap || o.opId > snap.lastOpId).sort((a, b) => a.opId - b.opId);
    return {
      snapshot: snap ? { snapshotId: snap.snapshotId, lastOpId: snap.lastOpId, bytes: snap.bytes } : null,
      ops: after.map((o) => ({ opId: o.opId, bytes: o.bytes })),
      maxOpId: mine.reduce((m, o) => Math.max(m, o.opId), snap?.lastOpId ?? 0),
      maxSnapshotId: snaps.reduce((m, s) => Math.max(m, s.snapshotId), 0),
      known: this.branches.has(`${docId}\u0000${branch}`),
    };
  }
  async writeBatch(batch: FlushBatch): Promise<void> {
    for (const b of batch.newBranches) this.branches.add(`${b.docId}\u0000${b.branch}`);
    for (const op of batch.ops) {
      if (!this.ops.some((o) => o.docId === op.docId && o.branch === op.branch && o.opId === op.opId)) this.ops.push(op);
    }
  }
  async writeSnapshot(row: SnapshotRow): Promise<void> {
    this.snapshots.push(row);
  }
  async deleteOpsUpTo(docId: string, branch: string, upto: number): Promise<number> {
    const before = this.ops.length;
    this.ops = this.ops.filter((o) => !(o.docId === docId && o.branch === branch && o.opId <= upto));
    return before - this.ops.length;
  }
  async listBranches() {
    return [];
  }
  async listSnapshots() {
    return [];
  }
  async loadAt() {
    return { snapshot: null, ops: [] };
  }
  async analytics() {
    return { perAuthor: [], perMinute: [], perBranch: [] };
  }
  async maintenance(): Promise<void> {}
  async close(): Promise<void> {}
}
