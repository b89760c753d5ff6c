import * as assert from 'assert';
import fc from 'fast-check';
import { checkNotebookShape, NotebookDoc } from '../../server/shared/notebookDoc';

/** Brings two replicas to the same state by exchanging what each lacks. */
function sync(a: NotebookDoc, b: NotebookDoc): void {
  const toB = a.doc.export({ mode: 'update', from: b.doc.oplogVersion() });
  const toA = b.doc.export({ mode: 'update', from: a.doc.oplogVersion() });
  b.doc.import(toB);
  a.doc.import(toA);
}

/** Two replicas of one notebook with the given cell sources. */
function pair(sources: string[]): [NotebookDoc, NotebookDoc] {
  const a = new NotebookDoc();
  sources.forEach((source, i) => a.insertCell(i, { source }));
  a.commit();
  const b = NotebookDoc.fromSnapshot(a.exportSnapshot());
  return [a, b];
}

function assertConverged(...replicas: NotebookDoc[]): void {
  const first = replicas[0].toData();
  for (const r of replicas.slice(1)) assert.deepStrictEqual(r.toData(), first);
  const ids = replicas[0].cellIds();
  assert.strictEqual(new Set(ids).size, ids.length, 'cell ids are unique');
  for (const r of replicas) checkNotebookShape(r.doc);
}

describe('Convergence of concurrent edits (two peers)', () => {
  it('text edits in the same cell from both peers are both kept', () => {
    const [a, b] = pair(['select x from t']);
    const [id] = a.cellIds();
    a.spliceCellSource(id, 0, 0, '-- A\n');
    a.commit();
    b.spliceCellSource(id, 15, 0, ' where x > 0');
    b.commit();
    sync(a, b);
    assertConverged(a, b);
    assert.strictEqual(a.toData().cells[0].source, '-- A\nselect x from t where x > 0');
  });

  it('both peers typing at the same offset keep both insertions', () => {
    const [a, b] = pair(['select ']);
    const [id] = a.cellIds();
    a.spliceCellSource(id, 7, 0, '1');
    a.commit();
    b.spliceCellSource(id, 7, 0, '2');
    b.commit();
    sync(a, b);
    assertConverged(a, b);
    assert.ok(['select 12', 'select 21'].includes(a.toData().cells[0].source));
  });

  it('concurrent moves of the same cell leave it in one place', () => {
    const [a, b] = pair(['0', '1', '2', '3', '4']);
    const ids = a.cellIds();
    a.moveCell(ids[0], 4);
    a.commit();
    b.moveCell(ids[0], 2);
    b.moveCell(ids[4], 0);
    b.commit();
    sync(a, b);
    assertConverged(a, b);
    assert.deepStrictEqual([...a.cellIds()].sort(), [...ids].sort());
  });

  it('a delete wins over a concurrent edit of the deleted cell', () => {
    const [a, b] = pair(['keep', 'doomed']);
    const [keep, doomed] = a.cellIds();
    a.deleteCell(doomed);
    a.commit();
    b.setCellSource(doomed, 'edited while being deleted');
    b.setCellProps(doomed, { name: 'late' });
    b.commit();
    sync(a, b);
    assertConverged(a, b);
    assert.deepStrictEqual(a.cellIds(), [keep]);
    assert.throws(() => b.setCellSource(doomed, 'x'), /no cell with id/);
  });

  it('a move concurrent with a delete of the same cell keeps the moved cell (Loro MovableList semantics)', () => {
    const [a, b] = pair(['keep', 'moved']);
    const [keep, moved] = a.cellIds();
    a.deleteCell(moved);
    a.commit();
    b.moveCell(moved, 0);
    b.setCellSource(moved, 'moved and edited');
    b.commit();
    sync(a, b);
    assertConverged(a, b);
    assert.deepStrictEqual(a.cellIds(), [moved, keep]);
    assert.strictEqual(a.toData().cells[0].source, 'moved and edited');
  });

  it('inserts at the same spot keep both cells in the same order everywhere', () => {
    const [a, b] = pair(['first', 'last']);
    const fromA = a.insertCell(1, { source: 'from A' });
    a.commit();
    const fromB = b.insertCell(1, { source: 'from B' });
    b.commit();
    sync(a, b);
    assertConverged(a, b);
    const ids = a.cellIds();
    assert.strictEqual(ids.length, 4);
    assert.ok(ids.includes(fromA) && ids.includes(fromB));
    assert.strictEqual(a.toData().cells[0].source, 'first');
    assert.strictEqual(a.toData().cells[3].source, 'last');
  });

  it('whole-notebook applyData from both sides merges (reorder on one, edit on the other)', () => {
    const [a, b] = pair(['a', 'b', 'c']);
    const dataA = a.toData();
    dataA.cells.reverse();
    a.applyData(dataA, { origin: 'vscode' });
    const dataB = b.toData();
    dataB.cells[1].source = 'b edited';
    dataB.meta = { title: 'from B' };
    b.applyData(dataB, { origin: 'vscode' });
    sync(a, b);
    assertConverged(a, b);
    assert.deepStrictEqual(a.toData().cells.map((c) => c.source), ['c', 'b edited', 'a']);
    assert.strictEqual(a.toData().meta.title, 'from B');
  });

  it('concurrent property changes settle on one value', () => {
    const [a, b] = pair(['select 1']);
    const [id] = a.cellIds();
    a.setCellProps(id, { name: 'from_a', metadata: { a: 1 } });
    a.commit();
    b.setCellProps(id, { name: 'from_b', kind: 'markup' });
    b.commit();
    sync(a, b);
    assertConverged(a, b);
    assert.ok(['from_a', 'from_b'].includes(a.toData().cells[0].name!));
  });
});

