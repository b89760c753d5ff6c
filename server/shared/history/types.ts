// Plain-JSON types of the version history: what the DAG builder consumes (a
// list of changes, from a local LoroDoc or, later, from the sync server for a
// branch) and what the history webview is fed (pages of laid-out rows).
// Nothing here depends on loro-crdt, so a server can produce the same input.

/** One Loro change: ops [counter, counter + length) of one peer. */
export interface HistoryChange {
  peer: string;
  counter: number;
  length: number;
  lamport: number;
  /** Unix seconds (Loro records seconds). 0 when the doc did not record time. */
  timestamp: number;
  message?: string;
  /** Op ids this change depends on (Loro deps; may point into the middle of a change). */
  deps: Array<{ peer: string; counter: number }>;
}

/** A named version (see checkpoints.ts). */
export interface CheckpointInfo {
  /** Id "peer@counter" of the op that recorded the checkpoint. */
  opId: string;
  name: string;
  /** The version named (the frontiers before the checkpoint op), in version-string form. */
  version: string;
  /** Unix seconds. */
  timestamp: number;
}

export interface HistoryInput {
  changes: HistoryChange[];
  /** peer id -> user name (meta.authors). */
  authors: Record<string, string>;
  checkpoints?: CheckpointInfo[];
  /** The version the viewer has now (highlighted); version-string form. */
  current?: string;
}

export interface GroupingOptions {
  /** Consecutive changes by one author at most this many seconds apart become one node. Default 300. */
  windowSeconds?: number;
}

/** A row of the DAG as the webview draws it: one node (a group of one or more changes). */
export interface DagRow {
  /** Row index, 0 = newest. */
  index: number;
  /** Node id: "peer@counter" of its first change. */
  id: string;
  /** Version after this node (frontiers of its last change), version-string form. */
  version: string;
  author: string;
  peer: string;
  /** Unix seconds of the first and last change in the node. */
  start: number;
  end: number;
  message?: string;
  /** Set when the node is a checkpoint (its name). */
  checkpoint?: string;
  /** Number of Loro changes in the node (> 1: an expandable group). */
  size: number;
  /** Number of ops in the node. */
  ops: number;
  /** Ids of the parent nodes (more than one: a merge). */
  parents: string[];
  /** What the row did in one line (summary.ts), filled in by the host per page. */
  summary?: string;
  /** Labels of the cells it touched (a burst lists them all). */
  touched?: string[];
  /** True for a join the CRDT made by itself (several parents, no user message). */
  join?: boolean;
  /** True when this node's version is the current version. */
  current: boolean;
  /** True when this node is a head (no children). */
  head: boolean;
  // ---- layout (see lanes.ts) ----
  lane: number;
  /** Lanes whose lines come from above and end in this node. */
  into: number[];
  /** Lanes whose lines pass straight through this row. */
  through: number[];
  /** Lanes whose lines leave this node downwards (towards its parents). */
  out: number[];
}

export interface HistoryPage {
  rows: DagRow[];
  /** Total rows in the DAG. */
  total: number;
  /** Cursor of the next page, or undefined at the end. */
  next?: number;
  /** Widest lane count over the whole DAG (so every page draws with the same width). */
  lanes: number;
}

/** One change inside an expanded group. */
export interface GroupMember {
  id: string;
  version: string;
  timestamp: number;
  ops: number;
  message?: string;
}
