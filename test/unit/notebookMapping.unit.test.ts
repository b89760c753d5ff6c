import * as assert from 'assert';
import { cellFromVs, cellToVs, fillMissingIdsByPosition, notebookFromVs, readSqlroomMetadata, validateCellName, VSCODE_CODE, VSCODE_MARKUP } from '../../extension/core/notebookMapping';
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

  it('accepts plain identifiers as cell names and explains what is wrong otherwise', () => {
    for (const ok of ['', 'trips', '_t1', 'A_b_9']) assert.strictEqual(validateCellName(ok), undefined, ok);
    for (const bad of ['1abc', 'has space', 'quo"te', 'drop;table', 'ä', 'x'.repeat(64)]) assert.ok(validateCellName(bad), bad);
  });
});
