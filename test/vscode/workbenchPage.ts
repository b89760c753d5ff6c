// A person at a code-server window: a headless Chromium page on the same
// code-server as the suite, driven only with the keyboard and the mouse
// (Quick Open, clicks into cells, typing, Ctrl+S, the command palette, the
// history webview's buttons). Used by the collaboration tests where two
// people work in two windows. What the window shows is read from the page
// (notifications) or from its extension host's reporter (secondWindow.ts).
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Frame, Page } from 'playwright-core';

export type { Browser, Page };

/** code-server's --bind-addr, from the command line of an ancestor process (undefined when not under code-server). */
export function codeServerAddress(): string | undefined {
  let pid = process.ppid;
  for (let depth = 0; depth < 8 && pid > 1; depth++) {
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const i = args.indexOf('--bind-addr');
      if (i >= 0 && args[i + 1]) return args[i + 1];
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export async function launchChromium(): Promise<Browser> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  return chromium.launch({
    executablePath: process.env.SQLROOM_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Opens a workbench window on `folder` and waits until it is ready for input. */
export async function openWindow(browser: Browser, address: string, folder: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`http://${address}/?folder=${encodeURIComponent(folder)}`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 120_000 });
  await closeLeftoverEditors(page);
  return page;
}

/**
 * code-server restores the folder's last editors in a new window (a notebook
 * an earlier test left open, even unsaved): each test's window starts as a
 * person's would for a new task, with none (a hidden notebook left behind
 * otherwise takes the clicks meant for the one under test).
 */
async function closeLeftoverEditors(page: Page): Promise<void> {
  const tabs = page.locator('.part.editor .tabs-container .tab');
  for (let round = 0; round < 3; round++) {
    // Restored editors show shortly after the workbench does.
    if (!(await tabs.first().waitFor({ timeout: 3_000 }).then(() => true, () => false))) return;
    await runCommand(page, 'View: Close All Editors');
    const dontSave = page.locator('.monaco-dialog-box').getByRole('button', { name: "Don't Save" });
    if (await dontSave.waitFor({ timeout: 3_000 }).then(() => true, () => false)) await dontSave.click();
    await tabs.first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
  }
}

/** Ctrl+P, the file's name, Enter: the notebook opens in this window. */
export async function quickOpen(page: Page, fileName: string): Promise<void> {
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 5 } }).catch(() => undefined);
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 30_000 });
  await input.fill(fileName);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: fileName }).first().waitFor({ timeout: 60_000 });
  await page.keyboard.press('Enter');
  await page.locator('.notebook-editor .monaco-list-row.code-cell-row').first().waitFor({ timeout: 60_000 });
}

/** F1, a command's title, Enter. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 30_000 });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
}

/**
 * Clicks into the code cell at `index` (right of its last line: the top of the
 * first cell can be under the insert-cell toolbar that overlays the list's
 * top), goes to the end of its text and types `text` key by key. Escape
 * afterwards closes any completion list and leaves the cell (so nothing is
 * accepted by accident).
 */
export async function typeAtEndOfCell(page: Page, index: number, text: string): Promise<void> {
  const row = page.locator('.notebook-editor .monaco-list-row.code-cell-row').nth(index);
  const editor = row.locator('.monaco-editor').first();
  await editor.scrollIntoViewIfNeeded();
  if (!(await editor.boundingBox())) throw new Error(`code cell ${index} is not shown`);
  // Select the cell by a click on its status bar (between its items), then edit it from the keyboard:
  // a click in the editor itself can land on a horizontal scrollbar at its bottom (a long
  // line in an editor made narrow by the history panel) or under the toolbar above the first
  // cell at its top, and then the keys go elsewhere.
  const bar = row.locator('.cell-statusbar-container').first();
  const barBox = await bar.boundingBox();
  if (!barBox) throw new Error(`code cell ${index} has no status bar`);
  await bar.click({ position: { x: barBox.width / 2, y: barBox.height / 2 } });
  // The cell is selected; Enter edits it, unless its editor kept the focus (Enter would then type a line break).
  await page.locator('.notebook-editor .monaco-list-row.code-cell-row.focused').nth(0).waitFor({ timeout: 10_000 });
  if ((await row.locator('.monaco-editor.focused').count()) === 0) await page.keyboard.press('Enter');
  await row.locator('.monaco-editor.focused').first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text, { delay: 15 });
  await page.keyboard.press('Escape');
}

export async function save(page: Page): Promise<void> {
  await page.keyboard.press('Control+S');
}

/** The messages of the notification toasts and the notification centre, as shown. */
export async function notifications(page: Page): Promise<string[]> {
  return page.locator('.notification-list-item-message').allInnerTexts();
}

/** The frame of a webview (history, activity) whose page shows `selector`. */
export async function webviewFrame(page: Page, selector: string, timeoutMs = 60_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (await frame.locator(selector).count().catch(() => 0)) return frame;
    }
    await page.waitForTimeout(300);
  }
  throw new Error(`no webview shows ${selector}`);
}

/** A picture of the window, kept with the test artefacts. */
export async function keepScreenshot(page: Page, name: string): Promise<void> {
  const dir = path.join(process.env.SQLROOM_REPO_ROOT ?? path.resolve(__dirname, '..', '..', '..'), 'test-artifacts');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `vscode-${name}.png`) }).catch(() => undefined);
}
