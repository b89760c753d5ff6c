// Compare in a real VS Code shows only cell changes: the two notebooks the
// notebook diff editor compares have equal notebook metadata as that editor
// sees it (the serializer's transient keys dropped, as VS Code drops them), so
// no "Notebook Metadata changed" section can show. Checked for a version
// against the live notebook and for two versions, with two authors (the
// peer -> name map differs between the versions) and the local user joining
// when the file opens, and for a notebook whose file names its sync server;
// through the page (Playwright on code-server) the diff editor shows no
// metadata change, and a screenshot is kept. A version opened on its own
// keeps an id of its own, so Save As of it writes the version, not the live
// notebook.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { formatVersion } from '../../server/shared/history';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { requestScreenshot } from '../support/screenshot';
import { ui, uiAvailable } from '../support/uiDriver';
import { closeAllEditors, openNotebook, sqlroomApi, tempNotebookPath, waitFor, writeFile } from './notebookTestUtils';

/** Three versions by two people: Ada writes a cell; Ben (a new peer, a new author) edits it and adds one; Ada edits again. */
function threeVersionFile(docId: string, server?: string): { bytes: Uint8Array; first: string; second: string } {
  const ada = new NotebookDoc();
  ada.setAuthor('Ada');
  const id = ada.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT 1 AS answer' });
  ada.commit({ message: 'First draft' });
  const first = formatVersion(ada.doc.frontiers());
  const ben = new NotebookDoc();
  ben.doc.import(ada.doc.export({ mode: 'snapshot' }));
  ben.setAuthor('Ben');
  ben.setCellSource(id, 'SELECT 2 AS answer');
  ben.insertCell(1, { kind: 'markup', language: 'markdown', source: '# Notes by Ben' });
  ben.commit({ message: 'Ben edits' });
  const second = formatVersion(ben.doc.frontiers());
  ada.doc.import(ben.doc.export({ mode: 'update', from: ada.doc.oplogVersion() }));
  ada.setCellSource(id, 'SELECT 3 AS answer');
  ada.commit({ message: 'Ada again' });
  return { bytes: serializeSqlroomFile(ada, docId, server ? { server } : undefined), first, second };
}

/** The notebook metadata as the diff editor compares it: without the keys the serializer declares transient. */
function comparedMetadata(notebook: vscode.NotebookDocument, transient: Record<string, boolean | undefined>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(notebook.metadata).filter(([key]) => !transient[key]));
}

interface ContentProvider {
  viewType: string;
  options: { transientDocumentMetadata?: Record<string, boolean | undefined> };
}

/** The document-metadata keys VS Code itself holds as transient for `.sqlroom` notebooks (what the serializer registered). */
async function transientKeys(): Promise<Record<string, boolean | undefined>> {
  const providers = await vscode.commands.executeCommand<ContentProvider[]>('_resolveNotebookContentProvider');
  const own = providers.find((p) => p.viewType === 'sqlroom');
  assert.ok(own, 'VS Code knows the sqlroom notebook type');
  return own.options.transientDocumentMetadata ?? {};
}

/** The open notebook diff: its two notebooks, once both are loaded. */
async function openDiff(): Promise<{ label: string; input: vscode.TabInputNotebookDiff; original: vscode.NotebookDocument; modified: vscode.NotebookDocument }> {
  return waitFor('a notebook diff with both sides loaded', () => {
    const tab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputNotebookDiff);
    if (!tab) return undefined;
    const input = tab.input as vscode.TabInputNotebookDiff;
    const original = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === input.original.toString());
    const modified = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === input.modified.toString());
    return original && modified ? { label: tab.label, input, original, modified } : undefined;
  });
}

/** The headers the diff editor shows (cell input, metadata, outputs, and a notebook-metadata row when it found one). */
async function diffHeaders(): Promise<string[]> {
  // The first cell's row, once drawn: the diff is laid out (a metadata row would sit above it).
  await ui({ do: 'wait', selector: '.notebook-text-diff-editor .property-status', hasText: 'Input changed' });
  const { texts } = await ui({ do: 'texts', selector: '.notebook-text-diff-editor .property-status' });
  return (texts ?? []).map((t) => t.trim()).filter((t) => t !== '');
}

