// Finds the user's one local sync server, or starts it: `dist/server.js local`
// as a detached child process (VS Code's own Node: process.execPath with
// ELECTRON_RUN_AS_NODE=1), not inside the extension host, so DuckDB writes
// and Loro imports never share the editor's event loop, and the server
// outlives the window that started it. Every window of the user joins the
// same one (server/local/localFiles.ts has the files). A server that crashed
// is replaced; one of another version is asked to stop (SIGTERM, it flushes)
// and replaced. No vscode here: unit-tested with real processes.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import {
  DISCOVERY_FILE, EXIT_ALREADY_RUNNING, LOG_FILE, SECRET_FILE, ensurePrivateDir, loadOrCreateSecret, ownerAlive, pidAlive, readDiscovery, type LocalDiscovery,
} from '../../../server/local/localFiles';

export interface LocalServerOptions {
  dir: string;
  /** dist/server.js */
  serverScript: string;
  /** The version this extension needs; a running server of another version is replaced. */
  version: string;
  /** The server exits after this long without a client (0: never). */
  idleExitMs: number;
  /** Node to run it with (default process.execPath, with ELECTRON_RUN_AS_NODE=1 for VS Code's Electron). */
  execPath?: string;
  /** How long to wait for a server to answer (default 60 s: DuckDB's first open on a busy machine). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface LocalServer extends LocalDiscovery {
  /** The key this user's tokens for it are signed with. */
  secret: Buffer;
  /** True when this call started it. */
  started: boolean;
}

/** What to do with the server that server.json names (pure: the decision of ensureLocalServer). */
export function judgeRunning(d: LocalDiscovery | undefined, alive: boolean, healthy: boolean, version: string): 'use' | 'replace' | 'start' {
  if (!d || !alive) return 'start';
  if (!healthy) return 'start'; // still starting, or stuck: the lock decides who starts one
  return d.version === version ? 'use' : 'replace';
}

export async function ensureLocalServer(o: LocalServerOptions): Promise<LocalServer> {
  const log = o.log ?? (() => undefined);
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  ensurePrivateDir(o.dir);
  const secret = loadOrCreateSecret(path.join(o.dir, SECRET_FILE));
  let started = false;
  let lastError = '';
  while (Date.now() < deadline) {
    const d = readDiscovery(o.dir);
    const alive = d ? ownerAlive(d.pid, d.stamp) : false; // not a later process that got the same pid
    const verdict = judgeRunning(d, alive, d && alive ? await healthy(d.httpUrl) : false, o.version);
    if (verdict === 'use' && d) return { ...d, secret, started };
    if (verdict === 'replace' && d) {
      log(`SQLRoom: the local sync server (pid ${d.pid}) is version ${d.version}, this window needs ${o.version}: replacing it`);
      await stopProcess(d.pid, Math.max(1000, deadline - Date.now()));
      continue;
    }
    // None usable: start one. If another window's starts at the same moment, ours exits with EXIT_ALREADY_RUNNING and we wait for theirs.
    const outcome = await startOne(o, deadline);
    if (outcome.kind === 'ready') {
      started = true;
      continue; // read its server.json like anyone else
    }
    if (outcome.kind === 'failed') {
      lastError = outcome.message;
      throw new Error(`The SQLRoom sync server could not start: ${outcome.message}`);
    }
    await waitFor(() => readDiscovery(o.dir) !== undefined, Math.min(deadline, Date.now() + 5000));
  }
  throw new Error(`The SQLRoom sync server did not answer within ${Math.round((o.timeoutMs ?? 60_000) / 1000)} s${lastError ? `: ${lastError}` : ''} (log: ${path.join(o.dir, LOG_FILE)})`);
}

type StartOutcome = { kind: 'ready' } | { kind: 'other' } | { kind: 'failed'; message: string };

function startOne(o: LocalServerOptions, deadline: number): Promise<StartOutcome> {
  const logFile = path.join(o.dir, LOG_FILE);
  const out = fs.openSync(logFile, 'a', 0o600);
  const before = fs.statSync(logFile).size;
  const child = spawn(o.execPath ?? process.execPath, [o.serverScript, 'local', '--dir', o.dir, '--version-tag', o.version, '--idle-exit-ms', String(o.idleExitMs)], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    windowsHide: true,
  });
  fs.closeSync(out);
  o.log?.(`SQLRoom: starting the local sync server (pid ${child.pid}, ${o.serverScript})`);
  return new Promise<StartOutcome>((resolve) => {
    let done = false;
    const finish = (r: StartOutcome) => {
      if (done) return;
      done = true;
      clearInterval(poll);
      child.removeAllListeners();
      child.unref();
      resolve(r);
    };
    child.on('error', (err) => finish({ kind: 'failed', message: err.message }));
    child.on('exit', (code, signal) => {
      if (code === EXIT_ALREADY_RUNNING) finish({ kind: 'other' });
      else finish({ kind: 'failed', message: `it exited (${code ?? signal}): ${tail(logFile, before)}` });
    });
    const poll = setInterval(() => {
      if (readDiscovery(o.dir)?.pid === child.pid) finish({ kind: 'ready' });
      else if (Date.now() > deadline) finish({ kind: 'failed', message: `no ${DISCOVERY_FILE} after waiting (log: ${logFile})` });
    }, 50);
  });
}

/** SIGTERM (the server flushes and closes its database), SIGKILL if it is still there at the deadline. */
async function stopProcess(pid: number, withinMs: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const gone = await waitFor(() => !pidAlive(pid), Date.now() + Math.min(withinMs, 20_000));
  if (!gone) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
    await waitFor(() => !pidAlive(pid), Date.now() + 5000);
  }
}

async function waitFor(cond: () => boolean, until: number): Promise<boolean> {
  while (!cond()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function tail(file: string, from: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8').slice(from).trim();
    return text.split('\n').slice(-5).join(' | ').slice(-800) || '(no output)';
  } catch {
    return '(no log)';
  }
}

/** GET /healthz answers 200. */
export function healthy(httpUrl: string, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${httpUrl}/healthz`, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}
