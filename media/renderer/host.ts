// The renderer's line to the extension (VS Code's renderer messaging), shared
// by every output this renderer draws: requests go out as they are, answers
// come back to the outputs of the cell they name. Absent when VS Code gives
// no messaging (another viewer, the test page without it): then the result
// sorts the rows it has and offers no export.
import type { RendererContext } from 'vscode-notebook-renderer';
import type { ExtensionMessage, RendererRequest } from '../../extension/core/rendererMessages';

export interface RendererHost {
  post(message: RendererRequest): void;
  /** Calls `listener` with every message for `cellId`; returns the unsubscribe. */
  listen(cellId: string, listener: (message: ExtensionMessage) => void): () => void;
}

export function createHost(ctx: Pick<RendererContext<unknown>, 'postMessage' | 'onDidReceiveMessage'>): RendererHost | undefined {
  if (!ctx.postMessage || !ctx.onDidReceiveMessage) return undefined;
  const listeners = new Map<string, Set<(message: ExtensionMessage) => void>>();
  ctx.onDidReceiveMessage((raw: unknown) => {
    const message = raw as ExtensionMessage;
    if (!message || typeof message !== 'object' || typeof message.cellId !== 'string') return;
    for (const listener of [...(listeners.get(message.cellId) ?? [])]) listener(message);
  });
  return {
    post: (message) => ctx.postMessage!(message),
    listen(cellId, listener) {
      let set = listeners.get(cellId);
      if (!set) listeners.set(cellId, (set = new Set()));
      set.add(listener);
      return () => {
        set!.delete(listener);
        if (set!.size === 0) listeners.delete(cellId);
      };
    },
  };
}
