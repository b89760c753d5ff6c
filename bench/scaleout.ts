// Scale-out benchmark: the same trace against 1, 2 and 3 sqlroom-server
// processes sharing one DuckLake (PostgreSQL catalog started here, shared
// data path), clients spread round-robin over the processes. Prints
// throughput, ack latency and cross-process relay latency side by side, with
// ratios against one process, and where the time goes (server CPU, PostgreSQL
// CPU, catalog commits and conflicts).
//   node out/bench/scaleout.js [--quick] [--processes 1,2,3] [--flush-ms N] [--poll-ms N]
// Run by `npm run bench` (bench/run.ts) unless --no-scaleout.
import { readFileSync, readdirSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { findPgBin, startPostgres, type PgCluster } from '../test/support/postgres';
import { spawnServer, type ChildServer } from '../test/support/serverProcess';
import { rmDir, tmpDir } from '../test/support/serverHarness';
import { runLoad, type LoadResult, type RoomPlan } from './load';
import { LoroBenchClient } from './loroClient';
import { buildLoroTrace } from './loroTrace';
import { fmt, table } from './stats';
import { makeScripts, type TraceConfig } from './trace';

const repo = path.resolve(__dirname, '..', '..');
const CLK_TCK = 100;

function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** CPU seconds of the PostgreSQL cluster: the postmaster and its children (backends, writers). */
function pgCpu(pg: PgCluster): number {
  let master: number;
  try {
    master = Number(readFileSync(path.join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return NaN;
  }
  let total = cpuOf(master);
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Exited backends add their time to the postmaster's cutime/cstime (fields 14/15).
      if (Number(f[1]) === master) total += cpuOf(Number(p));
    } catch {
      /* gone */
    }
  }
  const stat = readFileSync(`/proc/${master}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return total + (Number(f[13]) + Number(f[14])) / CLK_TCK;
}

async function metric(s: ChildServer, name: string): Promise<number> {
  const text = await (await fetch(`${s.httpUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

interface Result {
  processes: number;
  load?: LoadResult;
  flushes: number;
  flushMs: number;
  conflicts: number;
  serverCpu: number;
  pgCpu: number;
  error?: string;
}

async function runOne(pg: PgCluster, n: number, rooms: RoomPlan[], extDir: string, extra: string[], quick: boolean): Promise<Result> {
  const res: Result = { processes: n, flushes: NaN, flushMs: NaN, conflicts: NaN, serverCpu: NaN, pgCpu: NaN };
  const dir = tmpDir(`sqlroom-bench-scaleout-${n}-`);
  const data = path.join(dir, 'data');
  mkdirSync(data);
  const lake = pg.createDatabase(`bench_${n}_${process.pid}`);
  const servers: ChildServer[] = [];
  const args = (i: number) => ['--lake', lake, '--data-path', data, '--extension-dir', extDir, '--wal-dir', path.join(dir, `wal-${i}`), '--log-level', 'error', '--snapshot-ops', '0', ...extra];
  try {
    servers.push(await spawnServer(args(0), 60_000));
    for (let i = 1; i < n; i++) servers.push(await spawnServer(args(i), 60_000));
    const cpu0 = servers.reduce((s, x) => s + cpuOf(x.proc.pid!), 0);
    const pg0 = pgCpu(pg);
    res.load = await runLoad(rooms, {
      pacedKeys: quick ? 20 : 40,
      pacedIntervalMs: 100,
      window: 16,
      phaseTimeoutMs: 180_000,
      // Client i of a room talks to process i mod n; client 0 (the observer) to process 0.
      makeClient: (roomId, i) => new LoroBenchClient(servers[i % n].url, roomId, `bench-${i}`),
      // Relay: with several processes only senders on another process than the observer (cross-process).
      relayFrom: (_r, i) => n === 1 || i % n !== 0,
      dbWrites: async () => {
        let t = 0;
        for (const s of servers) t += await metric(s, 'sqlroom_flushes_total');
        return t;
      },
    });
    res.serverCpu = servers.reduce((s, x) => s + cpuOf(x.proc.pid!), 0) - cpu0;
    res.pgCpu = pgCpu(pg) - pg0;
    res.flushes = 0;
    res.conflicts = 0;
    let flushSeconds = 0;
    for (const s of servers) {
      flushSeconds += await metric(s, 'sqlroom_flush_duration_seconds_sum');
      res.flushes += await metric(s, 'sqlroom_flushes_total');
      res.conflicts += await metric(s, 'sqlroom_commit_conflicts_total');
    }
    res.flushMs = (flushSeconds * 1000) / res.flushes;
  } catch (e) {
    res.error = e instanceof Error ? e.message.split('\n')[0] : String(e);
  } finally {
    for (const s of servers) await s.kill('SIGTERM');
    rmDir(dir);
  }
  return res;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      processes: { type: 'string', default: '1,2,3' },
      'flush-ms': { type: 'string' },
      'poll-ms': { type: 'string' },
      seed: { type: 'string', default: '7' },
    },
  });
  const quick = values.quick ?? false;
  const say = (s = '') => console.log(s);
  say('## Scale-out: 1, 2, 3 server processes on one DuckLake (PostgreSQL catalog, shared data path)');
  if (!findPgBin()) {
    say('skipped: PostgreSQL server binaries not found (install the Debian package `postgresql`)');
    return;
  }
  const extDir = process.env.SQLROOM_EXTENSION_DIR ?? path.join(repo, '.sqlroom-tools', 'duckdb-extensions');
  const cfg: TraceConfig = { seed: Number(values.seed), rooms: quick ? 2 : 4, clientsPerRoom: quick ? 3 : 6, keystrokes: quick ? 80 : 200 };
  const extra: string[] = [];
  if (values['flush-ms']) extra.push('--flush-ms', values['flush-ms']);
  if (values['poll-ms']) extra.push('--poll-ms', values['poll-ms']);
  const rooms: RoomPlan[] = buildLoroTrace(cfg, makeScripts(cfg)).map((r) => ({
    roomId: r.roomId,
    base: r.base,
    clients: r.clients.map((c) => ({ peerKey: c.peer, updates: c.updates, ends: c.ends })),
  }));
  const counts = values.processes!.split(',').map(Number);
  say(
    `trace: ${cfg.rooms} rooms x ${cfg.clientsPerRoom} clients x ${cfg.keystrokes} keystrokes (client i -> process i mod N); ` +
      `server flush ${values['flush-ms'] ?? '300 (default)'} ms (rooms several processes write: 50), tail poll ${values['poll-ms'] ?? '50 (default)'} ms; ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`,
  );
  const pg = await startPostgres('bench');
  const results: Result[] = [];
  try {
    for (const n of counts) {
      const t0 = performance.now();
      const r = await runOne(pg, n, rooms, extDir, extra, quick);
      results.push(r);
      say(
        r.error
          ? `${n} process(es): FAILED: ${r.error}`
          : `${n} process(es): ${r.load!.updates} updates, ${fmt(r.load!.updatesPerSec, 0)} upd/s saturated, ${r.flushes} flushes, ${r.conflicts} commit conflicts retried (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
  } finally {
    pg.stop();
  }
  const base = results[0];
  type Row = [string, (r: Result) => number, (v: number) => string];
  const per1k = (r: Result, v: number) => (v * 1e6) / (r.load?.updates ?? NaN);
  const rows: Row[] = [
    ['updates/s sustained (saturated)', (r) => r.load?.updatesPerSec ?? NaN, (v) => fmt(v, 0)],
    ['ack p50 ms (paced)', (r) => r.load?.pacedAck.p50 ?? NaN, (v) => fmt(v, 1)],
    ['ack p99 ms (paced)', (r) => r.load?.pacedAck.p99 ?? NaN, (v) => fmt(v, 1)],
    ['relay p50 ms (paced; N>1: cross-process)', (r) => r.load?.pacedRelay.p50 ?? NaN, (v) => fmt(v, 1)],
    ['relay p99 ms (paced; N>1: cross-process)', (r) => r.load?.pacedRelay.p99 ?? NaN, (v) => fmt(v, 1)],
    ['ack p99 ms (saturated)', (r) => r.load?.satAck.p99 ?? NaN, (v) => fmt(v, 1)],
    ['flush commits (all processes)', (r) => r.flushes, (v) => fmt(v, 0)],
    ['flush transaction ms (mean, incl. retries)', (r) => r.flushMs, (v) => fmt(v, 0)],
    ['commit conflicts retried', (r) => r.conflicts, (v) => fmt(v, 0)],
    ['server CPU ms per 1k updates (sum)', (r) => per1k(r, r.serverCpu), (v) => fmt(v, 0)],
    ['PostgreSQL CPU ms per 1k updates', (r) => per1k(r, r.pgCpu), (v) => fmt(v, 0)],
    ['bench clients CPU % (saturated)', (r) => r.load?.clientCpuPct ?? NaN, (v) => fmt(v, 0)],
  ];
  const header = ['metric', ...results.map((r) => `${r.processes} process${r.processes > 1 ? 'es' : ''}`)];
  const body = rows.map(([label, get, show]) => [
    label,
    ...results.map((r, i) => {
      if (r.error || !r.load) return 'failed';
      const v = get(r);
      const b = base && !base.error ? get(base) : NaN;
      return `${show(v)}${i > 0 && Number.isFinite(v) && Number.isFinite(b) && b !== 0 ? ` (${(v / b).toFixed(2)}x)` : ''}`;
    }),
  ]);
  say();
  say(table(header, body));
  say('(x) = value / 1 process. relay: send -> visible at client 0 of the room (on process 0); with N>1 only senders on');
  say('other processes count, so the figure is flush delay + DuckLake commit + the other process\'s tail poll + relay.');
  say(`relay samples: ${results.map((r) => `${r.processes}: ${r.load?.pacedRelay.n ?? 0}`).join(', ')}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
