// The "SQLRoom DuckDB" kernel in a real VS Code: results in our renderer's
// format, named cells as views, errors, cancellation, capping, run all.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { newDocId, serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { requestScreenshot } from '../support/screenshot';
import { activateExtension, closeAllEditors, errorOf, openNotebook, resultOf, runCells, sleep, tempNotebookPath, waitFor, writeFile } from './notebookTestUtils';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

function notebookFile(sources: (string | { source: string; name?: string })[], meta: Record<string, unknown> = {}): vscode.Uri {
  const nb = new NotebookDoc();
  sources.forEach((s, i) => {
    const cell = typeof s === 'string' ? { source: s } : s;
    nb.insertCell(i, { kind: 'code', language: 'sql', source: cell.source, ...(cell.name ? { name: cell.name } : {}) });
  });
  for (const [k, v] of Object.entries(meta)) nb.setMeta(k, v);
  nb.commit();
  return writeFile(tempNotebookPath('kernel'), serializeSqlroomFile(nb, newDocId()));
}

describe('SQLRoom DuckDB kernel', function () {
  this.timeout(120_000);
  before(activateExtension);
  afterEach(closeAllEditors);

  it('runs a SQL cell and shows typed columns and rows', async () => {
    const editor = await openNotebook(notebookFile(["SELECT 42::INTEGER AS answer, 'héllo 🦆' AS greeting, DATE '2026-11-25' AS day, NULL::DOUBLE AS nothing"]));
    const [cell] = await runCells(editor, [0]);
    assert.strictEqual(cell.executionSummary?.success, true);
    const r = resultOf(cell);
    assert.deepStrictEqual(r.columns, [
      { name: 'answer', type: 'INTEGER' },
      { name: 'greeting', type: 'VARCHAR' },
      { name: 'day', type: 'DATE' },
      { name: 'nothing', type: 'DOUBLE' },
    ]);
    assert.deepStrictEqual(r.rows, [[42, 'héllo 🦆', '2026-11-25', null]]);
    assert.strictEqual(r.rowCount, 1);
    assert.ok(cell.outputs[0].items.some((i) => i.mime === 'text/plain'), 'a text/plain fallback exists');
    const first = cell.executionSummary?.executionOrder ?? 0;
    const [again] = await runCells(editor, [0]);
    assert.strictEqual(again.executionSummary?.executionOrder, first + 1, 'execution order increments');
  });

  it('is the default kernel: a cell runs without picking a kernel first', async () => {
    const doc = await vscode.workspace.openNotebookDocument(notebookFile(['SELECT 3 AS three']));
    const editor = await vscode.window.showNotebookDocument(doc);
    const [cell] = await runCells(editor, [0]);
    assert.deepStrictEqual(resultOf(cell).rows, [[3]]);
  });

  it('turns a named cell into a view that later cells query', async () => {
    const editor = await openNotebook(notebookFile([{ source: 'SELECT i, i * 2 AS doubled FROM range(10) t(i)', name: 'numbers' }, 'SELECT sum(doubled) AS total FROM numbers']));
    const cells = await runCells(editor, [0, 1]);
    assert.strictEqual(resultOf(cells[0]).view, 'numbers');
    const total = resultOf(cells[1]);
    assert.strictEqual(total.rows.length, 1);
    assert.strictEqual(Number(total.rows[0][0]), 90); // sum(BIGINT) is a HUGEINT: may arrive as a string
  });

  it('shows a SQL error as an error output and keeps working', async () => {
    const editor = await openNotebook(notebookFile(['SELECT * FROM no_such_table', 'SELECT 1 AS ok']));
    const [bad] = await runCells(editor, [0]);
    assert.strictEqual(bad.executionSummary?.success, false);
    const err = errorOf(bad);
    assert.ok(err, 'an error output');
    assert.match(err.message, /Catalog Error.*no_such_table/s);
    const [good] = await runCells(editor, [1]);
    assert.strictEqual(good.executionSummary?.success, true);
    assert.deepStrictEqual(resultOf(good).rows, [[1]]);
  });

  it('cancels a long query through interrupt and stays usable', async () => {
    const editor = await openNotebook(notebookFile(['SELECT count(*) FROM range(10000000000)', 'SELECT 7 AS after_cancel']));
    const nb = editor.notebook;
    const orderBefore = nb.cellAt(0).executionSummary?.executionOrder;
    void vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: 0, end: 1 }], document: nb.uri });
    await sleep(1500);
    const started = Date.now();
    await vscode.commands.executeCommand('notebook.cell.cancelExecution', { ranges: [{ start: 0, end: 1 }], document: nb.uri });
    const cell = await waitFor('the cancelled cell to end', () => {
      const c = nb.cellAt(0);
      return c.executionSummary?.timing?.endTime !== undefined && c.executionSummary.executionOrder !== orderBefore ? c : undefined;
    });
    console.log(`      (cancel took ${Date.now() - started} ms)`);
    assert.strictEqual(cell.executionSummary?.success, false);
    assert.strictEqual(errorOf(cell)?.name, 'Cancelled');
    const [after] = await runCells(editor, [1]);
    assert.deepStrictEqual(resultOf(after).rows, [[7]]);
  });

  it('caps large results and says how many rows there were', async () => {
    const editor = await openNotebook(notebookFile(['SELECT i FROM range(25000) t(i)']));
    const [cell] = await runCells(editor, [0]);
    const r = resultOf(cell);
    assert.strictEqual(r.rows.length, 10_000);
    assert.strictEqual(r.rowCount, 25_000);
    assert.strictEqual(r.truncated, true);
    const text = new TextDecoder().decode(cell.outputs[0].items.find((i) => i.mime === 'text/plain')!.data);
    assert.match(text, /showing 10,000 of 25,000 rows/);
  });

  it('runs on the database file the notebook names', async () => {
    const uri = notebookFile(['CREATE OR REPLACE TABLE kept AS SELECT 5 AS v', 'SELECT v FROM kept'], { database: 'kernel-test.duckdb' });
    const editor = await openNotebook(uri);
    const cells = await runCells(editor, [0, 1]);
    assert.deepStrictEqual(resultOf(cells[1]).rows, [[5]]);
    assert.ok(fs.existsSync(path.join(path.dirname(uri.fsPath), 'kernel-test.duckdb')), 'database file created beside the notebook');
  });

  it('runs the cells above, and a cell and those below it, with the editor commands', async () => {
    const editor = await openNotebook(notebookFile(['SELECT 1 AS a', 'SELECT 2 AS b', 'SELECT 3 AS c', 'SELECT 4 AS d']));
    const nb = editor.notebook;
    const ran = () => nb.getCells().map((c) => c.executionSummary?.timing?.endTime !== undefined);
    editor.selections = [new vscode.NotebookRange(2, 3)];
    await vscode.commands.executeCommand('notebook.cell.executeCellsAbove');
    await waitFor('cells above to run', () => (ran()[0] && ran()[1] ? true : undefined));
    assert.deepStrictEqual(ran(), [true, true, false, false]);
    editor.selections = [new vscode.NotebookRange(2, 3)];
    await vscode.commands.executeCommand('notebook.cell.executeCellAndBelow');
    await waitFor('cell and below to run', () => (ran().every(Boolean) ? true : undefined));
    assert.deepStrictEqual(nb.getCells().map((c) => resultOf(c).rows[0][0]), [1, 2, 3, 4]);
  });

  it('uses the sqlroom.database setting when the notebook names no database', async () => {
    const config = vscode.workspace.getConfiguration('sqlroom');
    await config.update('database', 'from-setting.duckdb', vscode.ConfigurationTarget.Workspace);
    try {
      const uri = notebookFile(['CREATE OR REPLACE TABLE t AS SELECT 1 AS x', 'SELECT current_database() AS db']);
      const editor = await openNotebook(uri);
      const cells = await runCells(editor, [0, 1]);
      assert.deepStrictEqual(resultOf(cells[1]).rows, [['from-setting']]);
      assert.ok(fs.existsSync(path.join(path.dirname(uri.fsPath), 'from-setting.duckdb')));
    } finally {
      await config.update('database', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('runs all cells of the demo notebook (Run All)', async () => {
    const uri = writeFile(tempNotebookPath('demo'), fs.readFileSync(path.join(repoRoot, 'samples', 'demo.sqlroom')));
    const editor = await openNotebook(uri);
    const nb = editor.notebook;
    await vscode.commands.executeCommand('notebook.execute', nb.uri);
    const codeCells = nb.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code);
    await waitFor('all cells to run', () => (codeCells.every((c) => c.executionSummary?.timing?.endTime !== undefined) ? true : undefined), 60_000);
    for (const c of codeCells) assert.strictEqual(c.executionSummary?.success, true, `cell ${c.index} succeeded`);
    const byCity = resultOf(nb.cellAt(2));
    assert.strictEqual(byCity.rowCount, 5);
    assert.strictEqual(byCity.rows.reduce((n, r) => n + Number(r[1]), 0), 5000);
    assert.strictEqual(resultOf(nb.cellAt(3)).rowCount, 25_000);
    editor.revealRange(new vscode.NotebookRange(1, 3), vscode.NotebookEditorRevealType.AtTop);
    await sleep(1500); // let the renderer paint for the screenshot
    await requestScreenshot('notebook-results');
  });
});
