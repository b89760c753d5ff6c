// Embedding API: startServer() runs the sync server (ws + HTTP on one port)
// for the extension, the CLI, tests and benchmarks.
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { WebSocketServer } from 'ws';
import { openAuth, tokenAuth } from './auth';
import { checkSecret } from './tokens';
import { createLogger, type Logger } from './log';
import { Metrics } from './metrics';
import { prometheusExporter } from './prometheus';
import { resolveSettings, type ServerOptions } from './options';
import { Connection, sharedLimits } from './protocol/connection';
import { loroWorks } from './rooms/loroHealth';
import { SyncCore } from './rooms/syncCore';
import { PresenceHub } from './rooms/presence';
import { handleHttp } from './http/routes';
import { DuckDbStorage } from './storage/duckdbStorage';
import { DuckLakeStorage } from './storage/ducklakeStorage';
import { SharedLakeStorage, postgresConninfo } from './storage/sharedLakeStorage';
import { RemoteTail, maintenanceUnderLease, remoteStats } from './rooms/scaleout';
import type { Storage } from './storage/types';
import { WriteAheadLog } from './wal/wal';
import { PauseWatch } from './pauseWatch';
import { StorageOpenError } from './storage/sqlStorage';
import { initWaitingForLock } from './storage/lockWait';
import { errText } from './rooms/updateInfo';

export type { ServerOptions, FlushSettings, SnapshotSettings, LimitSettings } from './options';
export type { Storage, OpRow, SnapshotRow, FlushBatch, RoomState, Analytics, AnalyticsQuery, BranchInfo } from './storage/types';
export type { AuthHook, AuthRequest, AuthResult } from './auth';
export { AuthError, tokenAuth, openAuth } from './auth';
export { issueToken, verifyToken, authorize, parseTtl, readSecretFile, secretFromString, newSecret, TokenError, ANY_DOC, type TokenClaims, type TokenPerm } from './tokens';
export type { TlsSettings } from './options';
export type { Logger, LogLevel } from './log';
export { createLogger } from './log';
export { DuckDbStorage } from './storage/duckdbStorage';
export { DuckLakeStorage } from './storage/ducklakeStorage';
export { SharedLakeStorage } from './storage/sharedLakeStorage';
export { StorageOpenError, StorageLockedError } from './storage/sqlStorage';
export { parseRoomId, validateDocId, validateBranch, InvalidIdError, DEFAULT_BRANCH } from './protocol/roomId';

export interface ServerStats {
  rooms: number;
  clients: number;
  bufferedOps: number;
  bufferedBytes: number;
  walDepth: number;
  walBytes: number;
  /** WAL bytes holding updates not yet in the database (what walMaxBytes limits). */
  walLiveBytes: number;
  walMaxBytes: number;
  /** Updates are being refused: the database is down and the WAL is at its limit. */
  walFull: boolean;
  updatesRefusedWalFull: number;
  degraded: boolean;
  lastFlushError: string | null;
  opsAccepted: number;
  opsDuplicate: number;
  opsRejected: number;
  /** Bytes of websocket frames read from clients, and times reading a socket was paused for its budget. */
  bytesRead: number;
  readPauses: number;
  /** Times reading a socket stopped because the flush was behind (flush.maxBacklog). */
  backlogPauses: number;
  opsStored: number;
  updatesStored: number;
  flushes: number;
  flushFailures: number;
  snapshots: number;
  protocolErrors: number;
  /** What the WAL replay at start found. */
  recovered: { entries: number; replayed: number; duplicates: number; invalid: number; tornBytes: number; tornRegions: number };
}

export interface RunningServer {
  /** ws://host:port */
  url: string;
  port: number;
  /** http://host:port */
  httpUrl: string;
  /** Flush everything, close connections and storage. */
  close(): Promise<void>;
  stats(): ServerStats;
  /** The storage in use (for tests, benchmarks and embedding). */
  readonly storage: Storage;
  /** Flush buffered updates to the database now. */
  flush(): Promise<void>;
}

export class StartupError extends Error {}

