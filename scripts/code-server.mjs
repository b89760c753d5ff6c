// Starting and stopping code-server (VS Code's workbench + Node extension
// host, installed offline by scripts/install-code-server.sh), shared by the
// VS Code suite (scripts/run-vscode-tests.mjs) and the demo (scripts/demo.mjs):
//   - a profile dir (user data with User/settings.json: no workspace trust,
//     telemetry, welcome page or AI features) and an extensions dir, into
//     which an extension is symlinked or a VSIX installed;
//   - a free port on 127.0.0.1, code-server's own config file (so
//     ~/.config/code-server/config.yaml cannot interfere), a clean env (no
//     VSCODE_* of a parent VS Code, no extension gallery: nothing leaves the
//     machine), its own process group;
//   - waiting for /healthz, and stopping the process group (SIGTERM, then SIGKILL).
// Plus headless Chromium (the extension host starts only once a browser
// connects), launched in its own process group too.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { codeServerPaths, codeServerInstalled } from './vscode-route.mjs';

const require = createRequire(import.meta.url);
export const CHROMIUM = process.env.SQLROOM_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];
export const SERVER_START_GUARD_MS = 90_000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** User settings for a VS Code / code-server profile: nothing that gets in the way of a notebook. */
export const USER_SETTINGS = {
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

/**
 * Writes <userData>/User/settings.json (USER_SETTINGS plus `extra`). keepExisting: a profile that is kept
 * between runs (the demo's) keeps the user's own settings; only missing keys
 * are added, and a file that is not plain JSON (comments) is left alone.
 */
export function writeUserSettings(userData, { keepExisting = false, extra = {} } = {}) {
  const dir = path.join(userData, 'User');
  const file = path.join(dir, 'settings.json');
  fs.mkdirSync(dir, { recursive: true });
  let settings = { ...USER_SETTINGS, ...extra };
  if (keepExisting && fs.existsSync(file)) {
    let existing;
    try { existing = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return; }
    if (!existing || typeof existing !== 'object') return;
    settings = { ...settings, ...existing };
  }
  fs.writeFileSync(file, JSON.stringify(settings, null, 2));
}

/** "code-server 4.139.1 (VS Code 1.139.1)" */
export function codeServerLabel() {
  const cs = codeServerPaths();
  const raw = execFileSync(cs.node, [cs.codeServer, '--version'], { encoding: 'utf8' }).trim();
  const m = /^(\d+\.\d+\.\d+)\s.*with Code (\S+)/m.exec(raw); // a fresh HOME's first run logs a line before it
  return m ? `code-server ${m[1]} (VS Code ${m[2]})` : `code-server ${raw}`;
}

function readManifest(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
}

/** Symlinks an extension folder into extDir as publisher.name-version (replacing an older link); returns the link. */
export function linkExtension(dir, extDir) {
  const pkg = readManifest(dir);
  fs.mkdirSync(extDir, { recursive: true });
  const link = path.join(extDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(dir, link, 'dir');
  return link;
}

/**
 * SIGTERM to the extension's local sync server under `dir` (<SQLROOM_HOME>/local-server; its pid is
 * in server.json), waiting for it to flush and exit: a run that gave code-server its own
 * SQLROOM_HOME stops the server its windows started.
 */
export async function stopLocalServer(dir) {
  let pid;
  try {
    pid = JSON.parse(fs.readFileSync(path.join(dir, 'server.json'), 'utf8')).pid;
  } catch {
    return; // none running
  }
  const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  for (let i = 0; i < 300 && alive(); i++) await sleep(100);
  if (alive()) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

/** The env code-server runs with: ours, minus what must not leak into the host under test, plus `extra`. */
export function codeServerEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE' || k === 'SQLROOM_STATS_FILE') delete env[k];
  Object.assign(env, {
    PATH: `${codeServerPaths().nodeBin}${path.delimiter}${process.env.PATH}`,
    // No extension gallery: nothing may leave the machine (not even DNS).
    EXTENSIONS_GALLERY: '{}',
    ...extra,
  });
  return env;
}

/**
 * Installs a VSIX (a local file: offline) into extDir with code-server's
 * CLI, the same install a user gets. Returns the installed folder, found by
 * the extension's id (publisher.name) in extDir.
 */
export function installVsix(vsix, extDir, userData) {
  if (!codeServerInstalled()) throw new Error('code-server is not installed: run scripts/install-code-server.sh');
  const cs = codeServerPaths();
  fs.mkdirSync(extDir, { recursive: true });
  const before = new Set(fs.readdirSync(extDir));
  const out = execFileSync(cs.node, [cs.codeServer, '--install-extension', vsix, '--force', '--extensions-dir', extDir,
    '--user-data-dir', userData], { encoding: 'utf8', env: codeServerEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: 5 * 60_000 });
  const added = fs.readdirSync(extDir).filter((d) => !before.has(d) && fs.statSync(path.join(extDir, d)).isDirectory());
  const folder = added.find((d) => fs.existsSync(path.join(extDir, d, 'package.json')));
  if (!folder) throw new Error(`installing ${vsix} left no extension folder in ${extDir}:\n${out}`);
  return path.join(extDir, folder);
}

export function portIsFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** SIGTERM the process group we started, then SIGKILL it after a grace period. */
export async function killGroup(pid, exited, name) {
  if (!pid) return;
  const signalGroup = (sig) => { try { process.kill(-pid, sig); return true; } catch { return false; } };
  if (!signalGroup('SIGTERM')) return;
  for (let i = 0; i < 50 && !exited(); i++) await sleep(100);
  if (signalGroup('SIGKILL') && !exited()) console.log(`${name} (pid ${pid}) needed SIGKILL`);
}

export async function waitFor(ms, probe) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(300);
  }
  return undefined;
}

