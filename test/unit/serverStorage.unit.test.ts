// Storage on DuckDB and DuckLake (DuckDB catalog): recovery = snapshot + ops,
// compaction keeps the state, analytics equal what was sent, state at time T,
// checkpoints with message and author.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { LoroDoc } from 'loro-crdt';
import { MessageType, UpdateStatusCode } from 'loro-protocol';
import type { ServerOptions } from '../../server';
import { buildDoc } from '../../server/rooms/syncCore';
import { RawClient, serverPerTest, textOf } from '../support/serverHarness';
import { runCli } from '../support/serverProcess';

const EXT_DIR = path.resolve(__dirname, '../../../.sqlroom-tools/duckdb-extensions');
const DUCKLAKE_BIN = path.join(EXT_DIR, 'v1.5.5/linux_amd64/ducklake.duckdb_extension');

interface Backend {
  name: string;
  available: () => string | null; // null = ok, else skip reason
  options: (dir: string) => ServerOptions;
  cliArgs: (dir: string) => string[];
}

const backends: Backend[] = [
  {
    name: 'DuckDB file',
    available: () => null,
    options: (dir) => ({ db: path.join(dir, 'db.duckdb') }),
    cliArgs: (dir) => ['--db', path.join(dir, 'db.duckdb')],
  },
  {
    name: 'DuckLake (DuckDB catalog)',
    available: () => (existsSync(DUCKLAKE_BIN) ? null : `DuckLake extension binary not found at ${DUCKLAKE_BIN}; run scripts/install-duckdb-extensions.sh`),
    options: (dir) => ({ lake: `ducklake:${path.join(dir, 'catalog.ducklake')}`, dataPath: path.join(dir, 'lake-data'), extensionDir: EXT_DIR }),
    cliArgs: (dir) => ['--lake', `ducklake:${path.join(dir, 'catalog.ducklake')}`, '--data-path', path.join(dir, 'lake-data'), '--extension-dir', EXT_DIR],
  },
];

/** A raw client that edits as `user` and records exactly what it sent. */
class Editor {
  readonly doc = new LoroDoc();
  updates = 0;
  ops = 0;
  bytes = 0;
  constructor(readonly raw: RawClient, peer: bigint) {
    this.doc.setPeerId(peer);
  }
  static async join(url: string, roomId: string, user: string, peer: bigint): Promise<Editor> {
    const raw = await RawClient.connect(url);
    raw.join(roomId, new Uint8Array(), new TextEncoder().encode(JSON.stringify({ user })));
    await raw.next(MessageType.JoinResponseOk);
    return new Editor(raw, peer);
  }
  async type(roomId: string, text: string): Promise<Uint8Array> {
    const before = this.doc.oplogVersion();
    const t = this.doc.getText('t');
    t.insert(t.length, text);
    this.doc.commit();
    const u = this.doc.export({ mode: 'update', from: before });
    const ack = await this.raw.ackFor(this.raw.update(roomId, [u]));
    assert.equal(ack.status, UpdateStatusCode.Ok);
    this.updates++;
    this.ops += text.length; // one op (counter) per character
    this.bytes += u.length;
    return u;
  }
}

