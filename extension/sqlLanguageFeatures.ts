// Completion and hover in the SQL cells of SQLRoom notebooks, answered by the
// notebook's own DuckDB session (see core/sqlCompletion.ts).
import * as vscode from 'vscode';
import { describeRelation, relationMarkdown, statementBeforeCursor, suggest, type SuggestionKind } from './core/sqlCompletion';
import type { SqlKernel } from './kernel';
import { NOTEBOOK_TYPE } from './serializer';

const SELECTOR: vscode.DocumentSelector = [{ notebookType: NOTEBOOK_TYPE, language: 'sql' }];

const KINDS: Record<SuggestionKind, vscode.CompletionItemKind> = {
  keyword: vscode.CompletionItemKind.Keyword,
  table: vscode.CompletionItemKind.Class,
  view: vscode.CompletionItemKind.Interface,
  column: vscode.CompletionItemKind.Field,
  function: vscode.CompletionItemKind.Function,
  other: vscode.CompletionItemKind.Text,
};

function notebookOf(doc: vscode.TextDocument): { notebook: vscode.NotebookDocument; cell: vscode.NotebookCell } | undefined {
  for (const notebook of vscode.workspace.notebookDocuments) {
    if (notebook.notebookType !== NOTEBOOK_TYPE) continue;
    const cell = notebook.getCells().find((c) => c.document === doc || c.document.uri.toString() === doc.uri.toString());
    if (cell) return { notebook, cell };
  }
  return undefined;
}

export function registerSqlLanguageFeatures(kernel: SqlKernel): vscode.Disposable {
  const completion = vscode.languages.registerCompletionItemProvider(
    SELECTOR,
    {
      async provideCompletionItems(doc, position) {
        const found = notebookOf(doc);
        if (!found) return undefined;
        const session = await kernel.sessionFor(found.notebook).catch(() => undefined);
        if (!session) return undefined;
        const { text, base } = statementBeforeCursor(doc.getText(), doc.offsetAt(position));
        const suggestions = await suggest(session, text).catch(() => []);
        const named = namedCells(found.notebook);
        return suggestions.map((s, i) => {
          const kind = s.kind === 'table' && named.has(s.label) ? 'view' : s.kind;
          const item = new vscode.CompletionItem(s.label, KINDS[kind]);
          item.range = new vscode.Range(doc.positionAt(base + s.start), position);
          item.sortText = String(i).padStart(4, '0'); // DuckDB's own ranking
          item.detail = named.has(s.label) ? 'named cell' : kind;
          return item;
        });
      },
    },
    '.',
  );
  const hover = vscode.languages.registerHoverProvider(SELECTOR, {
    async provideHover(doc, position) {
      const found = notebookOf(doc);
      const range = doc.getWordRangeAtPosition(position, /[A-Za-z_][A-Za-z0-9_]*/);
      if (!found || !range) return undefined;
      const session = await kernel.sessionFor(found.notebook).catch(() => undefined);
      if (!session) return undefined;
      const info = await describeRelation(session, doc.getText(range)).catch(() => undefined);
      if (!info) return undefined;
      return new vscode.Hover(new vscode.MarkdownString(relationMarkdown(info, namedCells(found.notebook).has(info.name))), range);
    },
  });
  return vscode.Disposable.from(completion, hover);
}

function namedCells(notebook: vscode.NotebookDocument): Set<string> {
  return new Set(notebook.getCells().map((c) => c.metadata?.name).filter((n): n is string => typeof n === 'string' && n !== ''));
}
