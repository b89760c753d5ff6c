#!/usr/bin/env node
// Runs the VS Code suite (out/test/vscode/**/*.vscode.test.js, via
// out/test/vscode/index.js) in a real VS Code and turns its results into an
// exit code, plus a stats JSON at $SQLROOM_STATS_FILE for scripts/test.mjs.
// Route (see scripts/vscode-route.mjs): a desktop VS Code through
// @vscode/test-electron when one is on disk, otherwise code-server offline:
// code-server + headless Chromium (the extension host starts only once a
// browser connects), with a test-only runner extension that runs mocha in the
// extension host and writes results to $SQLROOM_TEST_RESULTS.
// The extension under test is the repo itself (symlinked into the
// extensions dir / extensionDevelopmentPath) or, with
// SQLROOM_VSCODE_EXTENSION=vsix, the packaged VSIX (dist/sqlroom-linux-x64.vsix,
// made by `npm run package` unless one newer than every source exists)
// installed into the temp extensions dir with the VS Code CLI, as a user
// would; the smoke test then checks (SQLROOM_EXPECT_VSIX=1) that the running
// extension is that installed copy. The in-host suite itself still comes from
// the repo's out/ folder.
// Env: SQLROOM_VSCODE_EXTENSION=link|vsix (default link), SQLROOM_VSCODE_TIMEOUT_MS
// (hang guard, default 15 min), SQLROOM_KEEP_TMP=1 (keep the temp
// user-data/workspace), SQLROOM_CHROMIUM.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { repoRoot, codeServerInstalled, downloadAllowed, pickRoute } from './vscode-route.mjs';
import {
  codeServerLabel, writeUserSettings, linkExtension, installVsix, freePort, startCodeServer, launchChromium,
  killGroup, printTail, sleep, SERVER_START_GUARD_MS, stopLocalServer,
} from './code-server.mjs';

const require = createRequire(import.meta.url);
const HANG_GUARD_MS = Number(process.env.SQLROOM_VSCODE_TIMEOUT_MS || 15 * 60_000);
const RUNNER_START_GUARD_MS = Number(process.env.SQLROOM_VSCODE_START_TIMEOUT_MS || 5 * 60_000); // runner must say hello by then
const artifacts = path.join(repoRoot, 'test-artifacts');
const suiteIndex = path.join(repoRoot, 'out', 'test', 'vscode', 'index.js');
const runnerExtension = path.join(repoRoot, 'test', 'vscode', 'runner-extension');
const fixtureWorkspace = path.join(repoRoot, 'test', 'fixtures', 'workspace');
const vsixPath = path.join(repoRoot, 'dist', 'sqlroom-linux-x64.vsix');
// What goes into the VSIX: a VSIX older than any of these is rebuilt.
const vsixInputs = ['package.json', 'package-lock.json', '.vscodeignore', 'README.md', 'LICENSE', 'scripts/build.mjs',
  'extension', 'server', 'media'];

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
  // The extension's one local sync server per user lives under $SQLROOM_HOME: a
  // temp one for the run (not ~/.sqlroom), stopped (by the pid it published) at the end.
  const sqlroomHome = path.join(work, 'sqlroom-home');
  cleanups.push(() => stopLocalServer(path.join(sqlroomHome, 'local-server')));
  const workspace = path.join(work, 'workspace');
  fs.cpSync(fixtureWorkspace, workspace, { recursive: true });
  fs.rmSync(path.join(artifacts, 'vscode'), { recursive: true, force: true }); // logs of this run only
  fs.mkdirSync(path.join(artifacts, 'vscode'), { recursive: true });
  for (const f of fs.readdirSync(artifacts)) if (/^vscode-.*\.png$/.test(f)) fs.rmSync(path.join(artifacts, f));

  const { route, executable, why } = pickRoute();
  console.log(`VS Code suite: using ${route} (${why})`);
  const mode = process.env.SQLROOM_VSCODE_EXTENSION || 'link';
  if (mode !== 'link' && mode !== 'vsix') throw new Error(`SQLROOM_VSCODE_EXTENSION=${mode}: expected link or vsix`);
  const extension = mode === 'vsix' ? { vsix: prepareVsix() } : {};
  const ctx = { work, resultsFile, workspace, extension, sqlroomHome };
  const outcome = route === 'electron' ? await runElectron(ctx, executable) : await runCodeServer(ctx);
  return report(outcome);
}