/**
 * Starts code-server in its own process group, output to logPath.
 * opts: { userData, extDir, workspace?, port, host = '127.0.0.1', env = {} (added to codeServerEnv()), logPath }
 * Returns { pid, base, exitStatus(), exited(), waitUntilUp(ms), stop() }.
 */
export function startCodeServer({ userData, extDir, workspace, port, host = '127.0.0.1', env = {}, logPath }) {
  if (!codeServerInstalled()) throw new Error('code-server is not installed: run scripts/install-code-server.sh');
  const cs = codeServerPaths();
  fs.mkdirSync(userData, { recursive: true });
  fs.mkdirSync(extDir, { recursive: true });
  fs.mkdirSync(path.dirname(logPath), { recursive: true });
  // Our own config file, so ~/.config/code-server/config.yaml cannot interfere.
  const config = path.join(userData, 'code-server.yaml');
  fs.writeFileSync(config, 'auth: none\ncert: false\n');
  const logFd = fs.openSync(logPath, 'w');
  const server = spawn(cs.node, [cs.codeServer, '--config', config, '--auth', 'none', '--bind-addr', `${host}:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--user-data-dir', userData, '--extensions-dir', extDir, ...(workspace ? [workspace] : [])],
  { env: codeServerEnv(env), detached: true, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  let exit = null;
  server.on('exit', (code, signal) => { exit = signal ?? code; });
  const base = `http://${host}:${port}`;
  return {
    pid: server.pid,
    base,
    exitStatus: () => exit,
    exited: () => exit !== null,
    /** 'up' | 'exited' | undefined (guard ran out) */
    waitUntilUp: (ms = SERVER_START_GUARD_MS) => waitFor(ms, async () => {
      if (exit !== null) return 'exited';
      try { return (await fetch(`${base}/healthz`)).ok ? 'up' : undefined; } catch { return undefined; }
    }),
    stop: () => killGroup(server.pid, () => exit !== null, 'code-server'),
  };
}

/** Headless Chromium in its own process group: { browser, stop() }. */
export async function launchChromium() {
  const { chromium } = require('playwright-core');
  const browserServer = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const chromePid = browserServer.process().pid;
  let chromeExit = null;
  browserServer.process().on('exit', (code, signal) => { chromeExit = signal ?? code; });
  const stop = async () => {
    await Promise.race([browserServer.close().catch(() => {}), sleep(10_000)]);
    await killGroup(chromePid, () => chromeExit !== null, 'chromium');
  };
  try {
    return { browser: await chromium.connect(browserServer.wsEndpoint()), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The workbench URL that opens `folder` and, in it, `file` (both absolute
 * paths on this machine): VS Code web's `payload` with `openFile`, a
 * vscode-remote URI whose authority is the host:port the browser uses.
 * The file opens in its notebook editor only when the profile associates
 * the file type with it (`workbench.editorAssociations`): only then does the
 * workbench wait for the extensions' contributions before picking an editor.
 */
export function workbenchUrl(base, folder, file) {
  // Escaped, but keeping / : [ ] , readable (all legal in a query).
  const q = (s) => encodeURIComponent(s).replace(/%(2F|3A|5B|5D|2C)/g, (m) => decodeURIComponent(m));
  let url = `${base}/?folder=${q(folder)}`;
  if (file) {
    const authority = new URL(base).host;
    const fileUri = `vscode-remote://${authority}${file.split(path.sep).map(encodeURIComponent).join('/')}`;
    url += `&payload=${q(JSON.stringify([['openFile', fileUri]]))}`;
  }
  return url;
}

export function printTail(title, file, lines = 60) {
  if (!fs.existsSync(file)) return;
  const text = fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  console.log(`---- last ${lines} lines of ${title} ----\n${text}\n---- end ----`);
}
