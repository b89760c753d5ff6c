// The "SQLRoom DuckDB" NotebookController: runs SQL cells of `.sqlroom`
// notebooks on a local DuckDB (one session per notebook), one cell at a time,
// with cancellation through the execution token.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DuckDbSession, SqlExecutionError } from './core/duckdbSession';
import { errorText, toErrorPayload } from './core/errorPayload';
import { plainTextTable } from './core/plainTextTable';
import { ERROR_MIME, RESULT_MIME, type ChartChoice, type ErrorPayload, type RunStamp } from './core/resultPayload';
import { ErrorDiagnostics } from './errorDiagnostics';
import { parseVersionUri, VERSION_SCHEME } from './history/versionUri';
import { readSettings } from './config';
import { NOTEBOOK_TYPE } from './serializer';
import { readSqlroomMetadata } from './core/notebookMapping';
import { parseChart } from './core/rendererMessages';
import { resultQuery } from './core/resultQueries';

export const CONTROLLER_ID = 'sqlroom-duckdb';

export class SqlKernel implements vscode.Disposable {
  readonly controller: vscode.NotebookController;
  private readonly sessions = new Map<string, Promise<DuckDbSession>>();
  private readonly executionOrder = new Map<string, number>();
  /** Per notebook, per cell (document URI): the statement whose rows the cell's last successful run shows. */
  private readonly resultQueries = new Map<string, Map<string, string>>();
  private readonly subscriptions: vscode.Disposable[] = [];
  readonly diagnostics = new ErrorDiagnostics();

  constructor(private readonly userName: () => string = () => '') {
    this.controller = vscode.notebooks.createNotebookController(CONTROLLER_ID, NOTEBOOK_TYPE, 'SQLRoom DuckDB');
    this.controller.supportedLanguages = ['sql'];
    this.controller.supportsExecutionOrder = true;
    this.controller.description = 'Local DuckDB';
    this.controller.executeHandler = (cells, notebook) => this.execute(cells, notebook);
    this.subscriptions.push(
      this.controller,
      this.diagnostics,
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

  /**
   * The folder relative file paths in SQL resolve against: the notebook's
   * folder; for a read-only version (sqlroom-version:), the folder of the open
   * notebook it is a version of; else the first workspace folder.
   */
  baseDirectoryFor(notebook: vscode.NotebookDocument): string | undefined {
    if (notebook.uri.scheme === 'file') return path.dirname(notebook.uri.fsPath);
    if (notebook.uri.scheme === VERSION_SCHEME) {
      try {
        const { docId } = parseVersionUri(notebook.uri);
        const live = vscode.workspace.notebookDocuments.find((nb) => nb.uri.scheme === 'file' && readSqlroomMetadata(nb.metadata)?.docId === docId);
        if (live) return path.dirname(live.uri.fsPath);
      } catch {
        // A malformed version URI: fall back to the workspace.
      }
    }
    const folder = vscode.workspace.getWorkspaceFolder(notebook.uri) ?? vscode.workspace.workspaceFolders?.[0];
    return folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
  }

  /** The notebook's DuckDB session (opened on first use). */
  sessionFor(notebook: vscode.NotebookDocument): Promise<DuckDbSession> {
    return this.session(notebook);
  }

  private session(notebook: vscode.NotebookDocument): Promise<DuckDbSession> {
    const key = notebook.uri.toString();
    let s = this.sessions.get(key);
    if (!s) {
      const settings = readSettings(notebook.uri);
      s = DuckDbSession.open({
        databasePath: this.databaseFor(notebook),
        rowCap: settings.maxResultRows,
        extensionDirectory: settings.extensionDirectory,
        baseDirectory: this.baseDirectoryFor(notebook),
      });
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
    this.resultQueries.delete(key);
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
    const started = Date.now();
    execution.start(started);
    await execution.clearOutput();
    this.diagnostics.clear(cell);
    const run: RunStamp = { ranAt: started, ranBy: this.userName() || undefined };
    const sql = cell.document.getText();
    const settings = readSettings(notebook.uri);
    let session: DuckDbSession;
    try {
      session = await this.session(notebook);
    } catch (e) {
      await execution.replaceOutput(errorOutput({ version: 1, title: 'DuckDB could not open the database', message: messageOf(e), run }));
      execution.end(false, Date.now());
      return;
    }
    const cancel = execution.token.onCancellationRequested(() => session.interrupt());
    const queries = this.resultQueries.get(key) ?? new Map<string, string>();
    this.resultQueries.set(key, queries);
    queries.delete(cell.document.uri.toString());
    try {
      const name = typeof cell.metadata?.name === 'string' && cell.metadata.name !== '' ? cell.metadata.name : undefined;
      const result = await session.run(sql, { viewName: name, rowCap: settings.maxResultRows });
      const cellId = typeof cell.metadata?.id === 'string' ? cell.metadata.id : undefined;
      const chart = chartOf(cell.metadata);
      const payload = { ...result, ...(cellId ? { cellId } : {}), ...(chart ? { chart } : {}), run };
      await execution.replaceOutput(
        new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.json(payload, RESULT_MIME), vscode.NotebookCellOutputItem.text(plainTextTable(payload))]),
      );
      const query = resultQuery(sql);
      if (query !== undefined && result.columns.length > 0) queries.set(cell.document.uri.toString(), query);
      execution.end(true, Date.now());
    } catch (e) {
      const error = toErrorPayload(e, sql, run);
      await execution.replaceOutput(errorOutput(error));
      if (!(e instanceof SqlExecutionError && e.cancelled)) this.diagnostics.show(cell, error);
      execution.end(false, Date.now());
    } finally {
      cancel.dispose();
    }
  }

  /**
   * The statement whose rows `cell` shows, as it ran in this window's session
   * (the cell's text may have changed since), or undefined when the output
   * is not from a run here (an earlier run kept in the file, a failed run).
   */
  resultQueryFor(cell: vscode.NotebookCell): string | undefined {
    return this.resultQueries.get(cell.notebook.uri.toString())?.get(cell.document.uri.toString());
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    for (const key of [...this.sessions.keys()]) void this.closeSession(key);
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A failed run: our error block (ERROR_MIME) and a text/plain form for other viewers. */
function errorOutput(error: ErrorPayload): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.json(error, ERROR_MIME), vscode.NotebookCellOutputItem.text(errorText(error))]);
}

/** The chart choice stored in a cell's metadata (`chart`), if it is a valid one. */
export function chartOf(metadata: Record<string, unknown> | undefined): ChartChoice | undefined {
  return parseChart(metadata?.chart);
}
