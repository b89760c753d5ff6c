// What a SQL notebook user expects, in a real VS Code: a typo squiggled where
// DuckDB points (until the cell changes), results kept in the file and shown
// again as from an earlier run, relative paths beside the notebook, a
// read-only version without the live notebook's outputs, completion from the
// notebook's own DuckDB.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { formatVersion } from '../../server/shared/history/version';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { newDocId, parseSqlroomFile, serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { ERROR_MIME, RESULT_MIME } from '../../extension/core/resultPayload';
import { requestScreenshot } from '../support/screenshot';
import { activateExtension, closeAllEditors, errorOf, openNotebook, resultOf, runCells, sleep, tempNotebookPath, waitFor, writeFile } from './notebookTestUtils';

function notebookBytes(sources: string[], docId = newDocId()): { bytes: Uint8Array; docId: string; version: string } {
  const nb = new NotebookDoc();
  sources.forEach((source, i) => nb.insertCell(i, { kind: 'code', language: 'sql', source }));
  nb.commit({ message: 'cells' });
  return { bytes: serializeSqlroomFile(nb, docId), docId, version: formatVersion(nb.doc.frontiers()) };
}

function payloadOf(cell: vscode.NotebookCell): Record<string, unknown> | undefined {
  const item = cell.outputs.flatMap((o) => o.items).find((i) => i.mime === RESULT_MIME || i.mime === ERROR_MIME);
  return item ? (JSON.parse(new TextDecoder().decode(item.data)) as Record<string, unknown>) : undefined;
}

