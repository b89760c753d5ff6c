// Entry of the Activity webview bundle (dist/activity.js): the host posts the
// data, the view draws the charts and redraws on resize.
import type { ActivityData } from '../../server/shared/history/activity';
import { drawActivity } from './charts';

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('activity');
let data: ActivityData | undefined;
const draw = () => {
  if (!root || !data) return;
  const status = document.getElementById('source');
  if (status) status.textContent = data.source === 'server' ? 'From the sync server (whole team) and this notebook\'s history' : 'From this notebook\'s own history (not synced)';
  drawActivity(root, data, document.body.clientWidth);
  root.dataset.drawn = String(Number(root.dataset.drawn ?? 0) + 1);
};
window.addEventListener('message', (e: MessageEvent<{ type: string; data: ActivityData }>) => {
  if (e.data?.type === 'activity') {
    data = e.data.data;
    draw();
  }
});
let t: ReturnType<typeof setTimeout> | undefined;
window.addEventListener('resize', () => {
  if (t) clearTimeout(t);
  t = setTimeout(draw, 150);
});
vscode.postMessage({ type: 'ready' });
