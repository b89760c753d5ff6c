// `npm run bench [-- --quick] [--systems a,b] [--keystrokes N] [--rooms R]
//  [--clients C] [--seed S] [--window W] [--interval MS] [--repeat N] [--no-recovery]
//  [--recovery-sizes 10000,100000] [--no-scaleout] [--no-history] [--no-real] [--real-only]
//  [--real-limit N] [--save]`
// Runs the same edit trace against each system (each server in its own
// child process, clients here, all on 127.0.0.1), prints one table with
// ratios against "ours (DuckDB)", then the real editing trace (bench/realTrace.ts),
// the scale-out benchmark (1/2/3
// processes on DuckLake + PostgreSQL, bench/scaleout.ts) and the recovery benchmark.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ServerChild } from './child';
import { runLoad, type BenchClient, type LoadResult, type RoomPlan } from './load';
import { LoroBenchClient } from './loroClient';
import { buildLoroTrace } from './loroTrace';
import { fmt, fmtBytes, table } from './stats';
import { SIMPLE_SAVE_INTERVAL_MS, SYSTEMS, type SystemName } from './systems/types';
import { makeScripts, type TraceConfig } from './trace';
import { peers, type YjsClient } from './peers';

const LABEL: Record<SystemName, string> = {
  'ours-duckdb': 'ours (DuckDB)',
  'ours-ducklake': 'ours (DuckLake)',
  'loro-simple': 'loro SimpleServer+DuckDB',
  hocuspocus: 'Hocuspocus+SQLite',
};

interface SystemResult {
  name: SystemName;
  load?: LoadResult;
  dbWritesTotal: number;
  bytesOnDisk: number;
  peakRss: number;
  /** Server CPU seconds over the load (connect to last ack). */
  serverCpu: number;
  error?: string;
}

