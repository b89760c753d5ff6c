import * as assert from 'assert';
import fc from 'fast-check';
import { LoroDoc, LoroMap, LoroText, type VersionVector } from 'loro-crdt';
import { longestIncreasingSubsequence, planReorder } from '../../server/shared/cellOrder';
import { NotebookDoc, NotebookModelError } from '../../server/shared/notebookDoc';
import type { CellData, NotebookData } from '../../server/shared/notebookTypes';

/** Ops (from Loro's JSON export) committed since `vv`. */
function opsSince(nb: NotebookDoc, vv: VersionVector): Array<{ type?: string }> {
  return nb.doc.exportJsonUpdates(vv, undefined).changes.flatMap((c) => c.ops.map((o) => o.content as { type?: string }));
}

function updateSize(nb: NotebookDoc, vv: VersionVector): number {
  return nb.doc.export({ mode: 'update', from: vv }).length;
}

function makeNotebook(sources: string[]): NotebookDoc {
  const nb = new NotebookDoc();
  sources.forEach((source, i) => nb.insertCell(i, { source }));
  nb.commit({ message: 'setup' });
  return nb;
}

function expectModelError(fn: () => unknown, pattern: RegExp, code?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NotebookModelError, `expected NotebookModelError, got ${String(e)}`);
    assert.match(e.message, pattern);
    if (code) assert.strictEqual(e.code, code);
    return true;
  });
}

describe('NotebookDoc: cells', () => {
  it('inserts cells with defaults and shows them in list order', () => {
    const nb = new NotebookDoc();
    const a = nb.insertCell(0, { source: 'select 1' });
    const b = nb.insertCell(0, { kind: 'markup', source: '# Title', name: 'intro', metadata: { tags: ['x'] } });
    nb.commit();
    const data = nb.toData();
    assert.deepStrictEqual(nb.cellIds(), [b, a]);
    assert.deepStrictEqual(data.cells[1], { id: a, kind: 'code', language: 'sql', source: 'select 1', metadata: {} });
    assert.deepStrictEqual(data.cells[0], {
      id: b,
      kind: 'markup',
      language: 'markdown',
      source: '# Title',
      name: 'intro',
      metadata: { tags: ['x'] },
    });
    assert.ok(!('name' in data.cells[1]), 'an unnamed cell has no name key');
  });

  it('keeps a given id, refuses a duplicate one', () => {
    const nb = new NotebookDoc();
    assert.strictEqual(nb.insertCell(0, { id: 'fixed-id' }), 'fixed-id');
    expectModelError(() => nb.insertCell(1, { id: 'fixed-id' }), /fixed-id.*already exists/);
  });

  it('moves and deletes cells', () => {
    const nb = makeNotebook(['a', 'b', 'c', 'd']);
    const [a, b, c, d] = nb.cellIds();
    nb.moveCell(a, 3);
    assert.deepStrictEqual(nb.cellIds(), [b, c, d, a]);
    nb.moveCell(d, 0);
    assert.deepStrictEqual(nb.cellIds(), [d, b, c, a]);
    nb.deleteCell(b);
    assert.deepStrictEqual(nb.cellIds(), [d, c, a]);
    assert.deepStrictEqual(
      nb.toData().cells.map((x) => x.source),
      ['d', 'c', 'a'],
    );
  });

  it('names the unknown id in every error', () => {
    const nb = makeNotebook(['x']);
    const calls: Array<() => void> = [
      () => nb.deleteCell('no-such-cell'),
      () => nb.moveCell('no-such-cell', 0),
      () => nb.setCellSource('no-such-cell', 'y'),
      () => nb.spliceCellSource('no-such-cell', 0, 0, 'y'),
      () => nb.setCellProps('no-such-cell', { name: 'n' }),
    ];
    for (const call of calls) expectModelError(call, /no cell with id "no-such-cell"/, 'unknown-cell');
  });

  it('rejects out-of-range indices and bad kinds', () => {
    const nb = makeNotebook(['x', 'y']);
    const [x] = nb.cellIds();
    expectModelError(() => nb.insertCell(3, {}), /index 3 is out of range 0\.\.2/);
    expectModelError(() => nb.moveCell(x, 2), /toIndex 2 is out of range 0\.\.1/);
    expectModelError(() => nb.insertCell(0, { kind: 'python' as never }), /kind must be "code" or "markup"/);
  });

  it('sets props only where they change and removes a name with null', () => {
    const nb = makeNotebook(['select 1']);
    const [id] = nb.cellIds();
    nb.setCellProps(id, { name: 'totals', metadata: { a: 1, b: { c: [1, 2] } } });
    nb.commit();
    let vv = nb.doc.oplogVersion();
    nb.setCellProps(id, { name: 'totals', metadata: { b: { c: [1, 2] }, a: 1 } });
    nb.commit();
    assert.strictEqual(opsSince(nb, vv).length, 0, 'same values write nothing');
    nb.setCellProps(id, { metadata: { a: 2, b: { c: [1, 2] } } });
    nb.commit();
    assert.strictEqual(opsSince(nb, vv).length, 1, 'one changed metadata key is one op');
    vv = nb.doc.oplogVersion();
    nb.setCellProps(id, { name: null, kind: 'markup', language: 'markdown' });
    nb.commit();
    const cell = nb.toData().cells[0];
    assert.ok(!('name' in cell));
    assert.strictEqual(cell.kind, 'markup');
    assert.strictEqual(cell.language, 'markdown');
    assert.strictEqual(opsSince(nb, vv).length, 3);
  });

  it('does not commit single-op edits by itself', () => {
    const nb = makeNotebook(['a']);
    const changes = nb.doc.changeCount();
    nb.setCellSource(nb.cellIds()[0], 'ab');
    nb.insertCell(1, { source: 'c' });
    assert.strictEqual(nb.doc.changeCount(), changes, 'nothing committed yet');
    nb.commit({ message: 'batch' });
    assert.strictEqual(nb.doc.changeCount(), changes + 1, 'one change for the batch');
  });
});

