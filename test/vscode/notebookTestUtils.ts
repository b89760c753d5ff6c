// Helpers for the VS Code suite: temp notebook files in the test workspace,
// waiting for cell executions, reading our outputs.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { SqlroomApi } from '../../extension/extension';
import { ERROR_MIME, RESULT_MIME, type ErrorPayload, type ResultPayload } from '../../extension/core/resultPayload';

export const EXTENSION_ID = 'sqlroom.sqlroom';

/** Activates the extension under test and returns its API. */
export async function sqlroomApi(): Promise<SqlroomApi> {
  const ext = vscode.extensions.getExtension<SqlroomApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not installed`);
  return ext.activate();
}

export async function activateExtension(): Promise<void> {
  await sqlroomApi();
}

/** Turns the bundled sync server on or off for notebooks opened from now on (the fixture workspace has it off). */
export async function setEmbeddedServer(on: boolean): Promise<void> {
  await vscode.workspace.getConfiguration('sqlroom.server').update('embedded', on, vscode.ConfigurationTarget.Workspace);
}

let counter = 0;
/** A fresh file path in the workspace (or a temp dir when there is none). */
export function tempNotebookPath(stem: string): string {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? fs.mkdtempSync(path.join(require('os').tmpdir(), 'sqlroom-'));
  const dir = path.join(root, '.test-notebooks');
  fs.mkdirSync(dir, { recursive: true });
  counter += 1;
  return path.join(dir, `${stem}-${process.pid}-${Date.now()}-${counter}.sqlroom`);
}

export function writeFile(file: string, content: string | Uint8Array): vscode.Uri {
  fs.writeFileSync(file, content);
  return vscode.Uri.file(file);
}

export async function openNotebook(uri: vscode.Uri): Promise<vscode.NotebookEditor> {
  const doc = await vscode.workspace.openNotebookDocument(uri);
  const editor = await vscode.window.showNotebookDocument(doc);
  await selectSqlroomKernel(editor);
  return editor;
}

export async function selectSqlroomKernel(editor: vscode.NotebookEditor): Promise<void> {
  await vscode.commands.executeCommand('notebook.selectKernel', { notebookEditor: editor, id: 'sqlroom-duckdb', extension: EXTENSION_ID });
}

/** Resolves when `pred` holds, re-checking on every notebook change; rejects after `ms` (a hang guard). */
export function waitFor<T>(what: string, check: () => T | undefined, ms = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const first = check();
    if (first !== undefined) return resolve(first);
    const sub = vscode.workspace.onDidChangeNotebookDocument(() => tryNow());
    const poll = setInterval(() => tryNow(), 100);
    const guard = setTimeout(() => done(new Error(`timed out waiting for ${what}`)), ms);
    function tryNow(): void {
      let v: T | undefined;
      try {
        v = check();
      } catch (e) {
        return done(e as Error);
      }
      if (v !== undefined) done(undefined, v);
    }
    function done(err?: Error, v?: T): void {
      sub.dispose();
      clearInterval(poll);
      clearTimeout(guard);
      if (err) reject(err);
      else resolve(v as T);
    }
  });
}

/** Runs cells by index and waits until each has a new execution summary with an end time. */
export async function runCells(editor: vscode.NotebookEditor, indices: number[]): Promise<vscode.NotebookCell[]> {
  const nb = editor.notebook;
  const before = indices.map((i) => nb.cellAt(i).executionSummary?.executionOrder);
  await vscode.commands.executeCommand('notebook.cell.execute', { ranges: indices.map((i) => ({ start: i, end: i + 1 })), document: nb.uri });
  return waitFor(`cells ${indices.join(',')} to finish`, () => {
    const cells = indices.map((i) => nb.cellAt(i));
    const finished = cells.every((c, k) => c.executionSummary?.timing?.endTime !== undefined && c.executionSummary.executionOrder !== before[k]);
    return finished ? cells : undefined;
  }, 60_000);
}

export function resultOf(cell: vscode.NotebookCell): ResultPayload {
  const item = cell.outputs.flatMap((o) => o.items).find((i) => i.mime === RESULT_MIME);
  if (!item) throw new Error(`cell ${cell.index} has no ${RESULT_MIME} output; outputs: ${describeOutputs(cell)}`);
  return JSON.parse(new TextDecoder().decode(item.data)) as ResultPayload;
}

/** A failed cell's error: our error block (title, message, position), with `name` = title and `message` = "<title>: <message>". */
export function errorOf(cell: vscode.NotebookCell): (ErrorPayload & { name: string }) | undefined {
  const item = cell.outputs.flatMap((o) => o.items).find((i) => i.mime === ERROR_MIME);
  if (!item) return undefined;
  const error = JSON.parse(new TextDecoder().decode(item.data)) as ErrorPayload;
  return { ...error, name: error.title, message: `${error.title}: ${error.message}` };
}

export function describeOutputs(cell: vscode.NotebookCell): string {
  return JSON.stringify(cell.outputs.flatMap((o) => o.items.map((i) => ({ mime: i.mime, text: new TextDecoder().decode(i.data).slice(0, 300) }))));
}

export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
