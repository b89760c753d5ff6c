// Renderer styles. Colours come only from VS Code's theme variables; the
// fallbacks are CSS system colours so the output also reads outside VS Code.

export const STYLE_ID = 'sqlroom-renderer-styles';

export const CSS = `
.sqlroom-result {
  color: var(--vscode-editor-foreground, CanvasText);
  font-family: var(--vscode-font-family, system-ui, sans-serif);
  font-size: var(--vscode-font-size, 13px);
  line-height: 1.4;
  padding: 2px 0 4px;
  /* As wide as the table (so the pager ends where it does), scrolling beyond the output's width. */
  width: fit-content;
  max-width: 100%;
}
.sqlroom-summary { margin: 0 0 6px; color: var(--vscode-descriptionForeground, GrayText); }
.sqlroom-summary-line { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: baseline; }
.sqlroom-count { color: var(--vscode-editor-foreground, CanvasText); }
.sqlroom-truncated { color: var(--vscode-editorWarning-foreground, var(--vscode-editor-foreground, CanvasText)); }
.sqlroom-view code, .sqlroom-error code {
  font-family: var(--vscode-editor-font-family, ui-monospace, monospace);
  color: var(--vscode-textPreformat-foreground, inherit);
  background: var(--vscode-textPreformat-background, transparent);
  padding: 0 3px;
  border-radius: 3px;
}
.sqlroom-scroll { overflow-x: auto; max-width: 100%; }
.sqlroom-table {
  border-collapse: collapse;
  font-family: var(--vscode-editor-font-family, ui-monospace, monospace);
  font-size: var(--vscode-editor-font-size, 13px);
}
.sqlroom-table th, .sqlroom-table td {
  padding: 2px 10px;
  text-align: left;
  white-space: nowrap;
  border-bottom: 1px solid var(--vscode-panel-border, color-mix(in srgb, CanvasText 20%, transparent));
  vertical-align: top;
}
.sqlroom-table thead th {
  background: var(--vscode-editor-background, Canvas);
  border-bottom-width: 2px;
  font-family: var(--vscode-font-family, system-ui, sans-serif);
  font-weight: 600;
  vertical-align: bottom;
}
.sqlroom-col-name { display: block; }
.sqlroom-col-type {
  display: block;
  font-weight: normal;
  font-size: 0.85em;
  color: var(--vscode-descriptionForeground, GrayText);
}
.sqlroom-table .sqlroom-num { text-align: right; font-variant-numeric: tabular-nums; }
.sqlroom-table .sqlroom-rownum {
  text-align: right;
  font-weight: normal;
  color: var(--vscode-descriptionForeground, GrayText);
  user-select: none;
  font-variant-numeric: tabular-nums;
}
.sqlroom-table tbody tr:hover { background: var(--vscode-list-hoverBackground, color-mix(in srgb, CanvasText 8%, transparent)); }
.sqlroom-table td.sqlroom-null { color: var(--vscode-descriptionForeground, GrayText); font-style: italic; opacity: 0.85; }
.sqlroom-table td.sqlroom-nested { color: var(--vscode-debugTokenExpression-value, inherit); }
.sqlroom-empty { color: var(--vscode-descriptionForeground, GrayText); font-style: italic; padding: 4px 0; }
.sqlroom-pager { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-top: 6px; }
.sqlroom-pager-button {
  font: inherit;
  padding: 2px 8px;
  border-radius: 2px;
  border: 1px solid var(--vscode-button-border, transparent);
  color: var(--vscode-button-secondaryForeground, ButtonText);
  background: var(--vscode-button-secondaryBackground, ButtonFace);
  cursor: pointer;
}
.sqlroom-pager-button:hover:not(:disabled) { background: var(--vscode-button-secondaryHoverBackground, var(--vscode-list-hoverBackground, ButtonFace)); }
.sqlroom-pager-button:disabled { opacity: 0.45; cursor: default; }
.sqlroom-pager-button:focus-visible, .sqlroom-pager-size select:focus-visible {
  outline: 1px solid var(--vscode-focusBorder, Highlight);
  outline-offset: 1px;
}
.sqlroom-pager-range { padding: 0 6px; font-variant-numeric: tabular-nums; }
.sqlroom-pager-size { margin-left: auto; color: var(--vscode-descriptionForeground, GrayText); }
.sqlroom-pager-size select,
.sqlroom-chart-field select {
  font: inherit;
  color: var(--vscode-dropdown-foreground, FieldText);
  background: var(--vscode-dropdown-background, Field);
  border: 1px solid var(--vscode-dropdown-border, var(--vscode-panel-border, GrayText));
  border-radius: 2px;
  padding: 1px 4px;
}
.sqlroom-error {
  color: var(--vscode-errorForeground, #d32f2f);
  background: var(--vscode-inputValidation-errorBackground, transparent);
  border: 1px solid var(--vscode-inputValidation-errorBorder, currentColor);
  padding: 6px 10px;
  font-family: var(--vscode-font-family, system-ui, sans-serif);
}
.sqlroom-result:focus { outline: none; }
.sqlroom-table.sqlroom-fixed { table-layout: fixed; }
.sqlroom-table.sqlroom-fixed td, .sqlroom-table.sqlroom-fixed th { overflow: hidden; text-overflow: ellipsis; }
.sqlroom-col-rownum { width: 6ch; }
.sqlroom-sortable { cursor: pointer; }
.sqlroom-sortable:hover { background: var(--vscode-list-hoverBackground, color-mix(in srgb, CanvasText 8%, transparent)); }
.sqlroom-sortable[aria-sort="ascending"] .sqlroom-col-name::after { content: ' ▲'; }
.sqlroom-sortable[aria-sort="descending"] .sqlroom-col-name::after { content: ' ▼'; }
.sqlroom-table td.sqlroom-selected {
  background: var(--vscode-list-activeSelectionBackground, Highlight);
  color: var(--vscode-list-activeSelectionForeground, HighlightText);
}
.sqlroom-table tbody td { user-select: none; }
.sqlroom-tools { display: flex; gap: 8px; align-items: center; margin: 0 0 4px; }
.sqlroom-tool {
  font: inherit;
  padding: 1px 8px;
  border-radius: 2px;
  border: 1px solid var(--vscode-button-border, transparent);
  color: var(--vscode-button-secondaryForeground, ButtonText);
  background: var(--vscode-button-secondaryBackground, ButtonFace);
  cursor: pointer;
}
.sqlroom-tool-status { color: var(--vscode-descriptionForeground, GrayText); }
.sqlroom-kept {
  color: var(--vscode-descriptionForeground, GrayText);
  font-style: italic;
  margin: 0 0 4px;
}
.sqlroom-error-block {
  color: var(--vscode-editor-foreground, CanvasText);
  font-family: var(--vscode-font-family, system-ui, sans-serif);
  font-size: var(--vscode-font-size, 13px);
  background: var(--vscode-inputValidation-errorBackground, color-mix(in srgb, #f14c4c 12%, transparent));
  border-left: 3px solid var(--vscode-errorForeground, #f14c4c);
  padding: 6px 10px;
  margin: 2px 0 4px;
  max-width: 100%;
  overflow-x: auto;
}
.sqlroom-error-title { color: var(--vscode-errorForeground, #f14c4c); font-weight: 600; margin-bottom: 4px; }
.sqlroom-error-where { font-weight: normal; color: var(--vscode-descriptionForeground, GrayText); }
.sqlroom-error-message, .sqlroom-error-context {
  font-family: var(--vscode-editor-font-family, ui-monospace, monospace);
  font-size: var(--vscode-editor-font-size, 13px);
  white-space: pre-wrap;
  margin: 0;
}
.sqlroom-error-context { white-space: pre; margin-top: 6px; tab-size: 4; }
.sqlroom-error-caret { color: var(--vscode-errorForeground, #f14c4c); font-weight: bold; }
.sqlroom-result [hidden] { display: none !important; }
.sqlroom-table[aria-busy="true"] tbody { opacity: 0.55; }
.sqlroom-tool:hover { background: var(--vscode-button-secondaryHoverBackground, var(--vscode-list-hoverBackground, ButtonFace)); }
.sqlroom-tool:focus-visible { outline: 1px solid var(--vscode-focusBorder, Highlight); outline-offset: 1px; }
.sqlroom-chart-controls { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; margin: 0 0 6px; }
.sqlroom-chart-field { color: var(--vscode-descriptionForeground, GrayText); }
.sqlroom-chart-note { color: var(--vscode-descriptionForeground, GrayText); font-style: italic; }
.sqlroom-chart-plot { color: var(--vscode-editor-foreground, CanvasText); }
.sqlroom-chart-plot svg { max-width: 100%; height: auto; }
`;

/**
 * Adds the stylesheet once per document or shadow root that holds `element`
 * (VS Code may host outputs inside a shadow root).
 */
export function ensureStyles(element: HTMLElement): void {
  const root = element.getRootNode();
  const host: ParentNode = root instanceof ShadowRoot ? root : document.head ?? document.documentElement;
  if (host.querySelector(`style#${STYLE_ID}`)) return;
  const style = document.createElement('style');
  style.id = STYLE_ID;
  style.textContent = CSS;
  host.append(style);
}
