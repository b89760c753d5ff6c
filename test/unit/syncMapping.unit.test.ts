// The notebook <-> Loro <-> editor mapping (extension/core/sync/notebookSync)
// with a fake editor standing in for VS Code: randomized concurrent edits from
// three peers, partial delivery, remote edits applied one at a time with local
// edits in between; after a full exchange every editor, every Loro document
// and every view agree, ids stay unique, and no echo ever writes to Loro.
import * as assert from 'assert';
import fc from 'fast-check';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import type { CellData } from '../../server/shared/notebookTypes';
import { NotebookSync, type RemoteEdit } from '../../extension/core/sync/notebookSync';
import { applySplices, mapOffset, textEdits } from '../../extension/core/sync/textEdits';

/** One person: a Loro replica, the sync state and a fake editor (what VS Code shows). */
class Peer {
  readonly sync: NotebookSync;
  editor: CellData[];
  constructor(readonly nb: NotebookDoc) {
    this.sync = new NotebookSync(nb);
    this.editor = nb.toData().cells;
  }

  /** The user edits the editor; the tracker turns it into Loro ops. */
  local(edit: (cells: CellData[]) => Map<number, { start: number; end: number; insert: string }[]> | void): void {
    const cells = this.editor.map((c) => ({ ...c, metadata: { ...c.metadata } }));
    const hints = edit(cells) ?? undefined;
    const res = this.sync.applyLocal(cells, hints);
    for (const { index, id } of res.idsToWrite) cells[index] = { ...cells[index], id };
    this.editor = cells;
    // Writing ids back is a metadata change event: must be a no-op.
    assert.strictEqual(this.sync.applyLocal(this.editor).changed, false, 'id write-back echoed into Loro');
  }

  /** Applies up to `max` pending remote edits to the editor, checking each echo is silent. */
  drain(max = 10_000): void {
    for (let i = 0; i < max; i++) {
      const e = this.sync.nextRemoteEdit();
      if (!e) return;
      this.sync.commitRemoteEdit(e);
      this.editor = applyToEditor(this.editor, e);
      assert.strictEqual(this.sync.applyLocal(this.editor).changed, false, `echo of ${e.type} wrote to Loro`);
    }
  }
}

function applyToEditor(editor: CellData[], e: RemoteEdit): CellData[] {
  const out = editor.slice();
  switch (e.type) {
    case 'delete':
      out.splice(e.index, e.count);
      break;
    case 'insert':
      out.splice(e.index, 0, ...e.cells);
      break;
    case 'move':
      out.splice(e.from, 1);
      out.splice(e.to, 0, e.cell);
      break;
    case 'replace':
      out[e.index] = e.cell;
      break;
    case 'text':
      assert.strictEqual(out[e.index].source, e.before, 'text edit computed against what the editor shows');
      out[e.index] = { ...out[e.index], source: applySplices(e.before, e.edits) };
      assert.strictEqual(out[e.index].source, e.after);
      break;
    case 'props':
      out[e.index] = { ...e.cell, source: out[e.index].source };
      break;
    case 'meta':
      break;
  }
  return out;
}

function exchange(from: Peer, to: Peer): void {
  to.nb.doc.import(from.nb.doc.export({ mode: 'update', from: to.nb.doc.oplogVersion() }));
}

type Action =
  | { t: 'type'; peer: number; cell: number; at: number; del: number; text: string }
  | { t: 'insert'; peer: number; at: number; text: string; markup: boolean }
  | { t: 'delete'; peer: number; cell: number }
  | { t: 'move'; peer: number; cell: number; to: number }
  | { t: 'lang'; peer: number; cell: number; lang: string }
  | { t: 'name'; peer: number; cell: number; name: string }
  | { t: 'kind'; peer: number; cell: number }
  | { t: 'send'; from: number; to: number }
  | { t: 'drain'; peer: number; max: number };

const peerArb = fc.integer({ min: 0, max: 2 });
const idx = fc.nat({ max: 20 });
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('type' as const), peer: peerArb, cell: idx, at: fc.nat({ max: 40 }), del: fc.nat({ max: 3 }), text: fc.string({ maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('insert' as const), peer: peerArb, at: idx, text: fc.string({ maxLength: 6 }), markup: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), peer: peerArb, cell: idx }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('move' as const), peer: peerArb, cell: idx, to: idx }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('lang' as const), peer: peerArb, cell: idx, lang: fc.constantFrom('sql', 'python', 'markdown') }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('name' as const), peer: peerArb, cell: idx, name: fc.constantFrom('', 'trips', 'x1') }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('kind' as const), peer: peerArb, cell: idx }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('send' as const), from: peerArb, to: peerArb }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('drain' as const), peer: peerArb, max: fc.integer({ min: 1, max: 4 }) }) },
);

