// A separate real process that opens a DuckDB file read-write, which takes
// DuckDB's file lock, and holds it until SIGTERM (or its stdin closes).
//   node out/test/support/dbLockHolder.js <db>
// Prints {"holding":<pid>} once it holds the lock, or {"error":"…"} and exits 3
// when it cannot take it.
import { spawn, type ChildProcess } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';

export interface LockHolder {
  proc: ChildProcess;
  /** Resolves with {holding: pid} or {error: message}. */
  result: Promise<{ holding?: number; error?: string }>;
  /** Releases the lock (SIGTERM) and waits for the exit. */
  release(): Promise<void>;
}

export function holdDatabaseLock(db: string): LockHolder {
  const proc = spawn(process.execPath, [__filename, db], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const result = new Promise<{ holding?: number; error?: string }>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve(JSON.parse(line) as { holding?: number; error?: string });
    });
    proc.once('exit', (code) => reject(new Error(`lock holder exited with ${code} before saying anything: ${err}`)));
  });
  result.catch(() => undefined);
  return {
    proc,
    result,
    release: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

async function main(): Promise<void> {
  const db = process.argv[2];
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(db);
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: (e as Error).message.split('\n')[0] }) + '\n', () => process.exit(3));
    return;
  }
  const conn = await instance.connect();
  await conn.run('SELECT 1');
  const stop = () => {
    conn.closeSync();
    instance.closeSync();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.stdout.write(JSON.stringify({ holding: process.pid }) + '\n');
}

if (require.main === module) void main();
