#!/usr/bin/env node
// `npm test [-- unit|browser|vscode ...]`: installs what the suites need when
// it is missing, builds the bundles, type-checks and compiles everything into
// out/ (type errors fail the run, but the stages still run on tsc's output),
// then runs the stages:
//   unit    mocha on out/test/unit/**/*.unit.test.js (plain Node)
//   browser mocha on out/test/browser/**/*.browser.test.js (headless Chromium)
//   vscode  scripts/run-vscode-tests.mjs (a real VS Code, see that file); when
//           CI is set, against the packaged extension (SQLROOM_VSCODE_EXTENSION=vsix:
//           dist/sqlroom-linux-x64.vsix installed into that VS Code), so CI proves
//           the VSIX installs and runs; locally against the repo, linked.
//           SQLROOM_VSCODE_EXTENSION=link|vsix chooses either way.
// Each stage reports its counts through test/support/statsReporter.ts (a
// spec reporter that also writes JSON to $SQLROOM_STATS_FILE). The last line
// is always `Summary: <P> passed, <F> failed, <S> skipped`, where F also
// counts every crashed stage and failed setup/build/compile step once. Exit
// code is non-zero if F > 0 or no test ran at all.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, codeServerInstalled, pickRoute } from './vscode-route.mjs';

const ALL_STAGES = ['unit', 'browser', 'vscode'];
const STAGE_GUARD_MS = Number(process.env.SQLROOM_STAGE_TIMEOUT_MS || 25 * 60_000); // hang guard per stage
const MOCHA_TIMEOUT = { unit: 30_000, browser: 60_000 };
const CHROMIUM = process.env.SQLROOM_CHROMIUM || '/usr/bin/chromium';

const requested = process.argv.slice(2);
for (const s of requested) {
  if (!ALL_STAGES.includes(s)) {
    console.error(`unknown stage "${s}"; expected one or more of: ${ALL_STAGES.join(', ')}`);
    process.exit(2);
  }
}
const stages = requested.length ? ALL_STAGES.filter((s) => requested.includes(s)) : ALL_STAGES;
const statsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-test-stats-'));
/** rows of the final table: { name, ok, counts?, note, seconds } */
const rows = [];
let current; // child process of the running step, for signal forwarding

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (current?.pid) { try { process.kill(-current.pid, 'SIGTERM'); } catch { /* gone */ } }
    setTimeout(() => process.exit(130), 3000).unref();
  });
}

const vscodeRoute = stages.includes('vscode') ? pickRoute() : undefined;

