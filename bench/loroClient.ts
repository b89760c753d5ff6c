// A bare loro-protocol client (ws + loro-protocol framing), so that send time,
// ack time and the arrival of remote updates can be timed exactly. Works
// against our server and loro-websocket's SimpleServer alike.
import { randomBytes } from 'node:crypto';
import { CrdtType, MessageType, decode, encode, type HexString, type ProtocolMessage } from 'loro-protocol';
import { decodeImportBlobMeta } from 'loro-crdt';
import WebSocket from 'ws';

export class LoroBenchClient {
  private ws!: WebSocket;
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
    this.ws = new WebSocket(this.url);
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
      if (!isBinary) return; // keepalive text frames
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
    const batchId = `0x${randomBytes(8).toString('hex')}` as HexString;
    const acked = new Promise<boolean>((resolve) => this.pendingAcks.set(batchId, resolve));
    this.send({ type: MessageType.DocUpdate, crdt: CrdtType.Loro, roomId: this.roomId, updates: [update], batchId });
    return acked;
  }

  close(): void {
    for (const r of this.pendingAcks.values()) r(false);
    this.pendingAcks.clear();
    this.ws?.close();
  }

  private send(m: ProtocolMessage): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encode(m));
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
        if (m.status !== 0) this.failedAcks++;
        r(m.status === 0);
        break;
      }
      case MessageType.DocUpdate:
        this.remoteUpdates++;
        if (this.onRemote) {
          for (const u of m.updates) {
            const meta = decodeImportBlobMeta(u, false);
            const ends = new Map<string, number>();
            for (const [peer, end] of meta.partialEndVersionVector.toJSON()) ends.set(peer, end);
            this.onRemote(ends);
          }
        }
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
