// Live collaboration glue: one CollabSession per open shared document, the
// server it joins (the notebook file's own server, else `sqlroom.server.url`,
// else the embedded server when `sqlroom.server.embedded` is on), the status
// bar item, collaborators in cells, and the Share / Join / Undo / Redo commands.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { NotebookDoc } from '../../server/shared/notebookDoc';
import { readSqlroomMetadata } from '../core/notebookMapping';
import { LocalCache } from '../core/sync/localCache';
import { describeStatus } from '../core/sync/statusText';
import { JOIN_ANSWERS, joinDecision, joinPrompt, serverKey, type JoinAnswer } from '../core/sync/joinPolicy';
import { markedName } from '../../server/shared/collaboratorColor';
import type { ChangeTracker } from '../changeTracker';
import type { NotebookRegistry } from '../notebookRegistry';
import { NOTEBOOK_TYPE } from '../serializer';
import { CollabSession, type SessionEndpoint } from './collabSession';
import { normaliseServerUrl, readCollabSettings } from './collabSettings';
import { EmbeddedServer } from './embeddedServer';
import { joinNotebook } from './joinNotebook';
import { CollaboratorCells } from './collaboratorCells';
import { ServerTokens } from './serverTokens';

export const SHARE_COMMAND = 'sqlroom.shareNotebook';
export const JOIN_COMMAND = 'sqlroom.joinNotebook';
export const COLLABORATORS_COMMAND = 'sqlroom.showCollaborators';
export const UNDO_COMMAND = 'sqlroom.undo';
export const REDO_COMMAND = 'sqlroom.redo';
const MERGED_NOTICE_MS = 10_000;
/** globalState: keys of servers the user chose "Always for this server" for (or joined with the Join command). */
const TRUSTED_SERVERS_KEY = 'sqlroom.trustedServers';

export class CollabManager implements vscode.Disposable {
  private readonly sessions = new Map<NotebookDoc, CollabSession>();
  private readonly opening = new Map<NotebookDoc, Promise<CollabSession | undefined>>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly statusItem: vscode.StatusBarItem;
  private readonly log: vscode.OutputChannel;
  readonly embedded: EmbeddedServer;
  private readonly cache: LocalCache;
  readonly tokens: ServerTokens;
  /** Servers joined in this window (the "Join" answer, the settings), and those the user said "Work offline" for. */
  private readonly allowedNow = new Set<string>();
  private readonly declinedNow = new Set<string>();
  private readonly asking = new Map<string, Promise<JoinAnswer | undefined>>();
  private readonly globalState: vscode.Memento;
  private recovering: Promise<void> | undefined;
  private readonly mergedAt = new Map<CollabSession, number>();
  private readonly cellMarkers: CollaboratorCells;
  private readonly storage: vscode.Uri;

