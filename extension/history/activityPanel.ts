// SQLRoom: Show Activity: a webview with charts of who edited what and when.
// Local data always (the notebook's own Loro history); when the notebook is
// synced, the sync server's SQL analytics over ops_log are added (the whole
// team, all time: GET /api/docs/:docId/analytics).
import * as vscode from 'vscode';
import { localActivity, type ActivityData, type ServerActivity } from '../../server/shared/history';
import { activityHtml } from './activityHtml';
import type { HistoryService } from './historyService';

export async function showActivity(extensionUri: vscode.Uri, service: HistoryService, docId: string, server: () => Promise<ServerActivity | undefined>): Promise<ActivityData> {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist');
  const name = service.notebookName(docId);
  const panel = vscode.window.createWebviewPanel('sqlroom.activity', `Activity: ${name}`, vscode.ViewColumn.Beside, { enableScripts: true, localResourceRoots: [dist] });
  const data = localActivity(service.doc(docId).doc);
  const serverData = await server().catch(() => undefined);
  if (serverData) {
    data.server = serverData;
    data.source = 'server';
  }
  panel.webview.onDidReceiveMessage((m: { type?: string }) => {
    if (m?.type === 'ready') void panel.webview.postMessage({ type: 'activity', data });
  });
  panel.webview.html = activityHtml({
    cspSource: panel.webview.cspSource,
    scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'activity.js')).toString(),
    title: `Activity: ${name}`,
  });
  return data;
}
