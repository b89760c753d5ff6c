// The files through which every VS Code window (and profile) of one user finds
// the one local sync server: a per-user directory (0700) holding
//   server.lock   the pid of the process that owns the server (created with
//                 an atomic link, so of two starting at once one wins),
//   server.json   where it listens, its pid and version (written once it listens),
//   secret        the key its tokens are signed with,
//   sqlroom.duckdb (+ .wal.d) its data,
//   server.log    its log.
// Every file is created 0600: only the user may read the port, the secret
// or the data. No vscode here: used by the server's `local` command and the
// extension, and unit-tested in plain Node.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MIN_SECRET_BYTES, newSecret } from '../tokens';

export interface LocalDiscovery {
  /** ws://127.0.0.1:port */
  url: string;
  /** http://127.0.0.1:port */
  httpUrl: string;
  pid: number;
  /** What the extension that wants it asked for; another version is replaced. */
  version: string;
  startedAt: string;
  /** processStamp() of the server process: tells it from a later process with the same pid. */
  stamp?: string;
}

export const LOCK_FILE = 'server.lock';
export const DISCOVERY_FILE = 'server.json';
export const SECRET_FILE = 'secret';
export const DATABASE_FILE = 'sqlroom.duckdb';
export const LOG_FILE = 'server.log';
/** Exit code of `sqlroom-server local` when another process owns the lock. */
export const EXIT_ALREADY_RUNNING = 3;

/**
 * The per-user directory: $SQLROOM_HOME/local-server when set (tests, portable
 * installs), else ~/.sqlroom/local-server. Not $XDG_RUNTIME_DIR: the data must
 * outlive a logout.
 */
export function localServerDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.SQLROOM_HOME && env.SQLROOM_HOME.trim() !== '' ? env.SQLROOM_HOME : path.join(os.homedir(), '.sqlroom');
  return path.join(home, 'local-server');
}

/** Creates `dir` readable by the user only (tightens an existing one). */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') fs.chmodSync(dir, 0o700);
}

/** Writes `file` atomically (temp file + rename) with mode 0600. */
export function writePrivateFile(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  if (process.platform !== 'win32') fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

export function readDiscovery(dir: string): LocalDiscovery | undefined {
  try {
    const d = JSON.parse(fs.readFileSync(path.join(dir, DISCOVERY_FILE), 'utf8')) as LocalDiscovery;
    return typeof d.url === 'string' && typeof d.httpUrl === 'string' && typeof d.pid === 'number' && typeof d.version === 'string' ? d : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Boot id and start time of a process (Linux; '' elsewhere): the lock and
 * server.json outlive a reboot in ~/.sqlroom, and a pid may by then belong to
 * another program. A recorded stamp that differs means the owner is gone.
 */
export function processStamp(pid: number): string {
  try {
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]; // field 22: starttime
    return `${boot}:${start}`;
  } catch {
    return '';
  }
}

/** The process that wrote `stamp` (processStamp) with this pid is still running. */
export function ownerAlive(pid: number, stamp: string | undefined): boolean {
  if (!pidAlive(pid)) return false;
  return !stamp || processStamp(pid) === stamp || processStamp(pid) === '';
}

/** True while a process with this pid exists (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's owner: "<pid> <stamp>" (the stamp may be missing). */
export function readLock(dir: string, file = LOCK_FILE): { pid: number; stamp?: string } | undefined {
  try {
    const [p, stamp] = fs.readFileSync(path.join(dir, file), 'utf8').trim().split(/\s+/);
    const pid = Number(p);
    return Number.isInteger(pid) && pid > 0 ? { pid, ...(stamp ? { stamp } : {}) } : undefined;
  } catch {
    return undefined;
  }
}

export function readLockPid(dir: string): number | undefined {
  return readLock(dir)?.pid;
}

/**
 * Takes the lock for `pid`: true when this process now owns it, false when a
 * live process does. A lock left by a dead process is taken over (renamed
 * away first, so of two takers only one removes it).
 */
export function acquireLock(dir: string, pid = process.pid): boolean {
  const lock = path.join(dir, LOCK_FILE);
  const tmp = path.join(dir, `${LOCK_FILE}.${pid}.tmp`);
  fs.writeFileSync(tmp, `${pid} ${processStamp(pid)}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        fs.linkSync(tmp, lock); // atomic: fails with EEXIST when someone holds it
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = readLock(dir);
      const holder = owner?.pid;
      if (holder === pid) return true;
      if (owner && ownerAlive(owner.pid, owner.stamp)) return false;
      if (holder === undefined && ageMs(lock) < 2000) return false; // being written right now
      // Stale: move it aside; only the one whose rename finds the stale pid deletes it.
      const aside = path.join(dir, `${LOCK_FILE}.stale.${pid}`);
      try {
        fs.renameSync(lock, aside);
      } catch {
        continue; // someone else moved it: try again
      }
      const moved = readLock(dir, path.basename(aside));
      if (moved && moved.pid !== holder && ownerAlive(moved.pid, moved.stamp)) {
        // We moved a live owner's fresh lock: put it back and let it be.
        try {
          fs.linkSync(aside, lock);
        } catch {
          /* a third process took it meanwhile */
        }
        fs.rmSync(aside, { force: true });
        return false;
      }
      fs.rmSync(aside, { force: true });
    }
    return false;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Removes the lock and discovery file if they are still `pid`'s. */
export function releaseLock(dir: string, pid = process.pid): void {
  if (readDiscovery(dir)?.pid === pid) fs.rmSync(path.join(dir, DISCOVERY_FILE), { force: true });
  if (readLockPid(dir) === pid) fs.rmSync(path.join(dir, LOCK_FILE), { force: true });
}

function ageMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
}

/** Reads the secret in `file`, creating it (mode 0600) when missing or unusable. Safe when two processes race. */
export function loadOrCreateSecret(file: string): Buffer {
  const read = (): Buffer | undefined => {
    try {
      const s = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'utf8');
      return s.length >= MIN_SECRET_BYTES ? s : undefined;
    } catch {
      return undefined;
    }
  };
  const existing = read();
  if (existing) return existing;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fresh = newSecret();
  try {
    fs.writeFileSync(file, fresh + '\n', { flag: 'wx', mode: 0o600 });
    return Buffer.from(fresh, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // Another process created it first, or it holds something unusable (replace that).
  const raced = read();
  if (raced) return raced;
  writePrivateFile(file, fresh + '\n');
  return Buffer.from(fresh, 'utf8');
}
