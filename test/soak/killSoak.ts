// SIGKILLs at random moments under load from stock loro-websocket clients,
// on DuckDB and on DuckLake. After each kill the server is restarted (same
// port, same database and WAL) and, BEFORE any client reconnects and resends,
// a fresh joiner checks that every room holds every update the server acked
// Ok. Then the clients reconnect (the stock client rejoins and sends what the
// server lacks) and the load goes on. At the end every client and a fresh
// recovery agree, and (DuckDB) ops_log holds no op twice and has no hole.
//   npm run soak:kills -- [--kills 100] [--backends duckdb,ducklake] [--clients 8] [--rooms 3] [--seed N]
// (kills are split evenly across the backends)
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LoroDoc, VersionVector, decodeImportBlobMeta } from 'loro-crdt';
import { LoroWebsocketClient } from 'loro-websocket';
import { CrdtType, MessageType, UpdateStatusCode, decode } from 'loro-protocol';
import { WebSocket } from 'ws';
import { RawClient, rmDir, tmpDir, waitFor } from '../support/serverHarness';
import { inspectInChild } from '../support/inspectDb';
import { spawnListening, type ChildServer } from '../support/serverProcess';
import { Rng } from './rng';
import { freePort } from '../support/freePort';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LoroAdaptor } = require('loro-adaptors/loro') as typeof import('loro-adaptors/dist/loro');

export type Backend = 'duckdb' | 'ducklake';

export interface KillSoakOptions {
  kills: number;
  backends: Backend[];
  clients: number;
  rooms: number;
  seed: number;
  extensionDir: string;
  log?: (line: string) => void;
}

export interface KillSoakReport {
  seconds: number;
  kills: Record<Backend, number>;
  updatesAcked: number;
  /** Acked updates checked present by the fresh joiner right after a restart. */
  checkedAfterKills: number;
  problems: string[];
}

const CLI = path.resolve(__dirname, '../../server/cli.js');
export const DEFAULT_EXTENSION_DIR = process.env.SQLROOM_EXTENSION_DIR ?? path.resolve(__dirname, '../../../.sqlroom-tools/duckdb-extensions');

/** Whether the DuckLake extension binary is installed (scripts/install-duckdb-extensions.sh). */
export function hasDuckLake(extensionDir: string): boolean {
  return existsSync(path.join(extensionDir, 'v1.5.5', 'linux_amd64', 'ducklake.duckdb_extension'));
}

/**
 * What a stock client's socket sends and receives, read off the wire: the
 * Loro updates of every DocUpdate it sends (by batch id) and the acks it
 * gets. The stock client creates its socket with the global WebSocket
 * constructor; during the soak that is this subclass of ws's WebSocket, and
 * each socket reports to the Typist that was opening a connection when it
 * was created (connect() creates the socket synchronously).
 */
class WireSocket extends WebSocket {
  static opening: Typist | null = null;
  private readonly owner: Typist;
  constructor(url: string) {
    super(url);
    const owner = WireSocket.opening;
    if (!owner) throw new Error('kill soak: a socket opened outside Typist.open()');
    this.owner = owner;
    this.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (!isBinary) return;
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      owner.received(decode(new Uint8Array(bytes)));
    });
  }
  override send(data: unknown, ...rest: unknown[]): void {
    if (data instanceof Uint8Array || data instanceof ArrayBuffer) this.owner.sent(decode(data instanceof ArrayBuffer ? new Uint8Array(data) : data));
    (super.send as (...a: unknown[]) => void).call(this, data, ...rest);
  }
}

