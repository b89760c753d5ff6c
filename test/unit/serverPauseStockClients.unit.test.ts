// SIGSTOP / SIGCONT of a real server process (the CLI) under load from stock
// loro-websocket clients (acks read off the wire). The clients keep typing
// through the pause and after it; the pause is logged and counted in
// /metrics; then a SIGKILL: right after the restart, before any client
// resends, every update acked Ok is in its room; once the clients are back
// and converged, a fresh recovery from the database equals them and ops_log
// holds every op once, with no hole.
import * as assert from 'node:assert/strict';
import { Rng } from '../soak/rng';
import { freePort } from '../support/freePort';
import { inspectInChild, recoveredDoc } from '../support/inspectDb';
import { waitFor } from '../support/serverHarness';
import { CliServerRun, metric } from '../support/serverProcess';
import { Typist, roomVersion, within } from '../support/stockTypist';

describe('SIGSTOP / SIGCONT under load from stock clients', function () {
  this.timeout(300_000);

  it('acks resume after SIGCONT; the pause is logged and counted; after a SIGKILL every acked update is there before any resend; recovery equals the clients, each op once', async () => {
    const run = new CliServerRun();
    const port = await freePort();
    const args = run.args(undefined, ['--port', String(port), '--snapshot-ops', '60']);
    const rooms = ['paused-a', 'paused-b'];
    const typists: Typist[] = [];
    try {
      let srv = await run.start(args, 60_000);
      for (let i = 0; i < 4; i++) {
        const t = new Typist(srv.url, rooms[i % rooms.length], BigInt(31_000 + i));
        await t.join();
        typists.push(t);
      }
      const rng = new Rng(20261129);
      for (const t of typists) t.start(rng);
      await waitFor(() => typists.every((t) => t.ackedUpdates >= 20), 'every client has acks before the pause', 60_000);

      srv.proc.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 4000)); // the length of the fault, not a check
      const atCont = typists.map((t) => t.ackedUpdates);
      srv.proc.kill('SIGCONT');
      await waitFor(() => typists.every((t, i) => t.ackedUpdates >= atCont[i] + 20), 'acks resume after SIGCONT while the clients keep typing', 120_000);
      await waitFor(() => /"level":"warn","msg":"the server process stood still[^\n]*"pausedMs":\d+/.test(srv.stderr()), 'a warn line about the pause', 30_000);
      assert.ok((await metric(srv, 'sqlroom_process_pauses_total')) >= 1, 'the pause counted in /metrics');
      for (const t of typists) assert.deepEqual(t.closes, [], `client ${t.doc.peerIdStr} kept its connection through the pause`);

      // Stop: SIGKILL under load, restart; before any client resends, every acked update is in its room.
      assert.equal(await run.kill('SIGKILL'), null);
      for (const t of typists) t.stop();
      srv = await run.start(args, 120_000);
      let checked = 0;
      for (const roomId of rooms) {
        const vv = await roomVersion(srv.url, roomId);
        for (const t of typists.filter((x) => x.roomId === roomId)) {
          for (const [peer, end] of t.acked) assert.ok((vv.get(peer as `${number}`) ?? 0) >= end, `${roomId}: peer ${peer} acked up to ${end} to client ${t.doc.peerIdStr}, the room has ${vv.get(peer as `${number}`) ?? 0}`);
          checked += t.ackedUpdates;
        }
        vv.free();
      }
      assert.ok(checked > 0);

      // The clients come back and send what the server lacks (the unacked tail); everyone converges.
      await Promise.all(typists.map((t) => within(t.reconnect(), 60_000, 'reconnect')));
      for (const roomId of rooms) {
        const mine = typists.filter((t) => t.roomId === roomId);
        await waitFor(async () => {
          const vv = await roomVersion(srv.url, roomId);
          const same = mine.every((t) => t.doc.oplogVersion().compare(vv) === 0);
          vv.free();
          return same;
        }, `clients of ${roomId} and the room converge`, 120_000);
      }
      for (const t of typists) assert.deepEqual(t.problems, []);
      for (const t of typists) t.close();
      await run.stop();

      const seen = await inspectInChild(run.db, rooms, 120_000);
      assert.deepEqual(seen.problems, [], 'ops_log: no op twice, no hole');
      for (const roomId of rooms) {
        const doc = recoveredDoc(seen, roomId);
        for (const t of typists.filter((x) => x.roomId === roomId)) assert.equal(t.doc.oplogVersion().compare(doc.oplogVersion()), 0, `${roomId}: recovery from the database equals client ${t.doc.peerIdStr}`);
        doc.free();
      }
    } finally {
      for (const t of typists) t.close();
      await run.dispose();
    }
  });
});
