// Keeps each open notebook and its Loro document in step, both ways, through
// a NotebookSync (extension/core/sync) per open notebook:
//   - local: a keystroke (onDidChangeTextDocument contentChanges) becomes a
//     text splice; structure, props and meta changes (notebook change events)
//     become cell insert/delete/move and changed-field writes; one Loro commit
//     per VS Code event, origin "vscode";
//   - remote: any other change of the Loro document (an import from the sync
//     server, an undo, a restore) is applied to VS Code as minimal edits, one
//     at a time per notebook (a queue). Each is recorded in the view before it
//     is applied, so its change event (the echo) writes nothing back.
// Local events that arrive while a remote edit is in flight are handled after
// it, against the view as it then is.
import * as vscode from 'vscode';
import { UndoManager } from 'loro-crdt';
import { NotebookDoc } from '../server/shared/notebookDoc';
import type { NotebookData } from '../server/shared/notebookTypes';
import { cellFromVs, readSqlroomMetadata } from './core/notebookMapping';
import { NotebookSync } from './core/sync/notebookSync';
import type { TextSplice } from './core/sync/textEdits';
import { NotebookRegistry } from './notebookRegistry';
import { NOTEBOOK_TYPE } from './serializer';
import { applyRemoteEdit, editStillApplies } from './sync/remoteEdits';

interface Binding {
  docId: string;
  nb: NotebookDoc;
  sync: NotebookSync;
  dispose(): void;
}

const MAX_EDITS_PER_DRAIN = 100_000;
const MAX_REFUSED_IN_A_ROW = 5;
/** How long remote edits wait for VS Code to show a reloaded file before they go ahead anyway. */
const RELOAD_WAIT_MS = 3_000;

