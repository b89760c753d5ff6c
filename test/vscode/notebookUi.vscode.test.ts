// What a SQL notebook user does, driven through a code-server window with
// Playwright's keyboard and mouse (no `vscode` API call for a step under
// test): run a cell with its run button, reload the window and see the result kept
// as from an earlier run; type a typo, run, see the squiggle where DuckDB
// points and its message on hover, and see it go once the cell changes;
// trigger completion with Ctrl+Space and accept a column. What the window's
// notebook holds is read from its extension host's reporter (secondWindow.ts);
// what it shows is read from the page. Screenshots of each step are kept.
// Only on the code-server route (the page needs its URL); skipped elsewhere.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { newDocId, serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { closeAllEditors, tempNotebookPath, writeFile } from './notebookTestUtils';
import { ReporterWindows } from './reporterWindows';
import { codeServerAddress, keepScreenshot, launchChromium, openWindow, quickOpen, runCommand, webviewFrame, type Browser, type Page } from './workbenchPage';

const CELLS = [
  'CREATE OR REPLACE TABLE trips AS SELECT 1 AS trip_id, 2.5 AS fare_amount',
  'SELECT 42 AS answer',
  'SELECT 1 AS a',
  'SELECT fare FROM trips',
];

describe('SQL notebook through the keyboard and mouse: kept results, squiggle, completion', function () {
  this.timeout(600_000);
  const results = process.env.SQLROOM_TEST_RESULTS;
  const address = codeServerAddress();
  const windows = new ReporterWindows(results ?? '');
  let browser: Browser | undefined;
  let page: Page;
  let pid: number;
  let file: string;

  before(async function () {
    if (!results || !address) return this.skip();
    const nb = new NotebookDoc();
    CELLS.forEach((source, i) => nb.insertCell(i, { kind: 'code', language: 'sql', source }));
    nb.commit();
    file = tempNotebookPath('ui');
    writeFile(file, serializeSqlroomFile(nb, newDocId()));
    windows.start();
    browser = await launchChromium();
    page = await openWindow(browser, address, vscode.workspace.workspaceFolders![0].uri.fsPath);
    pid = await windows.hostOf(new Set());
    await quickOpen(page, path.basename(file));
    await windows.until('the notebook in the window', pid, file, (n) => n.cells.length === CELLS.length);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) await keepScreenshot(page, `ui-failed-${this.currentTest.title.split(' ')[0]}`);
  });
  after(async () => {
    if (results) windows.stop();
    await browser?.close().catch(() => undefined);
    await closeAllEditors();
  });

  const cellEditor = (index: number) => page.locator('.notebook-editor .monaco-list-row.code-cell-row').nth(index).locator('.monaco-editor').first();

  /** Clicks at the end of a cell's last line (the cursor is then in the cell). */
  async function clickIntoCell(index: number): Promise<void> {
    const editor = cellEditor(index);
    await editor.scrollIntoViewIfNeeded();
    const box = await editor.boundingBox();
    if (!box) throw new Error(`cell ${index} is not shown`);
    await editor.click({ position: { x: box.width - 12, y: box.height - 6 } });
  }

  /** The cell's run button (left of it, shown when the mouse is over the cell); the kernel picker, when VS Code shows it, gets SQLRoom's. */
  async function runCell(index: number): Promise<void> {
    await clickIntoCell(index); // the cell with the focus shows its run button
    const row = page.locator('.notebook-editor .monaco-list-row.code-cell-row').nth(index);
    await row.hover();
    await row.locator('.run-button-container .action-label').first().click({ timeout: 30_000 });
    const picker = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'SQLRoom' });
    if (await picker.first().waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false)) await picker.first().click();
  }

  /** The text of the output webview showing `selector`, once it shows `text`. */
  async function outputWith(selector: string, text: string): Promise<string> {
    const deadline = Date.now() + 90_000;
    let last = '';
    while (Date.now() < deadline) {
      for (const frame of page.frames()) {
        const found = frame.locator(selector);
        if ((await found.count().catch(() => 0)) === 0) continue;
        last = (await found.allInnerTexts().catch(() => [] as string[])).join('\n');
        if (last.includes(text)) return last;
      }
      await page.waitForTimeout(300);
    }
    throw new Error(`no output shows "${text}" in ${selector}; last seen: ${JSON.stringify(last)}`);
  }

  it('reload: a result run before Reload Window is shown again, marked as from an earlier run', async () => {
    await runCell(0); // the table the completion step uses
    await runCell(1);
    await outputWith('.sqlroom-table', '42');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+S');
    await windows.until('the notebook to be saved', pid, file, (n) => !n.dirty);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { outputs?: Record<string, unknown> };
    assert.ok(saved.outputs && Object.keys(saved.outputs).length >= 2, 'the outputs are in the file');
    await keepScreenshot(page, 'ui-1-ran');

    const known = new Set([pid]);
    await runCommand(page, 'Developer: Reload Window');
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 120_000 });
    pid = await windows.hostOf(known);
    // The editor comes back with the window; a person opens it again if not.
    if (!(await page.locator('.notebook-editor').first().waitFor({ state: 'visible', timeout: 20_000 }).then(() => true, () => false))) await quickOpen(page, path.basename(file));
    await windows.until('the notebook after the reload', pid, file, (n) => n.cells.length === CELLS.length);
    const kept = await outputWith('.sqlroom-kept', 'From an earlier run');
    assert.match(kept, /From an earlier run/);
    await outputWith('.sqlroom-table', '42');
    await keepScreenshot(page, 'ui-2-reloaded');
  });

  it('typo: running it squiggles the mistake where DuckDB points, the hover says why, a change takes it away', async () => {
    await clickIntoCell(2);
    await page.keyboard.press('Control+End');
    await page.keyboard.type(', nope AS b', { delay: 20 });
    await page.keyboard.press('Escape');
    await windows.until('the typo in the cell', pid, file, (n) => n.cells[2].source === 'SELECT 1 AS a, nope AS b');
    await runCell(2);
    const block = await outputWith('.sqlroom-error-block', 'Binder Error');
    assert.match(block, /Referenced column "nope"/);
    const squiggle = cellEditor(2).locator('.squiggly-error').first();
    await squiggle.waitFor({ timeout: 60_000 });
    // The squiggle is under "nope" (columns 15..19 of the line): its left edge is right of "SELECT 1 AS a, ".
    const [sq, line] = [await squiggle.boundingBox(), await cellEditor(2).locator('.view-line').first().boundingBox()];
    assert.ok(sq && line && sq.x > line.x + 40 && sq.width > 10, `the squiggle is under the mistake, not at the line start: ${JSON.stringify({ sq, line })}`);
    // The mouse over the squiggle, as a person points at it.
    await page.mouse.move(sq!.x + sq!.width / 2, sq!.y + sq!.height / 2);
    const hover = page.locator('.monaco-hover:visible', { hasText: 'Binder Error' }).first();
    await hover.waitFor({ timeout: 30_000 });
    assert.match(await hover.innerText(), /Referenced column "nope"/);
    await keepScreenshot(page, 'ui-3-squiggle');

    // Any change of the cell takes the squiggle away (the mistake may be fixed).
    await clickIntoCell(2);
    await page.keyboard.press('Control+End');
    await page.keyboard.type(' ', { delay: 20 });
    await cellEditor(2).locator('.squiggly-error').first().waitFor({ state: 'detached', timeout: 60_000 });
    await page.keyboard.press('Escape');
  });

  it('completion: Ctrl+Space after "fare" offers the column of the table the notebook made; Enter accepts it', async () => {
    // The reload started a new DuckDB session: the person runs the first cell again to make the table.
    await runCell(0);
    // The last cell up from the bottom of the page, so the completion list has room below it.
    await cellEditor(3).hover();
    await page.mouse.wheel(0, 600);
    await clickIntoCell(3);
    await page.keyboard.press('Control+Home');
    for (let i = 0; i < 'SELECT fare'.length; i++) await page.keyboard.press('ArrowRight');
    // Ctrl+Space; again if the list came before the first cell's run made the table.
    const row = page.locator('.suggest-widget .monaco-list-row', { hasText: 'fare_amount' }).first();
    for (let attempt = 1; ; attempt++) {
      await page.keyboard.press('Control+Space');
      if (await row.waitFor({ state: 'visible', timeout: 10_000 }).then(() => true, () => false)) break;
      if (attempt === 6) throw new Error('Ctrl+Space never offered fare_amount');
      await page.keyboard.press('Escape');
      await clickIntoCell(3);
      await page.keyboard.press('Control+Home');
      for (let i = 0; i < 'SELECT fare'.length; i++) await page.keyboard.press('ArrowRight');
    }
    await keepScreenshot(page, 'ui-4-completion');
    // The column is offered; select it with the arrow keys if it is not the first, then Enter.
    for (let i = 0; i < 20 && !((await row.getAttribute('class')) ?? '').includes('focused'); i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Escape');
    await windows.until('the accepted column in the cell', pid, file, (n) => n.cells[3].source === 'SELECT fare_amount FROM trips');
    await runCell(3);
    await outputWith('.sqlroom-table', '2.5');
    await keepScreenshot(page, 'ui-5-completed');
  });
});
