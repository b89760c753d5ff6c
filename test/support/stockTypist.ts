// A stock loro-websocket client that types into its own text, with its acks
// read off the wire (used by the kill soak and the SIGSTOP test): per peer,
// the highest counter the server acked Ok, so a check right after a fault can
// tell whether everything acked is still there.
import { VersionVector, decodeImportBlobMeta, LoroDoc } from 'loro-crdt';
import { LoroWebsocketClient } from 'loro-websocket';
import { CrdtType, MessageType, UpdateStatusCode, decode } from 'loro-protocol';
import { WebSocket } from 'ws';
import { RawClient } from './serverHarness';
import type { Rng } from '../soak/rng';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LoroAdaptor } = require('loro-adaptors/loro') as typeof import('loro-adaptors/dist/loro');

/**
 * What a stock client's socket sends and receives, read off the wire: the
 * Loro updates of every DocUpdate it sends (by batch id) and the acks it
 * gets. The stock client creates its socket with the global WebSocket
 * constructor; during the soak that is this subclass of ws's WebSocket, and
 * each socket reports to the Typist that was opening a connection when it
 * was created (connect() creates the socket synchronously).
 */
export class WireSocket extends WebSocket {
  static opening: Typist | null = null;
  private readonly owner: Typist;
  constructor(url: string) {
    super(url);
    const owner = WireSocket.opening;
    if (!owner) throw new Error('kill soak: a socket opened outside Typist.open()');
    this.owner = owner;
    this.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (!isBinary) return;
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      owner.received(decode(new Uint8Array(bytes)));
    });
    this.on('open', () => owner.socketOpened());
    this.on('close', (code: number, reason: Buffer) => owner.socketClosed(code, reason.toString()));
  }
  override send(data: unknown, ...rest: unknown[]): void {
    if (data instanceof Uint8Array || data instanceof ArrayBuffer) this.owner.sent(decode(data instanceof ArrayBuffer ? new Uint8Array(data) : data));
    (super.send as (...a: unknown[]) => void).call(this, data, ...rest);
  }
}

/** A stock client that types into its own text; remembers, per peer, the highest counter acked Ok (read off the wire). */
export class Typist {
  readonly doc = new LoroDoc();
  readonly client: LoroWebsocketClient;
  /** peer -> counter end of everything acked Ok. */
  readonly acked = new Map<string, number>();
  ackedUpdates = 0;
  /** Batch id -> the Loro updates of a DocUpdate this client sent (until its ack). */
  private readonly batches = new Map<string, Uint8Array[]>();
  /** Wire oddities that would make the ack bookkeeping wrong. */
  readonly problems: string[] = [];
  /** Close codes and reasons of this client's sockets (diagnostics). */
  readonly closes: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private n = 0;
  private connected = false;
  /** Edits typed since the socket closed. */
  private offlineTyped = 0;
  constructor(
    url: string,
    readonly roomId: string,
    peer: bigint,
  ) {
    this.doc.setPeerId(peer);
    // Reconnects only when told (after the check that follows each kill).
    this.client = this.open(() => new LoroWebsocketClient({ url, disablePing: true, reconnect: { enabled: false } }));
  }
  /** Runs `f` (which may create the client's socket) with this Typist as the owner of new sockets. */
  private open<T>(f: () => T): T {
    const globals = globalThis as { WebSocket?: unknown };
    const before = globals.WebSocket;
    globals.WebSocket = WireSocket;
    WireSocket.opening = this;
    try {
      return f();
    } finally {
      WireSocket.opening = null;
      globals.WebSocket = before;
    }
  }
  sent(m: ReturnType<typeof decode>): void {
    if (m.crdt !== CrdtType.Loro) return;
    if (m.type === MessageType.DocUpdate) this.batches.set(m.batchId, m.updates);
    else if (m.type === MessageType.DocUpdateFragmentHeader) this.problems.push(`client ${this.doc.peerIdStr} sent a fragmented update; its ack is not tracked`);
  }
  /** The socket closed: acks of batches sent on it will never come (the stock client resends what the server lacks on rejoin). */
  socketOpened(): void {
    this.connected = true;
    this.offlineTyped = 0;
  }
  socketClosed(code: number, reason: string): void {
    this.connected = false;
    this.batches.clear();
    this.closes.push(`${code}${reason ? ` ${reason}` : ''}`);
    if (this.closes.length > 20) this.closes.shift();
  }
  /** DocUpdates sent on the current socket and not yet acked. */
  inFlight(): number {
    return this.batches.size;
  }
  received(m: ReturnType<typeof decode>): void {
    if (m.crdt !== CrdtType.Loro || m.type !== MessageType.Ack) return;
    const updates = this.batches.get(m.refId);
    this.batches.delete(m.refId);
    if (m.status !== UpdateStatusCode.Ok || !updates) return;
    for (const u of updates) this.noteAcked(u);
  }
  async join(): Promise<void> {
    await this.client.waitConnected();
    await this.client.join({ roomId: this.roomId, crdtAdaptor: new LoroAdaptor(this.doc, { onUpdateError: () => undefined }) });
  }
  private noteAcked(update: Uint8Array): void {
    this.ackedUpdates++;
    const meta = decodeImportBlobMeta(update, false);
    for (const [peer, end] of meta.partialEndVersionVector.toJSON()) this.acked.set(peer, Math.max(this.acked.get(peer) ?? 0, end));
    meta.partialStartVersionVector.free();
    meta.partialEndVersionVector.free();
  }
  start(rng: Rng): void {
    const tick = () => {
      // A person waits when the server lags: at most MAX_IN_FLIGHT unacked updates on the wire
      // (without this 8 fast typists outrun a loaded 2-core server, acks stop for whole kill
      // windows and every restart replays a growing backlog). Typing goes on while disconnected, up
      // to MAX_OFFLINE_EDITS (the stock client sends each as an update on rejoin; thousands per
      // restart made each replay longer, hence the next disconnection: restarts past two minutes).
      if (this.connected ? this.inFlight() < MAX_IN_FLIGHT : this.offlineTyped++ < MAX_OFFLINE_EDITS) {
        const t = this.doc.getText(`t-${this.doc.peerIdStr}`);
        t.insert(rng.below(t.length + 1), `${this.n++}:${'abcdefgh'.slice(0, 1 + rng.below(8))} `);
        this.doc.commit();
      }
      this.timer = setTimeout(tick, 3 + rng.below(25));
    };
    this.timer = setTimeout(tick, rng.below(20));
  }
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
  reconnect(): Promise<void> {
    return this.open(() => this.client.connect({ resetBackoff: true }));
  }
  close(): void {
    this.stop();
    this.client.destroy();
  }
}

export const MAX_IN_FLIGHT = 16;
export const MAX_OFFLINE_EDITS = 100;

/** `p`, or a rejection saying `what` did not happen within `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms / 1000} s`)), ms)))]).finally(() => clearTimeout(timer));
}

/** The room's version as a fresh joiner sees it. */
export async function roomVersion(url: string, roomId: string): Promise<VersionVector> {
  const raw = await RawClient.connect(url);
  try {
    raw.join(roomId);
    const ok = await raw.next(MessageType.JoinResponseOk, (m) => m.roomId === roomId, 30_000);
    return VersionVector.decode(ok.version);
  } finally {
    raw.close();
  }
}
