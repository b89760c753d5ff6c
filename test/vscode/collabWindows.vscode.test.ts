// Two VS Code windows on one notebook: a second workbench page of the same
// code-server (its own extension host, which finds the user's one local sync
// server, a separate process) edits the notebook while this window does; both
// see each other's presence and end with the same cells. One screenshot shows both windows side by side.
// Only on the code-server route (a second page needs its URL); skipped elsewhere.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { newDocId, serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { requestScreenshot } from '../support/screenshot';
import type { SecondWindowResult, SecondWindowTask } from './secondWindow';
import { closeAllEditors, setEmbeddedServer, sqlroomApi, openNotebook, tempNotebookPath, waitFor, writeFile } from './notebookTestUtils';
import { codeServerAddress, launchChromium, type Browser } from './workbenchPage';

describe('Two VS Code windows on one notebook', function () {
  this.timeout(240_000);
  const results = process.env.SQLROOM_TEST_RESULTS;
  const address = codeServerAddress();
  let browser: Browser | undefined;

  before(function () {
    if (!results || !address) this.skip();
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    // A page a later test opens must not take this task again.
    if (results) for (const f of ['.window2.json', '.window2.claimed']) fs.rmSync(`${results}${f}`, { force: true });
    await closeAllEditors();
    await setEmbeddedServer(false);
  });

  it('edits from both windows converge; the screenshot shows both', async () => {
    const api = await sqlroomApi();
    await setEmbeddedServer(true);
    const nb0 = new NotebookDoc();
    nb0.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT 1 AS a' });
    nb0.insertCell(1, { kind: 'code', language: 'sql', source: 'SELECT 2 AS b' });
    nb0.commit();
    const file = tempNotebookPath('two-windows');
    const uri = writeFile(file, serializeSqlroomFile(nb0, newDocId()));
    const editor = await openNotebook(uri);
    const notebook = editor.notebook;
    const session = await api.collab.sessionFor(notebook);
    assert.ok(session && session.endpoint.kind === 'embedded');
    await session.client.whenSynced();

    const task: SecondWindowTask = { notebook: file, type: '-- window 2\n', insert: 'SELECT 3 AS c -- window 2', waitFor: '-- window 1' };
    fs.writeFileSync(`${results}.window2.json`, JSON.stringify(task));
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    await page.goto(`http://${address}/?folder=${encodeURIComponent(folder)}`, { waitUntil: 'domcontentloaded', timeout: 120_000 });

    // This window edits too (the second window waits for it).
    const edit = new vscode.WorkspaceEdit();
    edit.insert(notebook.cellAt(1).document.uri, new vscode.Position(0, 0), '-- window 1\n');
    assert.ok(await vscode.workspace.applyEdit(edit));

    await waitFor('the second window edits to arrive here', () =>
      notebook.cellCount === 3 && notebook.cellAt(0).document.getText().startsWith('-- window 2') ? true : undefined,
    180_000);
    const resultFile = `${results}.window2.result.json`;
    const result = await waitFor('the second window to report', () =>
      fs.existsSync(resultFile) ? (JSON.parse(fs.readFileSync(resultFile, 'utf8')) as SecondWindowResult) : undefined,
    120_000);
    assert.strictEqual(result.error, undefined, result.error);
    // One local server for both windows, in its own process: the same URL and pid, not this extension host.
    assert.deepStrictEqual(result.server, { url: session.endpoint.url, kind: 'embedded', pid: api.collab.embedded.pid });
    assert.ok(api.collab.embedded.pid && api.collab.embedded.pid !== process.pid, 'the server runs outside the extension host');
    // Each window sees the other as a collaborator (presence through the shared server).
    assert.ok(result.others && result.others.length > 0, 'the second window saw the first one');
    await waitFor('this window to see the second one', () => (session.others().length > 0 ? true : undefined), 60_000);
    assert.match(api.collab.statusText, /connected · /);
    await api.tracker.whenIdle(notebook);
    const here = notebook.getCells().map((c) => ({ id: String(c.metadata?.id ?? ''), source: c.document.getText() }));
    assert.deepStrictEqual(result.cells, here, 'both windows show the same cells');
    assert.deepStrictEqual(here.map((c) => c.source), ['-- window 2\nSELECT 1 AS a', '-- window 1\nSELECT 2 AS b', 'SELECT 3 AS c -- window 2']);

    // One picture of both windows: this one (taken by the harness) and the second page.
    await vscode.window.showNotebookDocument(notebook);
    await vscode.commands.executeCommand('notebook.focusTop');
    await requestScreenshot('collab-window-1');
    const artifacts = path.join(process.env.SQLROOM_REPO_ROOT ?? path.resolve(__dirname, '..', '..', '..'), 'test-artifacts');
    const second = await page.screenshot();
    const firstFile = path.join(artifacts, 'vscode-collab-window-1.png');
    if (fs.existsSync(firstFile)) {
      const b64 = (b: Buffer) => `data:image/png;base64,${b.toString('base64')}`;
      const both = await browser.newPage({ viewport: { width: 2820, height: 960 } });
      await both.setContent(
        `<body style="margin:0;background:#333;color:#fff;font:16px sans-serif;display:flex;gap:20px">` +
          `<figure style="margin:0"><figcaption>window 1</figcaption><img width="1400" src="${b64(fs.readFileSync(firstFile))}"></figure>` +
          `<figure style="margin:0"><figcaption>window 2</figcaption><img width="1400" src="${b64(second)}"></figure></body>`,
      );
      fs.writeFileSync(path.join(artifacts, 'vscode-collab-two-windows.png'), await both.screenshot());
      await both.close();
    }
  });
});