const repo = path.resolve(__dirname, '..', '..');
const out: string[] = [];
const log = (s = '') => {
  out.push(s);
  console.log(s);
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      systems: { type: 'string' },
      keystrokes: { type: 'string' },
      rooms: { type: 'string' },
      clients: { type: 'string' },
      seed: { type: 'string', default: '42' },
      window: { type: 'string' },
      interval: { type: 'string' },
      repeat: { type: 'string' },
      'no-recovery': { type: 'boolean', default: false },
      'no-scaleout': { type: 'boolean', default: false },
      'no-history': { type: 'boolean', default: false },
      'no-real': { type: 'boolean', default: false },
      'real-only': { type: 'boolean', default: false },
      'real-limit': { type: 'string' },
      'recovery-sizes': { type: 'string' },
      save: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick ?? false;
  const cfg: TraceConfig = {
    seed: Number(values.seed),
    rooms: Number(values.rooms ?? (quick ? 2 : 4)),
    clientsPerRoom: Number(values.clients ?? (quick ? 4 : 8)),
    keystrokes: Number(values.keystrokes ?? (quick ? 150 : 400)),
  };
  const pacedKeys = Math.min(40, Math.floor(cfg.keystrokes / 2));
  // 10 keystrokes/s per client: a fast typist; 32 clients -> 320 updates/s.
  const pacedIntervalMs = Number(values.interval ?? 100);
  const window = Number(values.window ?? 64);
  const repeat = Math.max(1, Number(values.repeat ?? (quick ? 1 : 3)));
  const systems = (values.systems?.split(',') ?? SYSTEMS) as SystemName[];
  for (const s of systems) if (!SYSTEMS.includes(s)) throw new Error(`unknown system ${s}; known: ${SYSTEMS.join(', ')}`);
  const extensionDir = process.env.SQLROOM_EXTENSION_DIR ?? path.join(repo, '.sqlroom-tools', 'duckdb-extensions');

  // The real editing trace (same systems): keystrokes of the automerge-paper trace, 20k in a quick run.
  const realArgs = [
    ...(values['real-limit'] ? ['--limit', values['real-limit']] : quick ? ['--quick'] : []),
    ...(values.systems ? ['--systems', values.systems] : []),
  ];
  if (values['real-only']) {
    await runScript('realTrace.js', realArgs, ['--max-old-space-size=8192']);
    save(values.save ?? false);
    return;
  }

  log(`# SQLRoom sync benchmark — ${new Date().toISOString()}`);
  log(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
      `load average at start ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (shared machine)`,
  );
  log(
    `trace: seed ${cfg.seed}, ${cfg.rooms} rooms x ${cfg.clientsPerRoom} clients x ${cfg.keystrokes} keystrokes ` +
      `= ${cfg.rooms * cfg.clientsPerRoom * cfg.keystrokes} updates (+1 base per room); ` +
      `paced phase: first ${pacedKeys} keystrokes/client every ${pacedIntervalMs} ms; saturated phase: rest, window ${window} unacked/client`,
  );

  const t0 = performance.now();
  const scripts = makeScripts(cfg);
  const loroRooms: RoomPlan[] = buildLoroTrace(cfg, scripts).map((r) => ({
    roomId: r.roomId,
    base: r.base,
    clients: r.clients.map((c) => ({ peerKey: c.peer, updates: c.updates, ends: c.ends })),
  }));
  const yjsRooms: RoomPlan[] = systems.includes('hocuspocus')
    ? peers().buildYjsTrace(cfg, scripts).map((r) => ({
        roomId: r.roomId,
        base: r.base,
        clients: r.clients.map((c) => ({ peerKey: String(c.clientId), updates: c.updates, ends: c.ends })),
      }))
    : [];
  const avg = (rooms: RoomPlan[]) => {
    const u = rooms.flatMap((r) => r.clients.flatMap((c) => c.updates));
    return u.reduce((s, x) => s + x.length, 0) / Math.max(1, u.length);
  };
  log(
    `trace built in ${((performance.now() - t0) / 1000).toFixed(1)} s; mean update size: Loro ${avg(loroRooms).toFixed(0)} B` +
      (yjsRooms.length ? `, Yjs ${avg(yjsRooms).toFixed(0)} B` : ''),
  );
  log();

  // Repetitions go round-robin over the systems, so a burst of load from
  // others on this shared machine does not hit one system only; the table
  // shows the median of the repetitions.
  const results: SystemResult[][] = systems.map(() => []);
  for (let rep = 0; rep < repeat; rep++) {
    if (repeat > 1) log(`run ${rep + 1}/${repeat}:`);
    for (const [i, name] of systems.entries()) {
      results[i].push(await runSystem(name, name === 'hocuspocus' ? yjsRooms : loroRooms, extensionDir, pacedKeys, pacedIntervalMs, window));
    }
  }
  log();
  if (repeat > 1) log(`Median of ${repeat} runs per system:`);
  printTable(results);
  log();
  printNotes();

  if (!values['no-real']) {
    log();
    await runScript('realTrace.js', realArgs, ['--max-old-space-size=8192']);
  }
  if (!values['no-scaleout']) {
    log();
    await runScript('scaleout.js', quick ? ['--quick'] : []);
  }
  if (!values['no-recovery']) {
    log();
    const sizes = values['recovery-sizes'] ?? (quick ? '10000,100000' : '10000,100000,1000000');
    await runRecovery(sizes);
  }
  if (!values['no-history']) {
    log();
    await runScript('historyTrace.js', quick ? ['--limit', '60000'] : [], ['--max-old-space-size=8192']);
  }
  save(values.save ?? false);
}

function save(enabled: boolean): void {
  if (!enabled) return;
  const file = path.join(repo, 'bench', 'RESULTS.md');
  writeFileSync(file, ['# Benchmark results (last full run)', '', '```', ...out, '```', ''].join('\n'));
  console.log(`\nsaved to ${file}`);
}

