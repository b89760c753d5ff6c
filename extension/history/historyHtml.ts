// The history webview's HTML (no `vscode` import, so the browser test serves
// exactly this page): a strict CSP where only this page's nonce may run
// scripts or add styles, the bundle from dist/history.js, the styles inline.
import { randomBytes } from 'crypto';
import { HISTORY_CSS } from '../../media/history/styles';

export interface HistoryHtmlOptions {
  /** webview.cspSource (the origin webview resources are served from). */
  cspSource: string;
  /** webview.asWebviewUri(dist/history.js), as a string. */
  scriptUri: string;
  nonce?: string;
  title: string;
}

export function newNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function historyHtml(opts: HistoryHtmlOptions): string {
  const nonce = opts.nonce ?? newNonce();
  const csp = [
    "default-src 'none'",
    `style-src ${opts.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `img-src ${opts.cspSource} data:`,
    `font-src ${opts.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(opts.title)}</title>
<style nonce="${nonce}">${HISTORY_CSS}</style>
</head>
<body>
<div id="history"></div>
<script nonce="${nonce}" type="module" src="${escapeHtml(opts.scriptUri)}"></script>
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
