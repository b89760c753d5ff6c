// The .sqlroom notebook in a real VS Code: open, edit, reorder, delete, name,
// save and reopen; corrupt files refused and left untouched; hand edits applied.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { parseSqlroomFile, serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { activateExtension, closeAllEditors, openNotebook, tempNotebookPath, waitFor, writeFile } from './notebookTestUtils';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const demo = fs.readFileSync(path.join(repoRoot, 'samples', 'demo.sqlroom'));

function savedCells(file: string) {
  return parseSqlroomFile(fs.readFileSync(file)).notebook.toData().cells;
}

function vsCells(nb: vscode.NotebookDocument) {
  return nb.getCells().map((c) => ({ id: c.metadata?.id as string, source: c.document.getText(), kind: c.kind === vscode.NotebookCellKind.Markup ? 'markup' : 'code' }));
}

async function idsWritten(nb: vscode.NotebookDocument): Promise<void> {
  await waitFor('cell ids in metadata', () => (nb.getCells().every((c) => typeof c.metadata?.id === 'string' && c.metadata.id !== '') ? true : undefined));
}

describe('.sqlroom notebooks in VS Code', function () {
  before(activateExtension);
  afterEach(closeAllEditors);

  it('opens a .sqlroom file in the notebook editor with ids, kinds, languages and names', async () => {
    const uri = writeFile(tempNotebookPath('open'), demo);
    const editor = await openNotebook(uri);
    const nb = editor.notebook;
    assert.strictEqual(nb.notebookType, 'sqlroom');
    assert.strictEqual(nb.cellCount, 4);
    assert.strictEqual(nb.cellAt(0).kind, vscode.NotebookCellKind.Markup);
    assert.strictEqual(nb.cellAt(0).document.languageId, 'markdown');
    assert.deepStrictEqual(nb.getCells().slice(1).map((c) => c.document.languageId), ['sql', 'sql', 'sql']);
    assert.strictEqual(nb.cellAt(1).metadata.id, 'c0a80001-0000-4000-8000-000000000002');
    assert.strictEqual(nb.cellAt(1).metadata.name, 'trips');
    assert.match(nb.cellAt(2).document.getText(), /FROM trips/);
    assert.strictEqual(nb.isDirty, false);
  });

  it('edits, inserts, deletes and reorders cells, saves, and reopens the same notebook', async () => {
    const file = tempNotebookPath('edit');
    const uri = writeFile(file, demo);
    const editor = await openNotebook(uri);
    const nb = editor.notebook;

    // Insert a SQL cell at the end and a markdown cell at the top.
    const insert = new vscode.WorkspaceEdit();
    insert.set(uri, [
      vscode.NotebookEdit.insertCells(4, [new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'SELECT 1 AS one; -- ünïcödé 🦆', 'sql')]),
      vscode.NotebookEdit.insertCells(0, [new vscode.NotebookCellData(vscode.NotebookCellKind.Markup, '## Added on top', 'markdown')]),
    ]);
    assert.ok(await vscode.workspace.applyEdit(insert));
    await idsWritten(nb);
    assert.strictEqual(nb.cellCount, 6);

    // Type into the cell that queries the view.
    const target = nb.cellAt(3);
    const textEdit = new vscode.WorkspaceEdit();
    textEdit.insert(target.document.uri, new vscode.Position(0, 0), '-- by city\n');
    assert.ok(await vscode.workspace.applyEdit(textEdit));

    // Delete the large-result cell (index 4 now).
    const del = new vscode.WorkspaceEdit();
    del.set(uri, [vscode.NotebookEdit.deleteCells(new vscode.NotebookRange(4, 5))]);
    assert.ok(await vscode.workspace.applyEdit(del));
    assert.strictEqual(nb.cellCount, 5);

    // Move the view cell (index 2) down one place with the editor's own command.
    const movedId = nb.cellAt(2).metadata.id as string;
    editor.selections = [new vscode.NotebookRange(2, 3)];
    await vscode.commands.executeCommand('notebook.cell.moveDown');
    await waitFor('the move', () => (nb.cellAt(3).metadata.id === movedId ? true : undefined));

    assert.ok(await nb.save(), 'save succeeded');
    const expected = vsCells(nb);
    const saved = savedCells(file).map((c) => ({ id: c.id, source: c.source, kind: c.kind }));
    assert.deepStrictEqual(saved, expected);
    assert.strictEqual(new Set(saved.map((c) => c.id)).size, saved.length, 'ids unique');
    assert.ok(saved.some((c) => c.id === 'c0a80001-0000-4000-8000-000000000002'), 'the moved cell kept its id');
    assert.match(saved[2].source, /^-- by city\nSELECT city/);
    assert.strictEqual(savedCells(file)[3].name, 'trips');

    // Close and reopen from disk: the same cells come back.
    await closeAllEditors();
    const reopened = await vscode.workspace.openNotebookDocument(uri);
    assert.deepStrictEqual(vsCells(reopened), expected);
  });

  it('names a cell with the Name Cell command and saves the name', async () => {
    const file = tempNotebookPath('name');
    const uri = writeFile(file, demo);
    const editor = await openNotebook(uri);
    const cell = editor.notebook.cellAt(2);
    await vscode.commands.executeCommand('sqlroom.setCellName', cell, 'by_city');
    assert.strictEqual(editor.notebook.cellAt(2).metadata.name, 'by_city');
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('sqlroom.setCellName', cell, 'bad name')), /Invalid cell name/);
    await vscode.commands.executeCommand('sqlroom.setCellName', editor.notebook.cellAt(1), '');
    assert.strictEqual(editor.notebook.cellAt(1).metadata.name, undefined);
    assert.ok(await editor.notebook.save());
    const saved = savedCells(file);
    assert.strictEqual(saved[2].name, 'by_city');
    assert.strictEqual(saved[1].name, undefined);
  });

  it('applies a hand edit of the plain cells as a new change', async () => {
    const nb = new NotebookDoc();
    const a = nb.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT 1' });
    nb.insertCell(1, { kind: 'code', language: 'sql', source: 'SELECT 2' });
    nb.commit({ message: 'initial' });
    const json = JSON.parse(new TextDecoder().decode(serializeSqlroomFile(nb, 'hand-edit-doc')));
    json.cells[0].source = ['SELECT 1 + 41 AS answer'];
    json.cells.reverse();
    const uri = writeFile(tempNotebookPath('hand'), JSON.stringify(json, null, 2));
    const doc = await vscode.workspace.openNotebookDocument(uri);
    assert.deepStrictEqual(doc.getCells().map((c) => c.document.getText()), ['SELECT 2', 'SELECT 1 + 41 AS answer']);
    assert.strictEqual(doc.cellAt(1).metadata.id, a);
  });

  describe('a damaged or foreign file', () => {
    const valid = new TextDecoder().decode(demo);
    const cases: { name: string; content: string | Uint8Array; message: RegExp }[] = [
      { name: 'garbage bytes', content: new Uint8Array([0xff, 0xfe, 0x00, 0x13, 0x37, 0xc3, 0x28]), message: /UTF-8|JSON/i },
      { name: 'truncated JSON', content: valid.slice(0, Math.floor(valid.length / 2)), message: /truncated|JSON/i },
      { name: 'a Jupyter notebook', content: JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }), message: /Jupyter|ipynb|not a SQLRoom/i },
      { name: 'a damaged Loro snapshot', content: valid.replace(/\n}\s*$/, ',\n  "loro": "bm90IGEgbG9ybyBzbmFwc2hvdA=="\n}\n'), message: /snapshot/i },
      { name: 'a newer format version', content: valid.replace('"version": 1', '"version": 99'), message: /version/i },
    ];
    for (const c of cases) {
      it(`${c.name}: refused with a clear error, file untouched`, async () => {
        const file = tempNotebookPath('corrupt');
        const uri = writeFile(file, c.content);
        const before = fs.readFileSync(file);
        await assert.rejects(Promise.resolve(vscode.workspace.openNotebookDocument(uri)), (err: Error) => {
          assert.match(err.message, c.message);
          assert.match(err.message, /SQLRoom cannot open this file/);
          return true;
        });
        assert.deepStrictEqual(fs.readFileSync(file), before, 'file bytes unchanged');
      });
    }
  });

  it('SQLRoom: New Notebook opens an untitled notebook with a SQL cell', async () => {
    const editor = (await vscode.commands.executeCommand('sqlroom.newNotebook')) as vscode.NotebookEditor;
    const nb = editor?.notebook ?? vscode.window.activeNotebookEditor?.notebook;
    assert.ok(nb, 'a notebook editor is open');
    assert.strictEqual(nb.notebookType, 'sqlroom');
    assert.strictEqual(nb.isUntitled, true);
    assert.ok(nb.getCells().some((c) => c.document.languageId === 'sql'));
    await idsWritten(nb);
    // Close without the save prompt (a dialog would block the run).
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
