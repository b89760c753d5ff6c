// Rows that pack operations: what a flush writes per room and author, and the
// ImportStatus-based spans that make the hot path skip version vectors.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { DuckDBInstance, blobValue } from '@duckdb/node-api';
import { LoroDoc, type VersionVector } from 'loro-crdt';
import { startServer } from '../../server';
import { rmDir, tmpDir } from '../support/serverHarness';
import { packUpdates } from '../../server/rooms/packRows';
import { ladderDrops } from '../../server/rooms/syncCore';
import type { BufferedOp } from '../../server/rooms/room';
import { addedSpans, spanSummary } from '../../server/rooms/updateInfo';
import { Rng } from '../soak/rng';

/** The oracle for addedSpans: what an import added, from the oplog versions before and after it. */
function gainedSpans(before: VersionVector, after: VersionVector) {
  const b = before.toJSON();
  const ranges = new Map<string, [number, number]>();
  for (const [peer, end] of after.toJSON()) {
    const start = b.get(peer) ?? 0;
    if (end > start) ranges.set(peer, [start, end]);
  }
  return spanSummary(ranges);
}

/** Updates of `peers` typing into one text, each update one commit, as the room imports them. */
function session(seed: number, steps: number, peers = 3) {
  const g = new Rng(seed);
  const rnd = () => g.next();
  const docs = Array.from({ length: peers }, (_, i) => {
    const d = new LoroDoc();
    d.setPeerId(BigInt(i + 1));
    return d;
  });
  const room = new LoroDoc();
  const accepted: BufferedOp[] = [];
  let t = 1_000_000;
  for (let k = 0; k < steps; k++) {
    const i = Math.floor(rnd() * peers);
    const d = docs[i];
    d.import(room.export({ mode: 'update', from: d.oplogVersion() }));
    const text = d.getText('t');
    text.insert(Math.floor(rnd() * (text.length + 1)), 'ab'.slice(0, 1 + Math.floor(rnd() * 2)));
    if (text.length > 3 && rnd() < 0.3) text.delete(0, 1);
    const from = room.oplogVersion();
    d.commit();
    const bytes = d.export({ mode: 'update', from });
    const status = room.import(bytes);
    t += Math.floor(rnd() * 400);
    accepted.push({ createdAt: t, author: `user${i}`, bytes, exact: false, spans: addedSpans(status), walSegment: 1 + Math.floor(k / 50) });
  }
  return { room, accepted };
}

