#!/usr/bin/env node
// `npm run demo`: builds the extension and opens the sample notebook
// (samples/demo.sqlroom, copied once into .sqlroom-demo/, which is yours to
// edit: a second run keeps your copy).
//   - With a desktop VS Code (SQLROOM_VSCODE_EXECUTABLE, or `code` on PATH):
//     `code --extensionDevelopmentPath=<repo> .sqlroom-demo .sqlroom-demo/demo.sqlroom`, then exits.
//   - Otherwise (or with --code-server): code-server on 127.0.0.1
//     (SQLROOM_DEMO_PORT, default 8765, else a free port) with the repo linked
//     as an extension; prints the URL that opens the notebook and runs until
//     Ctrl+C / SIGTERM, then stops code-server's process group. Installs
//     code-server first when it is missing (scripts/install-code-server.sh).
//     Its profile (settings, UI state) is kept in .vscode-test/demo/.
//   - --check: the code-server route with a throwaway profile; loads the page
//     in headless Chromium, waits until the notebook editor shows the demo
//     notebook's cells, clicks Run All and waits until every SQL cell
//     succeeded, saves test-artifacts/demo.png (and demo-full.png, every
//     cell with its output), stops and exits 0 (non-zero
//     with the reason otherwise). It runs the cells in the browser only: the
//     file in .sqlroom-demo/ is not saved.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, toolsDir, codeServerInstalled } from './vscode-route.mjs';

const USAGE = 'usage: node scripts/demo.mjs [--check] [--code-server]';
const args = process.argv.slice(2);
for (const a of args) {
  if (!['--check', '--code-server'].includes(a)) {
    console.error(`unknown argument ${a}\n${USAGE}`);
    process.exit(2);
  }
}
const check = args.includes('--check');
const forceCodeServer = check || args.includes('--code-server');
const DEFAULT_PORT = 8765;
const NOTEBOOK_GUARD_MS = 180_000; // hang guard for --check: the notebook must show by then
const sample = path.join(repoRoot, 'samples', 'demo.sqlroom');
const workspace = path.join(repoRoot, '.sqlroom-demo');
const notebook = path.join(workspace, 'demo.sqlroom');
const artifacts = path.join(repoRoot, 'test-artifacts');

