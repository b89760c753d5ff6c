// Runs in the extension host of a SECOND workbench page (opened by a
// collaboration test on the same code-server), started by the test runner
// extension when the suite already runs in another host. Two roles:
//   - a scripted second person (collabWindows.vscode.test.ts): it waits for an
//     instruction file, opens the notebook, edits it, waits for the first
//     window's edit to arrive, and reports what it shows;
//   - a reporter (collabKeyboard.vscode.test.ts, where Playwright types into
//     the page): it only writes what its window shows (cells, unsaved state,
//     sync session) to a state file, for the test's assertions.
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

/** What a reporter window shows, written to `${results}.host-<pid>.json` while `${results}.reporter` exists. */
export interface WindowState {
  pid: number;
  at: number;
  notebooks: Array<{
    path: string;
    dirty: boolean;
    cells: Array<{ id: string; source: string; kind: 'code' | 'markup' }>;
    session?: { url: string; state: string; pending: number; others: string[] };
  }>;
  /** The window's file counters (NotebookRegistry.fileStats). */
  files?: { saves: number; foreignWrites: number; foreignWhileDirty: number; reverts: number };
}

export async function run(resultsFile: string): Promise<void> {
  // Whichever role's file shows up first (a page opened by another test ignores stale files of an earlier one).
  const startedAt = Date.now();
  const fresh = (f: string) => fs.existsSync(f) && fs.statSync(f).mtimeMs >= startedAt - 120_000;
  for (let i = 0; i < 600; i++) {
    if (fresh(`${resultsFile}.reporter`)) return report(resultsFile);
    if (fresh(`${resultsFile}.window2.json`) && claim(`${resultsFile}.window2.claimed`)) return actAsSecondPerson(resultsFile);
    await sleep(200);
  }
}

/** Only one host takes the scripted role. */
function claim(file: string): boolean {
  try {
    fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

async function report(resultsFile: string): Promise<void> {
  const api = (await vscode.extensions.getExtension<SqlroomApi>('sqlroom.sqlroom')!.activate()) as SqlroomApi;
  const out = `${resultsFile}.host-${process.pid}.json`;
  while (fs.existsSync(`${resultsFile}.reporter`)) {
    const state: WindowState = { pid: process.pid, at: Date.now(), notebooks: [], files: { ...api.registry.fileStats } };
    for (const doc of vscode.workspace.notebookDocuments) {
      if (doc.notebookType !== 'sqlroom' || doc.uri.scheme !== 'file') continue;
      const nb = api.tracker.docFor(doc);
      const session = nb && api.collab.session(String(doc.metadata?.docId ?? ''));
      state.notebooks.push({
        path: doc.uri.fsPath,
        dirty: doc.isDirty,
        cells: doc.getCells().map((c) => ({ id: String(c.metadata?.id ?? ''), source: c.document.getText(), kind: c.kind === vscode.NotebookCellKind.Markup ? 'markup' : 'code' })),
        ...(session ? { session: { url: session.endpoint.url, state: session.status.state, pending: session.status.pending, others: session.others().map((o) => o.name) } } : {}),
      });
    }
    fs.writeFileSync(`${out}.tmp`, JSON.stringify(state));
    fs.renameSync(`${out}.tmp`, out);
    await sleep(250);
  }
  fs.rmSync(out, { force: true });
}

async function actAsSecondPerson(resultsFile: string): Promise<void> {
  const taskFile = `${resultsFile}.window2.json`;
  const resultFile = `${resultsFile}.window2.result.json`;
  const write = (r: SecondWindowResult) => fs.writeFileSync(resultFile, JSON.stringify(r, null, 2));
  try {
    const task = JSON.parse(fs.readFileSync(taskFile, 'utf8')) as SecondWindowTask;
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
