// Command handlers: new notebook, name a cell.
import * as vscode from 'vscode';
import { newDocId } from '../server/shared/sqlroomFile';
import { validateCellName } from './core/notebookMapping';
import { SET_CELL_NAME_COMMAND } from './cellNameStatusBar';
import { NOTEBOOK_TYPE } from './serializer';

export const NEW_NOTEBOOK_COMMAND = 'sqlroom.newNotebook';

export function registerCommands(): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(NEW_NOTEBOOK_COMMAND, newNotebook),
    vscode.commands.registerCommand(SET_CELL_NAME_COMMAND, setCellName),
  );
}

/** Opens an untitled `.sqlroom` notebook with a starter cell; Save As names the file. */
export async function newNotebook(): Promise<vscode.NotebookEditor> {
  const markdown = new vscode.NotebookCellData(vscode.NotebookCellKind.Markup, '# New SQLRoom notebook\n\nSQL cells run on a local DuckDB. Name a cell to make its query a view.', 'markdown');
  const sql = new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'SELECT 42 AS answer;', 'sql');
  const data = new vscode.NotebookData([markdown, sql]);
  data.metadata = { docId: newDocId(), meta: { title: 'Untitled' } };
  const doc = await vscode.workspace.openNotebookDocument(NOTEBOOK_TYPE, data);
  return vscode.window.showNotebookDocument(doc);
}

/** Sets or clears a SQL cell's name (its DuckDB view name). */
export async function setCellName(cell?: vscode.NotebookCell, name?: string): Promise<void> {
  const target = cell ?? activeCell();
  if (!target || target.kind !== vscode.NotebookCellKind.Code) {
    void vscode.window.showInformationMessage('Select a SQL cell in a SQLRoom notebook to name it.');
    return;
  }
  const current = typeof target.metadata?.name === 'string' ? target.metadata.name : '';
  const value =
    name ??
    (await vscode.window.showInputBox({
      title: 'Name SQL cell',
      prompt: 'The cell query becomes a DuckDB view with this name (empty to clear).',
      value: current,
      validateInput: (v) => validateCellName(v.trim()),
    }));
  if (value === undefined) return;
  const trimmed = value.trim();
  const problem = validateCellName(trimmed);
  if (problem) throw new Error(`Invalid cell name "${trimmed}": ${problem}`);
  const metadata: Record<string, unknown> = { ...target.metadata };
  if (trimmed === '') delete metadata.name;
  else metadata.name = trimmed;
  const edit = new vscode.WorkspaceEdit();
  edit.set(target.notebook.uri, [vscode.NotebookEdit.updateCellMetadata(target.index, metadata)]);
  await vscode.workspace.applyEdit(edit);
}

function activeCell(): vscode.NotebookCell | undefined {
  const editor = vscode.window.activeNotebookEditor;
  if (!editor || editor.notebook.notebookType !== NOTEBOOK_TYPE) return undefined;
  const range = editor.selections[0];
  return range && range.start < editor.notebook.cellCount ? editor.notebook.cellAt(range.start) : undefined;
}
