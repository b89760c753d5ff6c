// Styles of the history webview, inlined by the host into a <style> element
// carrying the CSP nonce. Colours come from the VS Code theme (--vscode-*).
export const HISTORY_CSS = `
html, body { height: 100%; margin: 0; padding: 0; }
body {
  color: var(--vscode-foreground, var(--vscode-editor-foreground));
  background: var(--vscode-editor-background);
  font-family: var(--vscode-font-family);
  font-size: var(--vscode-font-size, 13px);
}
#history { display: flex; flex-direction: column; height: 100vh; }
.header { display: flex; align-items: baseline; gap: 12px; padding: 8px 12px 4px; }
.title { font-weight: 600; font-size: 1.1em; }
.status { color: var(--vscode-descriptionForeground); }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; padding: 4px 12px 8px; border-bottom: 1px solid var(--vscode-panel-border, transparent); }
button {
  font: inherit; padding: 3px 10px; border-radius: 2px; cursor: pointer;
  border: 1px solid var(--vscode-button-border, transparent);
}
button.primary { color: var(--vscode-button-foreground); background: var(--vscode-button-background); }
button.primary:hover:not(:disabled) { background: var(--vscode-button-hoverBackground); }
button.secondary { color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); }
button.secondary:hover:not(:disabled) { background: var(--vscode-button-secondaryHoverBackground); }
button:disabled { opacity: 0.5; cursor: default; }
button:focus-visible, input:focus-visible, .viewport:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
.time { color: var(--vscode-descriptionForeground); }
.time input {
  font: inherit; color: var(--vscode-input-foreground, var(--vscode-dropdown-foreground));
  background: var(--vscode-input-background, var(--vscode-dropdown-background));
  border: 1px solid var(--vscode-input-border, var(--vscode-dropdown-border, transparent));
  color-scheme: light dark;
}
.error { padding: 6px 12px; color: var(--vscode-errorForeground); background: var(--vscode-inputValidation-errorBackground); border: 1px solid var(--vscode-inputValidation-errorBorder); }
.viewport { flex: 1; overflow-y: auto; position: relative; outline: none; }
.spacer { position: relative; }
.rows { position: absolute; left: 0; right: 0; top: 0; will-change: transform; }
.row { display: flex; align-items: center; gap: 8px; padding-right: 12px; white-space: nowrap; overflow: hidden; cursor: default; box-sizing: border-box; }
.row:hover { background: var(--vscode-list-hoverBackground); }
.row.selected { background: var(--vscode-list-inactiveSelectionBackground, var(--vscode-list-hoverBackground)); }
.viewport:focus .row.selected {
  color: var(--vscode-list-activeSelectionForeground, inherit);
  background: var(--vscode-list-activeSelectionBackground, var(--vscode-list-hoverBackground));
  outline: 1px solid var(--vscode-list-focusOutline, var(--vscode-focusBorder)); outline-offset: -1px;
}
.row.marked { box-shadow: inset 4px 0 0 var(--vscode-charts-orange, var(--vscode-editorWarning-foreground)); background: color-mix(in srgb, var(--vscode-charts-orange, orange) 14%, transparent); }
.marked-badge { background: var(--vscode-charts-orange, #d18616); color: var(--vscode-editor-background); }
.summary { color: var(--vscode-descriptionForeground); overflow: hidden; text-overflow: ellipsis; flex: 0 1 auto; min-width: 40px; }
.row.join .msg { color: var(--vscode-descriptionForeground); font-style: italic; }
.join-line { stroke-dasharray: 3 3; stroke-width: 1.2; opacity: 0.7; }
.node-join { fill: var(--vscode-editor-background); stroke-width: 1.5; }
.details { flex: none; max-height: 40%; overflow: auto; border-top: 1px solid var(--vscode-panel-border, var(--vscode-widget-border, transparent)); padding: 6px 12px 8px; }
.details[hidden] { display: none; }
.details h3 { font-size: 1em; margin: 2px 0 6px; font-weight: 600; }
.details .cell-title { margin: 6px 0 2px; color: var(--vscode-descriptionForeground); }
.details pre { margin: 0; font-family: var(--vscode-editor-font-family, monospace); font-size: var(--vscode-editor-font-size, 12px); white-space: pre-wrap; }
.details .add { color: var(--vscode-gitDecoration-addedResourceForeground, #587c0c); background: var(--vscode-diffEditor-insertedLineBackground, rgba(155,185,85,0.15)); }
.details .del { color: var(--vscode-gitDecoration-deletedResourceForeground, #ad0707); background: var(--vscode-diffEditor-removedLineBackground, rgba(255,0,0,0.12)); }
.details .gap { color: var(--vscode-descriptionForeground); }
.row.loading { color: var(--vscode-descriptionForeground); }
.row.member { color: var(--vscode-descriptionForeground); }
.row.member .msg { padding-left: 18px; }
.graph { flex: none; overflow: hidden; }
.graph-placeholder { flex: none; }
.twisty { width: 12px; flex: none; text-align: center; color: var(--vscode-descriptionForeground); cursor: pointer; }
.msg { overflow: hidden; text-overflow: ellipsis; flex: 0 1 auto; min-width: 60px; }
.row.checkpoint .msg { font-weight: 600; }
.row.current .msg { font-weight: 600; }
.author { color: var(--vscode-textLink-foreground, var(--vscode-focusBorder)); flex: none; }
.author::before { content: '●'; color: var(--author-color, currentColor); margin-right: 4px; }
.time, .ops { color: var(--vscode-descriptionForeground); flex: none; }
.badge {
  flex: none; font-size: 0.85em; padding: 0 6px; border-radius: 8px;
  color: var(--vscode-badge-foreground, var(--vscode-editor-background));
  background: var(--vscode-badge-background, var(--vscode-descriptionForeground));
}
.branch-badge { background: var(--vscode-charts-purple, var(--vscode-focusBorder)); color: var(--vscode-editor-background); }
.current-badge { background: var(--vscode-charts-green, var(--vscode-focusBorder)); color: var(--vscode-editor-background); }
.lane { fill: none; stroke-width: 2; }
.node { stroke-width: 2; fill: var(--vscode-editor-background); }
.node-change, .node-merge { fill: currentColor; }
.node-checkpoint { fill: var(--vscode-editor-background); stroke-width: 2.5; }
.node-member { fill: currentColor; stroke-width: 0; }
.member-line { stroke-dasharray: 2 3; stroke-width: 1.5; }
.node-current { fill: var(--vscode-editor-background); stroke-width: 3; }
.current-ring { fill: none; stroke: var(--vscode-focusBorder); stroke-width: 1.5; }
.lane-0 { stroke: var(--vscode-charts-blue, #3794ff); color: var(--vscode-charts-blue, #3794ff); }
.lane-1 { stroke: var(--vscode-charts-green, #89d185); color: var(--vscode-charts-green, #89d185); }
.lane-2 { stroke: var(--vscode-charts-orange, #d18616); color: var(--vscode-charts-orange, #d18616); }
.lane-3 { stroke: var(--vscode-charts-purple, #b180d7); color: var(--vscode-charts-purple, #b180d7); }
.lane-4 { stroke: var(--vscode-charts-red, #f14c4c); color: var(--vscode-charts-red, #f14c4c); }
.lane-5 { stroke: var(--vscode-charts-yellow, #cca700); color: var(--vscode-charts-yellow, #cca700); }
`;
