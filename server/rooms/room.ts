// One (doc, branch) in memory: the authoritative LoroDoc, its clients and the
// updates accepted (durable in the WAL) but not yet written to the database.
import { LoroDoc } from 'loro-crdt';
import type { OpRow } from '../storage/types';
import type { RoomRef } from '../protocol/roomId';

export interface BufferedOp extends OpRow {
  /** WAL segment holding this update; released once the row is in the database. */
  walSegment: number;
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
  spans: { peer: string; seqStart: number; seqEnd: number; opCount: number; json: string };
}

export class Room {
  /** Replaced only when a Loro panic broke it (SyncCore.rebuildBroken). */
  doc = new LoroDoc();
  /** Set while the doc is being rebuilt after a Loro panic; accepts wait for it. */
  rebuilding: Promise<void> | null = null;
  readonly members = new Set<RoomMember>();
  buffer: BufferedOp[] = [];
  bufferBytes = 0;
  /** Rows handed to the current flush transaction. */
  inflight: BufferedOp[] = [];
  firstBufferedAt = 0;
  nextOpId = 1;
  lastStoredOpId = 0;
  /** Multi-writer storage: every stored row with op_id <= seenOpId is in `doc`. */
  seenOpId = 0;
  /** Multi-writer storage: other processes wrote this room recently (until then it flushes sooner). */
  sharedUntil = 0;
  nextSnapshotId = 1;
  opsSinceSnapshot = 0;
  lastSnapshotAt = Date.now();
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

  /** Move everything buffered into `inflight` for a flush. */
  takeForFlush(): BufferedOp[] {
    this.inflight = this.buffer;
    this.buffer = [];
    this.bufferBytes = 0;
    return this.inflight;
  }

  /** A flush failed: put its rows back in front, in order. */
  restoreInflight(): void {
    if (this.inflight.length === 0) return;
    this.buffer = [...this.inflight, ...this.buffer];
    this.bufferBytes = this.buffer.reduce((n, op) => n + op.bytes.length, 0);
    this.firstBufferedAt = this.inflight[0].createdAt;
    this.inflight = [];
  }

  get dirty(): boolean {
    return this.buffer.length > 0 || this.inflight.length > 0;
  }
}
