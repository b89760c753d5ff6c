// A read-only version says so: while a sqlroom-version: notebook is the
// active editor, a status bar item reads "Version of 07:26 by Ana
// (read-only)"; its notebook toolbar has Restore, Compare with current and
// Branch from here (package.json menus, when resourceScheme ==
// sqlroom-version), and SQLRoom's editing actions are hidden there.
import * as vscode from 'vscode';
import { formatTime } from '../../media/history/format';
import { HistoryDag, historyInputFromLoro } from '../../server/shared/history';
import type { HistoryService } from './historyService';
import { parseVersionUri, VERSION_SCHEME } from './versionUri';

/** "Version of 2026-05-28 07:26 by Ana (read-only)". */
export function bannerText(service: HistoryService, notebook: vscode.NotebookDocument): string {
  const ref = parseVersionUri(notebook.uri);
  let when = '';
  let who = '';
  try {
    const dag = HistoryDag.build(historyInputFromLoro(service.doc(ref.docId).doc));
    const head = ref.version.split(',')[0];
    const [peer, counter] = head.split('@');
    const row = dag.page(dag.rowIndexOfOp(peer, Number(counter)), 1).rows[0];
    if (row) {
      when = formatTime(row.end);
      who = row.author;
    }
  } catch {
    /* the live notebook is closed: the name alone */
  }
  return `Version${when ? ` of ${when}` : ''}${who ? ` by ${who}` : ''} (read-only)`;
}

export function registerVersionBanner(service: HistoryService): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('sqlroom.versionBanner', vscode.StatusBarAlignment.Left, 1000);
  item.name = 'SQLRoom version';
  item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
  item.command = 'sqlroom.versionCompareWithCurrent';
  item.tooltip = 'A read-only version of the notebook: cells can run, not be edited. Click to compare it with the current notebook.';
  const update = () => {
    const nb = vscode.window.activeNotebookEditor?.notebook;
    if (nb && nb.uri.scheme === VERSION_SCHEME) {
      item.text = `$(lock) ${bannerText(service, nb)}`;
      item.show();
    } else {
      item.hide();
    }
  };
  update();
  return vscode.Disposable.from(item, vscode.window.onDidChangeActiveNotebookEditor(update));
}
