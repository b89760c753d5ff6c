// What the result renderer asks of the extension (renderer messaging): sort a
// capped result again in the notebook's DuckDB, export the whole result with
// DuckDB's COPY (save dialog, cancellable progress, Open/Reveal), and keep a
// result's chart choice in the cell's metadata (which syncs to collaborators
// like any cell metadata). The SQL is built in core/resultQueries.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSettings } from './config';
import { chartOf, type SqlKernel } from './kernel';
import { parseRendererRequest, type ExtensionMessage, type RendererRequest } from './core/rendererMessages';
import { RESULT_MIME, type ChartChoice, type ResultPayload } from './core/resultPayload';
import { copyStatement, exportFileName, formatForFile, sortedQuery } from './core/resultQueries';
import { NOTEBOOK_TYPE } from './serializer';

export const RENDERER_ID = 'sqlroom.resultTable';

/** Said when an output did not come from a run in this window (e.g. kept in the file from an earlier run). */
export const RUN_AGAIN = 'Run the cell again first: this result is from an earlier run, and only a run in this window can be queried again.';

/** What the last export did, for tests and the API. */
export interface ExportOutcome {
  file: string;
  rows: number;
}

export class ResultActions implements vscode.Disposable {
  private readonly messaging = vscode.notebooks.createRendererMessaging(RENDERER_ID);
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Resolved exports, newest last (tests read it through the API). */
  readonly exports: ExportOutcome[] = [];

  constructor(private readonly kernel: SqlKernel) {
    this.subscriptions.push(
      this.messaging.onDidReceiveMessage(({ editor, message }) => {
        const request = parseRendererRequest(message);
        if (request && editor.notebook.notebookType === NOTEBOOK_TYPE) void this.handle(editor, request);
      }),
      // A chart choice changed (here, by undo, or by a collaborator): every output of that cell follows.
      vscode.workspace.onDidChangeNotebookDocument((e) => {
        if (e.notebook.notebookType !== NOTEBOOK_TYPE) return;
        for (const change of e.cellChanges) {
          const cellId = change.cell.metadata?.id;
          if (change.metadata !== undefined && typeof cellId === 'string') void this.post({ type: 'chart', cellId, chart: chartOf(change.cell.metadata) ?? null });
        }
      }),
    );
  }

  private post(message: ExtensionMessage, editor?: vscode.NotebookEditor): Thenable<boolean> {
    return this.messaging.postMessage(message, editor);
  }

  private async handle(editor: vscode.NotebookEditor, request: RendererRequest): Promise<void> {
    const cell = editor.notebook.getCells().find((c) => c.metadata?.id === request.cellId);
    switch (request.type) {
      case 'hello':
        if (cell) await this.post({ type: 'chart', cellId: request.cellId, chart: chartOf(cell.metadata) ?? null }, editor);
        return;
      case 'chart':
        if (cell) await this.setChart(cell, request.chart);
        return;
      case 'sort': {
        const answer = await this.sort(cell, request).catch((e: unknown) => ({ error: messageOf(e) }));
        await this.post({ type: 'sorted', requestId: request.requestId, cellId: request.cellId, ...answer }, editor);
        return;
      }
      case 'export': {
        if (!cell) return;
        const status = (text: string) => void this.post({ type: 'status', cellId: request.cellId, text }, editor);
        try {
          await this.export(cell, request.format, request.sort, status);
        } catch (e) {
          status(`export failed: ${messageOf(e)}`);
          void vscode.window.showErrorMessage(`Export failed: ${messageOf(e)}`);
        }
        return;
      }
    }
  }

  private async setChart(cell: vscode.NotebookCell, chart: ChartChoice | null): Promise<void> {
    const metadata: Record<string, unknown> = { ...cell.metadata };
    if (chart) metadata.chart = chart;
    else delete metadata.chart;
    if (JSON.stringify(metadata.chart) === JSON.stringify(cell.metadata?.chart)) return;
    const edit = new vscode.WorkspaceEdit();
    edit.set(cell.notebook.uri, [vscode.NotebookEdit.updateCellMetadata(cell.index, metadata)]);
    await vscode.workspace.applyEdit(edit);
  }

