// sqlroom-server: run the sync server, or query / checkpoint / compact its database.
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createStorage, startServer, StartupError, StorageOpenError } from './index';
import { createLogger, isLogLevel, type LogLevel } from './log';
import type { ServerOptions } from './options';
import { normalizeUserName } from './protocol/names';
import { parseRoomId, validateBranch, validateDocId, roomKey, DEFAULT_BRANCH } from './protocol/roomId';
import { checkpointOffline } from './rooms/offline';
import { ANY_DOC, issueToken, parseTtl, readSecretFile, secretFromString } from './tokens';
import { runClient } from './client';
import { localServerDir } from './local/localFiles';
import { serveLocal } from './local/localServe';

const HELP = `sqlroom-server — Loro sync server with DuckDB / DuckLake persistence

Usage:
  sqlroom-server [serve] [options]          run the server (default)
  sqlroom-server analytics [options]        edits per author, activity per minute, ops/bytes per doc+branch
  sqlroom-server checkpoint --doc ID [...]  write a snapshot (with --message / --author)
  sqlroom-server compact --doc ID --retain-ops N [...]
                                            snapshot, then delete ops up to last_op_id - N
  sqlroom-server token --doc ID --perm read|write [--branch B] [--ttl 7d] [--user NAME]
                                            print a signed access token (needs the secret)
  sqlroom-server client --url URL[,URL...] --room ROOM [--once]
                                            join a room (trying the URLs in turn); --once prints
                                            the document as JSON; otherwise stdin lines are appended
  sqlroom-server local [--dir D] [--idle-exit-ms N] [--version-tag V]
                                            the one loopback server of this user (what the VS Code
                                            extension starts): lock, secret, data and server.json
                                            (0600) in D (default ~/.sqlroom/local-server); exits
                                            after N ms with no client (default 600000, 0 = never)
  sqlroom-server merge-file BASE OURS THEIRS [PATH]
                                            git merge driver: merge two .sqlroom files through
                                            their Loro histories into OURS (docs/file-format.md)
  sqlroom-server --help

Storage (all commands):
  --db FILE              embedded DuckDB file (default ./sqlroom.duckdb)
  --lake CATALOG         DuckLake catalog, e.g. ducklake:./meta.ducklake or ducklake:sqlite:./meta.sqlite
  --data-path DIR        DuckLake data path (required with --lake)
  --extension-dir DIR    offline DuckDB extensions (<DIR>/v1.5.5/linux_amd64/ducklake.duckdb_extension);
                         fill it with scripts/install-duckdb-extensions.sh
  --encrypt              DuckLake: encrypted Parquet data files (needs the httpfs extension)
  --encryption-key-file F  DuckDB file: encrypt the database with the key in F (needs httpfs)

Access (serve, token):
  --secret-file FILE     server secret (or env SQLROOM_SECRET; at least 16 bytes, e.g.
                         openssl rand -hex 32 > secret.txt). With a secret, joins and /api/
                         need a token; without one the server only listens on loopback.

serve:
  --host HOST            listen address (default 127.0.0.1)
  --port N               port for ws:// and http:// (default 8787; 0 = any free port)
  --wal-dir DIR          write-ahead file directory (default <db>.wal.d or <data-path>.wal.d)
  --lock-wait S          database locked by another process at start: wait up to S seconds for it,
                         retrying (warn log naming the holder, /healthz 503 "starting" with
                         waitingFor), then exit 1 (default 60, 0 = exit at once)
  --wal-max-bytes N      most update bytes in the write-ahead file not yet in the database (default
                         1073741824 = 1 GiB); past it, while the database is down or stalled, updates are refused
  --flush-ops N          flush a room's buffer at N updates (default 200)
  --flush-bytes N        ... or N bytes (default 524288)
  --flush-ms N           ... or when the oldest buffered update is N ms old (default 300)
  --flush-stall-ms N     a flush running longer than N ms means the database is stalled: /healthz
                         degraded, sqlroom_degraded 1, the WAL limit applies (default 10000, 0 = never)
  --flush-backlog N      past N acknowledged updates not yet in the database, stop reading clients until the
                         running flush ends: bounds what a restart after a crash replays (default 3000, 0 = never)
  --snapshot-cost F      snapshot once replaying the ops stored since the last snapshot costs more than
                         loading a new one, a byte of ops counted as F bytes of snapshot (default 8, 0 = off)
  --snapshot-ops N       also snapshot after N stored Loro ops (default 0 = by cost only)
  --snapshot-minutes M   snapshot after M minutes with activity (default 10, 0 = off)
  --keep-snapshots ladder|all  ladder: the latest automatic snapshot and older ones at halving op ids;
                         all: keep every one (default ladder; checkpoints are always kept)
  --pack-ms N            an ops_log row packs one author's updates of a flush within N ms (default 1000):
                         the time resolution of analytics and "Open at Time…"
  --retain-ops N|all     after a snapshot delete ops up to last_op_id - N (default all = keep every op)
  --idle-unload-ms N     unload rooms N ms after the last client left (default 30000)
  --import-workers N     worker threads importing big updates (default 2, 0 = all on the main thread);
                         a big import there no longer holds up other rooms, pings and /healthz
  --import-min-ops N     an update with at least N Loro ops may go to a worker (default 20000)
  --log-level L          debug | info | warn | error | silent (default info); logs are JSON lines on stderr
  --tls-cert FILE        PEM certificate: serve https:// and wss:// (with --tls-key)
  --tls-key FILE         PEM private key
Limits (serve; a client over one is told which and why):
  --max-frame-bytes N    largest websocket frame (default 1048576; larger: close 1009)
  --max-update-bytes N   largest update after fragment reassembly (default 67108864)
  --max-rooms-per-connection N        (default 64)
  --max-connections-per-address N     open websockets per remote address (default 256, 0 = no limit; HTTP 429)
  --max-updates-per-second N          per connection (default 500, 0 = no limit; bursts of 4 s worth)
  --max-bytes-per-second N            per connection (default 8388608, 0 = no limit)
  --max-read-bytes-per-second N       the server reads at most this fast from one connection: past it, it stops
                                      reading the socket for a while (default 16777216, 0 = no pacing)
  --max-read-bytes-per-second-per-address N  ... and from one address, pausing only its heavy senders (default 33554432)
  --max-doc-bytes N      refuse updates once a document would pass N bytes (default 268435456, 0 = no limit)
  --max-token-bytes-per-second N      stored bytes per token over all its connections (default 4194304, 0 = no limit)
  --max-joins-per-second N            JoinRequests per connection (default 20, 0 = no limit)
  --max-joins-per-second-per-address N  JoinRequests per remote address (default 100, 0 = no limit)
  --max-queued-bytes N   bytes queued to one slow reader before it is disconnected (default 33554432, 0 = no limit)
  --max-fragment-bytes-per-connection N  open fragmented updates per connection (default 67108864)
  --max-fragment-bytes-total N        open fragmented updates in the process (default 268435456)
  --join-deadline-ms N   close a socket that joined no room after N ms (default 10000, 0 = never)
  --ping-interval-ms N   ping sockets; close one that missed the previous ping (default 30000, 0 = never)
  --max-http-connections-per-address N  open HTTP connections per remote address (default 128, 0 = no limit)
  --http-headers-timeout-ms N / --http-request-timeout-ms N  (defaults 10000 / 30000)
  --max-nesting-depth N  deepest container nesting one update may create (default 64)
  --poll-ms N            scale-out: read rows other processes wrote every N ms (default 50)
  --flush-shared-ms N    scale-out: a room other processes also write flushes after N ms (default 50)
  --single-writer        a PostgreSQL DuckLake catalog written by this process only (no scale-out
                         coordination; never run several processes with it)

Scale-out: several processes with the same --lake 'ducklake:postgres:dbname=… host=…' and the
same --data-path (shared storage) serve the same rooms; see docs/scale-out.md.

analytics:   [--doc ID] [--branch B] [--from ISO] [--to ISO] [--server http://HOST:PORT]
checkpoint:  --doc ID [--branch B] [--message TEXT] [--author NAME] [--server http://HOST:PORT]
compact:     --doc ID [--branch B] --retain-ops N [--author NAME]
token:       --doc ID|'*' --perm read|write [--branch B] [--ttl 7d] [--user NAME] (--secret-file F | SQLROOM_SECRET)
             --doc '*' grants every document (operators; /api/analytics without ?doc=)
With --server, pass --token T (or env SQLROOM_TOKEN) when the server has a secret;
--ca-file F trusts a private CA / self-signed certificate for https://.
client:      --url ws://A[,ws://B...] --room ROOM [--once] [--user NAME] [--token T | SQLROOM_TOKEN]
             [--ca-file F] [--text NAME] [--timeout-ms N]

With --server the command asks a running server over HTTP (its database is locked
by that server); without it the command opens the database itself.

HTTP endpoints (same port as ws): GET /healthz, GET /metrics, GET /api/analytics,
GET /api/docs/:docId/analytics, POST /api/docs/:docId/checkpoint, GET /api/docs/:docId/at?t=ISO,
GET /api/docs/:docId/branches, GET /api/docs/:docId/snapshots
`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  host: { type: 'string' },
  port: { type: 'string' },
  db: { type: 'string' },
  lake: { type: 'string' },
  'data-path': { type: 'string' },
  'extension-dir': { type: 'string' },
  'wal-dir': { type: 'string' },
  'wal-max-bytes': { type: 'string' },
  'flush-stall-ms': { type: 'string' },
  'flush-backlog': { type: 'string' },
  'flush-ops': { type: 'string' },
  'flush-bytes': { type: 'string' },
  'flush-ms': { type: 'string' },
  'snapshot-ops': { type: 'string' },
  'snapshot-cost': { type: 'string' },
  'keep-snapshots': { type: 'string' },
  'pack-ms': { type: 'string' },
  'snapshot-minutes': { type: 'string' },
  'retain-ops': { type: 'string' },
  'idle-unload-ms': { type: 'string' },
  'import-workers': { type: 'string' },
  'import-min-ops': { type: 'string' },
  'log-level': { type: 'string' },
  doc: { type: 'string' },
  branch: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  message: { type: 'string' },
  author: { type: 'string' },
  server: { type: 'string' },
  'secret-file': { type: 'string' },
  perm: { type: 'string' },
  ttl: { type: 'string' },
  user: { type: 'string' },
  token: { type: 'string' },
  'ca-file': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  encrypt: { type: 'boolean' },
  'encryption-key-file': { type: 'string' },
  'lock-wait': { type: 'string' },
  'max-frame-bytes': { type: 'string' },
  'max-update-bytes': { type: 'string' },
  'max-rooms-per-connection': { type: 'string' },
  'max-connections-per-address': { type: 'string' },
  'max-updates-per-second': { type: 'string' },
  'max-bytes-per-second': { type: 'string' },
  'max-read-bytes-per-second': { type: 'string' },
  'max-read-bytes-per-second-per-address': { type: 'string' },
  'max-doc-bytes': { type: 'string' },
  'max-token-bytes-per-second': { type: 'string' },
  'max-joins-per-second': { type: 'string' },
  'max-joins-per-second-per-address': { type: 'string' },
  'max-queued-bytes': { type: 'string' },
  'max-fragment-bytes-per-connection': { type: 'string' },
  'max-fragment-bytes-total': { type: 'string' },
  'join-deadline-ms': { type: 'string' },
  'ping-interval-ms': { type: 'string' },
  'max-http-connections-per-address': { type: 'string' },
  'http-headers-timeout-ms': { type: 'string' },
  'http-request-timeout-ms': { type: 'string' },
  'max-nesting-depth': { type: 'string' },
  'poll-ms': { type: 'string' },
  'flush-shared-ms': { type: 'string' },
  'single-writer': { type: 'boolean' },
  url: { type: 'string' },
  room: { type: 'string' },
  once: { type: 'boolean' },
  text: { type: 'string' },
  'timeout-ms': { type: 'string' },
  dir: { type: 'string' },
  'idle-exit-ms': { type: 'string' },
  'version-tag': { type: 'string' },
} as const;

