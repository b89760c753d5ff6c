// A writer for fault tests: one Loro peer sending text updates over a raw
// protocol client, one at a time, recording which were acked Ok; and a
// fresh joiner's view of a room to check them against.
import { randomBytes } from 'node:crypto';
import { LoroDoc } from 'loro-crdt';
import { MessageType, UpdateStatusCode } from 'loro-protocol';
import { RawClient } from './serverHarness';

export interface SentUpdate {
  /** The peer's counter end after this update (versions are prefixes: end <= joiner's version means present). */
  end: number;
  bytes: Uint8Array;
  status: number | 'no-ack';
}

export class AckWriter {
  readonly doc = new LoroDoc();
  readonly sent: SentUpdate[] = [];
  constructor(readonly roomId: string, readonly peer: bigint) {
    this.doc.setPeerId(peer);
  }

  /** The next update: `size` bytes of incompressible text appended. */
  next(size: number): { bytes: Uint8Array; end: number } {
    const before = this.doc.oplogVersion();
    const t = this.doc.getText('t');
    t.insert(t.length, randomBytes(Math.ceil(size / 2)).toString('hex').slice(0, size));
    this.doc.commit();
    const bytes = this.doc.export({ mode: 'update', from: before });
    before.free();
    return { bytes, end: this.doc.oplogVersion().get(this.doc.peerIdStr) ?? 0 };
  }

  /** Send one update on `raw` (joined to the room) and wait for its ack. */
  async send(raw: RawClient, size: number, timeoutMs = 20_000): Promise<SentUpdate> {
    const u = this.next(size);
    const s: SentUpdate = { ...u, status: 'no-ack' };
    this.sent.push(s);
    const ack = await raw.ackFor(raw.update(this.roomId, [u.bytes]), timeoutMs).catch(() => null);
    if (ack) s.status = ack.status;
    return s;
  }

  /** Send `n` updates back to back (no waiting between them), then wait for all their acks. */
  async sendMany(raw: RawClient, n: number, size: number, timeoutMs = 60_000): Promise<void> {
    const batch = Array.from({ length: n }, () => {
      const u = this.next(size);
      const s: SentUpdate = { ...u, status: 'no-ack' };
      this.sent.push(s);
      return { s, id: raw.update(this.roomId, [u.bytes]) };
    });
    for (const { s, id } of batch) {
      const ack = await raw.ackFor(id, timeoutMs).catch(() => null);
      if (ack) s.status = ack.status;
    }
  }

  /**
   * Send every refused update again, oldest first (what a client does once it
   * learns the server is healthy; the server keeps no refused update).
   */
  async resendRefused(raw: RawClient, timeoutMs = 20_000): Promise<void> {
    for (const s of this.sent) {
      if (s.status === UpdateStatusCode.Ok) continue;
      const ack = await raw.ackFor(raw.update(this.roomId, [s.bytes]), timeoutMs).catch(() => null);
      if (ack) s.status = ack.status;
    }
  }

  /** Highest counter end among the updates acked Ok (0: none). */
  ackedEnd(): number {
    return Math.max(0, ...this.sent.filter((s) => s.status === UpdateStatusCode.Ok).map((s) => s.end));
  }

  acked(): number {
    return this.sent.filter((s) => s.status === UpdateStatusCode.Ok).length;
  }

  refused(): number {
    return this.sent.filter((s) => s.status !== UpdateStatusCode.Ok).length;
  }
}

/** A joined raw client for `roomId` (its join backfill consumed). */
export async function joinedRaw(url: string, roomId: string): Promise<RawClient> {
  const raw = await RawClient.connect(url);
  raw.join(roomId);
  await raw.next(MessageType.JoinResponseOk, () => true, 20_000);
  return raw;
}

/** What a fresh joiner sees of the room: the peer's counter end (0 when absent). */
export async function joinerVersion(url: string, roomId: string, peer: bigint, timeoutMs = 20_000): Promise<number> {
  const raw = await RawClient.connect(url);
  try {
    raw.join(roomId);
    await raw.next(MessageType.JoinResponseOk, () => true, timeoutMs);
    const upd = await raw.next(MessageType.DocUpdate, () => true, timeoutMs).catch(() => null);
    const doc = new LoroDoc();
    if (upd) doc.importBatch(upd.updates);
    const v = doc.oplogVersion().get(String(peer) as `${number}`) ?? 0;
    doc.free();
    return v;
  } finally {
    raw.close();
  }
}
