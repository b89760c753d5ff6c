// Branch and merge from the history: both need the notebook's sync server
// (branches live there). Branch forks the server's room at a version and opens
// the branch as an editable notebook `<name>@<branch>.sqlroom` whose document
// id is the branch's room `<docId>@<branch>`, so the sync layer joins that
// room like any other. Merge asks the server to merge one branch into another;
// open notebooks of the target update through their own sync sessions.
import type { ServerActivity } from '../../server/shared/history';
import * as path from 'path';
import * as vscode from 'vscode';
import { branchFileName, branchNameProblem, branchRoomId, mergeChoices, splitRoomId, type BranchHead } from '../../server/shared/history/branches';
import { parseVersion, shortVersion } from '../../server/shared/history/version';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { readSqlroomMetadata } from '../core/notebookMapping';
import { BranchApi, type MergeResult } from './branchApi';
import type { HistoryService } from './historyService';

/** What branching needs from the live collaboration layer (CollabManager has it). */
export interface SyncSessions {
  sessionFor(notebook: vscode.NotebookDocument): Promise<
    | { endpoint: { url: string }; httpAccess(): { url: string; token?: string; ca?: Buffer }; client: { whenSynced(timeoutMs?: number): Promise<void> } }
    | undefined
  >;
}

export const NEEDS_SERVER =
  'Branches live on the sync server, and this notebook is not connected to one. Turn on "sqlroom.server.embedded" (the bundled local server) or set "sqlroom.server.url" to a team server, reopen the notebook, and try again.';
const SYNC_WAIT_MS = 15_000;

export class BranchService {
  constructor(
    private readonly service: HistoryService,
    private readonly sessions: () => SyncSessions | undefined,
  ) {}

  /** The server API for a document's open notebook; waits until the server has all local edits. */
  private async connect(docId: string): Promise<{ api: BranchApi; live: vscode.NotebookDocument }> {
    const live = this.service.liveNotebook(docId);
    if (!live) throw new Error(`The notebook (document ${docId}) is not open.`);
    const session = await this.sessions()?.sessionFor(live);
    if (!session) throw new Error(NEEDS_SERVER);
    try {
      await session.client.whenSynced(SYNC_WAIT_MS);
    } catch {
      throw new Error(`The notebook is not in sync with its server (${session.endpoint.url}): it is offline or still sending changes. Branching and merging need the server to have every change; try again once the status bar says connected.`);
    }
    return { api: BranchApi.of(session.httpAccess()), live };
  }

  private author(docId: string): string {
    const nb = this.service.doc(docId);
    return nb.authorOf(nb.doc.peerIdStr) ?? 'vscode';
  }

  /**
   * Writes the server snapshot of a checkpoint (message = its name) once the
   * server has every local change. Returns false when the notebook has no
   * server or is offline: the checkpoint then lives in the notebook's own
   * history only (it reaches the server with the next sync, without a snapshot).
   */
  async serverCheckpoint(docId: string, name: string): Promise<boolean> {
    const live = this.service.liveNotebook(docId);
    const session = live && (await this.sessions()?.sessionFor(live));
    if (!session) return false;
    try {
      await session.client.whenSynced(SYNC_WAIT_MS);
    } catch {
      return false;
    }
    const { docId: base, branch } = splitRoomId(docId);
    await BranchApi.of(session.httpAccess()).checkpoint(base, branch, name, this.author(docId));
    return true;
  }

  /** Server branch heads of the document (undefined when offline: the history then shows no branch labels). */
  async heads(docId: string): Promise<BranchHead[] | undefined> {
    const live = this.service.liveNotebook(docId);
    const session = live && (await this.sessions()?.sessionFor(live));
    if (!session) return undefined;
    try {
      return await BranchApi.of(session.httpAccess()).list(splitRoomId(docId).docId);
    } catch {
      return undefined;
    }
  }

