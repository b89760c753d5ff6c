// Hostile-client benchmark (issue 17): the server CLI in a child process on
// 127.0.0.1, one attack at a time, while an honest client in another room
// sends a small update every 20 ms and times its ack. Each attack runs in a
// process of its own (this script, forked with `--attack <name>`), so the
// attacker's own work (sending hundreds of MB, building Loro updates) does
// not delay the honest client's event loop: as on a real network, they only
// share the server (and this machine's CPUs). Prints, per attack, the honest
// ack p50 / p99 / max and the server's RSS and open file descriptors (from
// /proc). Figures, not assertions: run with
//   npx tsc -p . && node out/bench/hostile.js [--only a,b] [--cpu-prof <dir>] [-- <server args>]
// e.g. `--only idle,crowd -- --import-workers 0` for the crowd attack with
// every import on the event loop; `--cpu-prof <dir>` writes the server's
// CPU profile there (open it in Chrome DevTools).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fork } from 'node:child_process';
import { EphemeralStore, LoroDoc, LoroMap } from 'loro-crdt';
import { CrdtType, MessageType } from 'loro-protocol';
import { CLI, spawnListening, type ChildServer } from '../test/support/serverProcess';
import { RawClient, randomBatch, textUpdate } from '../test/support/serverHarness';
import { crowdAtOneSpot } from '../test/support/loroEdit';

const ATTACK_MS = 5000;

