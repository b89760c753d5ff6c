// The history webview (media/history) in headless Chromium, fed by the real
// HistoryController over a real Loro history: it renders the DAG, loads pages
// on demand, and each click or key sends the right protocol message.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import { createCheckpoint, HistoryDag, historyInputFromLoro, type DagRow } from '../../server/shared/history';
import { HISTORY_PAGE_SIZE, type WebviewMessage } from '../../media/history/protocol';
import { syntheticHistory, teamHistory } from '../support/historyFixture';
import { bundleHistory, openHistoryPage, startHistoryServer, type HistoryPageHandle, type HistoryServer } from './historyPage';
import { launchChromium, THEMES } from './rendererPage';
import { collaboratorColor } from '../../server/shared/collaboratorColor';
import { repoRoot } from './rendererServer';

/** Theme variables the history view uses beyond the renderer's set. */
const EXTRA: Record<'light' | 'dark', Record<string, string>> = {
  light: {
    '--vscode-foreground': '#3b3b3b',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-background': '#005fb8',
    '--vscode-list-activeSelectionBackground': '#e8e8e8',
    '--vscode-list-inactiveSelectionBackground': '#e4e6f1',
    '--vscode-textLink-foreground': '#005fb8',
    '--vscode-badge-background': '#cccccc',
    '--vscode-badge-foreground': '#3b3b3b',
    '--vscode-charts-blue': '#1a85ff',
    '--vscode-charts-green': '#388a34',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#652d90',
  },
  dark: {
    '--vscode-foreground': '#cccccc',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-background': '#0078d4',
    '--vscode-list-activeSelectionBackground': '#04395e',
    '--vscode-list-inactiveSelectionBackground': '#37373d',
    '--vscode-textLink-foreground': '#4daafc',
    '--vscode-badge-background': '#616161',
    '--vscode-badge-foreground': '#f8f8f8',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#b180d7',
  },
};

async function theme(page: Page, name: 'light' | 'dark'): Promise<void> {
  await page.evaluate((vars) => {
    for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
  }, { ...THEMES[name], ...EXTRA[name] });
}

async function waitForRows(page: Page): Promise<void> {
  await page.waitForSelector('.row[data-version]');
}

/** The versions of the rows in the DOM, top to bottom. */
function shownVersions(page: Page): Promise<string[]> {
  return page.$$eval('.rows .row', (rows) => rows.map((r) => (r as HTMLElement).dataset.version ?? ''));
}

