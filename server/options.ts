// Options for the sync server, with the defaults the issue fixes
// (flush at 200 ops / 512 KB / 300 ms; snapshots every N ops or M minutes).
import type { Storage } from './storage/types';
import type { AuthHook } from './auth';
import type { LogLevel, Logger } from './log';
import { DEFAULT_WAL_MAX_BYTES } from './wal/walLimit';
import { DEFAULT_IMPORTS, type ImportSettings } from './rooms/importOffThread';

export interface FlushSettings {
  /** Flush a room's buffer once it holds this many updates. */
  maxOps: number;
  /** ... or this many bytes. */
  maxBytes: number;
  /** ... or when its oldest buffered update is this old (ms). */
  maxDelayMs: number;
  /**
   * Scale-out: a room that other server processes also write (rows from them
   * arrived in the last 10 s) flushes after this delay instead (ms), so their
   * clients see its edits sooner.
   */
  sharedDelayMs: number;
  /** First retry delay after a failed flush (ms); doubles up to retryMaxMs. */
  retryInitialMs: number;
  retryMaxMs: number;
  /**
   * A flush still running after this long means the database is stalled (a
   * frozen file system, a hung catalog): /healthz turns degraded and the WAL
   * size limit applies (ms, 0 = never).
   */
  stallMs: number;
  /**
   * An ops_log row packs one author's updates of a flush spanning at most this
   * long (ms): the time resolution of analytics and time travel.
   */
  packSpanMs: number;
  /**
   * Acknowledged updates not yet in the database past which the server stops
   * reading its clients until the running flush ends (0 = never). What is
   * unflushed is what a restart after a crash replays from the write-ahead log;
   * while the database is down or stalled the WAL size limit applies instead.
   */
  maxBacklog: number;
}

export interface SnapshotSettings {
  /**
   * Snapshot by cost: once importing the ops stored since the last snapshot
   * would cost more than importing a new snapshot. A byte of ops costs about
   * this many bytes of snapshot to load (Loro imports a snapshot lazily but
   * replays every op); 0 = never by cost.
   */
  replayCostFactor: number;
  /** ... but never before this many Loro ops since the last snapshot. */
  minOps: number;
  /** Also snapshot a room after this many stored Loro ops (0 = only by cost). */
  everyOps: number;
  /** ... or after this much time with activity since the last snapshot (ms, 0 = never). */
  everyMs: number;
  /**
   * Older automatic snapshots are thinned to a ladder (each kept one at most
   * half the op id of the next newer kept one); checkpoints are always kept.
   * false keeps every snapshot.
   */
  thin: boolean;
  /**
   * Compaction: after a snapshot, delete ops with op_id <= last_op_id - retainOps.
   * `null` keeps every op (audit trail, full analytics).
   */
  retainOps: number | null;
}

