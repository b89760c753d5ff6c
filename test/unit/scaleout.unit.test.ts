// Scale-out: three sqlroom-server processes on one DuckLake (PostgreSQL
// catalog started by the test, shared data path), on loopback. Relay across
// processes, concurrent writers (op-id invariants in storage), leases,
// branches across processes, recovery equality, failover under SIGKILL.
// Bounded in count; timeouts are hang guards only.
import * as assert from 'node:assert/strict';
import { LoroDoc } from 'loro-crdt';
import { MessageType, UpdateStatusCode } from 'loro-protocol';
import { RoomClient } from '../../extension/core/sync/roomClient';
import { SharedLakeStorage } from '../../server/storage/sharedLakeStorage';
import { requirePostgres, startPostgres } from '../support/postgres';
import { EXT_DIR, LakeReader, ScaleoutCluster, lakeExtensionsMissing, versionJson } from '../support/scaleoutCluster';
import { RawClient, rmDir, textOf, tmpDir, waitFor } from '../support/serverHarness';
import { runCli, spawnServer } from '../support/serverProcess';

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

/** A raw editor: types into root text "t" and waits for each ack. */
class Editor {
  readonly doc = new LoroDoc();
  private constructor(readonly raw: RawClient, readonly room: string, peer: bigint) {
    this.doc.setPeerId(peer);
  }
  static async join(url: string, room: string, peer: bigint, user = `u${peer}`): Promise<Editor> {
    const raw = await RawClient.connect(url);
    raw.join(room, new Uint8Array(), enc({ user }));
    await raw.next(MessageType.JoinResponseOk, (m) => m.roomId === room);
    return new Editor(raw, room, peer);
  }
  async type(s: string): Promise<void> {
    const before = this.doc.oplogVersion();
    const t = this.doc.getText('t');
    t.insert(t.length, s);
    this.doc.commit();
    const u = this.doc.export({ mode: 'update', from: before });
    before.free();
    const ack = await this.raw.ackFor(this.raw.update(this.room, [u]), 20_000);
    assert.equal(ack.status, UpdateStatusCode.Ok);
  }
  /** Import everything relayed to us so far. */
  sync(): void {
    for (const m of this.raw.messages) if (m.type === MessageType.DocUpdate && m.roomId === this.room) for (const u of m.updates) this.doc.import(u);
  }
  close(): void {
    this.raw.close();
  }
}

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Storage invariants of one doc+branch: op ids 1..N without gaps or repeats, no row stored twice. */
async function checkOpIds(lake: LakeReader, docId: string, branch = 'main'): Promise<number> {
  const ops = await lake.ops(docId, branch);
  ops.forEach((o, i) => assert.equal(o.opId, i + 1, `op ids of ${docId}@${branch} are 1..N in order (row ${i})`));
  assert.equal(new Set(ops.map((o) => o.spans)).size, ops.length, `no update of ${docId}@${branch} stored twice`);
  const heads = await lake.rows('SELECT head_op_id FROM lake.doc_branches WHERE doc_id = ? AND branch = ?', [docId, branch]);
  assert.equal(heads.length, 1, `one doc_branches row for ${docId}@${branch}`);
  assert.equal(Number(heads[0].head_op_id), ops.length, 'head_op_id is the last op id');
  return ops.length;
}

