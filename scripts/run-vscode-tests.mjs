#!/usr/bin/env node
// Runs the VS Code suite (out/test/vscode/**/*.vscode.test.js, via
// out/test/vscode/index.js) in a real VS Code and turns its results into an
// exit code, plus a stats JSON at $SQLROOM_STATS_FILE for scripts/test.mjs.
// Route (see scripts/vscode-route.mjs): a desktop VS Code through
// @vscode/test-electron when one is on disk, otherwise code-server offline:
// code-server + headless Chromium (the extension host starts only once a
// browser connects), with a test-only runner extension that runs mocha in the
// extension host and writes results to $SQLROOM_TEST_RESULTS.
// Env: SQLROOM_VSCODE_TIMEOUT_MS (hang guard, default 15 min),
// SQLROOM_KEEP_TMP=1 (keep the temp user-data/workspace), SQLROOM_CHROMIUM.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { repoRoot, codeServerPaths, codeServerInstalled, downloadAllowed, pickRoute } from './vscode-route.mjs';

const require = createRequire(import.meta.url);
const HANG_GUARD_MS = Number(process.env.SQLROOM_VSCODE_TIMEOUT_MS || 15 * 60_000);
const RUNNER_START_GUARD_MS = Number(process.env.SQLROOM_VSCODE_START_TIMEOUT_MS || 5 * 60_000); // runner must say hello by then
const SERVER_START_GUARD_MS = 90_000;
const CHROMIUM = process.env.SQLROOM_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];
const artifacts = path.join(repoRoot, 'test-artifacts');
const suiteIndex = path.join(repoRoot, 'out', 'test', 'vscode', 'index.js');
const runnerExtension = path.join(repoRoot, 'test', 'vscode', 'runner-extension');
const fixtureWorkspace = path.join(repoRoot, 'test', 'fixtures', 'workspace');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cleanups = []; // run in reverse on exit or signal

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    console.error(`run-vscode-tests: ${sig}, stopping VS Code`);
    await runCleanups();
    process.exit(1);
  });
}

main().then(
  async (code) => { await runCleanups(); process.exit(code); },
  async (err) => {
    console.error(err);
    writeStats({ crashed: String(err?.stack ?? err) });
    await runCleanups();
    process.exit(1);
  },
);

async function main() {
  if (!fs.existsSync(suiteIndex)) throw new Error(`${suiteIndex} is missing: compile first (npx tsc -p .)`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-vscode-'));
  if (process.env.SQLROOM_KEEP_TMP !== '1') cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));
  else console.log(`keeping ${work}`);
  const resultsFile = path.join(work, 'results.json');
  const workspace = path.join(work, 'workspace');
  fs.cpSync(fixtureWorkspace, workspace, { recursive: true });
  fs.rmSync(path.join(artifacts, 'vscode'), { recursive: true, force: true }); // logs of this run only
  fs.mkdirSync(path.join(artifacts, 'vscode'), { recursive: true });
  for (const f of fs.readdirSync(artifacts)) if (/^vscode-.*\.png$/.test(f)) fs.rmSync(path.join(artifacts, f));

  const { route, executable, why } = pickRoute();
  console.log(`VS Code suite: using ${route} (${why})`);
  const ctx = { work, resultsFile, workspace };
  const outcome = route === 'electron' ? await runElectron(ctx, executable) : await runCodeServer(ctx);
  return report(outcome);
}

/** outcome: { label, results?, error? } -> exit code; also writes stats for test.mjs. */
function report({ label, results, error }) {
  const stats = results?.stats ?? { passes: 0, failures: 0, pending: 0, tests: 0, failed: [] };
  const crashed = error ?? results?.crashed;
  console.log('');
  if (label) console.log(`VS Code suite ran in ${label}`);
  if (crashed) console.log(`VS Code suite CRASHED: ${crashed}`);
  // Mocha's words on purpose: only test.mjs's last line says "passed/failed".
  console.log(`VS Code suite totals: ${stats.passes} passing, ${stats.failures} failing, ${stats.pending} pending`);
  writeStats({ ...stats, label, ...(crashed ? { crashed } : {}) });
  return !crashed && stats.failures === 0 && stats.tests > 0 ? 0 : 1;
}

