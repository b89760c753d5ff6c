// Live collaboration inside a real VS Code: the extension's embedded sync
// server, a headless Loro collaborator (our room client) editing the same
// room while the test drives the VS Code notebook; both converge, cell ids
// stay stable, remote edits are not echoed back, the cursor does not jump,
// undo touches only local edits; a team server stopped and restarted merges
// offline edits from both sides; reopening while offline shows the local state.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { SqlroomApi } from '../../extension/extension';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { serializeSqlroomFile, newDocId } from '../../server/shared/sqlroomFile';
import { TeamServer } from './teamServer';
import { requestScreenshot } from '../support/screenshot';
import { HeadlessPeer } from './collabPeer';
import { closeAllEditors, setEmbeddedServer, sqlroomApi, openNotebook, tempNotebookPath, waitFor, writeFile } from './notebookTestUtils';

function vsCells(nb: vscode.NotebookDocument) {
  return nb.getCells().map((c) => ({ id: c.metadata?.id as string, source: c.document.getText(), language: c.document.languageId, name: c.metadata?.name as string | undefined }));
}

function peerCells(p: HeadlessPeer) {
  return p.cells().map((c) => ({ id: c.id, source: c.source, language: c.language, name: c.name }));
}

function same(nb: vscode.NotebookDocument, p: HeadlessPeer): true | undefined {
  return JSON.stringify(vsCells(nb)) === JSON.stringify(peerCells(p)) ? true : undefined;
}

function notebookFile(stem: string, sources: string[]): { uri: vscode.Uri; docId: string } {
  const nb = new NotebookDoc();
  sources.forEach((source, i) => nb.insertCell(i, { kind: 'code', language: 'sql', source }));
  nb.commit({ message: 'initial' });
  const docId = newDocId();
  return { uri: writeFile(tempNotebookPath(stem), serializeSqlroomFile(nb, docId)), docId };
}

async function typeIn(cell: vscode.NotebookCell, offset: number, text: string): Promise<void> {
  const edit = new vscode.WorkspaceEdit();
  edit.insert(cell.document.uri, cell.document.positionAt(offset), text);
  assert.ok(await vscode.workspace.applyEdit(edit), 'VS Code applied the local edit');
}

