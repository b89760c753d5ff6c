// Branch actions of the history webview in Chromium, with the real
// HistoryController: branch heads from the server label their rows, "Branch
// from here…" sends the selected version, "Merge <branch> into…" sends merge;
// without a server (no heads) there are no labels.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Browser } from 'playwright-core';
import { HistoryDag, historyInputFromLoro, type DagRow } from '../../server/shared/history';
import { teamHistory } from '../support/historyFixture';
import { bundleHistory, openHistoryPage, startHistoryServer, type HistoryPageHandle, type HistoryServer } from './historyPage';
import { launchChromium } from './rendererPage';
import { repoRoot } from './rendererServer';

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting until ${what}`);
}

describe('history webview branch actions in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let server: HistoryServer;
  let h: HistoryPageHandle;
  let rows: DagRow[];
  let bobRow: number;

  before(async () => {
    server = await startHistoryServer(await bundleHistory());
    browser = await launchChromium();
    const { alice, bob } = teamHistory();
    const dag = HistoryDag.build(historyInputFromLoro(alice.doc));
    rows = dag.page(0, 100).rows;
    const head = bob.doc.oplogFrontiers()[0];
    bobRow = dag.rowIndexOfOp(head.peer, head.counter);
    h = await openHistoryPage(browser, server.url, alice, { title: 'orders@feature.sqlroom' });
    await h.page.waitForSelector('.row[data-version]');
    h.controller.setBranchHeads([
      { branch: 'feature', head: alice.doc.oplogFrontiers() },
      { branch: 'bob-work', head: bob.doc.oplogFrontiers() },
      { branch: 'unrelated', head: [{ peer: '77', counter: 1 }] },
    ]);
  });

  after(async () => {
    await h?.close();
    await browser?.close();
    await server?.close();
  });

  afterEach(() => assert.deepStrictEqual(h.errors, []));

  it('labels the rows holding branch heads', async () => {
    await until('two branch badges', async () => (await h.page.locator('.branch-badge').count()) === 2);
    const badges = await h.page.$$eval('.branch-badge', (els) => els.map((e) => [(e.closest('.row') as HTMLElement).dataset.version, e.textContent]));
    assert.deepStrictEqual(badges, [
      [rows[0].version, '⎇ feature'],
      [rows[bobRow].version, '⎇ bob-work'],
    ]);
    assert.ok(bobRow > 0);
    fs.mkdirSync(path.join(repoRoot(), 'test-artifacts'), { recursive: true });
    await h.page.screenshot({ path: path.join(repoRoot(), 'test-artifacts', 'history-branch-labels.png') });
  });

  it('"Branch from here…" sends the selected version; the merge button names the branch in its tooltip and sends merge', async () => {
    const target = rows[2];
    await h.page.click(`.row[data-version="${target.version}"]`);
    await h.page.click('button:has-text("Branch from here")');
    await until('the branch action', () => h.actions.some((a) => a.action === 'branch'));
    const call = h.actions.find((a) => a.action === 'branch')!;
    assert.strictEqual(call.args[0], target.version);
    // The host said this notebook is the main branch (default): the button's tooltip names it.
    assert.match((await h.page.getAttribute('button:has-text("Merge…")', 'title')) ?? '', /^Merge main into another branch, or another branch into main/);
    await h.page.click('button:has-text("Merge…")');
    await until('the merge action', () => h.actions.some((a) => a.action === 'merge'));
  });

  it('without a server there are no labels', async () => {
    h.controller.setBranchHeads(undefined);
    await until('no badges', async () => (await h.page.locator('.branch-badge').count()) === 0);
    const last = [...h.received].reverse().find((m) => m.type === 'branches');
    assert.deepStrictEqual(last && last.type === 'branches' ? [last.online, last.labels] : undefined, [false, []]);
  });
});
