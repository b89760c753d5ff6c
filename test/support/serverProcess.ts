// Runs the server CLI (out/server/cli.js) as a child process for crash tests.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { rmDir, tmpDir } from './serverHarness';

export interface ChildServer {
  proc: ChildProcess;
  url: string;
  httpUrl: string;
  stderr: () => string;
  /** Sends `signal`; resolves with the exit code (null when a signal ended it). */
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

export const CLI = path.resolve(__dirname, '../../server/cli.js');

export function spawnServer(args: string[], timeoutMs = 15_000): Promise<ChildServer> {
  return spawnListening([CLI, 'serve', '--port', '0', ...args], timeoutMs);
}

/**
 * Start `node <argv>` and resolve once it prints its `{"listening": ...}` line
 * (the CLI's serve command, or a test's own server script).
 */
export function spawnListening(argv: string[], timeoutMs = 15_000): Promise<ChildServer> {
  const proc = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  // Keep the tail: long runs (the soak) log a lot.
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-64_000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`server did not start in ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"listening"'));
      if (!line) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      const info = JSON.parse(line) as { listening: string; http: string };
      resolve({
        proc,
        url: info.listening,
        httpUrl: info.http,
        stderr: () => err,
        kill: (signal) =>
          new Promise((res) => {
            // Already gone (an exit code, or killed by a signal: then exitCode stays null).
            if (proc.exitCode !== null || proc.signalCode !== null) return res(proc.exitCode);
            proc.once('exit', (code) => res(code));
            proc.kill(signal);
          }),
      });
    });
  });
}

/**
 * One CLI server at a time on files in a fresh temporary folder (`dir`): the
 * crash tests' set-up. `dispose()` (in `finally`) SIGKILLs a server still
 * running (after SIGCONT, should the test have stopped it) and removes the
 * folder.
 */
export class CliServerRun {
  readonly dir = tmpDir();
  /** The default database file (`args()` without a store). */
  readonly db = path.join(this.dir, 'db.duckdb');
  private current: ChildServer | null = null;

  /**
   * `store` (default: `--db <dir>/db.duckdb`), the WAL in `<dir>/wal`, a
   * flush every 50 ms and info logs (the warn lines tests wait for), then `extra`.
   */
  args(store: string[] = ['--db', this.db], extra: string[] = []): string[] {
    return [...store, '--wal-dir', path.join(this.dir, 'wal'), '--flush-ms', '50', '--log-level', 'info', ...extra];
  }

  async start(args: string[], timeoutMs: number): Promise<ChildServer> {
    assert.equal(this.current, null, 'one server at a time: stop or kill the running one first');
    this.current = await spawnServer(args, timeoutMs);
    return this.current;
  }

  /** Sends `signal` to the running server and forgets it; resolves with its exit code (null: ended by the signal). */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    const s = this.running();
    this.current = null;
    return s.kill(signal);
  }

  /** SIGTERM: the server must exit 0 (a graceful stop that flushed everything). */
  async stop(): Promise<void> {
    const s = this.running();
    assert.equal(await this.kill('SIGTERM'), 0, `graceful exit; stderr: ${s.stderr().slice(-1500)}`);
  }

  async dispose(): Promise<void> {
    const s = this.current;
    this.current = null;
    try {
      if (s) {
        s.proc.kill('SIGCONT');
        await s.kill('SIGKILL');
      }
    } finally {
      rmDir(this.dir);
    }
  }

  private running(): ChildServer {
    if (!this.current) throw new Error('no server is running');
    return this.current;
  }
}

/** One value of the server's /metrics (NaN when it is not there). */
export async function metric(s: { httpUrl: string }, name: string): Promise<number> {
  const text = await (await fetch(`${s.httpUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Run the CLI to completion (non-serve commands). */
export function runCli(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
