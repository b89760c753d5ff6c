// The result toolbar's conversation with the extension, in Chromium: a capped
// result asks for a sort of the whole result (answered here with what DuckDB
// really returns for the sorted query), export requests, and charts (choice
// posted for the cell's metadata, a collaborator's choice followed), with
// light and dark screenshots of the charts.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import { DuckDbSession } from '../../extension/core/duckdbSession';
import type { ExtensionMessage, RendererRequest } from '../../extension/core/rendererMessages';
import type { ResultPayload } from '../../extension/core/resultPayload';
import { resultQuery, sortedQuery } from '../../extension/core/resultQueries';
import { applyTheme, launchChromium, openRendererPage, renderText } from './rendererPage';
import { bundleRenderer, repoRoot, startRendererServer, type RendererServer } from './rendererServer';

const CAPPED_SQL = `SELECT i::INTEGER AS id, ((i * 7919) % 1000)::INTEGER AS score, 'row ' || i AS label FROM range(1, 301) t(i)`;
const CHART_SQL = `SELECT DATE '2024-01-01' + i::INTEGER AS day, (50 + 30 * sin(i / 5.0))::DOUBLE AS trips, ['Bern', 'Basel', 'Zürich'][1 + i % 3] AS city
FROM range(0, 60) t(i)`;

function posted(page: Page): Promise<RendererRequest[]> {
  return page.evaluate(() => (window as unknown as { sqlroomPosted: RendererRequest[] }).sqlroomPosted);
}

async function lastPosted(page: Page, type: RendererRequest['type']): Promise<RendererRequest> {
  await page.waitForFunction((t) => (window as unknown as { sqlroomPosted: { type: string }[] }).sqlroomPosted.some((m) => m.type === t), type);
  return (await posted(page)).filter((m) => m.type === type).pop()!;
}

function receive(page: Page, message: ExtensionMessage): Promise<void> {
  return page.evaluate((m) => (window as unknown as { sqlroomReceive(m: unknown): void }).sqlroomReceive(m), message);
}

function column(page: Page, index: number): Promise<string[]> {
  return page.$$eval('.sqlroom-table tbody tr', (rows, i) => rows.map((r) => r.children[i].textContent ?? ''), index);
}