  /** The server's analytics of the document (undefined when not synced or unreachable). */
  async analytics(docId: string): Promise<ServerActivity | undefined> {
    const live = this.service.liveNotebook(docId);
    const session = live && (await this.sessions()?.sessionFor(live));
    if (!session) return undefined;
    try {
      return await BranchApi.of(session.httpAccess()).analytics(splitRoomId(docId).docId);
    } catch {
      return undefined;
    }
  }

  /** Forks a branch at `version` and opens it as an editable notebook. */
  async branch(docId: string, version: string, nameArg?: string, label?: string): Promise<vscode.NotebookEditor | undefined> {
    if (version === '') throw new Error('Pick a version with at least one change to branch from.');
    const { api, live } = await this.connect(docId);
    const { docId: base, branch: parent } = splitRoomId(docId);
    const existing = (await api.list(base)).map((b) => b.branch);
    const name =
      nameArg ??
      (await vscode.window.showInputBox({
        title: `Branch from ${label ?? shortVersion(version)}`,
        prompt: `A name for the new branch of ${path.basename(live.uri.path)} (it opens as an editable notebook others can join)`,
        validateInput: (v) => branchNameProblem(v.trim(), existing),
      }))?.trim();
    if (name === undefined) return undefined;
    const problem = branchNameProblem(name, existing);
    if (problem) throw new Error(`Cannot create branch "${name}": ${problem}.`);
    const file = await this.branchFile(live, name);
    await api.create(base, name, parent, parseVersion(version), this.author(docId));
    const state = await api.state(base, name);
    const nb = NotebookDoc.fromSnapshot(state.snapshot);
    const server = readSqlroomMetadata(live.metadata)?.server;
    await vscode.workspace.fs.writeFile(file, serializeSqlroomFile(nb, branchRoomId(base, name), server ? { server } : undefined));
    const notebook = await vscode.workspace.openNotebookDocument(file);
    return vscode.window.showNotebookDocument(notebook, { viewColumn: vscode.ViewColumn.Active });
  }

  /** Next to the original file (or in the workspace folder for an untitled one); never overwrites. */
  private async branchFile(live: vscode.NotebookDocument, branch: string): Promise<vscode.Uri> {
    const folder =
      live.uri.scheme === 'untitled' ? vscode.workspace.workspaceFolders?.[0]?.uri : vscode.Uri.joinPath(live.uri, '..');
    if (!folder) throw new Error('Save the notebook first: the branch is written next to it.');
    const file = vscode.Uri.joinPath(folder, branchFileName(path.basename(live.uri.path), branch));
    try {
      await vscode.workspace.fs.stat(file);
    } catch {
      return file;
    }
    throw new Error(`${file.fsPath} already exists; pick another branch name or move that file.`);
  }

  /** Merges branch `from` into `into`; what is missing is asked (both directions offered: this branch into another, another into this). */
  async merge(docId: string, fromArg?: string, intoArg?: string): Promise<MergeResult | undefined> {
    const { api } = await this.connect(docId);
    const { docId: base, branch: own } = splitRoomId(docId);
    let from = fromArg ?? own;
    let into = intoArg;
    if (into === undefined) {
      const choices = mergeChoices(own, await api.list(base), fromArg);
      if (choices.length === 0) throw new Error(`Document ${base} has only one branch: branch from a version first, then merge.`);
      const pick = await vscode.window.showQuickPick(
        choices.map((c) => ({ label: `Merge ${c.from} into ${c.into}`, description: c.detail, choice: c })),
        { title: 'Merge branches', placeHolder: 'The second branch receives the changes of the first' },
      );
      if (!pick) return undefined;
      ({ from, into } = pick.choice);
    }
    // The source's own open notebook may hold edits the server has not acked yet.
    const sourceLive = this.service.liveNotebook(branchRoomId(base, from));
    if (sourceLive && branchRoomId(base, from) !== docId) await this.connect(branchRoomId(base, from));
    const result = await api.merge(base, from, into, this.author(docId));
    void vscode.window.showInformationMessage(
      result.merged ? `Merged ${from} into ${into} (${result.newOps} operations).` : `${into} already has every change of ${from}: nothing to merge.`,
    );
    return result;
  }
}
