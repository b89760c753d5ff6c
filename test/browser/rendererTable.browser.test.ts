// The result table's sort, copy and stable widths in Chromium, on a real
// DuckDB result (DuckDbSession, the kernel's core), light and dark.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DuckDbSession } from '../../extension/core/duckdbSession';
import type { ResultPayload } from '../../extension/core/resultPayload';
import { applyTheme, CHROMIUM_ARGS, renderText } from './rendererPage';
import { bundleRenderer, repoRoot, startRendererServer, type RendererServer } from './rendererServer';
import { chromium } from 'playwright-core';

const SQL = `SELECT i AS id,
  CASE WHEN i % 10 = 0 THEN NULL ELSE (i * 37) % 101 END AS score,
  (i * 7919)::BIGINT * 1000000007 AS big,
  CASE WHEN i = 77 THEN 'a much longer label that sits on page two' ELSE 'label ' || i END AS label
FROM range(1, 121) t(i)`;

function column(page: Page, index: number): Promise<string[]> {
  return page.$$eval('.sqlroom-table tbody tr', (rows, i) => rows.map((r) => r.children[i].textContent ?? ''), index);
}

describe('notebook renderer: sort, copy, stable widths in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let context: BrowserContext;
  let server: RendererServer;
  let page: Page;
  const errors: string[] = [];
  let payload: ResultPayload;
  let session: DuckDbSession;

  before(async () => {
    session = await DuckDbSession.open();
    payload = await session.run(SQL);
    server = await startRendererServer(await bundleRenderer());
    browser = await chromium.launch({ executablePath: process.env.SQLROOM_CHROMIUM || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url.replace(/\/$/, '') });
    page = await context.newPage();
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => (window as unknown as { sqlroomReady?: boolean }).sqlroomReady === true);
  });
  after(async () => {
    await session?.close();
    await browser?.close();
    await server?.close();
  });
  beforeEach(async () => {
    await applyTheme(page, 'light');
    await renderText(page, 'table', JSON.stringify(payload));
  });
  afterEach(() => assert.deepStrictEqual(errors, [], 'the page logged errors'));

  it('keeps every column the same width on every page', async () => {
    const widths = () => page.$$eval('.sqlroom-table thead th', (ths) => ths.map((th) => Math.round(th.getBoundingClientRect().width)));
    const first = await widths();
    await page.click('button[data-action="next"]'); // page two holds the long label
    assert.deepStrictEqual(await widths(), first);
    await page.click('button[data-action="last"]');
    assert.deepStrictEqual(await widths(), first);
  });

  it('sorts the whole result by a column: numbers by value, NULLs last, then descending, then back', async () => {
    await page.click('.sqlroom-table thead th:nth-child(3)'); // score
    const asc = (await column(page, 2)).map(Number);
    const expected = payload.rows.map((r) => r[1]).filter((v) => v !== null).map(Number).sort((a, b) => a - b);
    assert.deepStrictEqual(asc, expected.slice(0, 50), 'the first page holds the smallest scores of all 120 rows');
    assert.strictEqual(await page.getAttribute('.sqlroom-table thead th:nth-child(3)', 'aria-sort'), 'ascending');
    await page.click('button[data-action="last"]');
    const tail = await column(page, 2);
    assert.deepStrictEqual(tail.slice(-12), Array(12).fill('NULL'), 'NULLs last');
    await page.click('.sqlroom-table thead th:nth-child(4)'); // big: BIGINT beyond 2^53 arrives as strings
    await page.click('.sqlroom-table thead th:nth-child(4)');
    const big = (await column(page, 3)).map((s) => BigInt(s));
    assert.ok(big.every((v, i) => i === 0 || big[i - 1] >= v), 'descending by exact value');
    assert.strictEqual(big[0], 120n * 7919n * 1000000007n);
    await page.click('.sqlroom-table thead th:nth-child(4)');
    assert.deepStrictEqual((await column(page, 1)).slice(0, 3), ['1', '2', '3'], 'a third click restores the order');
  });

  it('copies a cell, a row and a shift-click selection as TSV', async () => {
    const read = () => page.evaluate(() => navigator.clipboard.readText());
    await page.click('.sqlroom-table tbody tr:nth-child(2) td:nth-child(5)');
    await page.keyboard.press('Control+C');
    await page.waitForFunction(() => document.querySelector('.sqlroom-tool-status')?.textContent?.startsWith('copied'));
    assert.strictEqual(await read(), 'label 2');
    await page.click('.sqlroom-table tbody tr:nth-child(3) th');
    await page.click('.sqlroom-copy');
    assert.strictEqual(await read(), ['3', String((3 * 37) % 101), String(3n * 7919n * 1000000007n), 'label 3'].join('\t'));
    await page.click('.sqlroom-table tbody tr:nth-child(9) td:nth-child(2)');
    await page.click('.sqlroom-table tbody tr:nth-child(11) td:nth-child(3)', { modifiers: ['Shift'] });
    await page.keyboard.press('Control+C');
    await page.waitForFunction(() => document.querySelectorAll('.sqlroom-selected').length === 6);
    assert.strictEqual(await read(), '9\t30\n10\t\n11\t3', 'two columns of three rows; NULL copies as empty');
  });

  it('takes light and dark screenshots of a sorted table with a selection', async () => {
    const dir = path.join(repoRoot(), 'test-artifacts');
    fs.mkdirSync(dir, { recursive: true });
    for (const theme of ['light', 'dark'] as const) {
      await applyTheme(page, theme);
      await renderText(page, `shot-${theme}`, JSON.stringify(payload));
      await page.click('.sqlroom-table thead th:nth-child(3)');
      await page.click('.sqlroom-table tbody tr:nth-child(2) td:nth-child(2)');
      await page.click('.sqlroom-table tbody tr:nth-child(4) td:nth-child(4)', { modifiers: ['Shift'] });
      const file = path.join(dir, `renderer-table-${theme}.png`);
      await page.screenshot({ path: file, fullPage: true });
      assert.ok(fs.statSync(file).size > 0);
    }
  });
});