function writeStats(stats) {
  const file = process.env.SQLROOM_STATS_FILE;
  if (file) fs.writeFileSync(file, JSON.stringify(stats, null, 2));
}

// ---------- code-server route ----------

async function runCodeServer({ work, resultsFile, workspace }) {
  if (!codeServerInstalled()) return { error: 'code-server is not installed: run scripts/install-code-server.sh' };
  const cs = codeServerPaths();
  const raw = execFileSync(cs.node, [cs.codeServer, '--version'], { encoding: 'utf8' }).trim();
  const m = /^(\S+)\s.*with Code (\S+)/.exec(raw);
  const label = m ? `code-server ${m[1]} (VS Code ${m[2]})` : `code-server ${raw}`;
  console.log(`VS Code suite: starting ${label}`);

  const userData = path.join(work, 'user-data');
  writeUserSettings(userData);
  const extDir = path.join(work, 'extensions');
  fs.mkdirSync(extDir, { recursive: true });
  for (const dir of [repoRoot, runnerExtension]) {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    fs.symlinkSync(dir, path.join(extDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`), 'dir');
  }

  const port = await freePort();
  const logPath = path.join(artifacts, 'vscode', 'code-server.log');
  const logFd = fs.openSync(logPath, 'w');
  const env = { ...process.env };
  // Ours or a parent VS Code's variables must not leak into the host under test.
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE' || k === 'SQLROOM_STATS_FILE') delete env[k];
  Object.assign(env, {
    PATH: `${cs.nodeBin}${path.delimiter}${process.env.PATH}`,
    SQLROOM_TEST_RESULTS: resultsFile,
    SQLROOM_REPO_ROOT: repoRoot,
    SQLROOM_SCREENSHOTS: '1',
    SQLROOM_TEST_WORKSPACE: workspace,
    // No extension gallery: nothing may leave the machine (not even DNS).
    EXTENSIONS_GALLERY: '{}',
  });
  // Our own config file, so ~/.config/code-server/config.yaml cannot interfere.
  const config = path.join(work, 'code-server.yaml');
  fs.writeFileSync(config, 'auth: none\ncert: false\n');
  const server = spawn(cs.node, [cs.codeServer, '--config', config, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--user-data-dir', userData, '--extensions-dir', extDir, workspace],
  { env, detached: true, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  let serverExit = null;
  server.on('exit', (code, signal) => { serverExit = signal ?? code; });
  cleanups.push(() => copyLogs(userData)); // runs after code-server is stopped
  cleanups.push(() => killGroup(server.pid, () => serverExit !== null, 'code-server'));
  const fail = (error) => {
    printTail(`code-server log (${logPath})`, logPath);
    for (const f of findFiles(path.join(userData, 'logs'), /exthost.*\.log$|remoteagent\.log$/)) printTail(f, f);
    return { label, error };
  };

  const base = `http://127.0.0.1:${port}`;
  const up = await waitFor(SERVER_START_GUARD_MS, async () => {
    if (serverExit !== null) return 'exited';
    try { return (await fetch(`${base}/healthz`)).ok ? 'up' : undefined; } catch { return undefined; }
  });
  if (up !== 'up') return fail(up === 'exited' ? `code-server exited (${serverExit}) before listening` : 'code-server did not start listening');

  const { chromium } = require('playwright-core');
  const browserServer = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const chromePid = browserServer.process().pid;
  let chromeExit = null;
  browserServer.process().on('exit', (code, signal) => { chromeExit = signal ?? code; });
  cleanups.push(async () => {
    await Promise.race([browserServer.close().catch(() => {}), sleep(10_000)]);
    await killGroup(chromePid, () => chromeExit !== null, 'chromium');
  });
  const browser = await chromium.connect(browserServer.wsEndpoint());
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const consoleLines = [];
  let pageCrashed = false;
  page.on('console', (msg) => { if (consoleLines.length < 5000) consoleLines.push(`[${msg.type()}] ${msg.text()}`); });
  page.on('pageerror', (err) => { if (consoleLines.length < 5000) consoleLines.push(`[pageerror] ${err.message}`); });
  page.on('crash', () => { pageCrashed = true; });
  cleanups.push(() => fs.writeFileSync(path.join(artifacts, 'vscode', 'browser-console.log'), consoleLines.join('\n') + '\n'));
  await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });

  const tail = fileTailer(`${resultsFile}.log`);
  const started = Date.now();
  let results;
  for (;;) {
    tail();
    await serveScreenshots(page, resultsFile);
    results = readResults(resultsFile);
    if (results) break;
    if (serverExit !== null) return fail(`code-server exited (${serverExit}) before the suite finished`);
    if (pageCrashed) return fail('the workbench page crashed in Chromium');
    const hostPid = extensionHostPid(`${resultsFile}.log`);
    if (hostPid && !alive(hostPid) && !readResults(resultsFile)) {
      return fail(`the extension host (pid ${hostPid}) died before the suite finished`);
    }
    if (!hostPid && Date.now() - started > RUNNER_START_GUARD_MS) {
      return fail('the test runner extension never started: the extension host did not start or crashed');
    }
    if (Date.now() - started > HANG_GUARD_MS) return fail(`hang guard: no results after ${HANG_GUARD_MS / 1000} s`);
    await sleep(500);
  }
  tail();
  // Let the workbench paint whatever the suite left open (e.g. a notebook).
  await sleep(1500);
  const shot = path.join(artifacts, 'vscode-workbench.png');
  await page.screenshot({ path: shot }).then(() => console.log(`workbench screenshot: ${path.relative(repoRoot, shot)}`),
    (err) => console.log(`workbench screenshot failed: ${err.message}`));
  if (results.crashed) printTail(`code-server log (${logPath})`, logPath);
  return { label, results };
}

function writeUserSettings(userData) {
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  const settings = {
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'chat.disableAIFeatures': true,
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    'update.mode': 'none',
    'update.showReleaseNotes': false,
    'git.enabled': false,
    'npm.autoDetect': 'off',
    'window.restoreWindows': 'none',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
  };
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
}

/** The suite asks for a screenshot via test/support/screenshot.ts. */
async function serveScreenshots(page, resultsFile) {
  const dir = path.dirname(resultsFile);
  const prefix = `${path.basename(resultsFile)}.shot-`;
  for (const f of fs.readdirSync(dir)) {
    if (!f.startsWith(prefix) || !f.endsWith('.req')) continue;
    const name = f.slice(prefix.length, -'.req'.length);
    const file = path.join(artifacts, `vscode-${name}.png`);
    await sleep(500); // let the requested state paint
    await page.screenshot({ path: file }).then(() => console.log(`screenshot: ${path.relative(repoRoot, file)}`),
      (err) => console.log(`screenshot ${name} failed: ${err.message}`));
    fs.renameSync(path.join(dir, f), path.join(dir, `${prefix}${name}.taken`));
    fs.writeFileSync(path.join(dir, `${prefix}${name}.done`), '');
  }
}

function copyLogs(userData) {
  const logs = path.join(userData, 'logs');
  if (fs.existsSync(logs)) fs.cpSync(logs, path.join(artifacts, 'vscode', 'logs'), { recursive: true });
}

// ---------- desktop VS Code route ----------

async function runElectron({ work, resultsFile, workspace }, executable) {
  if (!executable && !downloadAllowed()) {
    return { error: 'no desktop VS Code found (set SQLROOM_VSCODE_EXECUTABLE, or SQLROOM_VSCODE_DOWNLOAD=1 outside CI)' };
  }
  const { runTests } = require('@vscode/test-electron');
  let label = 'desktop VS Code';
  if (executable) {
    try { label = `VS Code ${execFileSync(executable, ['--version'], { encoding: 'utf8', timeout: 30_000 }).split('\n')[0]} (desktop)`; } catch { /* label stays */ }
  }
  const userData = path.join(work, 'user-data');
  writeUserSettings(userData);
  startXvfbIfNeeded();
  const tail = fileTailer(`${resultsFile}.log`);
  const ticker = setInterval(tail, 500);
  let timer;
  try {
    await Promise.race([
      runTests({
        ...(executable ? { vscodeExecutablePath: executable } : { version: 'stable' }),
        extensionDevelopmentPath: repoRoot,
        extensionTestsPath: suiteIndex,
        launchArgs: [workspace, '--disable-workspace-trust', '--disable-extensions', '--skip-welcome',
          '--skip-release-notes', '--disable-telemetry', `--user-data-dir=${userData}`,
          `--extensions-dir=${path.join(work, 'extensions')}`],
        extensionTestsEnv: { SQLROOM_TEST_RESULTS: resultsFile, SQLROOM_REPO_ROOT: repoRoot },
      }).catch(() => { /* a failing suite rejects; the results file says why */ }),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('hang guard')), HANG_GUARD_MS); }),
    ]);
  } catch (err) {
    return { label, error: `hang guard: VS Code did not finish within ${HANG_GUARD_MS / 1000} s` };
  } finally {
    clearTimeout(timer);
    clearInterval(ticker);
    tail();
  }
  const results = readResults(resultsFile);
  if (!results) return { label, error: 'VS Code exited without writing test results (extension host crash?)' };
  console.log('(no workbench screenshot on the desktop route)');
  return { label, results };
}