function lastSent(h: HistoryPageHandle, type: WebviewMessage['type']): WebviewMessage | undefined {
  return [...h.sent].reverse().find((m) => m.type === type);
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting until ${what}`);
}

describe('history webview in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let server: HistoryServer;
  const artifacts = path.join(repoRoot(), 'test-artifacts');

  before(async () => {
    server = await startHistoryServer(await bundleHistory());
    browser = await launchChromium();
    fs.mkdirSync(artifacts, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  describe('a team history (fork, merge, checkpoint)', () => {
    let h: HistoryPageHandle;
    let rows: DagRow[];

    before(async () => {
      const { alice } = teamHistory();
      createCheckpoint(alice, 'Reviewed');
      rows = HistoryDag.build(historyInputFromLoro(alice.doc)).page(0, 100).rows;
      h = await openHistoryPage(browser, server.url, alice, { title: 'orders.sqlroom' });
      await waitForRows(h.page);
    });

    after(() => h?.close());

    afterEach(() => assert.deepStrictEqual(h.errors, [], 'the page logged errors (a CSP violation would show here)'));

    it('renders every version newest first, with lanes, the merge, the checkpoint and the current version', async () => {
      assert.deepStrictEqual(await shownVersions(h.page), rows.map((r) => r.version));
      assert.strictEqual(await h.page.textContent('.title'), 'orders.sqlroom');
      const first = h.page.locator('.rows .row').first();
      assert.strictEqual(await first.locator('.msg').textContent(), 'Reviewed');
      assert.ok(await first.evaluate((el) => el.classList.contains('checkpoint') && el.classList.contains('current')));
      // teamHistory's join is the CRDT merging concurrent edits: a light join, not a user's merge.
      assert.strictEqual(await h.page.locator('.node-join').count(), 1);
      assert.strictEqual(await h.page.locator('.node-merge').count(), 0);
      assert.strictEqual(await h.page.locator('.current-ring').count(), 1);
      // The fork: two lanes, so some row draws in lane 1.
      const lanes = await h.page.$$eval('.node', (ns) => ns.map((n) => n.getAttribute('cx') ?? n.getAttribute('d')));
      assert.ok(new Set(lanes.map((l) => (l ?? '').slice(0, 3))).size >= 2, `nodes in more than one lane: ${lanes.join(' ')}`);
      assert.match((await h.page.textContent('.status')) ?? '', new RegExp(`${rows.length} versions`));
    });

    it('each author has a dot of their own stable colour (the same as their presence in the editor)', async () => {
      const dots = await h.page.$$eval('.rows .row .author', (els) => els.map((e) => ({ name: e.textContent ?? '', color: getComputedStyle(e, '::before').color })));
      assert.ok(dots.length > 0);
      const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
      for (const d of dots) assert.strictEqual(d.color, rgb(collaboratorColor(d.name).hex), `${d.name}'s dot`);
      assert.ok(new Set(dots.map((d) => d.name)).size >= 2, 'the team history has several authors');
    });

    it('is styled by the theme (light and dark screenshots)', async () => {
      await theme(h.page, 'light');
      await h.page.click(`.row[data-version="${rows[2].version}"]`);
      await h.page.screenshot({ path: path.join(artifacts, 'history-light.png') });
      const lightBg = await h.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await theme(h.page, 'dark');
      await h.page.screenshot({ path: path.join(artifacts, 'history-dark.png') });
      const darkBg = await h.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.strictEqual(lightBg, 'rgb(255, 255, 255)');
      assert.strictEqual(darkBg, 'rgb(31, 31, 31)');
    });

    it('clicking a row and Open sends open with that version; double-click too', async () => {
      const target = rows[3];
      await h.page.click(`.row[data-version="${target.version}"]`);
      await h.page.click('button:has-text("Open")');
      await until('the open message arrives', () => h.actions.some((a) => a.action === 'open'));
      assert.deepStrictEqual(lastSent(h, 'open'), { type: 'open', version: target.version, label: `"Edited cell 1 (+9 −0)" ${target.author}, ${fmt(target.end)}` });
      const n = h.sent.filter((m) => m.type === 'open').length;
      await h.page.dblclick(`.row[data-version="${rows[1].version}"] .msg`);
      await until('a second open', () => h.sent.filter((m) => m.type === 'open').length === n + 1);
      assert.strictEqual((lastSent(h, 'open') as { version: string }).version, rows[1].version);
      assert.deepStrictEqual(h.actions.filter((a) => a.action === 'open').map((a) => a.args[0]), [target.version, rows[1].version]);
    });

    it('moves with the keyboard and opens with Enter', async () => {
      await h.page.click(`.row[data-version="${rows[0].version}"]`);
      await h.page.keyboard.press('ArrowDown');
      await h.page.keyboard.press('ArrowDown');
      await h.page.keyboard.press('ArrowUp');
      await h.page.keyboard.press('Enter');
      await until('open after Enter', () => (lastSent(h, 'open') as { version?: string })?.version === rows[1].version);
      assert.strictEqual(await h.page.getAttribute('.row[aria-selected="true"]', 'data-version'), rows[1].version);
      await h.page.keyboard.press('End');
      assert.strictEqual(await h.page.getAttribute('.row[aria-selected="true"]', 'data-version'), rows[rows.length - 1].version);
    });

    it('expands a group into its changes and opens one of them', async () => {
      const group = rows.find((r) => r.size === 3)!;
      await h.page.click(`.row[data-version="${group.version}"]`);
      await h.page.keyboard.press('ArrowRight');
      await h.page.waitForSelector('.row.member');
      assert.deepStrictEqual(lastSent(h, 'expand'), { type: 'expand', generation: 1, id: group.id });
      const members = await h.page.$$eval('.row.member', (rs) => rs.map((r) => (r as HTMLElement).dataset.version));
      assert.strictEqual(members.length, 3);
      await h.page.keyboard.press('ArrowDown'); // the newest change of the group
      await h.page.keyboard.press('ArrowDown');
      await h.page.keyboard.press('Enter');
      await until('open of a member', () => (lastSent(h, 'open') as { version?: string })?.version === members[1]);
      await h.page.screenshot({ path: path.join(artifacts, 'history-expanded.png') });
      await h.page.keyboard.press('ArrowLeft'); // back to the group row
      await h.page.keyboard.press('ArrowLeft'); // collapse
      assert.strictEqual(await h.page.locator('.row.member').count(), 0);
    });

    it('compares with the current version and with a marked one; restores; checkpoints', async () => {
      await h.page.click(`.row[data-version="${rows[4].version}"]`);
      await h.page.click('button:has-text("Compare with current")');
      await until('compare', () => h.sent.some((m) => m.type === 'compare'));
      const c1 = lastSent(h, 'compare') as Extract<WebviewMessage, { type: 'compare' }>;
      assert.strictEqual(c1.version, rows[4].version);
      assert.deepStrictEqual(c1.with, { kind: 'current' });
      await h.page.click(`.row[data-version="${rows[4].version}"]`); // focus the list again
      await h.page.keyboard.press('Space'); // mark rows[4]
      assert.strictEqual(await h.page.getAttribute('.row.marked', 'data-version'), rows[4].version);
      await h.page.click(`.row[data-version="${rows[1].version}"]`);
      await h.page.click('button:has-text("Compare with marked")');
      await until('second compare', () => h.sent.filter((m) => m.type === 'compare').length === 2);
      const c2 = lastSent(h, 'compare') as Extract<WebviewMessage, { type: 'compare' }>;
      assert.strictEqual(c2.version, rows[4].version, 'the older version is on the left');
      assert.deepStrictEqual(c2.with, { kind: 'version', version: rows[1].version });
      await h.page.click('button:has-text("Restore")');
      await until('restore', () => h.actions.some((a) => a.action === 'restore'));
      assert.strictEqual((lastSent(h, 'restore') as { version: string }).version, rows[1].version);
      await h.page.click('button:has-text("Checkpoint")');
      await until('checkpoint', () => h.actions.some((a) => a.action === 'checkpoint'));
    });

    it('opens at a time and selects the version it lands on', async () => {
      const target = rows.find((r) => r.message === 'Add notes')!;
      // The input has minutes; the next full minute after the change is before the next change.
      const at = Math.ceil((target.end + 1) / 60) * 60;
      assert.ok(at < rows.find((r) => r.start > target.end)!.start);
      const d = new Date(at * 1000);
      await h.page.fill('input[type="datetime-local"]', d.toISOString().slice(0, 16));
      await h.page.click('button:has-text("Open at time")');
      await until('reveal', () => h.received.some((m) => m.type === 'reveal'));
      assert.deepStrictEqual(h.actions.filter((a) => a.action === 'openAtTime').map((a) => a.args[0]), [at]);
      await until('selection moves', async () => (await h.page.getAttribute('.row[aria-selected="true"]', 'data-version')) === target.version);
    });

    it('reloads when the document changes', async () => {
      const before = h.controller.current().total;
      const { alice } = { alice: (h.controller as unknown as { nb: import('../../server/shared/notebookDoc').NotebookDoc }).nb };
      alice.insertCell(0, { source: 'SELECT 42' });
      alice.commit({ message: 'Later edit' });
      // Count versions in the status line: how many rows are in the DOM depends on the height the details pane leaves.
      await until('a new row', async () => new RegExp(`^${before + 1} versions`).test((await h.page.textContent('.status')) ?? ''));
      // A row's message comes with its page of details ("Loading…" until then).
      const firstMessage = () => h.page.locator('.rows .row').first().locator('.msg').textContent();
      await until('the new row\'s message', async () => (await firstMessage()) !== 'Loading…');
      assert.strictEqual(await firstMessage(), 'Later edit');
    });
  });

  describe('a long history', () => {
    let h: HistoryPageHandle;
    let dag: HistoryDag;

    before(async () => {
      const nb = syntheticHistory(3000, { peers: 4, syncEvery: 15, seed: 5 });
      dag = HistoryDag.build(historyInputFromLoro(nb.doc), { windowSeconds: 2 });
      h = await openHistoryPage(browser, server.url, nb, { windowSeconds: 2 });
      await waitForRows(h.page);
    });

    after(() => h?.close());

    afterEach(() => assert.deepStrictEqual(h.errors, []));

    it('draws only the rows in view and asks only for the first page', async () => {
      assert.ok(dag.total > 4 * HISTORY_PAGE_SIZE, `the history has ${dag.total} rows`);
      const inDom = await h.page.locator('.rows .row').count();
      assert.ok(inDom < 80, `${inDom} rows in the DOM`);
      const pages = h.sent.filter((m) => m.type === 'loadPage');
      assert.deepStrictEqual(pages.map((m) => (m as { cursor: number }).cursor), [0]);
      const height = await h.page.$eval('.spacer', (s) => (s as HTMLElement).style.height);
      assert.strictEqual(height, `${dag.total * 26}px`);
      await theme(h.page, 'dark');
      await h.page.screenshot({ path: path.join(artifacts, 'history-long.png') });
    });

    it('loads the last page on End and shows the oldest version', async () => {
      await h.page.click('.rows .row >> nth=0');
      await h.page.keyboard.press('End');
      const lastCursor = Math.floor((dag.total - 1) / HISTORY_PAGE_SIZE) * HISTORY_PAGE_SIZE;
      await until('the last page is asked for', () => h.sent.some((m) => m.type === 'loadPage' && m.cursor === lastCursor));
      const oldest = dag.page(dag.total - 1, 1).rows[0];
      await h.page.waitForSelector(`.row[data-version="${oldest.version}"]`);
      assert.strictEqual(await h.page.getAttribute('.row[aria-selected="true"]', 'data-version'), oldest.version);
      const cursors = h.sent.filter((m) => m.type === 'loadPage').map((m) => (m as { cursor: number }).cursor);
      assert.ok(cursors.length <= 3, `pages asked for: ${cursors.join(', ')}`);
      // Rows shown match the DAG at that position.
      const shown = await shownVersions(h.page);
      const expected = dag.page(dag.total - shown.length, shown.length).rows.map((r) => r.version);
      assert.deepStrictEqual(shown, expected);
    });
  });
});

function fmt(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 16).replace('T', ' ');
}
