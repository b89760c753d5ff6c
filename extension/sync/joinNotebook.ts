// SQLRoom: Join Notebook — asks for what is missing (server URL, room, token)
// and opens `<room>.sqlroom`, a file naming its server (so reopening it joins
// again), in the workspace folder or, without one, in the extension storage.
import * as vscode from 'vscode';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { normaliseServerUrl, readCollabSettings } from './collabSettings';

export interface Joined {
  editor: vscode.NotebookEditor;
  server: string;
  token: string | undefined;
}

export async function joinNotebook(storage: vscode.Uri, url?: string, room?: string, token?: string, beforeOpen?: (server: string, token: string | undefined) => void): Promise<Joined | undefined> {
  const settings = readCollabSettings();
  const rawUrl =
    url ??
    (await vscode.window.showInputBox({ title: 'Join a SQLRoom notebook (1/3)', prompt: 'Server URL (ws:// or wss://)', value: settings.url ?? '', ignoreFocusOut: true, validateInput: (v) => (normaliseServerUrl(v) ? undefined : 'A ws:// or wss:// URL') }));
  if (rawUrl === undefined) return undefined;
  const server = normaliseServerUrl(rawUrl);
  if (!server) throw new Error(`"${rawUrl}" is not a ws:// or wss:// server URL`);
  const roomId = room ?? (await vscode.window.showInputBox({ title: 'Join a SQLRoom notebook (2/3)', prompt: 'Room (the notebook id the owner shared)', ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : 'Required') }));
  if (!roomId) return undefined;
  const tok = token ?? (await vscode.window.showInputBox({ title: 'Join a SQLRoom notebook (3/3)', prompt: 'Token (empty if the server needs none)', password: true, ignoreFocusOut: true }));
  if (tok === undefined) return undefined;
  const docId = roomId.trim();
  beforeOpen?.(server, tok.trim() || undefined);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.joinPath(storage, 'joined');
  const file = vscode.Uri.joinPath(folder, `${docId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)}.sqlroom`);
  if (!(await exists(file))) {
    const empty = new NotebookDoc();
    empty.commit();
    await vscode.workspace.fs.writeFile(file, serializeSqlroomFile(empty, docId, { server }));
  }
  const doc = await vscode.workspace.openNotebookDocument(file);
  return { editor: await vscode.window.showNotebookDocument(doc), server, token: tok.trim() || undefined };
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}