export function createStorage(opts: ServerOptions): Storage {
  if (opts.storage) return opts.storage;
  if (opts.lake) {
    if (!opts.dataPath) throw new StartupError('--lake needs --data-path <dir> (where DuckLake writes its Parquet files)');
    if (opts.encryptionKey !== undefined) throw new StartupError('--encryption-key-file is for a DuckDB file (--db); for DuckLake use --encrypt (encrypted Parquet data files)');
    // Encrypted: no inlining, so every row lands in an encrypted Parquet file rather than in the catalog.
    const lakeOpts = { catalog: opts.lake, dataPath: opts.dataPath, extensionDir: opts.extensionDir, ...(opts.encrypt ? { encrypted: true, inliningRowLimit: 0 } : {}) };
    // A PostgreSQL catalog can be shared by several server processes (docs/scale-out.md).
    if (postgresConninfo(opts.lake) !== null && opts.multiWriter !== false) return new SharedLakeStorage(lakeOpts);
    return new DuckLakeStorage(lakeOpts);
  }
  if (opts.encrypt) throw new StartupError('--encrypt is for DuckLake (--lake); to encrypt a DuckDB file pass --encryption-key-file FILE');
  return new DuckDbStorage({ path: opts.db ?? './sqlroom.duckdb', extensionDir: opts.extensionDir, ...(opts.encryptionKey !== undefined ? { encryptionKey: opts.encryptionKey } : {}) });
}

