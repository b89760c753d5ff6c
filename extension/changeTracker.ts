// Keeps each open notebook's Loro document in step with VS Code edits, and
// writes fresh cell ids back into the metadata of cells that VS Code created.
// Edits to a notebook are applied one at a time (a per-notebook queue), as
// VS Code rejects or reorders concurrent workspace edits.
import * as vscode from 'vscode';
import { NotebookDoc } from '../server/shared/notebookDoc';
import { fillMissingIdsByPosition, notebookFromVs, readSqlroomMetadata } from './core/notebookMapping';
import { NotebookRegistry } from './notebookRegistry';
import { NOTEBOOK_TYPE } from './serializer';

export class ChangeTracker implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly editQueues = new WeakMap<vscode.NotebookDocument, Promise<unknown>>();

  constructor(private readonly registry: NotebookRegistry, private readonly userName: () => string) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeNotebookDocument((e) => this.sync(e.notebook)),
      vscode.workspace.onDidOpenNotebookDocument((nb) => this.sync(nb)),
    );
    for (const nb of vscode.workspace.notebookDocuments) this.sync(nb);
  }

  /** The Loro document behind an open notebook (created for untitled ones). */
  docFor(notebook: vscode.NotebookDocument): NotebookDoc | undefined {
    const own = readSqlroomMetadata(notebook.metadata);
    if (!own) return undefined;
    return this.registry.getOrCreate(own.docId, () => {
      const nb = new NotebookDoc();
      nb.setAuthor(this.userName());
      return nb;
    });
  }

  sync(notebook: vscode.NotebookDocument): void {
    if (notebook.notebookType !== NOTEBOOK_TYPE) return;
    const nb = this.docFor(notebook);
    if (!nb) return;
    const own = readSqlroomMetadata(notebook.metadata);
    const cells = notebook.getCells().map((c) => ({ kind: c.kind, value: c.document.getText(), languageId: c.document.languageId, metadata: c.metadata }));
    const target = fillMissingIdsByPosition(notebookFromVs(cells, own?.meta ?? nb.toData().meta), nb.cellIds());
    const { ids } = nb.applyData(target, { origin: 'vscode' });
    if (notebook.getCells().some((cell, i) => cell.metadata?.id !== ids[i])) {
      this.enqueue(notebook, () => this.writeIds(notebook, nb));
    }
  }

  /** Writes the Loro ids into cells whose metadata lacks them (new or duplicated cells). */
  private async writeIds(notebook: vscode.NotebookDocument, nb: NotebookDoc): Promise<void> {
    // Read the ids now, not when queued: the Loro list is kept in step with every change event.
    const ids = nb.cellIds();
    if (ids.length !== notebook.cellCount) return;
    const edits = notebook.getCells().flatMap((cell, i) =>
      cell.metadata?.id === ids[i] ? [] : [vscode.NotebookEdit.updateCellMetadata(i, { ...cell.metadata, id: ids[i] })],
    );
    if (edits.length === 0) return;
    const edit = new vscode.WorkspaceEdit();
    edit.set(notebook.uri, edits);
    await vscode.workspace.applyEdit(edit);
  }

  /** Runs `job` after the notebook's earlier edits have been applied. */
  enqueue(notebook: vscode.NotebookDocument, job: () => Promise<void>): Promise<void> {
    const prev = this.editQueues.get(notebook) ?? Promise.resolve();
    const next = prev.then(job, job);
    this.editQueues.set(notebook, next.catch(() => undefined));
    return next;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
