// Notebook output renderer for application/vnd.sqlroom.result+json: a typed,
// paged result table. Loaded by VS Code's output webview (dist/renderer.js).
import type { ActivationFunction, OutputItem } from 'vscode-notebook-renderer';
import { ERROR_MIME } from '../../extension/core/resultPayload';
import { buildErrorBlock } from './errorBlock';
import { buildError } from './errorView';
import { parseErrorPayload, parsePayload } from './payload';
import { buildResultView } from './resultView';
import { ensureStyles } from './styles';

/** Renders one output item into `element`, never throwing. */
export function renderResult(item: Pick<OutputItem, 'json'> & { mime?: string }, element: HTMLElement): void {
  ensureStyles(element);
  let raw: unknown;
  try {
    raw = item.json();
  } catch (e) {
    element.replaceChildren(buildError(`the output is not valid JSON (${e instanceof Error ? e.message : String(e)})`));
    return;
  }
  if (item.mime === ERROR_MIME) {
    const error = parseErrorPayload(raw);
    element.replaceChildren(error.ok ? buildErrorBlock(error.payload) : buildError(error.error));
    return;
  }
  const parsed = parsePayload(raw);
  if (!parsed.ok) {
    element.replaceChildren(buildError(parsed.error));
    return;
  }
  try {
    element.replaceChildren(buildResultView(parsed.payload).element);
  } catch (e) {
    element.replaceChildren(buildError(e instanceof Error ? e.message : String(e)));
  }
}

export const activate: ActivationFunction = () => {
  const rendered = new Map<string, HTMLElement>();
  return {
    renderOutputItem(outputItem, element, signal) {
      if (signal?.aborted) return;
      renderResult(outputItem, element);
      rendered.set(outputItem.id, element);
    },
    disposeOutputItem(id) {
      // Our DOM lives inside the element VS Code owns; dropping it frees the rows.
      const ids = id === undefined ? [...rendered.keys()] : [id];
      for (const key of ids) {
        rendered.get(key)?.replaceChildren();
        rendered.delete(key);
      }
    },
  };
};
