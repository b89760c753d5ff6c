// Monitoring of real storage faults: a database whose file system is frozen
// (fsfreeze on a loop-mounted ext4) stalls its flushes; /healthz and /metrics
// must say so within flush.stallMs while updates keep being acked from the
// WAL, and recover once it thaws. A torn last WAL record is reported at warn
// level and in /metrics.
import * as assert from 'node:assert/strict';
import { appendFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { UpdateStatusCode } from 'loro-protocol';
import { startServer, type RunningServer } from '../../server';
import { createLogger } from '../../server/log';
import { FreezableDisk, requireMounts } from '../support/diskFaults';
import { AckWriter, joinedRaw, joinerVersion } from '../support/faultWriter';
import { metric, spawnServer, type ChildServer } from '../support/serverProcess';
import { rmDir, tmpDir, waitFor } from '../support/serverHarness';

async function health(s: { httpUrl: string }): Promise<{ status: string; lastFlushError: string | null; walFull: boolean; walTornBytes: number }> {
  return (await (await fetch(`${s.httpUrl}/healthz`)).json()) as never;
}

describe('stalled database and torn WAL: monitoring', function () {
  this.timeout(180_000);

  it('database file system frozen (fsfreeze): degraded within flush.stallMs, acks go on from the WAL, ok again after thaw, nothing acked lost', async function () {
    requireMounts(this);
    const dir = tmpDir();
    const disk = FreezableDisk.mount(64);
    const lines: string[] = [];
    let server: RunningServer | null = null;
    try {
      server = await startServer({
        port: 0,
        db: path.join(disk.dir, 'db.duckdb'),
        walDir: path.join(dir, 'wal'),
        logger: createLogger('info', (l) => lines.push(l)),
        flush: { maxDelayMs: 20, stallMs: 1500, retryInitialMs: 50, retryMaxMs: 500 },
      });
      const w = new AckWriter('frozen', 301n);
      const raw = await joinedRaw(server.url, 'frozen');
      assert.equal((await w.send(raw, 200)).status, UpdateStatusCode.Ok);
      await server.flush();
      disk.freeze();
      for (let i = 0; i < 5; i++) assert.equal((await w.send(raw, 200)).status, UpdateStatusCode.Ok, 'acked from the WAL while the database is frozen');
      await waitFor(async () => (await health(server!)).status === 'degraded', '/healthz degraded while frozen', 60_000);
      assert.match((await health(server)).lastFlushError ?? '', /stalled/);
      assert.equal(await metric(server, 'sqlroom_degraded'), 1);
      assert.ok((await metric(server, 'sqlroom_flush_in_progress_seconds')) > 0);
      await waitFor(() => lines.some((l) => l.includes('"level":"warn"') && l.includes('flush stalled')), 'a warn line about the stall');
      disk.thaw();
      await waitFor(async () => (await health(server!)).status === 'ok' && server!.stats().walDepth === 0, '/healthz ok and the WAL drained after thaw', 60_000);
      assert.equal(await metric(server, 'sqlroom_degraded'), 0);
      assert.ok((await metric(server, 'sqlroom_flush_stalls_total')) >= 1);
      raw.close();
      await server.close();
      server = null;
      server = await startServer({ port: 0, db: path.join(disk.dir, 'db.duckdb'), walDir: path.join(dir, 'wal'), logLevel: 'silent' });
      assert.equal(await joinerVersion(server.url, 'frozen', 301n), w.ackedEnd(), 'every acked update in the database');
    } finally {
      disk.thaw();
      if (server) await server.close();
      disk.unmount();
      rmDir(dir);
    }
  });

  it('a torn last WAL record (SIGKILL mid-write): the whole records replay; warn line with the byte count; /healthz and /metrics show it', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'db.duckdb');
    const walDir = path.join(dir, 'wal');
    let srv: ChildServer | null = null;
    try {
      srv = await spawnServer(['--db', db, '--wal-dir', walDir, '--flush-ms', '600000', '--flush-ops', '100000']);
      const w = new AckWriter('torn', 302n);
      const raw = await joinedRaw(srv.url, 'torn');
      for (let i = 0; i < 4; i++) assert.equal((await w.send(raw, 500)).status, UpdateStatusCode.Ok);
      raw.close();
      await srv.kill('SIGKILL');
      // The start of a record whose write the kill cut short.
      const seg = readdirSync(walDir).filter((n) => n.endsWith('.log')).sort().at(-1)!;
      const torn = Buffer.concat([Buffer.from([0x53, 0x51, 0x57, 0x32]), Buffer.from([0xe8, 0x03, 0, 0]), Buffer.alloc(300, 7)]);
      appendFileSync(path.join(walDir, seg), torn);
      srv = await spawnServer(['--db', db, '--wal-dir', walDir]);
      assert.equal(await joinerVersion(srv.url, 'torn', 302n), w.ackedEnd(), 'every acked update replayed');
      assert.match(srv.stderr(), new RegExp(`"level":"warn","msg":"write-ahead log had torn records[^\\n]*"tornBytes":${torn.length}`));
      assert.equal((await health(srv)).walTornBytes, torn.length);
      assert.equal(await metric(srv, 'sqlroom_wal_torn_bytes'), torn.length);
    } finally {
      if (srv) await srv.kill('SIGKILL');
      rmDir(dir);
    }
  });

  it('SIGSTOP / SIGCONT of the server under load: acks arrive after SIGCONT, nothing acked lost after a SIGKILL, the pause is logged (warn) and counted in /metrics', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'db.duckdb');
    let srv: ChildServer | null = null;
    try {
      srv = await spawnServer(['--db', db, '--flush-ms', '20']);
      const w = new AckWriter('paused', 303n);
      const raw = await joinedRaw(srv.url, 'paused');
      await w.sendMany(raw, 20, 300);
      const during = w.sendMany(raw, 50, 300); // in flight while the server is stopped
      srv.proc.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 4000)); // the length of the fault, not a check
      srv.proc.kill('SIGCONT');
      await during;
      assert.equal(w.refused(), 0, 'every update acked once the server runs again');
      await waitFor(() => /"level":"warn","msg":"the server process stood still[^\n]*"pausedMs":\d+/.test(srv!.stderr()), 'a warn line about the pause', 30_000);
      assert.ok((await metric(srv, 'sqlroom_process_pauses_total')) >= 1);
      assert.equal((await health(srv)).status, 'ok');
      raw.close();
      assert.equal(await srv.kill('SIGKILL'), null);
      srv = await spawnServer(['--db', db]);
      assert.equal(await joinerVersion(srv.url, 'paused', 303n), w.ackedEnd(), 'every acked update after SIGKILL + restart');
    } finally {
      if (srv) {
        srv.proc.kill('SIGCONT');
        await srv.kill('SIGKILL');
      }
      rmDir(dir);
    }
  });
});
