// The history webview's HTML (no `vscode` import, so the browser test serves
// exactly this page): the bundle dist/history.js in the shared page skeleton.
import { newNonce, webviewPage } from './webviewPage';
import { HISTORY_CSS } from '../../media/history/styles';

export interface HistoryHtmlOptions {
  /** webview.cspSource (the origin webview resources are served from). */
  cspSource: string;
  /** webview.asWebviewUri(dist/history.js), as a string. */
  scriptUri: string;
  nonce?: string;
  title: string;
}

export function historyHtml(opts: HistoryHtmlOptions): string {
  return webviewPage({ ...opts, nonce: opts.nonce ?? newNonce(), css: HISTORY_CSS, body: '<div id="history"></div>' });
}
