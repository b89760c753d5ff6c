// The database file (not the WAL) on a real full disk: the DuckDB file on a
// small tmpfs that fills up while clients write, the WAL elsewhere. Every
// update keeps being acked from the WAL, the server keeps serving, the failed
// flushes show in the log (warn), /healthz and /metrics; once space is back
// the backlog reaches the database and ops_log holds every acked op once.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { UpdateStatusCode } from 'loro-protocol';
import { SmallDisk, requireMounts } from '../support/diskFaults';
import { AckWriter, joinedRaw, joinerVersion } from '../support/faultWriter';
import { inspectInChild, recoveredDoc } from '../support/inspectDb';
import { CliServerRun, metric, type ChildServer } from '../support/serverProcess';
import { waitFor } from '../support/serverHarness';
import { EXT_DIR } from '../support/scaleoutCluster';

const DUCKLAKE_BIN = path.join(EXT_DIR, 'v1.5.5/linux_amd64/ducklake.duckdb_extension');

interface Health {
  status: string;
  walDepth: number;
  lastFlushError: string | null;
}
async function health(s: ChildServer): Promise<Health> {
  return (await (await fetch(`${s.httpUrl}/healthz`)).json()) as Health;
}

describe('database file on a full disk (tmpfs), the WAL elsewhere', function () {
  this.timeout(300_000);

  /**
   * Clients write while the disk under the database fills up; then space comes
   * back. `store`: the storage arguments (files under `disk`). Resolves with
   * the writers once the server has drained its WAL and stopped.
   */
  async function fillWhileWriting(disk: SmallDisk, run: CliServerRun, store: string[], startMs: number): Promise<{ writers: AckWriter[] }> {
    const rooms = ['dbfull-a', 'dbfull-b'];
    const srv = await run.start(run.args(store), startMs);
    const writers = rooms.map((r, i) => new AckWriter(r, 1101n + BigInt(i)));
    const raws = await Promise.all(rooms.map((r) => joinedRaw(srv.url, r)));
    // Some updates stored while the disk has room.
    await Promise.all(writers.map((w, i) => w.sendMany(raws[i], 10, 2000)));
    await waitFor(async () => (await health(srv)).walDepth === 0, 'the first updates flushed', 60_000);
    const failuresBefore = await metric(srv, 'sqlroom_flush_failures_total');

    // The disk fills up while the clients keep writing.
    const during = Promise.all(writers.map((w, i) => w.sendMany(raws[i], 40, 2000)));
    disk.fill(0);
    await during;
    for (const w of writers) assert.equal(w.refused(), 0, `every update acked from the WAL while the database's disk is full; statuses ${w.sent.map((s) => s.status).join(',')}`);
    await waitFor(async () => (await health(srv)).status === 'degraded', '/healthz degraded while the database cannot be written', 60_000);
    const h = await health(srv);
    assert.ok(h.walDepth > 0, 'the acked updates wait in the WAL');
    assert.match(h.lastFlushError ?? '', /space|disk|write/i, `lastFlushError names the cause: ${h.lastFlushError}`);
    assert.equal(await metric(srv, 'sqlroom_degraded'), 1);
    assert.ok((await metric(srv, 'sqlroom_flush_failures_total')) > failuresBefore, 'failed flushes counted');
    await waitFor(() => /"level":"warn","msg":"flush failed[^\n]*No space left on device/.test(srv.stderr()), 'a warn line about the failed flush, with the cause', 30_000);

    // Still serving: more acks, and a fresh joiner (a new connection) has everything acked so far.
    for (const [i, w] of writers.entries()) assert.equal((await w.send(raws[i], 500)).status, UpdateStatusCode.Ok);
    for (const w of writers) assert.equal(await joinerVersion(srv.url, w.roomId, w.peer), w.ackedEnd(), 'a fresh joiner has every acked update while the disk is full');

    // Space comes back: the backlog reaches the database and the WAL drains.
    disk.unfill();
    await waitFor(async () => {
      const x = await health(srv);
      return x.status === 'ok' && x.walDepth === 0;
    }, `/healthz ok and the WAL drained once space is back; stderr: ${srv.stderr().slice(-1500)}`, 120_000);
    assert.equal(await metric(srv, 'sqlroom_degraded'), 0);
    for (const [i, w] of writers.entries()) await w.sendMany(raws[i], 5, 500);
    for (const w of writers) assert.equal(w.refused(), 0);
    for (const r of raws) r.close();
    await run.stop();
    return { writers };
  }

  it('DuckDB file: acks go on from the WAL while flushes fail; warn log, /healthz degraded, /metrics count them; space back: the backlog flushes and ops_log holds every acked op once', async function () {
    requireMounts(this);
    const run = new CliServerRun();
    const disk = SmallDisk.mount(8 * 1024 * 1024);
    const db = path.join(disk.sub('db'), 'db.duckdb');
    try {
      const { writers } = await fillWhileWriting(disk, run, ['--db', db], 60_000);
      // A fresh recovery from the database alone (the WAL drained): every acked op, each in one row, no hole.
      const seen = await inspectInChild(db, writers.map((w) => w.roomId), 120_000);
      assert.deepEqual(seen.problems, []);
      for (const w of writers) {
        const doc = recoveredDoc(seen, w.roomId);
        assert.equal(doc.oplogVersion().get(String(w.peer) as `${number}`) ?? 0, w.ackedEnd(), `${w.roomId}: the database holds every acked update`);
        doc.free();
      }
    } finally {
      await run.dispose();
      disk.unmount();
    }
  });

  it('DuckLake data path (encrypted: every flush writes a Parquet file) on the full disk, catalog and WAL elsewhere: the same, and a fresh server reads every acked update from the lake', async function () {
    requireMounts(this, [existsSync(DUCKLAKE_BIN) ? null : `ducklake extension missing (${DUCKLAKE_BIN}): scripts/install-duckdb-extensions.sh`]);
    const run = new CliServerRun();
    const disk = SmallDisk.mount(8 * 1024 * 1024);
    const lake = ['--lake', `ducklake:${path.join(run.dir, 'catalog.ducklake')}`, '--data-path', disk.sub('data'), '--encrypt', '--extension-dir', EXT_DIR];
    try {
      const { writers } = await fillWhileWriting(disk, run, lake, 120_000);
      // A fresh server on the lake with an empty WAL directory: what the lake holds, nothing from the WAL.
      const srv = await run.start([...lake, '--wal-dir', path.join(run.dir, 'wal-empty')], 120_000);
      for (const w of writers) assert.equal(await joinerVersion(srv.url, w.roomId, w.peer), w.ackedEnd(), `${w.roomId}: the lake holds every acked update`);
    } finally {
      await run.dispose();
      disk.unmount();
    }
  });

  it('SIGKILL while the database disk is full, restart on the still-full disk: serves every acked update from the WAL (degraded); space back: stored once', async function () {
    requireMounts(this);
    const run = new CliServerRun();
    const disk = SmallDisk.mount(8 * 1024 * 1024);
    const db = path.join(disk.sub('db'), 'db.duckdb');
    const args = run.args(['--db', db]);
    try {
      let srv = await run.start(args, 60_000);
      const w = new AckWriter('dbfull-kill', 1201n);
      let raw = await joinedRaw(srv.url, w.roomId);
      await w.sendMany(raw, 10, 2000);
      await waitFor(async () => (await health(srv)).walDepth === 0, 'the first updates flushed', 60_000);
      disk.fill(0);
      await w.sendMany(raw, 20, 2000);
      assert.equal(w.refused(), 0);
      await waitFor(async () => (await health(srv)).status === 'degraded', '/healthz degraded', 60_000);
      raw.close();
      assert.equal(await run.kill('SIGKILL'), null);
      // The disk is still full: the start must not need to write the database.
      srv = await run.start(args, 120_000);
      assert.equal(await joinerVersion(srv.url, w.roomId, w.peer), w.ackedEnd(), `every acked update after the restart on a full disk; stderr: ${srv.stderr().slice(-1500)}`);
      await waitFor(async () => (await health(srv)).status === 'degraded', '/healthz degraded after the restart', 60_000);
      // It listened after one failed flush of the replayed updates, not after retrying them (clients refused meanwhile).
      const beforeListening = srv.stderr().split('sqlroom sync server listening')[0];
      assert.equal(beforeListening.match(/flush failed/g)?.length ?? 0, 1, `one flush attempt before listening: ${beforeListening.slice(-1500)}`);
      raw = await joinedRaw(srv.url, w.roomId);
      assert.equal((await w.send(raw, 500)).status, UpdateStatusCode.Ok, 'acks go on after the restart');
      disk.unfill();
      await waitFor(async () => {
        const x = await health(srv);
        return x.status === 'ok' && x.walDepth === 0;
      }, 'caught up once space is back', 120_000);
      raw.close();
      await run.stop();
      const seen = await inspectInChild(db, [w.roomId], 120_000);
      assert.deepEqual(seen.problems, []);
      const doc = recoveredDoc(seen, w.roomId);
      assert.equal(doc.oplogVersion().get(String(w.peer) as `${number}`) ?? 0, w.ackedEnd(), 'the database holds every acked update');
      doc.free();
    } finally {
      await run.dispose();
      disk.unmount();
    }
  });
});
