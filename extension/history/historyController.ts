// The host side of the history webview without `vscode`: answers page and
// group requests from the notebook's own Loro history (offline, no server),
// rebuilds the DAG when the document changes, and hands user actions (open,
// compare, restore, checkpoint, open at time) to the host. The VS Code panel
// (historyPanel.ts) and the browser test both drive this class.
import type { NotebookDoc } from '../../server/shared/notebookDoc';
import { CellLabeler, formatVersion, HistoryDag, historyInputFromLoro, rowDiff, summarizeSpans, type DagRow, type HistoryPage } from '../../server/shared/history';
import { branchLabels, MAIN_BRANCH, type BranchHead } from '../../server/shared/history/branches';
import { isWebviewMessage, type CompareTarget, type HostMessage } from '../../media/history/protocol';

export interface HistoryActions {
  open(version: string, label: string): Promise<void> | void;
  compare(version: string, label: string, other: CompareTarget, otherLabel: string): Promise<void> | void;
  restore(version: string, label: string): Promise<void> | void;
  checkpoint(): Promise<void> | void;
  /** `unixSeconds` undefined: ask the user. Returns the version opened, if any. */
  openAtTime(unixSeconds: number | undefined): Promise<string | undefined> | string | undefined;
  branch(version: string, label: string): Promise<void> | void;
  merge(): Promise<void> | void;
  /** Undo the effect of going from `before` to `version` as one new change. */
  revert(before: string, version: string, label: string): Promise<void> | void;
}

export interface HistoryControllerOptions {
  /** Grouping window in seconds (see dag.ts). */
  windowSeconds?: number;
  /** Debounce of rebuilds after document changes, in ms. */
  refreshDelayMs?: number;
  /** The branch this notebook is (default main). */
  branch?: string;
  /** Called after each rebuild (the panel refetches branch heads). */
  onReset?: () => void;
}

export class HistoryController {
  private dag: HistoryDag | undefined;
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** How long the last DAG build took (ms): rebuilds after edits wait longer on long histories. */
  private lastBuildMs = 0;
  private readonly unsubscribe: () => void;
  /** Branch heads from the server (undefined: offline / not known). */
  private heads: BranchHead[] | undefined;

  constructor(
    private readonly nb: NotebookDoc,
    private readonly title: () => string,
    private readonly post: (message: HostMessage) => void,
    private readonly actions: HistoryActions,
    private readonly options: HistoryControllerOptions = {},
  ) {
    this.unsubscribe = nb.doc.subscribe(() => this.scheduleRefresh());
  }

  /** The DAG of the document as it is now (built on first use after a change). */
  current(): HistoryDag {
    if (!this.dag) {
      const opts = this.options.windowSeconds === undefined ? {} : { windowSeconds: this.options.windowSeconds };
      const started = Date.now();
      this.dag = HistoryDag.build(historyInputFromLoro(this.nb.doc), opts);
      this.lastBuildMs = Date.now() - started;
    }
    return this.dag;
  }

  async handle(raw: unknown): Promise<void> {
    if (!isWebviewMessage(raw)) {
      this.post({ type: 'error', message: `unknown message from the history view: ${JSON.stringify(raw)?.slice(0, 200)}` });
      return;
    }
    const m = raw;
    try {
      switch (m.type) {
        case 'ready':
          this.reset();
          return;
        case 'loadPage':
          if (m.generation !== this.generation) return; // an answer to an old history
          this.post({ type: 'page', generation: this.generation, cursor: m.cursor, page: this.summarized(this.current().page(m.cursor, m.limit)) });
          return;
        case 'details': {
          if (m.generation !== this.generation) return;
          const dag = this.current();
          const row = dag.row(m.id);
          if (!row) return;
          const s = summarizeSpans(this.nb.doc, dag.spans(row.id));
          const cells = rowDiff(this.nb, dag.versionBefore(row.id), row.version, s.cells);
          this.post({ type: 'details', generation: this.generation, id: m.id, summary: s.text, cells });
          return;
        }
        case 'revert': {
          if (m.generation !== this.generation) return;
          const dag = this.current();
          const row = dag.row(m.id);
          if (!row) throw new Error('That version is no longer in the history view; reopen it.');
          // A merge or join goes back to its first parent (drawn straight below it): the other side's changes are undone.
          const before = row.parents.length > 1 ? dag.versionBefore(row.id, row.parents[0]) : dag.versionBefore(row.id);
          await this.actions.revert(before, row.version, m.label);
          return;
        }
        case 'expand':
          if (m.generation !== this.generation) return;
          this.post({ type: 'members', generation: this.generation, id: m.id, members: this.current().members(m.id) });
          return;
        case 'open':
          await this.actions.open(m.version, m.label);
          return;
        case 'compare':
          await this.actions.compare(m.version, m.label, m.with, m.withLabel);
          return;
        case 'restore':
          await this.actions.restore(m.version, m.label);
          return;
        case 'checkpoint':
          await this.actions.checkpoint();
          return;
        case 'branch':
          await this.actions.branch(m.version, m.label);
          return;
        case 'merge':
          await this.actions.merge();
          return;
        case 'openAtTime': {
          const version = await this.actions.openAtTime(m.time);
          if (version !== undefined) this.reveal(version);
          return;
        }
      }
    } catch (e) {
      this.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Fills in each row's one-line summary (once per row per history generation). */
  summarized(page: HistoryPage): HistoryPage {
    const dag = this.current();
    let labels: CellLabeler | undefined;
    for (const row of page.rows as DagRow[]) {
      if (row.summary !== undefined) continue;
      labels ??= new CellLabeler(this.nb.doc);
      try {
        const s = summarizeSpans(this.nb.doc, dag.spans(row.id), labels);
        row.summary = s.text;
        row.touched = s.cells.map((c) => c.label);
      } catch (e) {
        row.summary = `(could not read this change: ${e instanceof Error ? e.message : String(e)})`;
      }
    }
    return page;
  }

  /** Selects the row whose version is `version` (or holds its first head). */
  reveal(version: string): void {
    const head = version.split(',')[0];
    if (!head) return;
    const [peer, counter] = head.split('@');
    const dag = this.current();
    const index = dag.rowIndexOfOp(peer, Number(counter));
    if (index >= 0) this.post({ type: 'reveal', generation: this.generation, index });
  }

  /** Rebuilds the DAG and tells the webview to reload what it shows. */
  reset(): void {
    this.dag = undefined;
    this.generation++;
    const dag = this.current();
    this.post({
      type: 'reset',
      generation: this.generation,
      title: this.title(),
      total: dag.total,
      changes: dag.changeCount,
      lanes: dag.width,
      current: formatVersion(this.nb.doc.frontiers()),
    });
    this.postBranches();
    this.options.onReset?.();
  }

  /** Sets the server's branch heads (undefined: no server) and labels their rows. */
  setBranchHeads(heads: BranchHead[] | undefined): void {
    this.heads = heads;
    this.postBranches();
  }

  /** Branch labels: row index -> branch names whose head is in it. */
  branchLabels(): { index: number; names: string[] }[] {
    return this.heads ? branchLabels(this.current(), this.heads) : [];
  }

  private postBranches(): void {
    this.post({ type: 'branches', generation: this.generation, branch: this.options.branch ?? MAIN_BRANCH, online: this.heads !== undefined, labels: this.branchLabels() });
  }

  private scheduleRefresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reset();
    }, Math.max(this.options.refreshDelayMs ?? 300, 4 * this.lastBuildMs));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe();
  }
}