export interface LimitSettings {
  /** Largest single websocket frame accepted (bytes); larger frames close the socket with 1009. */
  maxFrameBytes: number;
  /** Largest update (after fragment reassembly) accepted (bytes). */
  maxUpdateBytes: number;
  /** Rooms one connection may join. */
  maxRoomsPerConnection: number;
  /** Malformed frames tolerated per connection before it is closed (1002). */
  maxProtocolErrors: number;
  /** Fragmented batches must complete within this time (ms). */
  fragmentTimeoutMs: number;
  /** Open websocket connections from one remote address; more are refused at the upgrade (HTTP 429). 0 = no limit. */
  maxConnectionsPerAddress: number;
  /** Updates per second one connection may send (token bucket refilled at this rate; 0 = no limit). */
  maxUpdatesPerSecond: number;
  /** Update bytes per second one connection may send (0 = no limit). */
  maxBytesPerSecond: number;
  /** Bytes per second the server reads from one connection: past one second's worth it stops reading the socket until the client is back within it (TCP slows the sender; 0 = no pacing). */
  maxReadBytesPerSecond: number;
  /** ... and from one remote address over all its connections: only connections that sent more than 256 KiB lately are paused for it. */
  maxReadBytesPerSecondPerAddress: number;
  /** Bucket size in seconds of the rates above (a burst of rate × this is accepted at once). */
  rateBurstSeconds: number;
  /** Updates refused for the rate limit, in a row, before the connection is closed (1008). */
  maxRateLimitStrikes: number;
  /** A document (one branch) may grow to this many bytes of Loro updates; further updates are refused (0 = no limit). */
  maxDocBytes: number;
  /** Update bytes per second one token may have stored, over all its connections (bursts of rateBurstSeconds; 0 = no limit). */
  maxTokenBytesPerSecond: number;
  /** JoinRequests per second one connection may send (bursts of rateBurstSeconds; 0 = no limit). */
  maxJoinsPerSecond: number;
  /** JoinRequests per second from one remote address, over all its connections (0 = no limit). */
  maxJoinsPerSecondPerAddress: number;
  /** Bytes queued for sending to one connection; a reader this far behind is disconnected (1013; 0 = no limit). */
  maxQueuedBytesPerConnection: number;
  /** Bytes of open fragmented updates one connection may announce at once. */
  maxFragmentBytesPerConnection: number;
  /** Bytes of open fragmented updates over all connections of the process. */
  maxFragmentBytesTotal: number;
  /** A socket that has joined no room this long after it opened is closed (1008; 0 = never). */
  joinDeadlineMs: number;
  /** Sockets are pinged this often; one that has not answered the previous ping is closed (0 = never). */
  pingIntervalMs: number;
  /** Open HTTP connections (not websockets) from one remote address; more are closed at once (0 = no limit). */
  maxHttpConnectionsPerAddress: number;
  /** An HTTP request must send its headers within this time (ms). */
  httpHeadersTimeoutMs: number;
  /** ... and its whole body within this time (ms). */
  httpRequestTimeoutMs: number;
  /** Containers nested deeper than this in one update are refused (Loro's readers overflow from about 4,000). */
  maxNestingDepth: number;
}

export interface TlsSettings {
  /** PEM certificate (chain). */
  cert: string | Buffer;
  /** PEM private key. */
  key: string | Buffer;
}

export interface ServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Embedded DuckDB file (default ./sqlroom.duckdb). Ignored when `lake` or `storage` is given. */
  db?: string;
  /** DuckLake catalog, e.g. `ducklake:./catalog.ducklake` or `ducklake:sqlite:./catalog.sqlite`. */
  lake?: string;
  /** DuckLake data path (required with `lake`). */
  dataPath?: string;
  /** Directory holding offline DuckDB extensions (<dir>/v<duckdb>/<platform>/*.duckdb_extension). */
  extensionDir?: string;
  /** Directory of the write-ahead file (default: next to the database, `<db>.wal.d`). */
  walDir?: string;
  /**
   * At start, how long to wait for a database file locked by another process
   * (retrying, /healthz "starting" with `waitingFor`) before failing with
   * StorageLockedError (ms, default 0: fail at once; the CLI's --lock-wait defaults to 60 s).
   */
  lockWaitMs?: number;
  /** On close(), how long to keep retrying a failing database before leaving the rest to the WAL (ms, default 10000). */
  shutdownFlushMs?: number;
  /** Most bytes of un-flushed write-ahead file; past it updates are refused (default 1 GiB). See server/wal/walLimit.ts. */
  walMaxBytes?: number;
  /** Pluggable storage; when given, db/lake options are ignored. The server closes it on close(). */
  storage?: Storage;
  /** Pluggable auth: decides read/write permission and author name from the join payload. */
  auth?: AuthHook;
  /**
   * Server secret for signed access tokens (server/tokens.ts). When set, joins
   * need a token (unless `auth` is also given, which then decides joins) and
   * the HTTP API needs `Authorization: Bearer <token>`.
   * Without a secret (and without `auth`) the server refuses non-loopback hosts.
   */
  secret?: Uint8Array;
  /** Serve https:// and wss:// with this certificate and key. */
  tls?: TlsSettings;
  /** DuckLake: write encrypted Parquet data files (ATTACH ... ENCRYPTED). */
  encrypt?: boolean;
  /** DuckDB file: encrypt the database file with this key (ATTACH ... ENCRYPTION_KEY). */
  encryptionKey?: string;
  flush?: Partial<FlushSettings>;
  snapshot?: Partial<SnapshotSettings>;
  limits?: Partial<LimitSettings>;
  /** Big updates imported in worker threads (server/rooms/importOffThread.ts). */
  imports?: Partial<ImportSettings>;
  /** Unload a room this long after its last client left and its buffer is flushed (ms). */
  idleUnloadMs?: number;
  /** DuckLake maintenance period (ms, 0 = off). */
  maintenanceEveryMs?: number;
  /**
   * Scale-out (docs/scale-out.md): a DuckLake catalog on PostgreSQL is written
   * as shared by several processes unless this is false.
   */
  multiWriter?: boolean;
  /** Scale-out: how often to read rows other processes wrote, for loaded rooms (ms, default 50). */
  remotePollMs?: number;
  logLevel?: LogLevel;
  logger?: Logger;
}

