// The real editing trace through the four systems, side by side:
// bench/traces/automerge-paper.json.gz (every keystroke of writing a paper,
// 259,778 edits, CC BY 4.0), one Loro/Yjs update per keystroke.
//
//   node out/bench/realTrace.js [--limit N] [--quick] [--systems a,b] [--scenarios single,rooms]
//     [--window 64] [--followers 3] [--rooms 8] [--writers 4]
//     [--phase-timeout MS] [--stop-timeout MS] [--restart-timeout MS] [--no-cache] [--prepare] [--keep-killed DIR]
// (--prepare: only build the updates into the cache, so a later run starts at once;
//  --keep-killed: keep what the SIGKILL left as DIR-<system>-<scenario>, to profile its restart;
//  SQLROOM_BENCH_LOG=debug|info: our server's log level, warn by default)
//
// Scenarios (realPlan.ts says how the trace is cut):
//   single: one room, one writer typing the whole trace (or its first N keystrokes) into one cell,
//           `followers` clients receiving every relay;
//   rooms:  the trace cut into `rooms` contiguous slices, one room each; each room's slice cut into
//           `writers` contiguous parts, writer w typing part w into its own cell, all at once.
// Per system: replay (saturated, `window` unacked per writer), check every replica, a fresh client
// on the live server, graceful stop (timed), bytes on disk, restart (timed until a fresh client has
// every room's whole document), and a restart from the files a SIGKILL at the end of the replay
// leaves (the server is SIGSTOPped right after the last ack and its folder copied: what a kill
// leaves on disk; timed until it listens and until every room is served).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as v8 from 'node:v8';
import { loadAutomergePaper } from '../test/support/traceFixture';
import { ServerChild } from './child';
import { peers, type YjsClient } from './peers';
import { RealLoroClient, type ReplicaClient } from './realClient';
import { runRealLoad, waitForTexts, type RealLoadResult, type RealRoomRun, type Role } from './realLoad';
import { buildLoroRealTrace, type RealRoomTrace } from './realLoroTrace';
import { makeRealPlan, planKeystrokes, tracePatches, type Patch, type RealRoomPlan } from './realPlan';
import { fmt, fmtBytes, table } from './stats';
import { SYSTEMS, type SystemName } from './systems/types';

const LABEL: Record<SystemName, string> = {
  'ours-duckdb': 'ours (DuckDB)',
  'ours-ducklake': 'ours (DuckLake)',
  'loro-simple': 'loro SimpleServer+DuckDB',
  hocuspocus: 'Hocuspocus+SQLite',
};
/** Systems that acknowledge only what is durable: a kill must lose nothing they acked. */
const DURABLE_ACKS: SystemName[] = ['ours-duckdb', 'ours-ducklake'];

interface Scenario {
  name: 'single' | 'rooms';
  title: string;
  plan: RealRoomPlan[];
  followers: number;
}

interface Restart {
  /** Spawn of the server process -> it accepts connections. */
  listenMs: number;
  /** Spawn -> a fresh client in every room has the whole document (or the last update it got, when not). */
  servedMs: number;
  ok: boolean;
  detail?: string;
}

interface Result {
  name: SystemName;
  load?: RealLoadResult;
  serverCpuLoad: number;
  serverCpuWithStop: number;
  backlogAtEnd: number;
  peakRss: number;
  stopMs: number;
  stopTimedOut: boolean;
  bytesOnDisk: number;
  liveJoin?: Restart;
  restart?: Restart;
  killRestart?: Restart;
  failures: string[];
  error?: string;
}

