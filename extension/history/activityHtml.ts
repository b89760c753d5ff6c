// The Activity webview's HTML (no `vscode` import, so the browser test serves
// exactly this page): strict CSP with a nonce, the bundle dist/activity.js.
import { newNonce } from './historyHtml';

export const ACTIVITY_CSS = `
body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size, 13px); margin: 0; padding: 8px 16px; }
h1 { font-size: 1.2em; margin: 4px 0; }
h2 { font-size: 1em; margin: 18px 0 6px; font-weight: 600; }
#source { color: var(--vscode-descriptionForeground); }
svg { color: var(--vscode-foreground); }
`;

export function activityHtml(opts: { cspSource: string; scriptUri: string; title: string; nonce?: string }): string {
  const nonce = opts.nonce ?? newNonce();
  // Plot puts style attributes on its SVG (allowed by style-src-attr only; no
  // inline scripts) and a <style> element in it, which charts.ts gives the page's nonce.
  const csp = ["default-src 'none'", `style-src ${opts.cspSource} 'nonce-${nonce}'`, "style-src-attr 'unsafe-inline'", `script-src 'nonce-${nonce}'`, `img-src ${opts.cspSource} data:`, `font-src ${opts.cspSource}`].join('; ');
  const esc = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${esc(opts.title)}</title>
<style nonce="${nonce}">${ACTIVITY_CSS}</style>
</head>
<body>
<h1>${esc(opts.title)}</h1>
<div id="source"></div>
<div id="activity"></div>
<script nonce="${nonce}" type="module" src="${esc(opts.scriptUri)}"></script>
</body>
</html>`;
}
