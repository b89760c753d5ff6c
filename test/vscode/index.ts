// In-host mocha runner for the VS Code suite. `run()` is the
// @vscode/test-electron contract (extensionTestsPath); the code-server route
// calls the same function from test/vscode/runner-extension. When
// SQLROOM_TEST_RESULTS is set, the reporter output is appended live to
// <results>.log and the final results (stats, output, failures) are written
// to <results> as JSON for the outer harness.
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import * as vscode from 'vscode';
import Mocha = require('mocha');
import { collectSummary, RunSummary } from '../support/runSummary';
import StatsSpecReporter = require('../support/statsReporter');

export interface VsCodeResults {
  done: true;
  crashed?: string;
  stats: RunSummary;
  output: string;
}

const outRoot = path.resolve(__dirname, '..', '..'); // out/
const repoRoot = path.resolve(outRoot, '..');

/** Compiled suite files; skips stale .js whose .ts source was deleted. */
export function findSuiteFiles(dir = path.join(outRoot, 'test', 'vscode')): string[] {
  const found: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 20 || !fs.existsSync(d)) return;
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p, depth + 1);
      else if (entry.name.endsWith('.vscode.test.js')) found.push(p);
    }
  };
  walk(dir, 0);
  return found
    .filter((js) => {
      const ts = path.join(repoRoot, path.relative(outRoot, js)).replace(/\.js$/, '.ts');
      return !fs.existsSync(path.join(repoRoot, 'test')) || fs.existsSync(ts);
    })
    .sort();
}

export async function run(): Promise<void> {
  const resultsFile = process.env.SQLROOM_TEST_RESULTS;
  const logFile = resultsFile ? `${resultsFile}.log` : undefined;
  const lines: string[] = [];
  const Base = Mocha.reporters.Base;
  const previousLog = Base.consoleLog;
  Base.useColors = false;
  // Spec prints through Base.consoleLog; capture it so the outer process can
  // stream it (the extension host's own stdout is not ours to read).
  Base.consoleLog = (...args: unknown[]): void => {
    const line = util.format(...args);
    lines.push(line);
    if (logFile) fs.appendFileSync(logFile, line + '\n');
    else console.log(line);
  };
  const write = (results: VsCodeResults): void => {
    if (resultsFile) fs.writeFileSync(resultsFile, JSON.stringify(results, null, 2));
  };

  let stats: RunSummary;
  try {
    // SQLROOM_VSCODE_GREP runs only matching tests (a developer's quick loop; CI runs all).
    const grep = process.env.SQLROOM_VSCODE_GREP;
    const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: StatsSpecReporter, ...(grep ? { grep } : {}) });
    const files = findSuiteFiles();
    loadSuiteFiles(mocha, files);
    Base.consoleLog(`VS Code ${vscode.version}: running ${files.length} suite file(s)`);
    stats = await new Promise<RunSummary>((resolve) => {
      let summary: () => RunSummary = () => emptySummary();
      const runner = mocha.run(() => resolve(summary()));
      summary = collectSummary(runner);
    });
  } catch (err) {
    // A suite file that throws on load, or mocha itself failing.
    const message = err instanceof Error ? err.stack ?? err.message : String(err);
    Base.consoleLog(`VS Code suite crashed: ${message}`);
    write({ done: true, crashed: message, stats: emptySummary(), output: lines.join('\n') });
    Base.consoleLog = previousLog;
    throw err;
  }
  Base.consoleLog = previousLog;
  write({ done: true, stats, output: lines.join('\n') });
  if (stats.failures > 0) throw new Error(`${stats.failures} VS Code test(s) failed`);
  if (stats.tests === 0) throw new Error('no VS Code tests ran');
}

/**
 * Loads each suite file the way Mocha#loadFiles does, but one at a time: a
 * file that throws on load becomes one failing test instead of hiding the
 * results of every other file.
 */
function loadSuiteFiles(mocha: Mocha, files: string[]): void {
  for (const file of files) {
    const suite = mocha.suite;
    try {
      suite.emit('pre-require', globalThis, file, mocha);
      suite.emit('require', require(file), file, mocha);
      suite.emit('post-require', globalThis, file, mocha);
    } catch (err) {
      const rel = path.relative(repoRoot, file);
      suite.addTest(new Mocha.Test(`loads ${rel}`, () => { throw err; }));
    }
  }
}

function emptySummary(): RunSummary {
  return { passes: 0, failures: 0, pending: 0, tests: 0, durationMs: 0, failed: [] };
}