  /** The cell's whole result sorted by one column, capped like a run. */
  private async sort(cell: vscode.NotebookCell | undefined, request: RendererRequest & { type: 'sort' }): Promise<{ payload: ResultPayload }> {
    if (!cell) throw new Error('the cell is no longer in the notebook');
    const { query, shown } = this.sourceOf(cell);
    const cap = readSettings(cell.notebook.uri).maxResultRows;
    const session = await this.kernel.sessionFor(cell.notebook);
    const sql = sortedQuery(query, shown.columns.map((c) => c.name), request.sort ?? undefined, cap);
    const result = await session.run(sql, { rowCap: cap });
    // The total is the shown result's: the sorted query is limited to the cap.
    return {
      payload: {
        ...shown,
        rows: result.rows,
        elapsedMs: result.elapsedMs,
        ...(request.sort ? { sort: request.sort } : {}),
      },
    };
  }

  /** Asks where, then COPYs the cell's whole result there, with a cancellable progress notification. */
  private async export(cell: vscode.NotebookCell, format: 'csv' | 'parquet', sort: { column: number; descending: boolean } | null, status: (text: string) => void): Promise<void> {
    let source: { query: string; shown: ResultPayload };
    try {
      source = this.sourceOf(cell);
    } catch (e) {
      status('not exported: run the cell again first');
      void vscode.window.showWarningMessage(messageOf(e));
      return;
    }
    const name = typeof cell.metadata?.name === 'string' ? cell.metadata.name : undefined;
    const folder = cell.notebook.uri.scheme === 'file' ? path.dirname(cell.notebook.uri.fsPath) : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const target = await vscode.window.showSaveDialog({
      title: `Export the result (${source.shown.rowCount} rows) as ${format === 'csv' ? 'CSV' : 'Parquet'}`,
      saveLabel: 'Export',
      ...(folder ? { defaultUri: vscode.Uri.file(path.join(folder, exportFileName(name, format))) } : {}),
      filters: format === 'csv' ? { CSV: ['csv'], 'All files': ['*'] } : { Parquet: ['parquet'], 'All files': ['*'] },
    });
    if (!target) {
      status('');
      return;
    }
    if (target.scheme !== 'file') throw new Error(`DuckDB writes files on this machine only, not ${target.scheme}: URIs`);
    const file = target.fsPath;
    const existed = fs.existsSync(file);
    const chosen = formatForFile(file, format);
    const query = sort ? sortedQuery(source.query, source.shown.columns.map((c) => c.name), sort) : source.query;
    const session = await this.kernel.sessionFor(cell.notebook);
    const abort = new AbortController();
    let rows = 0;
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Exporting ${source.shown.rowCount} rows to ${path.basename(file)}…`, cancellable: true },
        async (_progress, token) => {
          token.onCancellationRequested(() => abort.abort());
          const result = await session.run(copyStatement(query, file, chosen), { signal: abort.signal });
          rows = Number(result.rows[0]?.[0] ?? 0);
        },
      );
    } catch (e) {
      // A cancelled COPY leaves a partial file: remove it unless it was there before.
      if (abort.signal.aborted) {
        if (!existed) fs.rmSync(file, { force: true });
        status('export cancelled');
        void vscode.window.showInformationMessage(`Export to ${path.basename(file)} cancelled.`);
        return;
      }
      throw e;
    }
    this.exports.push({ file, rows });
    status(`exported ${rows} rows to ${path.basename(file)}`);
    const choice = await vscode.window.showInformationMessage(`Exported ${rows} rows to ${path.basename(file)} (${chosen === 'csv' ? 'CSV' : 'Parquet'}).`, 'Open', 'Reveal');
    if (choice === 'Open') await vscode.commands.executeCommand('vscode.open', target);
    else if (choice === 'Reveal') await vscode.commands.executeCommand(vscode.workspace.getWorkspaceFolder(target) ? 'revealInExplorer' : 'revealFileInOS', target);
  }

  /** The query behind the cell's result and the result it shows; throws what to do when there is none. */
  private sourceOf(cell: vscode.NotebookCell): { query: string; shown: ResultPayload } {
    const query = this.kernel.resultQueryFor(cell);
    const item = cell.outputs.flatMap((o) => o.items).find((i) => i.mime === RESULT_MIME);
    if (!query || !item) throw new Error(RUN_AGAIN);
    return { query, shown: JSON.parse(new TextDecoder().decode(item.data)) as ResultPayload };
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
