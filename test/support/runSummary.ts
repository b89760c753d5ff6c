// Collects pass/fail/pending counts and failure details from a mocha Runner.
// Shared by the stats reporter (Node stages) and the in-host VS Code runner,
// so every stage hands the same JSON shape to scripts/test.mjs.
import type * as Mocha from 'mocha';

export interface FailedTest {
  title: string;
  message: string;
  stack?: string;
}

export interface RunSummary {
  passes: number;
  failures: number;
  pending: number;
  tests: number;
  durationMs: number;
  failed: FailedTest[];
}

// Mocha's Runner.constants, spelled out so this module needs no runtime mocha.
const EVENT_TEST_FAIL = 'fail';
const EVENT_TEST_PASS = 'pass';
const EVENT_TEST_PENDING = 'pending';

export function collectSummary(runner: Mocha.Runner): () => RunSummary {
  const counts = { passes: 0, failures: 0, pending: 0 };
  const failed: FailedTest[] = [];
  const started = Date.now();
  runner.on(EVENT_TEST_PASS, () => { counts.passes++; });
  runner.on(EVENT_TEST_PENDING, () => { counts.pending++; });
  // Also fires for failing hooks ("before all" hook), which must count too.
  runner.on(EVENT_TEST_FAIL, (test: Mocha.Runnable, err: unknown) => {
    counts.failures++;
    const e = err instanceof Error ? err : new Error(String(err));
    failed.push({ title: test.fullTitle(), message: e.message, stack: e.stack });
  });
  return () => ({
    ...counts,
    tests: counts.passes + counts.failures + counts.pending,
    durationMs: Date.now() - started,
    failed,
  });
}
