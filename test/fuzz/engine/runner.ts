// Runs one fuzz target in a worker thread with a watchdog: a synchronous
// hang (an input that never returns) or a dying thread is reported as a crash
// with the input that caused it, read from shared memory.
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import type { Crash, FuzzProgress } from './fuzzer';
import type { WorkerData } from './worker';

export interface RunOptions {
  target: string;
  runs?: number;
  seconds?: number;
  seed?: number;
  corpusDir?: string;
  /** Async work per input is bounded by this (ms). */
  hangMs?: number;
  /** No heartbeat for this long = a synchronous hang (ms). */
  watchdogMs?: number;
  stopOnCrash?: boolean;
  onProgress?(p: FuzzProgress): void;
}

export interface FuzzReport extends FuzzProgress {
  target: string;
  execPerSecond: number;
}

export const FUZZ_ROOT = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fuzz');
export const TARGETS = ['protocol', 'importUpdate', 'sqlroomFile'];
const MAX_INPUT = 1 << 20;

/**
 * Runs the target until its budget (runs or seconds) is used; when a known
 * issue poisons a worker, the next worker starts from the corpus grown so far.
 */
export async function runFuzz(opts: RunOptions): Promise<FuzzReport & { workers: number }> {
  const started = performance.now();
  let total: FuzzReport | null = null;
  let workers = 0;
  const extraSeeds: string[] = [];
  for (;;) {
    workers++;
    const runsLeft = opts.runs !== undefined ? opts.runs - (total?.executions ?? 0) : undefined;
    const secondsLeft = opts.seconds !== undefined ? opts.seconds - (performance.now() - started) / 1000 : undefined;
    const r = await runWorker({ ...opts, runs: runsLeft, seconds: secondsLeft, seed: (opts.seed ?? 1) + workers - 1 }, extraSeeds);
    extraSeeds.push(...r.newInputs);
    if (!total) total = r;
    else {
      total.executions += r.executions;
      total.crashes.push(...r.crashes);
      for (const k of r.knownIssues) {
        const same = total.knownIssues.find((t) => t.message === k.message);
        if (same) same.count += k.count;
        else total.knownIssues.push(k);
      }
      total.newInputs.push(...r.newInputs);
      total.corpus = r.corpus;
      total.features = Math.max(total.features, r.features);
      total.branchesCovered = Math.max(total.branchesCovered, r.branchesCovered);
      total.branchesTotal = r.branchesTotal;
    }
    total.seconds = (performance.now() - started) / 1000;
    total.execPerSecond = total.executions / Math.max(total.seconds, 1e-3);
    const budgetLeft = (runsLeft === undefined || total.executions < opts.runs!) && (secondsLeft === undefined || total.seconds < opts.seconds!);
    if (!r.poisoned || !budgetLeft || r.crashes.length || workers >= 1000) return { ...total, workers };
  }
}

function runWorker(opts: RunOptions, extraSeeds: string[]): Promise<FuzzReport> {
  const shared = new SharedArrayBuffer(8 + MAX_INPUT);
  const header = new Int32Array(shared, 0, 2);
  const wd: WorkerData = {
    target: opts.target,
    shared,
    options: {
      runs: opts.runs,
      seconds: opts.seconds,
      seed: opts.seed ?? 1,
      corpusDir: opts.corpusDir ?? path.join(FUZZ_ROOT, 'corpus', opts.target),
      hangMs: opts.hangMs ?? 10_000,
      stopOnCrash: opts.stopOnCrash,
      extraSeeds,
    },
  };
  const worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: wd, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
  const watchdogMs = opts.watchdogMs ?? 30_000;
  const started = performance.now();
  let last: FuzzProgress | null = null;
  const currentInput = () => Buffer.from(new Uint8Array(shared, 8, Atomics.load(header, 1))).toString('base64');
  const report = (p: FuzzProgress): FuzzReport => ({ ...p, target: opts.target, execPerSecond: p.executions / Math.max(p.seconds, 1e-3) });
  const empty = (): FuzzProgress => ({ executions: 0, seedExecutions: 0, seconds: (performance.now() - started) / 1000, corpus: 0, features: 0, branchesCovered: 0, branchesTotal: 0, crashes: [], knownIssues: [], poisoned: false, newInputs: [] });
  return new Promise((resolve, reject) => {
    let beat = -1;
    let beatAt = performance.now();
    let settled = false;
    const extraCrashes: Crash[] = [];
    const finish = (p: FuzzProgress) => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      void worker.terminate();
      resolve(report({ ...p, crashes: [...p.crashes, ...extraCrashes] }));
    };
    const watch = setInterval(() => {
      const b = Atomics.load(header, 0);
      if (b !== beat) {
        beat = b;
        beatAt = performance.now();
        return;
      }
      if (performance.now() - beatAt > watchdogMs) {
        extraCrashes.push({ kind: 'hang', message: `no progress for ${watchdogMs} ms (synchronous hang)`, stack: '', input: currentInput() });
        finish(last ?? empty());
      }
    }, 250);
    worker.on('message', (m: { type: string; progress?: FuzzProgress; message?: string; stack?: string }) => {
      if (m.type === 'progress') {
        last = m.progress!;
        opts.onProgress?.(m.progress!);
      } else if (m.type === 'done') finish(m.progress!);
      else if (m.type === 'unhandled') extraCrashes.push({ kind: 'error', message: `unhandled rejection: ${m.message}`, stack: m.stack ?? '', input: currentInput() });
      else if (m.type === 'fatal') {
        settled = true;
        clearInterval(watch);
        void worker.terminate();
        reject(new Error(`fuzz worker failed: ${m.message}\n${m.stack}`));
      }
    });
    worker.on('error', (err) => {
      extraCrashes.push({ kind: 'error', message: `worker died: ${err.message}`, stack: err.stack ?? '', input: currentInput() });
      finish(last ?? empty());
    });
    worker.on('exit', (code) => {
      if (settled) return;
      extraCrashes.push({ kind: 'error', message: `worker exited with code ${code}`, stack: '', input: currentInput() });
      finish(last ?? empty());
    });
  });
}
