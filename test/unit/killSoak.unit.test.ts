// The short, bounded run of test/soak/killSoak.ts: SIGKILLs at random moments
// under load from stock loro-websocket clients, on DuckDB and DuckLake, each
// checked by a fresh joiner before any client resends. The long run:
// `npm run soak:kills -- --kills 100` (figures in docs/guarantees.md).
import * as assert from 'node:assert/strict';
import { DEFAULT_EXTENSION_DIR, hasDuckLake, runKillSoak, type Backend } from '../soak/killSoak';

describe('SIGKILLs under load from stock clients (short, bounded)', function () {
  this.timeout(600_000);

  it('DuckDB and DuckLake, 3 kills each: every acked update is in its room right after each restart (before any resend); clients converge; recovery equals the clients; no op twice, no hole', async function () {
    const backends: Backend[] = ['duckdb'];
    if (hasDuckLake(DEFAULT_EXTENSION_DIR)) backends.push('ducklake');
    else if (process.env.CI === 'true') assert.fail(`DuckLake extension missing in ${DEFAULT_EXTENSION_DIR} (scripts/install-duckdb-extensions.sh)`);
    else console.log(`      (DuckLake part skipped: no extension in ${DEFAULT_EXTENSION_DIR}; run scripts/install-duckdb-extensions.sh)`);
    const r = await runKillSoak({ kills: 3 * backends.length, backends, clients: 6, rooms: 2, seed: 20261129, extensionDir: DEFAULT_EXTENSION_DIR });
    console.log(`      ${r.seconds.toFixed(0)} s, kills ${JSON.stringify(r.kills)}, ${r.updatesAcked} updates acked, ${r.checkedAfterKills} acked updates checked after kills`);
    assert.deepEqual(r.problems, []);
    assert.equal(r.kills.duckdb, 3);
    assert.ok(r.updatesAcked > 50, `acked ${r.updatesAcked}`);
  });
});
