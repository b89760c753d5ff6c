// One (doc, branch) in memory: the authoritative LoroDoc, its clients and the
// updates accepted (durable in the WAL) but not yet written to the database.
import { LoroDoc } from 'loro-crdt';
import type { PackedRow } from './packRows';
import type { SpanSummary } from './updateInfo';
import type { RoomRef } from '../protocol/roomId';

/** One accepted update (durable in the WAL), waiting to be packed into an ops_log row. */
export interface BufferedOp {
  createdAt: number;
  author: string;
  /** What the WAL holds for it (the client's bytes, or the export of what it added). */
  bytes: Uint8Array;
  /** `bytes` hold exactly the ops it added (an export, or client bytes all of whose ops were new), so a row of it alone keeps them; else its row exports the ops from the document. */
  exact: boolean;
  /** The Loro ops it added to the room, per peer. */
  spans: SpanSummary & { ranges: Map<string, [number, number]> };
  /** WAL segment holding this update; released once its row is in the database. */
  walSegment: number;
  /** Multi-writer storage: see OpRow.dedupAfter. */
  dedupAfter?: number;
  /** The accepted update it came from (told its row's op id when packed). */
  origin?: UnloggedUpdate;
}

/** What the room needs from a connected client. */
export interface RoomMember {
  readonly id: number;
  /** Deliver updates relayed in `room` (the member picks the room id it joined with). */
  deliver(room: Room, updates: Uint8Array[], batchId: `0x${string}`): void;
  /** Ask the member to rejoin `room` (it then sends what the server lacks). */
  suggestRejoin?(room: Room, message: string): void;
}

/**
 * An update the room imported but could not append to the WAL (disk error).
 * The doc already holds it, so a resend would look like a duplicate: it is
 * kept here and logged before this room acknowledges anything else.
 */
export interface UnloggedUpdate {
  author: string;
  createdAt: number;
  bytes: Uint8Array;
  exact: boolean;
  spans: BufferedOp['spans'];
  /** Op id of the ops_log row that holds it, once packed. */
  rowId?: number;
}

export class Room {
  /** Replaced only when a Loro panic broke it (SyncCore.rebuildBroken). */
  doc = new LoroDoc();
  /** Set while the doc is being rebuilt after a Loro panic; accepts wait for it. */
  rebuilding: Promise<void> | null = null;
  /** Set while a big update is imported in a worker thread (importOffThread.ts); other accepts wait for it. */
  importing: Promise<void> | null = null;
  /** Until then every update goes to a worker thread: an import here was pathologically slow (importOffThread.ts). */
  slowImportsUntil = 0;
  /** `doc` was loaded from a snapshot and nothing imported since (its first import warms up its history). */
  coldDoc = false;
  readonly members = new Set<RoomMember>();
  buffer: BufferedOp[] = [];
  bufferBytes = 0;
  /** Rows handed to the current flush transaction. */
  inflight: PackedRow[] = [];
  /** Rows of a failed flush, with their op ids: written again as they are (a commit whose success was not seen stores nothing twice). */
  retry: PackedRow[] = [];
  /** Some import left ops pending (dependencies missing): later imports may apply more than their own bytes. */
  hadPending = false;
  firstBufferedAt = 0;
  nextOpId = 1;
  lastStoredOpId = 0;
  /** Multi-writer storage: every stored row with op_id <= seenOpId is in `doc`. */
  seenOpId = 0;
  /** Multi-writer storage: other processes wrote this room recently (until then it flushes sooner). */
  sharedUntil = 0;
  nextSnapshotId = 1;
  /** Loro ops and row bytes stored since the last snapshot (its cost model: SyncCore.snapshotDue). */
  opsSinceSnapshot = 0;
  bytesSinceSnapshot = 0;
  /** Size of the last snapshot (0: none yet). */
  lastSnapshotBytes = 0;
  /** Flushes a due snapshot has waited for a moment with nothing unstored (then it needs no fork). */
  snapshotWaits = 0;
  lastSnapshotAt = Date.now();
  /** The snapshot being written (one at a time per room: each takes the next snapshot id). */
  snapshotRunning: Promise<unknown> | null = null;
  /** doc_branches row exists. */
  known = false;
  parentBranch: string | null = null;
  forkFrontiers: string | null = null;
  idleTimer: NodeJS.Timeout | null = null;
  /** Members whose update was refused for the WAL limit: told to rejoin (and resend) once updates are accepted again. */
  readonly refusedMembers = new Set<RoomMember>();
  /** Imported but not yet in the WAL (see UnloggedUpdate), oldest first. */
  unlogged: UnloggedUpdate[] = [];
  /** Imported, and their WAL append is under way: in the document, in no buffer yet. */
  readonly appending = new Set<UnloggedUpdate>();
  /** Settles when such an append ended (a failed one is then in `unlogged`): a resend of it waits for this. */
  readonly logging = new Set<Promise<void>>();
  unloggedDrain: Promise<string | null> | null = null;
  lastActivity = Date.now();

  constructor(readonly ref: RoomRef) {}

  get key(): string {
    return this.ref.key;
  }

  pushBuffered(op: BufferedOp): void {
    if (this.buffer.length === 0) this.firstBufferedAt = Date.now();
    this.buffer.push(op);
    this.bufferBytes += op.bytes.length;
  }

  /** Rows for a flush: the failed flush's rows, then the buffer packed by `pack`. */
  takeForFlush(pack: (updates: BufferedOp[]) => PackedRow[]): PackedRow[] {
    this.inflight = [...this.retry, ...pack(this.buffer)];
    this.retry = [];
    this.buffer = [];
    this.bufferBytes = 0;
    return this.inflight;
  }

  /** A flush failed: its rows are written again, first, by the next one. */
  restoreInflight(): void {
    if (this.inflight.length === 0) return;
    for (const row of this.inflight) row.retried = true;
    this.retry = this.inflight;
    this.inflight = [];
    if (this.buffer.length === 0) this.firstBufferedAt = this.retry[0].firstAt;
  }

  /** Something waits for the database (buffered or a failed flush's rows). */
  get unflushed(): boolean {
    return this.buffer.length > 0 || this.retry.length > 0;
  }

  /** Updates not yet in the database. */
  get unstoredUpdates(): number {
    let n = this.buffer.length;
    for (const r of this.inflight) n += r.updates;
    for (const r of this.retry) n += r.updates;
    return n;
  }

  get dirty(): boolean {
    return this.buffer.length > 0 || this.inflight.length > 0 || this.retry.length > 0;
  }
}
