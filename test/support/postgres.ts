// A throwaway PostgreSQL cluster for the scale-out tests and benchmark: the
// DuckLake catalog several server processes share.
//   - finds initdb / pg_ctl under /usr/lib/postgresql/<version>/bin (or
//     SQLROOM_PG_BIN);
//   - initdb into a temp dir (as the `postgres` OS user when we are root,
//     because initdb refuses to run as root), trust auth, no fsync;
//   - starts it on 127.0.0.1 on a free port, unix sockets in the temp dir;
//   - creates a database; stop() = `pg_ctl stop -m fast` on that data dir
//     (pg_ctl signals the PID in the cluster's own postmaster.pid), then
//     removes the dir.
// When the binaries are missing, `postgresUnavailable()` gives the reason:
// tests skip locally, and fail when CI=true.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './freePort';

export interface PgCluster {
  host: string;
  port: number;
  dbname: string;
  user: string;
  dir: string;
  /** libpq connection string (`dbname=… host=… port=… user=…`). */
  conninfo: string;
  /** `ducklake:postgres:<conninfo>` for --lake. */
  lakeUri: string;
  /** Another database in the same cluster; returns its `ducklake:postgres:` URI. */
  createDatabase(name: string): string;
  stop(): void;
}

export function findPgBin(): string | null {
  const fromEnv = process.env.SQLROOM_PG_BIN;
  if (fromEnv) return existsSync(path.join(fromEnv, 'initdb')) ? fromEnv : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')) && existsSync(path.join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0], 'bin') : null;
}

/** null when a cluster can be started here; otherwise why not. */
export function postgresUnavailable(): string | null {
  const bin = findPgBin();
  if (!bin) return 'PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin; install the Debian package `postgresql` (the CI script does) or set SQLROOM_PG_BIN';
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root but there is no `postgres` OS user to run initdb as';
  return null;
}

/**
 * Call in a suite's before(): skips the suite (this.skip()) with the reason
 * when PostgreSQL is missing, but throws when CI=true (CI must run it).
 */
export function requirePostgres(ctx: Mocha.Context, extra: (string | null)[] = []): void {
  const reason = postgresUnavailable() ?? extra.find((r) => r) ?? null;
  if (!reason) return;
  if (process.env.CI === 'true') throw new Error(`scale-out tests need PostgreSQL and DuckDB extensions in CI: ${reason}`);
  // eslint-disable-next-line no-console
  console.log(`      (skipped: ${reason})`);
  ctx.skip();
}

export async function startPostgres(dbname = 'sqlroom'): Promise<PgCluster> {
  const bin = findPgBin();
  if (!bin) throw new Error(postgresUnavailable()!);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sqlroom-pg-'));
  const asRoot = process.getuid?.() === 0;
  let uid = -1;
  if (asRoot) {
    uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  // initdb refuses root: run the server tools as `postgres` then.
  const run = (tool: string, args: string[], timeout = 60_000) => {
    const cmd = asRoot ? 'runuser' : path.join(bin, tool);
    const argv = asRoot ? ['-u', 'postgres', '--', path.join(bin, tool), ...args] : args;
    const r = spawnSync(cmd, argv, { timeout, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout || r.error?.message}`);
    return r.stdout;
  };
  const data = path.join(dir, 'data');
  const stop = () => {
    if (existsSync(path.join(data, 'postmaster.pid'))) {
      try {
        run('pg_ctl', ['-D', data, 'stop', '-m', 'fast', '-w'], 30_000);
      } catch {
        /* already stopped */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
    let port = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      port = await freePort();
      try {
        // fsync off: a test cluster; the catalog's durability is PostgreSQL's job in production.
        run('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=200`, 'start']);
        break;
      } catch (err) {
        if (attempt === 4) throw err;
      }
    }
    run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', dbname]);
    const conninfo = `dbname=${dbname} host=127.0.0.1 port=${port} user=postgres`;
    const createDatabase = (name: string) => {
      run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name]);
      return `ducklake:postgres:dbname=${name} host=127.0.0.1 port=${port} user=postgres`;
    };
    return { host: '127.0.0.1', port, dbname, user: 'postgres', dir, conninfo, lakeUri: `ducklake:postgres:${conninfo}`, createDatabase, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
