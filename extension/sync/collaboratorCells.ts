// Marks the cells collaborators are in: a "$(person) name" item in the cell's
// status bar with their colour (from their presence state), refreshed when presence changes.
import * as vscode from 'vscode';
import type { CollabSession } from './collabSession';
import { NOTEBOOK_TYPE } from '../serializer';
import { collaboratorColor, markedName } from '../../server/shared/collaboratorColor';

export class CollaboratorCells implements vscode.NotebookCellStatusBarItemProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCellStatusBarItems = this.emitter.event;
  private readonly registration: vscode.Disposable;

  constructor(private readonly sessionOf: (notebook: vscode.NotebookDocument) => CollabSession | undefined) {
    this.registration = vscode.notebooks.registerNotebookCellStatusBarItemProvider(NOTEBOOK_TYPE, this);
  }

  changed(): void {
    this.emitter.fire();
  }

  provideCellStatusBarItems(cell: vscode.NotebookCell): vscode.NotebookCellStatusBarItem[] {
    const id = cell.metadata?.id;
    const session = this.sessionOf(cell.notebook);
    if (!session || typeof id !== 'string') return [];
    const here = session.others().filter((o) => o.cellId === id);
    if (here.length === 0) return [];
    // Each name with its colour mark (the same colour in every window, the status bar and the history).
    const item = new vscode.NotebookCellStatusBarItem(`$(person) ${here.map((o) => markedName(o.name)).join(', ')}`, vscode.NotebookCellStatusBarAlignment.Right);
    item.tooltip = `${here.map((o) => `${o.name} (${collaboratorColor(o.name).label})`).join(', ')} ${here.length === 1 ? 'is' : 'are'} in this cell`;
    return [item];
  }

  dispose(): void {
    this.registration.dispose();
    this.emitter.dispose();
  }
}