describe('scale-out: several server processes on DuckLake with a PostgreSQL catalog', function () {
  this.timeout(180_000);
  let cluster: ScaleoutCluster;
  let lake: LakeReader;

  before(async function () {
    requirePostgres(this, [lakeExtensionsMissing()]);
    cluster = await ScaleoutCluster.start(3, ['--flush-ms', '30', '--poll-ms', '40']);
    lake = await LakeReader.open(cluster);
  });

  after(async () => {
    lake?.close();
    await cluster?.stop();
  });

  it('relays edits between clients connected to different processes', async () => {
    const [a, b, c] = cluster.servers;
    const ea = await Editor.join(a.url, 'relay', 1n);
    const eb = await Editor.join(b.url, 'relay', 2n);
    const ec = await Editor.join(c.url, 'relay', 3n);
    try {
      await ea.type('from A;');
      await waitFor(() => (eb.sync(), textOf(eb.doc).includes('from A;')), 'B sees A');
      await eb.type('from B;');
      await waitFor(() => (ec.sync(), textOf(ec.doc).includes('from B;') && textOf(ec.doc).includes('from A;')), 'C sees A and B');
      await ec.type('from C;');
      await waitFor(() => (ea.sync(), textOf(ea.doc).includes('from C;') && textOf(ea.doc).includes('from B;')), 'A sees B and C');
      await cluster.settled();
      assert.equal(await checkOpIds(lake, 'relay'), 3);
    } finally {
      for (const e of [ea, eb, ec]) e.close();
    }
  });

  it('concurrent writers on three processes: op ids follow commit order, nothing stored twice, every process and a fresh load agree', async () => {
    const room = 'busy';
    const editors = await Promise.all(cluster.servers.map((s, i) => Editor.join(s.url, room, BigInt(10 + i))));
    const perEditor = 25;
    try {
      await Promise.all(
        editors.map(async (e, i) => {
          for (let k = 0; k < perEditor; k++) await e.type(`[${i}:${k}]`);
        }),
      );
      await cluster.settled();
      const n = await checkOpIds(lake, room);
      assert.equal(n, editors.length * perEditor, 'one row per acknowledged update');
      const recovered = await lake.recover(room);
      const want = versionJson(recovered);
      for (const e of editors) {
        await waitFor(() => (e.sync(), versionJson(e.doc) === want), 'editor converged with storage');
        assert.equal(textOf(e.doc), textOf(recovered));
      }
      for (let i = 0; i < editors.length; i++) for (let k = 0; k < perEditor; k++) assert.ok(textOf(recovered).includes(`[${i}:${k}]`));
      // Each process's room (joined fresh) and a brand-new process give the same document.
      const fresh = await spawnServer(cluster.args(tmpDir('sqlroom-wal-fresh-')), 60_000);
      try {
        for (const url of [...cluster.servers.map((s) => s.url), fresh.url]) {
          const r = await runCli(['client', '--url', url, '--room', room, '--once'], 60_000);
          assert.equal(r.code, 0, r.stderr);
          const got = JSON.parse(r.stdout.trim()) as { version: Record<string, number>; doc: { t: string } };
          assert.equal(got.doc.t, textOf(recovered), `document on ${url}`);
          assert.deepEqual(Object.entries(got.version).sort(), [...recovered.oplogVersion().toJSON().entries()].sort());
        }
      } finally {
        await fresh.kill('SIGTERM');
      }
    } finally {
      for (const e of editors) e.close();
    }
  });

  it('snapshots from several processes: the latest snapshot + later ops recover the same document', async () => {
    const room = 'snap';
    const [a, b, c] = cluster.servers;
    const ea = await Editor.join(a.url, room, 21n);
    const eb = await Editor.join(b.url, room, 22n);
    try {
      for (let k = 0; k < 6; k++) await Promise.all([ea.type(`a${k};`), eb.type(`b${k};`)]);
      // Checkpoints on two processes at once: the lease serialises them.
      const [r1, r2] = await Promise.all([post(`${a.httpUrl}/api/docs/${room}/checkpoint`, { message: 'one' }), post(`${b.httpUrl}/api/docs/${room}/checkpoint`, { message: 'two' })]);
      assert.equal(r1.status, 200, JSON.stringify(r1.json));
      assert.equal(r2.status, 200, JSON.stringify(r2.json));
      assert.notEqual(r1.json.snapshotId, r2.json.snapshotId, 'snapshot ids are allocated in the transaction');
      for (let k = 6; k < 10; k++) await Promise.all([ea.type(`a${k};`), eb.type(`b${k};`)]);
      const r3 = await post(`${c.httpUrl}/api/docs/${room}/checkpoint`, { message: 'three' });
      assert.equal(r3.status, 200, JSON.stringify(r3.json));
      await cluster.settled();
      await checkOpIds(lake, room);
      const snaps = await lake.rows('SELECT snapshot_id, last_op_id FROM lake.snapshots WHERE doc_id = ? ORDER BY snapshot_id', [room]);
      assert.deepEqual(snaps.map((s) => Number(s.snapshot_id)), [1, 2, 3]);
      const recovered = await lake.recover(room);
      for (let k = 0; k < 10; k++) assert.ok(textOf(recovered).includes(`a${k};`) && textOf(recovered).includes(`b${k};`), `a${k}/b${k} recovered`);
      await waitFor(() => (ea.sync(), versionJson(ea.doc) === versionJson(recovered)), 'A equals recovery');
    } finally {
      ea.close();
      eb.close();
    }
  });

  it('fork on one process, edit on another, merge on a third: branch rows and contents agree everywhere', async () => {
    const room = 'br';
    const [a, b, c] = cluster.servers;
    const ea = await Editor.join(a.url, room, 31n);
    try {
      await ea.type('base;');
      await cluster.settled();
      const fork = await post(`${a.httpUrl}/api/docs/${room}/branches`, { name: 'feature', from: 'main' });
      assert.equal(fork.status, 201, JSON.stringify(fork.json));
      const ef = await Editor.join(b.url, `${room}@feature`, 32n);
      try {
        await waitFor(() => (ef.sync(), textOf(ef.doc) === 'base;'), 'branch has the base on B');
        await ef.type('feature;');
        await cluster.settled();
        const merge = await post(`${c.httpUrl}/api/docs/${room}/merge`, { from: 'feature', into: 'main' });
        assert.equal(merge.status, 200, JSON.stringify(merge.json));
        assert.equal(merge.json.merged, true);
        await waitFor(() => (ea.sync(), textOf(ea.doc).includes('feature;')), 'A (main) sees the merge done on C');
      } finally {
        ef.close();
      }
      await cluster.settled();
      await checkOpIds(lake, room, 'main');
      await checkOpIds(lake, room, 'feature');
      const rows = await lake.rows('SELECT branch, parent_branch FROM lake.doc_branches WHERE doc_id = ? ORDER BY branch', [room]);
      assert.deepEqual(rows.map((r) => [r.branch, r.parent_branch]), [['feature', 'main'], ['main', null]]);
      for (const s of cluster.servers) {
        const res = (await (await fetch(`${s.httpUrl}/api/docs/${room}/branches`)).json()) as unknown[];
        assert.equal(JSON.stringify(res).includes('feature'), true, `${s.url} lists the branch`);
      }
    } finally {
      ea.close();
    }
  });

  it('failover: SIGKILL one process under load; clients move to the others and nothing acknowledged is lost', async () => {
    const room = 'failover';
    const urls = cluster.servers.map((s) => s.url);
    const victim = cluster.slots[1];
    const clients = urls.map((_, i) => {
      const doc = new LoroDoc();
      doc.setPeerId(BigInt(100 + i));
      // Each client starts on "its" process and falls back to the next ones.
      const order = [...urls.slice(i), ...urls.slice(0, i)];
      const client = new RoomClient({ url: order[0], urls: order, roomId: room, doc, auth: { user: `c${i}` }, initialBackoffMs: 50, maxBackoffMs: 500, pingMs: 1000 });
      return { doc, client };
    });
    const perClient = 40;
    try {
      await Promise.all(clients.map((c) => c.client.whenSynced(30_000)));
      let killed = false;
      await Promise.all(
        clients.map(async ({ doc }, i) => {
          for (let k = 0; k < perClient; k++) {
            const t = doc.getText('t');
            t.insert(t.length, `<${i}:${k}>`);
            doc.commit();
            if (i === 1 && k === perClient / 2 && !killed) {
              killed = true;
              await victim.server!.kill('SIGKILL');
              victim.server = null;
            }
            await new Promise((r) => setTimeout(r, 5));
          }
        }),
      );
      assert.ok(killed);
      await Promise.all(clients.map((c) => c.client.whenSynced(60_000)));
      assert.notEqual(clients[1].client.url, urls[1], 'the client of the killed process moved on');
      await cluster.settled();
      const recovered = await lake.recover(room);
      for (let i = 0; i < clients.length; i++) for (let k = 0; k < perClient; k++) assert.ok(textOf(recovered).includes(`<${i}:${k}>`), `<${i}:${k}> stored`);
      for (const { doc } of clients) await waitFor(() => versionJson(doc) === versionJson(recovered), 'client converged with storage', 30_000);
      await checkOpIds(lake, room);
      // The killed process comes back with its WAL: replayed entries are already stored.
      await cluster.restart(victim);
      await cluster.settled();
      await checkOpIds(lake, room);
      assert.equal(versionJson(await lake.recover(room)), versionJson(recovered));
    } finally {
      for (const c of clients) c.client.close();
    }
  });

  it('the CLI client tries the next URL when the first is down', async () => {
    const r = await runCli(['client', '--url', `ws://127.0.0.1:1,${cluster.servers[0].url}`, '--room', 'relay', '--once'], 60_000);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout.trim()) as { server: string; doc: { t: string } };
    assert.equal(got.server, cluster.servers[0].url);
    assert.ok(got.doc.t.includes('from A;'));
  });
});