export class ChangeTracker implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly bindings = new Map<vscode.NotebookDocument, Binding>();
  private readonly editQueues = new WeakMap<vscode.NotebookDocument, Promise<unknown>>();
  private readonly undoManagers = new WeakMap<NotebookDoc, UndoManager>();
  /** Notebooks with a remote edit being applied right now. */
  private readonly applying = new Set<vscode.NotebookDocument>();
  /** Notebooks that had local events while a remote edit was in flight. */
  private readonly deferred = new Set<vscode.NotebookDocument>();
  private readonly drainQueued = new Set<vscode.NotebookDocument>();
  private readonly bindEmitter = new vscode.EventEmitter<{ notebook: vscode.NotebookDocument; docId: string; nb: NotebookDoc }>();
  private readonly unbindEmitter = new vscode.EventEmitter<{ notebook: vscode.NotebookDocument; docId: string }>();
  /** A notebook was bound to its Loro document (opened). */
  readonly onDidBind = this.bindEmitter.event;
  readonly onDidUnbind = this.unbindEmitter.event;
  /** Counters for tests and the benchmark. */
  readonly stats = { localCommits: 0, remoteEdits: 0, refused: 0 };

  constructor(private readonly registry: NotebookRegistry, private readonly userName: () => string) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeNotebookDocument((e) => this.onNotebookChange(e)),
      vscode.workspace.onDidChangeTextDocument((e) => this.onTextChange(e)),
      vscode.workspace.onDidOpenNotebookDocument((nb) => this.bind(nb)),
      vscode.workspace.onDidCloseNotebookDocument((nb) => this.unbind(nb)),
      // A language change re-opens the cell's text document.
      vscode.workspace.onDidOpenTextDocument((doc) => {
        const found = this.cellOf(doc);
        if (!found) return;
        const shown = this.bindings.get(found.notebook)?.sync.viewCells[found.index];
        if (shown && shown.language !== doc.languageId) this.syncAll(found.notebook);
      }),
      this.bindEmitter,
      this.unbindEmitter,
    );
    for (const nb of vscode.workspace.notebookDocuments) this.bind(nb);
    // The serializer merged the file into an open document and VS Code is about to show the result.
    registry.onReload = (docId, data) => this.expectReload(docId, data);
    registry.whenShown = async (docId) => {
      for (const n of this.notebooksOf(docId)) {
        this.scheduleDrain(n);
        await this.whenIdle(n);
      }
    };
    registry.filesOf = (docId) => this.notebooksOf(docId).flatMap((n) => (n.uri.scheme === 'file' ? [n.uri.fsPath] : []));
    registry.openDocs = (docId) => [...new Set(this.notebooksOf(docId).map((n) => this.bindings.get(n)!.nb))];
  }

  private expectReload(docId: string, data: NotebookData): void {
    for (const notebook of this.notebooksOf(docId)) {
      const b = this.bindings.get(notebook)!;
      if (!b.sync.expectEditorState(data)) continue;
      const t = setTimeout(() => {
        if (!b.sync.awaitingEditor) return;
        b.sync.clearExpected();
        this.scheduleDrain(notebook);
      }, RELOAD_WAIT_MS);
      t.unref?.();
    }
  }

  /** The Loro document behind an open notebook (created for untitled ones). */
  docFor(notebook: vscode.NotebookDocument): NotebookDoc | undefined {
    const bound = this.bindings.get(notebook);
    if (bound) return bound.nb;
    const own = readSqlroomMetadata(notebook.metadata);
    if (!own) return undefined;
    return this.registry.getOrCreate(own.docId, () => {
      const nb = new NotebookDoc();
      nb.setAuthor(this.userName());
      return nb;
    });
  }

  /** Open notebooks bound to document `docId`. */
  notebooksOf(docId: string): vscode.NotebookDocument[] {
    return [...this.bindings].filter(([, b]) => b.docId === docId).map(([n]) => n);
  }

  /** Brings VS Code and Loro in step now (a full comparison of the notebook). */
  sync(notebook: vscode.NotebookDocument): void {
    if (!this.bindings.has(notebook)) this.bind(notebook);
    else this.syncAll(notebook);
  }

  /** Undoes the user's own last change in this notebook (never a colleague's). */
  undo(notebook: vscode.NotebookDocument): boolean {
    return this.undoRedo(notebook, 'undo');
  }

  redo(notebook: vscode.NotebookDocument): boolean {
    return this.undoRedo(notebook, 'redo');
  }

  /** Whether a change of the notebook now is a remote edit being shown (not the person typing). */
  isShowingRemoteEdit(notebook: vscode.NotebookDocument): boolean {
    return this.applying.has(notebook);
  }

  /** Resolves once every queued edit of the notebook was applied (tests). */
  async whenIdle(notebook: vscode.NotebookDocument): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const q = this.editQueues.get(notebook);
      await q;
      if (this.editQueues.get(notebook) === q && !this.drainQueued.has(notebook)) return;
    }
  }

  /** Runs `job` after the notebook's earlier edits have been applied. */
  enqueue(notebook: vscode.NotebookDocument, job: () => Promise<void>): Promise<void> {
    const prev = this.editQueues.get(notebook) ?? Promise.resolve();
    const next = prev.then(job, job);
    this.editQueues.set(notebook, next.catch(() => undefined));
    return next;
  }

  dispose(): void {
    for (const nb of [...this.bindings.keys()]) this.unbind(nb);
    for (const s of this.subscriptions) s.dispose();
  }

  // ---- binding ---------------------------------------------------------------

  private bind(notebook: vscode.NotebookDocument): void {
    if (notebook.notebookType !== NOTEBOOK_TYPE || this.bindings.has(notebook)) return;
    const own = readSqlroomMetadata(notebook.metadata);
    const nb = this.docFor(notebook);
    if (!own || !nb) return;
    // The view starts as what VS Code shows of the Loro cells; the rest is a local change (new cells).
    const loroIds = new Set(nb.cellIds());
    const shown = this.editorCells(notebook).filter((c) => c.id !== '' && loroIds.has(c.id));
    const sync = new NotebookSync(nb, { cells: dedupeIds(shown), meta: own.meta });
    const unsubscribe = nb.doc.subscribe((batch) => {
      if (batch.origin === 'vscode') return; // our own commits: the view already has them
      for (const n of this.notebooksOf(own.docId)) this.scheduleDrain(n);
    });
    this.bindings.set(notebook, { docId: own.docId, nb, sync, dispose: unsubscribe });
    this.registry.markTracked(own.docId, true);
    this.syncAll(notebook);
    // Created after the first sync: what the notebook opened with is not an undo step.
    if (!this.undoManagers.has(nb)) {
      this.undoManagers.set(nb, new UndoManager(nb.doc, { mergeInterval: 500, maxUndoSteps: 200, excludeOriginPrefixes: ['file', 'sys', 'history'] }));
    }
    this.scheduleDrain(notebook);
    this.bindEmitter.fire({ notebook, docId: own.docId, nb });
  }

  private unbind(notebook: vscode.NotebookDocument): void {
    const b = this.bindings.get(notebook);
    if (!b) return;
    b.dispose();
    this.bindings.delete(notebook);
    if (this.notebooksOf(b.docId).length === 0) this.registry.markTracked(b.docId, false);
    this.unbindEmitter.fire({ notebook, docId: b.docId });
  }

  // ---- VS Code -> Loro -------------------------------------------------------

  private onTextChange(e: vscode.TextDocumentChangeEvent): void {
    if (e.contentChanges.length === 0) return;
    const found = this.cellOf(e.document);
    if (!found) return;
    const { notebook, index } = found;
    if (this.applying.has(notebook)) {
      this.deferred.add(notebook);
      return;
    }
    const b = this.bindings.get(notebook)!;
    const cell = notebook.cellAt(index);
    const id = typeof cell.metadata?.id === 'string' ? cell.metadata.id : '';
    const hint: TextSplice[] = e.contentChanges.map((c) => ({ start: c.rangeOffset, end: c.rangeOffset + c.rangeLength, insert: c.text }));
    const done = id === '' ? undefined : b.sync.applyLocalText(index, id, e.document.getText(), hint);
    if (done === undefined) this.syncAll(notebook);
    else if (done) this.stats.localCommits++;
  }

  private onNotebookChange(e: vscode.NotebookDocumentChangeEvent): void {
    if (!this.bindings.has(e.notebook)) return;
    const relevant = e.contentChanges.length > 0 || e.metadata !== undefined || e.cellChanges.some((c) => c.metadata !== undefined || c.document !== undefined);
    if (!relevant) return; // outputs and execution summaries are not part of the document
    if (this.applying.has(e.notebook)) {
      this.deferred.add(e.notebook);
      return;
    }
    this.syncAll(e.notebook);
  }

  private syncAll(notebook: vscode.NotebookDocument): void {
    const b = this.bindings.get(notebook);
    if (!b) return;
    if (this.applying.has(notebook)) {
      this.deferred.add(notebook);
      return;
    }
    const awaiting = b.sync.awaitingEditor;
    const res = b.sync.applyLocal(this.editorCells(notebook));
    // VS Code showed the reloaded file: remote edits that waited for it go ahead.
    if (awaiting && !b.sync.awaitingEditor) this.scheduleDrain(notebook);
    const own = readSqlroomMetadata(notebook.metadata);
    const metaChanged = own ? b.sync.applyLocalMeta(own.meta) : false;
    if (res.changed || metaChanged) this.stats.localCommits++;
    if (res.idsToWrite.length > 0) void this.enqueue(notebook, () => this.writeIds(notebook));
  }

  /** Writes the ids the view gave new or copied cells into their VS Code metadata. */
  private async writeIds(notebook: vscode.NotebookDocument): Promise<void> {
    const b = this.bindings.get(notebook);
    if (!b) return;
    const view = b.sync.viewCells;
    if (view.length !== notebook.cellCount) return;
    const edits = notebook.getCells().flatMap((cell, i) =>
      cell.metadata?.id === view[i].id ? [] : [vscode.NotebookEdit.updateCellMetadata(i, { ...cell.metadata, id: view[i].id })],
    );
    if (edits.length === 0) return;
    const edit = new vscode.WorkspaceEdit();
    edit.set(notebook.uri, edits);
    await vscode.workspace.applyEdit(edit);
  }

  private editorCells(notebook: vscode.NotebookDocument) {
    return notebook.getCells().map((c) => cellFromVs({ kind: c.kind, value: c.document.getText(), languageId: c.document.languageId, metadata: c.metadata }));
  }

  private cellOf(doc: vscode.TextDocument): { notebook: vscode.NotebookDocument; index: number } | undefined {
    if (doc.uri.scheme !== 'vscode-notebook-cell') return undefined;
    for (const notebook of this.bindings.keys()) {
      if (notebook.uri.path !== doc.uri.path) continue;
      const index = notebook.getCells().findIndex((c) => c.document === doc);
      if (index >= 0) return { notebook, index };
    }
    return undefined;
  }

  // ---- Loro -> VS Code -------------------------------------------------------

  private scheduleDrain(notebook: vscode.NotebookDocument): void {
    if (this.drainQueued.has(notebook)) return;
    this.drainQueued.add(notebook);
    void this.enqueue(notebook, async () => {
      this.drainQueued.delete(notebook);
      await this.drain(notebook);
    });
  }

  private async drain(notebook: vscode.NotebookDocument): Promise<void> {
    let refused = 0;
    for (let n = 0; n < MAX_EDITS_PER_DRAIN; n++) {
      const b = this.bindings.get(notebook);
      if (!b || notebook.isClosed) return;
      if (this.deferred.delete(notebook)) this.syncAll(notebook);
      if (b.sync.awaitingEditor) return; // a reload is on its way; its change event drains again
      const edit = b.sync.nextRemoteEdit();
      if (!edit) return;
      if (!editStillApplies(notebook, edit, b.sync.viewCells.length)) {
        // VS Code has changes we have not seen yet: take them in first.
        this.syncAll(notebook);
        if (++refused > MAX_REFUSED_IN_A_ROW) return this.retryLater(notebook);
        continue;
      }
      const restore = b.sync.saveView();
      b.sync.commitRemoteEdit(edit);
      this.applying.add(notebook);
      let ok = false;
      try {
        ok = await applyRemoteEdit(notebook, edit);
      } catch {
        ok = false;
      } finally {
        this.applying.delete(notebook);
      }
      if (ok) {
        refused = 0;
        this.stats.remoteEdits++;
        continue;
      }
      restore();
      this.stats.refused++;
      if (++refused > MAX_REFUSED_IN_A_ROW) return this.retryLater(notebook);
    }
  }

  private retryLater(notebook: vscode.NotebookDocument): void {
    const t = setTimeout(() => this.scheduleDrain(notebook), 200);
    t.unref?.();
  }

  private undoRedo(notebook: vscode.NotebookDocument, which: 'undo' | 'redo'): boolean {
    const b = this.bindings.get(notebook);
    if (!b) return false;
    // Take in pending local typing first, so it is part of what is undone.
    this.syncAll(notebook);
    const um = this.undoManagers.get(b.nb);
    if (!um) return false;
    const done = which === 'undo' ? um.undo() : um.redo();
    if (done) for (const n of this.notebooksOf(b.docId)) this.scheduleDrain(n);
    return done;
  }
}

function dedupeIds<T extends { id: string }>(cells: T[]): T[] {
  const seen = new Set<string>();
  return cells.filter((c) => (seen.has(c.id) ? false : (seen.add(c.id), true)));
}