describe('Live collaboration (embedded sync server + a headless collaborator)', function () {
  this.timeout(120_000);
  let api: SqlroomApi;
  const peers: HeadlessPeer[] = [];
  const config = () => vscode.workspace.getConfiguration('sqlroom.server');

  before(async () => {
    api = await sqlroomApi();
    await setEmbeddedServer(true);
  });
  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    await closeAllEditors();
  });
  after(async () => {
    await config().update('url', undefined, vscode.ConfigurationTarget.Workspace);
    await setEmbeddedServer(false);
  });

  async function openShared(stem: string, sources: string[]) {
    const { uri, docId } = notebookFile(stem, sources);
    const editor = await openNotebook(uri);
    const session = await api.collab.sessionFor(editor.notebook);
    assert.ok(session, 'the notebook joined a sync session');
    await session.client.whenSynced();
    return { editor, notebook: editor.notebook, session, docId, uri };
  }

  it('opening a notebook starts the embedded server; a colleague edits live; both converge, ids stable, no echo, cursor stays', async () => {
    const { notebook, session, docId } = await openShared('collab-live', ['SELECT 1 AS one', 'SELECT 2 AS two\nFROM range(3)']);
    assert.strictEqual(session.endpoint.kind, 'embedded');
    assert.match(session.endpoint.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
    const robot = new HeadlessPeer(session.endpoint.url, docId, 'robot', session.endpoint.token);
    peers.push(robot);
    await waitFor('the colleague to receive the notebook', () => (robot.cells().length === 2 ? true : undefined));
    const ids = vsCells(notebook).map((c) => c.id);
    assert.deepStrictEqual(robot.cells().map((c) => c.id), ids, 'same cell ids on both sides');

    // The cursor in cell 1 (line 1, col 4); the colleague types above it and after it.
    await vscode.window.showNotebookDocument(notebook, { selections: [new vscode.NotebookRange(1, 2)] });
    const cellEditor = await waitFor('the text editor of cell 1', () => vscode.window.visibleTextEditors.find((e) => e.document === notebook.cellAt(1).document));
    cellEditor.selection = new vscode.Selection(1, 4, 1, 4);
    const commitsBefore = api.tracker.stats.localCommits;
    robot.type(1, 0, '-- by robot\n');
    robot.type(1, robot.editor[1].source.length, ' t(i)');
    robot.edit((cells) => cells.push({ id: '', kind: 'code', language: 'sql', source: 'SELECT 3 -- new from robot', metadata: {} }));
    await waitFor('VS Code to show the colleague edits', () => same(notebook, robot));
    await api.tracker.whenIdle(notebook);
    assert.strictEqual(api.tracker.stats.localCommits, commitsBefore, 'remote edits were not echoed back into Loro');
    assert.deepStrictEqual(vsCells(notebook).slice(0, 2).map((c) => c.id), ids, 'ids unchanged');
    assert.strictEqual(notebook.cellAt(1).document.getText(), '-- by robot\nSELECT 2 AS two\nFROM range(3) t(i)');
    const sel = cellEditor.selection.active;
    assert.deepStrictEqual([sel.line, sel.character], [2, 4], 'the cursor moved down with the inserted line, not to the edit');

    // Both type at once in the same cell; each keystroke is one small Loro update.
    const vsUpdates: number[] = [];
    const stop = api.registry.get(docId)!.doc.subscribeLocalUpdates((u) => vsUpdates.push(u.length));
    await typeIn(notebook.cellAt(0), 0, '-- vs\n');
    robot.type(0, robot.editor[0].source.length, ' -- robot');
    await typeIn(notebook.cellAt(2), 0, 'EXPLAIN ');
    await waitFor('convergence after concurrent typing', () => same(notebook, robot));
    stop();
    assert.strictEqual(notebook.cellAt(0).document.getText(), '-- vs\nSELECT 1 AS one -- robot');
    assert.ok(vsUpdates.length >= 2 && vsUpdates.every((n) => n < 400), `local edits go out as small updates: ${vsUpdates.join(', ')} bytes`);
    await session.client.whenSynced();
    assert.match(api.collab.statusText, /connected/);
    await vscode.commands.executeCommand('notebook.focusTop');
    await requestScreenshot('collab-live');
  });

  it('remote cell insert, delete, move, language and name changes appear in VS Code; VS Code structure edits reach the colleague', async () => {
    const { notebook, session, docId } = await openShared('collab-structure', ['SELECT 1', 'SELECT 2', 'SELECT 3', 'SELECT 4']);
    const robot = new HeadlessPeer(session.endpoint.url, docId, 'robot', session.endpoint.token);
    peers.push(robot);
    await waitFor('robot joined', () => (robot.cells().length === 4 ? true : undefined));
    const ids = robot.cells().map((c) => c.id);
    robot.edit((cells) => {
      const [moved] = cells.splice(3, 1);
      cells.unshift(moved); // 4 1 2 3
      cells.splice(2, 1); // delete "SELECT 1"... index 2 is "SELECT 2" after the move
      cells[1].language = 'python';
      cells[2].name = 'three';
      cells.push({ id: '', kind: 'markup', language: 'markdown', source: '# from robot', metadata: {} });
    });
    await waitFor('VS Code to show the structure changes', () => same(notebook, robot));
    const shown = vsCells(notebook);
    assert.deepStrictEqual(shown.slice(0, 3).map((c) => c.id), [ids[3], ids[0], ids[2]], 'moved cells keep their ids');
    assert.strictEqual(shown[1].language, 'python');
    assert.strictEqual(shown[2].name, 'three');
    assert.strictEqual(notebook.cellAt(3).kind, vscode.NotebookCellKind.Markup);

    // VS Code side: insert, delete, move with the editor's command, rename.
    const edit = new vscode.WorkspaceEdit();
    edit.set(notebook.uri, [
      vscode.NotebookEdit.insertCells(1, [new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'SELECT 42 -- from VS Code', 'sql')]),
      vscode.NotebookEdit.deleteCells(new vscode.NotebookRange(3, 4)),
    ]);
    assert.ok(await vscode.workspace.applyEdit(edit));
    const editor = await vscode.window.showNotebookDocument(notebook);
    editor.selections = [new vscode.NotebookRange(0, 1)];
    await vscode.commands.executeCommand('notebook.cell.moveDown');
    await vscode.commands.executeCommand('sqlroom.setCellName', notebook.cellAt(2), 'renamed');
    await waitFor('the colleague to see VS Code structure edits', () => same(notebook, robot));
    const after = peerCells(robot);
    assert.ok(after.some((c) => c.source === 'SELECT 42 -- from VS Code'));
    assert.strictEqual(new Set(after.map((c) => c.id)).size, after.length, 'no duplicated cells');
  });

  it('conflicting concurrent edits converge: both type in one cell, one deletes a cell the other edits, both move cells', async () => {
    const { notebook, session, docId, editor } = await openShared('collab-conflict', ['SELECT 0', 'SELECT 1', 'SELECT 2', 'SELECT 3']);
    const robot = new HeadlessPeer(session.endpoint.url, docId, 'robot', session.endpoint.token);
    peers.push(robot);
    await waitFor('robot joined', () => (robot.cells().length === 4 ? true : undefined));
    const ids = robot.cells().map((c) => c.id);
    robot.offline(); // its edits below are concurrent with VS Code's
    robot.type(0, 'SELECT 0'.length, ' -- robot');
    robot.edit((cells) => {
      cells.splice(1, 1); // deletes the cell VS Code is about to edit
      const [three] = cells.splice(2, 1);
      cells.unshift(three); // SELECT 3 to the top
    });
    await typeIn(notebook.cellAt(0), 'SELECT 0'.length, ' -- vs');
    await typeIn(notebook.cellAt(1), 0, '-- edited in VS Code\n');
    editor.selections = [new vscode.NotebookRange(2, 3)];
    await vscode.commands.executeCommand('notebook.cell.moveUp'); // SELECT 2 above SELECT 1
    await waitFor('the local move', () => (notebook.cellAt(1).metadata.id === ids[2] ? true : undefined));
    robot.online();
    await waitFor('everyone to converge', () => same(notebook, robot), 60_000);
    const shown = vsCells(notebook);
    assert.strictEqual(new Set(shown.map((c) => c.id)).size, shown.length, 'no duplicated cells');
    assert.ok(!shown.some((c) => c.id === ids[1]), 'the deleted cell stays deleted');
    const zero = shown.find((c) => c.id === ids[0])!;
    assert.ok(zero.source.includes(' -- robot') && zero.source.includes(' -- vs'), `both typed in cell 0: ${zero.source}`);
    assert.deepStrictEqual(shown.map((c) => c.id).sort(), [ids[0], ids[2], ids[3]].sort());
  });

  it('undo in VS Code undoes only its own edit, never the colleague\u2019s', async () => {
    const { notebook, session, docId, editor } = await openShared('collab-undo', ['SELECT 1']);
    const robot = new HeadlessPeer(session.endpoint.url, docId, 'robot', session.endpoint.token);
    peers.push(robot);
    await waitFor('robot joined', () => (robot.cells().length === 1 ? true : undefined));
    await typeIn(notebook.cellAt(0), 'SELECT 1'.length, ' AS mine');
    await waitFor('robot sees the VS Code edit', () => same(notebook, robot));
    robot.type(0, 0, '-- theirs\n');
    await waitFor('VS Code sees the robot edit', () => same(notebook, robot));
    await vscode.window.showNotebookDocument(notebook);
    assert.strictEqual(vscode.window.activeNotebookEditor?.notebook, editor.notebook);
    assert.strictEqual(await vscode.commands.executeCommand('sqlroom.undo'), true, 'there was a local change to undo');
    await waitFor('undo to reach VS Code', () => (notebook.cellAt(0).document.getText() === '-- theirs\nSELECT 1' ? true : undefined));
    await waitFor('undo to reach the colleague', () => same(notebook, robot));
    assert.strictEqual(await vscode.commands.executeCommand('sqlroom.redo'), true);
    await waitFor('redo', () => (notebook.cellAt(0).document.getText() === '-- theirs\nSELECT 1 AS mine' ? true : undefined));
    await waitFor('redo reaches the colleague', () => same(notebook, robot));
  });

  it('Share shows server, room and token; a second notebook joined by URL and room converges', async () => {
    const { notebook, docId } = await openShared('collab-share', ['SELECT 10']);
    await vscode.window.showNotebookDocument(notebook);
    const info = (await vscode.commands.executeCommand('sqlroom.shareNotebook', 'write')) as { url: string; room: string; token?: string; permission?: string };
    assert.strictEqual(info.room, docId);
    assert.match(info.url, /^ws:\/\//);
    assert.ok(info.token, 'the embedded server needs a token');
    assert.match(info.token, /^sqr1\./, 'a signed token for this document');
    assert.strictEqual(info.permission, 'write');
    // Join by URL and room (what a colleague types in): an untitled notebook fills with the cells.
    const joined = (await vscode.commands.executeCommand('sqlroom.joinNotebook', info.url, info.room, info.token)) as vscode.NotebookEditor;
    assert.ok(joined && joined.notebook !== notebook);
    assert.match(joined.notebook.uri.path, new RegExp(`${docId}\\.sqlroom$`), 'a file named after the room');
    await waitFor('the joined notebook to show the cells', () => (joined.notebook.cellCount === 1 && joined.notebook.cellAt(0).document.getText() === 'SELECT 10' ? true : undefined));
    assert.strictEqual(joined.notebook.cellAt(0).metadata.id, notebook.cellAt(0).metadata.id);
    await typeIn(joined.notebook.cellAt(0), 0, '-- joined\n');
    await waitFor('the edit in the joined notebook to show in the first', () => (notebook.cellAt(0).document.getText() === '-- joined\nSELECT 10' ? true : undefined));
    // A wrong token is refused.
    const intruder = new HeadlessPeer(info.url, docId, 'intruder', 'wrong');
    peers.push(intruder);
    await waitFor('the join with a wrong token to be refused', () => (intruder.client.current.state === 'error' ? true : undefined));
    assert.strictEqual(intruder.cells().length, 0);
    // A read-only share: the colleague follows, and their edit is refused (never reaches the notebook).
    await vscode.window.showNotebookDocument(notebook);
    const ro = (await vscode.commands.executeCommand('sqlroom.shareNotebook', 'read')) as { token: string; permission: string };
    assert.strictEqual(ro.permission, 'read');
    const follower = new HeadlessPeer(info.url, docId, 'follower', ro.token);
    peers.push(follower);
    await waitFor('the read-only colleague to receive the cells', () => (follower.cells().length === 1 && follower.cells()[0].source === '-- joined\nSELECT 10' ? true : undefined));
    // The client knows it joined read-only (the status says so) and keeps its edits local; the server refuses any it sent (unit tests).
    await waitFor('the colleague to know it is read-only', () => (follower.client.current.state === 'connected' && follower.client.current.detail === 'read-only' ? true : undefined));
    follower.type(0, 0, '-- vandal\n');
    await new Promise((r) => setTimeout(r, 300));
    assert.strictEqual(notebook.cellAt(0).document.getText(), '-- joined\nSELECT 10');
  });
});

