// Line blame in the notebook's cells (SQLRoom: Toggle Blame): at the end of
// each line, who last wrote it and when, like GitLens' line blame; hovering
// the hint shows the author, the time, the change's message and its op id.
// Works on the live notebook and on a read-only version (its own Loro doc,
// which holds the history up to that version). Computed from the Loro history
// by blame.ts (one Loro call per text chunk, not per character).
import * as vscode from 'vscode';
import { formatTime } from '../../media/history/format';
import { blameNotebook, type LineBlame } from '../../server/shared/history';
import type { NotebookRegistry } from '../notebookRegistry';
import { readSqlroomMetadata } from '../core/notebookMapping';
import { parseVersionUri, versionDocId, VERSION_SCHEME } from './versionUri';

/** "3 minutes ago", "2 days ago" (coarse, like GitLens). */
export function ago(unixSeconds: number, now = Date.now() / 1000): string {
  const s = Math.max(0, Math.round(now - unixSeconds));
  const units: [number, string][] = [[31536000, 'year'], [2592000, 'month'], [86400, 'day'], [3600, 'hour'], [60, 'minute']];
  for (const [size, name] of units) {
    const n = Math.floor(s / size);
    if (n >= 1) return `${n} ${name}${n === 1 ? '' : 's'} ago`;
  }
  return 'just now';
}

export class BlameDecorations implements vscode.Disposable {
  private readonly type = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 3em', fontStyle: 'italic' },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  /** Notebook uris (string) with blame on. */
  private readonly on = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly registry: NotebookRegistry) {
    this.disposables.push(
      vscode.window.onDidChangeVisibleTextEditors(() => this.refreshSoon()),
      vscode.workspace.onDidChangeNotebookDocument((e) => {
        if (this.on.has(e.notebook.uri.toString())) this.refreshSoon();
      }),
    );
  }

  /** Turns blame on or off for a notebook; returns the new state. */
  toggle(notebook: vscode.NotebookDocument): boolean {
    const key = notebook.uri.toString();
    if (this.on.has(key)) this.on.delete(key);
    else this.on.add(key);
    this.refresh();
    return this.on.has(key);
  }

  isOn(notebook: vscode.NotebookDocument): boolean {
    return this.on.has(notebook.uri.toString());
  }

  /** Blame of a notebook's cells: cell id -> lines (undefined: its Loro doc is not loaded). */
  blameOf(notebook: vscode.NotebookDocument): Map<string, LineBlame[]> | undefined {
    const docId = notebook.uri.scheme === VERSION_SCHEME ? versionDocId(parseVersionUri(notebook.uri)) : readSqlroomMetadata(notebook.metadata)?.docId;
    const nb = docId ? this.registry.get(docId) : undefined;
    return nb ? blameNotebook(nb.doc) : undefined;
  }

  private refreshSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh();
    }, 300);
  }

  refresh(): void {
    const blames = new Map<string, Map<string, LineBlame[]> | undefined>();
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.scheme !== 'vscode-notebook-cell') continue;
      const notebook = vscode.workspace.notebookDocuments.find((nb) => nb.getCells().some((c) => c.document === editor.document));
      const cell = notebook?.getCells().find((c) => c.document === editor.document);
      if (!notebook || !cell || !this.on.has(notebook.uri.toString())) {
        editor.setDecorations(this.type, []);
        continue;
      }
      const key = notebook.uri.toString();
      if (!blames.has(key)) blames.set(key, this.blameOf(notebook));
      const id = typeof cell.metadata?.id === 'string' ? cell.metadata.id : '';
      const lines = blames.get(key)?.get(id) ?? [];
      const decorations: vscode.DecorationOptions[] = [];
      for (const l of lines) {
        if (l.line >= editor.document.lineCount) continue;
        const end = editor.document.lineAt(l.line).range.end;
        const hover = new vscode.MarkdownString();
        hover.appendMarkdown(`**${escapeMd(l.author)}**, ${formatTime(l.timestamp)} (${ago(l.timestamp)})`);
        if (l.message) hover.appendMarkdown(`\n\n${escapeMd(l.message)}`);
        hover.appendMarkdown(`\n\nLast written by change \`${l.op}\``);
        decorations.push({ range: new vscode.Range(end, end), hoverMessage: hover, renderOptions: { after: { contentText: `${l.author}, ${ago(l.timestamp)}` } } });
      }
      editor.setDecorations(this.type, decorations);
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
    this.type.dispose();
  }
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}
