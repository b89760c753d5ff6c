// Another writer saved an open notebook's file (a second window, another
// editor, `git pull`, a copy put in its place). The file is a CRDT: its
// history is merged into the open document, and the change tracker shows
// what is new. VS Code reloads a notebook without unsaved changes by itself
// (the serializer merges, see serializer.ts); one with unsaved changes it would
// refuse to save later ("the content of the file is newer"), so it is first
// reverted to the file (which the serializer merges into the document, so
// nothing is lost; the other writer's text shows with that re-read, never
// before it, or a save pressed in between would still be refused) and, when the
// document holds more than the file, marked unsaved again (saving is the user's
// choice; an automatic save here would make two live windows save in turn
// while people type).
// The revert waits for a moment when nobody types in the notebook: it replaces
// any cell whose text differs from what it read, so keys pressed while it ran
// were thrown away (and the focus left the cell). With auto save on, the other
// window's save comes about a second after its person's last key, often while
// this window's person types (see docs/collaboration.md).
import * as vscode from 'vscode';
import { importNotebook, parseConflictedFile } from '../server/shared/sqlroomMerge';
import type { ChangeTracker } from './changeTracker';
import { readSqlroomMetadata } from './core/notebookMapping';
import { QuietMoment } from './core/quietMoment';
import type { NotebookRegistry } from './notebookRegistry';
import { NOTEBOOK_TYPE } from './serializer';

/** No key typed in a notebook for this long: its person is not typing (well under auto save's 1 s). */
const QUIET_MS = 300;
/** A person typing without a pause this long gets no revert (a save later may ask to overwrite, which merges). */
const GIVE_UP_MS = 10 * 60_000;

export function watchDiskChanges(tracker: ChangeTracker, registry: NotebookRegistry): vscode.Disposable {
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.sqlroom');
  const running = new Map<string, Promise<void>>();
  // Per notebook (by path; a cell's uri has the notebook's path): when its person last typed.
  const typing = new Map<string, QuietMoment>();
  const quietOf = (path: string) => typing.get(path) ?? typing.set(path, new QuietMoment()).get(path)!;
  const changed = (uri: vscode.Uri) => {
    const key = uri.toString();
    const next = (running.get(key) ?? Promise.resolve()).then(() => mergeFromDisk(uri, tracker, registry, quietOf(uri.path))).catch(() => undefined);
    running.set(key, next);
  };
  return vscode.Disposable.from(
    watcher,
    watcher.onDidChange(changed),
    watcher.onDidCreate(changed),
    // The person's keys only: a colleague's edit being shown is no reason to wait.
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document.uri.scheme !== 'vscode-notebook-cell' || e.contentChanges.length === 0) return;
      const notebook = vscode.workspace.notebookDocuments.find((n) => n.uri.path === e.document.uri.path && n.notebookType === NOTEBOOK_TYPE);
      if (notebook && tracker.isShowingRemoteEdit(notebook)) return;
      quietOf(e.document.uri.path).touch();
    }),
    vscode.workspace.onDidCloseNotebookDocument((n) => typing.delete(n.uri.path)),
  );
}

async function mergeFromDisk(uri: vscode.Uri, tracker: ChangeTracker, registry: NotebookRegistry, quiet: QuietMoment): Promise<void> {
  const notebook = vscode.workspace.notebookDocuments.find((n) => n.notebookType === NOTEBOOK_TYPE && n.uri.toString() === uri.toString());
  const own = notebook && readSqlroomMetadata(notebook.metadata);
  const nb = notebook && tracker.docFor(notebook);
  if (!notebook || !own || !nb) return;
  const bytes = await vscode.workspace.fs.readFile(uri);
  if (registry.isNotedFile(own.docId, bytes)) return; // this window's own save
  let parsed;
  try {
    parsed = parseConflictedFile(bytes);
  } catch {
    return; // damaged or foreign: nothing to merge (a reload shows the error; a save writes the document)
  }
  if (parsed.docId !== own.docId) return;
  registry.fileStats.foreignWrites++;
  if (notebook.isDirty) {
    registry.fileStats.foreignWhileDirty++;
    // Reverted before anything is shown: the other writer's text then appears
    // with VS Code's own re-read of the file (the serializer merges it), so a
    // save pressed the moment it appears is not refused as older than the file.
    await revertWhenQuiet(notebook, tracker, registry, quiet);
  }
  importNotebook(nb, parsed.notebook); // nothing new when the revert merged it; else (no revert) shown by the tracker
  await registry.whenShown(own.docId);
  const fileVersion = parsed.notebook.doc.oplogVersion();
  const docVersion = nb.doc.oplogVersion();
  const fileHasAll = docVersion.compare(fileVersion) === 0;
  fileVersion.free();
  docVersion.free();
  if (!fileHasAll && !notebook.isClosed && !notebook.isDirty) await markDirty(notebook);
}

/** Reverts the notebook at the first moment nobody types in it (checked again once its earlier edits are shown). */
async function revertWhenQuiet(notebook: vscode.NotebookDocument, tracker: ChangeTracker, registry: NotebookRegistry, quiet: QuietMoment): Promise<void> {
  for (;;) {
    if (!(await quiet.whenQuiet(QUIET_MS, GIVE_UP_MS))) return;
    let done = false;
    await tracker.enqueue(notebook, async () => {
      if (quiet.waitLeft(QUIET_MS) > 0) return; // a key while the queue drained: wait again
      done = true;
      if (notebook.isClosed || !notebook.isDirty) return;
      registry.fileStats.reverts++;
      await revert(notebook);
    });
    if (done) return;
  }
}

/** Two metadata writes that cancel out: the notebook is dirty, its metadata unchanged (as a checkpoint does). */
async function markDirty(notebook: vscode.NotebookDocument): Promise<void> {
  const original = { ...notebook.metadata };
  for (const metadata of [{ ...original, unsavedMerge: Date.now() }, original]) {
    const edit = new vscode.WorkspaceEdit();
    edit.set(notebook.uri, [vscode.NotebookEdit.updateNotebookMetadata(metadata)]);
    await vscode.workspace.applyEdit(edit);
  }
}

/** Re-reads the file into the notebook (only the active editor can be reverted), then gives the previous editor back. */
async function revert(notebook: vscode.NotebookDocument): Promise<void> {
  const previous = vscode.window.activeNotebookEditor;
  const shown = vscode.window.visibleNotebookEditors.find((e) => e.notebook === notebook);
  if (previous?.notebook !== notebook) await vscode.window.showNotebookDocument(notebook, { viewColumn: shown?.viewColumn, preview: false });
  if (vscode.window.activeNotebookEditor?.notebook !== notebook) return;
  await vscode.commands.executeCommand('workbench.action.files.revert');
  if (previous && previous.notebook !== notebook && !previous.notebook.isClosed) {
    await vscode.window.showNotebookDocument(previous.notebook, { viewColumn: previous.viewColumn, selections: previous.selections });
  }
}