/** Desktop VS Code on a Linux box without a display needs a virtual one. */
function startXvfbIfNeeded() {
  if (process.platform !== 'linux' || process.env.DISPLAY) return;
  const xvfb = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'Xvfb')).find((p) => fs.existsSync(p));
  if (!xvfb) {
    console.log('no DISPLAY and no Xvfb: desktop VS Code may fail to start (apt-get install xvfb)');
    return;
  }
  const display = `:${90 + Math.floor(Math.random() * 100)}`;
  const x = spawn(xvfb, [display, '-screen', '0', '1400x900x24', '-nolisten', 'tcp'], { detached: true, stdio: 'ignore' });
  let exited = false;
  x.on('exit', () => { exited = true; });
  cleanups.push(() => killGroup(x.pid, () => exited, 'Xvfb'));
  process.env.DISPLAY = display;
  console.log(`started Xvfb on ${display} for desktop VS Code`);
}

// ---------- helpers ----------

function readResults(file) {
  if (!fs.existsSync(file)) return undefined;
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8'));
    return r?.done ? r : undefined;
  } catch {
    return undefined; // partially written; read again next tick
  }
}

/** Returns a function that copies new bytes of `file` to stdout. */
function fileTailer(file) {
  let pos = 0;
  return () => {
    if (!fs.existsSync(file)) return;
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= pos) return;
      const buf = Buffer.alloc(size - pos);
      fs.readSync(fd, buf, 0, buf.length, pos);
      pos = size;
      process.stdout.write(buf);
    } finally {
      fs.closeSync(fd);
    }
  };
}

