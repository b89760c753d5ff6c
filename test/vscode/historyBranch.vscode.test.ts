// Branch and merge in a real VS Code with the embedded sync server: branch
// from the current version (opens <name>@<branch>.sqlroom joined to room
// <docId>@<branch>), edit the branch while main is edited too, merge back:
// the main notebook shows the merged cells through its sync session and its
// history panel has a merge node and the branch labels.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import type { SqlroomApi } from '../../extension/extension';
import { formatVersion, frontiersIn, HistoryDag, historyInputFromLoro } from '../../server/shared/history';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { newDocId, serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { requestScreenshot } from '../support/screenshot';
import { closeAllEditors, setEmbeddedServer, sqlroomApi, openNotebook, sleep, tempNotebookPath, waitFor, writeFile } from './notebookTestUtils';

interface PanelSummary {
  versions: number;
  merges: { message: string; author: string }[];
  branchLabels: { index: number; names: string[] }[];
}

const texts = (nb: vscode.NotebookDocument) => nb.getCells().map((c) => c.document.getText());

describe('History branches and merges (embedded sync server)', function () {
  this.timeout(180_000);
  let api: SqlroomApi;

  before(async () => {
    api = await sqlroomApi();
    await setEmbeddedServer(true);
  });
  after(async () => {
    await closeAllEditors();
    await setEmbeddedServer(false);
  });

  it('branch from the current version, edit the branch and main, merge back: main shows the merged cells and a merge node', async () => {
    const seed = new NotebookDoc();
    seed.setAuthor('ada');
    seed.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT 1 AS one' });
    seed.commit({ message: 'initial' });
    const docId = newDocId();
    const uri = writeFile(tempNotebookPath('branchy'), serializeSqlroomFile(seed, docId));
    const main = (await openNotebook(uri)).notebook;
    const session = await api.collab.sessionFor(main);
    assert.ok(session, 'the notebook joined the embedded server');
    await session.client.whenSynced();
    const mainDoc = api.registry.get(docId)!;

    // Branch from the current version.
    const forkVersion = formatVersion(mainDoc.doc.frontiers());
    const branchUriText = await vscode.commands.executeCommand<string>('sqlroom.branchFromVersion', docId, forkVersion, 'feature');
    assert.ok(branchUriText, 'the branch notebook opened');
    const branchUri = vscode.Uri.parse(branchUriText);
    assert.strictEqual(path.basename(branchUri.path), path.basename(uri.path).replace(/\.sqlroom$/, '@feature.sqlroom'));
    assert.strictEqual(path.dirname(branchUri.fsPath), path.dirname(uri.fsPath), 'written next to the original');
    const branch = vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === branchUri.toString())!;
    assert.strictEqual(branch.metadata.docId, `${docId}@feature`);
    assert.deepStrictEqual(texts(branch), ['SELECT 1 AS one']);
    const branchSession = await api.collab.sessionFor(branch);
    assert.ok(branchSession, 'the branch notebook joined its own room');
    assert.strictEqual(branchSession.docId, `${docId}@feature`);
    await branchSession.client.whenSynced();
    // It is editable and shares main's past (a true fork, not a copy).
    const branchDoc = api.registry.get(`${docId}@feature`)!;
    assert.doesNotThrow(() => frontiersIn(branchDoc.doc, forkVersion), 'the branch holds main\'s history up to the fork');
    assert.deepStrictEqual(historyInputFromLoro(branchDoc.doc).changes.filter((c) => c.message === 'initial').length, 1);

    // Edit the branch (a new cell) and, concurrently, main (text in cell 0).
    const onBranch = new vscode.WorkspaceEdit();
    onBranch.set(branch.uri, [vscode.NotebookEdit.insertCells(1, [new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'SELECT 42 AS answer', 'sql')])]);
    assert.ok(await vscode.workspace.applyEdit(onBranch));
    const onMain = new vscode.WorkspaceEdit();
    const cell0 = main.cellAt(0).document;
    onMain.insert(cell0.uri, cell0.positionAt(cell0.getText().length), ' -- main');
    assert.ok(await vscode.workspace.applyEdit(onMain));
    await waitFor('the branch edit in its Loro doc', () => (branchDoc.toData().cells.length === 2 ? true : undefined));
    await waitFor('the main edit in its Loro doc', () => (mainDoc.toData().cells[0].source.endsWith(' -- main') ? true : undefined));
    await branchSession.client.whenSynced();
    await session.client.whenSynced();
    assert.deepStrictEqual(texts(main), ['SELECT 1 AS one -- main'], 'main does not see the branch before the merge');

    // Merge back, from the branch notebook.
    const result = await vscode.commands.executeCommand<{ merged: boolean; newOps: number }>('sqlroom.mergeBranch', `${docId}@feature`, 'feature', 'main');
    assert.ok(result?.merged, `merged: ${JSON.stringify(result)}`);
    const want = ['SELECT 1 AS one -- main', 'SELECT 42 AS answer'];
    await waitFor(`main notebook to show the merged cells (has ${JSON.stringify(texts(main))})`, () => (JSON.stringify(texts(main)) === JSON.stringify(want) ? true : undefined));
    assert.deepStrictEqual(texts(branch), ['SELECT 1 AS one', 'SELECT 42 AS answer'], 'the branch keeps its own version');
    const again = await vscode.commands.executeCommand<{ merged: boolean }>('sqlroom.mergeBranch', `${docId}@feature`, 'feature', 'main');
    assert.strictEqual(again?.merged, false, 'merging again adds nothing');

    // A checkpoint on main: a named version in the notebook and a server snapshot with that message.
    const checkpointVersion = await vscode.commands.executeCommand<string>('sqlroom.createCheckpoint', docId, 'Merged feature');
    assert.ok(checkpointVersion, 'the checkpoint names a version');
    const httpUrl = session.endpoint.url.replace(/^ws/, 'http');
    // The embedded server has a secret: its HTTP API needs the session's token.
    const listed = (await (await fetch(`${httpUrl}/api/docs/${encodeURIComponent(docId)}/snapshots`, { headers: { authorization: `Bearer ${session.endpoint.token}` } })).json()) as { snapshots: { message: string | null; createdBy: string }[] };
    assert.ok(listed.snapshots.some((s) => s.message === 'Merged feature'), `server snapshots: ${JSON.stringify(listed.snapshots)}`);

    // A version of the branch notebook opens read-only like any other.
    const versionUriText = await vscode.commands.executeCommand<string>('sqlroom.openVersion', `${docId}@feature`, forkVersion);
    const version = vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === versionUriText)!;
    assert.deepStrictEqual(texts(version), ['SELECT 1 AS one']);

    // The host's history of main has the merge node.
    const rows = HistoryDag.build(historyInputFromLoro(mainDoc.doc)).page(0, 1000).rows;
    assert.ok(rows.some((r) => r.parents.length > 1 && r.message === 'Merge feature into main'), JSON.stringify(rows.map((r) => [r.message, r.parents.length])));

    // The history panel of main: the merge node, and the branches labelled.
    await vscode.window.showNotebookDocument(main);
    let summary: PanelSummary | undefined;
    for (let i = 0; i < 100; i++) {
      summary = await vscode.commands.executeCommand<PanelSummary>('sqlroom.showHistory', docId);
      const names = summary.branchLabels.flatMap((l) => l.names);
      if (summary.merges.length > 0 && names.includes('feature') && names.includes('main')) break;
      await sleep(100);
    }
    assert.ok(summary);
    assert.deepStrictEqual(summary.merges.map((m) => m.message), ['Merge feature into main']);
    assert.deepStrictEqual([...new Set(summary.branchLabels.flatMap((l) => l.names))].sort(), ['feature', 'main'], JSON.stringify(summary.branchLabels));
    await sleep(1500); // let the webview draw before the screenshot
    await requestScreenshot('history-branch-merge');
  });

  it('says branching needs the sync server when the notebook has none', async () => {
    await setEmbeddedServer(false);
    try {
      const seed = new NotebookDoc();
      seed.insertCell(0, { source: 'SELECT 1' });
      seed.commit();
      const docId = newDocId();
      const main = (await openNotebook(writeFile(tempNotebookPath('offline-branch'), serializeSqlroomFile(seed, docId)))).notebook;
      assert.strictEqual(await api.collab.sessionFor(main), undefined);
      const version = formatVersion(api.registry.get(docId)!.doc.frontiers());
      await assert.rejects(
        Promise.resolve(vscode.commands.executeCommand('sqlroom.branchFromVersion', docId, version, 'x')),
        /Branches live on the sync server.*sqlroom\.server\.embedded.*sqlroom\.server\.url/s,
      );
      await assert.rejects(Promise.resolve(vscode.commands.executeCommand('sqlroom.mergeBranch', docId, 'main', 'x')), /Branches live on the sync server/);
    } finally {
      await setEmbeddedServer(true);
    }
  });
});
