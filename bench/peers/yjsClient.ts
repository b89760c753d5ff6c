// A Hocuspocus client: the stock HocuspocusProvider (own websocket per
// client) with a Y.Doc. A keystroke's pre-encoded update is applied to the
// provider's doc, which sends it. Ack = the server's SyncStatus message, seen
// as the provider's `unsyncedChanges` counter going down (FIFO per client).
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { withTimeout } from '../loroClient';

const LOCAL = 'bench-local';

export class YjsBenchClient {
  readonly doc = new Y.Doc();
  private socket!: HocuspocusProviderWebsocket;
  private provider!: HocuspocusProvider;
  private readonly ackQueue: ((ok: boolean) => void)[] = [];
  private lastUnsynced = 0;
  /** Called with (clientId -> clock end) of every remote update (observer clients only). */
  onRemote?: (ends: Map<string, number>) => void;
  remoteUpdates = 0;
  /** performance.now() of the last remote update (0: none yet). */
  lastReceivedAt = 0;

  constructor(
    readonly url: string,
    readonly roomId: string,
    readonly clientId: number,
  ) {
    // The doc only relays pre-encoded updates authored by `clientId`; it must
    // not use that id itself (Yjs would then pick a new one and warn).
    this.doc.clientID = clientId + 500_000;
  }

  async connect(timeoutMs = 10_000): Promise<void> {
    this.socket = new HocuspocusProviderWebsocket({ url: this.url, WebSocketPolyfill: WebSocket });
    this.provider = new HocuspocusProvider({ name: this.roomId, document: this.doc, websocketProvider: this.socket });
    this.provider.attach();
    await withTimeout(
      new Promise<void>((resolve) => {
        // 'synced' comes first, the SyncStatus that brings unsyncedChanges to 0 after it.
        const check = () => {
          if (this.provider.isSynced && this.provider.unsyncedChanges === 0) {
            this.provider.off('synced', check);
            this.provider.off('unsyncedChanges', check);
            resolve();
          }
        };
        this.provider.on('synced', check);
        this.provider.on('unsyncedChanges', check);
        check();
      }),
      timeoutMs,
      `hocuspocus sync ${this.roomId}`,
    );
    this.lastUnsynced = this.provider.unsyncedChanges;
    this.provider.on('unsyncedChanges', ({ number }: { number: number }) => {
      for (let i = number; i < this.lastUnsynced; i++) this.ackQueue.shift()?.(true);
      this.lastUnsynced = number;
    });
    this.doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin === LOCAL) return;
      this.remoteUpdates++;
      this.lastReceivedAt = performance.now();
      if (this.onRemote) {
        const ends = new Map<string, number>();
        for (const [client, clock] of Y.parseUpdateMeta(u).to) ends.set(String(client), clock);
        this.onRemote(ends);
      }
    });
  }

  /** Applies one pre-encoded update (the provider sends it); resolves on its SyncStatus. */
  sendUpdate(update: Uint8Array): Promise<boolean> {
    const acked = new Promise<boolean>((resolve) => this.ackQueue.push(resolve));
    Y.applyUpdate(this.doc, update, LOCAL);
    return acked;
  }

  /** Resolves once the doc holds `cells` cells (the base from client 0 arrived). */
  async waitForCells(cells: number, timeoutMs = 10_000): Promise<void> {
    const arr = this.doc.getArray('cells');
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => {
          if (arr.length >= cells) {
            this.doc.off('update', check);
            resolve();
          }
        };
        this.doc.on('update', check);
        check();
      }),
      timeoutMs,
      `base of ${this.roomId}`,
    );
  }

  /** The sources of the notebook's cells in this client's doc. */
  cellTexts(): string[] {
    return this.doc.getArray<Y.Map<unknown>>('cells').toArray().map((m) => String(m.get('source') ?? ''));
  }

  close(): void {
    for (const r of this.ackQueue.splice(0)) r(false);
    this.provider?.destroy();
    this.socket?.destroy();
  }
}
