// What the status bar says about a shared notebook: connection state, pending
// changes, who else is in it, and (once) that a reconnect merged changes.
import type { Collaborator } from './presence';
import type { RoomStatus } from './roomClient';
import { markedName } from '../../../server/shared/collaboratorColor';

export interface StatusText {
  text: string;
  tooltip: string;
  /** 'error' | 'warning' colours the item. */
  severity?: 'error' | 'warning';
}

export function describeStatus(status: RoomStatus, others: readonly Collaborator[], server: string): StatusText {
  // Each collaborator with their colour mark (the same colour as in the cells and the history).
  const people = others.length === 0 ? '' : ` · ${others.length === 1 ? markedName(others[0].name) : `${others.length} others`}`;
  const who =
    status.presence === false
      ? '\nThe server does not relay presence: collaborators are not shown.'
      : others.length > 0
        ? `\nAlso here: ${others.map((o) => markedName(o.name)).join(', ')}`
        : '\nNo one else is here.';
  const pending = status.pending;
  switch (status.state) {
    case 'connecting':
      return { text: '$(sync~spin) SQLRoom: connecting', tooltip: `Connecting to ${server}` };
    case 'offline':
      return {
        text: `$(debug-disconnect) SQLRoom: offline${pending > 0 ? ` (${pending} local change${pending === 1 ? '' : 's'})` : ''}`,
        tooltip: `Offline: ${status.detail ?? `cannot reach ${server}`}. Keep editing: your changes merge when the connection is back.`,
        severity: 'warning',
      };
    case 'error':
      return { text: '$(error) SQLRoom: sync error', tooltip: `${status.detail ?? 'Sync failed'} (${server})`, severity: 'error' };
    case 'connected': {
      if (status.merged) {
        const m = status.merged;
        return {
          text: `$(check) SQLRoom: back online, merged${people}`,
          tooltip: `Reconnected to ${server}: merged ${m.localOps} local and ${m.remoteOps} remote operation(s).${who}`,
        };
      }
      if (pending > 0) return { text: `$(sync~spin) SQLRoom: syncing ${pending} pending${people}`, tooltip: `Sending ${pending} change(s) to ${server}${who}` };
      const ro = status.detail === 'read-only' ? ' (read-only)' : '';
      return { text: `$(cloud) SQLRoom: connected${ro}${people}`, tooltip: `Connected to ${server}; all changes saved on the server.${who}` };
    }
  }
}
