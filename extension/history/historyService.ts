// The history operations behind the commands and the webview: open a version
// read-only, compare two versions, open the version at a time, restore a
// version (one new Loro change, then the same cells applied to the open VS
// Code notebook), create a checkpoint.
import * as path from 'path';
import * as vscode from 'vscode';
import { createCheckpoint, formatVersion, HistoryDag, historyInputFromLoro, restoreVersion, revertChange, shortVersion, versionTimestamp } from '../../server/shared/history';
import { readSettings } from '../config';
import type { NotebookDoc } from '../../server/shared/notebookDoc';
import type { NotebookData } from '../../server/shared/notebookTypes';
import { cellFromVs, editorMeta, readSqlroomMetadata } from '../core/notebookMapping';
import type { NotebookRegistry } from '../notebookRegistry';
import { NOTEBOOK_TYPE, toVsCellData } from '../serializer';
import { planRestore } from './restorePlan';
import { parseVersionUri, versionUri, VERSION_SCHEME } from './versionUri';

export class HistoryService {
  constructor(private readonly registry: NotebookRegistry) {}

  /** The live (editable) VS Code notebook of a document, if open. */
  liveNotebook(docId: string): vscode.NotebookDocument | undefined {
    return vscode.workspace.notebookDocuments.find(
      (nb) => nb.notebookType === NOTEBOOK_TYPE && nb.uri.scheme !== VERSION_SCHEME && readSqlroomMetadata(nb.metadata)?.docId === docId,
    );
  }

  /** The document id a notebook shows: its own, or for a version view the id of the notebook it is a version of. */
  docIdOf(notebook: vscode.NotebookDocument): string | undefined {
    if (notebook.uri.scheme === VERSION_SCHEME) return parseVersionUri(notebook.uri).docId;
    return readSqlroomMetadata(notebook.metadata)?.docId;
  }

  doc(docId: string): NotebookDoc {
    const nb = this.registry.get(docId);
    if (!nb) throw new Error(`The notebook (document ${docId}) is not open.`);
    return nb;
  }

  notebookName(docId: string): string {
    const live = this.liveNotebook(docId);
    return live ? path.basename(live.uri.path) : 'notebook.sqlroom';
  }

  /** `compare`: the view Compare diffs (shown under the live notebook's id, see versionUri.ts). */
  uriOf(docId: string, version: string, compare = false): vscode.Uri {
    return versionUri({ docId, version, ...(compare ? { compare } : {}) }, this.notebookName(docId), versionTimestamp(this.doc(docId).doc, version));
  }

  async openVersion(docId: string, version: string): Promise<vscode.NotebookEditor> {
    const notebook = await vscode.workspace.openNotebookDocument(this.uriOf(docId, version));
    return vscode.window.showNotebookDocument(notebook, { preview: true, viewColumn: vscode.ViewColumn.Active });
  }

  /** Diffs `left` against `right` (a version, or "current": the live notebook). */
  async compare(docId: string, left: string, right: string | 'current', labels?: { left?: string; right?: string }): Promise<void> {
    const leftUri = this.uriOf(docId, left, true);
    let rightUri: vscode.Uri;
    if (right === 'current') {
      const live = this.liveNotebook(docId);
      rightUri = live ? live.uri : this.uriOf(docId, formatVersion(this.doc(docId).doc.frontiers()), true);
    } else {
      rightUri = this.uriOf(docId, right, true);
    }
    const title = `${compactLabel(labels?.left ?? this.defaultLabel(docId, left))} ↔ ${compactLabel(labels?.right ?? (right === 'current' ? 'current' : this.defaultLabel(docId, right)))}`;
    await vscode.commands.executeCommand('vscode.diff', leftUri, rightUri, title);
  }

  /** "07:26 Ana" style label of a version (its time, or the version string when unknown). */
  private defaultLabel(docId: string, version: string): string {
    try {
      const t = versionTimestamp(this.doc(docId).doc, version);
      if (t > 0) return new Date(t * 1000).toTimeString().slice(0, 5);
    } catch {
      /* fall back to the version string */
    }
    return shortVersion(version);
  }

  versionAt(docId: string, unixSeconds: number): string {
    return HistoryDag.build(historyInputFromLoro(this.doc(docId).doc)).versionAt(unixSeconds);
  }