export interface ResolvedSettings {
  flush: FlushSettings;
  snapshot: SnapshotSettings;
  limits: LimitSettings;
  imports: ImportSettings;
  idleUnloadMs: number;
  maintenanceEveryMs: number;
  walMaxBytes: number;
}

export const DEFAULT_FLUSH: FlushSettings = { maxOps: 200, maxBytes: 512 * 1024, maxDelayMs: 300, sharedDelayMs: 50, retryInitialMs: 200, retryMaxMs: 10_000, stallMs: 10_000, packSpanMs: 1000, maxBacklog: 3000 };
export const DEFAULT_SNAPSHOT: SnapshotSettings = { replayCostFactor: 8, minOps: 1000, everyOps: 0, everyMs: 10 * 60_000, thin: true, retainOps: null };
export const DEFAULT_LIMITS: LimitSettings = {
  maxFrameBytes: 1024 * 1024,
  maxUpdateBytes: 64 * 1024 * 1024,
  maxRoomsPerConnection: 64,
  maxProtocolErrors: 32,
  fragmentTimeoutMs: 10_000,
  maxConnectionsPerAddress: 256,
  maxUpdatesPerSecond: 500,
  maxBytesPerSecond: 8 * 1024 * 1024,
  maxReadBytesPerSecond: 16 * 1024 * 1024,
  maxReadBytesPerSecondPerAddress: 32 * 1024 * 1024,
  rateBurstSeconds: 4,
  maxRateLimitStrikes: 100,
  maxDocBytes: 256 * 1024 * 1024,
  maxTokenBytesPerSecond: 4 * 1024 * 1024,
  maxJoinsPerSecond: 20,
  maxJoinsPerSecondPerAddress: 100,
  maxQueuedBytesPerConnection: 32 * 1024 * 1024,
  maxFragmentBytesPerConnection: 64 * 1024 * 1024,
  maxFragmentBytesTotal: 256 * 1024 * 1024,
  joinDeadlineMs: 10_000,
  pingIntervalMs: 30_000,
  maxHttpConnectionsPerAddress: 128,
  httpHeadersTimeoutMs: 10_000,
  httpRequestTimeoutMs: 30_000,
  maxNestingDepth: 64,
};

/** Drop keys whose value is undefined so they do not override defaults. */
function defined<T extends object>(o: Partial<T> | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function resolveSettings(opts: ServerOptions): ResolvedSettings {
  return {
    flush: { ...DEFAULT_FLUSH, ...defined(opts.flush) },
    snapshot: { ...DEFAULT_SNAPSHOT, ...defined(opts.snapshot) },
    limits: { ...DEFAULT_LIMITS, ...defined(opts.limits) },
    imports: { ...DEFAULT_IMPORTS, ...defined(opts.imports) },
    idleUnloadMs: opts.idleUnloadMs ?? 30_000,
    maintenanceEveryMs: opts.maintenanceEveryMs ?? 10 * 60_000,
    walMaxBytes: opts.walMaxBytes ?? DEFAULT_WAL_MAX_BYTES,
  };
}
