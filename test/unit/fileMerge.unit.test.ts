// A `.sqlroom` file is a CRDT. Two "windows" (each a Loro document, an editor
// view through NotebookSync, as the change tracker keeps them) edit one
// notebook, save it to one shared file, reload it when the other saved, get
// hand edits in the file's plain cells, and sometimes exchange live updates
// (one sync server). Whatever the interleaving, they converge and every typed
// string is in the notebook exactly once. The reload follows the serializer:
// the file is parsed, imported into the open document, and the editor is
// reset to the merged state (NotebookSync.expectEditorState).
import * as assert from 'assert';
import fc from 'fast-check';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import type { CellData } from '../../server/shared/notebookTypes';
import { parseSqlroomFile, serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { importNotebook, mergeSqlroomFiles, parseConflictedFile } from '../../server/shared/sqlroomMerge';
import { NotebookSync } from '../../extension/core/sync/notebookSync';

const DOC_ID = 'file-merge-test';

class Window {
  nb: NotebookDoc;
  sync: NotebookSync;
  /** What VS Code shows. */
  editor: CellData[];

  constructor(file: Uint8Array) {
    this.nb = parseSqlroomFile(file).notebook;
    this.editor = this.nb.toData().cells;
    this.sync = new NotebookSync(this.nb, { cells: this.editor, meta: this.nb.toData().meta });
  }

  /** A keystroke run: `text` typed at `at` (clamped; -1: at the end) in cell `cell` (modulo the count). */
  type(cell: number, at: number, text: string): void {
    const i = cell % this.editor.length;
    const c = this.editor[i];
    const pos = at < 0 ? c.source.length : Math.min(at, c.source.length);
    const source = c.source.slice(0, pos) + text + c.source.slice(pos);
    this.editor[i] = { ...c, source };
    const done = this.sync.applyLocalText(i, c.id, source, [{ start: pos, end: pos, insert: text }]);
    if (done === undefined) this.sync.applyLocal(this.editor);
  }

  /** The change tracker's drain: every remote change shown in the editor. */
  drain(): void {
    for (let n = 0; n < 1000; n++) {
      const edit = this.sync.nextRemoteEdit();
      if (!edit) return;
      this.sync.commitRemoteEdit(edit);
      this.editor = this.sync.viewCells.map((c) => ({ ...c, metadata: structuredClone(c.metadata) }));
    }
    throw new Error('drain does not end');
  }

  /** The serializer's save: what is on disk is merged in first. */
  save(disk: Uint8Array): Uint8Array {
    importNotebook(this.nb, parseConflictedFile(disk).notebook);
    return serializeSqlroomFile(this.nb, DOC_ID);
  }

  /**
   * VS Code reads the changed file again: the serializer merges it; the editor
   * shows the result. A file with hand edits is written back at once (the
   * change tracker saves it), so its snapshot holds the "file" change and the
   * next hand edit is counted from there. Returns the disk after that.
   */
  reload(disk: Uint8Array): Uint8Array {
    const parsed = parseSqlroomFile(disk);
    importNotebook(this.nb, parsed.notebook);
    const data = this.nb.toData();
    this.sync.expectEditorState(data);
    this.editor = data.cells.map((c) => ({ ...c }));
    this.sync.applyLocal(this.editor); // the reload's change event
    return parsed.reconciled ? this.save(disk) : disk;
  }
}

function live(a: NotebookDoc, b: NotebookDoc): void {
  b.doc.import(a.doc.export({ mode: 'update', from: b.doc.oplogVersion() }));
  a.doc.import(b.doc.export({ mode: 'update', from: a.doc.oplogVersion() }));
}

/** A person edits the file's plain cells in a text editor: `text` appended to a cell's source. */
function handEdit(disk: Uint8Array, cell: number, text: string): Uint8Array {
  const json = JSON.parse(new TextDecoder().decode(disk)) as { cells: Array<{ source: string[] }> };
  const c = json.cells[cell % json.cells.length];
  if (c.source.length === 0) c.source.push(text);
  else c.source[c.source.length - 1] += text;
  return new TextEncoder().encode(JSON.stringify(json, null, 2) + '\n');
}

function initialFile(): Uint8Array {
  const nb = new NotebookDoc();
  nb.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT 1' });
  nb.insertCell(1, { kind: 'code', language: 'sql', source: 'SELECT 2' });
  nb.commit();
  return serializeSqlroomFile(nb, DOC_ID);
}

function countOf(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

type Step =
  | { t: 'type'; w: 0 | 1; cell: number; at: number }
  | { t: 'save'; w: 0 | 1 }
  | { t: 'reload'; w: 0 | 1 }
  | { t: 'drain'; w: 0 | 1 }
  | { t: 'live' }
  | { t: 'hand'; cell: number };

const w = fc.constantFrom(0 as const, 1 as const);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('type' as const), w, cell: fc.nat(3), at: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('save' as const), w }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('reload' as const), w }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drain' as const), w }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('live' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('hand' as const), cell: fc.nat(3) }) },
);

