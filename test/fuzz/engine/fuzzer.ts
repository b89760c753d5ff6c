// The fuzzing loop (runs inside a worker thread, see runner.ts): run the seed
// corpus, then mutate corpus entries and keep every input that reaches a new
// feature (branch arm / function at a new hit-count bucket).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CoverageTracker } from './coverage';
import { Rng, mutate, type MutationContext } from './mutate';
import type { FuzzTarget } from './target';

export interface FuzzOptions {
  /** Stop after this many executions (mutated inputs; seeds not counted)... */
  runs?: number;
  /** ... or after this many seconds (whichever first). */
  seconds?: number;
  seed: number;
  corpusDir: string;
  /** Per-execution bound for async work (ms); exceeding it is a "hang" crash. */
  hangMs: number;
  /** Extra inputs to start from (the corpus a previous worker grew). */
  extraSeeds?: string[];
  /** Stop at the first crash. */
  stopOnCrash?: boolean;
  /** Called with every input; the runner copies it to shared memory for the watchdog. */
  onInput?(data: Uint8Array): void;
  onProgress?(p: FuzzProgress): void;
}

export interface Crash {
  kind: 'error' | 'hang';
  message: string;
  stack: string;
  input: string; // base64
}

export interface FuzzProgress {
  executions: number;
  seedExecutions: number;
  seconds: number;
  corpus: number;
  features: number;
  branchesCovered: number;
  branchesTotal: number;
  crashes: Crash[];
  /** Known defects outside this project, with how often they were hit. */
  knownIssues: { message: string; count: number; input: string }[];
  /** The run ended early because a known issue poisoned the process. */
  poisoned: boolean;
  newInputs: string[]; // base64, inputs added to the corpus this run
}

function errInfo(err: unknown): { message: string; stack: string } {
  if (err instanceof Error) return { message: `${err.name}: ${err.message}`, stack: err.stack ?? '' };
  return { message: `non-Error thrown: ${String(err)}`, stack: '' };
}

/** Signature to dedupe crashes: first line of the message without numbers, plus the first stack frame. */
function crashKey(c: { message: string; stack: string }): string {
  const frame = c.stack.split('\n').find((l) => l.trim().startsWith('at ')) ?? '';
  return `${c.message.split('\n')[0].replace(/\d+/g, 'N')}|${frame.trim()}`;
}

export async function fuzz(target: FuzzTarget, opts: FuzzOptions): Promise<FuzzProgress> {
  const tracker = new CoverageTracker();
  const rng = new Rng(opts.seed);
  const enc = new TextEncoder();
  const dictionary = (target.dictionary ?? []).map((t) => (typeof t === 'string' ? enc.encode(t) : t));
  const corpus: Uint8Array[] = [];
  const crashes: Crash[] = [];
  const crashKeys = new Set<string>();
  const newInputs: string[] = [];
  const knownIssues: FuzzProgress['knownIssues'] = [];
  let poisoned = false;
  const started = performance.now();
  let executions = 0;
  let seedExecutions = 0;

  const runOne = async (data: Uint8Array): Promise<number> => {
    opts.onInput?.(data);
    tracker.reset();
    let failure: { kind: Crash['kind']; message: string; stack: string } | null = null;
    try {
      const r = target.exec(data);
      if (r && typeof (r as Promise<void>).then === 'function') {
        let timer: NodeJS.Timeout | undefined;
        const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), opts.hangMs)));
        const res = await Promise.race([(r as Promise<void>).then(() => 'done' as const), hang]);
        clearTimeout(timer);
        if (res === 'hang') failure = { kind: 'hang', message: `execution did not finish within ${opts.hangMs} ms`, stack: '' };
      }
    } catch (err) {
      if (err instanceof Error && err.name === 'KnownIssue') {
        const key = err.message.split('\n')[0].replace(/\d+/g, 'N');
        const k = knownIssues.find((i) => i.message.split('\n')[0].replace(/\d+/g, 'N') === key);
        if (k) k.count++;
        else knownIssues.push({ message: err.message, count: 1, input: Buffer.from(data).toString('base64') });
        if ((err as Error & { poisoned?: boolean }).poisoned) poisoned = true;
      } else if (!target.isExpected(err)) failure = { kind: 'error', ...errInfo(err) };
    }
    const fresh = tracker.collect();
    if (failure) {
      const key = crashKey(failure);
      if (!crashKeys.has(key)) {
        crashKeys.add(key);
        crashes.push({ ...failure, input: Buffer.from(data).toString('base64') });
      }
    }
    return fresh;
  };

  // Seeds.
  const seeds = fs.existsSync(opts.corpusDir) ? fs.readdirSync(opts.corpusDir).filter((n) => !n.startsWith('.')).sort() : [];
  for (const name of seeds) {
    const data = new Uint8Array(fs.readFileSync(path.join(opts.corpusDir, name)));
    await runOne(data);
    seedExecutions++;
    corpus.push(data.length > target.maxLen ? data.slice(0, target.maxLen) : data);
  }
  for (const b64 of opts.extraSeeds ?? []) {
    if (poisoned) break;
    const data = new Uint8Array(Buffer.from(b64, 'base64'));
    await runOne(data);
    corpus.push(data);
  }
  if (corpus.length === 0) corpus.push(new Uint8Array());

  const ctx: MutationContext = { rng, maxLen: target.maxLen, dictionary, other: () => corpus[rng.below(corpus.length)] };
  const progress = (): FuzzProgress => {
    const b = tracker.branches();
    return { executions, seedExecutions, seconds: (performance.now() - started) / 1000, corpus: corpus.length, features: tracker.features, branchesCovered: b.covered, branchesTotal: b.total, crashes, knownIssues, poisoned, newInputs };
  };
  const deadline = opts.seconds !== undefined ? started + opts.seconds * 1000 : Infinity;
  const maxRuns = opts.runs ?? Infinity;
  if (maxRuns === Infinity && deadline === Infinity) throw new Error('give runs or seconds');
  let lastReport = performance.now();
  while (executions < maxRuns && performance.now() < deadline) {
    if ((opts.stopOnCrash && crashes.length) || poisoned) break;
    // Favour recent (usually deeper) corpus entries half of the time.
    const parent = rng.chance(0.5) ? corpus[corpus.length - 1 - rng.below(Math.min(corpus.length, 16))] : corpus[rng.below(corpus.length)];
    const child = mutate(parent, ctx);
    executions++;
    if ((await runOne(child)) > 0 && !poisoned) {
      corpus.push(child);
      newInputs.push(Buffer.from(child).toString('base64'));
    }
    if (performance.now() - lastReport > 1000) {
      lastReport = performance.now();
      opts.onProgress?.(progress());
    }
  }
  return progress();
}