// ---- random concurrent histories ----

type Op =
  | { t: 'insert'; at: number; source: string }
  | { t: 'delete'; pick: number }
  | { t: 'move'; pick: number; to: number }
  | { t: 'splice'; pick: number; at: number; del: number; text: string }
  | { t: 'props'; pick: number; name: string | null; markup: boolean }
  | { t: 'meta'; value: string }
  | { t: 'sync'; other: number };

const textArb = fc
  .array(fc.constantFrom('a', 'b', ' ', '\n', '漢', '😀', 'e\u0301', 'ש'), { maxLength: 6 })
  .map((parts) => parts.join(''));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('insert' as const), at: fc.nat(), source: textArb }),
  fc.record({ t: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ t: fc.constant('move' as const), pick: fc.nat(), to: fc.nat() }),
  fc.record({ t: fc.constant('splice' as const), pick: fc.nat(), at: fc.nat(), del: fc.nat({ max: 4 }), text: textArb }),
  fc.record({ t: fc.constant('props' as const), pick: fc.nat(), name: fc.option(fc.constantFrom('v1', 'v2'), { nil: null }), markup: fc.boolean() }),
  fc.record({ t: fc.constant('meta' as const), value: fc.constantFrom('x', 'y', 'z') }),
  fc.record({ t: fc.constant('sync' as const), other: fc.nat({ max: 2 }) }),
);

function boundaries(s: string): number[] {
  const out = [0];
  let i = 0;
  for (const ch of s) out.push((i += ch.length));
  return out;
}

/** Applies one random op to a replica; ops that do not fit the current state fall back to an insert. */
function applyOp(nb: NotebookDoc, op: Op, peers: NotebookDoc[]): void {
  const ids = nb.cellIds();
  if (op.t === 'sync') {
    const other = peers[op.other];
    if (other !== nb) sync(nb, other);
    return;
  }
  if (op.t === 'meta') {
    nb.setMeta('title', op.value);
    return;
  }
  if (op.t === 'insert' || ids.length === 0) {
    nb.insertCell(op.t === 'insert' ? op.at % (ids.length + 1) : 0, { source: op.t === 'insert' ? op.source : 'seed' });
    return;
  }
  const id = ids[op.pick % ids.length];
  switch (op.t) {
    case 'delete':
      nb.deleteCell(id);
      break;
    case 'move':
      nb.moveCell(id, op.to % ids.length);
      break;
    case 'splice': {
      const source = nb.toData().cells[ids.indexOf(id)].source;
      const points = boundaries(source);
      const at = points[op.at % points.length];
      const after = points.filter((p) => p >= at);
      const end = after[Math.min(op.del, after.length - 1)];
      nb.spliceCellSource(id, at, end - at, op.text);
      break;
    }
    case 'props':
      nb.setCellProps(id, { name: op.name, kind: op.markup ? 'markup' : 'code', language: op.markup ? 'markdown' : 'sql' });
      break;
  }
}

describe('Convergence of concurrent edits (three peers, random)', () => {
  it('all replicas agree after exchanging updates in any order, with unique ids', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 2 }), opArb), { maxLength: 40 }),
        fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
        (steps, orderSeeds) => {
          const origin = new NotebookDoc();
          origin.insertCell(0, { source: 'select 1' });
          origin.insertCell(1, { source: '# notes', kind: 'markup' });
          origin.commit();
          const peers = [origin, NotebookDoc.fromSnapshot(origin.exportSnapshot()), NotebookDoc.fromSnapshot(origin.exportSnapshot())];
          // Every committed change of every peer, as its own update blob.
          const blobs: Uint8Array[] = [origin.exportSnapshot()];
          for (const [who, op] of steps) {
            const peer = peers[who];
            const before = peer.doc.oplogVersion();
            applyOp(peer, op, peers);
            peer.commit();
            const blob = peer.doc.export({ mode: 'update', from: before });
            blobs.push(blob);
          }
          // Each replica receives all blobs in its own pseudo-random order.
          for (let r = 0; r < peers.length; r++) {
            const order = blobs.map((_, i) => i);
            let seed = orderSeeds[r] + 1;
            for (let i = order.length - 1; i > 0; i--) {
              seed = (seed * 1103515245 + 12345) % 2147483648;
              const j = seed % (i + 1);
              [order[i], order[j]] = [order[j], order[i]];
            }
            for (const i of order) peers[r].doc.import(blobs[i]);
          }
          assertConverged(...peers);
          return true;
        },
      ),
      { numRuns: 100 },
    );
  });
});
