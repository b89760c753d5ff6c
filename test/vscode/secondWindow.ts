// Runs in the extension host of a SECOND workbench page (opened by
// collabWindows.vscode.test.ts on the same code-server), started by the test
// runner extension when the suite already runs in another host. It waits for
// an instruction file, opens the notebook, edits it like a second person,
// waits for the first window's edit to arrive, and reports what it shows.
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { SqlroomApi } from '../../extension/extension';

export interface SecondWindowTask {
  notebook: string;
  /** Typed at the start of cell 0. */
  type: string;
  /** Inserted as a new last cell. */
  insert: string;
  /** Text the first window types: done once this shows. */
  waitFor: string;
}

export interface SecondWindowResult {
  cells?: Array<{ id: string; source: string }>;
  /** The sync server this window joined, and the pid of its process (the local server). */
  server?: { url: string; kind: string; pid?: number };
  /** Names of the collaborators this window saw in the notebook (presence). */
  others?: string[];
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(resultsFile: string): Promise<void> {
  const taskFile = `${resultsFile}.window2.json`;
  const resultFile = `${resultsFile}.window2.result.json`;
  const write = (r: SecondWindowResult) => fs.writeFileSync(resultFile, JSON.stringify(r, null, 2));
  try {
    let task: SecondWindowTask | undefined;
    for (let i = 0; i < 600 && !task; i++) {
      if (fs.existsSync(taskFile)) task = JSON.parse(fs.readFileSync(taskFile, 'utf8')) as SecondWindowTask;
      else await sleep(200);
    }
    if (!task) return;
    const api = (await vscode.extensions.getExtension<SqlroomApi>('sqlroom.sqlroom')!.activate()) as SqlroomApi;
    const doc = await vscode.workspace.openNotebookDocument(vscode.Uri.file(task.notebook));
    await vscode.window.showNotebookDocument(doc);
    const session = await api.collab.sessionFor(doc);
    if (!session) throw new Error('the second window did not join a sync session');
    await session.client.whenSynced(60_000);
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.cellAt(0).document.uri, new vscode.Position(0, 0), task.type);
    await vscode.workspace.applyEdit(edit);
    const insert = new vscode.WorkspaceEdit();
    insert.set(doc.uri, [vscode.NotebookEdit.insertCells(doc.cellCount, [new vscode.NotebookCellData(vscode.NotebookCellKind.Code, task.insert, 'sql')])]);
    await vscode.workspace.applyEdit(insert);
    for (let i = 0; i < 600; i++) {
      if (doc.getCells().some((c) => c.document.getText().includes(task!.waitFor))) break;
      await sleep(100);
    }
    await session.client.whenSynced(60_000);
    await api.tracker.whenIdle(doc);
    // The first window is a collaborator here: its presence arrives through the shared server.
    for (let i = 0; i < 600 && session.others().length === 0; i++) await sleep(100);
    write({
      cells: doc.getCells().map((c) => ({ id: String(c.metadata?.id ?? ''), source: c.document.getText() })),
      server: { url: session.endpoint.url, kind: session.endpoint.kind, pid: api.collab.embedded.pid },
      others: session.others().map((o) => o.name),
    });
  } catch (err) {
    write({ error: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
}