/** A stock client that types into its own text; remembers, per peer, the highest counter acked Ok (read off the wire). */
class Typist {
  readonly doc = new LoroDoc();
  readonly client: LoroWebsocketClient;
  /** peer -> counter end of everything acked Ok. */
  readonly acked = new Map<string, number>();
  ackedUpdates = 0;
  /** Batch id -> the Loro updates of a DocUpdate this client sent (until its ack). */
  private readonly batches = new Map<string, Uint8Array[]>();
  /** Wire oddities that would make the ack bookkeeping wrong. */
  readonly problems: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private n = 0;
  constructor(
    url: string,
    readonly roomId: string,
    peer: bigint,
  ) {
    this.doc.setPeerId(peer);
    // Reconnects only when told (after the check that follows each kill).
    this.client = this.open(() => new LoroWebsocketClient({ url, disablePing: true, reconnect: { enabled: false } }));
  }
  /** Runs `f` (which may create the client's socket) with this Typist as the owner of new sockets. */
  private open<T>(f: () => T): T {
    const globals = globalThis as { WebSocket?: unknown };
    const before = globals.WebSocket;
    globals.WebSocket = WireSocket;
    WireSocket.opening = this;
    try {
      return f();
    } finally {
      WireSocket.opening = null;
      globals.WebSocket = before;
    }
  }
  sent(m: ReturnType<typeof decode>): void {
    if (m.crdt !== CrdtType.Loro) return;
    if (m.type === MessageType.DocUpdate) this.batches.set(m.batchId, m.updates);
    else if (m.type === MessageType.DocUpdateFragmentHeader) this.problems.push(`client ${this.doc.peerIdStr} sent a fragmented update; its ack is not tracked`);
  }
  received(m: ReturnType<typeof decode>): void {
    if (m.crdt !== CrdtType.Loro || m.type !== MessageType.Ack) return;
    const updates = this.batches.get(m.refId);
    this.batches.delete(m.refId);
    if (m.status !== UpdateStatusCode.Ok || !updates) return;
    for (const u of updates) this.noteAcked(u);
  }
  async join(): Promise<void> {
    await this.client.waitConnected();
    await this.client.join({ roomId: this.roomId, crdtAdaptor: new LoroAdaptor(this.doc, { onUpdateError: () => undefined }) });
  }
  private noteAcked(update: Uint8Array): void {
    this.ackedUpdates++;
    const meta = decodeImportBlobMeta(update, false);
    for (const [peer, end] of meta.partialEndVersionVector.toJSON()) this.acked.set(peer, Math.max(this.acked.get(peer) ?? 0, end));
    meta.partialStartVersionVector.free();
    meta.partialEndVersionVector.free();
  }
  start(rng: Rng): void {
    const tick = () => {
      const t = this.doc.getText(`t-${this.doc.peerIdStr}`);
      t.insert(rng.below(t.length + 1), `${this.n++}:${'abcdefgh'.slice(0, 1 + rng.below(8))} `);
      this.doc.commit();
      this.timer = setTimeout(tick, 3 + rng.below(25));
    };
    this.timer = setTimeout(tick, rng.below(20));
  }
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
  reconnect(): Promise<void> {
    return this.open(() => this.client.connect({ resetBackoff: true }));
  }
  close(): void {
    this.stop();
    this.client.destroy();
  }
}

/** The room's version as a fresh joiner sees it. */
async function roomVersion(url: string, roomId: string): Promise<VersionVector> {
  const raw = await RawClient.connect(url);
  try {
    raw.join(roomId);
    const ok = await raw.next(MessageType.JoinResponseOk, (m) => m.roomId === roomId, 30_000);
    return VersionVector.decode(ok.version);
  } finally {
    raw.close();
  }
}