describe('scale-out: leases and start-up errors', function () {
  this.timeout(120_000);

  before(function () {
    requirePostgres(this, [lakeExtensionsMissing()]);
  });

  it('a snapshot lease is held by one process at a time and can be taken over once expired', async () => {
    const pg = await startPostgres();
    const dir = tmpDir('sqlroom-lease-');
    const open = async () => {
      const s = new SharedLakeStorage({ catalog: pg.lakeUri, dataPath: `${dir}/data`, extensionDir: EXT_DIR });
      await s.init();
      return s;
    };
    const [s1, s2] = [await open(), await open()];
    try {
      assert.equal(await s1.acquireLease('d', 'main', 'p1', 60_000), true);
      assert.equal(await s2.acquireLease('d', 'main', 'p2', 60_000), false, 'held by p1');
      assert.equal(await s1.acquireLease('d', 'main', 'p1', 60_000), true, 'the holder renews');
      assert.equal(await s2.acquireLease('d', 'other', 'p2', 60_000), true, 'another branch is independent');
      await s1.releaseLease('d', 'main', 'p1');
      assert.equal(await s2.acquireLease('d', 'main', 'p2', 1000), true, 'free after release');
      assert.equal(await s1.acquireLease('d', 'main', 'p1', 60_000), false);
      // p2 "dies" holding it: p1 gets it once it expires (PostgreSQL's clock).
      await waitFor(() => s1.acquireLease('d', 'main', 'p1', 60_000), 'lease expiry', 30_000);
      assert.equal(await s2.acquireLease('d', 'main', 'p2', 60_000), false);
    } finally {
      await s1.close();
      await s2.close();
      pg.stop();
      rmDir(dir);
    }
  });

  it('storage: ids allocated in the transaction, a lost commit retried is not stored twice, a reader behind a compaction gets the snapshot', async () => {
    const pg = await startPostgres();
    const dir = tmpDir('sqlroom-gap-');
    const open = async () => {
      const s = new SharedLakeStorage({ catalog: pg.lakeUri, dataPath: `${dir}/data`, extensionDir: EXT_DIR });
      await s.init();
      return s;
    };
    const [s1, s2] = [await open(), await open()];
    const author = new LoroDoc();
    author.setPeerId(7n);
    const rows: { bytes: Uint8Array; spans: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const before = author.oplogVersion();
      author.getText('t').insert(i, String(i));
      author.commit();
      rows.push({ bytes: author.export({ mode: 'update', from: before }), spans: JSON.stringify({ '7': [i, i + 1] }) });
      before.free();
    }
    const op = (i: number, dedupAfter = 0) => ({ opId: 0, docId: 'g', branch: 'main', createdAt: Date.now(), author: 'a', bytes: rows[i].bytes, peer: '7', seqStart: i, seqEnd: i + 1, opCount: 1, spans: rows[i].spans, dedupAfter });
    const batch = (from: number, to: number, seen: number, isNew = false) => ({
      ops: Array.from({ length: to - from }, (_, k) => op(from + k, seen)),
      newBranches: isNew ? [{ docId: 'g', branch: 'main', createdAt: Date.now(), parentBranch: null, forkFrontiers: null }] : [],
      heads: [{ docId: 'g', branch: 'main', headOpId: 0, seenOpId: seen }],
    });
    try {
      const r1 = await s1.writeBatch(batch(0, 3, 0, true));
      assert.equal(r1.rooms[0].head, 3);
      // Another process writes 3..5 without having seen 1..3: it gets them back as `before`.
      const r2 = await s2.writeBatch(batch(3, 5, 0, true));
      assert.deepEqual(r2.rooms[0].before.rows.map((r) => r.opId), [1, 2, 3]);
      assert.equal(r2.rooms[0].head, 5);
      // The same batch again (a commit whose success was lost): nothing new.
      const again = await s2.writeBatch(batch(3, 5, 0));
      assert.equal(again.rooms[0].duplicates, 2);
      assert.equal(again.rooms[0].head, 5);
      // Snapshot covering 1..5 and compaction of 1..5; then 6..8 appended.
      const snapDoc = new LoroDoc();
      for (const r of rows.slice(0, 5)) snapDoc.import(r.bytes);
      const id = await s1.writeSnapshot({ snapshotId: 0, docId: 'g', branch: 'main', createdAt: Date.now(), createdBy: 't', lastOpId: 5, bytes: snapDoc.export({ mode: 'snapshot' }), message: null });
      assert.equal(id, 1);
      assert.equal(await s1.deleteOpsUpTo('g', 'main', 5), 5);
      assert.equal(await s1.deleteOpsUpTo('g', 'main', 100), 0, 'never past what a snapshot covers');
      await s1.writeBatch(batch(5, 8, 5));
      // A reader that saw only op 2: the rows after it are gone, the snapshot fills the gap.
      const found = await s2.tail([{ docId: 'g', branch: 'main', after: 2 }], true);
      assert.ok(found && found.length === 1);
      assert.deepEqual(found[0].rows.map((r) => r.opId), [6, 7, 8]);
      assert.equal(found[0].snapshot?.lastOpId, 5);
      const doc = new LoroDoc();
      if (found[0].snapshot) doc.import(found[0].snapshot.bytes);
      for (const r of found[0].rows) doc.import(r.bytes);
      assert.equal(doc.getText('t').toString(), author.getText('t').toString());
    } finally {
      await s1.close();
      await s2.close();
      pg.stop();
      rmDir(dir);
    }
  });

  it('PostgreSQL unreachable at start: a precise error that says what to check', async () => {
    const dir = tmpDir('sqlroom-nopg-');
    try {
      const r = await runCli(['serve', '--port', '0', '--lake', 'ducklake:postgres:dbname=x host=127.0.0.1 port=1 user=postgres connect_timeout=5', '--data-path', `${dir}/d`, '--extension-dir', EXT_DIR, '--wal-dir', `${dir}/w`], 60_000);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /PostgreSQL/);
      assert.match(r.stderr, /Check that PostgreSQL is running/);
      assert.match(r.stderr, /port=1/);
    } finally {
      rmDir(dir);
    }
  });
});
