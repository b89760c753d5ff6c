import * as assert from 'assert';
import { cellFromVs, cellToVs, editorMeta, fillMissingIdsByPosition, notebookFromVs, readSqlroomMetadata, TRANSIENT_DOCUMENT_METADATA, validateCellName, VERSION_DOC_ID_KEY, VSCODE_CODE, VSCODE_MARKUP } from '../../extension/core/notebookMapping';
import { NotebookSync } from '../../extension/core/sync/notebookSync';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import type { CellData } from '../../server/shared/notebookTypes';

describe('notebook mapping (VS Code cells <-> plain notebook data)', () => {
  const sql: CellData = { id: 'a', kind: 'code', language: 'sql', source: 'SELECT 1', name: 'one', metadata: { tags: ['x'] } };
  const md: CellData = { id: 'b', kind: 'markup', language: 'markdown', source: '# Title 🦆', metadata: {} };

  it('round-trips code and markup cells through VS Code cell data', () => {
    for (const cell of [sql, md]) assert.deepStrictEqual(cellFromVs(cellToVs(cell)), cell);
    assert.strictEqual(cellToVs(sql).kind, VSCODE_CODE);
    assert.strictEqual(cellToVs(md).kind, VSCODE_MARKUP);
    assert.deepStrictEqual(cellToVs(sql).metadata, { tags: ['x'], id: 'a', name: 'one' });
  });

  it('treats a missing id as empty and a blank name as no name', () => {
    const c = cellFromVs({ kind: VSCODE_CODE, value: 'x', languageId: 'sql', metadata: { name: '  ' } });
    assert.strictEqual(c.id, '');
    assert.strictEqual(c.name, undefined);
    assert.deepStrictEqual(c.metadata, {});
  });

  it('defaults the language from the kind when VS Code gives none', () => {
    assert.strictEqual(cellFromVs({ kind: VSCODE_MARKUP, value: '', languageId: '' }).language, 'markdown');
    assert.strictEqual(cellFromVs({ kind: VSCODE_CODE, value: '', languageId: '' }).language, 'sql');
  });

  it('fills ids of new cells by position only when no other cell holds that id', () => {
    const target = notebookFromVs(
      [
        { kind: VSCODE_CODE, value: 'new', languageId: 'sql' },
        { kind: VSCODE_CODE, value: 'old', languageId: 'sql', metadata: { id: 'x' } },
        { kind: VSCODE_CODE, value: 'second new', languageId: 'sql' },
      ],
      {},
    );
    // Loro list was [x, y, z]: position 0 holds x, which cell 1 still claims -> stays empty.
    const filled = fillMissingIdsByPosition(target, ['x', 'y', 'z']);
    assert.deepStrictEqual(filled.cells.map((c) => c.id), ['', 'x', 'z']);
  });

  it('reads SQLRoom notebook metadata and rejects metadata without a doc id', () => {
    assert.deepStrictEqual(readSqlroomMetadata({ docId: 'd', server: 'ws://h', meta: { title: 't' } }), { docId: 'd', server: 'ws://h', meta: { title: 't' } });
    assert.deepStrictEqual(readSqlroomMetadata({ docId: 'd', meta: [1] }), { docId: 'd', meta: {} });
    assert.strictEqual(readSqlroomMetadata({}), undefined);
    assert.strictEqual(readSqlroomMetadata(undefined), undefined);
  });

  it("a version view's own document id is transient and is the registry key readers get", () => {
    assert.strictEqual(TRANSIENT_DOCUMENT_METADATA[VERSION_DOC_ID_KEY], true);
    const md = { docId: 'live', server: 'ws://h', meta: {}, [VERSION_DOC_ID_KEY]: 'live_at_1234abcd_5' };
    assert.deepStrictEqual(readSqlroomMetadata(md), { docId: 'live_at_1234abcd_5', server: 'ws://h', meta: {} });
    // What the serializer and the diff editor get: the transient key dropped.
    const compared = Object.fromEntries(Object.entries(md).filter(([k]) => !TRANSIENT_DOCUMENT_METADATA[k]));
    assert.deepStrictEqual(readSqlroomMetadata(compared), { docId: 'live', server: 'ws://h', meta: {} });
  });

  it('keeps the peer id -> name map out of the meta VS Code shows', () => {
    const meta = { title: 't', authors: { '12': 'Ana' } };
    assert.deepStrictEqual(editorMeta(meta), { title: 't' });
    assert.deepStrictEqual(meta.authors, { '12': 'Ana' }, 'the input is left alone');
    const plain = { title: 't' };
    assert.strictEqual(editorMeta(plain), plain);
  });

  it('a new author in Loro is no editor edit; a meta without authors keeps them in Loro', () => {
    const nb = new NotebookDoc();
    nb.setAuthor('Ana');
    nb.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT 1' });
    nb.setMeta('title', 'Trips');
    nb.commit();
    const sync = new NotebookSync(nb);
    assert.strictEqual(sync.nextRemoteEdit(), undefined, 'the view starts equal to Loro');
    const ben = new NotebookDoc();
    ben.doc.import(nb.doc.export({ mode: 'snapshot' }));
    ben.setAuthor('Ben');
    ben.commit();
    nb.doc.import(ben.doc.export({ mode: 'update', from: nb.doc.oplogVersion() }));
    assert.strictEqual(Object.keys(nb.toData().meta.authors as object).length, 2);
    assert.strictEqual(sync.nextRemoteEdit(), undefined, 'only authors changed: nothing for the editor');
    nb.setMeta('title', 'Trips 2');
    nb.commit();
    const edit = sync.nextRemoteEdit();
    assert.deepStrictEqual(edit, { type: 'meta', meta: { title: 'Trips 2' } });
    sync.commitRemoteEdit(edit);
    // The editor's meta (no authors) written back changes nothing and erases no author.
    assert.strictEqual(sync.applyLocalMeta({ title: 'Trips 2' }), false);
    assert.deepStrictEqual(Object.values(nb.toData().meta.authors as object).sort(), ['Ana', 'Ben']);
  });

  it('accepts plain identifiers as cell names and explains what is wrong otherwise', () => {
    for (const ok of ['', 'trips', '_t1', 'A_b_9']) assert.strictEqual(validateCellName(ok), undefined, ok);
    for (const bad of ['1abc', 'has space', 'quo"te', 'drop;table', 'ä', 'x'.repeat(64)]) assert.ok(validateCellName(bad), bad);
  });
});