const cleanups = [];
let stopping = false;
async function runCleanups() {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try { await fn(); } catch (err) { console.error(`cleanup: ${err.message}`); }
  }
}
async function finish(code) {
  await runCleanups();
  process.exit(code);
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${sig}: stopping the demo`);
    finish(check ? 1 : 0);
  });
}

main().then((code) => finish(code), (err) => {
  console.error(`demo: ${err?.message ?? err}`);
  if (process.env.SQLROOM_DEBUG) console.error(err);
  return finish(1);
});

async function main() {
  // 1. npm packages, build, workspace.
  if (!fs.existsSync(path.join(repoRoot, 'node_modules', 'esbuild')) || !fs.existsSync(path.join(repoRoot, 'node_modules', 'loro-crdt'))) {
    console.log('node_modules is missing: npm ci');
    run('npm', ['ci', '--no-audit', '--no-fund']);
  }
  run(process.execPath, ['scripts/build.mjs']);
  fs.mkdirSync(workspace, { recursive: true });
  if (fs.existsSync(notebook)) console.log(`using your copy ${path.relative(repoRoot, notebook)} (delete it to start again from the sample)`);
  else {
    fs.copyFileSync(sample, notebook);
    console.log(`copied ${path.relative(repoRoot, sample)} to ${path.relative(repoRoot, notebook)}`);
  }

  // 2. Desktop VS Code.
  if (!forceCodeServer) {
    const desktop = findDesktopCode();
    if (desktop) {
      console.log(`opening the demo in desktop VS Code (${desktop})`);
      const child = spawn(desktop, [`--extensionDevelopmentPath=${repoRoot}`, workspace, notebook], { detached: true, stdio: 'ignore' });
      await new Promise((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      child.unref();
      return 0;
    }
    console.log('no desktop VS Code (`code` on PATH or SQLROOM_VSCODE_EXECUTABLE): using code-server in a browser');
  }

  // 3. code-server.
  if (!codeServerInstalled()) {
    console.log('code-server is missing: scripts/install-code-server.sh');
    run('bash', ['scripts/install-code-server.sh']);
  }
  // Imported here: its helpers need node_modules (playwright-core), which step 1 installs.
  const cs = await import('./code-server.mjs');
  const label = cs.codeServerLabel();
  let profile;
  if (check) {
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-demo-'));
    cleanups.push(() => fs.rmSync(profile, { recursive: true, force: true }));
  } else {
    profile = path.join(toolsDir, 'demo');
  }
  const userData = path.join(profile, 'user-data');
  const extDir = path.join(profile, 'extensions');
  // The association makes the startup open wait for the extension's notebook type (else: a text editor).
  cs.writeUserSettings(userData, { keepExisting: !check, extra: { 'workbench.editorAssociations': { '*.sqlroom': 'sqlroom' } } });
  // Only the repo, linked afresh (code-server's extensions.json is rebuilt from the folder).
  fs.rmSync(extDir, { recursive: true, force: true });
  cs.linkExtension(repoRoot, extDir);

  const port = await pickPort(cs);
  const logPath = check ? path.join(artifacts, 'demo-code-server.log') : path.join(profile, 'code-server.log');
  // --check: the extension's local sync server gets its own home in the temp profile, stopped at the end.
  const sqlroomHome = check ? path.join(profile, 'sqlroom-home') : undefined;
  if (sqlroomHome) cleanups.push(() => cs.stopLocalServer(path.join(sqlroomHome, 'local-server')));
  const server = cs.startCodeServer({ userData, extDir, workspace, port, logPath, ...(sqlroomHome ? { env: { SQLROOM_HOME: sqlroomHome } } : {}) });
  cleanups.push(() => server.stop());
  const up = await server.waitUntilUp(cs.SERVER_START_GUARD_MS);
  if (up !== 'up') {
    cs.printTail(`code-server log (${logPath})`, logPath, 40);
    throw new Error(up === 'exited' ? `code-server exited (${server.exitStatus()}) before listening` : 'code-server did not start listening');
  }
  const url = cs.workbenchUrl(server.base, workspace, notebook);
  console.log(`\nSQLRoom demo: ${label}, serving ${path.relative(repoRoot, workspace)}/ (log: ${path.relative(repoRoot, logPath)})`);
  console.log(`\n  Open ${url} in a browser\n`);
  console.log(`  (that URL opens demo.sqlroom; ${server.base}/?folder=${workspace} opens just the folder)`);

  if (check) return checkInBrowser(cs, server, url, logPath);

  console.log('  Ctrl+C stops code-server.\n');
  const status = await new Promise((resolve) => {
    const timer = setInterval(() => { if (server.exited()) { clearInterval(timer); resolve(server.exitStatus()); } }, 1000);
  });
  cs.printTail(`code-server log (${logPath})`, logPath, 40);
  console.error(`code-server stopped by itself (${status})`);
  return 1;
}

/** --check: the page in headless Chromium must show the demo notebook's cells. */
async function checkInBrowser(cs, server, url, logPath) {
  const expected = JSON.parse(fs.readFileSync(notebook, 'utf8'));
  const cellCount = expected.cells.length;
  const title = expected.meta?.title ?? 'SQLRoom demo';
  const firstCode = expected.cells.find((c) => c.kind === 'code');
  // A distinctive line of the first SQL cell, as the editor shows it (spaces are &nbsp; there).
  const codeLine = firstCode ? [].concat(firstCode.source).map((l) => l.trim()).find((l) => l.length > 8) : undefined;

  const { browser, stop } = await cs.launchChromium();
  cleanups.push(stop);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const consoleLines = [];
  page.on('console', (m) => { if (consoleLines.length < 2000) consoleLines.push(`[${m.type()}] ${m.text()}`); });
  page.on('pageerror', (e) => { if (consoleLines.length < 2000) consoleLines.push(`[pageerror] ${e.message}`); });
  cleanups.push(() => fs.writeFileSync(path.join(artifacts, 'demo-browser-console.log'), consoleLines.join('\n') + '\n'));
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  console.log(`check: page loaded; waiting for the notebook editor with ${cellCount} cells, "${title}"${codeLine ? ` and "${codeLine}"` : ''}`);

  const started = Date.now();
  let state = {};
  for (;;) {
    if (server.exited()) {
      cs.printTail(`code-server log (${logPath})`, logPath, 40);
      throw new Error(`code-server exited (${server.exitStatus()}) while loading the notebook`);
    }
    state = await notebookState(page, codeLine, title).catch((err) => ({ error: err.message }));
    if (state.cells >= cellCount && state.code && state.title) break;
    if (Date.now() - started > NOTEBOOK_GUARD_MS) {
      await screenshot(page);
      cs.printTail(`code-server log (${logPath})`, logPath, 40);
      throw new Error(`the notebook did not show within ${NOTEBOOK_GUARD_MS / 1000} s: ${describe(state, cellCount)} `
        + '(screenshot test-artifacts/demo.png, browser console test-artifacts/demo-browser-console.log)');
    }
    await cs.sleep(500);
  }
  console.log(`check: notebook shown: ${describe(state, cellCount)}`);

  // Run All: every SQL cell must succeed on the extension's DuckDB kernel.
  const codeCells = expected.cells.filter((c) => c.kind === 'code').length;
  await page.locator('.notebook-editor .notebook-toolbar-container a.action-label[aria-label^="Run All"]').first().click({ timeout: 30_000 });
  await page.mouse.move(700, 880); // no tooltip over the toolbar in the screenshot
  console.log(`check: Run All; waiting for ${codeCells} SQL cells to succeed`);
  const runStarted = Date.now();
  // The cell list is virtual: rows out of view are not in the DOM. A tall
  // window shows every cell with its output; each code cell's state is read
  // from its row (by row index, as rows come and go while outputs grow).
  await page.setViewportSize({ width: 1400, height: 4000 });
  const states = new Map();
  let ran = { ok: 0, failed: 0 };
  for (;;) {
    const rows = await page.locator('.notebook-editor .monaco-list-row.code-cell-row').evaluateAll((els) => els.map((e) => ({
      index: e.getAttribute('data-index'),
      ok: Boolean(e.querySelector('.codicon-notebook-state-success')),
      failed: Boolean(e.querySelector('.codicon-notebook-state-error')),
    })));
    for (const r of rows) if (r.failed || r.ok) states.set(r.index, r.failed ? 'failed' : 'ok');
    ran = { ok: [...states.values()].filter((v) => v === 'ok').length, failed: [...states.values()].filter((v) => v === 'failed').length };
    if (ran.failed > 0 || ran.ok >= codeCells) break;
    if (server.exited()) throw new Error(`code-server exited (${server.exitStatus()}) while running the cells`);
    if (Date.now() - runStarted > NOTEBOOK_GUARD_MS) break;
    await cs.sleep(500);
  }
  await cs.sleep(1500); // let the outputs paint
  await screenshot(page, 'demo-full.png');
  await page.setViewportSize({ width: 1400, height: 900 });
  await cs.sleep(1500); // let the outputs and the markdown preview paint
  await screenshot(page);
  if (ran.failed > 0 || ran.ok < codeCells) {
    throw new Error(`Run All: ${ran.ok}/${codeCells} SQL cells succeeded, ${ran.failed} failed (see test-artifacts/demo.png)`);
  }
  console.log(`check: OK: ${describe(state, cellCount)}; Run All: ${ran.ok}/${codeCells} SQL cells succeeded`);
  return 0;
}

async function screenshot(page, name = 'demo.png') {
  fs.mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, name);
  await page.screenshot({ path: file });
  console.log(`check: screenshot ${path.relative(repoRoot, file)}`);
}

/** What the workbench shows: the notebook editor's cell rows, the SQL text, the title (markdown preview in a webview frame). */
async function notebookState(page, codeLine, title) {
  const editor = page.locator('.notebook-editor');
  const state = { editor: await editor.count(), cells: 0, code: !codeLine, title: false, tab: false, kernel: '' };
  state.tab = (await page.locator('.tabs-container .tab.active', { hasText: 'demo.sqlroom' }).count()) > 0;
  if (!state.editor) return state;
  state.cells = await page.locator('.notebook-editor .monaco-list-row.code-cell-row, .notebook-editor .monaco-list-row.markdown-cell-row').count();
  if (codeLine) {
    const text = (await page.locator('.notebook-editor .view-lines').allInnerTexts()).join('\n').replace(/\u00a0/g, ' ');
    state.code = text.includes(codeLine);
  }
  state.kernel = (await page.locator('.notebook-editor .kernel-label, .notebookOverlay .kernel-label').allInnerTexts().catch(() => [])).join(' ');
  // Markdown cells render inside the notebook's webview (nested frames).
  for (const frame of page.frames()) {
    if (frame === page.mainFrame()) continue;
    try {
      if (await frame.locator('h1', { hasText: title }).count()) { state.title = true; break; }
    } catch { /* a frame that went away */ }
  }
  return state;
}

function describe(s, cellCount) {
  if (s.error) return `page error: ${s.error}`;
  const parts = [
    s.tab ? 'tab demo.sqlroom open' : 'no demo.sqlroom tab',
    s.editor ? 'notebook editor shown' : 'no notebook editor',
    `${s.cells ?? 0}/${cellCount} cells rendered`,
    s.code ? 'SQL cell text shown' : 'SQL cell text not shown',
    s.title ? 'markdown title rendered' : 'markdown title not rendered',
  ];
  if (s.kernel) parts.push(`kernel: ${s.kernel.trim()}`);
  return parts.join(', ');
}

async function pickPort(cs) {
  const wanted = Number(process.env.SQLROOM_DEMO_PORT || DEFAULT_PORT);
  if (!Number.isInteger(wanted) || wanted <= 0 || wanted > 65535) throw new Error(`SQLROOM_DEMO_PORT=${process.env.SQLROOM_DEMO_PORT} is not a port`);
  if (await cs.portIsFree(wanted)) return wanted;
  const port = await cs.freePort();
  console.log(`port ${wanted} is taken: using ${port}`);
  return port;
}

/** SQLROOM_VSCODE_EXECUTABLE, else `code` on PATH (not code-server's own `code` shim). */
function findDesktopCode() {
  const fromEnv = process.env.SQLROOM_VSCODE_EXECUTABLE;
  if (fromEnv) {
    if (fs.existsSync(fromEnv)) return fromEnv;
    console.log(`SQLROOM_VSCODE_EXECUTABLE=${fromEnv} does not exist; ignoring it`);
  }
  const names = process.platform === 'win32' ? ['code.cmd', 'code.exe'] : ['code'];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).slice(0, 200)) {
    if (!dir || dir.includes('code-server')) continue;
    for (const n of names) {
      const p = path.join(dir, n);
      try { if (fs.statSync(p).isFile()) return p; } catch { /* not here */ }
    }
  }
  return undefined;
}

/** Runs a step with its output shown; throws when it fails. */
function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`${cmd} ${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (exit ${r.status ?? r.signal})`);
}
