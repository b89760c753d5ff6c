// Applies one RemoteEdit (extension/core/sync/notebookSync) to an open VS Code
// notebook as the smallest VS Code edit: text splices as TextEdits (the
// cursor outside them stays put), cells inserted/deleted, a move as delete +
// insert, metadata and language changes on their own.
import * as vscode from 'vscode';
import type { RemoteEdit } from '../core/sync/notebookSync';
import { cellToVs } from '../core/notebookMapping';
import { toVsCellData } from '../serializer';

export async function applyRemoteEdit(notebook: vscode.NotebookDocument, edit: RemoteEdit): Promise<boolean> {
  const we = new vscode.WorkspaceEdit();
  const uri = notebook.uri;
  switch (edit.type) {
    case 'delete':
      we.set(uri, [vscode.NotebookEdit.deleteCells(new vscode.NotebookRange(edit.index, edit.index + edit.count))]);
      break;
    case 'insert':
      we.set(uri, [vscode.NotebookEdit.insertCells(edit.index, edit.cells.map(toVsCellData))]);
      break;
    case 'move':
      // VS Code has no move edit: the two steps apply in order, in one undo-less workspace edit.
      we.set(uri, [
        vscode.NotebookEdit.deleteCells(new vscode.NotebookRange(edit.from, edit.from + 1)),
        vscode.NotebookEdit.insertCells(edit.to, [toVsCellData(edit.cell)]),
      ]);
      break;
    case 'replace':
      we.set(uri, [vscode.NotebookEdit.replaceCells(new vscode.NotebookRange(edit.index, edit.index + 1), [toVsCellData(edit.cell)])]);
      break;
    case 'text': {
      const doc = notebook.cellAt(edit.index).document;
      for (const s of edit.edits) we.replace(doc.uri, new vscode.Range(doc.positionAt(s.start), doc.positionAt(s.end)), s.insert);
      break;
    }
    case 'props': {
      const cell = notebook.cellAt(edit.index);
      if (edit.language && cell.document.languageId !== edit.cell.language) {
        await vscode.languages.setTextDocumentLanguage(cell.document, edit.cell.language);
      }
      if (!edit.metadata) return true;
      we.set(uri, [vscode.NotebookEdit.updateCellMetadata(edit.index, cellToVs(edit.cell).metadata ?? {})]);
      break;
    }
    case 'meta':
      we.set(uri, [vscode.NotebookEdit.updateNotebookMetadata({ ...notebook.metadata, meta: edit.meta })]);
      break;
  }
  return vscode.workspace.applyEdit(we);
}

/** Whether the editor still shows what `edit` was computed against. */
export function editStillApplies(notebook: vscode.NotebookDocument, edit: RemoteEdit, viewLength: number): boolean {
  if (edit.type === 'meta') return true;
  if (notebook.cellCount !== viewLength) return false;
  if (edit.type === 'text') return notebook.cellAt(edit.index).document.getText() === edit.before;
  return true;
}
