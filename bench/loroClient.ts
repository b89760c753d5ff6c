// A bare loro-protocol client (ws + loro-protocol framing), so that send time,
// ack time and the arrival of remote updates can be timed exactly. Works
// against our server and loro-websocket's SimpleServer alike. realClient.ts
// extends it with a replica of the document.
import { CrdtType, MessageType, decode, encode, type HexString, type ProtocolMessage } from 'loro-protocol';
import { decodeImportBlobMeta } from 'loro-crdt';
import WebSocket from 'ws';
import { newBatchId } from '../server/shared/updateBatch';

export class LoroBenchClient {
  protected ws!: WebSocket;
  /** Options of the WebSocket (ws' default message size limit unless a subclass lifts it). */
  protected readonly wsOptions: WebSocket.ClientOptions = {};
  private readonly pendingAcks = new Map<HexString, (ok: boolean) => void>();
  private joined?: { resolve: () => void; reject: (e: Error) => void };
  /** Called with (peer, counterEnd) for every peer in each remote update (observer clients only). */
  onRemote?: (ends: Map<string, number>) => void;
  remoteUpdates = 0;
  failedAcks = 0;

  constructor(
    readonly url: string,
    readonly roomId: string,
    readonly user: string,
  ) {}

  async connect(timeoutMs = 10_000): Promise<void> {
    this.ws = new WebSocket(this.url, this.wsOptions);
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

  /** Sends one update; resolves when the server acks it (false: error status or closed). */
  sendUpdate(update: Uint8Array): Promise<boolean> {
    const batchId = newBatchId();
    const acked = new Promise<boolean>((resolve) => this.pendingAcks.set(batchId, resolve));
    this.send({ type: MessageType.DocUpdate, crdt: CrdtType.Loro, roomId: this.roomId, updates: [update], batchId });
    return acked;
  }

  close(): void {
    for (const r of this.pendingAcks.values()) r(false);
    this.pendingAcks.clear();
    this.ws?.close();
  }

  protected send(m: ProtocolMessage): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encode(m));
  }

  /** One update of a DocUpdate from the server (after reassembly, in subclasses that reassemble fragments). */
  protected receive(u: Uint8Array): void {
    if (!this.onRemote) return;
    const meta = decodeImportBlobMeta(u, false);
    const ends = new Map<string, number>();
    for (const [peer, end] of meta.partialEndVersionVector.toJSON()) ends.set(peer, end);
    this.onRemote(ends);
  }

  protected handle(m: ProtocolMessage): void {
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
        if (m.status !== 0) this.failedAcks++;
        r(m.status === 0);
        break;
      }
      case MessageType.DocUpdate:
        this.remoteUpdates++;
        for (const u of m.updates) this.receive(u);
        break;
      default:
        break;
    }
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms))),
  ]);
}
