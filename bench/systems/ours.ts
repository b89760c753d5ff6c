// Our sync server (server/index.ts startServer), DuckDB file or DuckLake.
// Loaded at run time so the bench compiles while server/ is being written.
import * as path from 'node:path';
import type { RunningSystem, SystemOptions } from './types';

interface OurHandle {
  url: string;
  httpUrl?: string;
  close(): Promise<void>;
  stats?(): unknown;
}
type StartServer = (opts: Record<string, unknown>) => Promise<OurHandle>;

export async function startOurs(kind: 'duckdb' | 'ducklake', o: SystemOptions): Promise<RunningSystem> {
  const modPath = path.join(__dirname, '..', '..', 'server', 'index');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(modPath) as { startServer?: StartServer };
  if (typeof mod.startServer !== 'function') throw new Error(`${modPath} has no startServer()`);
  const common = { host: '127.0.0.1', port: 0, logLevel: process.env.SQLROOM_BENCH_LOG ?? 'warn', maintenanceEveryMs: 0 };
  const opts =
    kind === 'duckdb'
      ? { ...common, db: path.join(o.dir, 'sqlroom.duckdb') }
      : {
          ...common,
          lake: `ducklake:${path.join(o.dir, 'catalog.ducklake')}`,
          dataPath: path.join(o.dir, 'lake-data'),
          extensionDir: o.extensionDir,
          extensionDirectory: o.extensionDir,
        };
  const h = await mod.startServer({ ...opts, ...o.serverOptions });
  return {
    url: h.url,
    dbWrites: async () => countWrites(h),
    stop: () => h.close(),
    backlog: async () => {
      const s = h.stats?.() as { walDepth?: number } | undefined;
      return typeof s?.walDepth === 'number' ? s.walDepth : NaN;
    },
  };
}

/** Flush transactions + snapshot writes, from stats() or else from /metrics. */
async function countWrites(h: OurHandle): Promise<number> {
  const s = h.stats?.();
  const fromStats = sumKeys(s, /^(flushes|snapshots)$/);
  if (fromStats !== undefined) return fromStats;
  if (!h.httpUrl) return NaN;
  const text = await (await fetch(`${h.httpUrl.replace(/\/$/, '')}/metrics`)).text();
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^(\w*(?:flushes|snapshots)_total)(?:\{[^}]*\})?\s+([\d.e+]+)$/.exec(line);
    if (m && !/fail/.test(m[1])) {
      total += Number(m[2]);
      found = true;
    }
  }
  return found ? total : NaN;
}

function sumKeys(v: unknown, re: RegExp, depth = 0): number | undefined {
  if (!v || typeof v !== 'object' || depth > 3) return undefined;
  let total: number | undefined;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (re.test(k) && typeof x === 'number') total = (total ?? 0) + x;
    else if (x && typeof x === 'object') {
      const sub = sumKeys(x, re, depth + 1);
      if (sub !== undefined) total = (total ?? 0) + sub;
    }
  }
  return total;
}