describe('SQL notebook: errors, kept results, files beside the notebook, completion', function () {
  this.timeout(180_000);
  before(activateExtension);
  afterEach(closeAllEditors);

  it('a typo shows an error block and a squiggle where DuckDB points, gone once the cell changes', async () => {
    const editor = await openNotebook(writeFile(tempNotebookPath('typo'), notebookBytes(['SELECT 1 AS a,\n  nope AS b\nFROM range(2)']).bytes));
    const [cell] = await runCells(editor, [0]);
    assert.strictEqual(cell.executionSummary?.success, false);
    const error = errorOf(cell)!;
    assert.strictEqual(error.title, 'Binder Error');
    assert.deepStrictEqual(error.position, { line: 1, column: 2 });
    assert.strictEqual(error.sourceLine, '  nope AS b');
    const diagnostics = await waitFor('the squiggle', () => {
      const d = vscode.languages.getDiagnostics(cell.document.uri);
      return d.length > 0 ? d : undefined;
    });
    assert.strictEqual(diagnostics.length, 1);
    assert.deepStrictEqual([diagnostics[0].range.start.line, diagnostics[0].range.start.character, diagnostics[0].range.end.character], [1, 2, 6]);
    assert.strictEqual(diagnostics[0].severity, vscode.DiagnosticSeverity.Error);
    assert.match(diagnostics[0].message, /^Binder Error: Referenced column "nope"/);
    editor.revealRange(new vscode.NotebookRange(0, 1), vscode.NotebookEditorRevealType.AtTop);
    await sleep(1500); // let the renderer paint for the screenshot
    await requestScreenshot('notebook-error-squiggle');

    const edit = new vscode.WorkspaceEdit();
    edit.replace(cell.document.uri, new vscode.Range(1, 2, 1, 6), 'a');
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitFor('the squiggle to go', () => (vscode.languages.getDiagnostics(cell.document.uri).length === 0 ? true : undefined));
  });

  it('keeps the last output of each cell in the file and shows it again as from an earlier run', async () => {
    const file = tempNotebookPath('kept');
    const uri = writeFile(file, notebookBytes(['SELECT 42 AS answer', 'SELEC 1', 'SELECT i FROM range(3) t(i)']).bytes);
    const editor = await openNotebook(uri);
    await runCells(editor, [0, 1]);
    assert.ok(editor.notebook.isDirty, 'a run marks the notebook changed, as in Jupyter');
    assert.ok(await editor.notebook.save());
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    const ids = editor.notebook.getCells().map((c) => String(c.metadata.id));
    assert.deepStrictEqual(Object.keys(saved.outputs), [ids[0], ids[1]], 'outputs of the cells that ran, by cell id');
    assert.deepStrictEqual(saved.outputs[ids[0]].data.rows, [[42]]);
    assert.strictEqual(saved.outputs[ids[1]].data.title, 'Parser Error');
    assert.ok(!parseSqlroomFile(fs.readFileSync(file)).reconciled, 'outputs are not edits of the notebook');

    // Another copy of the file (as a colleague gets it from git): a fresh read shows the kept outputs.
    const copy = writeFile(tempNotebookPath('kept-copy'), fs.readFileSync(file));
    await closeAllEditors();
    const reopened = await openNotebook(copy);
    const nb = reopened.notebook;
    const first = await waitFor('the kept result', () => payloadOf(nb.cellAt(0)));
    assert.deepStrictEqual(first.rows, [[42]]);
    assert.strictEqual((first.run as { kept?: boolean }).kept, true);
    assert.strictEqual(typeof (first.run as { ranBy?: string }).ranBy, 'string');
    assert.strictEqual(payloadOf(nb.cellAt(1))?.title, 'Parser Error');
    assert.strictEqual(payloadOf(nb.cellAt(2)), undefined, 'a cell that never ran has no output');
    await sleep(1500);
    await requestScreenshot('notebook-kept-results');
    // Running again replaces the kept output with a fresh one.
    const [again] = await runCells(reopened, [0]);
    assert.strictEqual(resultOf(again).run?.kept, undefined);
  });

  it('a read-only version shows no outputs of the live notebook and resolves relative paths beside it', async () => {
    const file = tempNotebookPath('version-paths');
    const dir = path.dirname(file);
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'data', 'trips.csv'), 'city,n\nBern,2\nZürich,3\n');
    const { bytes, docId, version } = notebookBytes(["SELECT sum(n)::INTEGER AS total FROM 'data/trips.csv'"]);
    const editor = await openNotebook(writeFile(file, bytes));
    const [cell] = await runCells(editor, [0]);
    assert.deepStrictEqual(resultOf(cell).rows, [[5]], 'the relative path resolves beside the notebook');
    assert.ok(payloadOf(editor.notebook.cellAt(0)), 'the live notebook has an output');

    const uriText = await vscode.commands.executeCommand<string>('sqlroom.openVersion', docId, version);
    const versionDoc = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === uriText);
    assert.ok(versionDoc, 'the version is open');
    assert.strictEqual(payloadOf(versionDoc.cellAt(0)), undefined, 'no stale output in the version');
    const versionEditor = await vscode.window.showNotebookDocument(versionDoc);
    await vscode.commands.executeCommand('notebook.selectKernel', { notebookEditor: versionEditor, id: 'sqlroom-duckdb', extension: 'sqlroom.sqlroom' });
    const [ran] = await runCells(versionEditor, [0]);
    assert.deepStrictEqual(resultOf(ran).rows, [[5]], 'the version resolves the path beside the live notebook');
  });

  it('completes tables, named cells and their columns from the notebook\'s DuckDB, and hovers show columns', async () => {
    const nb = new NotebookDoc();
    nb.insertCell(0, { kind: 'code', language: 'sql', source: 'CREATE OR REPLACE TABLE trips AS SELECT 1 AS trip_id, 2.5 AS fare_amount' });
    nb.insertCell(1, { kind: 'code', language: 'sql', source: 'SELECT trip_id AS ride FROM trips', name: 'rides' });
    nb.insertCell(2, { kind: 'code', language: 'sql', source: 'SELECT fare FROM trips' });
    nb.commit();
    const editor = await openNotebook(writeFile(tempNotebookPath('complete'), serializeSqlroomFile(nb, newDocId())));
    await runCells(editor, [0, 1]);
    const doc = editor.notebook.cellAt(2).document;
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, new vscode.Position(0, 11));
    const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    assert.ok(labels.includes('fare_amount'), `fare_amount offered: ${labels.slice(0, 30).join(', ')}`);
    const atFrom = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, new vscode.Position(0, 22));
    const tables = atFrom.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    assert.ok(tables.includes('trips') && tables.includes('rides'), `tables and named cells offered: ${tables.slice(0, 30).join(', ')}`);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 19));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');
    assert.match(text, /trips/);
    assert.match(text, /fare_amount/);
    assert.match(text, /DECIMAL/);
  });
});
