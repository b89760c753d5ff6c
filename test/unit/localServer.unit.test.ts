// The one local sync server per user: real processes of `sqlroom-server
// local` (out/server/cli.js) found or started by ensureLocalServer(), as the
// VS Code windows do. Two windows starting at once end with one server; it
// exits by itself once no client is connected; a crashed (SIGKILL) or
// outdated one is replaced; every file it writes is readable by the user only.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EphemeralStore } from 'loro-crdt';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { DATABASE_FILE, DISCOVERY_FILE, LOCK_FILE, SECRET_FILE, acquireLock, pidAlive, readDiscovery, readLockPid, releaseLock } from '../../server/local/localFiles';
import { ensureLocalServer, judgeRunning } from '../../extension/core/sync/localServer';
import { ownToken, OWN_TTL_SECONDS } from '../../extension/core/sync/serverSecret';
import { RoomClient } from '../../extension/core/sync/roomClient';
import { verifyToken } from '../../server/tokens';

const CLI = path.resolve(__dirname, '../../server/cli.js');
const CLIENT_MODULE = path.resolve(__dirname, '../../extension/core/sync/localServer.js');

async function until<T>(what: string, f: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/** A second "window": another Node process calling ensureLocalServer on the same directory. */
function windowProcess(dir: string, version: string): Promise<{ pid: number; url: string; started: boolean }> {
  const script = `
    const { ensureLocalServer } = require(${JSON.stringify(CLIENT_MODULE)});
    ensureLocalServer({ dir: ${JSON.stringify(dir)}, serverScript: ${JSON.stringify(CLI)}, version: ${JSON.stringify(version)}, idleExitMs: 0, execPath: process.execPath })
      .then((s) => { process.stdout.write(JSON.stringify({ pid: s.pid, url: s.url, started: s.started })); process.exit(0); },
            (e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { pid: number; url: string; started: boolean }) : reject(new Error(`window process failed (${code}): ${err}`)))),
  );
}

describe('local sync server: one per user, found or started by every window', function () {
  this.timeout(180_000);
  let root: string;
  const started = new Set<number>();

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-local-'));
  });
  afterEach(async () => {
    // Stop every server a test started (by pid), then remove the directory.
    for (const pid of started) {
      if (!pidAlive(pid)) continue;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      await until(`server ${pid} to stop`, () => !pidAlive(pid), 30_000).catch(() => process.kill(pid, 'SIGKILL'));
    }
    started.clear();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const ensure = async (dir: string, version = 'v1', idleExitMs = 0) => {
    const s = await ensureLocalServer({ dir, serverScript: CLI, version, idleExitMs, execPath: process.execPath });
    started.add(s.pid);
    return s;
  };

  it('two windows starting at the same moment end with one server, and both join it', async () => {
    const dir = path.join(root, 'local-server');
    const [a, b] = await Promise.all([windowProcess(dir, 'v1'), windowProcess(dir, 'v1')]);
    started.add(a.pid).add(b.pid);
    assert.equal(a.pid, b.pid, 'both windows found the same server process');
    assert.equal(a.url, b.url);
    assert.equal([a.started, b.started].filter(Boolean).length, 1, 'exactly one of them started it');
    // A third window (this process) joins it without starting another.
    const c = await ensure(dir);
    assert.equal(c.pid, a.pid);
    assert.equal(c.started, false);
    assert.equal(readLockPid(dir), a.pid, 'the lock names the running server');
  });

  it('every file is readable by the user only (dir 0700; lock, server.json, secret and database 0600); tokens are short-lived', async function () {
    if (process.platform === 'win32') this.skip();
    const dir = path.join(root, 'local-server');
    const s = await ensure(dir);
    assert.equal(mode(dir), 0o700);
    for (const f of [LOCK_FILE, DISCOVERY_FILE, SECRET_FILE, DATABASE_FILE]) assert.equal(mode(path.join(dir, f)), 0o600, `${f} is 0600`);
    const token = ownToken(s.secret);
    const claims = verifyToken(s.secret, token);
    assert.equal(claims.exp - claims.iat, OWN_TTL_SECONDS);
    assert.ok(OWN_TTL_SECONDS <= 86400, 'the local server token lives a day at most');
    // A directory made loose by hand is tightened again.
    fs.chmodSync(dir, 0o755);
    await ensure(dir);
    assert.equal(mode(dir), 0o700);
  });

  it('a window joins (document and presence) with a fresh token per join; a token signed with another secret is refused', async () => {
    const dir = path.join(root, 'local-server');
    const s = await ensure(dir);
    const nb = new NotebookDoc();
    nb.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT 1' });
    nb.commit();
    let minted = 0;
    // With presence: the presence join carries the same freshly minted token.
    const presence = new EphemeralStore(30_000);
    const ok = new RoomClient({ url: s.url, roomId: 'doc-local-1', doc: nb.doc, presence, auth: () => ({ user: 'ana', token: (minted++, ownToken(s.secret)) }) });
    try {
      await ok.whenSynced(60_000);
      await until('the presence join to be accepted', () => (ok.current.presence === true ? true : undefined));
      assert.equal(minted, 1);
    } finally {
      ok.close();
      presence.destroy();
    }
    const other = ownToken(Buffer.from('another-users-secret-0123456789abcdef'));
    const bad = new RoomClient({ url: s.url, roomId: 'doc-local-1', doc: new NotebookDoc().doc, auth: { user: 'eve', token: other }, initialBackoffMs: 60_000 });
    try {
      await until('the foreign token to be refused', () => (bad.current.state === 'error' ? true : undefined));
    } finally {
      bad.close();
    }
  });

  it('exits by itself once no client has been connected for idleExitMs, and not while one is', async () => {
    const dir = path.join(root, 'local-server');
    const s = await ensure(dir, 'v1', 1500);
    const nb = new NotebookDoc();
    const client = new RoomClient({ url: s.url, roomId: 'doc-idle', doc: nb.doc, auth: () => ({ user: 'ana', token: ownToken(s.secret) }) });
    await client.whenSynced(60_000);
    // Connected for several idle periods: still there.
    await new Promise((r) => setTimeout(r, 4500));
    assert.ok(pidAlive(s.pid), 'a server with a client connected stays');
    assert.equal(readDiscovery(dir)?.pid, s.pid);
    client.close();
    await until('the idle server to exit', () => !pidAlive(s.pid));
    assert.equal(fs.existsSync(path.join(dir, DISCOVERY_FILE)), false, 'server.json removed');
    assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false, 'lock released');
    // The next window starts a fresh one on the same data.
    const again = await ensure(dir);
    assert.notEqual(again.pid, s.pid);
    assert.equal(again.started, true);
  });

  it('a crashed server (SIGKILL, stale lock and server.json left behind) is replaced by the next window; the data survives', async () => {
    const dir = path.join(root, 'local-server');
    const s = await ensure(dir);
    const nb = new NotebookDoc();
    nb.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT 42 -- kept' });
    nb.commit();
    const c = new RoomClient({ url: s.url, roomId: 'doc-crash', doc: nb.doc, auth: () => ({ user: 'ana', token: ownToken(s.secret) }) });
    await c.whenSynced(60_000); // acked = durable (write-ahead file)
    c.close();
    process.kill(s.pid, 'SIGKILL');
    await until('the killed server to be gone', () => !pidAlive(s.pid));
    assert.equal(readDiscovery(dir)?.pid, s.pid, 'a stale server.json is left');
    assert.equal(readLockPid(dir), s.pid, 'a stale lock is left');
    const t = await ensure(dir);
    assert.notEqual(t.pid, s.pid);
    assert.equal(t.started, true);
    const fresh = new NotebookDoc();
    const r = new RoomClient({ url: t.url, roomId: 'doc-crash', doc: fresh.doc, auth: () => ({ user: 'bo', token: ownToken(t.secret) }) });
    try {
      await until('the replacement to serve the stored notebook', () => (fresh.toData().cells[0]?.source === 'SELECT 42 -- kept' ? true : undefined));
    } finally {
      r.close();
    }
  });

  it('server.json and lock left by a server whose pid now belongs to another program (a reboot) do not block the start', async function () {
    if (process.platform !== 'linux') this.skip();
    const dir = path.join(root, 'local-server');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // This test process stands for the unrelated program that got the pid; its stamp differs.
    const stale = `${process.pid} 00000000-0000-0000-0000-000000000000:1`;
    fs.writeFileSync(path.join(dir, LOCK_FILE), stale + '\n');
    fs.writeFileSync(path.join(dir, DISCOVERY_FILE), JSON.stringify({ url: 'ws://127.0.0.1:9', httpUrl: 'http://127.0.0.1:9', pid: process.pid, version: 'v1', startedAt: '', stamp: stale.split(' ')[1] }));
    const s = await ensure(dir);
    assert.notEqual(s.pid, process.pid);
    assert.equal(s.started, true);
    assert.ok(pidAlive(process.pid), 'the unrelated process was left alone');
  });

  it('a server of another version is stopped and replaced', async () => {
    const dir = path.join(root, 'local-server');
    const old = await ensure(dir, 'v1');
    const next = await ensure(dir, 'v2');
    assert.notEqual(next.pid, old.pid);
    assert.equal(pidAlive(old.pid), false, 'the outdated server exited');
    assert.equal(readDiscovery(dir)?.version, 'v2');
  });

  it('a second `sqlroom-server local` on a directory whose lock is held exits with code 3 and leaves the running one alone', async () => {
    const dir = path.join(root, 'local-server');
    const s = await ensure(dir);
    const code = await new Promise<number | null>((resolve) => spawn(process.execPath, [CLI, 'local', '--dir', dir], { stdio: 'ignore' }).on('exit', resolve));
    assert.equal(code, 3);
    assert.ok(pidAlive(s.pid));
    assert.equal(readDiscovery(dir)?.pid, s.pid);
  });
});

describe('local server lock and decisions (pure)', () => {
  it('acquireLock: one owner; a dead owner\'s lock is taken over; release removes only our own', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-lock-'));
    try {
      assert.equal(acquireLock(dir, process.pid), true);
      assert.equal(acquireLock(dir, process.ppid), false, 'held by a live process');
      releaseLock(dir, 999_999_999); // not ours: nothing happens
      assert.ok(fs.existsSync(path.join(dir, LOCK_FILE)));
      releaseLock(dir, process.pid);
      assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);
      fs.writeFileSync(path.join(dir, LOCK_FILE), '999999999\n'); // a pid that does not exist
      assert.equal(acquireLock(dir, process.pid), true, 'a dead owner\'s lock is taken over');
      assert.deepEqual(fs.readdirSync(dir), [LOCK_FILE], 'no temp or stale files left');
      if (process.platform === 'linux') {
        // After a reboot the pid in a lock may belong to another program: a live pid with another stamp is stale.
        fs.writeFileSync(path.join(dir, LOCK_FILE), `${process.ppid} 00000000-0000-0000-0000-000000000000:1\n`);
        assert.equal(acquireLock(dir, process.pid), true, 'a reused pid does not hold the lock');
        assert.equal(readLockPid(dir), process.pid);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('judgeRunning: use a healthy one of our version, replace another version, start when none answers', () => {
    const d = { url: 'ws://127.0.0.1:1', httpUrl: 'http://127.0.0.1:1', pid: 1, version: 'v1', startedAt: '' };
    assert.equal(judgeRunning(undefined, false, false, 'v1'), 'start');
    assert.equal(judgeRunning(d, false, false, 'v1'), 'start');
    assert.equal(judgeRunning(d, true, false, 'v1'), 'start');
    assert.equal(judgeRunning(d, true, true, 'v1'), 'use');
    assert.equal(judgeRunning(d, true, true, 'v2'), 'replace');
  });
});