export function defaultWalDir(opts: ServerOptions): string {
  if (opts.walDir) return opts.walDir;
  if (opts.lake && opts.dataPath) return `${path.resolve(opts.dataPath).replace(/\/+$/, '')}.wal.d`;
  if (opts.storage) return path.resolve('sqlroom-wal');
  return `${path.resolve(opts.db ?? './sqlroom.duckdb')}.wal.d`;
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const settings = resolveSettings(opts);
  const log: Logger = opts.logger ?? createLogger(opts.logLevel ?? 'info');
  const host = opts.host ?? '127.0.0.1';
  const metrics = new Metrics();
  if (opts.secret) checkSecret(opts.secret);
  const auth = opts.auth ?? (opts.secret ? tokenAuth(opts.secret) : openAuth);
  // Open access is for loopback only: refuse before binding anything.
  if (!opts.secret && !opts.auth && !isLoopbackHost(host)) {
    throw new StartupError(`refusing to listen on ${host} without a secret: pass --secret-file or set SQLROOM_SECRET (tokens: sqlroom-server token --help)`);
  }
  const scheme = opts.tls ? { ws: 'wss', http: 'https' } : { ws: 'ws', http: 'http' };
  let core: SyncCore | null = null;
  let recovered = { entries: 0, replayed: 0, duplicates: 0, invalid: 0, tornBytes: 0, tornRegions: 0 };
  const connections = new Set<Connection>();
  const presenceHub = new PresenceHub();
  const pauseWatch = new PauseWatch(log);
  /** Why the start is waiting (the database locked by another process), for /healthz. */
  let waitingFor: string | null = null;

  const stats = (): ServerStats => {
    const c = core?.stats();
    const w = core?.wal.stats();
    return {
      rooms: c?.rooms ?? 0,
      clients: connections.size,
      bufferedOps: c?.bufferedOps ?? 0,
      bufferedBytes: c?.bufferedBytes ?? 0,
      walDepth: w?.depth ?? 0,
      walBytes: w?.bytes ?? 0,
      walLiveBytes: w?.liveBytes ?? 0,
      walMaxBytes: settings.walMaxBytes,
      walFull: core?.walLimit.isFull ?? false,
      updatesRefusedWalFull: core?.walLimit.refused ?? 0,
      degraded: c?.degraded ?? false,
      lastFlushError: c?.lastFlushError ?? null,
      opsAccepted: metrics.opsAccepted,
      opsDuplicate: metrics.opsDuplicate,
      opsRejected: metrics.opsRejected,
      bytesRead: metrics.bytesRead,
      readPauses: metrics.readPauses,
      backlogPauses: metrics.backlogPauses,
      opsStored: metrics.opsStored,
      updatesStored: metrics.updatesStored,
      flushes: metrics.flushes,
      flushFailures: metrics.flushFailures,
      snapshots: metrics.snapshots,
      protocolErrors: metrics.protocolErrors,
      recovered,
    };
  };

  const metricsText = prometheusExporter(metrics, () => {
    const w = core?.wal.stats();
    return {
      s: stats(),
      m: metrics,
      wal: { segments: w?.segments ?? 0, fsyncs: w?.fsyncs ?? 0, writeFailures: w?.writeFailures ?? 0 },
      flushInProgressMs: core?.stats().flushInProgressMs ?? 0,
      pauses: pauseWatch.pauses,
      longestPauseMs: pauseWatch.longestMs,
      remoteRowsApplied: remoteStats.rowsApplied,
      commitConflicts: storage instanceof SharedLakeStorage ? storage.conflicts : 0,
    };
  });

  const health = () => {
    if (!core) return { status: 'starting' as const, ...(waitingFor ? { waitingFor } : {}) };
    const s = stats();
    // Loro broken for the whole process (a wasm trap left it unusable): only a restart helps.
    const loro = loroWorks();
    return {
      status: loro !== true ? ('broken' as const) : s.degraded ? ('degraded' as const) : ('ok' as const),
      ...(loro !== true ? { error: `Loro (CRDT engine) is broken in this process: ${loro}; restart the server` } : {}),
      storage: core.storage.kind,
      rooms: s.rooms,
      clients: s.clients,
      walDepth: s.walDepth,
      walLiveBytes: s.walLiveBytes,
      walMaxBytes: s.walMaxBytes,
      walFull: s.walFull,
      lastFlushError: s.lastFlushError,
      flushInProgressMs: core.stats().flushInProgressMs,
      walWriteFailures: core.wal.stats().writeFailures,
      walTornBytes: s.recovered.tornBytes,
    };
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => handleHttp({ core: () => core, metricsText, health, log, secret: opts.secret }, req, res);
  let httpServer: http.Server;
  try {
    // Slow or never-finished requests are cut off (slowloris): headers, then the whole request, have a deadline.
    const httpOpts = { headersTimeout: settings.limits.httpHeadersTimeoutMs, requestTimeout: settings.limits.httpRequestTimeoutMs, connectionsCheckingInterval: Math.min(1000, settings.limits.httpHeadersTimeoutMs) };
    httpServer = opts.tls ? https.createServer({ ...httpOpts, cert: opts.tls.cert, key: opts.tls.key }, onRequest) : http.createServer(httpOpts, onRequest);
  } catch (err) {
    throw new StartupError(`cannot use the TLS certificate and key: ${errText(err)}`);
  }
  const wss = new WebSocketServer({ noServer: true, maxPayload: settings.limits.maxFrameBytes });
  const perAddress = new Map<string, number>();
  const maxPerAddress = settings.limits.maxConnectionsPerAddress;
  const shared = sharedLimits(settings.limits);
  // Plain HTTP connections per address (half-open requests included); an upgraded one counts as a websocket instead.
  const httpPerAddress = new Map<string, number>();
  const httpCounted = new WeakSet<object>();
  const maxHttpPerAddress = settings.limits.maxHttpConnectionsPerAddress;
  const releaseHttp = (socket: object, addr: string) => {
    if (!httpCounted.has(socket)) return;
    httpCounted.delete(socket);
    const n = (httpPerAddress.get(addr) ?? 1) - 1;
    if (n <= 0) httpPerAddress.delete(addr);
    else httpPerAddress.set(addr, n);
  };
  httpServer.on(opts.tls ? 'secureConnection' : 'connection', (socket: import('node:net').Socket) => {
    const addr = socket.remoteAddress ?? 'unknown';
    const open = httpPerAddress.get(addr) ?? 0;
    if (maxHttpPerAddress > 0 && open >= maxHttpPerAddress) {
      log.warn('connection refused: too many open HTTP connections from one address', { address: addr, open, limit: maxHttpPerAddress });
      socket.destroy();
      return;
    }
    httpPerAddress.set(addr, open + 1);
    httpCounted.add(socket);
    socket.once('close', () => releaseHttp(socket, addr));
  });
  httpServer.on('upgrade', (req: http.IncomingMessage, socket, head) => {
    releaseHttp(socket, req.socket.remoteAddress ?? 'unknown');
    if (!core) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\r\nserver is starting\n');
      return;
    }
    const addr = req.socket.remoteAddress ?? 'unknown';
    const open = perAddress.get(addr) ?? 0;
    if (maxPerAddress > 0 && open >= maxPerAddress) {
      log.warn('connection refused: too many from one address', { address: addr, open, limit: maxPerAddress });
      const body = JSON.stringify({ error: `too many connections from ${addr}: at most ${maxPerAddress} (maxConnectionsPerAddress)`, code: 'too_many_connections', limit: 'maxConnectionsPerAddress', value: maxPerAddress }) + '\n';
      socket.end(`HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    perAddress.set(addr, open + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const n = (perAddress.get(addr) ?? 1) - 1;
      if (n <= 0) perAddress.delete(addr);
      else perAddress.set(addr, n);
    };
    socket.once('close', release);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws, req: http.IncomingMessage) => {
    const conn = new Connection(ws, core!, auth, settings.limits, log, presenceHub, shared, req.socket.remoteAddress ?? 'unknown');
    connections.add(conn);
    ws.on('close', () => connections.delete(conn));
  });

  // Bind first: a port in use fails fast, before the database is opened.
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      httpServer.off('listening', onListening);
      if (err.code === 'EADDRINUSE') reject(new StartupError(`port ${opts.port ?? 0} on ${host} is already in use; stop the other process or pass --port`));
      else if (err.code === 'EACCES') reject(new StartupError(`no permission to listen on ${host}:${opts.port ?? 0}`));
      else reject(new StartupError(`cannot listen on ${host}:${opts.port ?? 0}: ${err.message}`));
    };
    const onListening = () => {
      httpServer.off('error', onError);
      resolve();
    };
    httpServer.once('error', onError);
    httpServer.once('listening', onListening);
    httpServer.listen(opts.port ?? 0, host);
  });
  const addr = httpServer.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  const storage = createStorage(opts);
  const wal = new WriteAheadLog(defaultWalDir(opts));
  wal.onFsync = (ms) => metrics.walFsyncLatency.observe(ms / 1000);
  let maintenanceTimer: NodeJS.Timeout | null = null;
  let tail: RemoteTail | null = null;
  try {
    await initWaitingForLock(storage, opts.lockWaitMs ?? 0, log, (why) => (waitingFor = why));
    core = new SyncCore(storage, wal, settings, log, metrics);
    // Until recovery ends, `core` is set but upgrades must wait: keep a local.
    const c = core;
    core = null;
    recovered = await c.recover();
    // One attempt: when the database cannot be written (a full disk, a lock) the
    // server serves from the WAL (degraded) and the flush retries in the background,
    // instead of refusing every client while it retries here.
    await c.flushAll(0, false).catch((err) => log.warn('replayed updates stay in the WAL until the database is writable; serving from the WAL and retrying', { error: errText(err) }));
    core = c;
  } catch (err) {
    await new Promise<void>((r) => httpServer.close(() => r()));
    try {
      await storage.close();
    } catch {
      /* already closed */
    }
    throw err instanceof StartupError || err instanceof StorageOpenError ? err : new StartupError(errText(err));
  }
  pauseWatch.start();
  if (settings.maintenanceEveryMs > 0 && storage.kind === 'ducklake') {
    maintenanceTimer = setInterval(() => {
      maintenanceUnderLease(storage).catch((err) => log.warn('storage maintenance failed', { error: errText(err) }));
    }, settings.maintenanceEveryMs);
    maintenanceTimer.unref();
  }
  if (storage.multiWriter) {
    tail = new RemoteTail(storage, core.rooms, log, opts.remotePollMs ?? 50);
    tail.start();
  }
  log.info('sqlroom sync server listening', { url: `${scheme.ws}://${host}:${port}`, storage: storage.kind, walDir: wal.dir, recovered, auth: opts.auth ? 'custom' : opts.secret ? 'tokens' : 'open (loopback only)', tls: !!opts.tls });

  let closing: Promise<void> | null = null;
  const close = () => {
    if (closing) return closing;
    closing = (async () => {
      if (maintenanceTimer) clearInterval(maintenanceTimer);
      pauseWatch.stop();
      await tail?.stop();
      const c = core!;
      for (const ws of wss.clients) ws.close(1001, 'server stopping');
      await c.close(opts.shutdownFlushMs ?? 10_000);
      await wal.close();
      await storage.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      httpServer.closeAllConnections?.();
      await new Promise<void>((r) => httpServer.close(() => r()));
      log.info('sqlroom sync server stopped', { walDepth: wal.stats().depth });
    })();
    return closing;
  };

  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${scheme.ws}://${hostForUrl}:${port}`,
    httpUrl: `${scheme.http}://${hostForUrl}:${port}`,
    port,
    close,
    stats,
    storage,
    flush: () => core!.flushAll(),
  };
}

/** 127.0.0.0/8, ::1, localhost (and IPv4-mapped loopback). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
