// A bare loro-protocol client for the real-trace bench that keeps a replica:
// it records every update it sends and receives (fragments reassembled, as
// the server splits updates larger than one message), and imports them into a
// LoroDoc only when asked (`cellTexts`), so the Loro import cost of the
// replica does not load the machine while the server is being measured (Yjs
// providers apply updates as they come; that is cheap in Yjs).
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { CrdtType, MessageType, decode, encode, type HexString, type ProtocolMessage } from 'loro-protocol';
import { LoroDoc, decodeImportBlobMeta, type LoroMap } from 'loro-crdt';
import WebSocket from 'ws';
import { withTimeout } from './loroClient';

/** What the real-trace runner needs of a client, Loro or Yjs. */
export interface ReplicaClient {
  connect(timeoutMs?: number): Promise<void>;
  sendUpdate(update: Uint8Array): Promise<boolean>;
  /** (peer -> counter/clock end) of every remote update, when set. */
  onRemote?: (ends: Map<string, number>) => void;
  /** The sources of the notebook's cells in this client's replica. */
  cellTexts(): string[];
  /** performance.now() of the last document update received (0: none yet). */
  lastReceivedAt: number;
  /** Digest of the received update bytes, in order (Loro only): equal digests = equal replicas. */
  receivedDigest?(): string;
  close(): void;
}

export class RealLoroClient implements ReplicaClient {
  private ws!: WebSocket;
  private readonly pendingAcks = new Map<HexString, (ok: boolean) => void>();
  private joined?: { resolve: () => void; reject: (e: Error) => void };
  private readonly fragments = new Map<HexString, { parts: Uint8Array[]; left: number }>();
  /** Sent and received updates not yet imported into `doc`. */
  private pending: Uint8Array[] = [];
  private doc: LoroDoc | null = null;
  private readonly digest: Hash = createHash('sha256');
  onRemote?: (ends: Map<string, number>) => void;
  lastReceivedAt = 0;
  received = 0;

  constructor(
    readonly url: string,
    readonly roomId: string,
    readonly user: string,
  ) {}

  async connect(timeoutMs = 10_000): Promise<void> {
    this.ws = new WebSocket(this.url, { maxPayload: 0 });
    this.ws.binaryType = 'nodebuffer';
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        this.ws.once('open', () => resolve());
        this.ws.once('error', reject);
      }),
      timeoutMs,
      `connect ${this.url}`,
    );
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return; // keepalive / explanation text frames
      this.handle(decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    });
    this.ws.on('error', () => undefined);
    const joined = new Promise<void>((resolve, reject) => (this.joined = { resolve, reject }));
    this.send({
      type: MessageType.JoinRequest,
      crdt: CrdtType.Loro,
      roomId: this.roomId,
      auth: new TextEncoder().encode(JSON.stringify({ user: this.user })),
      version: new Uint8Array(),
    });
    await withTimeout(joined, timeoutMs, `join ${this.roomId}`);
  }

  sendUpdate(update: Uint8Array): Promise<boolean> {
    const batchId = `0x${randomBytes(8).toString('hex')}` as HexString;
    const acked = new Promise<boolean>((resolve) => this.pendingAcks.set(batchId, resolve));
    this.pending.push(update);
    this.send({ type: MessageType.DocUpdate, crdt: CrdtType.Loro, roomId: this.roomId, updates: [update], batchId });
    return acked;
  }

  cellTexts(): string[] {
    if (!this.doc) this.doc = new LoroDoc();
    if (this.pending.length) {
      this.doc.importBatch(this.pending);
      this.pending = [];
    }
    const cells = this.doc.getMovableList('cells');
    const out: string[] = [];
    for (let i = 0; i < cells.length; i++) out.push(String((cells.get(i) as LoroMap).get('source') ?? ''));
    return out;
  }

  receivedDigest(): string {
    return this.digest.copy().digest('hex');
  }

  close(): void {
    for (const r of this.pendingAcks.values()) r(false);
    this.pendingAcks.clear();
    this.ws?.close();
    this.doc?.free();
    this.doc = null;
    this.pending = [];
  }

  private send(m: ProtocolMessage): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encode(m));
  }

  private receive(u: Uint8Array): void {
    this.lastReceivedAt = performance.now();
    this.received++;
    this.pending.push(u);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(u.length);
    this.digest.update(len);
    this.digest.update(u);
    if (this.onRemote) {
      const meta = decodeImportBlobMeta(u, false);
      const ends = new Map<string, number>();
      for (const [peer, end] of meta.partialEndVersionVector.toJSON()) ends.set(peer, end);
      this.onRemote(ends);
    }
  }

  private handle(m: ProtocolMessage): void {
    switch (m.type) {
      case MessageType.JoinResponseOk:
        this.joined?.resolve();
        break;
      case MessageType.JoinError:
        this.joined?.reject(new Error(`join ${this.roomId} refused: ${m.message}`));
        break;
      case MessageType.Ack: {
        const r = this.pendingAcks.get(m.refId);
        if (!r) break;
        this.pendingAcks.delete(m.refId);
        r(m.status === 0);
        break;
      }
      case MessageType.DocUpdate:
        for (const u of m.updates) this.receive(u);
        break;
      case MessageType.DocUpdateFragmentHeader:
        this.fragments.set(m.batchId, { parts: new Array<Uint8Array>(m.fragmentCount), left: m.fragmentCount });
        break;
      case MessageType.DocUpdateFragment: {
        const f = this.fragments.get(m.batchId);
        if (!f || f.parts[m.index]) break;
        f.parts[m.index] = m.fragment.slice();
        if (--f.left === 0) {
          this.fragments.delete(m.batchId);
          this.receive(Buffer.concat(f.parts));
        }
        break;
      }
      default:
        break;
    }
  }
}