const repo = path.resolve(__dirname, '..', '..');
const log = (s = '') => console.log(s);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      limit: { type: 'string' },
      quick: { type: 'boolean', default: false },
      systems: { type: 'string' },
      scenarios: { type: 'string', default: 'single,rooms' },
      window: { type: 'string', default: '64' },
      followers: { type: 'string', default: '3' },
      rooms: { type: 'string', default: '8' },
      writers: { type: 'string', default: '4' },
      'phase-timeout': { type: 'string' },
      'stop-timeout': { type: 'string', default: '180000' },
      'restart-timeout': { type: 'string', default: '300000' },
      'no-cache': { type: 'boolean', default: false },
      prepare: { type: 'boolean', default: false },
      'keep-killed': { type: 'string' },
    },
  });
  const trace = loadAutomergePaper();
  const patches = tracePatches(trace);
  const limit = Math.min(patches.length, Number(values.limit ?? (values.quick ? 20_000 : patches.length)));
  const window = Number(values.window);
  const systems = (values.systems?.split(',') ?? SYSTEMS) as SystemName[];
  for (const s of systems) if (!SYSTEMS.includes(s)) throw new Error(`unknown system ${s}; known: ${SYSTEMS.join(', ')}`);
  const scenarioNames = values.scenarios!.split(',');
  for (const s of scenarioNames) if (s !== 'single' && s !== 'rooms') throw new Error(`unknown scenario ${s}; known: single, rooms`);
  const rooms = Number(values.rooms);
  const writers = Number(values.writers);
  const followers = Number(values.followers);
  const phaseTimeoutMs = Number(values['phase-timeout'] ?? 120_000 + 5 * limit);
  const stopTimeoutMs = Number(values['stop-timeout']);
  const restartTimeoutMs = Number(values['restart-timeout']);
  const extensionDir = process.env.SQLROOM_EXTENSION_DIR ?? path.join(repo, '.sqlroom-tools', 'duckdb-extensions');

  log(`# Real editing trace — ${new Date().toISOString()}${commitOf()}`);
  log(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
      `load average at start ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (shared machine)`,
  );
  log(`trace: automerge-paper, first ${limit.toLocaleString('en-US')} of ${patches.length.toLocaleString('en-US')} keystrokes, one update per keystroke; window ${window} unacked per writer`);

  const scenarios: Scenario[] = [];
  if (scenarioNames.includes('single')) {
    scenarios.push({ name: 'single', title: `single writer + ${followers} followers, one room`, plan: makeRealPlan(trace, patches, limit, 1, 1, 'real-single'), followers });
  }
  if (scenarioNames.includes('rooms')) {
    scenarios.push({
      name: 'rooms',
      title: `${rooms} rooms x ${writers} writers (room r: slice r of the trace; writer w types part w of it into its own cell, all at once)`,
      plan: makeRealPlan(trace, patches, limit, rooms, writers, 'real-rooms'),
      followers: 0,
    });
  }

  let anyFailure = false;
  for (const sc of scenarios) {
    const t0 = performance.now();
    const loro = cached(!values['no-cache'], ['loro', sc.plan, 'realLoroTrace.js'], () => buildLoroRealTrace(sc.plan, patches));
    const yjs = systems.includes('hocuspocus')
      ? cached(!values['no-cache'], ['yjs', sc.plan, 'peers/yjsRealTrace.js'], () => peers().buildYjsRealTrace(sc.plan, patches))
      : [];
    const avg = (t: RealRoomTrace[]) => {
      let n = 0;
      let b = 0;
      for (const r of t) for (const w of r.writers) for (const u of w.updates) (n++, (b += u.length));
      return b / Math.max(1, n);
    };
    if (values.prepare) {
      log(`${sc.name}: updates ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (cached in ${path.join(os.tmpdir(), 'sqlroom-bench-real-cache')})`);
      continue;
    }
    log();
    log(`## ${sc.title}`);
    log(
      `${planKeystrokes(sc.plan).toLocaleString('en-US')} keystrokes; updates ready in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
        `mean update Loro ${avg(loro).toFixed(0)} B` +
        (yjs.length ? `, Yjs ${avg(yjs).toFixed(0)} B` : '') +
        `; base notebook Loro ${fmtBytes(loro.reduce((s, r) => s + r.base.reduce((t, u) => t + u.length, 0), 0))}`,
    );
    const results: Result[] = [];
    for (const name of systems) {
      const runs = toRuns(name === 'hocuspocus' ? yjs : loro, sc.plan);
      const res = await runSystem(name, sc, runs, { window, phaseTimeoutMs, stopTimeoutMs, restartTimeoutMs, extensionDir, keepKilled: values['keep-killed'] });
      results.push(res);
      if (res.error || res.failures.length) anyFailure = true;
    }
    log();
    printTable(sc, results);
  }
  if (values.prepare) return;
  log();
  printNotes();
  if (anyFailure) {
    log();
    log('SOME SYSTEMS FAILED (see FAILED above).');
    process.exitCode = 1;
  }
}

function toRuns(trace: RealRoomTrace[], plan: RealRoomPlan[]): RealRoomRun[] {
  return trace.map((r, i) => ({ roomId: r.roomId, base: r.base, writers: r.writers, expected: plan[i].cells.map((c) => c.end) }));
}

interface RunOpts {
  window: number;
  phaseTimeoutMs: number;
  stopTimeoutMs: number;
  restartTimeoutMs: number;
  extensionDir: string;
  keepKilled?: string;
}

async function runSystem(name: SystemName, sc: Scenario, rooms: RealRoomRun[], o: RunOpts): Promise<Result> {
  const res: Result = {
    name,
    serverCpuLoad: NaN,
    serverCpuWithStop: NaN,
    backlogAtEnd: NaN,
    peakRss: NaN,
    stopMs: NaN,
    stopTimedOut: false,
    bytesOnDisk: NaN,
    failures: [],
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), `sqlroom-real-${name}-`));
  const killedDir = mkdtempSync(path.join(os.tmpdir(), `sqlroom-real-${name}-killed-`));
  // Our server refuses more than 500 updates/s per connection by default (a limit for people, not for this replay).
  const serverOptions = name.startsWith('ours') ? { limits: { maxUpdatesPerSecond: 0 } } : undefined;
  const isYjs = name === 'hocuspocus';
  let nextId = 0;
  const clientFor = (url: string) => (roomId: string, role: Role, i: number): ReplicaClient => {
    if (!isYjs) return new RealLoroClient(url, roomId, `${role}-${i}`);
    const room = rooms.find((r) => r.roomId === roomId)!;
    // Writers send pre-encoded updates of their own client id; the others only need a unique one.
    const id = role === 'writer' ? Number(room.writers[i].peerKey) : 2_000_000 + nextId++;
    return new (peers().YjsBenchClient)(url, roomId, id) as YjsClient & ReplicaClient;
  };
  const children: ServerChild[] = [];
  const started = performance.now();
  try {
    const child = new ServerChild();
    children.push(child);
    await child.start(name, dir, o.extensionDir, 120_000, serverOptions);
    const makeClient = clientFor(child.url);
    let cpu0 = NaN;
    res.load = await runRealLoad(rooms, {
      window: o.window,
      followers: sc.followers,
      phaseTimeoutMs: o.phaseTimeoutMs,
      makeClient,
      measureRelay: sc.followers > 0,
      checkWriters: sc.name !== 'single',
      afterBase: isYjs
        ? async (room, clients) => {
            await Promise.all(clients.map((c) => (c as YjsClient).waitForCells(room.writers.length, 60_000)));
          }
        : undefined,
      atStart: () => {
        cpu0 = child.cpuSeconds();
      },
      atEnd: async () => {
        res.serverCpuLoad = child.cpuSeconds() - cpu0;
        res.peakRss = child.peakRss();
        res.backlogAtEnd = await child.backlog().catch(() => NaN);
        // What a SIGKILL now would leave on disk: the files of the stopped process.
        await child.signal('SIGSTOP');
        try {
          cpSync(dir, killedDir, { recursive: true });
        } finally {
          await child.signal('SIGCONT');
        }
      },
      log,
    });
    for (const m of res.load.replicas.mismatches) res.failures.push(`replica differs: ${m}`);

    res.liveJoin = await freshJoins(makeClient, rooms, performance.now(), o.restartTimeoutMs);
    if (!res.liveJoin.ok) res.failures.push(`fresh client on the live server: ${res.liveJoin.detail}`);

    const s0 = performance.now();
    await child.stop(o.stopTimeoutMs);
    res.stopMs = performance.now() - s0;
    res.stopTimedOut = child.stopTimedOut;
    res.serverCpuWithStop = child.cpuSecondsAtStop - cpu0;
    res.bytesOnDisk = duBytes(dir);

    res.restart = await restart(name, dir, rooms, o, serverOptions, clientFor, children);
    if (!res.restart.ok) res.failures.push(`restart after graceful stop: ${res.restart.detail}`);
    // The killed image goes back to the original path: DuckLake's catalog names its data path.
    rmSync(dir, { recursive: true, force: true });
    renameSync(killedDir, dir);
    if (o.keepKilled) cpSync(dir, `${o.keepKilled}-${name}-${sc.name}`, { recursive: true });
    res.killRestart = await restart(name, dir, rooms, o, serverOptions, clientFor, children);
    if (!res.killRestart.ok && DURABLE_ACKS.includes(name)) res.failures.push(`restart after SIGKILL lost acknowledged edits: ${res.killRestart.detail}`);

    const l = res.load;
    log(
      `${LABEL[name]}: ${l.updates} updates, ${fmt(l.updatesPerSec, 0)} upd/s over ${l.seconds.toFixed(1)} s, ack p99 ${fmt(l.ack.p99, 1)} ms, ` +
        `stop ${fmt(res.stopMs, 0)} ms${res.stopTimedOut ? ' (TIMED OUT, killed)' : ''}, ${fmtBytes(res.bytesOnDisk)} on disk, ` +
        `restart ${fmt(res.restart.servedMs, 0)} ms, after kill ${fmt(res.killRestart.listenMs, 0)}/${fmt(res.killRestart.servedMs, 0)} ms; ` +
        `${l.replicas.checked} replicas checked in ${l.replicas.seconds.toFixed(1)} s (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
    for (const f of res.failures) log(`!!! ${LABEL[name]} FAILED: ${f}`);
  } catch (e) {
    res.error = e instanceof Error ? e.message.split('\n')[0] : String(e);
    log(`!!! ${LABEL[name]}: FAILED: ${res.error}`);
  } finally {
    for (const c of children) c.kill();
    rmSync(dir, { recursive: true, force: true });
    rmSync(killedDir, { recursive: true, force: true });
  }
  return res;
}

/** Starts the system on `dir` (timed from the spawn), then a fresh client in every room. */
async function restart(
  name: SystemName,
  dir: string,
  rooms: RealRoomRun[],
  o: RunOpts,
  serverOptions: Record<string, unknown> | undefined,
  clientFor: (url: string) => (roomId: string, role: Role, i: number) => ReplicaClient,
  children: ServerChild[],
): Promise<Restart> {
  const child = new ServerChild();
  children.push(child);
  const t0 = performance.now();
  try {
    await child.start(name, dir, o.extensionDir, o.restartTimeoutMs, serverOptions);
  } catch (e) {
    return { listenMs: NaN, servedMs: NaN, ok: false, detail: `did not start: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }
  const listenMs = performance.now() - t0;
  const served = await freshJoins(clientFor(child.url), rooms, t0, o.restartTimeoutMs);
  await child.stop(o.stopTimeoutMs);
  return { ...served, listenMs };
}

/** A fresh client joins every room at once; time (from t0) until all have the expected texts. */
async function freshJoins(makeClient: (roomId: string, role: Role, i: number) => ReplicaClient, rooms: RealRoomRun[], t0: number, timeoutMs: number): Promise<Restart> {
  const each = await Promise.all(
    rooms.map(async (room, i) => {
      const c = makeClient(room.roomId, 'joiner', i);
      try {
        await c.connect(timeoutMs);
        return await waitForTexts(c, room.expected, 3000, timeoutMs, 5);
      } catch (e) {
        return { ok: false, at: NaN, detail: e instanceof Error ? e.message.split('\n')[0] : String(e) };
      } finally {
        c.close();
      }
    }),
  );
  const bad = each.map((w, i) => (w.ok ? '' : `${rooms[i].roomId}: ${w.detail}`)).filter(Boolean);
  return { listenMs: NaN, servedMs: Math.max(...each.map((w) => w.at)) - t0, ok: bad.length === 0, detail: bad.join('; ') || undefined };
}

/**
 * Built updates, kept in the OS temp folder between runs (building Loro updates
 * costs ~0.1 ms a keystroke). The key covers the plan, the encoder's compiled
 * code, the notebook model's and the CRDT library's versions.
 */
function cached<T>(enabled: boolean, keyParts: [string, RealRoomPlan[], string], build: () => T): T {
  if (!enabled) return build();
  const [kind, plan, encoder] = keyParts;
  const h = createHash('sha256');
  h.update(kind);
  for (const r of plan) for (const c of r.cells) h.update(`${r.roomId}/${c.id}:${c.from}-${c.to}:${c.start.length}:${c.end.length}\n`);
  for (const f of [path.join(__dirname, encoder), path.join(__dirname, 'realPlan.js'), path.join(repo, 'out', 'server', 'shared', 'notebookDoc.js')]) {
    if (existsSync(f)) h.update(readFileSync(f));
  }
  for (const pkg of ['loro-crdt', 'yjs']) h.update(libVersion(pkg));
  const dir = path.join(os.tmpdir(), 'sqlroom-bench-real-cache');
  const file = path.join(dir, `${kind}-${h.digest('hex').slice(0, 24)}.v8`);
  if (existsSync(file)) {
    try {
      return v8.deserialize(readFileSync(file)) as T;
    } catch {
      /* damaged: build again */
    }
  }
  const value = build();
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${file}.tmp`, v8.serialize(value));
    renameSync(`${file}.tmp`, file);
  } catch {
    /* no cache, no harm */
  }
  return value;
}

function libVersion(pkg: string): string {
  for (const base of [path.join(repo, 'node_modules'), path.join(repo, 'bench', 'peers', 'node_modules')]) {
    try {
      return (JSON.parse(readFileSync(path.join(base, pkg, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      /* next */
    }
  }
  return '?';
}

function duBytes(dir: string): number {
  try {
    return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return NaN;
  }
}

function commitOf(): string {
  try {
    const c = execFileSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return ` — commit ${c}${dirty ? ' (with local changes)' : ''}`;
  } catch {
    return '';
  }
}

function printTable(sc: Scenario, results: Result[]): void {
  type Row = { label: string; get: (r: Result) => number; show: (v: number) => string; note?: (r: Result) => string };
  const ms = (v: number) => fmt(v, 0);
  const perK = (cpu: number, r: Result) => (cpu * 1e6) / (r.load?.updates ?? NaN);
  const rows: Row[] = [
    { label: 'updates/s (saturated)', get: (r) => r.load?.updatesPerSec ?? NaN, show: (v) => fmt(v, 0) },
    { label: 'ack p50 ms', get: (r) => r.load?.ack.p50 ?? NaN, show: (v) => fmt(v, 1) },
    { label: 'ack p99 ms', get: (r) => r.load?.ack.p99 ?? NaN, show: (v) => fmt(v, 1) },
    ...(sc.followers > 0
      ? [
          { label: 'relay p50 ms (writer -> follower)', get: (r: Result) => r.load?.relay.p50 ?? NaN, show: (v: number) => fmt(v, 1) },
          { label: 'relay p99 ms', get: (r: Result) => r.load?.relay.p99 ?? NaN, show: (v: number) => fmt(v, 1) },
        ]
      : []),
    { label: 'bench clients CPU % (replay)', get: (r) => r.load?.clientCpuPct ?? NaN, show: ms },
    { label: 'server CPU ms per 1k updates (replay)', get: (r) => perK(r.serverCpuLoad, r), show: ms },
    { label: 'server CPU ms per 1k updates (+ stop)', get: (r) => perK(r.serverCpuWithStop, r), show: ms },
    { label: 'not yet in the database at the last ack', get: (r) => r.backlogAtEnd, show: ms },
    { label: 'peak RSS (server, replay)', get: (r) => r.peakRss, show: fmtBytes },
    { label: 'graceful stop ms', get: (r) => r.stopMs, show: ms, note: (r) => (r.stopTimedOut ? ' TIMED OUT' : '') },
    { label: 'bytes on disk after the stop', get: (r) => r.bytesOnDisk, show: fmtBytes },
    { label: 'fresh client on the live server ms', get: (r) => r.liveJoin?.servedMs ?? NaN, show: ms, note: (r) => (r.liveJoin && !r.liveJoin.ok ? ' WRONG' : '') },
    { label: 'restart: spawn -> listening ms', get: (r) => r.restart?.listenMs ?? NaN, show: ms },
    { label: 'restart: spawn -> fresh client has every room ms', get: (r) => r.restart?.servedMs ?? NaN, show: ms, note: (r) => (r.restart && !r.restart.ok ? ' WRONG' : '') },
    { label: 'after SIGKILL: spawn -> listening ms', get: (r) => r.killRestart?.listenMs ?? NaN, show: ms },
    {
      label: 'after SIGKILL: spawn -> every room served ms',
      get: (r) => r.killRestart?.servedMs ?? NaN,
      show: ms,
      note: (r) => (r.killRestart && !r.killRestart.ok ? ' LOST EDITS' : ''),
    },
  ];
  const hIdx = results.findIndex((r) => r.name === 'hocuspocus');
  const dIdx = results.findIndex((r) => r.name === 'ours-duckdb');
  const ok = (r: Result) => !r.error && !!r.load;
  const header = ['metric', ...results.map((r) => LABEL[r.name])];
  const body = rows.map((row) => [
    row.label,
    ...results.map((r, i) => {
      if (!ok(r)) return 'FAILED';
      const v = row.get(r);
      const ratio = (j: number, tag: string) => {
        if (j < 0 || j === i || !ok(results[j])) return '';
        const b = row.get(results[j]);
        return Number.isFinite(v) && Number.isFinite(b) && b !== 0 ? ` ${(v / b).toFixed(2)}x${tag}` : '';
      };
      const ratios = `${ratio(hIdx, 'H')}${ratio(dIdx, 'D')}`.trim();
      return `${row.show(v)}${row.note?.(r) ?? ''}${ratios ? ` (${ratios})` : ''}`;
    }),
  ]);
  body.push(['correct (replicas, fresh clients)', ...results.map((r) => (r.error ? 'FAILED' : r.failures.length ? 'FAILED' : `ok (${r.load?.replicas.checked} replicas)`))]);
  log(table(header, body));
  log('(x H) = value / Hocuspocus+SQLite, (x D) = value / ours (DuckDB), same run.');
  for (const r of results) {
    if (r.error) log(`${LABEL[r.name]} FAILED: ${r.error}`);
    for (const f of r.failures) log(`${LABEL[r.name]} FAILED: ${f}`);
    if (r.killRestart && !r.killRestart.ok && !DURABLE_ACKS.includes(r.name)) log(`${LABEL[r.name]}: after SIGKILL it lost acknowledged edits (it acks before storing): ${r.killRestart.detail}`);
  }
}

function printNotes(): void {
  [
    'How each figure is measured (bench/realTrace.ts):',
    '- updates/s: keystroke updates acked / time from the first send to the last ack; every writer keeps up to `window`',
    '  updates unacked. ack: send -> the server\'s ack (ours: once durable; loro SimpleServer: on receipt;',
    '  Hocuspocus: SyncStatus after applying in memory, storing is debounced). relay: send -> follower 0 has it.',
    '- server CPU: utime+stime of the server process (all threads) over the replay; "+ stop" adds the graceful stop,',
    '  where a server that buffered writes pays for them.',
    '- bench clients CPU: the bench process (all clients) during the replay, 100 = one core; near 100 the clients,',
    '  not the server, may set the pace (the machine has 2 cores, shared with other work).',
    '- not yet in the database: ours only, write-ahead entries not yet committed to DuckDB/DuckLake at the last ack.',
    '- graceful stop: stop request -> the process has stopped (killed after --stop-timeout); bytes on disk: its folder after it.',
    '- restart: spawn of a new server process on the same folder -> it listens / a fresh client in every room holds',
    '  the whole expected text (the client imports what it gets; includes Node start-up, ~0.3 s).',
    '- after SIGKILL: the server is SIGSTOPped right after the last ack and its folder copied (the files a SIGKILL',
    '  leaves), then a new server is started on the copy. LOST EDITS: acked edits missing after that restart',
    '  (a failure for ours, which acks only durable updates; expected for systems that ack before storing).',
    '- correct: every follower replica (and in the rooms scenario every writer\'s replica, which holds the other',
    '  writers\' cells), a fresh client on the live server and after each restart equal the trace\'s text.',
  ].forEach((l) => log(l));
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
