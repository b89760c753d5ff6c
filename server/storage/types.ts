// The storage interface: DuckDB (embedded file) and DuckLake are two
// implementations of it; tests wrap it to inject faults.

export interface OpRow {
  opId: number;
  docId: string;
  branch: string;
  /** ms since epoch, set by the server. */
  createdAt: number;
  author: string;
  bytes: Uint8Array;
  /** Loro peer id of the first id span (decimal string), '' if none. */
  peer: string;
  /** Counter range [seqStart, seqEnd) of that peer in this update. */
  seqStart: number;
  seqEnd: number;
  /** Number of Loro ops (counter units over all peers) in the update. */
  opCount: number;
  /** All id spans as JSON `{"<peer>":[start,end],...}`: the idempotency key. */
  spans: string;
  /** Client updates packed into this row (default 1). createdAt is the last one's time, firstAt the first one's. */
  updates?: number;
  firstAt?: number;
  /** Written before by a flush that failed: a commit whose success was not seen may hold it (single-writer storage checks its op id). */
  retried?: boolean;
  /**
   * Multi-writer storage only: rows with op_id > dedupAfter may already hold
   * this update (stored by another process, or by a commit whose success was
   * not seen); the flush compares spans with them.
   */
  dedupAfter?: number;
}

export interface SnapshotRow {
  snapshotId: number;
  docId: string;
  branch: string;
  createdAt: number;
  createdBy: string;
  lastOpId: number;
  bytes: Uint8Array;
  message: string | null;
}

export interface BranchInfo {
  docId: string;
  branch: string;
  createdAt: number;
  parentBranch: string | null;
  forkFrontiers: string | null;
  headOpId: number;
}

export interface RoomState {
  snapshot: { snapshotId: number; lastOpId: number; bytes: Uint8Array } | null;
  /** Ops after the snapshot, ordered by op_id (opCount: Loro ops in the row). */
  ops: { opId: number; bytes: Uint8Array; opCount?: number }[];
  /** Highest op id ever allocated for this doc+branch (0 if none). */
  maxOpId: number;
  maxSnapshotId: number;
  /** Whether doc_branches has a row for it. */
  known: boolean;
}

/** One flush: rows for several rooms, written in one transaction. */
export interface FlushBatch {
  ops: OpRow[];
  /** Rooms written for the first time: create doc_meta / doc_branches rows. */
  newBranches: { docId: string; branch: string; createdAt: number; parentBranch: string | null; forkFrontiers: string | null }[];
  /** head_op_id per room after this batch. */
  heads: { docId: string; branch: string; headOpId: number; /** multi-writer: every row <= this is in the room's doc */ seenOpId?: number }[];
}

/** Rows of one doc+branch written by other processes (multi-writer storage). */
export interface RemoteRows {
  docId: string;
  branch: string;
  /** Contiguous op ids after the room's `seenOpId`, ordered. */
  rows: { opId: number; bytes: Uint8Array }[];
  /** Set when rows after `seenOpId` were compacted away: import it first. */
  snapshot: { lastOpId: number; bytes: Uint8Array } | null;
}

/** What a multi-writer flush did per room: op ids are allocated inside the transaction. */
export interface FlushResult {
  rooms: {
    docId: string;
    branch: string;
    /** head_op_id after the commit: rows 1..head are all committed. */
    head: number;
    /** Rows other processes committed between the room's seenOpId and our first row. */
    before: RemoteRows;
    /** Updates skipped because an identical row (same spans) was already stored. */
    duplicates: number;
  }[];
}

export interface AnalyticsQuery {
  docId?: string;
  branch?: string;
  /** ISO times bounding created_at. */
  from?: string;
  to?: string;
}

export interface Analytics {
  perAuthor: { author: string; updates: number; ops: number; bytes: number }[];
  perMinute: { minute: string; updates: number; ops: number; bytes: number }[];
  /** rows: ops_log rows (each packs one author's updates of a flush). */
  perBranch: { docId: string; branch: string; updates: number; rows: number; ops: number; bytes: number; firstAt: string; lastAt: string }[];
}

export interface Storage {
  /** Human readable kind for logs and /metrics ("duckdb" | "ducklake" | ...). */
  readonly kind: string;
  init(): Promise<void>;
  loadRoom(docId: string, branch: string): Promise<RoomState>;
  /** Write all rows of a flush in one transaction; all or nothing. Multi-writer storage allocates op ids and returns them. */
  writeBatch(batch: FlushBatch): Promise<void | FlushResult>;
  /** Multi-writer storage allocates the snapshot id in the transaction and returns it. */
  writeSnapshot(row: SnapshotRow): Promise<void | number>;
  /** Delete these snapshots (thinning older automatic ones); returns rows deleted. */
  deleteSnapshots?(docId: string, branch: string, snapshotIds: number[]): Promise<number>;
  /** Delete ops with op_id <= uptoOpId; returns rows deleted. */
  deleteOpsUpTo(docId: string, branch: string, uptoOpId: number): Promise<number>;
  listBranches(docId: string): Promise<BranchInfo[]>;
  listSnapshots(docId: string, branch: string): Promise<Omit<SnapshotRow, 'bytes'>[]>;
  /** State at time T: latest snapshot created at or before T, then ops created at or before T after it. */
  loadAt(docId: string, branch: string, atMs: number): Promise<{ snapshot: { snapshotId: number; lastOpId: number; bytes: Uint8Array } | null; ops: { opId: number; bytes: Uint8Array }[] }>;
  analytics(q: AnalyticsQuery): Promise<Analytics>;
  /** Background maintenance (DuckLake: merge / expire / cleanup). */
  maintenance(): Promise<void>;
  close(): Promise<void>;
  /**
   * Several server processes write this storage (DuckLake on a PostgreSQL
   * catalog): op ids are allocated in the flush transaction, other writers'
   * rows are tailed, snapshots/compaction run under a lease. See docs/scale-out.md.
   */
  readonly multiWriter?: boolean;
  /**
   * Multi-writer: rows with op_id > after per room; null when nothing was
   * committed since the last full poll. `some`: only these rooms (catch-up before
   * a fork/merge), always queried, not a full poll.
   */
  tail?(rooms: { docId: string; branch: string; after: number }[], some?: boolean): Promise<RemoteRows[] | null>;
  /** Multi-writer: take (or renew) the snapshot/compaction lease of a doc+branch; false if another holder has it. */
  acquireLease?(docId: string, branch: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease?(docId: string, branch: string, holder: string): Promise<void>;
}
