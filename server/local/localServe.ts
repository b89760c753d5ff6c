// `sqlroom-server local`: the one sync server of a user on this machine,
// started (detached) by the first VS Code window that needs it and shared by
// every window and profile. It owns the lock of its directory (a second one
// started at the same moment exits with EXIT_ALREADY_RUNNING), listens on
// loopback with a port chosen by the OS, needs tokens signed with the
// directory's secret, publishes where it listens in server.json (0600), and
// exits by itself once no client has been connected for `idleExitMs`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startServer, type RunningServer } from '../index';
import { createLogger, type LogLevel } from '../log';
import {
  DATABASE_FILE, DISCOVERY_FILE, EXIT_ALREADY_RUNNING, SECRET_FILE, acquireLock, loadOrCreateSecret, processStamp, ensurePrivateDir, releaseLock, writePrivateFile, type LocalDiscovery,
} from './localFiles';

export interface LocalServeOptions {
  dir: string;
  version: string;
  /** Exit after this long with no client connected (0: never). */
  idleExitMs: number;
  logLevel: LogLevel;
  /** Test hook: how often the idle check runs (default: a quarter of idleExitMs, at most 5 s). */
  checkEveryMs?: number;
}

/** Resolves with the exit code once the server has stopped (or at once: another one runs). */
export async function serveLocal(o: LocalServeOptions): Promise<number> {
  ensurePrivateDir(o.dir);
  const log = createLogger(o.logLevel);
  if (!acquireLock(o.dir)) {
    log.info('another local server owns the lock', { dir: o.dir });
    return EXIT_ALREADY_RUNNING;
  }
  let server: RunningServer;
  try {
    const secret = loadOrCreateSecret(path.join(o.dir, SECRET_FILE));
    server = await startServer({ host: '127.0.0.1', port: 0, db: path.join(o.dir, DATABASE_FILE), secret, logLevel: o.logLevel });
    for (const f of fs.readdirSync(o.dir)) if (f.startsWith(DATABASE_FILE)) tighten(path.join(o.dir, f));
  } catch (err) {
    releaseLock(o.dir);
    throw err;
  }
  const d: LocalDiscovery = { url: server.url, httpUrl: server.httpUrl, pid: process.pid, version: o.version, startedAt: new Date().toISOString(), stamp: processStamp(process.pid) };
  writePrivateFile(path.join(o.dir, DISCOVERY_FILE), JSON.stringify(d, null, 2) + '\n');
  process.stdout.write(JSON.stringify({ listening: server.url, http: server.httpUrl }) + '\n');
  log.info('local server ready', { url: server.url, dir: o.dir, version: o.version, idleExitMs: o.idleExitMs });

  return new Promise<number>((resolve) => {
    let stopping = false;
    let idleSince = Date.now();
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      log.info('local server stopping', { why });
      // Unpublish first: a window looking now starts a fresh one rather than joining a closing one.
      releaseLockKeepingLock(o.dir);
      server.close().then(
        () => {
          releaseLock(o.dir);
          resolve(0);
        },
        (err: unknown) => {
          log.error('close failed', { error: String(err) });
          releaseLock(o.dir);
          resolve(1);
        },
      );
    };
    const every = o.checkEveryMs ?? Math.max(50, Math.min(5000, Math.floor(o.idleExitMs / 4)));
    const timer = setInterval(() => {
      if (server.stats().clients > 0) idleSince = Date.now();
      else if (o.idleExitMs > 0 && Date.now() - idleSince >= o.idleExitMs) stop(`no client for ${o.idleExitMs} ms`);
    }, every);
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

/** Removes server.json (still ours) but keeps the lock until the database is closed. */
function releaseLockKeepingLock(dir: string): void {
  try {
    const file = path.join(dir, DISCOVERY_FILE);
    const d = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: number };
    if (d.pid === process.pid) fs.rmSync(file, { force: true });
  } catch {
    /* already gone */
  }
}

function tighten(file: string): void {
  try {
    if (process.platform !== 'win32' && fs.statSync(file).isFile()) fs.chmodSync(file, 0o600);
  } catch {
    /* best effort: the directory is 0700 anyway */
  }
}
