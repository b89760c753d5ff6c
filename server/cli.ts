// sqlroom-server: run the sync server, or query / checkpoint / compact its database.
import { parseArgs } from 'node:util';
import { createStorage, startServer, StartupError, StorageOpenError } from './index';
import { createLogger, isLogLevel, type LogLevel } from './log';
import type { ServerOptions } from './options';
import { parseRoomId, validateBranch, validateDocId, roomKey, DEFAULT_BRANCH } from './protocol/roomId';
import { checkpointOffline } from './rooms/offline';

const HELP = `sqlroom-server — Loro sync server with DuckDB / DuckLake persistence

Usage:
  sqlroom-server [serve] [options]          run the server (default)
  sqlroom-server analytics [options]        edits per author, activity per minute, ops/bytes per doc+branch
  sqlroom-server checkpoint --doc ID [...]  write a snapshot (with --message / --author)
  sqlroom-server compact --doc ID --retain-ops N [...]
                                            snapshot, then delete ops up to last_op_id - N
  sqlroom-server --help

Storage (all commands):
  --db FILE              embedded DuckDB file (default ./sqlroom.duckdb)
  --lake CATALOG         DuckLake catalog, e.g. ducklake:./meta.ducklake or ducklake:sqlite:./meta.sqlite
  --data-path DIR        DuckLake data path (required with --lake)
  --extension-dir DIR    offline DuckDB extensions (<DIR>/v1.5.5/linux_amd64/ducklake.duckdb_extension);
                         fill it with scripts/install-duckdb-extensions.sh

serve:
  --host HOST            listen address (default 127.0.0.1)
  --port N               port for ws:// and http:// (default 8787; 0 = any free port)
  --wal-dir DIR          write-ahead file directory (default <db>.wal.d or <data-path>.wal.d)
  --flush-ops N          flush a room's buffer at N updates (default 200)
  --flush-bytes N        ... or N bytes (default 524288)
  --flush-ms N           ... or when the oldest buffered update is N ms old (default 300)
  --snapshot-ops N       snapshot after N stored updates (default 1000, 0 = off)
  --snapshot-minutes M   snapshot after M minutes with activity (default 10, 0 = off)
  --retain-ops N|all     after a snapshot delete ops up to last_op_id - N (default all = keep every op)
  --idle-unload-ms N     unload rooms N ms after the last client left (default 30000)
  --log-level L          debug | info | warn | error | silent (default info); logs are JSON lines on stderr

analytics:   [--doc ID] [--branch B] [--from ISO] [--to ISO] [--server http://HOST:PORT]
checkpoint:  --doc ID [--branch B] [--message TEXT] [--author NAME] [--server http://HOST:PORT]
compact:     --doc ID [--branch B] --retain-ops N [--author NAME]

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
  'flush-ops': { type: 'string' },
  'flush-bytes': { type: 'string' },
  'flush-ms': { type: 'string' },
  'snapshot-ops': { type: 'string' },
  'snapshot-minutes': { type: 'string' },
  'retain-ops': { type: 'string' },
  'idle-unload-ms': { type: 'string' },
  'log-level': { type: 'string' },
  doc: { type: 'string' },
  branch: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  message: { type: 'string' },
  author: { type: 'string' },
  server: { type: 'string' },
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
  return { db: v.db, lake: v.lake, dataPath: v['data-path'], extensionDir: v['extension-dir'] };
}

function retain(v: string | undefined): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === 'all') return null;
  return int(v, 'retain-ops');
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
    flush: { maxOps: int(v['flush-ops'], 'flush-ops', 1), maxBytes: int(v['flush-bytes'], 'flush-bytes', 1), maxDelayMs: int(v['flush-ms'], 'flush-ms') },
    snapshot: { everyOps: int(v['snapshot-ops'], 'snapshot-ops'), everyMs: snapMin === undefined ? undefined : snapMin * 60_000, retainOps: retain(v['retain-ops']) },
    idleUnloadMs: int(v['idle-unload-ms'], 'idle-unload-ms'),
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

async function viaHttp(server: string, pathAndQuery: string, init?: RequestInit): Promise<unknown> {
  const res = await fetch(new URL(pathAndQuery, server), init);
  const body: unknown = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(`server answered ${res.status}: ${(body as { error?: string }).error ?? ''}`);
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

export async function main(argv: string[]): Promise<number> {
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
    switch (cmd) {
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
      default:
        process.stderr.write(`sqlroom-server: unknown command ${JSON.stringify(cmd)}; expected serve, analytics, checkpoint or compact\n`);
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