describe('NotebookDoc: source edits in UTF-16 offsets', () => {
  it('splices around emoji, CJK and combining marks exactly like a JS string', () => {
    const nb = makeNotebook(['a😀b 漢字 e\u0301 👩‍👩‍👧']);
    const [id] = nb.cellIds();
    let expected = nb.toData().cells[0].source;
    // Offset -1 means the end of the current text.
    const edits: Array<[number, number, string]> = [
      [3, 0, 'X'], // right after the emoji (2 code units)
      [1, 2, '🎉'], // replace the emoji by another
      [6, 2, '中文'], // replace CJK
      [0, 0, '😀'], // insert at the start
      [-1, 0, '!'], // append after the family emoji (a ZWJ sequence)
      [-10, 8, ''], // delete the family emoji (8 code units) before the '!'
    ];
    for (const [at, del, ins] of edits) {
      const offset = at < 0 ? expected.length + at + 1 : at;
      expected = expected.slice(0, offset) + ins + expected.slice(offset + del);
      nb.spliceCellSource(id, offset, del, ins);
      assert.strictEqual(nb.toData().cells[0].source, expected);
    }
  });

  it('widens an edit that splits a surrogate pair and keeps the JS result', () => {
    const nb = makeNotebook(['x😀y']);
    const [id] = nb.cellIds();
    // Replace only the low surrogate: 😀 (U+1F600) becomes 😁 (U+1F601).
    nb.spliceCellSource(id, 2, 1, '\uDE01');
    assert.strictEqual(nb.toData().cells[0].source, 'x😁y');
    // A result with lone surrogates cannot live in Loro: each becomes U+FFFD.
    nb.spliceCellSource(id, 2, 1, 'Z\uDE01');
    assert.strictEqual(nb.toData().cells[0].source, 'x\uFFFDZ\uFFFDy');
  });

  it('matches JS splice for random edits on random unicode text', () => {
    const alphabet = ['a', 'Z', ' ', '\n', '\r\n', '漢', 'ñ', 'e\u0301', '😀', '👍🏽', 'שלום', '\u200d'];
    const textArb = fc.array(fc.constantFrom(...alphabet), { maxLength: 20 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(textArb, fc.array(fc.tuple(fc.nat(), fc.nat(), textArb), { maxLength: 6 }), (initial, edits) => {
        const nb = makeNotebook([initial]);
        const [id] = nb.cellIds();
        let expected = initial;
        for (const [a, b, ins] of edits) {
          // Offsets on code point boundaries, as an editor produces them.
          const points = codePointBoundaries(expected);
          const offset = points[a % points.length];
          const ends = points.filter((p) => p >= offset);
          const end = ends[b % ends.length];
          expected = expected.slice(0, offset) + ins + expected.slice(end);
          nb.spliceCellSource(id, offset, end - offset, ins);
        }
        nb.commit();
        return nb.toData().cells[0].source === expected;
      }),
      { numRuns: 100 },
    );
  });

  it('setCellSource reaches any target text', () => {
    const alphabet = ['a', 'b', '\n', '漢', '😀', '👍🏽', 'e\u0301', 'ש'];
    const textArb = fc.array(fc.constantFrom(...alphabet), { maxLength: 30 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(textArb, fc.array(textArb, { maxLength: 4 }), (initial, targets) => {
        const nb = makeNotebook([initial]);
        const [id] = nb.cellIds();
        for (const t of targets) {
          nb.setCellSource(id, t);
          if (nb.toData().cells[0].source !== t) return false;
        }
        return true;
      }),
      { numRuns: 100 },
    );
  });

  it('setCellSource handles two large unrelated texts', () => {
    // Myers' diff is slow here; the model falls back to a line diff.
    let seed = 7;
    const random = (n: number): string => {
      let s = '';
      for (let i = 0; i < n; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        s += i % 40 === 39 ? '\n' : String.fromCharCode(97 + (seed % 26));
      }
      return s;
    };
    const nb = makeNotebook([random(20_000)]);
    const [id] = nb.cellIds();
    const target = random(20_000);
    nb.setCellSource(id, target);
    nb.commit();
    assert.strictEqual(nb.toData().cells[0].source, target);
  });

  it('rejects ranges outside the text', () => {
    const nb = makeNotebook(['abc']);
    const [id] = nb.cellIds();
    expectModelError(() => nb.spliceCellSource(id, 4, 0, 'x'), /offset 4 is outside.*length 3/);
    expectModelError(() => nb.spliceCellSource(id, 2, 2, 'x'), /deleting 2 at 2 runs past the end/);
    expectModelError(() => nb.spliceCellSource(id, -1, 0, 'x'), /offset -1/);
  });

  it('setCellSource writes a diff, not a replacement', () => {
    const long = 'select * from t where x = 1;\n'.repeat(2000);
    const nb = makeNotebook([long]);
    const [id] = nb.cellIds();
    const vv = nb.doc.oplogVersion();
    nb.setCellSource(id, long.replace('x = 1', 'x = 2'));
    nb.commit();
    const ops = opsSince(nb, vv);
    assert.ok(ops.length <= 2, `expected at most a delete and an insert, got ${ops.length} ops`);
    assert.ok(updateSize(nb, vv) < 200);
  });
});

function codePointBoundaries(s: string): number[] {
  const out = [0];
  let i = 0;
  for (const ch of s) {
    i += ch.length;
    out.push(i);
  }
  return out;
}

describe('NotebookDoc.applyData', () => {
  it('a one-character edit in a 100 KB cell is a small update, whatever the cell length', () => {
    const sizes: number[] = [];
    for (const length of [1_000, 100_000]) {
      const big = 'x'.repeat(length);
      const nb = makeNotebook(['select 1', big, 'select 2']);
      const vv = nb.doc.oplogVersion();
      const data = nb.toData();
      data.cells[1].source = big.slice(0, length / 2) + 'y' + big.slice(length / 2 + 1);
      const result = nb.applyData(data, { origin: 'test' });
      assert.strictEqual(result.changed, true);
      assert.strictEqual(nb.toData().cells[1].source, data.cells[1].source);
      const ops = opsSince(nb, vv);
      assert.ok(ops.length <= 2, `${ops.length} ops`);
      sizes.push(updateSize(nb, vv));
    }
    assert.ok(sizes[1] < 200, `update of ${sizes[1]} bytes`);
    assert.ok(Math.abs(sizes[1] - sizes[0]) <= 8, `update size depends on cell length: ${sizes.join(' vs ')}`);
  });

  it('moving one cell among 100 is exactly one move op', () => {
    const nb = makeNotebook(Array.from({ length: 100 }, (_, i) => `select ${i}`));
    const data = nb.toData();
    const [moved] = data.cells.splice(10, 1);
    data.cells.splice(80, 0, moved);
    const vv = nb.doc.oplogVersion();
    nb.applyData(data);
    assert.deepStrictEqual(opsSince(nb, vv).map((o) => o.type), ['move']);
    assert.deepStrictEqual(nb.cellIds(), data.cells.map((c) => c.id));
  });

  it('reversing n cells moves n-1 of them', () => {
    const nb = makeNotebook(Array.from({ length: 12 }, (_, i) => `${i}`));
    const data = nb.toData();
    data.cells.reverse();
    const vv = nb.doc.oplogVersion();
    nb.applyData(data);
    assert.strictEqual(opsSince(nb, vv).filter((o) => o.type === 'move').length, 11);
    assert.deepStrictEqual(nb.toData(), data);
  });

  it('does nothing (and commits nothing) when the data is equal', () => {
    const nb = makeNotebook(['a', 'b']);
    nb.setMeta('title', 'T');
    nb.commit();
    const before = nb.doc.changeCount();
    const data = nb.toData();
    // Key order does not matter.
    const result = nb.applyData({ cells: data.cells, meta: { ...data.meta } });
    assert.strictEqual(result.changed, false);
    assert.strictEqual(nb.doc.changeCount(), before);
  });

  it('inserts, deletes, reorders and edits in one change with message and origin', () => {
    const nb = makeNotebook(['a', 'b', 'c', 'd']);
    const data = nb.toData();
    const before = nb.doc.changeCount();
    const origins: Array<string | undefined> = [];
    const unsubscribe = nb.doc.subscribe((e) => origins.push(e.origin));
    const target: NotebookData = {
      meta: { title: 'New', database: 'db.duckdb' },
      cells: [
        data.cells[3],
        { id: '', kind: 'markup', language: 'markdown', source: '# new', metadata: {} },
        { ...data.cells[0], source: 'a2', name: 'first' },
        data.cells[2],
      ],
    };
    const { changed, ids } = nb.applyData(target, { origin: 'vscode', message: 'edit' });
    unsubscribe();
    assert.strictEqual(changed, true);
    assert.strictEqual(nb.doc.changeCount(), before + 1);
    const last = nb.doc.getChangeAt({ peer: nb.doc.peerIdStr, counter: nb.doc.oplogVersion().get(nb.doc.peerIdStr)! - 1 });
    assert.strictEqual(last.message, 'edit');
    assert.deepStrictEqual(origins, ['vscode']);
    assert.strictEqual(ids.length, 4);
    assert.ok(ids[1].length > 0 && ids[1] !== data.cells[1].id, 'a fresh id for the new cell');
    const expected = target.cells.map((c, i) => ({ ...c, id: ids[i] }));
    assert.deepStrictEqual(nb.toData(), { meta: target.meta, cells: expected });
  });

  it('gives fresh unique ids to empty and duplicate target ids', () => {
    const nb = new NotebookDoc();
    const cell = (id: string, source: string): CellData => ({ id, kind: 'code', language: 'sql', source, metadata: {} });
    const { ids } = nb.applyData({ meta: {}, cells: [cell('same', '1'), cell('same', '2'), cell('', '3'), cell('', '4')] });
    assert.strictEqual(ids[0], 'same');
    assert.strictEqual(new Set(ids).size, 4);
    assert.ok(ids.every((id) => id.length > 0));
    assert.deepStrictEqual(nb.cellIds(), ids);
  });

  it('reaches any target with the fewest moves (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }),
        fc.array(fc.oneof(fc.nat({ max: 11 }), fc.constant(-1)), { maxLength: 14 }),
        (n, picks) => {
          const nb = makeNotebook(Array.from({ length: n }, (_, i) => `cell ${i}`));
          const existing = nb.toData().cells;
          const used = new Set<number>();
          const target: CellData[] = [];
          for (const p of picks) {
            if (p >= 0 && p < n && !used.has(p)) {
              used.add(p);
              target.push({ ...existing[p], source: `${existing[p].source}!` });
            } else if (p < 0) {
              target.push({ id: '', kind: 'code', language: 'sql', source: 'new', metadata: {} });
            }
          }
          const keptInOldOrder = existing.map((_, i) => i).filter((i) => used.has(i));
          const targetPos = keptInOldOrder.map((i) => target.findIndex((c) => c.id === existing[i].id));
          const minimalMoves = keptInOldOrder.length - longestIncreasingSubsequence(targetPos).length;
          const vv = nb.doc.oplogVersion();
          const { ids } = nb.applyData({ meta: {}, cells: target });
          const moves = opsSince(nb, vv).filter((o) => o.type === 'move').length;
          const expected = target.map((c, i) => ({ ...c, id: ids[i] }));
          return moves === minimalMoves && JSON.stringify(nb.toData().cells) === JSON.stringify(expected);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('validates the whole target before writing anything', () => {
    const nb = makeNotebook(['a', 'b']);
    const vv = nb.doc.oplogVersion();
    const data = nb.toData();
    data.cells.reverse();
    data.cells[0].source = 'changed';
    expectModelError(() => nb.applyData({ ...data, meta: { authors: { '1': 2 } } }), /meta\.authors must be an object mapping peer ids to user names/);
    expectModelError(() => nb.applyData({ ...data, cells: [...data.cells, { kind: 'python' } as never] }), /cells\[2\]\.kind must be "code" or "markup"/);
    nb.commit();
    assert.strictEqual(opsSince(nb, vv).length, 0, 'no partial edit was left behind');
  });

  it('removes list entries a foreign doc left that are not cells', () => {
    const doc = new LoroDoc();
    doc.getMovableList('cells').insert(0, 'junk');
    doc.commit();
    const nb = new NotebookDoc(doc);
    const id = nb.insertCell(1, { source: 'real' });
    nb.commit();
    assert.deepStrictEqual(nb.cellIds(), ['', id]);
    nb.deleteCell(id);
    nb.commit();
    assert.deepStrictEqual(doc.getMovableList('cells').toJSON(), ['junk'], 'deleteCell used the right list index');
    const { ids } = nb.applyData({ meta: {}, cells: [{ id: 'x', kind: 'code', language: 'sql', source: 's', metadata: {} }] });
    assert.deepStrictEqual(nb.cellIds(), ids);
  });

  it('deletes later duplicates of an id already in the doc', () => {
    // Two peers can import the same hand-written cell; the doc then holds the id twice.
    const doc = new LoroDoc();
    const cells = doc.getMovableList('cells');
    for (const source of ['one', 'two']) {
      const m = cells.insertContainer(cells.length, new LoroMap());
      m.set('id', 'dup');
      m.set('kind', 'code');
      m.set('language', 'sql');
      m.setContainer('source', new LoroText()).insert(0, source);
      m.setContainer('metadata', new LoroMap());
    }
    doc.commit();
    const nb = new NotebookDoc(doc);
    assert.deepStrictEqual(nb.cellIds(), ['dup', 'dup']);
    nb.applyData({ meta: {}, cells: [{ id: 'dup', kind: 'code', language: 'sql', source: 'one', metadata: {} }] });
    assert.deepStrictEqual(nb.toData().cells.map((c) => c.source), ['one']);
  });
});

describe('planReorder', () => {
  it('keeps the longest increasing run and moves the rest', () => {
    const ops = planReorder(['a', 'b', 'c', 'd', 'e'], ['b', 'c', 'd', 'e', 'a']);
    assert.deepStrictEqual(ops, [{ type: 'move', from: 0, to: 4, id: 'a' }]);
  });

  it('orders deletes from the end and inserts after their predecessor', () => {
    const ops = planReorder(['a', 'x', 'b', 'y'], ['n', 'a', 'b', 'm']);
    assert.deepStrictEqual(ops, [
      { type: 'delete', index: 3, id: 'y' },
      { type: 'delete', index: 1, id: 'x' },
      { type: 'insert', index: 0, id: 'n' },
      { type: 'insert', index: 3, id: 'm' },
    ]);
  });

  it('refuses duplicate target ids', () => {
    assert.throws(() => planReorder([], ['a', 'a']), /duplicate target id "a"/);
  });
});

describe('NotebookDoc: snapshots', () => {
  it('round-trips through a snapshot with history', () => {
    const nb = makeNotebook(['a', 'b']);
    nb.setMeta('title', 'T');
    nb.commit({ message: 'title' });
    const copy = NotebookDoc.fromSnapshot(nb.exportSnapshot());
    assert.deepStrictEqual(copy.toData(), nb.toData());
    assert.deepStrictEqual(copy.doc.frontiers(), nb.doc.frontiers());
    assert.strictEqual(copy.doc.changeCount(), nb.doc.changeCount());
    assert.notStrictEqual(copy.doc.peerIdStr, nb.doc.peerIdStr);
  });

  it('refuses empty, garbage and truncated bytes', () => {
    const snapshot = makeNotebook(['a']).exportSnapshot();
    expectModelError(() => NotebookDoc.fromSnapshot(new Uint8Array()), /snapshot is empty/, 'bad-snapshot');
    expectModelError(() => NotebookDoc.fromSnapshot(new Uint8Array([1, 2, 3, 4, 5])), /snapshot is damaged: .*Invalid import data/i, 'bad-snapshot');
    expectModelError(() => NotebookDoc.fromSnapshot(snapshot.slice(0, snapshot.length - 7)), /snapshot is damaged: .*(checksum|invalid)/i, 'bad-snapshot');
    const flipped = snapshot.slice();
    flipped[Math.floor(flipped.length / 2)] ^= 0x55;
    expectModelError(() => NotebookDoc.fromSnapshot(flipped), /snapshot is damaged/, 'bad-snapshot');
  });

  it('refuses an update that lacks its history', () => {
    const nb = makeNotebook(['a']);
    const vv = nb.doc.oplogVersion();
    nb.insertCell(1, { source: 'b' });
    nb.commit();
    const tail = nb.doc.export({ mode: 'update', from: vv });
    expectModelError(() => NotebookDoc.fromSnapshot(tail), /snapshot is incomplete/, 'bad-snapshot');
  });

  it('refuses Loro documents that are not notebooks', () => {
    const text = new LoroDoc();
    text.getText('text').insert(0, 'hello');
    expectModelError(() => NotebookDoc.fromSnapshot(text.export({ mode: 'snapshot' })), /not a SQLRoom notebook: .*"text" \(a Text\)/, 'not-notebook');

    const wrongList = new LoroDoc();
    wrongList.getList('cells').insert(0, 'x');
    expectModelError(() => NotebookDoc.fromSnapshot(wrongList.export({ mode: 'snapshot' })), /root "cells" is a List, expected a MovableList/, 'not-notebook');

    const plainCells = new LoroDoc();
    plainCells.getMovableList('cells').insert(0, 'just a string');
    expectModelError(() => NotebookDoc.fromSnapshot(plainCells.export({ mode: 'snapshot' })), /cells\[0\] is not a map/, 'not-notebook');
  });

  it('accepts the snapshot of an empty notebook', () => {
    const empty = NotebookDoc.fromSnapshot(new NotebookDoc().exportSnapshot());
    assert.deepStrictEqual(empty.toData(), { meta: {}, cells: [] });
  });
});

describe('NotebookDoc: authors and timestamps', () => {
  it('records a timestamp and message on each commit', () => {
    const nb = new NotebookDoc();
    nb.insertCell(0, { source: 'x' });
    nb.commit({ message: 'first cell' });
    const change = nb.doc.getChangeAt({ peer: nb.doc.peerIdStr, counter: 0 });
    assert.ok(change.timestamp > 1_600_000_000, `timestamp ${change.timestamp} is a Unix time`);
    assert.strictEqual(change.message, 'first cell');
  });

  it('maps this peer to the user name, writing only when it changes', () => {
    const nb = new NotebookDoc();
    nb.setAuthor('Ada');
    nb.commit();
    assert.strictEqual(nb.authorOf(nb.doc.peerIdStr), 'Ada');
    assert.strictEqual(nb.authorOf('12345'), undefined);
    const vv = nb.doc.oplogVersion();
    nb.setAuthor('Ada');
    nb.commit();
    assert.strictEqual(opsSince(nb, vv).length, 0);
    nb.setAuthor('Ada L.');
    nb.commit();
    assert.strictEqual(nb.authorOf(nb.doc.peerIdStr), 'Ada L.');
    assert.deepStrictEqual(nb.toData().meta.authors, { [nb.doc.peerIdStr]: 'Ada L.' });
  });

  it('keeps both authors when two peers register at the same time', () => {
    const a = new NotebookDoc();
    const b = new NotebookDoc();
    a.setAuthor('alice');
    a.commit();
    b.setAuthor('bob');
    b.commit();
    a.doc.import(b.doc.export({ mode: 'update' }));
    b.doc.import(a.doc.export({ mode: 'update' }));
    for (const nb of [a, b]) {
      assert.strictEqual(nb.authorOf(a.doc.peerIdStr), 'alice');
      assert.strictEqual(nb.authorOf(b.doc.peerIdStr), 'bob');
    }
  });

  it('takes over an authors map a foreign doc made, keeping its names', () => {
    const doc = new LoroDoc();
    doc.getMap('meta').setContainer('authors', new LoroMap()).set('7', 'old peer');
    doc.commit();
    const nb = new NotebookDoc(doc);
    nb.setAuthor('new user');
    nb.commit();
    assert.strictEqual(nb.authorOf('7'), 'old peer');
    assert.strictEqual(nb.authorOf(doc.peerIdStr), 'new user');
  });

  it('never drops authors because of a stale meta', () => {
    const nb = new NotebookDoc();
    nb.setAuthor('alice');
    nb.commit();
    const stale = { title: 'T' }; // e.g. meta kept by an editor before alice joined
    nb.applyData({ meta: stale, cells: [] });
    assert.strictEqual(nb.authorOf(nb.doc.peerIdStr), 'alice');
    nb.applyData({ meta: { title: 'T', authors: { '42': 'bob' } }, cells: [] });
    assert.deepStrictEqual(nb.toData().meta, { title: 'T', authors: { [nb.doc.peerIdStr]: 'alice', '42': 'bob' } });
  });

  it('sets and deletes meta keys, changing only what differs', () => {
    const nb = new NotebookDoc();
    nb.setMeta('title', 'Report');
    nb.setMeta('database', 'local.duckdb');
    nb.commit();
    const vv = nb.doc.oplogVersion();
    nb.setMeta('title', 'Report');
    nb.commit();
    assert.strictEqual(opsSince(nb, vv).length, 0);
    nb.setMeta('database', undefined);
    nb.commit();
    assert.deepStrictEqual(nb.toData().meta, { title: 'Report' });
  });
});
