// One shared notebook's connection: its Loro document joined to a room on a
// sync server (RoomClient), its presence (who is here, in which cell) and,
// for a team server, the local cache that keeps its latest state across
// restarts while offline.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { NotebookDoc } from '../../server/shared/notebookDoc';
import type { LocalCache } from '../core/sync/localCache';
import { Presence, type Collaborator } from '../core/sync/presence';
import { RoomClient, type RoomStatus } from '../core/sync/roomClient';

export interface SessionEndpoint {
  kind: 'embedded' | 'team';
  url: string;
  /** Further processes of a scale-out deployment, tried in turn when `url` is lost. */
  urls?: string[];
  token?: string;
  /** The local server: a fresh short-lived token for each (re)join. */
  freshToken?: () => string;
  /** PEM certificate(s) trusted for wss:// (sqlroom.server.caFile). */
  ca?: Buffer;
}

export class CollabSession implements vscode.Disposable {
  readonly client: RoomClient;
  readonly presence: Presence;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly stopCache: (() => void) | undefined;
  private readonly stopPresence: () => void;

  constructor(
    readonly docId: string,
    readonly nb: NotebookDoc,
    readonly endpoint: SessionEndpoint,
    userName: string,
    cache: LocalCache | undefined,
    log: vscode.OutputChannel,
  ) {
    this.presence = new Presence(`${nb.doc.peerIdStr}-${randomUUID().slice(0, 8)}`, userName);
    this.stopPresence = this.presence.onChange(() => this.changed.fire());
    if (cache) {
      cache.write(docId, nb.doc);
      this.stopCache = cache.watch(docId, nb.doc, 500, (e) => log.appendLine(`SQLRoom: cannot write the local cache of ${docId}: ${String(e)}`));
    }
    this.client = new RoomClient({
      url: endpoint.url,
      urls: endpoint.urls,
      roomId: docId,
      doc: nb.doc,
      auth: () => {
        const token = endpoint.freshToken?.() ?? endpoint.token;
        return { user: userName, ...(token ? { token } : {}) };
      },
      presence: this.presence.store,
      ...(endpoint.ca ? { ca: endpoint.ca } : {}),
      onStatus: () => this.changed.fire(),
      log: (m) => log.appendLine(m),
    });
  }

  /** Where the history's HTTP calls go: the server this session is connected to, with its token and CA. */
  httpAccess(): { url: string; token?: string; ca?: Buffer } {
    const token = this.endpoint.freshToken?.() ?? this.endpoint.token;
    return { url: this.client.url, ...(token ? { token } : {}), ...(this.endpoint.ca ? { ca: this.endpoint.ca } : {}) };
  }

  get status(): RoomStatus {
    return this.client.current;
  }

  others(): Collaborator[] {
    return this.presence.others();
  }

  dispose(): void {
    this.stopPresence();
    this.presence.dispose(); // tells the others we left, before the socket closes
    this.client.close();
    this.stopCache?.();
    this.changed.dispose();
  }
}
