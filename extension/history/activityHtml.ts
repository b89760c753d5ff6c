// The Activity webview's HTML (no `vscode` import, so the browser test serves
// exactly this page): strict CSP with a nonce, the bundle dist/activity.js.
import { escapeHtml, newNonce, webviewPage } from './webviewPage';

export const ACTIVITY_CSS = `
body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size, 13px); margin: 0; padding: 8px 16px; }
h1 { font-size: 1.2em; margin: 4px 0; }
h2 { font-size: 1em; margin: 18px 0 6px; font-weight: 600; }
#source { color: var(--vscode-descriptionForeground); }
svg { color: var(--vscode-foreground); }
`;

export function activityHtml(opts: { cspSource: string; scriptUri: string; title: string; nonce?: string }): string {
  // Plot puts style attributes on its SVG (allowed by style-src-attr only; no
  // inline scripts) and a <style> element in it, which charts.ts gives the page's nonce.
  return webviewPage({
    ...opts,
    nonce: opts.nonce ?? newNonce(),
    css: ACTIVITY_CSS,
    extraCsp: ["style-src-attr 'unsafe-inline'"],
    body: `<h1>${escapeHtml(opts.title)}</h1>\n<div id="source"></div>\n<div id="activity"></div>`,
  });
}
