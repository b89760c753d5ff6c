// Checkpoint / compaction against the database directly (CLI without a
// running server). The server's WAL is not involved: its entries get higher
// op ids when the server replays them.
import { LoroDoc } from 'loro-crdt';
import type { RoomRef } from '../protocol/roomId';
import type { Storage } from '../storage/types';

export interface CheckpointResult {
  docId: string;
  branch: string;
  snapshotId: number;
  lastOpId: number;
  bytes: number;
  deletedOps: number;
}

export async function checkpointOffline(storage: Storage, ref: RoomRef, author: string, message: string | null, retainOps: number | null): Promise<CheckpointResult> {
  const state = await storage.loadRoom(ref.docId, ref.branch);
  if (!state.known && !state.snapshot && state.ops.length === 0) throw new Error(`no document ${ref.docId} (branch ${ref.branch}) in this database`);
  const doc = new LoroDoc();
  try {
    if (state.snapshot) doc.import(state.snapshot.bytes);
    if (state.ops.length) doc.importBatch(state.ops.map((o) => o.bytes));
    const bytes = doc.export({ mode: 'snapshot' });
    const snapshotId = state.maxSnapshotId + 1;
    await storage.writeSnapshot({ snapshotId, docId: ref.docId, branch: ref.branch, createdAt: Date.now(), createdBy: author, lastOpId: state.maxOpId, bytes, message });
    let deletedOps = 0;
    if (retainOps !== null && state.maxOpId - retainOps > 0) deletedOps = await storage.deleteOpsUpTo(ref.docId, ref.branch, state.maxOpId - retainOps);
    return { docId: ref.docId, branch: ref.branch, snapshotId, lastOpId: state.maxOpId, bytes: bytes.length, deletedOps };
  } finally {
    doc.free();
  }
}
