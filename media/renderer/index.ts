// Notebook output renderer for application/vnd.sqlroom.result+json: a typed,
// paged result table. Loaded by VS Code's output webview (dist/renderer.js).
import type { ActivationFunction, OutputItem } from 'vscode-notebook-renderer';
import { ERROR_MIME } from '../../extension/core/resultPayload';
import { buildErrorBlock } from './errorBlock';
import { buildError } from './errorView';
import { createHost, type RendererHost } from './host';
import { parseErrorPayload, parsePayload } from './payload';
import { buildResultView } from './resultView';
import { ensureStyles } from './styles';

/** Renders one output item into `element`, never throwing. */
export function renderResult(item: Pick<OutputItem, 'json'> & { mime?: string }, element: HTMLElement, host?: RendererHost): (() => void) | undefined {
  ensureStyles(element);
  let raw: unknown;
  try {
    raw = item.json();
  } catch (e) {
    element.replaceChildren(buildError(`the output is not valid JSON (${e instanceof Error ? e.message : String(e)})`));
    return undefined;
  }
  if (item.mime === ERROR_MIME) {
    const error = parseErrorPayload(raw);
    element.replaceChildren(error.ok ? buildErrorBlock(error.payload) : buildError(error.error));
    return undefined;
  }
  const parsed = parsePayload(raw);
  if (!parsed.ok) {
    element.replaceChildren(buildError(parsed.error));
    return undefined;
  }
  try {
    const view = buildResultView(parsed.payload, undefined, host);
    element.replaceChildren(view.element);
    return view.dispose;
  } catch (e) {
    element.replaceChildren(buildError(e instanceof Error ? e.message : String(e)));
    return undefined;
  }
}

export const activate: ActivationFunction = (ctx) => {
  const host = createHost(ctx);
  const rendered = new Map<string, { element: HTMLElement; dispose?: () => void }>();
  return {
    renderOutputItem(outputItem, element, signal) {
      if (signal?.aborted) return;
      rendered.get(outputItem.id)?.dispose?.();
      const dispose = renderResult(outputItem, element, host);
      rendered.set(outputItem.id, { element, dispose });
    },
    disposeOutputItem(id) {
      // Our DOM lives inside the element VS Code owns; dropping it frees the rows.
      const ids = id === undefined ? [...rendered.keys()] : [id];
      for (const key of ids) {
        rendered.get(key)?.dispose?.();
        rendered.get(key)?.element.replaceChildren();
        rendered.delete(key);
      }
    },
  };
};
