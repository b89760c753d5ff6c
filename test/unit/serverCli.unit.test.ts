// The sqlroom-server CLI: help, usage errors, clear start-up errors (port in
// use, database locked, ducklake missing), checkpoint/compact/analytics, and a
// graceful SIGTERM that flushes everything.
import * as assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { LoroDoc } from 'loro-crdt';
import { MessageType, UpdateStatusCode } from 'loro-protocol';
import { startServer } from '../../server';
import { RawClient, rmDir, tmpDir } from '../support/serverHarness';
import { runCli, spawnServer } from '../support/serverProcess';

function edits(n: number, peer: bigint): Uint8Array[] {
  const d = new LoroDoc();
  d.setPeerId(peer);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const before = d.oplogVersion();
    d.getText('t').insert(d.getText('t').length, `e${i} `);
    d.commit();
    out.push(d.export({ mode: 'update', from: before }));
  }
  return out;
}

/** Characters typed by edits(n). */
function textLength(n: number): number {
  let len = 0;
  for (let i = 0; i < n; i++) len += `e${i} `.length;
  return len;
}

async function send(url: string, roomId: string, updates: Uint8Array[]): Promise<void> {
  const raw = await RawClient.connect(url);
  raw.join(roomId, new Uint8Array(), new TextEncoder().encode('cli-tester'));
  await raw.next(MessageType.JoinResponseOk);
  for (const u of updates) assert.equal((await raw.ackFor(raw.update(roomId, [u]))).status, UpdateStatusCode.Ok);
  raw.close();
}

describe('server CLI', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = tmpDir();
  });
  afterEach(() => rmDir(dir));

  it('--help and usage errors', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /sqlroom-server \[serve\]/);
    assert.match(help.stdout, /--extension-dir/);
    const bad = await runCli(['--bogus']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown option '--bogus'/);
    const cmd = await runCli(['frobnicate']);
    assert.equal(cmd.code, 2);
    assert.match(cmd.stderr, /unknown command "frobnicate"/);
    const num = await runCli(['serve', '--port', 'abc']);
    assert.equal(num.code, 2);
    assert.match(num.stderr, /--port must be an integer/);
    const lake = await runCli(['analytics', '--lake', 'ducklake:x']);
    assert.equal(lake.code, 2);
    assert.match(lake.stderr, /--lake needs --data-path/);
  });

  it('clear start-up errors: port in use, database locked, ducklake extension missing', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    const inUse = await runCli(['serve', '--port', String(port), '--db', path.join(dir, 'a.duckdb')]);
    blocker.close();
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, new RegExp(`port ${port} on 127.0.0.1 is already in use`));

    const db = path.join(dir, 'locked.duckdb');
    const holder = await startServer({ port: 0, db, logLevel: 'silent' });
    try {
      const locked = await runCli(['serve', '--port', '0', '--db', db, '--lock-wait', '0']);
      assert.equal(locked.code, 1);
      assert.match(locked.stderr, /is locked by another process/);
      const q = await runCli(['analytics', '--db', db]);
      assert.equal(q.code, 1);
      assert.match(q.stderr, /locked by another process.*--server/);
    } finally {
      await holder.close();
    }

    const empty = path.join(dir, 'no-extensions');
    mkdirSync(empty);
    const missing = await runCli(['serve', '--port', '0', '--lake', `ducklake:${path.join(dir, 'c.ducklake')}`, '--data-path', path.join(dir, 'data'), '--extension-dir', empty]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ducklake extension is not available/);
    assert.match(missing.stderr, /v1\.5\.5\/linux_amd64\/ducklake\.duckdb_extension \(missing\)/);
    assert.match(missing.stderr, /install-duckdb-extensions\.sh/);
  });

  it('SIGTERM flushes everything; checkpoint / compact / analytics subcommands', async () => {
    const db = path.join(dir, 'db.duckdb');
    // Long flush delay: the updates sit in the buffer until shutdown flushes them.
    const srv = await spawnServer(['--db', db, '--flush-ms', '600000', '--flush-ops', '100000', '--snapshot-ops', '0', '--log-level', 'info']);
    await send(srv.url, 'notes', edits(20, 3n));
    const viaServer = await runCli(['checkpoint', '--doc', 'notes', '--message', 'first draft', '--author', 'eve', '--server', srv.httpUrl]);
    assert.equal(viaServer.code, 0, viaServer.stderr);
    // Rows pack each author's updates of a flush (at most packSpanMs apart): 20 updates in a few rows.
    const first = (JSON.parse(viaServer.stdout) as { lastOpId: number }).lastOpId;
    assert.ok(first >= 1 && first <= 20, `first checkpoint at row ${first}`);
    await send(srv.url, 'notes', edits(25, 4n));
    const metrics = await (await fetch(`${srv.httpUrl}/metrics`)).text();
    assert.match(metrics, /^sqlroom_buffer_ops 25$/m);
    assert.equal(await srv.kill('SIGTERM'), 0);
    assert.match(srv.stderr(), /"msg":"sqlroom sync server stopped","walDepth":0/);
    assert.deepEqual(readdirSync(`${db}.wal.d`), []);

    const a = await runCli(['analytics', '--db', db, '--doc', 'notes']);
    assert.equal(a.code, 0, a.stderr);
    const stats = JSON.parse(a.stdout) as { perAuthor: { author: string; updates: number; ops: number }[] };
    assert.equal(stats.perAuthor.length, 1);
    assert.deepEqual([stats.perAuthor[0].author, stats.perAuthor[0].updates, stats.perAuthor[0].ops], ['cli-tester', 45, textLength(20) + textLength(25)]);

    const cp = await runCli(['checkpoint', '--db', db, '--doc', 'notes', '--message', 'offline', '--author', 'ops']);
    assert.equal(cp.code, 0, cp.stderr);
    const second = JSON.parse(cp.stdout) as { snapshotId: number; lastOpId: number; deletedOps: number };
    assert.equal(second.snapshotId, 2);
    assert.equal(second.deletedOps, 0);
    assert.ok(second.lastOpId > first && second.lastOpId <= 45, `second checkpoint at row ${second.lastOpId}`);
    const compact = await runCli(['compact', '--db', db, '--doc', 'notes', '--retain-ops', '1']);
    assert.equal(compact.code, 0, compact.stderr);
    assert.equal((JSON.parse(compact.stdout) as { deletedOps: number }).deletedOps, second.lastOpId - 1);
    const missing = await runCli(['checkpoint', '--db', db, '--doc', 'nothing-here']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no document nothing-here/);
    const hostile = await runCli(['checkpoint', '--db', db, '--doc', "x'--"]);
    assert.equal(hostile.code, 1);
    assert.match(hostile.stderr, /invalid doc id/);

    // The compacted database still serves the full document.
    const again = await spawnServer(['--db', db, '--log-level', 'warn']);
    const raw = await RawClient.connect(again.url);
    raw.join('notes');
    const upd = await raw.next(MessageType.DocUpdate);
    const doc = new LoroDoc();
    doc.importBatch(upd.updates);
    assert.equal(doc.getText('t').length, textLength(20) + textLength(25));
    raw.close();
    assert.equal(await again.kill('SIGTERM'), 0);
  });
});
