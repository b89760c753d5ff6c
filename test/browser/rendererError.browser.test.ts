// The renderer's error block and "from an earlier run" stamp in Chromium, fed
// real DuckDB errors from DuckDbSession (the kernel's core): the caret must sit
// under the character DuckDB points at, in light and dark themes.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import { DuckDbSession } from '../../extension/core/duckdbSession';
import { toErrorPayload } from '../../extension/core/errorPayload';
import { ERROR_MIME, type ErrorPayload } from '../../extension/core/resultPayload';
import { applyTheme, launchChromium, openRendererPage, renderText } from './rendererPage';
import { bundleRenderer, repoRoot, startRendererServer, type RendererServer } from './rendererServer';

const BAD_SQL = 'SELECT i,\n  count(*) AS trips, cty\nFROM range(10) t(i)\nGROUP BY i';

describe('notebook renderer: error block in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let server: RendererServer;
  let page: Page;
  let errors: string[];
  let session: DuckDbSession;
  let error: ErrorPayload;

  before(async () => {
    session = await DuckDbSession.open();
    const failure = await session.run(BAD_SQL).then(() => undefined, (e: unknown) => e);
    error = toErrorPayload(failure, BAD_SQL, { ranAt: Date.UTC(2026, 10, 29, 9, 30), ranBy: 'ana' });
    server = await startRendererServer(await bundleRenderer());
    browser = await launchChromium();
    ({ page, errors } = await openRendererPage(browser, server.url));
  });
  after(async () => {
    await session?.close();
    await browser?.close();
    await server?.close();
  });
  afterEach(() => assert.deepStrictEqual(errors, [], 'the page logged errors'));

  it('shows the error type, the message in monospace and the caret under the mistake', async () => {
    assert.strictEqual(error.title, 'Binder Error');
    assert.ok(error.position, 'DuckDB gave a position');
    await applyTheme(page, 'light');
    await renderText(page, 'err', JSON.stringify(error), ERROR_MIME);
    assert.strictEqual(await page.textContent('.sqlroom-error-title'), `Binder Error line ${error.position!.line + 1}, column ${error.position!.column + 1}`);
    assert.match((await page.textContent('.sqlroom-error-message')) ?? '', /Referenced column "cty" not found/);
    const font = await page.$eval('.sqlroom-error-message', (el) => getComputedStyle(el).fontFamily);
    assert.match(font, /Mono|monospace/);
    const colour = await page.$eval('.sqlroom-error-title', (el) => getComputedStyle(el).color);
    assert.strictEqual(colour, 'rgb(248, 81, 73)', 'the theme error colour');
    // The caret's x position equals the x of the character it points at, measured in the page.
    const [caretX, charX, char] = await page.$eval('.sqlroom-error-context', (pre) => {
      const source = pre.querySelector('.sqlroom-error-source')!.firstChild as Text;
      const caret = pre.querySelector('.sqlroom-error-caret')!.firstChild as Text;
      const at = (node: Text, i: number) => {
        const r = document.createRange();
        r.setStart(node, i);
        r.setEnd(node, i + 1);
        return r.getBoundingClientRect().left;
      };
      const caretIndex = caret.data.indexOf('^');
      const gutter = source.data.indexOf('│') + 2;
      const column = caretIndex - gutter;
      return [at(caret, caretIndex), at(source, gutter + column), source.data[gutter + column]];
    });
    assert.strictEqual(char, 'c', 'the caret points at "cty"');
    assert.ok(Math.abs(caretX - charX) < 1, `caret at x=${caretX}, character at x=${charX}`);
  });

  it('a tab before the mistake keeps the caret aligned', async () => {
    const tabSql = 'SELECT 1,\n\t\tnope\nFROM range(1)';
    const failure = await session.run(tabSql).then(() => undefined, (e: unknown) => e);
    const payload = toErrorPayload(failure, tabSql);
    await renderText(page, 'tab', JSON.stringify(payload), ERROR_MIME);
    const aligned = await page.$eval('.sqlroom-error-context', (pre) => {
      const source = pre.querySelector('.sqlroom-error-source')!.firstChild as Text;
      const caret = pre.querySelector('.sqlroom-error-caret')!.firstChild as Text;
      const left = (node: Text, i: number) => {
        const r = document.createRange();
        r.setStart(node, i);
        r.setEnd(node, i + 1);
        return r.getBoundingClientRect().left;
      };
      const n = source.data.indexOf('nope');
      return Math.abs(left(caret, caret.data.indexOf('^')) - left(source, n));
    });
    assert.ok(aligned < 1, `caret is ${aligned}px off`);
  });

  it('a kept error says it is from an earlier run, when and by whom', async () => {
    await renderText(page, 'kept', JSON.stringify({ ...error, run: { ...error.run, kept: true } }), ERROR_MIME);
    assert.match((await page.textContent('.sqlroom-kept')) ?? '', /^From an earlier run · .*2026.* · by ana$/);
  });

  it('a malformed error output says so instead of throwing', async () => {
    await renderText(page, 'bad', JSON.stringify({ version: 1, title: 3 }), ERROR_MIME);
    assert.match((await page.textContent('[role="alert"]')) ?? '', /no title or message/);
  });

  it('takes light and dark screenshots of the error block', async () => {
    const dir = path.join(repoRoot(), 'test-artifacts');
    fs.mkdirSync(dir, { recursive: true });
    for (const theme of ['light', 'dark'] as const) {
      await applyTheme(page, theme);
      await renderText(page, `shot-${theme}`, JSON.stringify({ ...error, run: { ...error.run, kept: true } }), ERROR_MIME);
      const file = path.join(dir, `renderer-error-${theme}.png`);
      await page.screenshot({ path: file, fullPage: true });
      assert.ok(fs.statSync(file).size > 0);
    }
  });
});
