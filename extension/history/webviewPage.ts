// The page skeleton of SQLRoom's webviews (history, activity): a strict CSP
// where only this page's nonce may run scripts or add styles, the styles
// inline, one module script. No `vscode` import, so browser tests serve it.
import { randomBytes } from 'crypto';

export function newNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface WebviewPageOptions {
  /** webview.cspSource (the origin webview resources are served from). */
  cspSource: string;
  /** webview.asWebviewUri(dist/<bundle>.js), as a string. */
  scriptUri: string;
  nonce: string;
  title: string;
  css: string;
  /** HTML placed before the script (already escaped). */
  body: string;
  /** CSP directives added after style-src (e.g. style-src-attr for a library that sets style attributes). */
  extraCsp?: string[];
}

export function webviewPage(o: WebviewPageOptions): string {
  const csp = [
    "default-src 'none'",
    `style-src ${o.cspSource} 'nonce-${o.nonce}'`,
    ...(o.extraCsp ?? []),
    `script-src 'nonce-${o.nonce}'`,
    `img-src ${o.cspSource} data:`,
    `font-src ${o.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(o.title)}</title>
<style nonce="${o.nonce}">${o.css}</style>
</head>
<body>
${o.body}
<script nonce="${o.nonce}" type="module" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>`;
}
