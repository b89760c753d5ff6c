// The database held by another real process: a node child opening the same
// DuckDB file read-write (DuckDB's file lock). At start the server waits for
// the lock (warn log naming the holder's PID, /healthz 503 "starting" with
// waitingFor), then replays the WAL: nothing acked is lost. Past --lock-wait it
// exits with a precise error. While the server runs, the server holds the lock:
// another process cannot take it and the server goes on.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { UpdateStatusCode } from 'loro-protocol';
import { AckWriter, joinedRaw, joinerVersion } from '../support/faultWriter';
import { holdDatabaseLock, type LockHolder } from '../support/dbLockHolder';
import { freePort } from '../support/freePort';
import { runCli, spawnServer, type ChildServer } from '../support/serverProcess';
import { rmDir, tmpDir, waitFor } from '../support/serverHarness';
import { EXT_DIR } from '../support/scaleoutCluster';

const SQLITE_EXT = path.join(EXT_DIR, 'v1.5.5/linux_amd64/sqlite_scanner.duckdb_extension');
const DUCKLAKE_EXT = path.join(EXT_DIR, 'v1.5.5/linux_amd64/ducklake.duckdb_extension');

/** A python3 process holding `BEGIN EXCLUSIVE` on a SQLite file until release(). */
async function holdSqliteExclusive(file: string): Promise<{ release: () => Promise<void> }> {
  const code = "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\nsys.stdin.read()\nc.execute('COMMIT')";
  const py = spawn('python3', ['-c', code, file], { stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    py.stdout.once('data', () => resolve());
    py.once('exit', (c) => reject(new Error(`python3 exited with ${c} before taking the lock`)));
  });
  py.removeAllListeners('exit');
  return {
    release: () =>
      new Promise<void>((resolve) => {
        if (py.exitCode !== null || py.signalCode !== null) return resolve();
        py.once('exit', () => resolve());
        py.stdin.end();
      }),
  };
}

const NO_FLUSH = ['--flush-ms', '600000', '--flush-ops', '100000', '--flush-bytes', '100000000'];

async function healthAt(httpUrl: string): Promise<{ code: number; body: { status?: string; waitingFor?: string; walDepth?: number } } | null> {
  try {
    const res = await fetch(`${httpUrl}/healthz`);
    return { code: res.status, body: (await res.json()) as never };
  } catch {
    return null; // not listening yet
  }
}