/** dist/sqlroom-linux-x64.vsix, packaged now unless it is newer than every input. */
function prepareVsix() {
  const rel = path.relative(repoRoot, vsixPath);
  const newestInput = Math.max(...vsixInputs.map((p) => newestMtime(path.join(repoRoot, p))));
  if (fs.existsSync(vsixPath) && fs.statSync(vsixPath).mtimeMs > newestInput) {
    console.log(`VSIX: ${rel} is newer than its sources, using it`);
    return vsixPath;
  }
  console.log(`VSIX: packaging ${rel} (npm run package)`);
  fs.rmSync(vsixPath, { force: true });
  const r = spawnSync('npm', ['run', '--silent', 'package'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`npm run package: ${r.error.message}`);
  if (r.status !== 0 || !fs.existsSync(vsixPath)) throw new Error(`npm run package failed (exit ${r.status ?? r.signal}): no ${rel}`);
  return vsixPath;
}

function newestMtime(p, depth = 0) {
  if (!fs.existsSync(p) || depth > 20) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e), depth + 1));
  return newest;
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

async function runCodeServer({ work, resultsFile, workspace, extension, sqlroomHome }) {
  if (!codeServerInstalled()) return { error: 'code-server is not installed: run scripts/install-code-server.sh' };
  let label = codeServerLabel();
  console.log(`VS Code suite: starting ${label}`);

  const userData = path.join(work, 'user-data');
  writeUserSettings(userData);
  const extDir = path.join(work, 'extensions');
  fs.mkdirSync(extDir, { recursive: true });
  const expect = {};
  if (extension.vsix) {
    // The runner first: the CLI install writes extensions.json from what is in
    // the folder, and an extension missing from that list is not loaded.
    linkExtension(runnerExtension, extDir);
    const installed = installVsix(extension.vsix, extDir, userData);
    console.log(`extension: installed from ${path.relative(repoRoot, extension.vsix)} into ${installed}`);
    label += ` with the extension installed from ${path.relative(repoRoot, extension.vsix)}`;
    Object.assign(expect, { SQLROOM_EXPECT_VSIX: '1', SQLROOM_EXTENSIONS_DIR: extDir });
  } else {
    linkExtension(repoRoot, extDir);
    linkExtension(runnerExtension, extDir);
    console.log('extension: linked from the repo');
  }

  const port = await freePort();
  const logPath = path.join(artifacts, 'vscode', 'code-server.log');
  const server = startCodeServer({
    userData, extDir, workspace, port, logPath,
    env: {
      SQLROOM_TEST_RESULTS: resultsFile,
      SQLROOM_REPO_ROOT: repoRoot,
      SQLROOM_SCREENSHOTS: '1',
      SQLROOM_TEST_WORKSPACE: workspace,
      SQLROOM_HOME: sqlroomHome,
      ...expect,
    },
  });
  cleanups.push(() => copyLogs(userData)); // runs after code-server is stopped
  cleanups.push(() => server.stop());
  const fail = (error) => {
    printTail(`code-server log (${logPath})`, logPath);
    for (const f of findFiles(path.join(userData, 'logs'), /exthost.*\.log$|remoteagent\.log$/)) printTail(f, f);
    return { label, error };
  };

  const up = await server.waitUntilUp(SERVER_START_GUARD_MS);
  if (up !== 'up') return fail(up === 'exited' ? `code-server exited (${server.exitStatus()}) before listening` : 'code-server did not start listening');

  const { browser, stop: stopChromium } = await launchChromium();
  cleanups.push(stopChromium);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const consoleLines = [];
  let pageCrashed = false;
  page.on('console', (msg) => { if (consoleLines.length < 5000) consoleLines.push(`[${msg.type()}] ${msg.text()}`); });
  page.on('pageerror', (err) => { if (consoleLines.length < 5000) consoleLines.push(`[pageerror] ${err.message}`); });
  page.on('crash', () => { pageCrashed = true; });
  cleanups.push(() => fs.writeFileSync(path.join(artifacts, 'vscode', 'browser-console.log'), consoleLines.join('\n') + '\n'));
  await page.goto(`${server.base}/?folder=${encodeURIComponent(workspace)}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });

  const tail = fileTailer(`${resultsFile}.log`);
  const started = Date.now();
  let results;
  for (;;) {
    tail();
    await serveScreenshots(page, resultsFile);
    await serveUiSteps(page, resultsFile);
    results = readResults(resultsFile);
    if (results) break;
    if (server.exited()) return fail(`code-server exited (${server.exitStatus()}) before the suite finished`);
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

/**
 * The suite drives the workbench via test/support/uiDriver.ts: each step is a
 * click, choice, fill, wait or read, in the workbench or in the frame (a
 * notebook output webview) that holds the selector. Bounded by a guard; the
 * step's outcome goes back as <results>.ui-<n>.done.
 */
async function serveUiSteps(page, resultsFile) {
  const dir = path.dirname(resultsFile);
  const prefix = `${path.basename(resultsFile)}.ui-`;
  for (const f of fs.readdirSync(dir)) {
    if (!f.startsWith(prefix) || !f.endsWith('.req')) continue;
    const n = f.slice(prefix.length, -'.req'.length);
    const reqFile = path.join(dir, f);
    let result;
    try {
      const step = JSON.parse(fs.readFileSync(reqFile, 'utf8'));
      result = { ok: true, ...(await doUiStep(page, step)) };
    } catch (err) {
      result = { ok: false, error: String(err?.message ?? err).split('\n').slice(0, 6).join('\n') };
    }
    fs.renameSync(reqFile, path.join(dir, `${prefix}${n}.taken`));
    // Written whole, then renamed: the test polls for the file and must never read it half written.
    const done = path.join(dir, `${prefix}${n}.done`);
    fs.writeFileSync(`${done}.tmp`, JSON.stringify(result));
    fs.renameSync(`${done}.tmp`, done);
  }
}

const UI_STEP_GUARD_MS = 60_000;

/** The locator for `step.selector`: in the workbench, or in whichever webview frame holds a match (outputs render late). */
async function uiLocator(page, step) {
  const deadline = Date.now() + UI_STEP_GUARD_MS;
  for (;;) {
    const frames = step.frame === 'output' ? page.frames().filter((f) => f !== page.mainFrame()) : [page.mainFrame()];
    for (const frame of frames) {
      try {
        // Only what a person can see: a hidden output (another editor tab) is not a match.
        let loc = frame.locator(step.selector).filter({ visible: true });
        if (step.hasText) loc = loc.filter({ hasText: step.hasText });
        if (await loc.count() > 0) return loc;
      } catch { /* a frame that went away */ }
    }
    if (Date.now() > deadline) throw new Error(`nothing matches ${step.selector}${step.hasText ? ` with "${step.hasText}"` : ''} in the ${step.frame ?? 'workbench'}`);
    await sleep(200);
  }
}

async function doUiStep(page, step) {
  const loc = await uiLocator(page, step);
  switch (step.do) {
    case 'click':
      await loc.first().click({ timeout: UI_STEP_GUARD_MS });
      return {};
    case 'select':
      await loc.first().selectOption(step.value, { timeout: UI_STEP_GUARD_MS });
      return {};
    case 'fill':
      await loc.first().fill(step.value, { timeout: UI_STEP_GUARD_MS });
      if (step.enter !== false) await loc.first().press('Enter', { timeout: UI_STEP_GUARD_MS });
      return {};
    case 'wait':
      return {};
    case 'texts':
      return { texts: await loc.allTextContents() };
    default:
      throw new Error(`unknown UI step ${JSON.stringify(step)}`);
  }
}

function copyLogs(userData) {
  const logs = path.join(userData, 'logs');
  if (fs.existsSync(logs)) fs.cpSync(logs, path.join(artifacts, 'vscode', 'logs'), { recursive: true });
}

// ---------- desktop VS Code route ----------

async function runElectron({ work, resultsFile, workspace, extension, sqlroomHome }, executable) {
  if (!executable && !downloadAllowed()) {
    return { error: 'no desktop VS Code found (set SQLROOM_VSCODE_EXECUTABLE, or SQLROOM_VSCODE_DOWNLOAD=1 outside CI)' };
  }
  const { runTests, resolveCliArgsFromVSCodeExecutablePath } = require('@vscode/test-electron');
  let label = 'desktop VS Code';
  if (executable) {
    try { label = `VS Code ${execFileSync(executable, ['--version'], { encoding: 'utf8', timeout: 30_000 }).split('\n')[0]} (desktop)`; } catch { /* label stays */ }
  }
  const userData = path.join(work, 'user-data');
  writeUserSettings(userData);
  const extDir = path.join(work, 'extensions');
  let developmentPath = repoRoot;
  const expect = {};
  if (extension.vsix) {
    // Installed with the desktop CLI, then loaded from that installed folder.
    if (!executable) return { label, error: 'SQLROOM_VSCODE_EXTENSION=vsix needs a desktop VS Code on disk (SQLROOM_VSCODE_EXECUTABLE)' };
    const [cli, ...cliArgs] = resolveCliArgsFromVSCodeExecutablePath(executable);
    fs.mkdirSync(extDir, { recursive: true });
    const before = new Set(fs.readdirSync(extDir));
    const r = spawnSync(cli, [...cliArgs.filter((a) => !/^--(extensions|user-data)-dir/.test(a)), '--install-extension', extension.vsix,
      '--force', `--extensions-dir=${extDir}`, `--user-data-dir=${userData}`], { encoding: 'utf8', timeout: 5 * 60_000 });
    const added = fs.readdirSync(extDir).find((d) => !before.has(d) && fs.existsSync(path.join(extDir, d, 'package.json')));
    if (r.status !== 0 || !added) return { label, error: `installing ${extension.vsix} failed: ${r.stderr || r.stdout || r.error?.message}` };
    developmentPath = path.join(extDir, added);
    console.log(`extension: installed from ${path.relative(repoRoot, extension.vsix)} into ${developmentPath}`);
    label += ` with the extension installed from ${path.relative(repoRoot, extension.vsix)}`;
    Object.assign(expect, { SQLROOM_EXPECT_VSIX: '1', SQLROOM_EXTENSIONS_DIR: extDir });
  } else {
    console.log('extension: linked from the repo');
  }
  startXvfbIfNeeded();
  const tail = fileTailer(`${resultsFile}.log`);
  const ticker = setInterval(tail, 500);
  let timer;
  try {
    await Promise.race([
      runTests({
        ...(executable ? { vscodeExecutablePath: executable } : { version: 'stable' }),
        extensionDevelopmentPath: developmentPath,
        extensionTestsPath: suiteIndex,
        launchArgs: [workspace, '--disable-workspace-trust', '--disable-extensions', '--skip-welcome',
          '--skip-release-notes', '--disable-telemetry', `--user-data-dir=${userData}`,
          `--extensions-dir=${extDir}`],
        extensionTestsEnv: { SQLROOM_TEST_RESULTS: resultsFile, SQLROOM_REPO_ROOT: repoRoot, SQLROOM_HOME: sqlroomHome, ...expect },
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

function findFiles(dir, re, depth = 0, out = []) {
  if (depth > 6 || !fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findFiles(p, re, depth + 1, out);
    else if (re.test(e.name)) out.push(p);
  }
  return out;
}

async function runCleanups() {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try { await fn(); } catch (err) { console.error(`cleanup: ${err.message}`); }
  }
}