describe('packed ops_log rows', () => {
  it('ImportStatus.success is exactly what an import added (checked against version diffs, out-of-order and repeated blobs)', () => {
    const g = new Rng(7);
    const rnd = () => g.next();
    let checked = 0;
    for (let trial = 0; trial < 40; trial++) {
      const peers = [1, 2, 3].map((p) => {
        const d = new LoroDoc();
        d.setPeerId(BigInt(p));
        return d;
      });
      const blobs: Uint8Array[] = [];
      for (const d of peers) d.subscribeLocalUpdates((u) => blobs.push(u));
      for (let i = 0; i < 25; i++) {
        const d = peers[Math.floor(rnd() * 3)];
        d.getText('t').insert(0, 'x');
        d.commit();
        if (rnd() < 0.4) {
          const o = peers[Math.floor(rnd() * 3)];
          if (o !== d) o.import(d.export({ mode: 'update', from: o.oplogVersion() }));
        }
      }
      for (let i = 0; i < 4; i++) blobs.push(peers[Math.floor(rnd() * 3)].export({ mode: 'update' }));
      for (let i = blobs.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [blobs[i], blobs[j]] = [blobs[j], blobs[i]];
      }
      const r = new LoroDoc();
      for (const b of blobs) {
        const before = r.oplogVersion();
        const status = r.import(b);
        const after = r.oplogVersion();
        assert.equal(addedSpans(status).json, gainedSpans(before, after).json);
        checked++;
      }
    }
    assert.ok(checked > 1000);
  });

  it('one row per author and flush, id spans contiguous per peer, bytes that rebuild the document', () => {
    const { room, accepted } = session(11, 400);
    let next = 1;
    const rows = packUpdates(room, { docId: 'd', branch: 'main' }, accepted, { maxSpanMs: 60_000, single: false }, () => next++);
    assert.ok(rows.length < accepted.length / 3, `${rows.length} rows for ${accepted.length} updates`);
    assert.deepEqual(rows.map((r) => r.opId), rows.map((_, i) => i + 1));
    assert.equal(rows.reduce((n, r) => n + r.updates, 0), accepted.length);
    assert.equal(rows.reduce((n, r) => n + r.opCount, 0), accepted.reduce((n, u) => n + u.spans.opCount, 0));
    // Every Loro op in exactly one row.
    const seen = new Map<string, [number, number][]>();
    for (const r of rows) {
      for (const [peer, [s, e]] of Object.entries(JSON.parse(r.spans) as Record<string, [number, number]>)) {
        for (const [a, b] of seen.get(peer) ?? []) assert.ok(e <= a || s >= b, `peer ${peer} [${s},${e}) overlaps [${a},${b})`);
        seen.set(peer, [...(seen.get(peer) ?? []), [s, e]]);
      }
      assert.ok(r.firstAt <= r.createdAt);
      assert.ok(r.author.startsWith('user'));
    }
    const rebuilt = new LoroDoc();
    const status = rebuilt.importBatch(rows.map((r) => r.bytes));
    assert.ok(!status.pending, 'nothing pending after importing every row');
    assert.deepEqual(rebuilt.oplogVersion().toJSON(), room.oplogVersion().toJSON());
    assert.equal(rebuilt.getText('t').toString(), room.getText('t').toString());
    // WAL entries released by the rows: each update once.
    assert.equal(rows.reduce((n, r) => n + [...r.wal.values()].reduce((m, p) => m + p.n, 0), 0), accepted.length);
  });

  it('a row spans at most maxSpanMs of its author\'s updates; single mode keeps one row per update', () => {
    const { room, accepted } = session(5, 200, 2);
    let next = 1;
    const rows = packUpdates(room, { docId: 'd', branch: 'main' }, accepted, { maxSpanMs: 1000, single: false }, () => next++);
    for (const r of rows) assert.ok(r.createdAt - r.firstAt <= 1000, `${r.createdAt - r.firstAt} ms in one row`);
    next = 1;
    const single = packUpdates(room, { docId: 'd', branch: 'main' }, accepted, { maxSpanMs: 1000, single: true }, () => next++);
    assert.equal(single.length, accepted.length);
    assert.ok(single.every((r) => r.updates === 1 && r.spans === accepted[r.opId - 1].spans.json));
  });

  it('snapshot ladder: the latest automatic snapshot, then each older one at most half the rows of the next kept one', () => {
    const snaps = [100, 90, 70, 50, 49, 30, 25, 20, 12, 5, 1].map((lastOpId, i) => ({ snapshotId: 100 - i, lastOpId }));
    const drop = new Set(ladderDrops(snaps));
    assert.deepEqual(snaps.filter((x) => !drop.has(x.snapshotId)).map((x) => x.lastOpId), [100, 50, 25, 12, 5, 1]);
    assert.deepEqual(ladderDrops([]), []);
  });

  it('a database written before packing migrates on start: old rows count as one update each', async () => {
    const dir = tmpDir('sqlroom-migrate-');
    const db = path.join(dir, 'old.duckdb');
    try {
      // The ops_log of the first release (no updates / first_at columns), with one row.
      const inst = await DuckDBInstance.create(db);
      const c = await inst.connect();
      await c.run(`CREATE TABLE ops_log (op_id BIGINT NOT NULL, doc_id VARCHAR NOT NULL, branch VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, author VARCHAR NOT NULL,
        op_bytes BLOB NOT NULL, seq_start BIGINT NOT NULL, seq_end BIGINT NOT NULL, peer VARCHAR NOT NULL, op_count BIGINT NOT NULL, bytes BIGINT NOT NULL, spans VARCHAR NOT NULL)`);
      const old = new LoroDoc();
      old.setPeerId(5n);
      old.getText('t').insert(0, 'old');
      old.commit();
      const bytes = old.export({ mode: 'update' });
      await c.run(`INSERT INTO ops_log VALUES (1, 'm', 'main', TIMESTAMP '2026-01-01 10:00:00', 'olga', ?, 0, 3, '5', 3, ?, '{"5":[0,3]}')`, [blobValue(bytes), bytes.length]);
      c.closeSync();
      inst.closeSync();

      const server = await startServer({ port: 0, db, logLevel: 'silent' });
      try {
        const a = await server.storage.analytics({ docId: 'm' });
        assert.deepEqual(a.perAuthor.map((r) => [r.author, r.updates, r.ops]), [['olga', 1, 3]]);
        assert.equal(a.perBranch[0].firstAt, '2026-01-01T10:00:00.000Z');
        const state = await server.storage.loadRoom('m', 'main');
        assert.equal(state.maxOpId, 1);
        const doc = new LoroDoc();
        doc.importBatch(state.ops.map((o) => o.bytes));
        assert.equal(doc.getText('t').toString(), 'old');
      } finally {
        await server.close();
      }
    } finally {
      rmDir(dir);
    }
  });
});
