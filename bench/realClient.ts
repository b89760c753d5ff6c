// A bare loro-protocol client for the real-trace bench that keeps a replica:
// it records every update it sends and receives (fragments reassembled, as
// the server splits updates larger than one message), and imports them into a
// LoroDoc only when asked (`cellTexts`), so the Loro import cost of the
// replica does not load the machine while the server is being measured (Yjs
// providers apply updates as they come; that is cheap in Yjs).
import { createHash, type Hash } from 'node:crypto';
import { MessageType, type HexString, type ProtocolMessage } from 'loro-protocol';
import { LoroDoc, type LoroMap } from 'loro-crdt';
import type WebSocket from 'ws';
import { LoroBenchClient } from './loroClient';

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

/** LoroBenchClient (connect, join, acks, onRemote) plus the replica and fragment reassembly. */
export class RealLoroClient extends LoroBenchClient implements ReplicaClient {
  protected override readonly wsOptions: WebSocket.ClientOptions = { maxPayload: 0 };
  private readonly fragments = new Map<HexString, { parts: Uint8Array[]; left: number }>();
  /** Sent and received updates not yet imported into `doc`. */
  private pending: Uint8Array[] = [];
  private doc: LoroDoc | null = null;
  private readonly digest: Hash = createHash('sha256');
  lastReceivedAt = 0;
  received = 0;

  override sendUpdate(update: Uint8Array): Promise<boolean> {
    this.pending.push(update);
    return super.sendUpdate(update);
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

  override close(): void {
    super.close();
    this.doc?.free();
    this.doc = null;
    this.pending = [];
  }

  protected override receive(u: Uint8Array): void {
    this.lastReceivedAt = performance.now();
    this.received++;
    this.pending.push(u);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(u.length);
    this.digest.update(len);
    this.digest.update(u);
    super.receive(u);
  }

  protected override handle(m: ProtocolMessage): void {
    switch (m.type) {
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
        super.handle(m);
    }
  }
}
