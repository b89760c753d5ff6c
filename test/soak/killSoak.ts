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
import { LoroDoc } from 'loro-crdt';
import { rmDir, tmpDir, waitFor } from '../support/serverHarness';
import { Typist, roomVersion, within } from '../support/stockTypist';
import { inspectInChild } from '../support/inspectDb';
import { spawnListening, type ChildServer } from '../support/serverProcess';
import { Rng } from './rng';
import { freePort } from '../support/freePort';

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
 * Every client reconnects (the stock client rejoins its room and sends what the
 * server lacks) and gets at least one new ack before the next kill is timed, so
 * each kill falls on a server that is really taking updates. A client that does
 * not get there within a minute is a problem (with its socket closes and the
 * server's log tail); it is asked to connect again.
 */
async function reconnectAll(typists: Typist[], backend: Backend, k: number, child: ChildServer, report: KillSoakReport): Promise<void> {
  await Promise.all(
    typists.map(async (t) => {
      const before = t.ackedUpdates;
      try {
        await within(t.reconnect(), 60_000, 'reconnect');
        await waitFor(() => t.ackedUpdates > before, 'a new ack', 60_000);
      } catch (err) {
        report.problems.push(`${backend} after kill ${k + 1}: client ${t.doc.peerIdStr} (${t.client.getStatus()}, closes ${t.closes.join('; ')}): ${(err as Error).message}; server log: ${child.stderr().slice(-800)}`);
        await within(t.reconnect(), 60_000, 'second reconnect').catch(() => undefined);
      }
    }),
  );
}

async function runBackend(backend: Backend, kills: number, o: KillSoakOptions, rng: Rng, report: KillSoakReport): Promise<void> {
  const log = o.log ?? (() => undefined);
  const dir = tmpDir(`sqlroom-kills-${backend}-`);
  const port = await freePort();
  const store =
    backend === 'duckdb'
      ? ['--db', path.join(dir, 'db.duckdb')]
      : ['--lake', `ducklake:${path.join(dir, 'meta.ducklake')}`, '--data-path', path.join(dir, 'lake'), '--extension-dir', o.extensionDir];
  const args = [CLI, 'serve', '--port', String(port), ...store, '--wal-dir', path.join(dir, 'wal'), '--flush-ops', '25', '--flush-ms', '150', '--snapshot-ops', '60', '--log-level', 'info'];
  const start = () => spawnListening(args, 300_000);
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
      await reconnectAll(typists, backend, k, child, report);
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
