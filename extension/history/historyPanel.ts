// The history webview panel of one notebook, opened beside it. The panel is
// glue: HistoryController answers the webview from the Loro history, the
// HistoryService carries out what the user picks.
import * as path from 'path';
import * as vscode from 'vscode';
import type { CompareTarget } from '../../media/history/protocol';
import { splitRoomId, type BranchHead } from '../../server/shared/history/branches';
import { HistoryController } from './historyController';
import { historyHtml } from './historyHtml';
import type { HistoryService } from './historyService';

const BRANCH_POLL_MS = 2000;

export class HistoryPanel implements vscode.Disposable {
  private static readonly panels = new Map<string, HistoryPanel>();
  private readonly controller: HistoryController;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  private fetching = false;
  private lastFetch = 0;
  private soon: ReturnType<typeof setTimeout> | undefined;
  private refetch = false;

  static show(extensionUri: vscode.Uri, service: HistoryService, docId: string, commands: HistoryCommands): HistoryPanel {
    const existing = HistoryPanel.panels.get(docId);
    if (existing) {
      existing.panel.reveal(vscode.ViewColumn.Beside, false);
      existing.refreshBranches();
      return existing;
    }
    const dist = vscode.Uri.joinPath(extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel('sqlroom.history', `History: ${service.notebookName(docId)}`, vscode.ViewColumn.Beside, {
      enableScripts: true,
      localResourceRoots: [dist],
    });
    const created = new HistoryPanel(panel, dist, service, docId, commands);
    HistoryPanel.panels.set(docId, created);
    return created;
  }

  static get(docId: string): HistoryPanel | undefined {
    return HistoryPanel.panels.get(docId);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    dist: vscode.Uri,
    private readonly service: HistoryService,
    private readonly docId: string,
    private readonly commands: HistoryCommands,
  ) {
    const webview = panel.webview;
    this.controller = new HistoryController(
      service.doc(docId),
      () => service.notebookName(docId),
      (m) => void webview.postMessage(m),
      {
        open: (version) => commands.open(docId, version),
        compare: (version, label, other: CompareTarget, otherLabel) =>
          commands.compare(docId, version, other.kind === 'current' ? 'current' : other.version, { left: label, right: otherLabel }),
        restore: (version, label) => commands.restore(docId, version, label, true),
        checkpoint: async () => {
          await commands.checkpoint(docId);
        },
        openAtTime: (t) => commands.openAtTime(docId, t),
        branch: async (version, label) => {
          await commands.branch(docId, version, label);
          this.refreshBranches();
        },
        merge: async () => {
          await commands.merge(docId);
          this.refreshBranches();
        },
        revert: (before, version, label) => commands.revert(docId, before, version, label, true),
      },
      { branch: splitRoomId(docId).branch, onReset: () => this.refreshBranchesSoon() },
    );
    webview.html = historyHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'history.js')).toString(),
      title: `History: ${path.basename(service.notebookName(docId))}`,
    });
    this.disposables.push(
      webview.onDidReceiveMessage((m) => this.controller.handle(m)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** After the history changed: refetch heads at most every BRANCH_POLL_MS (typing must not poll the server). */
  private refreshBranchesSoon(): void {
    if (this.soon) return;
    const wait = Math.max(0, this.lastFetch + BRANCH_POLL_MS - Date.now());
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.refreshBranches();
    }, wait);
  }

  /** Fetches the server's branch heads (debounced by the in-flight request) and labels their rows. */
  refreshBranches(): void {
    if (this.fetching) {
      this.refetch = true;
      return;
    }
    this.fetching = true;
    this.lastFetch = Date.now();
    void this.commands
      .branchHeads(this.docId)
      .catch(() => undefined)
      .then((heads) => {
        this.fetching = false;
        if (this.disposed) return;
        this.controller.setBranchHeads(heads);
        if (this.refetch) {
          this.refetch = false;
          this.refreshBranches();
        }
      });
  }

  /** What the panel shows now (returned by sqlroom.showHistory, for tests and scripts). */
  describe(): PanelSummary {
    const dag = this.controller.current();
    const rows = dag.page(0, dag.total).rows;
    return {
      docId: this.docId,
      versions: dag.total,
      merges: rows.filter((r) => r.parents.length > 1).map((r) => ({ index: r.index, message: r.message ?? '', author: r.author })),
      branchLabels: this.controller.branchLabels(),
    };
  }

  /** Selects the row of a version in the panel. */
  reveal(version: string): void {
    this.controller.reveal(version);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.soon) clearTimeout(this.soon);
    HistoryPanel.panels.delete(this.docId);
    this.controller.dispose();
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}

export interface PanelSummary {
  docId: string;
  versions: number;
  /** Rows with more than one parent. */
  merges: { index: number; message: string; author: string }[];
  /** Rows labelled with the branches whose head they hold (empty when offline). */
  branchLabels: { index: number; names: string[] }[];
}

/** What the panel asks the command layer to do (index.ts implements it with prompts and errors shown). */
export interface HistoryCommands {
  open(docId: string, version: string): Promise<void>;
  compare(docId: string, left: string, right: string | 'current', labels?: { left?: string; right?: string }): Promise<void>;
  restore(docId: string, version: string, label: string | undefined, confirm: boolean): Promise<void>;
  /** Returns the version named, or undefined when the user cancelled. */
  checkpoint(docId: string, name?: string): Promise<string | undefined>;
  openAtTime(docId: string, unixSeconds?: number): Promise<string | undefined>;
  /** Asks a name, forks the branch on the server, opens it. */
  branch(docId: string, version: string, label?: string): Promise<void>;
  /** Asks the target branch, merges this notebook's branch into it. */
  merge(docId: string): Promise<void>;
  /** One new change undoing the effect of `before` -> `version` (asks first when `confirm`). */
  revert(docId: string, before: string, version: string, label: string, confirm: boolean): Promise<void>;
  /** The server's branch heads; undefined when the notebook has no server. */
  branchHeads(docId: string): Promise<BranchHead[] | undefined>;
}
