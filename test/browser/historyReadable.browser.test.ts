// The history panel a person can read (Chromium, real HistoryController over
// a real two-peer Loro history): rows say what each change did, a join of
// concurrent edits is drawn light, the selected row shows its changed lines,
// Revert sends the row, and the marked row is plainly marked. Screenshots in
// light and dark: test-artifacts/history-readable-{light,dark}.png.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import { commitAt, peerDoc, syncInto, T0 } from '../support/historyFixture';
import { bundleHistory, openHistoryPage, startHistoryServer, type HistoryPageHandle, type HistoryServer } from './historyPage';
import { launchChromium, THEMES } from './rendererPage';
import { repoRoot } from './rendererServer';

const EXTRA: Record<'light' | 'dark', Record<string, string>> = {
  light: { '--vscode-foreground': '#3b3b3b', '--vscode-descriptionForeground': '#717171', '--vscode-button-foreground': '#ffffff', '--vscode-button-background': '#005fb8', '--vscode-list-activeSelectionBackground': '#e8e8e8', '--vscode-textLink-foreground': '#005fb8', '--vscode-charts-blue': '#1a85ff', '--vscode-charts-green': '#388a34', '--vscode-charts-orange': '#d18616', '--vscode-panel-border': '#e5e5e5' },
  dark: { '--vscode-foreground': '#cccccc', '--vscode-descriptionForeground': '#9d9d9d', '--vscode-button-foreground': '#ffffff', '--vscode-button-background': '#0078d4', '--vscode-list-activeSelectionBackground': '#04395e', '--vscode-textLink-foreground': '#4daafc', '--vscode-charts-blue': '#3794ff', '--vscode-charts-green': '#89d185', '--vscode-charts-orange': '#d18616', '--vscode-panel-border': '#2b2b2b' },
};

async function theme(page: Page, name: 'light' | 'dark'): Promise<void> {
  await page.evaluate((vars) => {
    for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
  }, { ...THEMES[name], ...EXTRA[name] });
}

function history() {
  const ana = peerDoc('11', 'Ana');
  const trips = ana.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT *\nFROM trips', name: 'trips' });
  commitAt(ana, T0, 'Start');
  const x = ana.insertCell(1, { kind: 'code', language: 'sql', source: 'SELECT city, count(*)\nFROM trips\nGROUP BY city' });
  commitAt(ana, T0 + 600);
  ana.setCellProps(x, { name: 'x' });
  commitAt(ana, T0 + 1200);
  ana.setCellProps(x, { name: 'by_city' });
  commitAt(ana, T0 + 1800);
  const ben = peerDoc('22', 'Ben', ana);
  ben.spliceCellSource(trips, 'SELECT *\nFROM trips'.length, 0, '\nWHERE fare > 0\n  AND city IS NOT NULL');
  commitAt(ben, T0 + 2400);
  ana.spliceCellSource(x, 0, 0, '-- trips per city\n');
  commitAt(ana, T0 + 2410);
  syncInto(ana, ben);
  ana.setCellProps(x, { language: 'python' });
  commitAt(ana, T0 + 3000);
  ana.setCellProps(x, { language: 'sql' });
  commitAt(ana, T0 + 3600, 'Back to SQL');
  return ana;
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting until ${what}`);
}

describe('readable history panel in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let server: HistoryServer;
  let h: HistoryPageHandle;
  const artifacts = path.join(repoRoot(), 'test-artifacts');

  before(async () => {
    server = await startHistoryServer(await bundleHistory());
    browser = await launchChromium();
    fs.mkdirSync(artifacts, { recursive: true });
    h = await openHistoryPage(browser, server.url, history(), { title: 'trips.sqlroom', windowSeconds: 0 });
    await h.page.waitForSelector('.row[data-version]');
  });

  after(async () => {
    await h?.close();
    await browser?.close();
    await server?.close();
  });

  afterEach(() => assert.deepStrictEqual(h.errors, [], 'the page logged errors'));

  it('says in each row what the change did; the user message stays the title', async () => {
    const texts = await h.page.$$eval('.rows .row .msg', (els) => els.map((e) => e.textContent));
    assert.deepStrictEqual(texts, [
      'Back to SQL',
      'Joined concurrent edits · Changed language of `by_city` to python',
      'Edited `trips` (+38 −0)',
      'Edited `by_city` (+18 −0)',
      'Renamed `x` → `by_city`',
      'Named cell 2 `x`',
      'Added cell `by_city`',
      'Start',
    ]);
    const subtitle = await h.page.locator('.rows .row').first().locator('.summary').textContent();
    assert.strictEqual(subtitle, 'Changed language of `by_city` to sql');
    const authors = await h.page.$$eval('.rows .row .author', (els) => els.map((e) => e.textContent));
    assert.ok(authors.every((a) => a === 'Ana' || a === 'Ben'), authors.join());
    const tip = await h.page.locator('.rows .row').nth(2).getAttribute('title');
    assert.match(tip ?? '', /Cells: `trips`/);
  });

  it('draws the automatic join light and none as a merge', async () => {
    assert.strictEqual(await h.page.locator('.node-join').count(), 1);
    assert.strictEqual(await h.page.locator('.node-merge').count(), 0);
    assert.ok((await h.page.locator('.join-line').count()) >= 1);
  });

  it('shows the changed lines of the selected row, moving with the keyboard', async () => {
    await h.page.locator('.viewport').focus();
    await h.page.keyboard.press('Home');
    for (let i = 0; i < 2; i++) await h.page.keyboard.press('ArrowDown');
    await until('the details show Ben\'s edit', async () => /Edited `trips`/.test((await h.page.textContent('.details h3')) ?? ''));
    const lines = await h.page.$$eval('.details pre span', (els) => els.map((e) => `${e.className}|${e.textContent}`));
    assert.deepStrictEqual(lines, ['ctx|  FROM trips\n', 'add|+ WHERE fare > 0\n', 'add|+   AND city IS NOT NULL\n']);
    assert.match((await h.page.textContent('.details .cell-title')) ?? '', /`trips`\s+\+2 −0 lines/);
  });

  it('marks a version with Space (visible badge) and reverts the selected change', async () => {
    await h.page.keyboard.press(' ');
    assert.strictEqual(await h.page.locator('.row.marked .marked-badge').count(), 1);
    await h.page.click('button:has-text("Revert change")');
    await until('revert is sent', () => h.actions.some((a) => a.action === 'revert'));
    const call = h.actions.find((a) => a.action === 'revert')!;
    const [before, version, label] = call.args as string[];
    assert.ok(before && version && before !== version);
    assert.match(label, /^"Edited `trips` \(\+38 −0\)" Ben, /);
  });

  it('light and dark screenshots', async () => {
    for (const name of ['light', 'dark'] as const) {
      await theme(h.page, name);
      await h.page.screenshot({ path: path.join(artifacts, `history-readable-${name}.png`) });
    }
    const bg = await h.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.strictEqual(bg, 'rgb(31, 31, 31)');
  });
});
