// @ts-check
// Test-only extension, linked into code-server's extensions dir by
// scripts/run-vscode-tests.mjs. On startup it runs the compiled mocha suite
// (out/test/vscode/index.js) against the real `vscode` API. It does nothing
// unless the harness set SQLROOM_TEST_RESULTS, and it never blocks activation.
const fs = require('fs');
const path = require('path');

function activate() {
  const resultsFile = process.env.SQLROOM_TEST_RESULTS;
  if (!resultsFile) return;
  const repoRoot = process.env.SQLROOM_REPO_ROOT || path.resolve(__dirname, '..', '..', '..');
  const index = path.join(repoRoot, 'out', 'test', 'vscode', 'index.js');
  // Only the first extension host runs the suite. Another workbench page
  // (a second window opened by a collaboration test) gets its own extension
  // host: it runs the second-window helper instead.
  try {
    fs.writeFileSync(`${resultsFile}.runner-lock`, String(process.pid), { flag: 'wx' });
  } catch {
    const helper = path.join(repoRoot, 'out', 'test', 'vscode', 'secondWindow.js');
    if (fs.existsSync(helper)) Promise.resolve().then(() => require(helper).run(resultsFile)).catch(() => undefined);
    return;
  }
  fs.appendFileSync(`${resultsFile}.log`, `test runner extension started in the extension host (pid ${process.pid})\n`);
  Promise.resolve()
    .then(() => require(index).run())
    .catch((err) => {
      // run() writes its own results before rejecting; only fill the gap
      // when it never got that far (e.g. index.js missing or not loadable).
      if (fs.existsSync(resultsFile)) return;
      const message = err && err.stack ? err.stack : String(err);
      const stats = { passes: 0, failures: 0, pending: 0, tests: 0, durationMs: 0, failed: [] };
      fs.writeFileSync(resultsFile, JSON.stringify({ done: true, crashed: message, stats, output: message }));
    });
}

function deactivate() {}

module.exports = { activate, deactivate };
