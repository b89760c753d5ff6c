// Coverage-guided fuzzing in the unit stage: each target runs a fixed number
// of executions from its checked-in seed corpus (test/fuzz/corpus/<target>)
// with a fixed seed, and every input under test/fuzz/regressions/<target>
// (inputs that once found a bug) is replayed. Any crash fails the test.
// Longer runs: `npm run fuzz -- --seconds 600` (see test/fuzz/README.md).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FUZZ_ROOT, TARGETS, runFuzz } from '../fuzz/engine/runner';

const RUNS: Record<string, number> = { protocol: 15_000, importUpdate: 15_000, sqlroomFile: 20_000 };

describe('fuzzing (bounded, coverage-guided)', function () {
  this.timeout(180_000);
  for (const target of TARGETS) {
    it(`${target}: ${RUNS[target]} mutated inputs from the seed corpus, no crash`, async () => {
      const r = await runFuzz({ target, runs: RUNS[target], seed: 1, watchdogMs: 60_000 });
      console.log(`      ${target}: ${r.executions} executions + ${r.seedExecutions} seeds, ${r.execPerSecond.toFixed(0)} exec/s, corpus ${r.corpus}, branches ${r.branchesCovered}/${r.branchesTotal}, known issues ${r.knownIssues.reduce((n, k) => n + k.count, 0)}`);
      assert.deepEqual(r.crashes.map((c) => `${c.kind}: ${c.message}\n${c.stack}\ninput (base64): ${c.input}`), []);
      assert.ok(r.executions >= RUNS[target], `ran ${r.executions} of ${RUNS[target]}`);
      assert.ok(r.branchesCovered > 0, 'coverage was measured');
    });
  }
  for (const target of TARGETS) {
    const dir = path.join(FUZZ_ROOT, 'regressions', target);
    if (!fs.existsSync(dir)) continue;
    it(`${target}: every input in test/fuzz/regressions/${target} replays without a crash`, async () => {
      const r = await runFuzz({ target, runs: 0, corpusDir: dir, seed: 1 });
      assert.equal(r.seedExecutions, fs.readdirSync(dir).length);
      assert.deepEqual(r.crashes.map((c) => `${c.kind}: ${c.message}`), []);
    });
  }
});
