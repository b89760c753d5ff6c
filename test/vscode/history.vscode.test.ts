// Version history in a real VS Code: a past version opens read-only (edits
// and saves refused, cells unchanged) and runs with the kernel; restore makes
// the notebook equal to an old version as one Loro change; checkpoints
// survive save and reload; compare opens a notebook diff; the history panel
// opens beside the notebook.
import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { SqlroomApi } from '../../extension/extension';
import { dataAt, formatVersion, HistoryDag, historyInputFromLoro } from '../../server/shared/history';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { parseSqlroomFile, serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { requestScreenshot } from '../support/screenshot';
import { closeAllEditors, EXTENSION_ID, sqlroomApi, openNotebook, resultOf, runCells, sleep, tempNotebookPath, waitFor, writeFile } from './notebookTestUtils';

const DOC_ID = 'history-test-doc';

/** A notebook with two versions: "First draft" (one cell) and "Second draft" (edited + a new cell). */
function twoVersionFile(docId: string): { bytes: Uint8Array; first: string; second: string } {
  const nb = new NotebookDoc();
  nb.setAuthor('ada');
  const id = nb.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT 1 AS answer' });
  nb.commit({ message: 'First draft' });
  const first = formatVersion(nb.doc.frontiers());
  nb.setCellSource(id, 'SELECT 2 AS answer');
  nb.insertCell(1, { kind: 'markup', language: 'markdown', source: '# Second' });
  nb.commit({ message: 'Second draft' });
  const second = formatVersion(nb.doc.frontiers());
  return { bytes: serializeSqlroomFile(nb, docId), first, second };
}

function changeIds(nb: NotebookDoc): string[] {
  return [...nb.doc.getAllChanges().values()].flat().map((c) => `${c.peer}@${c.counter}`);
}

function parseOpId(id: string): { peer: `${number}`; counter: number } {
  const [peer, counter] = id.split('@');
  return { peer: peer as `${number}`, counter: Number(counter) };
}

/** True when a change only writes meta.authors (a session registering its user name). */
function authorsOnly(nb: NotebookDoc, id: string): boolean {
  const c = nb.doc.getChangeAt(parseOpId(id));
  const ops = nb.doc.exportJsonInIdSpan({ peer: c.peer, counter: c.counter, length: c.length }).flatMap((j) => j.ops);
  return ops.every((o) => o.container.includes('$meta>author') || o.container.endsWith(':$authors'));
}

/** Each change with its message and ops, for failure messages. */
function describeChanges(nb: NotebookDoc): string {
  const all = [...nb.doc.getAllChanges().values()].flat().sort((a, b) => a.lamport - b.lamport);
  return all
    .map((c) => {
      const ops = nb.doc.exportJsonInIdSpan({ peer: c.peer, counter: c.counter, length: c.length });
      const text = JSON.stringify(ops.flatMap((j) => j.ops.map((o) => ({ c: o.container.slice(0, 24), k: Object.keys(o.content)[0] ?? '' }))));
      return `\n  ${c.peer}@${c.counter}+${c.length} ${c.message ?? ''} ${text.slice(0, 400)}`;
    })
    .join('');
}

function cellTexts(nb: vscode.NotebookDocument): string[] {
  return nb.getCells().map((c) => c.document.getText());
}

describe('version history in VS Code', function () {
  this.timeout(120_000);
  let api: SqlroomApi;

  before(async () => {
    api = await sqlroomApi();
  });

  afterEach(closeAllEditors);

  it('opens a past version read-only: edits and saves are refused, the cells stay, the kernel runs it', async () => {
    const docId = `${DOC_ID}-ro-${Date.now()}`;
    const { bytes, first } = twoVersionFile(docId);
    const live = await openNotebook(writeFile(tempNotebookPath('history-ro'), bytes));
    assert.deepStrictEqual(cellTexts(live.notebook), ['SELECT 2 AS answer', '# Second']);

    const uriText = await vscode.commands.executeCommand<string>('sqlroom.openVersion', docId, first);
    const version = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === uriText);
    assert.ok(version, `the version ${uriText} is open`);
    assert.strictEqual(version.notebookType, 'sqlroom');
    assert.strictEqual(version.uri.scheme, 'sqlroom-version');
    assert.match(decodeURIComponent(version.uri.path), /@ \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(.+\)\.sqlroom$/, 'the title names time and version');
    assert.deepStrictEqual(cellTexts(version), ['SELECT 1 AS answer']);
    assert.strictEqual(vscode.workspace.fs.isWritableFileSystem('sqlroom-version'), false);

    // A cell insert and a text edit in a cell through the API: VS Code applies
    // edits to read-only notebooks, so the extension undoes them at once.
    const insert = new vscode.WorkspaceEdit();
    insert.set(version.uri, [vscode.NotebookEdit.insertCells(0, [new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'SELECT 666', 'sql')])]);
    const inserted = await vscode.workspace.applyEdit(insert).then((ok) => ok, () => false);
    await waitFor('the version to show its own cells again', () => (cellTexts(version).join('|') === 'SELECT 1 AS answer' ? true : undefined));
    const typing = new vscode.WorkspaceEdit();
    typing.insert(version.cellAt(0).document.uri, new vscode.Position(0, 0), '-- changed\n');
    const typed = await vscode.workspace.applyEdit(typing).then((ok) => ok, () => false);
    await waitFor('the typed text to be undone', () => (cellTexts(version).join('|') === 'SELECT 1 AS answer' ? true : undefined));
    await sleep(300);
    assert.deepStrictEqual(cellTexts(version), ['SELECT 1 AS answer'], `the cells are unchanged (applyEdit returned ${inserted} for the insert, ${typed} for the typing)`);
    console.log(`      (applyEdit on the read-only version: insert -> ${inserted}, typing -> ${typed}; dirty afterwards: ${version.isDirty})`);
    const saved = await version.save().then((ok) => ok, () => false);
    assert.strictEqual(saved, false, 'saving is refused');
    // The file system refuses writes, whoever asks.
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(version.uri, new Uint8Array([1]))), /NoPermissions|permission/i);

    // It runs with the kernel.
    const editor = await vscode.window.showNotebookDocument(version);
    await vscode.commands.executeCommand('notebook.selectKernel', { notebookEditor: editor, id: 'sqlroom-duckdb', extension: EXTENSION_ID });
    const [cell] = await runCells(editor, [0]);
    assert.deepStrictEqual(resultOf(cell).rows, [[1]]);
    await requestScreenshot('history-version-readonly');
    // The live notebook and its Loro document are untouched by all this.
    assert.deepStrictEqual(cellTexts(live.notebook), ['SELECT 2 AS answer', '# Second']);
    assert.deepStrictEqual(api.registry.get(docId)!.toData().cells.map((c) => c.source), ['SELECT 2 AS answer', '# Second']);
  });

  it('restores an old version as one new change and shows it in the open notebook', async () => {
    const docId = `${DOC_ID}-restore-${Date.now()}`;
    const { bytes, first, second } = twoVersionFile(docId);
    const file = tempNotebookPath('history-restore');
    const live = await openNotebook(writeFile(file, bytes));
    const nb = api.registry.get(docId)!;
    await sleep(300); // let the tracker settle on the opened notebook
    const before = new Set(changeIds(nb));

    const restored = await vscode.commands.executeCommand<boolean>('sqlroom.restoreVersion', docId, first, { confirm: false });
    assert.strictEqual(restored, true);
    await waitFor('the notebook shows the restored cells', () => (cellTexts(live.notebook).join('|') === 'SELECT 1 AS answer' ? true : undefined));
    await sleep(500); // any echo from the change tracker would land now
    // One change restores the cells; besides it there may only be this session's
    // author entry (its own change, as Loro commits pending ops before a fork).
    const added = changeIds(nb).filter((id) => !before.has(id));
    const content = added.filter((id) => !authorsOnly(nb, id));
    assert.strictEqual(content.length, 1, `the restore is exactly one Loro change; changes: ${describeChanges(nb)}`);
    assert.match(nb.doc.getChangeAt(parseOpId(content[0])).message ?? '', /^Restored version/);
    assert.ok(added.length <= 2, `changes: ${describeChanges(nb)}`);
    assert.deepStrictEqual(nb.toData().cells, dataAt(nb, first).cells);
    assert.deepStrictEqual(live.notebook.cellAt(0).metadata.id, dataAt(nb, first).cells[0].id, 'the kept cell keeps its id');
    assert.deepStrictEqual(dataAt(nb, second).cells.map((c) => c.source), ['SELECT 2 AS answer', '# Second'], 'the replaced version is still in the history');
    const rows = HistoryDag.build(historyInputFromLoro(nb.doc)).page(0, 10).rows;
    assert.match(rows[0].message ?? '', /^Restored version/);

    // Saved and reopened, the file has the restored cells and the whole history.
    assert.ok(await live.notebook.save());
    const reread = parseSqlroomFile(fs.readFileSync(file)).notebook;
    assert.deepStrictEqual(reread.toData().cells.map((c) => c.source), ['SELECT 1 AS answer']);
    assert.deepStrictEqual(dataAt(reread, second).cells.map((c) => c.source), ['SELECT 2 AS answer', '# Second']);
  });

  it('creates a checkpoint that survives save and reload, opens at a time, compares, shows the panel', async () => {
    const docId = `${DOC_ID}-cp-${Date.now()}`;
    const { bytes, first } = twoVersionFile(docId);
    const file = tempNotebookPath('history-cp');
    const live = await openNotebook(writeFile(file, bytes));
    const named = await vscode.commands.executeCommand<string>('sqlroom.createCheckpoint', docId, 'Reviewed by Ada');
    assert.ok(typeof named === 'string' && named !== '', `a version is named: ${named}`);
    // The checkpoint is a Loro change only; the notebook is marked dirty so that a save writes it.
    await waitFor('the notebook to be dirty', () => (live.notebook.isDirty ? true : undefined));
    assert.ok(await live.notebook.save());
    const reread = parseSqlroomFile(fs.readFileSync(file)).notebook;
    const labelled = HistoryDag.build(historyInputFromLoro(reread.doc)).page(0, 10).rows.filter((r) => r.checkpoint);
    assert.deepStrictEqual(labelled.map((r) => r.checkpoint), ['Reviewed by Ada']);

    const nb = api.registry.get(docId)!;
    const firstTime = nb.doc.getChangeAt(nb.doc.frontiers()[0]).timestamp;
    const atTime = await vscode.commands.executeCommand<string>('sqlroom.openAtTime', docId, firstTime + 3600);
    assert.strictEqual(atTime, formatVersion(nb.doc.frontiers()), 'an hour later, the version is the latest');
    assert.ok(vscode.workspace.notebookDocuments.some((d) => d.uri.scheme === 'sqlroom-version'));

    await vscode.commands.executeCommand('sqlroom.compareVersions', docId, first, 'current');
    await waitFor('a notebook diff tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputNotebookDiff) ? true : undefined,
    );
    const diff = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputNotebookDiff)!;
    const input = diff.input as vscode.TabInputNotebookDiff;
    assert.strictEqual(input.original.scheme, 'sqlroom-version');
    assert.strictEqual(input.modified.toString(), live.notebook.uri.toString());
    await requestScreenshot('history-compare');

    await vscode.window.showNotebookDocument(live.notebook);
    await vscode.commands.executeCommand('sqlroom.showHistory', docId);
    await waitFor('the history panel', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('History:')) ? true : undefined,
    );
    await sleep(1500); // let the webview load its first page before the screenshot
    await requestScreenshot('history-panel');
  });
});
