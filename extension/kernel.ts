// The "SQLRoom DuckDB" NotebookController: runs SQL cells of `.sqlroom`
// notebooks on a local DuckDB (one session per notebook), one cell at a time,
// with cancellation through the execution token.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DuckDbSession, SqlExecutionError } from './core/duckdbSession';
import { plainTextTable } from './core/plainTextTable';
import { RESULT_MIME } from './core/resultPayload';
import { readSettings } from './config';
import { NOTEBOOK_TYPE } from './serializer';
import { readSqlroomMetadata } from './core/notebookMapping';

export const CONTROLLER_ID = 'sqlroom-duckdb';

export class SqlKernel implements vscode.Disposable {
  readonly controller: vscode.NotebookController;
  private readonly sessions = new Map<string, Promise<DuckDbSession>>();
  private readonly executionOrder = new Map<string, number>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor() {
    this.controller = vscode.notebooks.createNotebookController(CONTROLLER_ID, NOTEBOOK_TYPE, 'SQLRoom DuckDB');
    this.controller.supportedLanguages = ['sql'];
    this.controller.supportsExecutionOrder = true;
    this.controller.description = 'Local DuckDB';
    this.controller.executeHandler = (cells, notebook) => this.execute(cells, notebook);
    this.subscriptions.push(
      this.controller,
      vscode.workspace.onDidOpenNotebookDocument((nb) => this.prefer(nb)),
      vscode.workspace.onDidCloseNotebookDocument((nb) => void this.closeSession(nb.uri.toString())),
    );
    for (const nb of vscode.workspace.notebookDocuments) this.prefer(nb);
  }

  private prefer(nb: vscode.NotebookDocument): void {
    if (nb.notebookType === NOTEBOOK_TYPE) this.controller.updateNotebookAffinity(nb, vscode.NotebookControllerAffinity.Preferred);
  }

  /** The database a notebook runs on: its own `meta.database`, else the setting; relative paths sit beside the notebook. */
  databaseFor(notebook: vscode.NotebookDocument): string {
    const meta = readSqlroomMetadata(notebook.metadata)?.meta ?? {};
    const configured = typeof meta.database === 'string' && meta.database.trim() !== '' ? meta.database.trim() : readSettings(notebook.uri).database;
    if (configured === ':memory:' || path.isAbsolute(configured)) return configured;
    if (notebook.uri.scheme !== 'file') return ':memory:';
    return path.join(path.dirname(notebook.uri.fsPath), configured);
  }

  private session(notebook: vscode.NotebookDocument): Promise<DuckDbSession> {
    const key = notebook.uri.toString();
    let s = this.sessions.get(key);
    if (!s) {
      const settings = readSettings(notebook.uri);
      s = DuckDbSession.open({ databasePath: this.databaseFor(notebook), rowCap: settings.maxResultRows, extensionDirectory: settings.extensionDirectory });
      // A failed open is not cached: the next run tries again (e.g. after the lock is released).
      s.catch(() => this.sessions.delete(key));
      this.sessions.set(key, s);
    }
    return s;
  }

  private async closeSession(key: string): Promise<void> {
    const s = this.sessions.get(key);
    this.sessions.delete(key);
    this.executionOrder.delete(key);
    if (s) await s.then((x) => x.close(), () => undefined);
  }

  private async execute(cells: vscode.NotebookCell[], notebook: vscode.NotebookDocument): Promise<void> {
    // Create every execution first so queued cells show as pending and one
    // interrupt cancels the running cell and everything queued behind it.
    const executions = cells.filter((c) => c.kind === vscode.NotebookCellKind.Code).map((c) => this.controller.createNotebookCellExecution(c));
    for (const execution of executions) await this.runCell(execution, notebook);
  }

  private async runCell(execution: vscode.NotebookCellExecution, notebook: vscode.NotebookDocument): Promise<void> {
    const cell = execution.cell;
    if (execution.token.isCancellationRequested) {
      // Never started: end without a success or failure mark, outputs untouched.
      execution.start(Date.now());
      execution.end(undefined, Date.now());
      return;
    }
    const key = notebook.uri.toString();
    const order = (this.executionOrder.get(key) ?? 0) + 1;
    this.executionOrder.set(key, order);
    execution.executionOrder = order;
    execution.start(Date.now());
    await execution.clearOutput();
    const settings = readSettings(notebook.uri);
    let session: DuckDbSession;
    try {
      session = await this.session(notebook);
    } catch (e) {
      await execution.replaceOutput(errorOutput('DuckDB could not open the database', messageOf(e)));
      execution.end(false, Date.now());
      return;
    }
    const cancel = execution.token.onCancellationRequested(() => session.interrupt());
    try {
      const name = typeof cell.metadata?.name === 'string' && cell.metadata.name !== '' ? cell.metadata.name : undefined;
      const payload = await session.run(cell.document.getText(), { viewName: name, rowCap: settings.maxResultRows });
      await execution.replaceOutput(
        new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.json(payload, RESULT_MIME), vscode.NotebookCellOutputItem.text(plainTextTable(payload))]),
      );
      execution.end(true, Date.now());
    } catch (e) {
      const cancelled = e instanceof SqlExecutionError && e.cancelled;
      await execution.replaceOutput(cancelled ? errorOutput('Cancelled', 'The query was interrupted.') : errorOutput('DuckDB error', messageOf(e)));
      execution.end(false, Date.now());
    } finally {
      cancel.dispose();
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    for (const key of [...this.sessions.keys()]) void this.closeSession(key);
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function errorOutput(name: string, message: string): vscode.NotebookCellOutput {
  const err = new Error(message);
  err.name = name;
  err.stack = undefined;
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error(err)]);
}