/** The runner extension's first log line names the extension host's pid. */
function extensionHostPid(logFile) {
  if (!fs.existsSync(logFile)) return undefined;
  const m = /extension host \(pid (\d+)\)/.exec(fs.readFileSync(logFile, 'utf8').slice(0, 4096));
  return m ? Number(m[1]) : undefined;
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (err) { return err.code === 'EPERM'; }
}

async function waitFor(ms, probe) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(300);
  }
  return undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** SIGTERM the process group we started, then SIGKILL it after a grace period. */
async function killGroup(pid, exited, name) {
  if (!pid) return;
  const signalGroup = (sig) => { try { process.kill(-pid, sig); return true; } catch { return false; } };
  if (!signalGroup('SIGTERM')) return;
  for (let i = 0; i < 50 && !exited(); i++) await sleep(100);
  if (signalGroup('SIGKILL') && !exited()) console.log(`${name} (pid ${pid}) needed SIGKILL`);
}

function findFiles(dir, re, depth = 0, out = []) {
  if (depth > 6 || !fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findFiles(p, re, depth + 1, out);
    else if (re.test(e.name)) out.push(p);
  }
  return out;
}

function printTail(title, file, lines = 60) {
  if (!fs.existsSync(file)) return;
  const text = fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  console.log(`---- last ${lines} lines of ${title} ----\n${text}\n---- end ----`);
}

async function runCleanups() {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try { await fn(); } catch (err) { console.error(`cleanup: ${err.message}`); }
  }
}
