// The notebook renderer (media/renderer) in headless Chromium, fed real
// kernel output: DuckDbSession (the kernel's execution core) runs a query of
// mixed types, 1,234 rows capped at 1,000.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import type { ResultPayload } from '../../extension/core/resultPayload';
import { DuckDbSession } from '../../extension/core/duckdbSession';
import { applyTheme, launchChromium, openRendererPage, renderText } from './rendererPage';
import { bundleRenderer, repoRoot, startRendererServer, type RendererServer } from './rendererServer';

const MIXED_SQL = `
SELECT
  i::INTEGER AS id,
  (i * 1.25)::DECIMAL(10,2) AS amount,
  i * 1000000007 AS big,
  CASE WHEN i % 7 = 0 THEN NULL ELSE 'Zürich ' || i || ' — 東京 🦆' END AS label,
  DATE '2024-01-01' + i::INTEGER AS day,
  [i, i + 1, i + 2] AS tags,
  {'n': i, 'tag': 'x' || (i % 3)} AS info,
  CASE WHEN i % 5 = 0 THEN NULL ELSE i / 8 END AS ratio,
  i % 2 = 0 AS even,
  CASE WHEN i = 1 THEN repeat('long text ', 20) ELSE 'short' END AS note
FROM range(1, 1235) t(i)
ORDER BY i`;

const ROW_CAP = 1000;

/** Text of every cell in one column of the visible body (0 = row number). */
function columnTexts(page: Page, index: number): Promise<string[]> {
  return page.$$eval('.sqlroom-table tbody tr', (rows, i) => rows.map((r) => r.children[i].textContent ?? ''), index);
}

function rangeText(page: Page): Promise<string> {
  return page.textContent('.sqlroom-pager-range').then((t) => t ?? '');
}

