// The result toolbar in a real VS Code (code-server), driven through the UI
// with the harness's Playwright page: a capped result sorted by clicking its
// header (the whole result, sorted in the notebook's DuckDB), exported to CSV
// through the save dialog and read back, and switched to a chart whose choice
// lands in the cell's metadata and the notebook's Loro document.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { readSqlroomMetadata } from '../../extension/core/notebookMapping';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { newDocId, serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { requestScreenshot } from '../support/screenshot';
import { ui, uiAvailable } from '../support/uiDriver';
import { activateExtension, closeAllEditors, openNotebook, resultOf, runCells, sqlroomApi, tempNotebookPath, waitFor, writeFile } from './notebookTestUtils';

const SQL = 'SELECT i::INTEGER AS id, ((i * 7919) % 1000)::INTEGER AS score\nFROM range(1, 301) t(i)';
const SCORES = Array.from({ length: 300 }, (_, k) => ((k + 1) * 7919) % 1000).sort((a, b) => a - b);

describe('SQL notebook: sort the whole result, export, chart (through the UI)', function () {
  this.timeout(300_000);
  const config = () => vscode.workspace.getConfiguration('sqlroom');
  before(async function () {
    if (!uiAvailable()) this.skip(); // the desktop route has no Playwright page to drive
    await activateExtension();
    await config().update('maxResultRows', 50, vscode.ConfigurationTarget.Workspace);
  });
  after(async () => {
    await config().update('maxResultRows', undefined, vscode.ConfigurationTarget.Workspace);
    await closeAllEditors();
  });

  it('sorts a capped result by its header, exports it to CSV, and shows it as a chart kept in the cell', async () => {
    const nb = new NotebookDoc();
    nb.insertCell(0, { kind: 'code', language: 'sql', source: SQL });
    nb.commit();
    const file = tempNotebookPath('toolbar');
    const editor = await openNotebook(writeFile(file, serializeSqlroomFile(nb, newDocId())));
    const [cell] = await runCells(editor, [0]);
    const result = resultOf(cell);
    assert.strictEqual(result.truncated, true);
    assert.strictEqual(result.rows.length, 50);

    // Sort: a click on the score header; DuckDB sorts all 300 rows.
    await ui({ do: 'click', frame: 'output', selector: '.sqlroom-table thead th:nth-child(3)' });
    await ui({ do: 'wait', frame: 'output', selector: '.sqlroom-tool-status', hasText: 'sorted all 300 rows by score ↑ in DuckDB' });
    const shown = await ui({ do: 'texts', frame: 'output', selector: '.sqlroom-table tbody tr td:nth-child(3)' });
    assert.deepStrictEqual(shown.texts!.map(Number), SCORES.slice(0, 50), 'the smallest scores of the whole result, not of the 50 kept');
    await ui({ do: 'wait', frame: 'output', selector: '.sqlroom-table thead th[aria-sort="ascending"]', hasText: 'score' });
    await requestScreenshot('result-sorted-whole');

    // Export: the button, the save dialog (VS Code's own, a quick input in the browser), the notification.
    const target = path.join(path.dirname(file), `export-${process.pid}-${Date.now()}.csv`);
    await ui({ do: 'click', frame: 'output', selector: '.sqlroom-export-csv' });
    await ui({ do: 'fill', selector: '.quick-input-widget .quick-input-box input', value: target });
    await ui({ do: 'wait', selector: '.notifications-toasts', hasText: 'Exported 300 rows' });
    await ui({ do: 'wait', frame: 'output', selector: '.sqlroom-tool-status', hasText: 'exported 300 rows to export-' });
    await requestScreenshot('result-exported');
    const api = await sqlroomApi();
    assert.deepStrictEqual(api.results.exports.at(-1), { file: target, rows: 300 });
    const lines = fs.readFileSync(target, 'utf8').trim().split('\n');
    assert.strictEqual(lines[0], 'id,score');
    assert.strictEqual(lines.length, 301, 'every row, not only the 50 kept');
    assert.deepStrictEqual(lines.slice(1, 4).map((l) => Number(l.split(',')[1])), SCORES.slice(0, 3), 'in the order shown');

    // Chart: default from the types (two numbers: a scatter), then a bar chart; the choice is cell metadata and in Loro.
    await ui({ do: 'click', frame: 'output', selector: '.sqlroom-show-chart' });
    await ui({ do: 'wait', frame: 'output', selector: '.sqlroom-chart-plot svg' });
    await waitFor('the chart choice in the cell metadata', () => (cell.metadata.chart ? cell.metadata.chart : undefined));
    assert.deepStrictEqual(cell.metadata.chart, { mark: 'point', x: 'id', y: 'score' });
    await ui({ do: 'select', frame: 'output', selector: '.sqlroom-chart-mark', value: 'histogram' });
    await waitFor('the histogram choice', () => ((cell.metadata.chart as { mark?: string }).mark === 'histogram' ? true : undefined));
    assert.deepStrictEqual(cell.metadata.chart, { mark: 'histogram', x: 'id' });
    await api.tracker.whenIdle(editor.notebook);
    const docId = readSqlroomMetadata(editor.notebook.metadata)!.docId;
    const loroCell = api.registry.get(docId)!.toData().cells[0];
    assert.deepStrictEqual(loroCell.metadata.chart, { mark: 'histogram', x: 'id' }, 'the choice is in the Loro document collaborators sync');
    await requestScreenshot('result-chart');

    // Running again keeps the chart: the new output opens as the histogram.
    const [again] = await runCells(editor, [0]);
    assert.deepStrictEqual(resultOf(again).chart, { mark: 'histogram', x: 'id' });
    await ui({ do: 'wait', frame: 'output', selector: '.sqlroom-chart-mark' });
    await ui({ do: 'click', frame: 'output', selector: '.sqlroom-show-table' });
    await waitFor('the chart choice to go', () => (cell.metadata.chart === undefined ? true : undefined));
  });
});
