// A fresh recovery in a new process: opens a DuckDB database the server wrote,
// rebuilds rooms from snapshot + ops (as a restarting server does) and checks
// the ops_log invariants (no op twice, no hole). Run as a script by inspectInChild(); prints JSON.
import { spawn } from 'node:child_process';
import { LoroDoc } from 'loro-crdt';
import { buildDoc } from '../../server/rooms/syncCore';
import { InspectableDuckDb, opsLogHoles, opsLogProblems } from './inspectableStorage';

export interface Inspection {
  problems: string[];
  /** Room id -> base64 Loro snapshot of the recovered document. */
  states: Record<string, string>;
  rows: number;
}

/** The recovered document of `roomId` (the caller frees it). */
export function recoveredDoc(seen: Inspection, roomId: string): LoroDoc {
  const doc = new LoroDoc();
  doc.import(Buffer.from(seen.states[roomId], 'base64'));
  return doc;
}

export function inspectInChild(db: string, rooms: string[], timeoutMs = 60_000): Promise<Inspection> {
  const proc = spawn(process.execPath, [__filename, db, ...rooms], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    // 'close', not 'exit': stdout may still hold data when the process has exited.
    proc.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`inspectDb exited with ${code}: ${err.slice(-2000)}`));
      resolve(JSON.parse(out) as Inspection);
    });
  });
}

async function main(): Promise<void> {
  const [db, ...rooms] = process.argv.slice(2);
  const storage = new InspectableDuckDb({ path: db });
  await storage.init();
  const problems = await opsLogProblems(storage);
  const rows = Number((await storage.query('SELECT count(*) AS n FROM ops_log'))[0].n);
  const states: Record<string, string> = {};
  const versions = new Map<string, Map<string, number>>();
  for (const roomId of rooms) {
    const [docId, branch = 'main'] = roomId.split('@');
    const st = await storage.loadRoom(docId, branch);
    const doc = buildDoc(st.snapshot?.bytes ?? null, st.ops.map((o) => o.bytes));
    states[roomId] = Buffer.from(doc.export({ mode: 'snapshot' })).toString('base64');
    versions.set(`${docId}@${branch}`, new Map(doc.oplogVersion().toJSON()));
  }
  problems.push(...(await opsLogHoles(storage, versions)));
  await storage.close();
  // Exit only once the (large) output is flushed to the pipe.
  await new Promise<void>((resolve) => process.stdout.write(JSON.stringify({ problems, states, rows } satisfies Inspection), () => resolve()));
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