describe('Live collaboration with a team server: offline, reconnect, restart', function () {
  this.timeout(180_000);
  let api: SqlroomApi;
  let server: TeamServer | undefined;
  let dir: string;
  const peers: HeadlessPeer[] = [];
  const config = () => vscode.workspace.getConfiguration('sqlroom.server');

  before(async () => {
    api = await sqlroomApi();
    dir = path.join(path.dirname(tempNotebookPath('x')), `team-server-${process.pid}-${Date.now()}`);
    fs.mkdirSync(dir, { recursive: true });
    server = await TeamServer.start(path.join(dir, 'team.duckdb'));
    await config().update('url', server.url, vscode.ConfigurationTarget.Workspace);
  });
  after(async () => {
    for (const p of peers.splice(0)) p.close();
    await closeAllEditors();
    await config().update('url', undefined, vscode.ConfigurationTarget.Workspace);
    await server?.close();
  });

  it('server stopped: the notebook stays editable; both sides edit; on restart everything merges and the status says so; reopening offline shows the local state', async () => {
    const { uri, docId } = notebookFile('collab-offline', ['SELECT 1', 'SELECT 2']);
    const editor = await openNotebook(uri);
    const notebook = editor.notebook;
    const session = await api.collab.sessionFor(notebook);
    assert.ok(session);
    assert.strictEqual(session.endpoint.kind, 'team');
    await session.client.whenSynced();
    const robot = new HeadlessPeer(server!.url, docId, 'robot');
    peers.push(robot);
    await waitFor('robot joined', () => (robot.cells().length === 2 ? true : undefined));

    const port = server!.port;
    await server!.close();
    server = undefined;
    await waitFor('VS Code to notice it is offline', () => (session.status.state === 'offline' ? true : undefined));
    await vscode.window.showNotebookDocument(notebook);
    await waitFor('the status bar to say offline', () => (/offline/.test(api.collab.statusText) ? true : undefined));
    // Offline edits on both sides.
    await typeIn(notebook.cellAt(0), 'SELECT 1'.length, ' -- vs offline');
    const edit = new vscode.WorkspaceEdit();
    edit.set(notebook.uri, [vscode.NotebookEdit.insertCells(2, [new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'SELECT 3 -- vs offline', 'sql')])]);
    assert.ok(await vscode.workspace.applyEdit(edit));
    robot.type(1, 0, '-- robot offline\n');
    assert.ok(session.status.pending > 0, 'local changes are counted as pending');
    await waitFor('the status to count local changes', () => (/offline \(\d+ local change/.test(api.collab.statusText) ? true : undefined));

    // Reopening while offline shows the latest local state, not only what was
    // saved: the file on disk still has the old cells; opening it again (here
    // as a copy, since VS Code keeps the dirty notebook open) reads the file
    // plus the offline cache, as a restarted VS Code would.
    await waitFor('the offline cache to hold the edits', () => {
      const bytes = api.registry.cachedState(docId);
      const cells = bytes ? NotebookDoc.fromSnapshot(bytes).toData().cells : [];
      return cells.length === 3 && cells[0].source === 'SELECT 1 -- vs offline' ? true : undefined;
    });
    const copy = tempNotebookPath('collab-offline-reopened');
    fs.copyFileSync(uri.fsPath, copy);
    const reopened = (await openNotebook(vscode.Uri.file(copy))).notebook;
    assert.notStrictEqual(reopened, notebook);
    await waitFor('the reopened notebook to show the offline edits', () =>
      reopened.cellCount === 3 && reopened.cellAt(0).document.getText() === 'SELECT 1 -- vs offline' ? true : undefined,
    );

    server = await TeamServer.start(path.join(dir, 'team.duckdb'), port);
    const s2 = await api.collab.sessionFor(reopened);
    assert.ok(s2);
    await waitFor('both sides to merge after the restart', () => same(reopened, robot), 60_000);
    await waitFor('the first notebook to merge too', () => same(notebook, robot), 60_000);
    assert.deepStrictEqual(vsCells(reopened).map((c) => c.source), ['SELECT 1 -- vs offline', '-- robot offline\nSELECT 2', 'SELECT 3 -- vs offline']);
    await s2.client.whenSynced();
    await vscode.window.showNotebookDocument(reopened);
    await waitFor('the status to say it is back and merged', () => (/back online, merged/.test(api.collab.statusText) ? true : undefined));
    // A notebook file that names its server joins that server.
    const named = new NotebookDoc();
    named.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT 99' });
    named.commit();
    const namedId = newDocId();
    const namedUri = writeFile(tempNotebookPath('collab-named-server'), serializeSqlroomFile(named, namedId, { server: server.url }));
    await config().update('url', undefined, vscode.ConfigurationTarget.Workspace);
    const namedNb = (await openNotebook(namedUri)).notebook;
    const namedSession = await api.collab.sessionFor(namedNb);
    assert.ok(namedSession);
    assert.strictEqual(namedSession.endpoint.kind, 'team');
    assert.strictEqual(namedSession.endpoint.url, server.url);
    await namedSession.client.whenSynced();
    // Nothing lost on the server: a fresh client sees everything.
    const late = new HeadlessPeer(server.url, docId, 'late');
    peers.push(late);
    await waitFor('a late joiner sees the merged notebook', () => same(reopened, late));
  });
});

