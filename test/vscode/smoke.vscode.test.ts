// Smoke test of the installed extension in a real VS Code: it is present,
// activates, registers its commands and opens a .sqlroom file as a notebook.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { requestScreenshot } from '../support/screenshot';

const EXTENSION_ID = 'sqlroom.sqlroom';

describe('SQLRoom extension (smoke)', () => {
  it('is installed and activates', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not installed in this VS Code`);
    await ext.activate();
    assert.strictEqual(ext.isActive, true);
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
    await vscode.window.showNotebookDocument(doc);
    await requestScreenshot('smoke-notebook');
  });
});