  /**
   * Makes the notebook equal to `version` as one new Loro change; the change
   * tracker then shows it in the open notebook like any other change of the
   * document, in its queue. (Editing the notebook here as well raced with that
   * queue: two writers editing cells by index, so a cell the tracker deleted or
   * inserted shifted the other's edits, and the mismatch went back into Loro as
   * a new "Edit" that lost a cell.)
   */
  async restore(docId: string, version: string, label?: string): Promise<boolean> {
    const nb = this.doc(docId);
    const live = this.liveNotebook(docId);
    const { data } = restoreVersion(nb, version, label);
    if (!live) return true;
    await this.registry.whenShown(docId);
    const shown = live.getCells().map((c) => c.document.getText());
    return shown.length === data.cells.length && shown.every((s, i) => s === data.cells[i].source);
  }

  /**
   * Undoes the effect of `before` -> `version` (a change, a burst, or a merge
   * back to its first parent) as one new change of this user, keeping every
   * later edit (revert.ts); the change tracker shows it in the open notebook
   * (as for restore, no second writer).
   */
  async revert(docId: string, before: string, version: string, label: string): Promise<boolean> {
    const nb = this.doc(docId);
    const r = revertChange(nb, before, version, `Reverted: ${label}`, readSettings().userName);
    if (!r.changed) return false;
    if (this.liveNotebook(docId)) await this.registry.whenShown(docId);
    return true;
  }

  /**
   * Names the current version. The checkpoint is a Loro change that VS Code
   * does not see, so the open notebook is marked dirty (a metadata write of
   * the same meta) for the next save to write it to the file.
   */
  async checkpoint(docId: string, name: string): Promise<string> {
    const version = createCheckpoint(this.doc(docId), name).version;
    const live = this.liveNotebook(docId);
    if (live && !live.isDirty) {
      // Two metadata writes that cancel out: the notebook is dirty, its metadata unchanged.
      const original = { ...live.metadata };
      for (const metadata of [{ ...original, checkpoint: version }, original]) {
        const edit = new vscode.WorkspaceEdit();
        edit.set(live.uri, [vscode.NotebookEdit.updateNotebookMetadata(metadata)]);
        await vscode.workspace.applyEdit(edit);
      }
    }
    return version;
  }
}

/** Edits `notebook` so its cells and meta equal `data`: unchanged cells are left alone. */
export async function applyToNotebook(notebook: vscode.NotebookDocument, data: NotebookData): Promise<boolean> {
  const current = notebook.getCells().map((c) =>
    cellFromVs({ kind: c.kind, value: c.document.getText(), languageId: c.document.languageId, metadata: c.metadata }),
  );
  const edits: vscode.NotebookEdit[] = [];
  for (const step of planRestore(current, data.cells)) {
    if (step.type === 'replace') {
      edits.push(vscode.NotebookEdit.replaceCells(new vscode.NotebookRange(step.start, step.end), step.cells.map(toVsCellData)));
    } else {
      edits.push(vscode.NotebookEdit.updateCellMetadata(step.index, toVsCellData(step.cell).metadata ?? {}));
    }
  }
  edits.push(vscode.NotebookEdit.updateNotebookMetadata({ ...notebook.metadata, meta: editorMeta(data.meta) }));
  const edit = new vscode.WorkspaceEdit();
  edit.set(notebook.uri, edits);
  return vscode.workspace.applyEdit(edit);
}

/**
 * A short tab-title label: a quoted message or checkpoint name alone
 * ("Before cleanup"), else "HH:MM author" from "author, YYYY-MM-DD HH:MM";
 * at most 32 characters.
 */
export function compactLabel(label: string): string {
  const quoted = /^"(.*)" /.exec(label);
  let out = label;
  if (quoted && !/^(Edited|Added|Deleted|Moved|Renamed|Named|Changed|Made|Joined|No change)\b/.test(quoted[1])) out = quoted[1];
  else {
    const m = /(?:^"[^"]*" )?(.+), \d{4}-\d{2}-\d{2} (\d{2}:\d{2})$/.exec(label);
    if (m) out = `${m[2]} ${m[1]}`;
  }
  return out.length > 32 ? `${out.slice(0, 31)}…` : out;
}
