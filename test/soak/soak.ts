// Bounded soak test: many clients in many rooms joining, leaving and
// editing (a bounded number of operations), the server (a child process, see
// soakServer.ts) killed with SIGKILL and restarted at random points, and the
// database made unwritable for a while. At the end every client and a fresh
// recovery of every room (a new process opening the database) agree, nothing
// acked is lost, and the server's memory after the load, once idle and
// garbage-collected, is within a generous ratio of its baseline.
//   npm run soak -- [--minutes N] [--clients 40] [--rooms 12] [--ops N] [--seed N]
// (--minutes keeps going until that much time passed; otherwise --ops bounds it)
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { LoroDoc, VersionVector } from 'loro-crdt';
import { MessageType, UpdateStatusCode, type HexString } from 'loro-protocol';
import { RawClient, randomBatch, rmDir, tmpDir, waitFor } from '../support/serverHarness';
import { inspectInChild } from '../support/inspectDb';
import { spawnListening, type ChildServer } from '../support/serverProcess';
import { Rng } from './rng';

export interface SoakOptions {
  clients: number;
  rooms: number;
  /** Operations (edit / join / leave) to run; with `minutes`, a floor. */
  ops: number;
  minutes?: number;
  kills: number;
  outages: number;
  seed: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  seconds: number;
  clients: number;
  rooms: number;
  operations: number;
  updatesSent: number;
  updatesAcked: number;
  joins: number;
  leaves: number;
  kills: number;
  outages: number;
  outageSeconds: number;
  rowsInDatabase: number;
  memory: { baselineMb: number; peakMb: number; endMb: number };
  problems: string[];
}

type Child = ChildServer;

const SERVER = path.join(__dirname, 'soakServer.js');

function startChild(db: string, walDir: string): Promise<Child> {
  return spawnListening(['--expose-gc', SERVER, db, walDir], 30_000);
}

