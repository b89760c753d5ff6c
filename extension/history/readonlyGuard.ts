// Keeps version notebooks (sqlroom-version:) unchanged. Their file system is
// read-only, so the editor refuses typing and VS Code refuses to save them,
// but the extension API still applies a WorkspaceEdit to a read-only notebook
// (seen in VS Code 1.139). Any such change of cells is undone at once from
// the version's bytes, so a version always shows what it was. Outputs and
// execution state are not content: running cells is allowed.
import * as vscode from 'vscode';
import { parseSqlroomFile } from '../../server/shared/sqlroomFile';
import type { CellData } from '../../server/shared/notebookTypes';
import { cellFromVs } from '../core/notebookMapping';
import { toVsCellData } from '../serializer';
import { VERSION_SCHEME } from './versionUri';

export function guardVersionNotebooks(): vscode.Disposable {
  const busy = new WeakSet<vscode.NotebookDocument>();
  const pending = new WeakSet<vscode.NotebookDocument>();
  const restore = async (notebook: vscode.NotebookDocument): Promise<void> => {
    if (busy.has(notebook)) {
      pending.add(notebook);
      return;
    }
    busy.add(notebook);
    try {
      for (let round = 0; round < 5; round++) {
        pending.delete(notebook);
        const original = parseSqlroomFile(await vscode.workspace.fs.readFile(notebook.uri)).notebook.toData().cells;
        if (!sameCells(cellsOf(notebook), original)) {
          const edit = new vscode.WorkspaceEdit();
          edit.set(notebook.uri, [vscode.NotebookEdit.replaceCells(new vscode.NotebookRange(0, notebook.cellCount), original.map(toVsCellData))]);
          await vscode.workspace.applyEdit(edit);
        }
        if (!pending.has(notebook)) break;
      }
    } finally {
      busy.delete(notebook);
    }
  };
  return vscode.workspace.onDidChangeNotebookDocument((e) => {
    if (e.notebook.uri.scheme !== VERSION_SCHEME) return;
    const changed = e.contentChanges.length > 0 || e.cellChanges.some((c) => c.document !== undefined || c.metadata !== undefined);
    if (changed) void restore(e.notebook).catch(() => undefined);
  });
}

function cellsOf(notebook: vscode.NotebookDocument): CellData[] {
  return notebook.getCells().map((c) => cellFromVs({ kind: c.kind, value: c.document.getText(), languageId: c.document.languageId, metadata: c.metadata }));
}

function sameCells(a: CellData[], b: CellData[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
