// The short soak run of the unit stage (bounded by operation count, not
// time): 40 clients in 12 rooms, 12000 joins/leaves/edits, 3 SIGKILLs of the
// server process, 2 windows with the database unwritable. The long run:
// `npm run soak -- --minutes 10` (test/soak/soak.ts).
import * as assert from 'node:assert/strict';
import { runSoak } from '../soak/soak';

describe('soak (short, bounded)', function () {
  this.timeout(300_000);

  it('40 clients, 12 rooms, 12000 operations, 3 kills, 2 database outages: clients == fresh recovery, nothing acked lost, memory back near baseline', async () => {
    const r = await runSoak({ clients: 40, rooms: 12, ops: 12000, kills: 3, outages: 2, seed: 20261125 });
    console.log(`      ${r.seconds.toFixed(0)} s, ${r.updatesSent} updates sent, ${r.updatesAcked} acked, ${r.joins} joins, ${r.leaves} leaves, ${r.kills} kills, ${r.outages} outages (${r.outageSeconds.toFixed(1)} s), ${r.rowsInDatabase} rows; RSS baseline ${r.memory.baselineMb.toFixed(0)} MB, peak ${r.memory.peakMb.toFixed(0)} MB, end ${r.memory.endMb.toFixed(0)} MB`);
    assert.deepEqual(r.problems, []);
    assert.equal(r.kills, 3);
    assert.equal(r.outages, 2);
    assert.ok(r.updatesAcked > 1000, `acked ${r.updatesAcked}`);
    // Generous: Loro's wasm memory does not shrink; a leak per room or client would.
    assert.ok(r.memory.endMb <= Math.max(3 * r.memory.baselineMb, r.memory.baselineMb + 200), `RSS after load ${r.memory.endMb} MB vs baseline ${r.memory.baselineMb} MB`);
  });
});