describe('.sqlroom files merge as CRDTs (two windows, one file)', () => {
  it('the reported sequence: both windows type, save and reload, then join one server: each text once', () => {
    let disk = initialFile();
    const [a, b] = [new Window(disk), new Window(disk)];
    a.type(1, 8, ' ORDER BY 1 DESC');
    disk = a.save(disk);
    disk = b.reload(disk);
    b.type(1, 100, ' LIMIT 2');
    disk = b.save(disk);
    disk = a.reload(disk);
    a.type(0, 0, '-- a\n');
    b.type(0, 0, '-- b\n');
    disk = b.save(disk);
    disk = a.save(disk); // a's save merges b's file: no "content is newer" to resolve
    disk = b.reload(disk);
    live(a.nb, b.nb); // both join one server
    a.drain();
    b.drain();
    assert.deepStrictEqual(a.nb.toData(), b.nb.toData());
    assert.deepStrictEqual(a.editor, a.nb.toData().cells);
    const all = a.nb.toData().cells.map((c) => c.source).join('\n');
    for (const s of [' ORDER BY 1 DESC', ' LIMIT 2', '-- a', '-- b']) assert.strictEqual(countOf(all, s), 1, `${JSON.stringify(s)} once in ${JSON.stringify(all)}`);
  });

  it('typing where remote text the editor does not show yet was inserted keeps that text', () => {
    const disk = initialFile();
    const [a, b] = [new Window(disk), new Window(disk)];
    b.type(0, 0, '<b>');
    live(a.nb, b.nb); // a's editor does not show <b> yet
    a.type(0, 0, '<a>');
    assert.strictEqual(a.nb.toData().cells[0].source, '<a><b>SELECT 1');
  });

  it('a hand edit of the file read by both windows (and read twice) is applied once', () => {
    const disk = handEdit(initialFile(), 0, ' -- by hand');
    const a = new Window(disk);
    const b = new Window(disk);
    a.reload(disk);
    live(a.nb, b.nb);
    const all = a.nb.toData().cells.map((c) => c.source).join('\n');
    assert.strictEqual(countOf(all, ' -- by hand'), 1, all);
    assert.deepStrictEqual(a.nb.toData(), b.nb.toData());
  });

  it('random interleavings of typing, saves, reloads, hand edits and live sync converge with no duplicated text', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), (steps) => {
        let disk = initialFile();
        const wins = [new Window(disk), new Window(disk)];
        const typed: string[] = [];
        steps.forEach((s, n) => {
          const token = `<${n}>`;
          if (s.t === 'type') {
            // At the start or the end: never inside an earlier token, so each stays countable.
            wins[s.w].type(s.cell, s.at % 2 === 0 ? 0 : -1, token);
            typed.push(token);
          } else if (s.t === 'save') disk = wins[s.w].save(disk);
          else if (s.t === 'reload') disk = wins[s.w].reload(disk);
          else if (s.t === 'drain') wins[s.w].drain();
          else if (s.t === 'live') {
            live(wins[0].nb, wins[1].nb);
          } else {
            disk = handEdit(disk, s.cell, token);
            typed.push(token);
          }
        });
        // Everyone saves, reloads and joins one server.
        disk = wins[0].save(disk);
        disk = wins[1].save(disk);
        disk = wins[0].reload(disk);
        live(wins[0].nb, wins[1].nb);
        for (const win of wins) win.drain();
        const data = wins[0].nb.toData();
        assert.deepStrictEqual(wins[1].nb.toData(), data);
        for (const win of wins) assert.deepStrictEqual(win.editor.map((c) => c.source), data.cells.map((c) => c.source));
        const all = data.cells.map((c) => c.source).join('\n');
        for (const t of typed) assert.strictEqual(countOf(all, t), 1, `${t} once in ${JSON.stringify(all)}`);
        // The file written last reads back as the same notebook (no reconcile change).
        const again = parseSqlroomFile(serializeSqlroomFile(wins[0].nb, DOC_ID));
        assert.strictEqual(again.reconciled, false);
        assert.deepStrictEqual(again.notebook.toData(), data);
      }),
      { numRuns: 60 },
    );
  });
});

