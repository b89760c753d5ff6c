// Hostile-client benchmark (issue 17): the server CLI in a child process on
// 127.0.0.1, one attack at a time, while an honest client in another room
// sends a small update every 20 ms and times its ack. Prints, per attack, the
// honest ack p50 / p99 / max and the server's RSS and open file descriptors
// (from /proc). Figures, not assertions: run with
//   npx tsc -p . && node out/bench/hostile.js [--only a,b] [-- <server args>]
// e.g. `--only idle,crowd -- --import-workers 0` for the crowd attack with
// every import on the event loop.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EphemeralStore, LoroDoc, LoroMap } from 'loro-crdt';
import { CrdtType, MessageType } from 'loro-protocol';
import { spawnServer, type ChildServer } from '../test/support/serverProcess';
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

async function honestDuring(server: ChildServer, attack: (stop: () => boolean) => Promise<void>): Promise<{ p50: number; p99: number; max: number; acks: number; peakRssMb: number; peakFds: number }> {
  const h = await RawClient.connect(server.url);
  h.join('honest');
  await h.next(MessageType.JoinResponseOk);
  const lat: number[] = [];
  let stopped = false;
  let peer = BigInt(Date.now());
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
      const id = h.update('honest', [textUpdate('x', peer++)]);
      try {
        await h.ackFor(id, 60_000);
        lat.push(performance.now() - t0);
      } catch {
        lat.push(60_000);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const end = Date.now() + ATTACK_MS;
  await attack(() => Date.now() > end);
  while (Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  stopped = true;
  await honest;
  clearInterval(sampler);
  h.close();
  return { p50: Math.round(pct(lat, 50)), p99: Math.round(pct(lat, 99)), max: Math.round(Math.max(...lat)), acks: lat.length, peakRssMb: peakRss, peakFds };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dash = argv.indexOf('--');
  const serverArgs = dash >= 0 ? argv.slice(dash + 1) : [];
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 && onlyAt < (dash >= 0 ? dash : argv.length) ? new Set(argv[onlyAt + 1].split(',')) : null;
  const wanted = (name: string): boolean => !only || only.has(name);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-hostile-bench-'));
  const server = await spawnServer(['--db', path.join(dir, 'db.duckdb'), '--log-level', 'error', ...serverArgs]);
  const opened: (RawClient | net.Socket)[] = [];
  const results: Record<string, unknown> = {};
  try {
    // A ~4 MB document to amplify.
    const w = await RawClient.connect(server.url);
    opened.push(w);
    w.join('big');
    await w.next(MessageType.JoinResponseOk);
    for (let i = 0; i < 20; i++) await w.ackFor(w.update('big', [textUpdate(noise(200_000), BigInt(100 + i))]), 60_000);
    if (wanted('idle')) results.idle = await honestDuring(server, async () => undefined);

    if (wanted('joinAmplification')) results.joinAmplification = await honestDuring(server, async (stop) => {
      const r = await RawClient.connect(server.url);
      opened.push(r);
      pause(r);
      for (let i = 0; i < 300 && !stop(); i++) {
        r.join('big');
        await new Promise((res) => setTimeout(res, 5));
      }
    });

    if (wanted('presenceFanout')) results.presenceFanout = await honestDuring(server, async (stop) => {
      const recv: RawClient[] = [];
      for (let i = 0; i < 20; i++) {
        const c = await RawClient.connect(server.url);
        c.send({ type: MessageType.JoinRequest, crdt: CrdtType.LoroEphemeralStore, roomId: 'p', auth: new Uint8Array(), version: new Uint8Array() });
        await c.next(MessageType.JoinResponseOk);
        pause(c);
        recv.push(c);
        opened.push(c);
      }
      const s = await RawClient.connect(server.url);
      opened.push(s);
      s.send({ type: MessageType.JoinRequest, crdt: CrdtType.LoroEphemeralStore, roomId: 'p', auth: new Uint8Array(), version: new Uint8Array() });
      await s.next(MessageType.JoinResponseOk);
      const store = new EphemeralStore(30_000);
      while (!stop()) {
        store.set('c', noise(60_000));
        s.send({ type: MessageType.DocUpdate, crdt: CrdtType.LoroEphemeralStore, roomId: 'p', updates: [store.encode('c')], batchId: randomBatch() });
        await new Promise((res) => setTimeout(res, 10));
      }
    });

    if (wanted('fragments')) results.fragments = await honestDuring(server, async () => {
      for (let i = 0; i < 16; i++) {
        const c = await RawClient.connect(server.url);
        opened.push(c);
        c.join('frag');
        await c.next(MessageType.JoinResponseOk);
        for (let k = 0; k < 8; k++) {
          const batchId = randomBatch();
          c.send({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId: 'frag', batchId, fragmentCount: 300, totalSizeBytes: 60 * 1024 * 1024 });
          for (let f = 0; f < 20; f++) c.send({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId: 'frag', batchId, index: f, fragment: new Uint8Array(200_000) });
        }
      }
    });

    if (wanted('roomFlood')) results.roomFlood = await honestDuring(server, async () => {
      const c = await RawClient.connect(server.url);
      opened.push(c);
      for (let i = 0; i < 2000; i++) c.join(`flood${i}`);
    });

    if (wanted('halfOpenHttp')) results.halfOpenHttp = await honestDuring(server, async () => {
      const port = Number(new URL(server.httpUrl).port);
      for (let i = 0; i < 2000; i++) {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        s.once('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
        opened.push(s);
      }
    });

    if (wanted('deepNesting')) results.deepNesting = await honestDuring(server, async () => {
      const c = await RawClient.connect(server.url);
      opened.push(c);
      c.join('deep');
      await c.next(MessageType.JoinResponseOk);
      const d = new LoroDoc();
      let m = d.getMap('root');
      for (let i = 0; i < 5000; i++) m = m.setContainer('c', new LoroMap());
      d.commit();
      c.update('deep', [d.export({ mode: 'update' })]);
    });

    if (wanted('manyParts')) results.manyParts = await honestDuring(server, async () => {
      const c = await RawClient.connect(server.url);
      opened.push(c);
      c.join('parts');
      await c.next(MessageType.JoinResponseOk);
      c.update('parts', Array.from({ length: 3000 }, (_, i) => textUpdate('x', BigInt(10_000 + i))));
    });

    if (wanted('crowd')) {
      const { start, base, crowd, after } = crowdAtOneSpot(3000, 5);
      start.free();
      const updates = [crowd, ...after];
      results.crowd = await honestDuring(server, async () => {
        const c = await RawClient.connect(server.url);
        opened.push(c);
        c.join('crowd');
        await c.next(MessageType.JoinResponseOk);
        await c.ackFor(c.update('crowd', [base]), 60_000);
        for (const u of updates) c.update('crowd', [u]);
      });
    }
  } finally {
    for (const o of opened) (o instanceof RawClient ? o.ws.terminate() : o.destroy());
    await server.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ attackMs: ATTACK_MS, loadavg: os.loadavg().map((x) => x.toFixed(2)), results }, null, 1));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