  constructor(
    context: vscode.ExtensionContext,
    registry: NotebookRegistry,
    private readonly tracker: ChangeTracker,
    private readonly userName: () => string,
    /** Resolves once the user's name is known (git, accounts): sessions join with it. */
    private readonly nameReady: Promise<void> = Promise.resolve(),
  ) {
    this.log = vscode.window.createOutputChannel('SQLRoom Sync');
    this.storage = context.storageUri ?? context.globalStorageUri;
    this.embedded = new EmbeddedServer(context.extensionPath, this.log);
    this.tokens = new ServerTokens(context.secrets, this.log);
    this.globalState = context.globalState;
    this.cache = new LocalCache(path.join(context.globalStorageUri.fsPath, 'offline-cache'));
    registry.cachedState = (docId) => this.cache.read(docId);
    this.statusItem = vscode.window.createStatusBarItem('sqlroom.sync', vscode.StatusBarAlignment.Left, 50);
    this.statusItem.name = 'SQLRoom sync';
    this.statusItem.command = COLLABORATORS_COMMAND;
    this.cellMarkers = new CollaboratorCells((notebook) => this.sessionOf(notebook));
    this.subscriptions.push(
      this.log,
      this.statusItem,
      this.cellMarkers,
      this.tokens,
      tracker.onDidBind(({ notebook }) => void this.open(notebook)),
      tracker.onDidUnbind(({ docId }) => this.closeIfUnused(docId)),
      vscode.window.onDidChangeActiveNotebookEditor(() => this.refresh()),
      vscode.window.onDidChangeNotebookEditorSelection((e) => this.publishCell(e.notebookEditor)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('sqlroom.server')) void this.reconnectAll();
      }),
      vscode.commands.registerCommand(SHARE_COMMAND, (perm?: 'read' | 'write') => this.share(perm)),
      vscode.commands.registerCommand(JOIN_COMMAND, (url?: string, room?: string, token?: string) => this.join(url, room, token)),
      vscode.commands.registerCommand(COLLABORATORS_COMMAND, () => this.showCollaborators()),
      vscode.commands.registerCommand(UNDO_COMMAND, () => this.undoRedo('undo')),
      vscode.commands.registerCommand(REDO_COMMAND, () => this.undoRedo('redo')),
    );
    for (const nb of vscode.workspace.notebookDocuments) void this.open(nb);
  }

  /** The session of a document, once it is open (tests, other features). */
  session(docId: string): CollabSession | undefined {
    return [...this.sessions.values()].find((s) => s.docId === docId);
  }

  /** Resolves with the session of a notebook once it has been opened (undefined when not shared). */
  async sessionFor(notebook: vscode.NotebookDocument): Promise<CollabSession | undefined> {
    const nb = this.tracker.docFor(notebook);
    if (!nb) return undefined;
    return this.sessions.get(nb) ?? (await (this.opening.get(nb) ?? this.open(notebook)));
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
    for (const d of this.subscriptions) d.dispose();
    this.embedded.dispose();
  }

  // ---- sessions --------------------------------------------------------------
  // One session per Loro document: two files with the same document id are two
  // replicas of one shared notebook and converge through the server like two people.

  private sessionOf(notebook: vscode.NotebookDocument): CollabSession | undefined {
    const nb = this.tracker.docFor(notebook);
    return nb ? this.sessions.get(nb) : undefined;
  }

  private open(notebook: vscode.NotebookDocument): Promise<CollabSession | undefined> {
    if (notebook.notebookType !== NOTEBOOK_TYPE || notebook.uri.scheme === 'sqlroom-version') return Promise.resolve(undefined);
    const own = readSqlroomMetadata(notebook.metadata);
    const nb = this.tracker.docFor(notebook);
    if (!own || !nb) return Promise.resolve(undefined);
    const existing = this.sessions.get(nb);
    if (existing) return Promise.resolve(existing);
    const pending = this.opening.get(nb);
    if (pending) return pending;
    const p = this.startSession(notebook, nb, own.docId, own.server).finally(() => this.opening.delete(nb));
    this.opening.set(nb, p);
    return p;
  }

  private async startSession(notebook: vscode.NotebookDocument, nb: NotebookDoc, docId: string, fileServer: string | undefined): Promise<CollabSession | undefined> {
    let endpoint: SessionEndpoint | undefined;
    try {
      endpoint = await this.endpointFor(notebook, fileServer);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.appendLine(message);
      void vscode.window.showWarningMessage(`${message}. The notebook stays local; edits are kept in the file when you save.`);
    }
    if (!endpoint || this.sessions.has(nb) || !this.inUse(nb, docId)) {
      this.refresh();
      return this.sessions.get(nb);
    }
    await this.nameReady;
    if (this.sessions.has(nb) || !this.inUse(nb, docId)) return this.sessions.get(nb);
    const session = new CollabSession(docId, nb, endpoint, this.userName(), endpoint.kind === 'team' ? this.cache : undefined, this.log);
    session.onDidChange(() => {
      if (session.endpoint.kind === 'embedded' && (session.status.state === 'offline' || session.status.state === 'error')) void this.recoverLocalServer(session);
      if (session.status.merged) this.mergedAt.set(session, Date.now());
      if (session.status.state !== 'connected') this.mergedAt.delete(session);
      this.refresh();
      this.cellMarkers.changed();
    });
    this.sessions.set(nb, session);
    this.log.appendLine(`SQLRoom: ${path.basename(notebook.uri.path)} joins room ${docId} on ${endpoint.url} (${endpoint.kind})`);
    const editor = vscode.window.activeNotebookEditor;
    if (editor?.notebook === notebook) this.publishCell(editor);
    this.refresh();
    return session;
  }

  private inUse(nb: NotebookDoc, docId: string): boolean {
    return this.tracker.notebooksOf(docId).some((n) => this.tracker.docFor(n) === nb);
  }

  private async endpointFor(notebook: vscode.NotebookDocument, fileServer: string | undefined): Promise<SessionEndpoint | undefined> {
    const settings = readCollabSettings(notebook.uri);
    const team = fileServer ? normaliseServerUrl(fileServer) : settings.url ? normaliseServerUrl(settings.url) : undefined;
    if (fileServer || settings.url) {
      if (!team) throw new Error(`SQLRoom: "${fileServer ?? settings.url}" is not a ws:// or wss:// server URL`);
      let ca: Buffer | undefined;
      if (settings.caFile) {
        try {
          ca = fs.readFileSync(settings.caFile);
        } catch (err) {
          throw new Error(`SQLRoom: cannot read sqlroom.server.caFile ${settings.caFile}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      // Further URLs of the setting (scale-out processes) are fallbacks, not for a file-named server.
      const more = fileServer ? [] : settings.urls.slice(1).map((u) => normaliseServerUrl(u)).filter((u): u is string => u !== undefined);
      if (!(await this.mayJoin(team, fileServer ? 'file' : 'user-setting'))) return undefined;
      // Only a token stored (or given to Join) for this very server; never one meant for another.
      const token = await this.tokens.tokenFor(team);
      return { kind: 'team', url: team, urls: more.length ? [team, ...more] : undefined, ...(token ? { token } : {}), ...(ca ? { ca } : {}) };
    }
    if (!settings.embedded) return undefined;
    const e = await this.embedded.ensure();
    return { kind: 'embedded', url: e.url, token: e.token(), freshToken: e.token };
  }

  /** Safe joins: a server named by a file is joined only once the user agreed (extension/core/sync/joinPolicy.ts). */
  private async mayJoin(url: string, source: 'file' | 'user-setting'): Promise<boolean> {
    const key = serverKey(url);
    const decision = joinDecision(url, { source, trusted: this.trustedServers(), allowedNow: this.allowedNow, declinedNow: this.declinedNow });
    if (decision === 'join') {
      this.allowedNow.add(key); // joined once in this window: a file naming it later does not ask again
      return true;
    }
    if (decision === 'offline') return false;
    // One question per server, however many notebooks name it.
    let asked = this.asking.get(key);
    if (!asked) {
      asked = Promise.resolve(vscode.window.showWarningMessage(joinPrompt(url, source), ...JOIN_ANSWERS)).then((a) => a as JoinAnswer | undefined);
      this.asking.set(key, asked);
      void asked.finally(() => this.asking.delete(key));
    }
    const answer = await asked;
    this.log.appendLine(`SQLRoom: asked whether to join ${url}: ${answer ?? 'dismissed (work offline)'}`);
    if (answer === 'Always for this server') {
      await this.trustServer(url);
      return true;
    }
    if (answer === 'Join') {
      this.allowedNow.add(key);
      return true;
    }
    this.declinedNow.add(key);
    return false;
  }

  /** Servers whose "Join / Work offline / Always" question is showing now (tests). */
  get pendingJoinQuestions(): string[] {
    return [...this.asking.keys()];
  }

  private trustedServers(): string[] {
    return this.globalState.get<string[]>(TRUSTED_SERVERS_KEY, []);
  }

  /** Remembers a server the user chose to always join (also the Join command's server). */
  async trustServer(url: string): Promise<void> {
    const key = serverKey(url);
    this.declinedNow.delete(key);
    this.allowedNow.add(key);
    const trusted = this.trustedServers();
    if (!trusted.includes(key)) await this.globalState.update(TRUSTED_SERVERS_KEY, [...trusted, key]);
  }

  /**
   * The local server went away (crashed, killed, replaced): find or start it
   * again and move the embedded sessions to it when its address changed.
   */
  private recoverLocalServer(session: CollabSession): Promise<void> {
    if (this.recovering) return this.recovering;
    this.recovering = (async () => {
      try {
        this.embedded.reset();
        const e = await this.embedded.ensure();
        if (e.url === session.endpoint.url) return; // still the same one: RoomClient's retries get there
        this.log.appendLine(`SQLRoom: the local sync server moved to ${e.url}: rejoining`);
        for (const [nb, s] of [...this.sessions]) {
          if (s.endpoint.kind !== 'embedded') continue;
          s.dispose();
          this.sessions.delete(nb);
        }
        for (const nb of vscode.workspace.notebookDocuments) await this.open(nb);
      } catch (err) {
        this.log.appendLine(`SQLRoom: the local sync server could not be restarted: ${err instanceof Error ? err.message : String(err)}`);
      }
    })().finally(() => {
      const t = setTimeout(() => (this.recovering = undefined), 3000); // at most one attempt every few seconds
      t.unref?.();
    });
    return this.recovering;
  }

  private closeIfUnused(docId: string): void {
    for (const [nb, session] of [...this.sessions]) {
      if (session.docId !== docId || this.inUse(nb, docId)) continue;
      session.dispose();
      this.sessions.delete(nb);
    }
    this.refresh();
  }

  private async reconnectAll(): Promise<void> {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
    for (const nb of vscode.workspace.notebookDocuments) await this.open(nb);
    this.refresh();
  }

  // ---- status and presence -----------------------------------------------------

  private refresh(): void {
    const editor = vscode.window.activeNotebookEditor;
    const session = editor ? this.sessionOf(editor.notebook) : undefined;
    if (!session) {
      this.statusItem.hide();
      return;
    }
    let status = session.status;
    const merged = this.mergedAt.get(session);
    if (merged !== undefined && Date.now() - merged > MERGED_NOTICE_MS) this.mergedAt.delete(session);
    else if (merged !== undefined && !status.merged && status.state === 'connected' && status.pending === 0) {
      status = { ...status, merged: { localOps: 0, remoteOps: 0 } };
      const t = setTimeout(() => this.refresh(), MERGED_NOTICE_MS);
      t.unref?.();
    }
    const where = session.endpoint.kind === 'embedded' ? `the local sync server (${session.endpoint.url})` : session.client.url;
    const s = describeStatus(status, session.others(), where);
    this.statusItem.text = s.text;
    this.statusItem.tooltip = s.tooltip;
    this.statusItem.backgroundColor = s.severity ? new vscode.ThemeColor(`statusBarItem.${s.severity}Background`) : undefined;
    this.statusItem.show();
  }

  /** Names of the collaborators in a cell (what its cell status bar shows). */
  collaboratorsInCell(cell: vscode.NotebookCell): string[] {
    const id = cell.metadata?.id;
    const session = this.sessionOf(cell.notebook);
    return session && typeof id === 'string' ? session.others().filter((o) => o.cellId === id).map((o) => o.name) : [];
  }

  /** Your own name as collaborators see it, with your colour (tooltip). */
  get ownName(): string {
    return markedName(this.userName());
  }

  /** The status bar text of the active notebook (tests). */
  get statusText(): string {
    return this.statusItem.text;
  }

  private publishCell(editor: vscode.NotebookEditor): void {
    const session = this.sessionOf(editor.notebook);
    if (!session) return;
    const range = editor.selections[0];
    const cell = range && range.start < editor.notebook.cellCount ? editor.notebook.cellAt(range.start) : undefined;
    session.presence.setCell(typeof cell?.metadata?.id === 'string' ? cell.metadata.id : undefined);
  }

  private async showCollaborators(): Promise<void> {
    const editor = vscode.window.activeNotebookEditor;
    const session = editor ? this.sessionOf(editor.notebook) : undefined;
    if (!editor || !session) {
      void vscode.window.showInformationMessage('This notebook is not shared: open a .sqlroom notebook with the sync server on, or use SQLRoom: Join Notebook.');
      return;
    }
    const ids = editor.notebook.getCells().map((c) => c.metadata?.id);
    const items = session.others().map((o) => {
      const index = o.cellId ? ids.indexOf(o.cellId) : -1;
      return { label: markedName(o.name), description: index >= 0 ? `in cell ${index + 1}` : 'not in a cell', index };
    });
    const s = describeStatus(session.status, session.others(), session.endpoint.url);
    const pick = await vscode.window.showQuickPick(items.length > 0 ? items : [{ label: 'No one else is here', description: '', index: -1 }], {
      title: `${s.text.replace(/\$\([^)]*\)\s*/g, '')} — ${session.endpoint.url}, room ${session.docId}`,
    });
    if (pick && pick.index >= 0) editor.revealRange(new vscode.NotebookRange(pick.index, pick.index + 1));
  }

  // ---- commands ----------------------------------------------------------------

  /**
   * What a colleague needs to join; copied to the clipboard. On the embedded
   * server a token for this document is issued (write, or read-only: asked
   * with a quick pick unless `perm` is given); a team server's token is the
   * one configured (its operator issues tokens: sqlroom-server token).
   */
  async share(perm?: 'read' | 'write'): Promise<{ url: string; room: string; token?: string; permission?: 'read' | 'write'; expires?: string } | undefined> {
    const editor = vscode.window.activeNotebookEditor;
    if (!editor || editor.notebook.notebookType !== NOTEBOOK_TYPE) {
      void vscode.window.showInformationMessage('Open a SQLRoom notebook to share it.');
      return undefined;
    }
    const session = await this.sessionFor(editor.notebook);
    if (!session) {
      void vscode.window.showWarningMessage('This notebook is not connected to a sync server. Turn on sqlroom.server.embedded or set sqlroom.server.url to a team server.');
      return undefined;
    }
    let info: { url: string; room: string; token?: string; permission?: 'read' | 'write'; expires?: string };
    if (session.endpoint.kind === 'embedded') {
      const chosen =
        perm ??
        (
          await vscode.window.showQuickPick(
            [
              { label: 'Can edit', description: 'write access to this notebook', perm: 'write' as const },
              { label: 'Read only', description: 'can follow along, every change is refused', perm: 'read' as const },
            ],
            { title: 'Share this notebook', placeHolder: 'What may the person you share it with do?' },
          )
        )?.perm;
      if (!chosen) return undefined;
      const t = this.embedded.issueShareToken(session.docId, chosen);
      info = { url: session.endpoint.url, room: session.docId, token: t.token, permission: t.perm, expires: t.expires.toISOString() };
    } else {
      info = { url: session.endpoint.url, room: session.docId, ...(session.endpoint.token ? { token: session.endpoint.token } : {}) };
    }
    const access = info.permission ? ` (${info.permission === 'read' ? 'read-only' : 'can edit'}, valid until ${info.expires})` : '';
    const text = [`Server: ${info.url}`, `Room: ${info.room}`, `Token: ${info.token ?? '(none)'}${access}`].join('\n');
    const loopback = session.endpoint.kind === 'embedded';
    const note = loopback
      ? ' This is the local server on 127.0.0.1: colleagues on other machines need a team server (run sqlroom-server on a shared host and set sqlroom.server.url).'
      : '';
    void vscode.window.showInformationMessage(`Share this notebook — Server: ${info.url} · Room: ${info.room} · Token: ${info.token ?? '(none)'}${access}.${note}`, 'Copy').then((choice) => {
      if (choice === 'Copy') void vscode.env.clipboard.writeText(text);
    });
    return info;
  }

  /** Opens a notebook joined to `room` on a server (asks for what is missing): a `<room>.sqlroom` file naming the server. */
  async join(url?: string, room?: string, token?: string): Promise<vscode.NotebookEditor | undefined> {
    const joined = await joinNotebook(this.storage, url, room, token, (server, tok) => {
      // Known before the notebook opens, so its session joins with it. The user named this
      // server: it is trusted from now on (its file does not ask when reopened) and the token is kept for it.
      if (tok) {
        this.tokens.rememberJoin(server, tok);
        void this.tokens.set(server, tok);
      }
      void this.trustServer(server);
    });
    return joined?.editor;
  }

  private undoRedo(which: 'undo' | 'redo'): boolean {
    const editor = vscode.window.activeNotebookEditor;
    if (!editor || editor.notebook.notebookType !== NOTEBOOK_TYPE) {
      void vscode.commands.executeCommand(which);
      return false;
    }
    return which === 'undo' ? this.tracker.undo(editor.notebook) : this.tracker.redo(editor.notebook);
  }
}
