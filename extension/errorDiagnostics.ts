// Marks where a failed cell's DuckDB error points, in the cell's SQL: a
// squiggle with the message on hover, until the cell's text changes or the
// cell runs again.
import * as vscode from 'vscode';
import { errorRange } from './core/errorPayload';
import type { ErrorPayload } from './core/resultPayload';

export class ErrorDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('sqlroom');
  private readonly subscriptions: vscode.Disposable[] = [
    this.collection,
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length > 0 && this.collection.has(e.document.uri)) this.collection.delete(e.document.uri);
    }),
    vscode.workspace.onDidCloseNotebookDocument((nb) => {
      for (const cell of nb.getCells()) this.collection.delete(cell.document.uri);
    }),
  ];

  /** Shows the error's position in the cell (nothing when DuckDB gave none). */
  show(cell: vscode.NotebookCell, error: ErrorPayload): void {
    if (!error.position) {
      this.collection.delete(cell.document.uri);
      return;
    }
    const { line, column } = error.position;
    if (line >= cell.document.lineCount) return;
    const text = cell.document.lineAt(line).text;
    const { start, end } = errorRange(text, column);
    const range = new vscode.Range(line, start, line, Math.max(end, start + 1));
    const diagnostic = new vscode.Diagnostic(range, `${error.title}: ${error.message}`, vscode.DiagnosticSeverity.Error);
    diagnostic.source = 'DuckDB';
    this.collection.set(cell.document.uri, [diagnostic]);
  }

  clear(cell: vscode.NotebookCell): void {
    this.collection.delete(cell.document.uri);
  }

  /** The diagnostics shown for a cell (tests). */
  get(uri: vscode.Uri): readonly vscode.Diagnostic[] {
    return this.collection.get(uri) ?? [];
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
