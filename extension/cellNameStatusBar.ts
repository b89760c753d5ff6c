// Shows a SQL cell's view name in the cell status bar; clicking it renames.
import * as vscode from 'vscode';
import { NOTEBOOK_TYPE } from './serializer';

export const SET_CELL_NAME_COMMAND = 'sqlroom.setCellName';

export class CellNameStatusBar implements vscode.NotebookCellStatusBarItemProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCellStatusBarItems = this.changed.event;

  provideCellStatusBarItems(cell: vscode.NotebookCell): vscode.NotebookCellStatusBarItem[] {
    if (cell.kind !== vscode.NotebookCellKind.Code || cell.notebook.notebookType !== NOTEBOOK_TYPE) return [];
    const name = typeof cell.metadata?.name === 'string' ? cell.metadata.name : '';
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

  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function registerCellNameStatusBar(): vscode.Disposable {
  const provider = new CellNameStatusBar();
  return vscode.Disposable.from(provider, vscode.notebooks.registerNotebookCellStatusBarItemProvider(NOTEBOOK_TYPE, provider));
}