class UsageError extends Error {}

function int(v: string | undefined, name: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return Number(v);
}

type Values = ReturnType<typeof parse>['values'];
function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

function storageOptions(v: Values): ServerOptions {
  if (v.lake && v.db) throw new UsageError('give either --db or --lake, not both');
  if (v.lake && !v['data-path']) throw new UsageError('--lake needs --data-path <dir>');
  if (v.encrypt && !v.lake) throw new UsageError('--encrypt is for DuckLake (--lake); to encrypt a DuckDB file pass --encryption-key-file FILE');
  if (v['encryption-key-file'] && v.lake) throw new UsageError('--encryption-key-file is for a DuckDB file (--db); for DuckLake use --encrypt');
  let encryptionKey: string | undefined;
  if (v['encryption-key-file']) {
    try {
      encryptionKey = fs.readFileSync(v['encryption-key-file'], 'utf8').trim();
    } catch (err) {
      throw new UsageError(`cannot read --encryption-key-file: ${(err as Error).message}`);
    }
    if (encryptionKey.length < 16) throw new UsageError('the key in --encryption-key-file must be at least 16 characters (e.g. openssl rand -hex 32)');
  }
  return {
    db: v.db,
    lake: v.lake,
    dataPath: v['data-path'],
    extensionDir: v['extension-dir'],
    ...(v.encrypt ? { encrypt: true } : {}),
    ...(encryptionKey ? { encryptionKey } : {}),
    ...(v['single-writer'] ? { multiWriter: false } : {}),
  };
}