for (const backend of backends) {
  describe(`server storage: ${backend.name}`, function () {
    this.timeout(60_000);
    const each = serverPerTest();

    before(function () {
      const reason = backend.available();
      if (reason) {
        // eslint-disable-next-line no-console
        console.log(`      skipped: ${reason}`);
        this.skip();
      }
    });

    const start = (extra: Partial<ServerOptions> = {}) => each.start({ ...backend.options(each.dir), ...extra, flush: { maxDelayMs: 20, ...extra.flush } });

    it('analytics equal what was sent; snapshots + ops recover the state; state at time T; checkpoint', async () => {
      let s = await start({ snapshot: { everyOps: 10, everyMs: 0, retainOps: null, thin: false } });
      const reference = new LoroDoc();
      const alice = await Editor.join(s.url, 'nb', 'alice', 1n);
      const bob = await Editor.join(s.url, 'nb', 'bob', 2n);
      for (let i = 0; i < 12; i++) reference.import(await alice.type('nb', `a${i} `));
      for (let i = 0; i < 7; i++) reference.import(await bob.type('nb', `bob${i} `));
      await s.flush();
      await new Promise((r) => setTimeout(r, 30));
      const tMid = new Date().toISOString();
      const midText = textOf(reference);
      await new Promise((r) => setTimeout(r, 30));
      for (let i = 0; i < 9; i++) reference.import(await alice.type('nb', `x${i} `));
      const branchEd = await Editor.join(s.url, 'nb@feature', 'carol', 3n);
      await branchEd.type('nb@feature', 'on a branch');
      await s.flush();

      const a = await s.storage.analytics({ docId: 'nb' });
      // Bytes are what the rows hold: each author's updates of a flush packed into one row (fewer bytes than sent).
      const by = Object.fromEntries(a.perAuthor.map((r) => [r.author, r]));
      const noBytes = ({ bytes, ...rest }: { author: string; updates: number; ops: number; bytes: number }) => (assert.ok(bytes > 0), rest);
      assert.deepEqual(noBytes(by.alice), { author: 'alice', updates: alice.updates, ops: alice.ops });
      assert.deepEqual(noBytes(by.bob), { author: 'bob', updates: bob.updates, ops: bob.ops });
      assert.deepEqual(noBytes(by.carol), { author: 'carol', updates: 1, ops: 11 });
      assert.ok(by.alice.bytes <= alice.bytes && by.bob.bytes <= bob.bytes, 'packed rows hold no more than the updates sent');
      const main = a.perBranch.find((b) => b.branch === 'main')!;
      assert.equal(main.updates, alice.updates + bob.updates);
      assert.equal(main.ops, alice.ops + bob.ops);
      assert.equal(main.bytes, by.alice.bytes + by.bob.bytes);
      assert.ok(main.rows >= 2 && main.rows < main.updates, `${main.rows} rows for ${main.updates} updates`);
      assert.equal(a.perMinute.reduce((n, m) => n + m.updates, 0), alice.updates + bob.updates + 1);
      // Same numbers over HTTP.
      const http = (await (await fetch(`${s.httpUrl}/api/docs/nb/analytics?branch=main`)).json()) as typeof a;
      assert.equal(http.perBranch[0].updates, 28);

      // Automatic snapshots every 10 stored ops; an explicit checkpoint with message and author.
      const cp = await fetch(`${s.httpUrl}/api/docs/nb/checkpoint`, { method: 'POST', body: JSON.stringify({ message: 'before review', author: 'alice' }) });
      assert.equal(cp.status, 200);
      const snaps = (await (await fetch(`${s.httpUrl}/api/docs/nb/snapshots`)).json()) as { snapshots: { createdBy: string; message: string | null; lastOpId: number }[] };
      assert.ok(snaps.snapshots.length >= 3, `${snaps.snapshots.length} snapshots`);
      const last = snaps.snapshots[snaps.snapshots.length - 1];
      const head = (await s.storage.loadRoom('nb', 'main')).maxOpId;
      assert.deepEqual([last.createdBy, last.message, last.lastOpId], ['alice', 'before review', head]);

      // State at time T = snapshot at or before T + ops up to T.
      const at = (await (await fetch(`${s.httpUrl}/api/docs/nb/at?t=${encodeURIComponent(tMid)}`)).json()) as { json: { t: string }; opsApplied: number };
      assert.equal(at.json.t, midText);

      const branches = (await (await fetch(`${s.httpUrl}/api/docs/nb/branches`)).json()) as { branches: { branch: string; headOpId: number }[] };
      assert.deepEqual(branches.branches.map((b) => [b.branch, b.headOpId]).sort(), [['feature', 1], ['main', head]]);

      // Recovery: latest snapshot + ops after it == the doc that saw every update.
      alice.raw.close();
      bob.raw.close();
      branchEd.raw.close();
      const state = await s.storage.loadRoom('nb', 'main');
      assert.ok(state.snapshot, 'has a snapshot');
      const recovered = buildDoc(state.snapshot!.bytes, state.ops.map((o) => o.bytes));
      assert.deepEqual(recovered.toJSON(), reference.toJSON());
      await s.close();

      // The CLI reads the same numbers from the database.
      const cli = await runCli(['analytics', '--doc', 'nb', '--branch', 'main', ...backend.cliArgs(each.dir)]);
      assert.equal(cli.code, 0, cli.stderr);
      const out = JSON.parse(cli.stdout) as typeof a;
      assert.equal(out.perBranch[0].ops, alice.ops + bob.ops);

      // A restarted server serves the same state.
      s = await start();
      const late = await RawClient.connect(s.url);
      late.join('nb');
      const upd = await late.next(MessageType.DocUpdate);
      const doc = new LoroDoc();
      doc.importBatch(upd.updates);
      assert.equal(textOf(doc), textOf(reference));
      late.close();
    });

    it('compaction deletes old ops after a snapshot and keeps the state', async () => {
      const s = await start({ snapshot: { everyOps: 10, everyMs: 0, retainOps: 3 } });
      const reference = new LoroDoc();
      const ed = await Editor.join(s.url, 'compact', 'dora', 9n);
      for (let i = 0; i < 35; i++) {
        reference.import(await ed.type('compact', `c${i};`));
        if (i % 7 === 0) await s.flush();
      }
      await s.flush();
      const cp = (await (await fetch(`${s.httpUrl}/api/docs/compact/checkpoint`, { method: 'POST', body: '{}' })).json()) as { lastOpId: number; deletedOps: number };
      // Six flushes: at least six rows (each packs dora's updates of one flush).
      assert.ok(cp.lastOpId >= 6, `head row ${cp.lastOpId}`);
      const a = await s.storage.analytics({ docId: 'compact' });
      assert.equal(a.perBranch[0].rows, 3, 'rows kept = retain margin');
      const state = await s.storage.loadRoom('compact', 'main');
      assert.equal(state.maxOpId, cp.lastOpId);
      assert.deepEqual(buildDoc(state.snapshot!.bytes, state.ops.map((o) => o.bytes)).toJSON(), reference.toJSON());
      // Background maintenance (DuckLake: merge / expire / cleanup) leaves the data intact.
      await s.storage.maintenance();
      assert.equal((await s.storage.analytics({ docId: 'compact' })).perBranch[0].rows, 3);
      ed.raw.close();
      await s.close();
      const again = await start();
      const late = await RawClient.connect(again.url);
      late.join('compact');
      const upd = await late.next(MessageType.DocUpdate);
      const doc = new LoroDoc();
      doc.importBatch(upd.updates);
      assert.equal(textOf(doc), textOf(reference));
      // New ops continue after the recovered op id.
      const ed2 = await Editor.join(again.url, 'compact', 'dora', 10n);
      await ed2.type('compact', 'more');
      await again.flush();
      assert.equal((await again.storage.loadRoom('compact', 'main')).maxOpId, cp.lastOpId + 1);
      late.close();
      ed2.raw.close();
    });
  });
}
