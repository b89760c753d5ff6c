// A SIGKILL right after an automatic snapshot, while updates accepted into
// the write-ahead file are not yet in the database: the snapshot must cover
// only what the log holds, so that the WAL replay after the restart writes
// the rows of those updates. Otherwise they are in the snapshot but in no
// ops_log row: history, analytics and a replay of the log miss them.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { LoroDoc } from 'loro-crdt';
import { MessageType, UpdateStatusCode } from 'loro-protocol';
import { inspectInChild } from '../support/inspectDb';
import { spawnServer, type ChildServer } from '../support/serverProcess';
import { RawClient, rmDir, tmpDir, waitFor } from '../support/serverHarness';

describe('SIGKILL right after an automatic snapshot', function () {
  this.timeout(180_000);

  it('the WAL replay writes a row for every update the snapshot covers but the log lacked; no hole, no op twice, nothing acked lost', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'db.duckdb');
    const walDir = path.join(dir, 'wal');
    // Flush at 20 buffered updates (never by age), snapshot after every 20 stored.
    const args = ['--db', db, '--wal-dir', walDir, '--flush-ops', '20', '--flush-ms', '600000', '--snapshot-ops', '20', '--snapshot-minutes', '0', '--log-level', 'info'];
    const writer = new LoroDoc();
    writer.setPeerId(7n);
    let srv: ChildServer | null = null;
    try {
      for (let round = 0; round < 3; round++) {
        srv = await spawnServer(args, 30_000);
        const raw = await RawClient.connect(srv.url);
        raw.join('snap');
        await raw.next(MessageType.JoinResponseOk);
        // One message of 30 updates: the server accepts them one after the
        // other, so the flush at 20 (and the snapshot after it) runs while
        // the next ones are accepted into the WAL.
        const updates: Uint8Array[] = [];
        for (let i = 0; i < 30; i++) {
          const before = writer.oplogVersion();
          writer.getText('t').insert(writer.getText('t').length, `r${round}u${i} `);
          writer.commit();
          updates.push(writer.export({ mode: 'update', from: before }));
        }
        const snapshots = (srv.stderr().match(/snapshot written/g) ?? []).length;
        const ack = await raw.ackFor(raw.update('snap', updates), 30_000);
        assert.equal(ack.status, UpdateStatusCode.Ok);
        await waitFor(() => (srv!.stderr().match(/snapshot written/g) ?? []).length > snapshots, 'an automatic snapshot', 30_000);
        raw.close();
        await srv.kill('SIGKILL');
        srv = null;
      }
      // A last start replays the WAL; a graceful stop writes everything.
      srv = await spawnServer(args, 30_000);
      const check = await RawClient.connect(srv.url); // the server is up and serving (and has set up its signal handlers)
      check.join('snap');
      await check.next(MessageType.JoinResponseOk, undefined, 30_000);
      check.close();
      assert.equal(await srv.kill('SIGTERM'), 0, `graceful exit; stderr: ${srv.stderr().slice(-500)}`);
      srv = null;
      const seen = await inspectInChild(db, ['snap']);
      assert.deepEqual(seen.problems, []);
      const recovered = new LoroDoc();
      recovered.import(Buffer.from(seen.states.snap, 'base64'));
      assert.equal(recovered.getText('t').toString(), writer.getText('t').toString(), 'every acked update recovered');
    } finally {
      if (srv) await srv.kill('SIGKILL');
      rmDir(dir);
    }
  });
});