function killChild(c: Child, signal: NodeJS.Signals): Promise<void> {
  return c.kill(signal).then(() => undefined);
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** One simulated user: a fixed room, its own peer, reconnecting after leaves and kills. */
class Client {
  readonly doc = new LoroDoc();
  raw: RawClient | null = null;
  readonly unacked = new Map<HexString, Uint8Array>();
  /** Every update the server acked (for the check right after a restart). */
  readonly ackedDoc = new LoroDoc();
  acked = 0;
  sent = 0;
  n = 0;
  constructor(readonly roomId: string, peer: bigint) {
    this.doc.setPeerId(peer);
  }
  get connected(): boolean {
    return !!this.raw && this.raw.closeCode === null && this.raw.ws.readyState === this.raw.ws.OPEN;
  }
  private onMessages(raw: RawClient): void {
    for (const m of raw.messages.splice(0)) {
      if (m.type === MessageType.DocUpdate) this.doc.importBatch(m.updates);
      else if (m.type === MessageType.Ack && this.unacked.has(m.refId)) {
        if (m.status === UpdateStatusCode.Ok) {
          this.acked++;
          this.ackedDoc.import(this.unacked.get(m.refId)!);
        }
        this.unacked.delete(m.refId); // not Ok: resent at the next join (what the server lacks)
      }
    }
  }
  async join(url: string): Promise<void> {
    const raw = await RawClient.connect(url);
    this.raw = raw;
    raw.join(this.roomId, this.doc.oplogVersion().encode());
    const ok = await raw.next(MessageType.JoinResponseOk, (m) => m.roomId === this.roomId, 15_000);
    raw.ws.on('message', () => this.onMessages(raw));
    this.onMessages(raw);
    this.unacked.clear(); // whatever the server lacks is resent now
    const serverVV = VersionVector.decode(ok.version);
    const cmp = this.doc.oplogVersion().compare(serverVV);
    if (cmp === undefined || cmp > 0) {
      const missing = this.doc.export({ mode: 'update', from: serverVV });
      this.send(missing);
    }
    serverVV.free();
  }
  leave(): void {
    this.raw?.close();
    this.raw = null;
  }
  private send(bytes: Uint8Array): void {
    const id = randomBatch();
    this.unacked.set(id, bytes);
    this.sent++;
    this.raw!.update(this.roomId, [bytes], id);
  }
  edit(rng: Rng): void {
    const before = this.doc.oplogVersion();
    const r = rng.below(10);
    if (r < 6) {
      const t = this.doc.getText(`notes-${this.doc.peerIdStr}`);
      t.insert(rng.below(t.length + 1), `${this.n}:${'abcdefgh'.slice(0, 1 + rng.below(8))} `);
    } else if (r < 8) this.doc.getMap('meta').set(`k${rng.below(20)}`, this.n);
    else {
      const l = this.doc.getList(`list-${this.doc.peerIdStr}`);
      if (l.length > 5 && rng.below(2)) l.delete(0, 1);
      else l.push(this.n);
    }
    this.n++;
    this.doc.commit();
    this.send(this.doc.export({ mode: 'update', from: before }));
  }
}

function canonical(v: unknown): string {
  const sort = (x: unknown): unknown => (Array.isArray(x) ? x.map(sort) : x && typeof x === 'object' ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])])) : x);
  return JSON.stringify(sort(v));
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => undefined);
  const rng = new Rng(o.seed || 1);
  const dir = tmpDir('sqlroom-soak-');
  const db = path.join(dir, 'soak.duckdb');
  const walDir = path.join(dir, 'wal');
  const rooms = Array.from({ length: o.rooms }, (_, i) => (i % 3 === 2 ? `soak-${i}@branch-${i}` : `soak-${i}`));
  const clients = Array.from({ length: o.clients }, (_, i) => new Client(rooms[i % rooms.length], BigInt(10_000 + i)));
  const started = Date.now();
  const report: SoakReport = { seconds: 0, clients: o.clients, rooms: o.rooms, operations: 0, updatesSent: 0, updatesAcked: 0, joins: 0, leaves: 0, kills: 0, outages: 0, outageSeconds: 0, rowsInDatabase: 0, memory: { baselineMb: 0, peakMb: 0, endMb: 0 }, problems: [] };
  // Kill and outage points, spread over the operations.
  const killAt = new Set(Array.from({ length: o.kills }, (_, i) => Math.floor(((i + 0.5 + (rng.next() - 0.5) * 0.8) * o.ops) / (o.kills + 0.5))));
  const outageAt = new Map(Array.from({ length: o.outages }, (_, i) => [Math.floor(((i + 0.3) * o.ops) / (o.outages + 0.2)), Math.max(20, Math.floor(o.ops / (o.outages * 6)))] as const));
  let child = await startChild(db, walDir);
  const roomVersion = async (roomId: string) => {
    const r = await RawClient.connect(child.url);
    r.join(roomId);
    const ok = await r.next(MessageType.JoinResponseOk, undefined, 15_000);
    r.close();
    return VersionVector.decode(ok.version);
  };
  let outageEnds = -1;
  let outageStarted = 0;
  try {
    let op = 0;
    const deadline = o.minutes ? started + o.minutes * 60_000 : 0;
    for (; op < o.ops || (deadline && Date.now() < deadline); op++) {
      if (killAt.has(op)) {
        await tick(20); // let acks in flight arrive, so the check below has something to check
        log(`op ${op}: SIGKILL the server (acked so far ${clients.reduce((n, c) => n + c.acked, 0)})`);
        await killChild(child, 'SIGKILL');
        report.kills++;
        for (const c of clients) c.leave();
        if (process.env.SQLROOM_SOAK_BREAK_WAL) rmDir(walDir); // to see the check fail
        if (outageEnds >= 0) {
          report.outageSeconds += (Date.now() - outageStarted) / 1000;
          outageEnds = -1;
        }
        child = await startChild(db, walDir);
        // Before anyone resends: the restarted server has every acked update.
        for (const roomId of rooms) {
          const vv = await roomVersion(roomId);
          for (const cl of clients.filter((x) => x.roomId === roomId)) {
            const cmp = cl.ackedDoc.oplogVersion().compare(vv);
            if (cmp === undefined || cmp > 0) report.problems.push(`after kill ${report.kills}: ${roomId} lacks updates acked to client ${cl.doc.peerIdStr}`);
          }
          vv.free();
        }
      }
      const outage = outageAt.get(op);
      if (outage && outageEnds < 0) {
        log(`op ${op}: database unwritable for ${outage} operations`);
        child.proc.kill('SIGUSR1');
        report.outages++;
        outageEnds = op + outage;
        outageStarted = Date.now();
      }
      if (op === outageEnds) {
        child.proc.kill('SIGUSR2');
        report.outageSeconds += (Date.now() - outageStarted) / 1000;
        outageEnds = -1;
        log(`op ${op}: database writable again`);
      }
      const c = clients[rng.below(clients.length)];
      if (!c.connected) {
        await c.join(child.url);
        report.joins++;
      } else if (rng.below(20) === 0) {
        c.leave();
        report.leaves++;
      } else c.edit(rng);
      if (op % 25 === 0) {
        await tick(5);
        report.memory.peakMb = Math.max(report.memory.peakMb, rssMb(child.proc.pid!));
      }
      if (op % 500 === 0 && op > 0) log(`op ${op}: sent ${clients.reduce((n, c) => n + c.sent, 0)}, acked ${clients.reduce((n, c) => n + c.acked, 0)}, server RSS ${rssMb(child.proc.pid!).toFixed(0)} MB`);
    }
    report.operations = op;
    if (outageEnds >= 0) {
      child.proc.kill('SIGUSR2');
      report.outageSeconds += (Date.now() - outageStarted) / 1000;
    }
    // Settle: everyone joins (resending what the server lacks) until every update is acked.
    for (const c of clients) {
      if (!c.connected) await c.join(child.url);
    }
    await waitFor(() => clients.every((c) => c.unacked.size === 0), 'every update acked', 120_000);
    // Converge: each client has what its room has.
    for (const roomId of rooms) {
      const vv = await roomVersion(roomId);
      await waitFor(() => clients.filter((c) => c.roomId === roomId).every((c) => c.doc.oplogVersion().compare(vv) === 0), `clients of ${roomId} converged`, 60_000);
      vv.free();
    }
    report.updatesSent = clients.reduce((n, c) => n + c.sent, 0);
    report.updatesAcked = clients.reduce((n, c) => n + c.acked, 0);
    // Memory: everyone leaves; rooms unload when idle; GC; compare with a fresh server's baseline.
    for (const c of clients) c.leave();
    await waitFor(async () => ((await (await fetch(`${child.httpUrl}/healthz`)).json()) as { rooms: number }).rooms === 0, 'rooms unloaded', 30_000);
    child.proc.kill('SIGHUP');
    await tick(500);
    report.memory.endMb = rssMb(child.proc.pid!);
    await killChild(child, 'SIGTERM');
    // Fresh recovery in a new process; compare with every client.
    const seen = await inspectInChild(db, rooms);
    report.rowsInDatabase = seen.rows;
    report.problems.push(...seen.problems);
    for (const roomId of rooms) {
      const recovered = new LoroDoc();
      recovered.import(Buffer.from(seen.states[roomId], 'base64'));
      for (const c of clients.filter((x) => x.roomId === roomId)) {
        if (c.doc.oplogVersion().compare(recovered.oplogVersion()) !== 0) report.problems.push(`${roomId}: client ${c.doc.peerIdStr} and the recovered room differ in version`);
        else if (canonical(c.doc.toJSON()) !== canonical(recovered.toJSON())) report.problems.push(`${roomId}: client ${c.doc.peerIdStr} and the recovered room differ in state`);
      }
      recovered.free();
    }
    // Baseline: the same server binary, fresh, on the recovered database, idle, after GC.
    child = await startChild(db, walDir);
    await tick(300);
    child.proc.kill('SIGHUP');
    await tick(500);
    report.memory.baselineMb = rssMb(child.proc.pid!);
    await killChild(child, 'SIGTERM');
  } finally {
    for (const c of clients) c.leave();
    await killChild(child, 'SIGKILL');
    report.seconds = (Date.now() - started) / 1000;
    rmDir(dir);
  }
  return report;
}

