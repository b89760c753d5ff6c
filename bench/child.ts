// Parent side of a server child process: spawn, wait ready, ask counters,
// sample its RSS from /proc, stop it.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { withTimeout } from './loroClient';
import type { SystemName } from './systems/types';

/** Linux clock ticks per second (USER_HZ), 100 on every mainstream kernel config. */
const CLK_TCK = 100;

type Msg = { type: string; url?: string; message?: string; value?: number; writes?: number; cpuMs?: number };

export class ServerChild {
  private proc!: ChildProcess;
  private waiters: { type: string; resolve: (m: Msg) => void }[] = [];
  private rssTimer?: NodeJS.Timeout;
  peakRssSampled = 0;
  url = '';
  /** The server's own CPU seconds (all threads) from start to the end of its graceful stop, when it stopped in time. */
  cpuSecondsAtStop = NaN;
  /** The last graceful stop did not finish within its timeout (the process was then killed). */
  stopTimedOut = false;

  /** `serverOptions`: extra startServer options for our server (JSON on the child's command line). */
  async start(name: SystemName, dir: string, extensionDir: string, timeoutMs = 60_000, serverOptions?: Record<string, unknown>): Promise<void> {
    const args = [name, dir, extensionDir, ...(serverOptions ? [JSON.stringify(serverOptions)] : [])];
    // SQLROOM_BENCH_CPU_PROF=<dir>: each server process writes its CPU profile there (Node refuses --cpu-prof in NODE_OPTIONS).
    const prof = process.env.SQLROOM_BENCH_CPU_PROF;
    this.proc = fork(path.join(__dirname, 'serverChild.js'), args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: prof ? [...process.execArgv, '--cpu-prof', '--cpu-prof-dir', prof] : process.execArgv,
    });
    this.proc.on('message', (m: Msg) => {
      const i = this.waiters.findIndex((w) => w.type === m.type || m.type === 'error');
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    });
    const exited = new Promise<Msg>((resolve) =>
      this.proc.once('exit', (code) => resolve({ type: 'error', message: `exited with code ${code}` })),
    );
    const m = await withTimeout(Promise.race([this.wait('ready'), exited]), timeoutMs, `${name} start`);
    if (m.type !== 'ready' || !m.url) throw new Error(`${name} did not start: ${m.message}`);
    this.url = m.url;
    this.rssTimer = setInterval(() => (this.peakRssSampled = Math.max(this.peakRssSampled, this.procKb('VmRSS'))), 250);
  }

  async writes(): Promise<number> {
    this.proc.send({ type: 'writes' });
    const m = await withTimeout(this.wait('writes'), 10_000, 'writes counter');
    return m.value ?? NaN;
  }

  /** Accepted updates not yet in the server's database (NaN when it cannot tell). */
  async backlog(): Promise<number> {
    this.proc.send({ type: 'backlog' });
    const m = await withTimeout(this.wait('backlog'), 10_000, 'backlog');
    return m.value ?? NaN;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Sends a signal to the server process (SIGSTOP/SIGCONT/SIGKILL); resolves on exit for SIGKILL. */
  async signal(sig: NodeJS.Signals): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = sig === 'SIGKILL' ? new Promise<void>((r) => this.proc.once('exit', () => r())) : Promise.resolve();
    if (sig === 'SIGKILL') clearInterval(this.rssTimer);
    this.proc.kill(sig);
    await exited;
  }

  /** Peak RSS in bytes: the kernel's high-water mark (VmHWM) or our samples. */
  peakRss(): number {
    return Math.max(this.procKb('VmHWM'), this.peakRssSampled) * 1024;
  }

  /** Graceful stop; returns the final DB write count. Kills after the timeout. */
  async stop(timeoutMs = 30_000): Promise<number> {
    clearInterval(this.rssTimer);
    if (this.proc.exitCode !== null) return NaN;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.send({ type: 'stop' });
    try {
      const m = await withTimeout(this.wait('stopped'), timeoutMs, 'stop');
      this.cpuSecondsAtStop = (m.cpuMs ?? NaN) / 1000;
      await withTimeout(exited, 5_000, 'exit');
      return m.writes ?? NaN;
    } catch {
      this.stopTimedOut = true;
      this.proc.kill('SIGKILL');
      await withTimeout(exited, 10_000, 'exit after SIGKILL').catch(() => undefined);
      return NaN;
    }
  }

  /** CPU seconds (user + system) the server process has used so far. */
  cpuSeconds(): number {
    try {
      // Fields after the ")" of the command name: utime and stime are 12th and 13th.
      const stat = readFileSync(`/proc/${this.proc.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) / CLK_TCK;
    } catch {
      return NaN;
    }
  }

  kill(): void {
    clearInterval(this.rssTimer);
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }

  private wait(type: string): Promise<Msg> {
    return new Promise((resolve) => this.waiters.push({ type, resolve }));
  }

  private procKb(field: string): number {
    try {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${this.proc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  }
}