/** The secret from --secret-file or SQLROOM_SECRET (undefined when neither is given). */
function secretOf(v: Values): Buffer | undefined {
  try {
    if (v['secret-file']) return readSecretFile(v['secret-file']);
    const env = process.env.SQLROOM_SECRET;
    if (env !== undefined && env.trim() !== '') return secretFromString(env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return undefined;
}

function tlsOf(v: Values): ServerOptions['tls'] {
  const cert = v['tls-cert'];
  const key = v['tls-key'];
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new UsageError('TLS needs both --tls-cert and --tls-key');
  const read = (f: string, what: string) => {
    try {
      return fs.readFileSync(f);
    } catch (err) {
      throw new UsageError(`cannot read ${what} ${f}: ${(err as Error).message}`);
    }
  };
  return { cert: read(cert, '--tls-cert'), key: read(key, '--tls-key') };
}

function token(v: Values): void {
  const secret = secretOf(v);
  if (!secret) throw new UsageError('token needs the server secret: --secret-file FILE or env SQLROOM_SECRET');
  if (!v.doc) throw new UsageError("token needs --doc <id> (or --doc '*' for every document)");
  const doc = v.doc === ANY_DOC ? ANY_DOC : validateDocId(v.doc);
  const branch = v.branch ? validateBranch(v.branch) : undefined;
  if (v.perm !== 'read' && v.perm !== 'write') throw new UsageError('token needs --perm read or --perm write');
  let ttlSeconds: number;
  try {
    ttlSeconds = parseTtl(v.ttl ?? '7d');
  } catch (err) {
    throw new UsageError(`--ttl: ${(err as Error).message}`);
  }
  let user: string | undefined;
  if (v.user !== undefined) {
    // The check the server applies to every user name (joins, tokens, HTTP).
    const n = normalizeUserName(v.user);
    if ('error' in n) throw new UsageError(`--user: ${n.error}`);
    user = n.name;
  }
  process.stdout.write(issueToken(secret, { doc, branch, perm: v.perm, ttlSeconds, user }) + '\n');
}

function retain(v: string | undefined): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === 'all') return null;
  return int(v, 'retain-ops');
}