async function runSystem(
  name: SystemName,
  rooms: RoomPlan[],
  extensionDir: string,
  pacedKeys: number,
  pacedIntervalMs: number,
  window: number,
): Promise<SystemResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `sqlroom-bench-${name}-`));
  const child = new ServerChild();
  const res: SystemResult = { name, dbWritesTotal: NaN, bytesOnDisk: NaN, peakRss: NaN, serverCpu: NaN };
  const started = performance.now();
  try {
    await child.start(name, dir, extensionDir);
    const isYjs = name === 'hocuspocus';
    const cpu0 = child.cpuSeconds();
    res.load = await runLoad(rooms, {
      pacedKeys,
      pacedIntervalMs,
      window,
      phaseTimeoutMs: 180_000,
      makeClient: (roomId, i, plan): BenchClient =>
        isYjs ? new (peers().YjsBenchClient)(child.url, roomId, Number(plan.peerKey)) : new LoroBenchClient(child.url, roomId, `bench-${i}`),
      afterBase: isYjs
        ? async (_room, clients) => {
            await Promise.all(clients.map((c) => (c as YjsClient).waitForCells(_room.clients.length)));
          }
        : undefined,
      dbWrites: () => child.writes(),
    });
    res.serverCpu = child.cpuSeconds() - cpu0;
    res.peakRss = child.peakRss();
    res.dbWritesTotal = await child.stop();
    res.bytesOnDisk = duBytes(dir);
    const l = res.load;
    log(
      `${LABEL[name]}: ${l.updates} updates, ${fmt(l.updatesPerSec, 0)} upd/s saturated over ${l.satSeconds.toFixed(1)} s, ` +
        `${res.dbWritesTotal} DB txns, ${fmtBytes(res.bytesOnDisk)} on disk, peak RSS ${fmtBytes(res.peakRss)}` +
        (l.failedAcks ? `, ${l.failedAcks} FAILED acks` : '') +
        ` (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  } catch (e) {
    res.error = e instanceof Error ? e.message.split('\n')[0] : String(e);
    log(`${LABEL[name]}: FAILED: ${res.error}`);
    child.kill();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return res;
}

function duBytes(dir: string): number {
  try {
    return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return NaN;
  }
}

function printTable(results: SystemResult[][]): void {
  type Row = { label: string; get: (r: SystemResult) => number; show: (v: number) => string };
  const perOp = (r: SystemResult) => r.bytesOnDisk / (r.load?.updates ?? NaN);
  const txnPerSec = (r: SystemResult) => r.dbWritesTotal / (r.load?.runSeconds ?? NaN);
  const rows: Row[] = [
    { label: 'updates/s sustained (saturated)', get: (r) => r.load?.updatesPerSec ?? NaN, show: (v) => fmt(v, 0) },
    { label: 'ack p50 ms (paced)', get: (r) => r.load?.pacedAck.p50 ?? NaN, show: (v) => fmt(v, 1) },
    { label: 'ack p99 ms (paced)', get: (r) => r.load?.pacedAck.p99 ?? NaN, show: (v) => fmt(v, 1) },
    { label: 'relay p50 ms (paced)', get: (r) => r.load?.pacedRelay.p50 ?? NaN, show: (v) => fmt(v, 1) },
    { label: 'relay p99 ms (paced)', get: (r) => r.load?.pacedRelay.p99 ?? NaN, show: (v) => fmt(v, 1) },
    { label: 'ack p50 ms (saturated)', get: (r) => r.load?.satAck.p50 ?? NaN, show: (v) => fmt(v, 1) },
    { label: 'ack p99 ms (saturated)', get: (r) => r.load?.satAck.p99 ?? NaN, show: (v) => fmt(v, 1) },
    { label: 'DB write txns (total)', get: (r) => r.dbWritesTotal, show: (v) => fmt(v, 0) },
    { label: 'DB write txns/s', get: txnPerSec, show: (v) => fmt(v, 1) },
    { label: 'bytes stored per op', get: perOp, show: (v) => fmt(v, 0) },
    { label: 'peak RSS (server)', get: (r) => r.peakRss, show: fmtBytes },
    { label: 'server CPU ms per 1k updates', get: (r) => (r.serverCpu * 1e6) / (r.load?.updates ?? NaN), show: (v) => fmt(v, 0) },
    { label: 'bench clients CPU % (saturated)', get: (r) => r.load?.clientCpuPct ?? NaN, show: (v) => fmt(v, 0) },
  ];
  const ok = results.map((runs) => runs.filter((r) => !r.error && r.load));
  const median = (runs: SystemResult[], get: (r: SystemResult) => number) => {
    const v = runs.map(get).filter(Number.isFinite).sort((a, b) => a - b);
    return v.length ? (v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2) : NaN;
  };
  const baseIdx = results.findIndex((runs) => runs[0]?.name === 'ours-duckdb');
  const header = ['metric', ...results.map((runs) => LABEL[runs[0].name])];
  const body = rows.map((row) => [
    row.label,
    ...results.map((runs, i) => {
      if (ok[i].length === 0) return 'failed';
      const v = median(ok[i], row.get);
      const b = baseIdx >= 0 && ok[baseIdx].length ? median(ok[baseIdx], row.get) : NaN;
      const ratio = Number.isFinite(v) && Number.isFinite(b) && b !== 0 && i !== baseIdx ? ` (${(v / b).toFixed(2)}x)` : '';
      return `${row.show(v)}${ratio}`;
    }),
  ]);
  log(table(header, body));
  log(
    '(x) = value / ours (DuckDB); samples per run: ' +
      results.map((runs) => {
        const r = runs.find((x) => x.load);
        return `${LABEL[runs[0].name]} ack ${r?.load?.pacedAck.n ?? 0}+${r?.load?.satAck.n ?? 0}, relay ${r?.load?.pacedRelay.n ?? 0}`;
      }).join('; '),
  );
  for (const runs of results) for (const r of runs.filter((x) => x.error)) log(`${LABEL[r.name]} failed: ${r.error}`);
}

function printNotes(): void {
  [
    'How each figure is measured:',
    '- updates/s: updates acked in the saturated phase / its duration (first send to last ack); every client keeps',
    '  up to `window` updates unacked.',
    '- ack (Loro systems): send of a loro-protocol DocUpdate -> its Ack (refId = batchId). Ours acks once the update is',
    '  durable (flushed to the database or the write-ahead file); loro SimpleServer acks on receipt, before its save hook',
    `  (a snapshot upsert every ${SIMPLE_SAVE_INTERVAL_MS} ms).`,
    '- ack (Hocuspocus): the provider applies the update and sends it; ack = the server\'s SyncStatus reply, seen as the',
    '  provider\'s unsyncedChanges counter going down (FIFO per client). Sent after the update is applied in memory;',
    '  storing is debounced (2 s, max 10 s) as one full-document upsert.',
    '- relay: send -> the update is visible at client 0 of the same room (its version reaches the keystroke\'s end:',
    '  Loro partialEndVersionVector of the received blob; Yjs parseUpdateMeta(...).to). Yjs delete-only keystrokes have',
    '  no clock and give no relay sample.',
    '- DB write txns: ours: flushes + snapshots from stats()//metrics; SimpleServer: onSaveDocument calls;',
    '  Hocuspocus: afterStoreDocument calls. Per second over the whole run (paced + saturated phases).',
    '- bytes stored per op: size of the system\'s database folder after a graceful stop / updates sent',
    '  (DuckLake: catalog file + data path). Ours runs with default flush/snapshot settings, DuckLake maintenance off.',
    '- peak RSS: VmHWM of the server\'s child process; server CPU: its utime+stime over the load / updates.',
    '- bench clients CPU: the bench process during the saturated phase (100 = one core busy). Near 100 the clients,',
    '  not the server, set the updates/s ceiling; the machine is shared, so compare ratios more than absolutes.',
    '- Clients all run in the bench process on the same 2 cores;',
    '  Hocuspocus clients are real providers that apply every remote update to their Y.Doc, Loro clients only decode',
    '  the version of what they receive (client 0 of each room).',
  ].forEach((l) => log(l));
}

async function runRecovery(sizes: string): Promise<void> {
  await runScript('recovery.js', ['--sizes', sizes], ['--max-old-space-size=8192']);
}

/** Run another bench script (out/bench/<file>) and log its output lines here. */
async function runScript(file: string, args: string[], nodeArgs: string[] = []): Promise<void> {
  await new Promise<void>((resolve) => {
    const p = spawn(process.execPath, [...nodeArgs, path.join(__dirname, file), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      lines.forEach((l) => log(l));
    });
    p.on('exit', (code) => {
      if (buf) log(buf);
      if (code !== 0) log(`${file} exited with code ${code}`);
      resolve();
    });
  });
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