function run(peers: Peer[], a: Action): void {
  if (a.t === 'send') {
    if (a.from !== a.to) exchange(peers[a.from], peers[a.to]);
    return;
  }
  const p = peers[a.peer];
  if (a.t === 'drain') return p.drain(a.max);
  const n = p.editor.length;
  if (a.t === 'insert') {
    p.local((cells) => {
      cells.splice(a.at % (n + 1), 0, { id: '', kind: a.markup ? 'markup' : 'code', language: a.markup ? 'markdown' : 'sql', source: a.text, metadata: {} });
    });
    return;
  }
  if (n === 0) return;
  const i = a.cell % n;
  p.local((cells) => {
    const c = cells[i];
    switch (a.t) {
      case 'type': {
        const start = Math.min(a.at, c.source.length);
        const end = Math.min(c.source.length, start + a.del);
        c.source = c.source.slice(0, start) + a.text + c.source.slice(end);
        return new Map([[i, [{ start, end, insert: a.text }]]]);
      }
      case 'delete':
        cells.splice(i, 1);
        return;
      case 'move': {
        const [m] = cells.splice(i, 1);
        cells.splice(a.to % n, 0, m);
        return;
      }
      case 'lang':
        c.language = a.lang;
        return;
      case 'name':
        if (a.name) c.name = a.name;
        else delete c.name;
        return;
      case 'kind':
        c.kind = c.kind === 'code' ? 'markup' : 'code';
        return;
    }
  });
}

function settle(peers: Peer[]): void {
  for (let round = 0; round < 2; round++) for (const a of peers) for (const b of peers) if (a !== b) exchange(a, b);
  for (const p of peers) p.drain();
}

function assertConverged(peers: Peer[]): void {
  const first = peers[0].nb.toData();
  const ids = first.cells.map((c) => c.id);
  assert.strictEqual(new Set(ids).size, ids.length, 'ids are unique');
  for (const p of peers) {
    assert.deepStrictEqual(p.nb.toData(), first, 'Loro replicas agree');
    assert.deepStrictEqual(p.editor, first.cells, 'the editor shows the Loro document');
    assert.deepStrictEqual(p.sync.viewCells, first.cells, 'the view is what the editor shows');
  }
}

function startingPeers(sources: string[]): Peer[] {
  const base = new NotebookDoc();
  sources.forEach((source, i) => base.insertCell(i, { source }));
  base.commit();
  const snap = base.exportSnapshot();
  return [0, 1, 2].map(() => new Peer(NotebookDoc.fromSnapshot(snap)));
}

describe('Sync mapping: editor <-> Loro (3 peers, randomized)', () => {
  it('textEdits / mapOffset: splices rebuild the target; offsets map across edits', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), (a, b) => {
        assert.strictEqual(applySplices(a, textEdits(a, b)), b);
      }),
      { numRuns: 300 },
    );
    const edits = textEdits('hello world', 'hello brave world');
    assert.strictEqual(mapOffset(0, edits), 0);
    assert.strictEqual(mapOffset(11, edits), 17);
    // Two distant changes stay two splices (text in between is not rewritten).
    assert.strictEqual(textEdits('select a from t where x', 'select b from t where y').length, 2);
  });

  it('all replicas and editors converge after random concurrent edits', function () {
    this.timeout(120_000);
    fc.assert(
      fc.property(fc.array(actionArb, { minLength: 1, maxLength: 40 }), (actions) => {
        const peers = startingPeers(['select 1', 'select 2', '# notes']);
        for (const a of actions) run(peers, a);
        settle(peers);
        assertConverged(peers);
      }),
      { numRuns: 250 },
    );
  });

  it('a local keystroke while a remote edit is pending lands where the user typed', () => {
    const [a, b] = startingPeers(['select x from t']);
    a.local((cells) => {
      cells[0].source = '-- A\nselect x from t';
      return new Map([[0, [{ start: 0, end: 0, insert: '-- A\n' }]]]);
    });
    exchange(a, b); // b has it in Loro but not in the editor yet
    b.local((cells) => {
      cells[0].source = 'select x from t where x > 0';
      return new Map([[0, [{ start: 15, end: 15, insert: ' where x > 0' }]]]);
    });
    settle([a, b]);
    assert.strictEqual(a.editor[0].source, '-- A\nselect x from t where x > 0');
    assertConverged([a, b]);
  });

  it('concurrent: one deletes a cell the other edits; both move cells', () => {
    const [a, b, c] = startingPeers(['0', '1', '2', '3']);
    a.local((cells) => void cells.splice(1, 1));
    b.local((cells) => {
      cells[1].source = '1 edited';
    });
    c.local((cells) => {
      const [m] = cells.splice(3, 1);
      cells.splice(0, 0, m);
    });
    a.local((cells) => {
      const [m] = cells.splice(0, 1);
      cells.push(m);
    });
    settle([a, b, c]);
    assertConverged([a, b, c]);
    assert.deepStrictEqual(a.editor.map((x) => x.source).sort(), ['0', '2', '3']);
  });

  it('undo (Loro UndoManager) reverts only the local edits', () => {
    const [a, b] = startingPeers(['select 1']);
    const { UndoManager } = require('loro-crdt') as typeof import('loro-crdt');
    const undo = new UndoManager(a.nb.doc, { mergeInterval: 0 });
    a.local((cells) => {
      cells[0].source = 'select 1 -- a';
    });
    exchange(a, b);
    b.drain();
    b.local((cells) => {
      cells[0].source = '-- b\nselect 1 -- a';
    });
    exchange(b, a);
    a.drain();
    assert.ok(undo.undo());
    a.drain();
    settle([a, b]);
    assert.strictEqual(a.editor[0].source, '-- b\nselect 1');
    assertConverged([a, b]);
  });
});