function keepSnapshots(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'ladder' || v === 'all') return v === 'ladder';
  throw new UsageError(`--keep-snapshots must be ladder or all, got ${JSON.stringify(v)}`);
}

async function serve(v: Values): Promise<void> {
  const level = v['log-level'] ?? 'info';
  if (!isLogLevel(level)) throw new UsageError(`--log-level must be debug, info, warn, error or silent`);
  const snapMin = int(v['snapshot-minutes'], 'snapshot-minutes');
  const server = await startServer({
    ...storageOptions(v),
    host: v.host ?? '127.0.0.1',
    port: int(v.port, 'port') ?? 8787,
    walDir: v['wal-dir'],
    lockWaitMs: (int(v['lock-wait'], 'lock-wait') ?? 60) * 1000,
    walMaxBytes: int(v['wal-max-bytes'], 'wal-max-bytes', 1),
    flush: {
      maxOps: int(v['flush-ops'], 'flush-ops', 1),
      maxBytes: int(v['flush-bytes'], 'flush-bytes', 1),
      maxDelayMs: int(v['flush-ms'], 'flush-ms'),
      sharedDelayMs: int(v['flush-shared-ms'], 'flush-shared-ms'),
      stallMs: int(v['flush-stall-ms'], 'flush-stall-ms'),
      maxBacklog: int(v['flush-backlog'], 'flush-backlog'),
      packSpanMs: int(v['pack-ms'], 'pack-ms'),
    },
    imports: { workers: int(v['import-workers'], 'import-workers'), minOps: int(v['import-min-ops'], 'import-min-ops', 1) },
    snapshot: {
      everyOps: int(v['snapshot-ops'], 'snapshot-ops'),
      replayCostFactor: int(v['snapshot-cost'], 'snapshot-cost'),
      thin: keepSnapshots(v['keep-snapshots']),
      everyMs: snapMin === undefined ? undefined : snapMin * 60_000,
      retainOps: retain(v['retain-ops']),
    },
    limits: {
      maxFrameBytes: int(v['max-frame-bytes'], 'max-frame-bytes', 1024),
      maxUpdateBytes: int(v['max-update-bytes'], 'max-update-bytes', 1),
      maxRoomsPerConnection: int(v['max-rooms-per-connection'], 'max-rooms-per-connection', 1),
      maxConnectionsPerAddress: int(v['max-connections-per-address'], 'max-connections-per-address'),
      maxUpdatesPerSecond: int(v['max-updates-per-second'], 'max-updates-per-second'),
      maxBytesPerSecond: int(v['max-bytes-per-second'], 'max-bytes-per-second'),
      maxReadBytesPerSecond: int(v['max-read-bytes-per-second'], 'max-read-bytes-per-second'),
      maxReadBytesPerSecondPerAddress: int(v['max-read-bytes-per-second-per-address'], 'max-read-bytes-per-second-per-address'),
      maxDocBytes: int(v['max-doc-bytes'], 'max-doc-bytes'),
      maxTokenBytesPerSecond: int(v['max-token-bytes-per-second'], 'max-token-bytes-per-second'),
      maxJoinsPerSecond: int(v['max-joins-per-second'], 'max-joins-per-second'),
      maxJoinsPerSecondPerAddress: int(v['max-joins-per-second-per-address'], 'max-joins-per-second-per-address'),
      maxQueuedBytesPerConnection: int(v['max-queued-bytes'], 'max-queued-bytes'),
      maxFragmentBytesPerConnection: int(v['max-fragment-bytes-per-connection'], 'max-fragment-bytes-per-connection', 1),
      maxFragmentBytesTotal: int(v['max-fragment-bytes-total'], 'max-fragment-bytes-total', 1),
      joinDeadlineMs: int(v['join-deadline-ms'], 'join-deadline-ms'),
      pingIntervalMs: int(v['ping-interval-ms'], 'ping-interval-ms'),
      maxHttpConnectionsPerAddress: int(v['max-http-connections-per-address'], 'max-http-connections-per-address'),
      httpHeadersTimeoutMs: int(v['http-headers-timeout-ms'], 'http-headers-timeout-ms', 1),
      httpRequestTimeoutMs: int(v['http-request-timeout-ms'], 'http-request-timeout-ms', 1),
      maxNestingDepth: int(v['max-nesting-depth'], 'max-nesting-depth', 1),
    },
    secret: secretOf(v),
    tls: tlsOf(v),
    idleUnloadMs: int(v['idle-unload-ms'], 'idle-unload-ms'),
    remotePollMs: int(v['poll-ms'], 'poll-ms', 1),
    logLevel: level as LogLevel,
  } as ServerOptions);
  // Child processes (tests, the extension) read the URL from this line.
  process.stdout.write(JSON.stringify({ listening: server.url, http: server.httpUrl }) + '\n');
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    createLogger(level as LogLevel).info('shutting down', { signal: sig });
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function docRef(v: Values) {
  if (!v.doc) throw new UsageError('--doc <id> is required');
  const docId = validateDocId(v.doc);
  const branch = validateBranch(v.branch ?? DEFAULT_BRANCH);
  return parseRoomId(roomKey(docId, branch));
}

let httpAuth: { token?: string; ca?: Buffer } = {};

async function viaHttp(server: string, pathAndQuery: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<unknown> {
  const url = new URL(pathAndQuery, server);
  const headers: Record<string, string> = { ...(init.headers ?? {}), ...(httpAuth.token ? { authorization: `Bearer ${httpAuth.token}` } : {}) };
  // node:http(s) rather than fetch: fetch cannot be given a CA (--ca-file).
  const mod = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = mod.request(url, { method: init.method ?? 'GET', headers, ...(httpAuth.ca && url.protocol === 'https:' ? { ca: httpAuth.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: `HTTP ${status}` };
  }
  if (status < 200 || status >= 300) throw new Error(`server answered ${status}: ${(body as { error?: string }).error ?? ''}`);
  return body;
}

async function withStorage<T>(v: Values, fn: (s: ReturnType<typeof createStorage>) => Promise<T>): Promise<T> {
  const storage = createStorage(storageOptions(v));
  await storage.init();
  try {
    return await fn(storage);
  } finally {
    await storage.close();
  }
}

async function analytics(v: Values): Promise<void> {
  const docId = v.doc ? validateDocId(v.doc) : undefined;
  const branch = v.branch ? validateBranch(v.branch) : undefined;
  for (const k of ['from', 'to'] as const) if (v[k] && Number.isNaN(Date.parse(v[k]!))) throw new UsageError(`--${k} must be an ISO 8601 time`);
  let out: unknown;
  if (v.server) {
    const q = new URLSearchParams();
    if (branch) q.set('branch', branch);
    if (v.from) q.set('from', v.from);
    if (v.to) q.set('to', v.to);
    if (docId) out = await viaHttp(v.server, `/api/docs/${encodeURIComponent(docId)}/analytics?${q}`);
    else out = await viaHttp(v.server, `/api/analytics?${q}`);
  } else {
    out = await withStorage(v, (s) => s.analytics({ docId, branch, from: v.from, to: v.to }));
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

async function checkpoint(v: Values, compact: boolean): Promise<void> {
  const ref = docRef(v);
  const author = v.author ?? process.env.USER ?? 'cli';
  const retainOps = compact ? retain(v['retain-ops']) : null;
  if (compact && (retainOps === undefined || retainOps === null)) throw new UsageError('compact needs --retain-ops N (ops to keep before the snapshot)');
  let out: unknown;
  if (v.server && !compact) {
    out = await viaHttp(v.server, `/api/docs/${encodeURIComponent(ref.docId)}/checkpoint`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ branch: ref.branch, message: v.message, author }),
    });
  } else {
    if (v.server) throw new UsageError('compact runs against the database; stop the server or use --retain-ops on serve');
    out = await withStorage(v, (s) => checkpointOffline(s, ref, author, v.message ?? null, retainOps ?? null));
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

async function client(v: Values): Promise<number> {
  if (!v.url) throw new UsageError('client needs --url ws://HOST:PORT (several: comma separated)');
  if (!v.room) throw new UsageError('client needs --room <docId> or <docId>@<branch>');
  const urls = v.url.split(',').map((u) => u.trim()).filter(Boolean);
  for (const u of urls) if (!/^wss?:\/\/[^\s]+$/.test(u)) throw new UsageError(`--url: ${JSON.stringify(u)} is not a ws:// or wss:// URL`);
  parseRoomId(v.room); // clear error for a bad room id before connecting
  return runClient({
    urls,
    room: v.room,
    user: v.user ?? process.env.USER ?? 'cli',
    token: httpAuth.token,
    ca: httpAuth.ca,
    once: v.once ?? false,
    text: v.text ?? 't',
    timeoutMs: int(v['timeout-ms'], 'timeout-ms', 1) ?? 30_000,
  });
}

async function local(v: Values): Promise<number> {
  const level = v['log-level'] ?? 'info';
  if (!isLogLevel(level)) throw new UsageError(`--log-level must be debug, info, warn, error or silent`);
  return serveLocal({
    dir: v.dir ?? localServerDir(),
    version: v['version-tag'] ?? 'dev',
    idleExitMs: int(v['idle-exit-ms'], 'idle-exit-ms') ?? 600_000,
    logLevel: level,
  });
}

export async function main(argv: string[]): Promise<number> {
  // The git merge driver takes git's positional file names, nothing else.
  if (argv[0] === 'merge-file') return (await import('./mergeFile')).mergeFile(argv.slice(1));
  let parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`sqlroom-server: ${(err as Error).message}\nRun sqlroom-server --help for usage.\n`);
    return 2;
  }
  const v = parsed.values;
  const cmd = parsed.positionals[0] ?? 'serve';
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (parsed.positionals.length > 1) {
    process.stderr.write(`sqlroom-server: unexpected argument ${JSON.stringify(parsed.positionals[1])}\n`);
    return 2;
  }
  try {
    const tok = v.token ?? process.env.SQLROOM_TOKEN;
    let ca: Buffer | undefined;
    if (v['ca-file']) {
      try {
        ca = fs.readFileSync(v['ca-file']);
      } catch (err) {
        throw new UsageError(`cannot read --ca-file: ${(err as Error).message}`);
      }
    }
    httpAuth = { ...(tok ? { token: tok.trim() } : {}), ...(ca ? { ca } : {}) };
    switch (cmd) {
      case 'token':
        token(v);
        return 0;
      case 'serve':
        await serve(v);
        return -1; // keep running
      case 'analytics':
        await analytics(v);
        return 0;
      case 'checkpoint':
        await checkpoint(v, false);
        return 0;
      case 'compact':
        await checkpoint(v, true);
        return 0;
      case 'client':
        return await client(v);
      case 'local':
        return await local(v);
      default:
        process.stderr.write(`sqlroom-server: unknown command ${JSON.stringify(cmd)}; expected serve, local, analytics, checkpoint, compact, token or client\n`);
        return 2;
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`sqlroom-server: ${err instanceof StartupError || err instanceof UsageError || err instanceof StorageOpenError ? '' : 'error: '}${msg}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    // Exit only after stdout/stderr are drained (pipes are asynchronous).
    if (code >= 0) process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}
