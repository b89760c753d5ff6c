// Entry of the history webview bundle (dist/history.js): connects the view to
// the host through VS Code's webview messaging.
import { HistoryView } from './historyView';
import type { HostMessage, WebviewMessage } from './protocol';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('history');
if (root) {
  const view = new HistoryView(root, (m) => vscode.postMessage(m));
  window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
    if (e.data && typeof e.data === 'object' && typeof e.data.type === 'string') view.receive(e.data);
  });
  vscode.postMessage({ type: 'ready' });
}
