// Smoke test of the installed extension in a real VS Code: it is present,
// activates, registers its commands and opens a .sqlroom file as a notebook.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { requestScreenshot } from '../support/screenshot';
import { selectSqlroomKernel, waitFor } from './notebookTestUtils';

const EXTENSION_ID = 'sqlroom.sqlroom';

describe('SQLRoom extension (smoke)', () => {
  it('is installed and activates', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not installed in this VS Code`);
    await ext.activate();
    assert.strictEqual(ext.isActive, true);
    // The VSIX route (SQLROOM_VSCODE_EXTENSION=vsix): the extension running is
    // the copy installed from the VSIX, not the repo.
    if (process.env.SQLROOM_EXPECT_VSIX === '1') {
      const loadedFrom = fs.realpathSync(ext.extensionPath);
      const extDir = fs.realpathSync(process.env.SQLROOM_EXTENSIONS_DIR ?? '');
      const repo = fs.realpathSync(process.env.SQLROOM_REPO_ROOT ?? path.resolve(__dirname, '..', '..', '..'));
      assert.ok(loadedFrom.startsWith(extDir + path.sep) && loadedFrom !== repo,
        `expected the extension installed in ${extDir}, but it was loaded from ${loadedFrom}`);
    }
  });

  it('registers its commands', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('sqlroom.newNotebook'), 'command sqlroom.newNotebook is not registered');
  });

  it('opens test/fixtures/workspace/sample.sqlroom as a sqlroom notebook', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test workspace folder is not open');
    const uri = vscode.Uri.joinPath(folder.uri, 'sample.sqlroom');
    const doc = await vscode.workspace.openNotebookDocument(uri);
    assert.strictEqual(doc.notebookType, 'sqlroom');
  });

  // Runs last in the suite (files run in name order) and leaves the notebook
  // open with its results: that is what test-artifacts/vscode-workbench.png shows.
  it('runs every cell of sample.sqlroom and leaves it open with results', async function () {
    this.timeout(120_000);
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test workspace folder is not open');
    const doc = await vscode.workspace.openNotebookDocument(vscode.Uri.joinPath(folder.uri, 'sample.sqlroom'));
    const editor = await vscode.window.showNotebookDocument(doc);
    await selectSqlroomKernel(editor);
    await vscode.commands.executeCommand('notebook.execute', doc.uri);
    const code = doc.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code);
    assert.ok(code.length > 0, 'the sample has code cells');
    await waitFor('every code cell to finish', () => (code.every((c) => c.executionSummary?.success !== undefined) ? true : undefined), 90_000);
    for (const c of code) assert.strictEqual(c.executionSummary?.success, true, `cell ${c.index} failed`);
    await vscode.commands.executeCommand('notebook.focusTop');
    await requestScreenshot('smoke-notebook');
  });
});