describe('compare in VS Code shows only cells', function () {
  this.timeout(180_000);

  afterEach(closeAllEditors);

  it('a version against the live notebook, and two versions, have equal notebook metadata for the diff editor', async () => {
    const api = await sqlroomApi();
    const docId = `compare-cells-${Date.now()}`;
    const { bytes, first, second } = threeVersionFile(docId);
    const live = await openNotebook(writeFile(tempNotebookPath('compare-cells'), bytes));
    const transient = await transientKeys();
    const authors = api.registry.get(docId)!.toData().meta.authors as Record<string, string>;
    assert.ok(Object.keys(authors).length >= 2, `the live document knows several authors: ${JSON.stringify(authors)}`);

    // A version against the live notebook.
    await vscode.commands.executeCommand('sqlroom.compareVersions', docId, first, 'current');
    let diff = await openDiff();
    assert.strictEqual(diff.input.original.scheme, 'sqlroom-version');
    assert.strictEqual(diff.modified, live.notebook);
    assert.match(diff.label, /^\S.{0,31} ↔ current$/, 'a short tab title');
    await requestScreenshot('history-compare-cells-only');
    if (uiAvailable()) {
      const headers = await diffHeaders();
      assert.ok(!headers.some((h) => /Metadata changed/i.test(h) && /Notebook/i.test(h)), `no notebook metadata section: ${JSON.stringify(headers)}`);
    }
    assert.deepStrictEqual(comparedMetadata(diff.original, transient), comparedMetadata(diff.modified, transient), 'the version and the live notebook differ only in cells');
    assert.deepStrictEqual(diff.original.getCells().map((c) => c.document.getText()), ['SELECT 1 AS answer'], 'the left side is the first version');
    await closeAllEditors();

    // Two versions (two notebooks of their own, both read-only).
    await vscode.window.showNotebookDocument(live.notebook);
    await vscode.commands.executeCommand('sqlroom.compareVersions', docId, first, second);
    diff = await openDiff();
    assert.strictEqual(diff.input.original.scheme, 'sqlroom-version');
    assert.strictEqual(diff.input.modified.scheme, 'sqlroom-version');
    assert.deepStrictEqual(comparedMetadata(diff.original, transient), comparedMetadata(diff.modified, transient), 'two versions differ only in cells');
    assert.deepStrictEqual(diff.modified.getCells().map((c) => c.document.getText()), ['SELECT 2 AS answer', '# Notes by Ben'], 'the right side is the second version');
    if (uiAvailable()) {
      const headers = await diffHeaders();
      assert.ok(!headers.some((h) => /Metadata changed/i.test(h) && /Notebook/i.test(h)), `no notebook metadata section: ${JSON.stringify(headers)}`);
    }
  });

  it("a notebook that names its sync server: the version shows the same server, so that is no change either", async function () {
    const docId = `compare-server-${Date.now()}`;
    const server = 'ws://127.0.0.1:9/'; // nothing listens: the notebook stays local
    const { bytes, first } = threeVersionFile(docId, server);
    const live = await openNotebook(writeFile(tempNotebookPath('compare-server'), bytes));
    // The file names a server this window never joined: SQLRoom asks; answered as a person would.
    if (uiAvailable()) await ui({ do: 'click', selector: '.notification-toast .monaco-button', hasText: 'Work offline' });
    const transient = await transientKeys();
    await vscode.commands.executeCommand('sqlroom.compareVersions', docId, first, 'current');
    const diff = await openDiff();
    assert.strictEqual(diff.modified, live.notebook);
    assert.strictEqual(diff.modified.metadata.server, server);
    assert.deepStrictEqual(comparedMetadata(diff.original, transient), comparedMetadata(diff.modified, transient), 'the version shows the live notebook\'s server');
    if (uiAvailable()) {
      const headers = await diffHeaders();
      assert.ok(!headers.some((h) => /Metadata changed/i.test(h) && /Notebook/i.test(h)), `no notebook metadata section: ${JSON.stringify(headers)}`);
    }
  });

  it('a version opened on its own keeps an id of its own (what Save As of it writes), unlike the copy Compare shows', async () => {
    const docId = `own-version-${Date.now()}`;
    const { bytes, first } = threeVersionFile(docId);
    await openNotebook(writeFile(tempNotebookPath('own-version'), bytes));
    const opened = await vscode.commands.executeCommand<string>('sqlroom.openVersion', docId, first);
    const version = await waitFor('the version view', () => vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === opened));
    const transient = await transientKeys();
    // The serializer is given the non-transient metadata and saves the document its docId names.
    const own = comparedMetadata(version, transient).docId;
    assert.ok(typeof own === 'string' && own !== docId, `a document id of its own: ${String(own)}`);
    assert.ok((await sqlroomApi()).registry.get(own as string), 'the version\'s own document is what a save would write');
    assert.deepStrictEqual((await sqlroomApi()).registry.get(own as string)!.toData().cells.map((c) => c.source), ['SELECT 1 AS answer']);
    await vscode.commands.executeCommand('sqlroom.compareVersions', docId, first, 'current');
    const diff = await openDiff();
    assert.notStrictEqual(diff.original, version, 'Compare opens a copy of its own');
    assert.strictEqual(comparedMetadata(diff.original, transient).docId, docId, 'the compared copy shows the live id');
  });
});
