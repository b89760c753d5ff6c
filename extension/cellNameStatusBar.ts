// Shows a SQL cell's view name in the cell status bar; clicking it renames.
import * as vscode from 'vscode';
import { NOTEBOOK_TYPE } from './serializer';

export const SET_CELL_NAME_COMMAND = 'sqlroom.setCellName';

// VS Code asks again when a cell's metadata changes, so no change event is needed.
export class CellNameStatusBar implements vscode.NotebookCellStatusBarItemProvider {
  provideCellStatusBarItems(cell: vscode.NotebookCell): vscode.NotebookCellStatusBarItem[] {
    if (cell.kind !== vscode.NotebookCellKind.Code || cell.notebook.notebookType !== NOTEBOOK_TYPE) return [];
    const name = typeof cell.metadata?.name === 'string' ? cell.metadata.name : '';
    // A read-only version (sqlroom-version:) shows its name but offers no renaming.
    if (cell.notebook.uri.scheme === 'sqlroom-version') {
      return name ? [new vscode.NotebookCellStatusBarItem(`$(eye) view ${name}`, vscode.NotebookCellStatusBarAlignment.Left)] : [];
    }
    const command: vscode.Command = { title: 'Name Cell', command: SET_CELL_NAME_COMMAND, arguments: [cell] };
    const item = name
      ? new vscode.NotebookCellStatusBarItem(`$(eye) view ${name}`, vscode.NotebookCellStatusBarAlignment.Left)
      : new vscode.NotebookCellStatusBarItem('$(tag) Name…', vscode.NotebookCellStatusBarAlignment.Left);
    item.command = command;
    item.tooltip = name
      ? `This cell's query is the DuckDB view "${name}": later cells can SELECT from ${name}. Click to rename or clear.`
      : 'Name this cell: its query becomes a DuckDB view that later cells can SELECT from.';
    return [item];
  }
}

export function registerCellNameStatusBar(): vscode.Disposable {
  return vscode.notebooks.registerNotebookCellStatusBarItemProvider(NOTEBOOK_TYPE, new CellNameStatusBar());
}