describe('database locked by another real process', function () {
  this.timeout(300_000);
  let dir: string;
  let srv: ChildServer | null = null;
  let holder: LockHolder | null = null;
  beforeEach(() => (dir = tmpDir()));
  afterEach(async () => {
    await holder?.release();
    holder = null;
    if (srv) await srv.kill('SIGKILL');
    srv = null;
    rmDir(dir);
  });

  it('start while another process holds the database for 20 s: waits (warn log with its PID, /healthz 503 starting + waitingFor), then starts and has every acked update', async () => {
    const db = path.join(dir, 'db.duckdb');
    const walDir = path.join(dir, 'wal');
    // Acked updates that live only in the WAL (flushes deferred), then a crash.
    srv = await spawnServer(['--db', db, '--wal-dir', walDir, ...NO_FLUSH], 60_000);
    const w = new AckWriter('locked', 1301n);
    let raw = await joinedRaw(srv.url, w.roomId);
    await w.sendMany(raw, 10, 500);
    assert.equal(w.refused(), 0);
    raw.close();
    assert.equal(await srv.kill('SIGKILL'), null);
    srv = null;

    holder = holdDatabaseLock(db);
    const { holding } = await holder.result;
    assert.ok(holding, 'the other process holds the database');
    const lockedAt = Date.now();
    const port = await freePort();
    const httpUrl = `http://127.0.0.1:${port}`;
    const starting = spawnServer(['--db', db, '--wal-dir', walDir, '--port', String(port), '--lock-wait', '240'], 280_000);
    starting.catch(() => undefined);
    await waitFor(async () => {
      const h = await healthAt(httpUrl);
      return h !== null && h.code === 503 && h.body.status === 'starting' && new RegExp(`PID ${holding}\\b`).test(h.body.waitingFor ?? '');
    }, '/healthz 503 starting, waitingFor naming the lock holder', 60_000);
    // The fault lasts 20 s (not a check).
    await new Promise((r) => setTimeout(r, Math.max(0, 20_000 - (Date.now() - lockedAt))));
    assert.equal((await healthAt(httpUrl))?.body.status, 'starting', 'still waiting while the lock is held');
    await holder.release();
    srv = await starting;
    assert.match(srv.stderr(), new RegExp(`"level":"warn","msg":"the database is locked by another process; waiting[^\\n]*PID ${holding}\\b`));
    assert.match(srv.stderr(), /the database lock was released; starting/);
    assert.equal(await joinerVersion(srv.url, w.roomId, w.peer), w.ackedEnd(), 'every acked update after the lock was released');
    raw = await joinedRaw(srv.url, w.roomId);
    assert.equal((await w.send(raw, 500)).status, UpdateStatusCode.Ok);
    raw.close();
    await waitFor(async () => {
      const h = await healthAt(srv!.httpUrl);
      return h?.body.status === 'ok' && h.body.walDepth === 0;
    }, 'caught up: the replayed updates in the database', 60_000);
  });

  it('the lock is not released within --lock-wait: exits 1 with the holder, how long it waited and what to do', async () => {
    const db = path.join(dir, 'db.duckdb');
    holder = holdDatabaseLock(db);
    const { holding } = await holder.result;
    assert.ok(holding);
    const r = await runCli(['serve', '--port', '0', '--db', db, '--lock-wait', '1'], 120_000);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`is locked by another process \\([^\\n]*PID ${holding}\\b`));
    assert.match(r.stderr, /Stop the other process/);
    assert.match(r.stderr, /Waited \d+ s for the lock \(--lock-wait 1\)/);
  });

  it('while the server runs it holds the lock: another process cannot take the database (told the server\'s PID), and the server goes on storing', async () => {
    const db = path.join(dir, 'db.duckdb');
    srv = await spawnServer(['--db', db, '--wal-dir', path.join(dir, 'wal'), '--flush-ms', '20'], 60_000);
    const w = new AckWriter('held', 1302n);
    const raw = await joinedRaw(srv.url, w.roomId);
    await w.sendMany(raw, 5, 500);
    holder = holdDatabaseLock(db);
    const r = await holder.result;
    assert.equal(r.holding, undefined, 'the other process did not get the database');
    assert.match(r.error ?? '', new RegExp(`lock[^\\n]*PID ${srv.proc.pid}\\b`));
    await w.sendMany(raw, 5, 500);
    assert.equal(w.refused(), 0);
    await waitFor(async () => {
      const h = await healthAt(srv!.httpUrl);
      return h?.body.status === 'ok' && h.body.walDepth === 0;
    }, 'every update stored', 60_000);
    raw.close();
    assert.equal(await joinerVersion(srv.url, w.roomId, w.peer), w.ackedEnd());
  });

  it('DuckLake on a SQLite catalog held by another process (BEGIN EXCLUSIVE) for 20 s while the server runs: acks go on, degraded with the cause, caught up after, nothing acked lost', async function () {
    const missing = spawnSync('python3', ['-c', 'import sqlite3'], { stdio: 'ignore' }).status !== 0 ? 'python3 with sqlite3' : !existsSync(SQLITE_EXT) || !existsSync(DUCKLAKE_EXT) ? `ducklake / sqlite_scanner extensions in ${EXT_DIR}` : null;
    if (missing) {
      if (process.env.CI === 'true') assert.fail(`needs ${missing}`);
      console.log(`      (skipped: needs ${missing})`);
      this.skip();
    }
    const catalog = path.join(dir, 'meta.sqlite');
    const args = ['--lake', `ducklake:sqlite:${catalog}`, '--data-path', path.join(dir, 'data'), '--extension-dir', EXT_DIR, '--wal-dir', path.join(dir, 'wal'), '--flush-ms', '50', '--flush-stall-ms', '1500', '--log-level', 'info'];
    srv = await spawnServer(args, 120_000);
    const w = new AckWriter('sqlite-locked', 1401n);
    const raw = await joinedRaw(srv.url, w.roomId);
    await w.sendMany(raw, 5, 300);
    await waitFor(async () => (await healthAt(srv!.httpUrl))?.body.walDepth === 0, 'stored before the lock', 60_000);
    const sqlite = await holdSqliteExclusive(catalog);
    try {
      const lockedAt = Date.now();
      // Clients keep writing for the 20 s the catalog is held.
      while (Date.now() - lockedAt < 20_000) {
        await w.sendMany(raw, 2, 300);
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(w.refused(), 0, 'every update acked from the WAL while the catalog is locked');
      const h = await healthAt(srv.httpUrl);
      assert.equal(h?.body.status, 'degraded');
      assert.ok((h?.body.walDepth ?? 0) > 0);
      assert.match(srv.stderr(), /"level":"warn","msg":"(flush failed[^\n]*database is locked|flush stalled)/);
    } finally {
      await sqlite.release();
    }
    await waitFor(async () => {
      const h = await healthAt(srv!.httpUrl);
      return h?.body.status === 'ok' && h.body.walDepth === 0;
    }, 'caught up once the catalog is released', 120_000);
    raw.close();
    assert.equal(await srv.kill('SIGTERM'), 0);
    srv = await spawnServer([...args.slice(0, 6), '--wal-dir', path.join(dir, 'wal-empty')], 120_000);
    assert.equal(await joinerVersion(srv.url, w.roomId, w.peer), w.ackedEnd(), 'the lake holds every acked update');
  });
});
