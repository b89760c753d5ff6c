// GET /metrics (prom-client): the sqlroom_* metrics of each server apart from
// another server's in the same process, every histogram observed by real
// flushes, snapshots and WAL fsyncs, and Node's default process metrics.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { startServer, type RunningServer } from '../../server';
import { metric } from '../support/serverProcess';
import { rmDir, stockClient, tmpDir, waitFor, type StockClient } from '../support/serverHarness';

describe('server /metrics (prom-client)', function () {
  this.timeout(60_000);
  let dir: string;
  const servers: RunningServer[] = [];
  const clients: StockClient[] = [];

  beforeEach(() => {
    dir = tmpDir();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const s of servers.splice(0)) await s.close();
    rmDir(dir);
  });

  const start = async (name: string) => {
    const s = await startServer({ port: 0, db: path.join(dir, `${name}.duckdb`), logLevel: 'silent', flush: { maxDelayMs: 10 }, snapshot: { everyOps: 5, everyMs: 0 } });
    servers.push(s);
    return s;
  };

  it('two servers in one process keep their own values; each histogram is observed; Node default metrics are there', async () => {
    const busy = await start('busy');
    const idle = await start('idle');
    const a = await stockClient(busy.url, 'nb', undefined, 'alice');
    clients.push(a);
    for (let i = 0; i < 4; i++) {
      a.doc.getText('t').insert(0, `edit ${i} `);
      a.doc.commit();
    }
    await waitFor(() => busy.stats().snapshots >= 1 && busy.stats().bufferedOps === 0, 'a flush and a snapshot');
    const st = busy.stats();

    const res = await fetch(`${busy.httpUrl}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    // Every metric once: one HELP and one TYPE line per name.
    const helps = [...text.matchAll(/^# HELP (\S+) /gm)].map((m) => m[1]);
    assert.equal(new Set(helps).size, helps.length, 'no metric listed twice');
    assert.match(text, /^# TYPE sqlroom_flushes_total counter$/m);
    assert.match(text, /^# TYPE sqlroom_rooms gauge$/m);
    assert.match(text, /^# TYPE sqlroom_flush_duration_seconds histogram$/m);

    assert.equal(await metric(busy, 'sqlroom_clients'), 1);
    assert.equal(await metric(busy, 'sqlroom_rooms'), 1);
    // The server may flush or snapshot again between reading its stats and the scrape: a counter
    // lies between the counts before the scrape and after it.
    for (const [name, key] of [['sqlroom_ops_accepted_total', 'opsAccepted'], ['sqlroom_flushes_total', 'flushes'], ['sqlroom_snapshots_total', 'snapshots']] as const) {
      const value = await metric(busy, name);
      assert.ok(value >= st[key] && value <= busy.stats()[key], `${name} ${value} between ${st[key]} and ${busy.stats()[key]}`);
    }
    // Counters follow the server's counts across scrapes.
    a.doc.getText('t').insert(0, 'one more ');
    a.doc.commit();
    await waitFor(() => busy.stats().opsAccepted > st.opsAccepted, 'one more update accepted');
    assert.equal(await metric(busy, 'sqlroom_ops_accepted_total'), busy.stats().opsAccepted);

    // Every histogram has observations.
    assert.ok((await metric(busy, 'sqlroom_flush_duration_seconds_count')) >= 1, 'flush observed');
    assert.ok((await metric(busy, 'sqlroom_snapshot_duration_seconds_count')) >= 1, 'snapshot observed');
    assert.ok((await metric(busy, 'sqlroom_wal_fsync_duration_seconds_count')) >= 1, 'WAL fsync observed');
    assert.ok((await metric(busy, 'sqlroom_flush_duration_seconds_sum')) > 0);
    assert.match(text, /^sqlroom_flush_duration_seconds_bucket\{le="\+Inf"\} [1-9]/m);

    // The other server in this process saw none of it.
    assert.equal(await metric(idle, 'sqlroom_clients'), 0);
    assert.equal(await metric(idle, 'sqlroom_rooms'), 0);
    assert.equal(await metric(idle, 'sqlroom_ops_accepted_total'), 0);
    assert.equal(await metric(idle, 'sqlroom_flush_duration_seconds_count'), 0);
    assert.equal(await metric(idle, 'sqlroom_snapshot_duration_seconds_count'), 0);
    assert.equal(await metric(idle, 'sqlroom_wal_fsync_duration_seconds_count'), 0);

    // Node's default metrics, on both.
    for (const s of [busy, idle]) {
      const t = await (await fetch(`${s.httpUrl}/metrics`)).text();
      assert.match(t, /^process_cpu_user_seconds_total \d/m);
      assert.match(t, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
      assert.match(t, /^nodejs_heap_size_used_bytes \d/m);
    }
  });
});