if (require.main === module) {
  const { values } = parseArgs({ options: { minutes: { type: 'string' }, clients: { type: 'string' }, rooms: { type: 'string' }, ops: { type: 'string' }, kills: { type: 'string' }, outages: { type: 'string' }, seed: { type: 'string' } } });
  const minutes = values.minutes ? Number(values.minutes) : undefined;
  const opts: SoakOptions = {
    clients: Number(values.clients ?? 40),
    rooms: Number(values.rooms ?? 12),
    ops: Number(values.ops ?? (minutes ? 1000 : 2000)),
    minutes,
    kills: Number(values.kills ?? (minutes ? Math.max(2, Math.round(minutes * 2)) : 3)),
    outages: Number(values.outages ?? (minutes ? Math.max(1, Math.round(minutes)) : 2)),
    seed: Number(values.seed ?? Date.now() % 2 ** 31),
    log: (l) => console.log(`  ${l}`),
  };
  if (minutes) {
    // Spread kills and outages over an estimate of the operations that fit in the time.
    opts.ops = Math.max(opts.ops, Math.round(minutes * 60 * 150));
  }
  console.log(`soak: ${JSON.stringify({ ...opts, log: undefined })}`);
  runSoak(opts).then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      const ok = r.problems.length === 0 && r.memory.endMb <= Math.max(3 * r.memory.baselineMb, r.memory.baselineMb + 200);
      console.log(ok ? 'soak: OK' : 'soak: FAILED');
      process.exit(ok ? 0 : 1);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(2);
    },
  );
}
