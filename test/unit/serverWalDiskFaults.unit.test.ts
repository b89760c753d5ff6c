// The write-ahead file on a real full disk (a small tmpfs filled up): short
// writes, ENOSPC, space coming back, SIGKILL and restart. Nothing acked may be
// lost, and records written after a torn one must survive too.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { UpdateStatusCode } from 'loro-protocol';
import { SmallDisk, requireMounts } from '../support/diskFaults';
import { AckWriter, joinedRaw, joinerVersion } from '../support/faultWriter';
import { spawnServer, type ChildServer } from '../support/serverProcess';
import { rmDir, tmpDir } from '../support/serverHarness';

// Flushes deferred: acked updates live only in the WAL until the restart.
const NO_FLUSH = ['--flush-ms', '600000', '--flush-ops', '100000', '--flush-bytes', '100000000'];

describe('write-ahead file on a full disk (tmpfs)', function () {
  this.timeout(120_000);
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
});
