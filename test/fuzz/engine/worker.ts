// Worker-thread entry: installs the coverage hook, loads the target, fuzzes,
// and reports progress; the current input sits in shared memory so the
// parent can save it if this thread hangs or dies.
import { parentPort, workerData } from 'node:worker_threads';
import * as path from 'node:path';
import { installCoverageHook } from './instrument';
import { fuzz, type FuzzOptions, type FuzzProgress } from './fuzzer';
import type { FuzzTarget } from './target';

export interface WorkerData {
  target: string;
  options: Omit<FuzzOptions, 'onInput' | 'onProgress'>;
  /** [0] = heartbeat counter, [1] = current input length; bytes after 8. */
  shared: SharedArrayBuffer;
}

// Loro's panic hook prints every panic with its stack; they are counted as
// known issues in the report instead.
const consoleError = console.error.bind(console);
console.error = (...args: unknown[]) => {
  if (args.some((a) => String(a).includes('panicked at'))) return;
  consoleError(...args);
};

async function main(): Promise<void> {
  const data = workerData as WorkerData;
  const header = new Int32Array(data.shared, 0, 2);
  const bytes = new Uint8Array(data.shared, 8);
  const targetsDir = path.resolve(__dirname, '../targets');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(path.join(targetsDir, `${data.target}.js`)) as { instrument: RegExp[]; target: FuzzTarget };
  // A target module loads the code under test only in setup(), so the hook
  // is in place before those modules are required.
  installCoverageHook(mod.instrument);
  const target = mod.target;
  await target.setup();
  const strip = (p: FuzzProgress) => ({ ...p, newInputs: [] as string[] });
  const result = await fuzz(target, {
    ...data.options,
    onInput: (d) => {
      const n = Math.min(d.length, bytes.length);
      bytes.set(d.subarray(0, n));
      Atomics.store(header, 1, n);
      Atomics.add(header, 0, 1);
    },
    onProgress: (p) => parentPort!.postMessage({ type: 'progress', progress: strip(p) }),
  });
  parentPort!.postMessage({ type: 'done', progress: result });
}

process.on('unhandledRejection', (err) => {
  // An update handler that rejects outside the awaited path is a crash too.
  parentPort!.postMessage({ type: 'unhandled', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err), stack: err instanceof Error ? err.stack ?? '' : '' });
});

main().catch((err: unknown) => {
  parentPort!.postMessage({ type: 'fatal', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err), stack: err instanceof Error ? err.stack ?? '' : '' });
});