describe('Presence: who is here and in which cell (the embedded server relays %EPH)', function () {
  this.timeout(120_000);
  let api: SqlroomApi;
  const peers: HeadlessPeer[] = [];
  const config = () => vscode.workspace.getConfiguration('sqlroom.server');

  before(async () => {
    api = await sqlroomApi();
    await config().update('url', undefined, vscode.ConfigurationTarget.Workspace);
    await setEmbeddedServer(true);
  });
  after(async () => {
    for (const p of peers.splice(0)) p.close();
    await closeAllEditors();
    await setEmbeddedServer(false);
  });

  it('the status bar names the colleague, their cell is marked, and they see which cell we are in', async () => {
    const { uri, docId } = notebookFile('collab-presence', ['SELECT 1', 'SELECT 2 -- robot is here', 'SELECT 3']);
    const editor = await openNotebook(uri);
    const notebook = editor.notebook;
    const session = await api.collab.sessionFor(notebook);
    assert.ok(session);
    assert.strictEqual(session.endpoint.kind, 'embedded');
    await waitFor('presence to be joined', () => (session.status.presence === true ? true : undefined));
    const robot = new HeadlessPeer(session.endpoint.url, docId, 'robot', session.endpoint.token);
    peers.push(robot);
    await waitFor('robot joined', () => (robot.cells().length === 3 ? true : undefined));
    robot.presence.setCell(String(notebook.cellAt(1).metadata.id));
    await waitFor('VS Code to see robot in cell 2', () => (session.others().some((o) => o.name === 'robot' && o.cellId === notebook.cellAt(1).metadata.id) ? true : undefined));
    await vscode.window.showNotebookDocument(notebook);
    await waitFor('the status bar to name robot', () => (/robot/.test(api.collab.statusText) ? true : undefined));
    assert.deepStrictEqual(api.collab.collaboratorsInCell(notebook.cellAt(1)), ['robot']);
    editor.selections = [new vscode.NotebookRange(2, 3)];
    const me = await waitFor('robot to see which cell we are in', () => robot.presence.others().find((o) => o.cellId === notebook.cellAt(2).metadata.id));
    assert.ok(me.name.length > 0);
    await requestScreenshot('collab-presence');
  });
});
