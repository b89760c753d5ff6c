// The write-ahead file on a real full disk (a small tmpfs filled up): short
// writes, ENOSPC, space coming back, SIGKILL and restart. Nothing acked may be
// lost, and records written after a torn one must survive too.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { UpdateStatusCode } from 'loro-protocol';
import { SmallDisk, requireMounts } from '../support/diskFaults';
import { AckWriter, joinedRaw, joinerVersion } from '../support/faultWriter';
import { spawnServer, type ChildServer } from '../support/serverProcess';
import { rmDir, tmpDir, waitFor } from '../support/serverHarness';
import { EXT_DIR } from '../support/scaleoutCluster';
import { existsSync } from 'node:fs';

const DUCKLAKE_BIN = path.join(EXT_DIR, 'v1.5.5/linux_amd64/ducklake.duckdb_extension');

async function healthOf(srv: ChildServer): Promise<{ status: string; walDepth: number; lastFlushError: string | null }> {
  return (await (await fetch(`${srv.httpUrl}/healthz`)).json()) as never;
}

// Flushes deferred: acked updates live only in the WAL until the restart.
const NO_FLUSH = ['--flush-ms', '600000', '--flush-ops', '100000', '--flush-bytes', '100000000'];

describe('write-ahead file on a full disk (tmpfs)', function () {
  this.timeout(300_000); // the DuckLake full-disk case takes 70-100 s on a loaded 2-core machine (a 10 s shutdown flush, three starts)
  before(function () {
    requireMounts(this);
  });

  it('short write / ENOSPC: never acked when not wholly written; records after a torn one survive SIGKILL + restart', async () => {
    const dir = tmpDir();
    const disk = SmallDisk.mount(2 * 1024 * 1024);
    const db = path.join(dir, 'db.duckdb');
    const walDir = disk.sub('wal');
    let srv: ChildServer | null = null;
    try {
      srv = await spawnServer(['--db', db, '--wal-dir', walDir, '--log-level', 'info', ...NO_FLUSH]);
      const w = new AckWriter('full', 901n);
      let raw = await joinedRaw(srv.url, 'full');
      for (let i = 0; i < 3; i++) assert.equal((await w.send(raw, 8000)).status, UpdateStatusCode.Ok, 'acked with space left');
      // A few KB left: the next ~8 KB record is written only in part (or not at all).
      disk.fill(6000);
      for (let i = 0; i < 4; i++) await w.send(raw, 8000);
      // Space comes back: later updates are acked again.
      disk.unfill();
      const refused = w.refused();
      await w.resendRefused(raw);
      for (let i = 0; i < 3; i++) await w.send(raw, 8000);
      assert.ok(refused > 0, 'the full disk refused some updates');
      assert.equal(w.sent.at(-1)!.status, UpdateStatusCode.Ok, `acked once space is back; stderr: ${srv.stderr().slice(-1500)}`);
      raw.close();
      assert.equal(await srv.kill('SIGKILL'), null);
      srv = await spawnServer(['--db', db, '--wal-dir', walDir, '--log-level', 'info', ...NO_FLUSH]);
      const seen = await joinerVersion(srv.url, 'full', 901n);
      assert.ok(seen >= w.ackedEnd(), `statuses ${w.sent.map((s) => s.status).join(",")}; stderr ${srv.stderr().slice(-3000)}; a fresh joiner after the restart has every acked update: sees ${seen}, acked up to ${w.ackedEnd()} (${w.acked()} acked, ${w.refused()} refused)`);
      raw = await joinedRaw(srv.url, 'full');
      raw.close();
    } finally {
      if (srv) await srv.kill('SIGKILL');
      disk.unmount();
      rmDir(dir);
    }
  });

  it('graceful stop with DuckLake and the WAL on one full disk keeps every acked WAL-only update; the restart (disk still full) replays them; space back: stored', async function () {
    requireMounts(this, [existsSync(DUCKLAKE_BIN) ? null : `ducklake extension missing (${DUCKLAKE_BIN}): scripts/install-duckdb-extensions.sh`]);
    const disk = SmallDisk.mount(24 * 1024 * 1024);
    const lake = ['--lake', `ducklake:${path.join(disk.dir, 'catalog.ducklake')}`, '--data-path', disk.sub('data'), '--extension-dir', EXT_DIR, '--wal-dir', disk.sub('wal')];
    let srv: ChildServer | null = null;
    try {
      srv = await spawnServer([...lake, ...NO_FLUSH], 60_000);
      const w = new AckWriter('lakefull', 902n);
      const raw = await joinedRaw(srv.url, 'lakefull');
      for (let i = 0; i < 10; i++) assert.equal((await w.send(raw, 2000)).status, UpdateStatusCode.Ok);
      raw.close();
      // The disk fills up (nothing left for the database, the WAL or a new segment); then a graceful stop.
      disk.fill(0);
      assert.equal(await srv.kill('SIGTERM'), 0, `graceful exit; stderr: ${srv.stderr().slice(-1500)}`);
      assert.match(srv.stderr(), /shutdown flush incomplete/);
      srv = null;
      // Restart with the disk still full: no write is needed to keep the acked updates.
      srv = await spawnServer([...lake, '--flush-ms', '50'], 60_000);
      assert.equal(await joinerVersion(srv.url, 'lakefull', 902n), w.ackedEnd(), `every acked update after the restart; stderr: ${srv.stderr().slice(-1500)}`);
      await waitFor(async () => (await healthOf(srv!)).status === 'degraded', '/healthz degraded while the disk is full', 30_000);
      // Space comes back: the replayed updates reach the database and the WAL drains.
      disk.unfill();
      await waitFor(async () => { const h = await healthOf(srv!); return h.status === 'ok' && h.walDepth === 0; }, 'caught up once space is back', 60_000);
      assert.equal(await srv.kill('SIGTERM'), 0);
      srv = await spawnServer(lake, 60_000);
      assert.equal(await joinerVersion(srv.url, 'lakefull', 902n), w.ackedEnd(), 'every acked update in DuckLake');
    } finally {
      if (srv) await srv.kill('SIGKILL');
      disk.unmount();
    }
  });
});
