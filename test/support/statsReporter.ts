// Mocha reporter: the usual spec output, plus a JSON summary (counts and
// failures) written to the file named by reporterOptions.statsFile or the
// SQLROOM_STATS_FILE env var, which scripts/test.mjs reads per stage.
import * as fs from 'fs';
import * as path from 'path';
import * as Mocha from 'mocha';
import { collectSummary } from './runSummary';

class StatsSpecReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const opts = (options?.reporterOptions ?? {}) as { statsFile?: string };
    const statsFile = opts.statsFile ?? process.env.SQLROOM_STATS_FILE;
    const summary = collectSummary(runner);
    // Registered after Spec's own listener, so it runs after the epilogue.
    runner.once('end', () => {
      // Spec ends with the failure details; end the output with the counts.
      const s = summary();
      if (s.failures > 0) Mocha.reporters.Base.consoleLog(`  totals: ${s.passes} passing, ${s.failures} failing, ${s.pending} pending\n`);
      if (!statsFile) return;
      fs.mkdirSync(path.dirname(statsFile), { recursive: true });
      fs.writeFileSync(statsFile, JSON.stringify(s, null, 2));
    });
  }
}

export = StatsSpecReporter;