function procStats(pid: number): { rssMb: number; fds: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  return { rssMb: Math.round(rss), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN);
const noise = (n: number) => randomBytes(n).toString('base64').slice(0, n);
const pause = (c: RawClient) => (c.ws as unknown as { _socket: net.Socket })._socket.pause();

type Opened = (RawClient | net.Socket)[];
interface Target {
  url: string;
  httpUrl: string;
}
/**
 * An attack: sends its traffic, keeping what it opens in `opened` (held open
 * until the run ends); `stop()` says the attack time is up. Work that only
 * prepares the traffic (building Loro updates) goes in `prepare`, which runs
 * before the honest client starts timing.
 */
type Attack = (t: Target, opened: Opened, stop: () => boolean) => Promise<void>;
const PREPARE: Record<string, () => Attack> = {
  deepNesting: () => {
    const d = new LoroDoc();
    let m = d.getMap('root');
    for (let i = 0; i < 5000; i++) m = m.setContainer('c', new LoroMap());
    d.commit();
    const update = d.export({ mode: 'update' });
    return async (t, opened) => {
      const c = await RawClient.connect(t.url);
      opened.push(c);
      c.join('deep');
      await c.next(MessageType.JoinResponseOk);
      c.update('deep', [update]);
    };
  },
  crowd: () => {
    const { start, base, crowd, after } = crowdAtOneSpot(3000, 5);
    start.free();
    return async (t, opened) => {
      const c = await RawClient.connect(t.url);
      opened.push(c);
      c.join('crowd');
      await c.next(MessageType.JoinResponseOk);
      await c.ackFor(c.update('crowd', [base]), 60_000);
      for (const u of [crowd, ...after]) c.update('crowd', [u]);
    };
  },
};

const ATTACKS: Record<string, Attack> = {
  idle: async () => undefined,

  joinAmplification: async (t, opened, stop) => {
    const r = await RawClient.connect(t.url);
    opened.push(r);
    pause(r);
    for (let i = 0; i < 300 && !stop(); i++) {
      r.join('big');
      await new Promise((res) => setTimeout(res, 5));
    }
  },

  presenceFanout: async (t, opened, stop) => {
    for (let i = 0; i < 20; i++) {
      const c = await RawClient.connect(t.url);
      c.send({ type: MessageType.JoinRequest, crdt: CrdtType.LoroEphemeralStore, roomId: 'p', auth: new Uint8Array(), version: new Uint8Array() });
      await c.next(MessageType.JoinResponseOk);
      pause(c);
      opened.push(c);
    }
    const s = await RawClient.connect(t.url);
    opened.push(s);
    s.send({ type: MessageType.JoinRequest, crdt: CrdtType.LoroEphemeralStore, roomId: 'p', auth: new Uint8Array(), version: new Uint8Array() });
    await s.next(MessageType.JoinResponseOk);
    const store = new EphemeralStore(30_000);
    while (!stop()) {
      store.set('c', noise(60_000));
      s.send({ type: MessageType.DocUpdate, crdt: CrdtType.LoroEphemeralStore, roomId: 'p', updates: [store.encode('c')], batchId: randomBatch() });
      await new Promise((res) => setTimeout(res, 10));
    }
  },

  fragments: async (t, opened) => {
    for (let i = 0; i < 16; i++) {
      const c = await RawClient.connect(t.url);
      opened.push(c);
      c.join('frag');
      await c.next(MessageType.JoinResponseOk);
      for (let k = 0; k < 8; k++) {
        const batchId = randomBatch();
        c.send({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId: 'frag', batchId, fragmentCount: 300, totalSizeBytes: 60 * 1024 * 1024 });
        for (let f = 0; f < 20; f++) c.send({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId: 'frag', batchId, index: f, fragment: new Uint8Array(200_000) });
      }
    }
  },

  roomFlood: async (t, opened) => {
    const c = await RawClient.connect(t.url);
    opened.push(c);
    for (let i = 0; i < 2000; i++) c.join(`flood${i}`);
  },

  halfOpenHttp: async (t, opened) => {
    const port = Number(new URL(t.httpUrl).port);
    for (let i = 0; i < 2000; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.once('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
      opened.push(s);
    }
  },

  manyParts: async (t, opened) => {
    const c = await RawClient.connect(t.url);
    opened.push(c);
    c.join('parts');
    await c.next(MessageType.JoinResponseOk);
    c.update('parts', Array.from({ length: 3000 }, (_, i) => textUpdate('x', BigInt(10_000 + i))));
  },

};

/** In the attacker process: run one attack, then hold its sockets until the parent says stop. */
async function runAttacker(name: string, target: Target): Promise<void> {
  const opened: Opened = [];
  let stopped = false;
  process.on('message', (m) => {
    if (m !== 'stop') return;
    stopped = true;
    for (const o of opened) (o instanceof RawClient ? o.ws.terminate() : o.destroy());
    process.exit(0);
  });
  const attack = name in ATTACKS ? ATTACKS[name] : PREPARE[name]();
  await new Promise<void>((go) => {
    process.on('message', (m) => m === 'go' && go());
    process.send?.('ready');
  });
  await attack(target, opened, () => stopped);
}

// The honest client types as a person does: one peer, each key after the
// last. (A fresh peer per update would itself build a crowd of concurrent
// peers at one spot, whose imports slow down as the run goes on.)
const honestDoc = new LoroDoc();
function honestEdit(): Uint8Array {
  const from = honestDoc.oplogVersion();
  const t = honestDoc.getText('t');
  t.insert(t.length, 'x');
  honestDoc.commit();
  return honestDoc.export({ mode: 'update', from });
}

async function honestDuring(server: ChildServer, attack: string): Promise<{ p50: number; p99: number; max: number; acks: number; peakRssMb: number; peakFds: number }> {
  const attacker = fork(__filename, ['--attack', attack, server.url, server.httpUrl], { stdio: 'inherit' });
  const exited = new Promise<void>((res) => attacker.once('exit', () => res()));
  await new Promise<void>((res) => attacker.once('message', () => res()));
  const h = await RawClient.connect(server.url);
  h.join('honest');
  await h.next(MessageType.JoinResponseOk);
  const lat: number[] = [];
  let stopped = false;
  let peakRss = 0;
  let peakFds = 0;
  const sampler = setInterval(() => {
    try {
      const s = procStats(server.proc.pid!);
      peakRss = Math.max(peakRss, s.rssMb);
      peakFds = Math.max(peakFds, s.fds);
    } catch {
      /* gone */
    }
  }, 100);
  const honest = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      const id = h.update('honest', [honestEdit()]);
      try {
        await h.ackFor(id, 60_000);
        lat.push(performance.now() - t0);
      } catch {
        lat.push(60_000);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  attacker.send('go');
  await new Promise((r) => setTimeout(r, ATTACK_MS));
  attacker.send('stop');
  await exited;
  stopped = true;
  await honest;
  clearInterval(sampler);
  h.close();
  return { p50: Math.round(pct(lat, 50)), p99: Math.round(pct(lat, 99)), max: Math.round(Math.max(...lat)), acks: lat.length, peakRssMb: peakRss, peakFds };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--attack') return runAttacker(argv[1], { url: argv[2], httpUrl: argv[3] });
  const dash = argv.indexOf('--');
  const serverArgs = dash >= 0 ? argv.slice(dash + 1) : [];
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 && onlyAt < (dash >= 0 ? dash : argv.length) ? new Set(argv[onlyAt + 1].split(',')) : null;
  const profAt = argv.indexOf('--cpu-prof');
  const nodeFlags = profAt >= 0 && profAt < (dash >= 0 ? dash : argv.length) ? ['--cpu-prof', '--cpu-prof-dir', argv[profAt + 1]] : [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-hostile-bench-'));
  const server = await spawnListening([...nodeFlags, CLI, 'serve', '--port', '0', '--db', path.join(dir, 'db.duckdb'), '--log-level', 'error', ...serverArgs]);
  const results: Record<string, unknown> = {};
  const w = await RawClient.connect(server.url);
  try {
    // A ~4 MB document to amplify.
    w.join('big');
    await w.next(MessageType.JoinResponseOk);
    const big = new LoroDoc();
    for (let i = 0; i < 20; i++) {
      const from = big.oplogVersion();
      big.getText('t').insert(big.getText('t').length, noise(200_000));
      big.commit();
      await w.ackFor(w.update('big', [big.export({ mode: 'update', from })]), 60_000);
    }
    big.free();
    for (const name of [...Object.keys(ATTACKS), ...Object.keys(PREPARE)]) if (!only || only.has(name)) results[name] = await honestDuring(server, name);
  } finally {
    w.ws.terminate();
    await server.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ attackMs: ATTACK_MS, loadavg: os.loadavg().map((x) => x.toFixed(2)), results }, null, 1));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