describe('Merging .sqlroom files', () => {
  function branchPair(): { base: Uint8Array; ours: Uint8Array; theirs: Uint8Array } {
    const base = initialFile();
    const a = parseSqlroomFile(base).notebook;
    const b = parseSqlroomFile(base).notebook;
    const [c0, c1] = a.cellIds();
    a.spliceCellSource(c0, 8, 0, ' AS ours');
    a.commit();
    b.spliceCellSource(c1, 8, 0, ' AS theirs');
    b.insertCell(2, { kind: 'code', language: 'sql', source: 'SELEC 1' });
    b.commit();
    return { base, ours: serializeSqlroomFile(a, DOC_ID), theirs: serializeSqlroomFile(b, DOC_ID) };
  }

  it('mergeSqlroomFiles keeps both sides once, in either order', () => {
    const { base, ours, theirs } = branchPair();
    const ab = parseSqlroomFile(mergeSqlroomFiles(ours, theirs, base).bytes);
    const ba = parseSqlroomFile(mergeSqlroomFiles(theirs, ours, base).bytes);
    assert.strictEqual(ab.reconciled, false);
    assert.deepStrictEqual(ab.notebook.toData().cells.map((c) => c.source), ['SELECT 1 AS ours', 'SELECT 2 AS theirs', 'SELEC 1']);
    assert.deepStrictEqual(ba.notebook.toData().cells, ab.notebook.toData().cells);
  });

  it('a side that is a hand edit of the base counts only its own change', () => {
    const base = handEdit(initialFile(), 0, ' -- base edit');
    const ours = serializeSqlroomFile(parseSqlroomFile(base).notebook, DOC_ID); // opened and saved by SQLRoom
    const theirs = handEdit(base, 1, ' -- their edit'); // edited again as text
    const merged = parseSqlroomFile(mergeSqlroomFiles(ours, theirs, base).bytes).notebook.toData();
    const all = merged.cells.map((c) => c.source).join('\n');
    assert.strictEqual(countOf(all, ' -- base edit'), 1, all);
    assert.strictEqual(countOf(all, ' -- their edit'), 1, all);
  });

  it('a file with git conflict markers: a precise error, and its two sides merge', () => {
    const { ours, theirs } = branchPair();
    const [o, t] = [ours, theirs].map((b) => new TextDecoder().decode(b).split('\n'));
    // What a textual merge leaves: common lines, then each differing run in markers.
    const out: string[] = [];
    for (let i = 0; i < Math.max(o.length, t.length); i++) {
      if (o[i] === t[i]) out.push(o[i]);
      else out.push('<<<<<<< HEAD', ...(o[i] !== undefined ? [o[i]] : []), '=======', ...(t[i] !== undefined ? [t[i]] : []), '>>>>>>> theirs');
    }
    const conflicted = new TextEncoder().encode(out.join('\n'));
    assert.throws(() => parseSqlroomFile(conflicted), (e: Error & { code?: string }) => e.code === 'conflict-markers' && /the first "<<<<<<<" at line \d+/.test(e.message));
    const merged = parseConflictedFile(conflicted);
    assert.strictEqual(merged.sides, 2);
    assert.deepStrictEqual(merged.notebook.toData().cells.map((c) => c.source), ['SELECT 1 AS ours', 'SELECT 2 AS theirs', 'SELEC 1']);
  });

  it('two different notebooks are refused by name', () => {
    const other = new NotebookDoc();
    other.insertCell(0, { source: 'x' });
    other.commit();
    assert.throws(() => mergeSqlroomFiles(initialFile(), serializeSqlroomFile(other, 'another-doc')), /different notebooks \(docId file-merge-test and another-doc\)/);
  });
});