async function runBackend(backend: Backend, kills: number, o: KillSoakOptions, rng: Rng, report: KillSoakReport): Promise<void> {
  const log = o.log ?? (() => undefined);
  const dir = tmpDir(`sqlroom-kills-${backend}-`);
  const port = await freePort();
  const store =
    backend === 'duckdb'
      ? ['--db', path.join(dir, 'db.duckdb')]
      : ['--lake', `ducklake:${path.join(dir, 'meta.ducklake')}`, '--data-path', path.join(dir, 'lake'), '--extension-dir', o.extensionDir];
  const args = [CLI, 'serve', '--port', String(port), ...store, '--wal-dir', path.join(dir, 'wal'), '--flush-ops', '25', '--flush-ms', '150', '--snapshot-ops', '60', '--log-level', 'warn'];
  const start = () => spawnListening(args, 120_000);
  const rooms = Array.from({ length: o.rooms }, (_, i) => `kills-${backend}-${i}`);
  let child: ChildServer = await start();
  const typists: Typist[] = [];
  try {
    for (let i = 0; i < o.clients; i++) {
      const t = new Typist(child.url, rooms[i % rooms.length], BigInt(20_000 + i));
      await t.join();
      typists.push(t);
    }
    for (const t of typists) t.start(rng);
    for (let k = 0; k < kills; k++) {
      // A random moment under load.
      await new Promise((r) => setTimeout(r, 200 + rng.below(1500)));
      await child.kill('SIGKILL');
      report.kills[backend]++;
      child = await start();
      // Before any client reconnects (and resends): every acked update is in its room.
      for (const roomId of rooms) {
        const vv = await roomVersion(child.url, roomId);
        for (const t of typists.filter((x) => x.roomId === roomId)) {
          for (const [peer, end] of t.acked) {
            const have = vv.get(peer as `${number}`) ?? 0;
            if (have < end) report.problems.push(`${backend} kill ${k + 1}: ${roomId} has peer ${peer} up to ${have}, but ${end} was acked to client ${t.doc.peerIdStr}`);
          }
          report.checkedAfterKills += t.ackedUpdates;
        }
        vv.free();
      }
      log(`${backend}: kill ${k + 1}/${kills} checked (acked so far ${typists.reduce((n, t) => n + t.ackedUpdates, 0)})`);
      await Promise.all(typists.map((t) => t.reconnect()));
    }
    // Settle: stop typing; every client's edits reach its room and everyone converges.
    for (const t of typists) t.stop();
    for (const roomId of rooms) {
      const mine = typists.filter((t) => t.roomId === roomId);
      await waitFor(
        async () => {
          const vv = await roomVersion(child.url, roomId);
          const ok = mine.every((t) => t.doc.oplogVersion().compare(vv) === 0);
          vv.free();
          return ok;
        },
        `${backend}: clients of ${roomId} and the room converge`,
        120_000,
      ).catch((err: Error) => report.problems.push(err.message));
    }
    report.updatesAcked += typists.reduce((n, t) => n + t.ackedUpdates, 0);
    for (const t of typists) report.problems.push(...t.problems.map((p) => `${backend}: ${p}`));
    for (const t of typists) t.close();
    await child.kill('SIGTERM');
    // A fresh recovery in a new process equals the clients.
    if (backend === 'duckdb') {
      const seen = await inspectInChild(path.join(dir, 'db.duckdb'), rooms, 120_000);
      report.problems.push(...seen.problems.map((p) => `${backend}: ${p}`));
      for (const roomId of rooms) {
        const doc = new LoroDoc();
        doc.import(Buffer.from(seen.states[roomId], 'base64'));
        for (const t of typists.filter((x) => x.roomId === roomId)) {
          if (t.doc.oplogVersion().compare(doc.oplogVersion()) !== 0) report.problems.push(`${backend}: ${roomId} recovered from the database differs from client ${t.doc.peerIdStr}`);
        }
        doc.free();
      }
    } else {
      child = await start();
      for (const roomId of rooms) {
        const vv = await roomVersion(child.url, roomId);
        for (const t of typists.filter((x) => x.roomId === roomId)) {
          if (t.doc.oplogVersion().compare(vv) !== 0) report.problems.push(`${backend}: ${roomId} after a restart differs from client ${t.doc.peerIdStr}`);
        }
        vv.free();
      }
      await child.kill('SIGTERM');
    }
  } finally {
    for (const t of typists) t.close();
    await child.kill('SIGKILL');
    rmDir(dir);
  }
}

export async function runKillSoak(o: KillSoakOptions): Promise<KillSoakReport> {
  const started = Date.now();
  const rng = new Rng(o.seed || 1);
  const report: KillSoakReport = { seconds: 0, kills: { duckdb: 0, ducklake: 0 }, updatesAcked: 0, checkedAfterKills: 0, problems: [] };
  const per = Math.floor(o.kills / o.backends.length);
  for (const [i, b] of o.backends.entries()) await runBackend(b, i === 0 ? o.kills - per * (o.backends.length - 1) : per, o, rng, report);
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

if (require.main === module) {
  const { values } = parseArgs({ options: { kills: { type: 'string' }, backends: { type: 'string' }, clients: { type: 'string' }, rooms: { type: 'string' }, seed: { type: 'string' } } });
  const extensionDir = DEFAULT_EXTENSION_DIR;
  const backends = (values.backends ?? (hasDuckLake(extensionDir) ? 'duckdb,ducklake' : 'duckdb')).split(',') as Backend[];
  const opts: KillSoakOptions = {
    kills: Number(values.kills ?? 100),
    backends,
    clients: Number(values.clients ?? 8),
    rooms: Number(values.rooms ?? 3),
    seed: Number(values.seed ?? Date.now() % 2 ** 31),
    extensionDir,
    log: (l) => console.log(`  ${l}`),
  };
  console.log(`kill soak: ${JSON.stringify({ ...opts, log: undefined })}`);
  runKillSoak(opts).then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      console.log(r.problems.length === 0 ? 'kill soak: OK' : 'kill soak: FAILED');
      process.exit(r.problems.length === 0 ? 0 : 1);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(2);
    },
  );
}