describe('notebook renderer in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let server: RendererServer;
  let page: Page;
  let errors: string[];
  let payload: ResultPayload;
  let session: DuckDbSession;

  before(async () => {
    session = await DuckDbSession.open();
    payload = await session.run(MIXED_SQL, { rowCap: ROW_CAP });
    server = await startRendererServer(await bundleRenderer());
    browser = await launchChromium();
    ({ page, errors } = await openRendererPage(browser, server.url));
  });

  after(async () => {
    await session?.close();
    await browser?.close();
    await server?.close();
  });

  beforeEach(async () => {
    await applyTheme(page, 'light');
    await renderText(page, 'mixed', JSON.stringify(payload));
  });

  afterEach(() => {
    assert.deepStrictEqual(errors, [], 'the page logged errors');
  });

  it('gets a capped payload from DuckDB (sanity of the input)', () => {
    assert.strictEqual(payload.rowCount, 1234);
    assert.strictEqual(payload.rows.length, ROW_CAP);
    assert.strictEqual(payload.truncated, true);
  });

  it('shows each column name with its DuckDB type', async () => {
    const headers = await page.$$eval('.sqlroom-table thead th:not(.sqlroom-rownum)', (ths) =>
      ths.map((th) => ({
        name: th.querySelector('.sqlroom-col-name')?.textContent,
        type: th.querySelector('.sqlroom-col-type')?.textContent,
      })),
    );
    assert.deepStrictEqual(headers.map((h) => h.name), ['id', 'amount', 'big', 'label', 'day', 'tags', 'info', 'ratio', 'even', 'note']);
    assert.deepStrictEqual(headers.map((h) => h.type), payload.columns.map((c) => c.type));
    assert.deepStrictEqual(headers.slice(0, 5).map((h) => h.type), ['INTEGER', 'DECIMAL(10,2)', 'BIGINT', 'VARCHAR', 'DATE']);
    assert.strictEqual(headers[5].type, 'BIGINT[]');
    assert.match(headers[6].type ?? '', /^STRUCT\(/);
  });

  it('says how many rows were kept out of how many, and the time taken', async () => {
    const summary = await page.textContent('.sqlroom-summary-line');
    assert.match(summary ?? '', /showing 1,000 of 1,234 rows \(capped by sqlroom\.maxResultRows\)/);
    assert.match(summary ?? '', /\d+(\.\d+)? (ms|s)/);
  });

  it('puts only the first page of 50 rows in the DOM', async () => {
    assert.strictEqual(await page.$$eval('.sqlroom-table tbody tr', (rows) => rows.length), 50);
    const ids = await columnTexts(page, 1);
    assert.strictEqual(ids[0], '1');
    assert.strictEqual(ids[49], '50');
    assert.strictEqual(await rangeText(page), 'rows 1–50 of 1,000');
    assert.strictEqual(await page.isDisabled('button[data-action="prev"]'), true);
    assert.strictEqual(await page.isDisabled('button[data-action="first"]'), true);
  });

  it('pages with Next, Last and First', async () => {
    await page.click('button[data-action="next"]');
    assert.strictEqual(await rangeText(page), 'rows 51–100 of 1,000');
    let ids = await columnTexts(page, 1);
    assert.deepStrictEqual([ids.length, ids[0], ids[49]], [50, '51', '100']);
    assert.deepStrictEqual((await columnTexts(page, 0)).slice(0, 2), ['51', '52']);

    await page.click('button[data-action="last"]');
    assert.strictEqual(await rangeText(page), 'rows 951–1,000 of 1,000');
    ids = await columnTexts(page, 1);
    assert.deepStrictEqual([ids.length, ids[0], ids[49]], [50, '951', '1000']);
    assert.strictEqual(await page.isDisabled('button[data-action="next"]'), true);
    assert.strictEqual(await page.isDisabled('button[data-action="last"]'), true);

    await page.click('button[data-action="prev"]');
    assert.strictEqual((await columnTexts(page, 1))[0], '901');
    await page.click('button[data-action="first"]');
    assert.strictEqual((await columnTexts(page, 1))[0], '1');
  });

  it('changes the page size and keeps the first visible row', async () => {
    await page.selectOption('.sqlroom-pager-size select', '500');
    assert.strictEqual(await page.$$eval('.sqlroom-table tbody tr', (rows) => rows.length), 500);
    assert.strictEqual(await rangeText(page), 'rows 1–500 of 1,000');

    await page.selectOption('.sqlroom-pager-size select', '50');
    await page.click('button[data-action="next"]'); // rows 51–100
    await page.selectOption('.sqlroom-pager-size select', '25');
    assert.strictEqual(await rangeText(page), 'rows 51–75 of 1,000');
    const ids = await columnTexts(page, 1);
    assert.deepStrictEqual([ids.length, ids[0], ids[24]], [25, '51', '75']);
  });

  it('pages from the keyboard with real buttons', async () => {
    await page.focus('button[data-action="next"]');
    await page.keyboard.press('Enter');
    assert.strictEqual(await rangeText(page), 'rows 51–100 of 1,000');
    await page.keyboard.press('Space');
    assert.strictEqual(await rangeText(page), 'rows 101–150 of 1,000');
    assert.strictEqual(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.action), 'next');
  });

  it('shows NULL muted and italic, distinct from text', async () => {
    // Row 7 has a NULL label; row 5 a NULL ratio.
    const cell = await page.$eval('.sqlroom-table tbody tr:nth-child(7) td:nth-of-type(4)', (td) => ({
      text: td.textContent,
      cls: td.className,
      style: getComputedStyle(td).fontStyle,
      color: getComputedStyle(td).color,
    }));
    assert.deepStrictEqual([cell.text, cell.cls, cell.style], ['NULL', 'sqlroom-null', 'italic']);
    const text = await page.$eval('.sqlroom-table tbody tr:nth-child(6) td:nth-of-type(4)', (td) => ({
      style: getComputedStyle(td).fontStyle,
      color: getComputedStyle(td).color,
    }));
    assert.strictEqual(text.style, 'normal');
    assert.notStrictEqual(cell.color, text.color);
    const ratio = await page.$eval('.sqlroom-table tbody tr:nth-child(5) td:nth-of-type(8)', (td) => td.textContent);
    assert.strictEqual(ratio, 'NULL');
  });

  it('right-aligns numbers and left-aligns text', async () => {
    const align = await page.$$eval('.sqlroom-table tbody tr:first-child td', (tds) => tds.map((td) => getComputedStyle(td).textAlign));
    // id, amount, big, label, day, tags, info, ratio, even, note
    assert.deepStrictEqual(align, ['right', 'right', 'right', 'left', 'left', 'left', 'left', 'right', 'left', 'left']);
    const headAlign = await page.$$eval('.sqlroom-table thead th:not(.sqlroom-rownum)', (ths) => ths.map((th) => getComputedStyle(th).textAlign));
    assert.deepStrictEqual(headAlign.slice(0, 4), ['right', 'right', 'right', 'left']);
  });

  it('shows values of each type: unicode text, decimals, big integers, dates, lists, structs', async () => {
    const first = await page.$$eval('.sqlroom-table tbody tr:first-child td', (tds) => tds.map((td) => td.textContent));
    assert.deepStrictEqual(first.slice(0, 9), ['1', '1.25', '1000000007', 'Zürich 1 — 東京 🦆', '2024-01-02', '[1, 2, 3]', "{'n': 1, 'tag': x1}", '0.125', 'false']);
  });

  it('shortens long text and keeps the full value in the tooltip', async () => {
    const note = await page.$eval('.sqlroom-table tbody tr:first-child td:nth-of-type(10)', (td) => ({ text: td.textContent ?? '', title: td.getAttribute('title') ?? '' }));
    assert.strictEqual(note.title, 'long text '.repeat(20));
    assert.ok(note.text.endsWith('…'), note.text);
    assert.ok(note.text.length < note.title.length);
    assert.ok(note.title.startsWith(note.text.slice(0, -1)));
  });

  it('says when a statement returned no rows, and names a saved view', async () => {
    const noRows = await session.run('-- a cell with no statement');
    assert.deepStrictEqual(noRows.columns, []);
    await renderText(page, 'ddl', JSON.stringify(noRows));
    assert.strictEqual(await page.textContent('.sqlroom-count'), 'Statement ran (no rows)');
    assert.strictEqual(await page.$('.sqlroom-table'), null);

    const named = await session.run("SELECT 42 AS answer, MAP {'k': 1} AS m", { viewName: 'top_customers' });
    await renderText(page, 'view', JSON.stringify(named));
    assert.strictEqual(await page.textContent('.sqlroom-count'), '1 row');
    assert.strictEqual(await page.textContent('.sqlroom-view'), 'saved as view top_customers');
    assert.deepStrictEqual(await columnTexts(page, 2), ['{k=1}']);
    assert.strictEqual(await page.$('.sqlroom-pager'), null, 'no pager for a single row');
  });

  it('shows an error for malformed output instead of throwing', async () => {
    await renderText(page, 'bad-json', '{"version": 1, "columns": [');
    assert.match((await page.textContent('[role="alert"]')) ?? '', /not valid JSON/);

    await renderText(page, 'bad-shape', JSON.stringify({ version: 1, columns: 'id', rows: [] }));
    assert.match((await page.textContent('[role="alert"]')) ?? '', /"columns" is not a list/);

    const ragged = { ...payload, rows: [...payload.rows.slice(0, 3), [1, 2]] };
    await renderText(page, 'ragged', JSON.stringify(ragged));
    assert.match((await page.textContent('[role="alert"]')) ?? '', /row 4 has 2 values, expected 10/);
    assert.strictEqual(await page.$('.sqlroom-table'), null);
  });

  it('takes light and dark screenshots', async () => {
    const dir = path.join(repoRoot(), 'test-artifacts');
    fs.mkdirSync(dir, { recursive: true });
    for (const theme of ['light', 'dark'] as const) {
      await applyTheme(page, theme);
      await renderText(page, `shot-${theme}`, JSON.stringify({ ...payload, view: 'orders_sample' }));
      await page.selectOption('.sqlroom-pager-size select', '25');
      await page.click('button[data-action="next"]');
      await page.click('button[data-action="prev"]');
      await page.hover('.sqlroom-table tbody tr:nth-child(3)');
      const file = path.join(dir, `renderer-${theme}.png`);
      await page.screenshot({ path: file, fullPage: true });
      assert.ok(fs.statSync(file).size > 0);
    }
  });
});
