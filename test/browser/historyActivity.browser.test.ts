// The Activity view (media/activity, Observable Plot) in headless Chromium:
// the real page (activityHtml with its CSP) and bundle, fed the data the host
// computes from a real two-peer Loro history (localActivity). Checks the three
// charts draw with the authors and cells, no CSP violation, light and dark
// screenshots: test-artifacts/activity-{light,dark}.png.
import * as assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import { activityHtml } from '../../extension/history/activityHtml';
import { localActivity, type ActivityData } from '../../server/shared/history';
import { commitAt, peerDoc, syncInto, T0 } from '../support/historyFixture';
import { launchChromium, THEMES } from './rendererPage';
import { bundleBrowserEntry, repoRoot } from './rendererServer';

function team(): ActivityData {
  const ana = peerDoc('11', 'Ana');
  const trips = ana.insertCell(0, { source: 'SELECT *\nFROM trips', name: 'trips' });
  commitAt(ana, T0);
  const ben = peerDoc('22', 'Ben', ana);
  const byCity = ben.insertCell(1, { source: 'SELECT city, count(*) FROM trips GROUP BY city', name: 'by_city' });
  commitAt(ben, T0 + 3600);
  for (let i = 0; i < 6; i++) {
    ana.spliceCellSource(trips, 0, 0, `-- note ${i}\n`);
    commitAt(ana, T0 + 7200 + i * 900);
  }
  syncInto(ana, ben);
  ana.spliceCellSource(byCity, 0, 0, '-- reviewed\n');
  commitAt(ana, T0 + 20000);
  return localActivity(ana.doc);
}

describe('activity view in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let server: http.Server;
  let origin = '';
  let page: Page;
  const errors: string[] = [];
  const artifacts = path.join(repoRoot(), 'test-artifacts');
  const data = team();

  before(async () => {
    const bundle = await bundleBrowserEntry('media/activity/index.ts', repoRoot());
    server = http.createServer((req, res) => {
      const p = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      if (p === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(activityHtml({ cspSource: origin, scriptUri: `${origin}/dist/activity.js`, title: 'Activity: trips.sqlroom' }));
      else if (p === '/dist/activity.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
      else if (p === '/favicon.ico') res.writeHead(200, { 'content-type': 'image/svg+xml' }).end('<svg xmlns="http://www.w3.org/2000/svg"/>');
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    fs.mkdirSync(artifacts, { recursive: true });
    const context = await browser.newContext({ viewport: { width: 900, height: 900 }, timezoneId: 'UTC', locale: 'en-GB' });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.exposeFunction('sqlroomHostReceive', (m: { type: string }) => {
      if (m.type === 'ready') void page.evaluate((d) => window.postMessage({ type: 'activity', data: d }, '*'), data);
    });
    await page.addInitScript(() => {
      const w = window as unknown as { acquireVsCodeApi(): unknown; sqlroomHostReceive(m: unknown): void };
      w.acquireVsCodeApi = () => ({ postMessage: (m: unknown) => w.sqlroomHostReceive(m) });
    });
    await page.goto(`${origin}/`);
    await page.waitForSelector('#activity[data-drawn] svg');
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  it('computes per-author and per-cell activity from the Loro history', () => {
    assert.deepStrictEqual([...new Set(data.edits.map((e) => e.author))].sort(), ['Ana', 'Ben']);
    const cells = Object.fromEntries(data.cells.map((c) => [`${c.cell}/${c.author}`, c.edits]));
    // characters typed: the cell's first source, then six notes
    assert.strictEqual(cells['trips/Ana'], 'SELECT *\nFROM trips'.length + 6 * '-- note 0\n'.length);
    assert.strictEqual(cells['by_city/Ben'], 'SELECT city, count(*) FROM trips GROUP BY city'.length);
    assert.strictEqual(cells['by_city/Ana'], '-- reviewed\n'.length);
  });

  it('draws three charts with both authors and both cells, without CSP errors', async () => {
    const titles = await page.$$eval('h2', (hs) => hs.map((h) => h.textContent));
    assert.deepStrictEqual(titles, ['Edits per author over time', 'Edits per cell', 'Who touched which cells']);
    const text = (await page.textContent('#activity')) ?? '';
    for (const t of ['Ana', 'Ben', 'trips', 'by_city']) assert.ok(text.includes(t), `${t} in the charts`);
    assert.ok((await page.locator('#activity svg rect').count()) > 4);
    assert.deepStrictEqual(errors, []);
  });

  it('follows the theme (light and dark screenshots)', async () => {
    for (const name of ['light', 'dark'] as const) {
      await page.evaluate((vars) => {
        for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
      }, { ...THEMES[name], '--vscode-foreground': name === 'dark' ? '#cccccc' : '#3b3b3b', '--vscode-charts-blue': name === 'dark' ? '#3794ff' : '#1a85ff', '--vscode-charts-green': name === 'dark' ? '#89d185' : '#388a34' });
      await page.screenshot({ path: path.join(artifacts, `activity-${name}.png`), fullPage: true });
      const fg = await page.evaluate(() => getComputedStyle(document.querySelector('svg')!).color);
      assert.strictEqual(fg, name === 'dark' ? 'rgb(204, 204, 204)' : 'rgb(59, 59, 59)');
    }
  });
});
