// Runs the server CLI (out/server/cli.js) as a child process for crash tests.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export interface ChildServer {
  proc: ChildProcess;
  url: string;
  httpUrl: string;
  stderr: () => string;
  /** Sends `signal`; resolves with the exit code (null when a signal ended it). */
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

const CLI = path.resolve(__dirname, '../../server/cli.js');

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
