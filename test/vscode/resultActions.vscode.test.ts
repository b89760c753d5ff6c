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
import { HeadlessPeer } from './collabPeer';
import { activateExtension, closeAllEditors, openNotebook, resultOf, runCells, setEmbeddedServer, sqlroomApi, tempNotebookPath, waitFor, writeFile } from './notebookTestUtils';

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
  afterEach(closeAllEditors);
  after(async () => {
    await config().update('maxResultRows', undefined, vscode.ConfigurationTarget.Workspace);
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

  it('a result kept from an earlier run sorts its kept rows and says why; export asks to run the cell again', async () => {
    const nb = new NotebookDoc();
    nb.insertCell(0, { kind: 'code', language: 'sql', source: SQL });
    nb.commit();
    const file = tempNotebookPath('kept-sort');
    const editor = await openNotebook(writeFile(file, serializeSqlroomFile(nb, newDocId())));
    await runCells(editor, [0]);
    assert.ok(await editor.notebook.save());
    await closeAllEditors();
    // A copy of the file (as a colleague gets it): its output is from an earlier run, no query behind it here.
    const copy = writeFile(tempNotebookPath('kept-sort-copy'), fs.readFileSync(file));
    const reopened = await openNotebook(copy);
    await waitFor('the kept result', () => (reopened.notebook.cellAt(0).outputs.length > 0 ? true : undefined));
    await ui({ do: 'click', frame: 'output', selector: '.sqlroom-table thead th:nth-child(3)' });
    await ui({ do: 'wait', frame: 'output', selector: '.sqlroom-tool-status', hasText: 'the 50 kept rows; DuckDB could not sort them all: Run the cell again first' });
    const shown = await ui({ do: 'texts', frame: 'output', selector: '.sqlroom-table tbody tr td:nth-child(3)' });
    const kept = resultOf(reopened.notebook.cellAt(0)).rows.map((r) => r[1] as number).sort((a, b) => a - b);
    assert.deepStrictEqual(shown.texts!.map(Number), kept, 'the kept rows, sorted');
    await ui({ do: 'click', frame: 'output', selector: '.sqlroom-export-csv' });
    await ui({ do: 'wait', selector: '.notifications-toasts', hasText: 'Run the cell again first' });
    await ui({ do: 'wait', frame: 'output', selector: '.sqlroom-tool-status', hasText: 'not exported: run the cell again first' });
  });

  it('a collaborator\'s chart choice shows in this window\'s output, and a choice made here reaches them', async () => {
    await setEmbeddedServer(true);
    const peers: HeadlessPeer[] = [];
    try {
      const nb = new NotebookDoc();
      nb.insertCell(0, { kind: 'code', language: 'sql', source: "SELECT * FROM (VALUES ('Bern', 3), ('Basel', 5), ('Zürich', 4)) t(city, n)" });
      nb.commit();
      const docId = newDocId();
      const editor = await openNotebook(writeFile(tempNotebookPath('chart-collab'), serializeSqlroomFile(nb, docId)));
      const api = await sqlroomApi();
      const session = await api.collab.sessionFor(editor.notebook);
      assert.ok(session, 'the notebook joined the local sync server');
      await session.client.whenSynced();
      const [cell] = await runCells(editor, [0]);
      await ui({ do: 'wait', frame: 'output', selector: '.sqlroom-show-chart' });

      const robot = new HeadlessPeer(session.endpoint.url, docId, 'robot', session.endpoint.token);
      peers.push(robot);
      await waitFor('the colleague to receive the notebook', () => (robot.cells().length === 1 ? true : undefined));
      robot.edit((cells) => {
        cells[0].metadata = { ...cells[0].metadata, chart: { mark: 'bar', x: 'city', y: 'n' } };
      });
      await waitFor('the colleague\'s chart in the cell metadata', () => (cell.metadata.chart ? true : undefined));
      await ui({ do: 'wait', frame: 'output', selector: '.sqlroom-chart[data-mark="bar"]' });
      await ui({ do: 'wait', frame: 'output', selector: '.sqlroom-chart-plot svg [aria-label="bar"]' });
      await requestScreenshot('result-chart-from-colleague');

      await ui({ do: 'select', frame: 'output', selector: '.sqlroom-chart-mark', value: 'line' });
      await waitFor('the colleague to see the line chart', () => {
        robot.drain();
        const chart = robot.cells()[0].metadata.chart as { mark?: string } | undefined;
        return chart?.mark === 'line' ? chart : undefined;
      });
      assert.deepStrictEqual(robot.cells()[0].metadata.chart, { mark: 'line', x: 'city', y: 'n' });
    } finally {
      for (const p of peers) p.close();
      await closeAllEditors();
      await setEmbeddedServer(false);
    }
  });
});