await step('setup', async () => ensureTools());
await step('build', async () => runChild('build', process.execPath, ['scripts/build.mjs']));
await step('compile', async () => {
  const r = await runChild('compile', process.execPath, [path.join('node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']);
  return r.ok ? r : { ok: false, note: 'type errors (printed above); stages run on the emitted JS anyway' };
});
for (const stage of stages) await runStage(stage);
fs.rmSync(statsDir, { recursive: true, force: true });
process.exit(printSummary());

// ---------- steps ----------

async function step(name, fn) {
  banner(name);
  const started = Date.now();
  let res;
  try {
    res = await fn();
  } catch (err) {
    console.error(err);
    res = { ok: false, note: String(err?.message ?? err) };
  }
  rows.push({ name, ok: res.ok, note: res.note ?? '', seconds: (Date.now() - started) / 1000 });
}

/** Installs what the requested stages need, when it is missing. */
async function ensureTools() {
  const problems = [];
  if (!fs.existsSync(path.join(repoRoot, 'node_modules', 'mocha'))) {
    console.log('node_modules is missing: npm ci');
    const r = await runChild('npm ci', 'npm', ['ci', '--no-audit', '--no-fund']);
    if (!r.ok) problems.push('npm ci failed');
  }
  const needChromium = stages.includes('browser') || vscodeRoute?.route === 'code-server';
  if (needChromium && !fs.existsSync(CHROMIUM)) {
    if (process.getuid?.() === 0 && CHROMIUM === '/usr/bin/chromium') {
      console.log('Chromium is missing: apt-get install -y chromium');
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      await runChild('apt-get update', 'apt-get', ['update'], { env });
      const r = await runChild('apt-get install', 'apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env });
      if (!r.ok) problems.push('apt-get install chromium failed');
    } else {
      problems.push(`Chromium not found at ${CHROMIUM}: install it (Debian: sudo apt-get install -y chromium) or set SQLROOM_CHROMIUM`);
    }
  }
  if (vscodeRoute?.route === 'code-server' && !codeServerInstalled()) {
    console.log('code-server is missing: scripts/install-code-server.sh');
    const r = await runChild('install-code-server', 'bash', ['scripts/install-code-server.sh']);
    if (!r.ok) problems.push('scripts/install-code-server.sh failed');
  }
  const duckdbExt = path.join('scripts', 'install-duckdb-extensions.sh');
  if (fs.existsSync(path.join(repoRoot, duckdbExt))) {
    const r = await runChild('install-duckdb-extensions', 'bash', [duckdbExt]);
    if (!r.ok) problems.push(`${duckdbExt} failed`);
  }
  for (const p of problems) console.error(`setup: ${p}`);
  return { ok: problems.length === 0, note: problems.join('; ') };
}

async function runStage(stage) {
  banner(`${stage} tests`);
  const started = Date.now();
  const statsFile = path.join(statsDir, `${stage}.json`);
  const env = { ...process.env, SQLROOM_STATS_FILE: statsFile };
  const files = compiledTests(stage);
  let res;
  if (files.length === 0) {
    console.log(`no test/${stage}/**/*.${stage}.test.ts files`);
    rows.push({ name: stage, ok: true, counts: zero(), note: 'no test files', seconds: 0 });
    return;
  }
  if (stage === 'vscode') {
    const ci = Boolean(process.env.CI) && !['false', '0'].includes(process.env.CI);
    env.SQLROOM_VSCODE_EXTENSION = process.env.SQLROOM_VSCODE_EXTENSION || (ci ? 'vsix' : 'link');
    res = await runChild(stage, process.execPath, ['scripts/run-vscode-tests.mjs'], { env });
  } else {
    const mocha = path.join('node_modules', 'mocha', 'bin', 'mocha.js');
    const reporter = path.join(repoRoot, 'out', 'test', 'support', 'statsReporter.js');
    // --no-config: this script is the one place that says how stages run.
    res = await runChild(stage, process.execPath, ['--enable-source-maps', mocha, '--no-config', '--no-package',
      '--reporter', reporter, '--timeout', String(MOCHA_TIMEOUT[stage]), '--exit', ...files], { env });
  }
  const stats = readJson(statsFile);
  const counts = stats ? { passes: stats.passes ?? 0, failures: stats.failures ?? 0, pending: stats.pending ?? 0 } : zero();
  let crashed = stats?.crashed;
  if (!stats) crashed = res.note || 'no results were recorded (the stage crashed before or while running tests)';
  else if (!crashed && !res.ok && counts.failures === 0) crashed = res.note || 'the stage exited non-zero with no failing test';
  const note = [stats?.label ? `in ${stats.label}` : '', crashed ? `CRASHED: ${firstLine(crashed)}` : ''].filter(Boolean).join('; ');
  rows.push({ name: stage, ok: !crashed && counts.failures === 0, crashed: Boolean(crashed), counts, note,
    seconds: (Date.now() - started) / 1000 });
}

/** out/... .js for every test source; stale .js without a .ts source is ignored. */
function compiledTests(stage) {
  const srcRoot = path.join(repoRoot, 'test', stage);
  const suffix = `.${stage}.test.ts`;
  const out = [];
  const walk = (dir, depth) => {
    if (depth > 20 || !fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.name.endsWith(suffix)) out.push(p);
    }
  };
  walk(srcRoot, 0);
  return out.sort().map((ts) => path.join('out', path.relative(repoRoot, ts)).replace(/\.ts$/, '.js'))
    .filter((js) => {
      if (fs.existsSync(path.join(repoRoot, js))) return true;
      console.log(`warning: ${js} was not emitted (see compile errors)`);
      return false;
    });
}

// ---------- processes ----------

/** Runs a child in its own process group with output streamed; never hangs past the guard. */
function runChild(name, cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'], detached: true, ...opts });
    current = child;
    let timedOut = false;
    const guard = setTimeout(() => {
      timedOut = true;
      console.error(`${name}: hang guard after ${STAGE_GUARD_MS / 1000} s, stopping it`);
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
      setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 15_000).unref();
    }, STAGE_GUARD_MS);
    child.on('error', (err) => {
      clearTimeout(guard);
      resolve({ ok: false, note: `${name}: cannot start ${cmd}: ${err.message}` });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      current = undefined;
      // Leftovers of the stage (servers a test forgot to close, ...).
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none */ }
      if (timedOut) resolve({ ok: false, note: `${name}: hang guard after ${STAGE_GUARD_MS / 1000} s` });
      else if (code === 0) resolve({ ok: true });
      else resolve({ ok: false, note: signal ? `${name}: killed by ${signal}` : `${name}: exit code ${code}` });
    });
  });
}

// ---------- output ----------

function printSummary() {
  banner('results');
  let passed = 0, failed = 0, skipped = 0;
  for (const r of rows) {
    const secs = `${r.seconds.toFixed(1)} s`;
    if (r.counts) {
      passed += r.counts.passes;
      failed += r.counts.failures + (r.crashed ? 1 : 0);
      skipped += r.counts.pending;
      // Mocha's words: the "passed/failed" pattern is reserved for the Summary line.
      const c = `${r.counts.passes} passing, ${r.counts.failures} failing, ${r.counts.pending} pending`;
      console.log(`  ${r.name.padEnd(8)} ${(r.ok ? 'ok' : 'FAILED').padEnd(7)} ${c} (${secs})${r.note ? ` ${r.note}` : ''}`);
    } else {
      if (!r.ok) failed += 1;
      console.log(`  ${r.name.padEnd(8)} ${(r.ok ? 'ok' : 'FAILED').padEnd(7)} (${secs})${r.note ? ` ${r.note}` : ''}`);
    }
  }
  const ranTests = passed + failed + skipped > 0 && rows.some((r) => r.counts && r.counts.passes + r.counts.failures > 0);
  if (!ranTests) {
    console.log('  no test ran: that is a failure, not a pass');
    if (failed === 0) failed = 1;
  }
  console.log(`Summary: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed > 0 ? 1 : 0;
}

function banner(title) {
  console.log(`\n==== ${title} ====`);
}

function readJson(file) {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return undefined; }
}

function zero() {
  return { passes: 0, failures: 0, pending: 0 };
}

function firstLine(s) {
  return String(s).split('\n')[0];
}