describe('notebook renderer: whole-result sort, export and charts in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let server: RendererServer;
  let page: Page;
  let errors: string[];
  let session: DuckDbSession;
  let capped: ResultPayload;
  let chartPayload: ResultPayload;
  const artifacts = path.join(repoRoot(), 'test-artifacts');

  before(async () => {
    session = await DuckDbSession.open({ rowCap: 60 });
    capped = { ...(await session.run(CAPPED_SQL)), cellId: 'cell-capped' };
    chartPayload = { ...(await session.run(CHART_SQL)), cellId: 'cell-chart' };
    server = await startRendererServer(await bundleRenderer());
    browser = await launchChromium();
    fs.mkdirSync(artifacts, { recursive: true });
  });
  after(async () => {
    await session?.close();
    await browser?.close();
    await server?.close();
  });
  beforeEach(async () => {
    ({ page, errors } = await openRendererPage(browser, `${server.url}?messaging=1`));
    await applyTheme(page, 'light');
  });
  afterEach(async () => {
    assert.deepStrictEqual(errors, [], 'the page logged errors');
    await page.close();
  });

  it('a capped result asks DuckDB to sort all rows; the arrow and order survive paging', async () => {
    assert.strictEqual(capped.truncated, true);
    await renderText(page, 'capped', JSON.stringify(capped));
    assert.deepStrictEqual(await lastPosted(page, 'hello'), { type: 'hello', cellId: 'cell-capped' });
    await page.click('.sqlroom-table thead th:nth-child(3)'); // score
    const request = (await lastPosted(page, 'sort')) as RendererRequest & { type: 'sort' };
    assert.deepStrictEqual({ ...request, requestId: '' }, { type: 'sort', requestId: '', cellId: 'cell-capped', sort: { column: 1, descending: false } });
    assert.strictEqual(await page.getAttribute('.sqlroom-table thead th:nth-child(3)', 'aria-sort'), 'ascending');
    assert.strictEqual(await page.getAttribute('.sqlroom-table', 'aria-busy'), 'true');
    assert.match((await page.textContent('.sqlroom-tool-status')) ?? '', /sorting all 300 rows by score ↑/);

    // What the extension does: the cell's query, sorted and limited in DuckDB.
    const sorted = await session.run(sortedQuery(resultQuery(CAPPED_SQL)!, capped.columns.map((c) => c.name), request.sort!, 60));
    await receive(page, { type: 'sorted', requestId: request.requestId, cellId: 'cell-capped', payload: { ...capped, rows: sorted.rows, sort: request.sort! } });
    await page.waitForFunction(() => document.querySelector('.sqlroom-table')?.getAttribute('aria-busy') === null);
    const all = Array.from({ length: 300 }, (_, k) => ((k + 1) * 7919) % 1000).sort((a, b) => a - b);
    assert.deepStrictEqual((await column(page, 2)).map(Number), all.slice(0, 50), 'the smallest scores of all 300 rows, not of the 60 kept');
    assert.match((await page.textContent('.sqlroom-tool-status')) ?? '', /sorted all 300 rows by score ↑ in DuckDB/);
    await page.click('button[data-action="next"]');
    assert.deepStrictEqual((await column(page, 2)).map(Number), all.slice(50, 60), 'page two continues the sorted rows');
    assert.strictEqual(await page.getAttribute('.sqlroom-table thead th:nth-child(3)', 'aria-sort'), 'ascending', 'the arrow stays when paging');
    await page.screenshot({ path: path.join(artifacts, 'renderer-sort-whole-light.png'), fullPage: true });

    // A stale answer (an older request) is ignored; an error falls back to the kept rows, saying so.
    await page.click('.sqlroom-table thead th:nth-child(3)'); // descending
    const second = (await lastPosted(page, 'sort')) as RendererRequest & { type: 'sort' };
    assert.deepStrictEqual(second.sort, { column: 1, descending: true });
    await receive(page, { type: 'sorted', requestId: request.requestId, cellId: 'cell-capped', payload: capped });
    assert.strictEqual(await page.getAttribute('.sqlroom-table', 'aria-busy'), 'true', 'still waiting for its own answer');
    await receive(page, { type: 'sorted', requestId: second.requestId, cellId: 'cell-capped', error: 'Run the cell again first' });
    await page.waitForFunction(() => /kept rows/.test(document.querySelector('.sqlroom-tool-status')?.textContent ?? ''));
    assert.match((await page.textContent('.sqlroom-tool-status')) ?? '', /the 60 kept rows; DuckDB could not sort them all: Run the cell again first/);
    const kept = capped.rows.map((r) => r[1] as number).sort((a, b) => b - a);
    assert.deepStrictEqual((await column(page, 2)).map(Number), kept.slice(0, 50));
    // Third click: back to the query's order, no request.
    const before = (await posted(page)).length;
    await page.click('.sqlroom-table thead th:nth-child(3)');
    assert.deepStrictEqual((await column(page, 1)).slice(0, 3), ['1', '2', '3']);
    assert.strictEqual((await posted(page)).length, before);
  });

  it('a complete result sorts in the page, without asking', async () => {
    const complete: ResultPayload = { ...capped, rows: capped.rows.slice(0, 40), rowCount: 40, truncated: false };
    await renderText(page, 'complete', JSON.stringify(complete));
    await page.click('.sqlroom-table thead th:nth-child(2)');
    await page.click('.sqlroom-table thead th:nth-child(2)');
    assert.deepStrictEqual((await column(page, 1)).slice(0, 2), ['40', '39']);
    assert.ok(!(await posted(page)).some((m) => m.type === 'sort'));
  });

  it('Export CSV and Export Parquet ask the extension for the whole result, in the shown order', async () => {
    await renderText(page, 'export', JSON.stringify(capped));
    assert.match((await page.getAttribute('.sqlroom-export-csv', 'title')) ?? '', /whole result \(300 rows\)/);
    await page.click('.sqlroom-export-csv');
    assert.deepStrictEqual(await lastPosted(page, 'export'), { type: 'export', cellId: 'cell-capped', format: 'csv', sort: null });
    assert.match((await page.textContent('.sqlroom-tool-status')) ?? '', /exporting 300 rows as CSV/);
    await receive(page, { type: 'status', cellId: 'cell-capped', text: 'exported 300 rows to result.csv' });
    assert.strictEqual(await page.textContent('.sqlroom-tool-status'), 'exported 300 rows to result.csv', 'how the export ended');
    await page.click('.sqlroom-table thead th:nth-child(2)');
    await page.click('.sqlroom-export-parquet');
    assert.deepStrictEqual(await lastPosted(page, 'export'), { type: 'export', cellId: 'cell-capped', format: 'parquet', sort: { column: 0, descending: false } });
    // Without the extension on the line (another viewer) there is nothing to export with.
    const plain = await openRendererPage(browser, server.url);
    await renderText(plain.page, 'plain', JSON.stringify(capped));
    assert.strictEqual(await plain.page.locator('.sqlroom-export').count(), 0);
    assert.strictEqual(await plain.page.locator('.sqlroom-show-chart').count(), 1, 'charts still work');
    await plain.page.close();
    assert.deepStrictEqual(plain.errors, []);
  });

  it('shows a chart (default from the types), posts each choice, follows a collaborator, back to the table', async () => {
    await renderText(page, 'chart', JSON.stringify(chartPayload));
    await page.click('.sqlroom-show-chart');
    await page.waitForSelector('.sqlroom-chart-plot svg');
    assert.deepStrictEqual(await lastPosted(page, 'chart'), { type: 'chart', cellId: 'cell-chart', chart: { mark: 'line', x: 'day', y: 'trips' } });
    assert.ok(await page.locator('.sqlroom-table-part').isHidden());
    assert.ok((await page.locator('.sqlroom-chart-plot svg [aria-label="line"] path').count()) > 0, 'a line is drawn');

    await page.selectOption('.sqlroom-chart-mark', 'bar');
    await page.selectOption('.sqlroom-chart-x', 'city');
    assert.deepStrictEqual((await lastPosted(page, 'chart') as { chart: unknown }).chart, { mark: 'bar', x: 'city', y: 'trips' });
    await page.waitForFunction(() => document.querySelectorAll('.sqlroom-chart-plot svg [aria-label="bar"] rect').length === 3);
    assert.match((await page.textContent('.sqlroom-chart-plot svg')) ?? '', /sum of trips/, 'one bar per city, adding up its rows');
    const ticks = await page.$$eval('.sqlroom-chart-plot svg [aria-label="x-axis tick label"] text', (els) => els.map((e) => e.textContent));
    assert.deepStrictEqual(ticks, ['Bern', 'Basel', 'Zürich'], 'categories in the order of the rows, not alphabetical');

    // A collaborator picks a histogram (the cell's metadata changed): this output follows.
    await receive(page, { type: 'chart', cellId: 'cell-chart', chart: { mark: 'histogram', x: 'trips' } });
    await page.waitForFunction(() => (document.querySelector('.sqlroom-chart-mark') as HTMLSelectElement | null)?.value === 'histogram');
    assert.ok(await page.locator('.sqlroom-chart-y').isHidden(), 'a histogram has no y');
    await receive(page, { type: 'chart', cellId: 'cell-other', chart: null });
    assert.ok(await page.locator('.sqlroom-chart').isVisible(), 'a message for another cell changes nothing');
    await page.click('.sqlroom-show-table');
    assert.deepStrictEqual((await lastPosted(page, 'chart') as { chart: unknown }).chart, null);
    assert.ok(await page.locator('.sqlroom-table-part').isVisible());
  });

  it('opens as the chart its payload names, and takes light and dark screenshots', async () => {
    for (const theme of ['light', 'dark'] as const) {
      await applyTheme(page, theme);
      for (const chart of [{ mark: 'line', x: 'day', y: 'trips' }, { mark: 'bar', x: 'city', y: 'trips' }] as const) {
        await renderText(page, `${theme}-${chart.mark}`, JSON.stringify({ ...chartPayload, chart }));
        await page.waitForSelector('.sqlroom-chart-plot svg');
        const colour = await page.$eval(`.sqlroom-chart-plot svg [aria-label="${chart.mark}"]`, (el, attr) => el.closest(`[${attr}]`)?.getAttribute(attr), chart.mark === 'line' ? 'stroke' : 'fill');
        assert.strictEqual(colour, theme === 'light' ? '#1a85ff' : '#3794ff', 'marks in the theme\'s chart colour');
        const text = await page.$eval('.sqlroom-chart-plot svg', (el) => getComputedStyle(el).color);
        assert.strictEqual(text, theme === 'light' ? 'rgb(59, 59, 59)' : 'rgb(204, 204, 204)', 'axes in the editor foreground');
        const file = path.join(artifacts, `renderer-chart-${chart.mark}-${theme}.png`);
        await page.screenshot({ path: file, fullPage: true });
        assert.ok(fs.statSync(file).size > 0);
      }
    }
  });
});
