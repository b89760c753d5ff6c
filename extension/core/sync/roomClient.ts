// A small loro-protocol client for one room (our own rather than
// loro-websocket's, because the status bar needs the pending count, and a
// rejoin must upload exactly what the server lacks after being offline).
//   - join with our version vector; the server backfills what we lack and
//     tells its version, from which we send what it lacks (offline edits);
//   - local Loro updates go out as they are committed; each batch is pending
//     until acked (acks mean durable on the server);
//   - reconnects with exponential backoff and jitter; a ping every
//     `pingMs` detects a dead peer;
//   - presence: an EphemeralStore joined as the same room with crdt %EPH;
//   - a list of server URLs (processes of one scale-out deployment): after a
//     lost connection the next one is tried; the rejoin uploads what that
//     server lacks, so updates in flight to a killed process are not lost.
import { EphemeralStore, VersionVector, type LoroDoc } from 'loro-crdt';
import { CrdtType, MessageType, RoomErrorCode, UpdateStatusCode, decode, encode, type HexString, type ProtocolMessage } from 'loro-protocol';
import WebSocket from 'ws';
import { FRAGMENT_BYTES, newBatchId } from '../../../server/shared/updateBatch';

export type ConnectionState = 'connecting' | 'connected' | 'offline' | 'error';

export interface RoomStatus {
  state: ConnectionState;
  /** Local changes not yet acknowledged by the server (batches). */
  pending: number;
  /** Why the state is 'error' or 'offline'. */
  detail?: string;
  /** Set once after a rejoin that merged local and/or remote changes. */
  merged?: { localOps: number; remoteOps: number };
  /** null: not joined; false: the server does not relay presence. */
  presence: boolean | null;
}

export interface RoomClientOptions {
  url: string;
  /**
   * Several server processes sharing one history (scale-out): on a lost
   * connection the client tries the next URL, cycling; `url` is tried first.
   */
  urls?: string[];
  roomId: string;
  doc: LoroDoc;
  /** JSON join payload, e.g. { user, token }; a function is asked again on every (re)join (short-lived tokens). */
  auth: Record<string, unknown> | (() => Record<string, unknown>);
  presence?: EphemeralStore;
  /** PEM certificate(s) to trust for wss:// (a private CA or a self-signed server certificate). */
  ca?: string | Buffer;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  pingMs?: number;
  onStatus?: (s: RoomStatus) => void;
  /** Called after remote updates were imported into `doc`. */
  onRemote?: () => void;
  log?: (message: string) => void;
}

export class RoomClient {
  private ws: WebSocket | undefined;
  private joined = false;
  private closed = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  /** batchId -> update, sent and not yet acked. */
  private readonly inFlight = new Map<HexString, Uint8Array>();
  /** Local commits made while not joined (uploaded on rejoin). */
  private offlineCommits = 0;
  private everJoined = false;
  private mergeReport: { localOps: number; remoteOps: number } | undefined;
  private backfillPending = false;
  /** A rejoin on the open socket (the server suggested it) is under way. */
  private rejoinInPlace = false;
  /** Counts joins: a retry scheduled before the latest join is covered by its upload. */
  private joins = 0;
  private status: RoomStatus = { state: 'connecting', pending: 0, presence: null };
  private readonly unsubscribers: Array<() => void> = [];
  private fragments = new Map<string, { parts: Uint8Array[]; count: number; got: number }>();

  private readonly urls: string[];
  private urlIndex = 0;

  constructor(private readonly opts: RoomClientOptions) {
    this.urls = [opts.url, ...(opts.urls ?? []).filter((u) => u !== opts.url)];
    this.unsubscribers.push(opts.doc.subscribeLocalUpdates((bytes) => this.onLocalUpdate(bytes)));
    if (opts.presence) {
      this.unsubscribers.push(
        opts.presence.subscribeLocalUpdates((bytes) => {
          if (this.joined && this.status.presence) this.send({ type: MessageType.DocUpdate, crdt: CrdtType.LoroEphemeralStore, roomId: opts.roomId, updates: [bytes], batchId: newBatchId() });
        }),
      );
    }
    this.connect();
  }

  get current(): RoomStatus {
    return this.status;
  }

  /** The server URL in use (or being tried). */
  get url(): string {
    return this.urls[this.urlIndex];
  }

  /** Stops reconnecting and closes the socket. Local state stays in the doc. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    for (const u of this.unsubscribers.splice(0)) u();
    if (this.ws) {
      this.ws.removeAllListeners();
      this.ws.on('error', () => undefined);
      this.ws.close();
    }
    this.ws = undefined;
    this.joined = false;
  }

  /** Reconnects now (e.g. after the server URL was fixed). */
  retryNow(): void {
    if (this.closed) return;
    clearTimeout(this.reconnectTimer);
    this.attempts = 0;
    if (!this.ws) this.connect();
  }

  /** Resolves once nothing is pending and we are joined (tests, benchmarks). */
  async whenSynced(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.joined && this.inFlight.size === 0 && this.offlineCommits === 0 && !this.backfillPending)) {
      if (Date.now() > deadline) throw new Error(`room ${this.opts.roomId}: not synced after ${timeoutMs} ms (${JSON.stringify(this.status)})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // ---- connection ----------------------------------------------------------

  private connect(): void {
    if (this.closed) return;
    // Retrying after a failure stays "offline" (with its pending count) rather than flickering to "connecting".
    if (this.status.state !== 'offline' && this.status.state !== 'error') this.setStatus({ state: this.everJoined ? 'offline' : 'connecting' });
    const ws = new WebSocket(this.url, { handshakeTimeout: 10_000, ...(this.opts.ca ? { ca: this.opts.ca } : {}) });
    ws.binaryType = 'nodebuffer';
    this.ws = ws;
    ws.on('open', () => this.onOpen());
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('error', (err) => this.opts.log?.(`sync ${this.opts.roomId}: socket error: ${err.message}`));
    ws.on('close', () => this.onClose(ws));
  }

  /** Joins the document's room (a fresh token when `auth` mints one per join); returns the auth bytes sent. */
  private sendJoin(): Uint8Array {
    const { doc, roomId } = this.opts;
    const payload = typeof this.opts.auth === 'function' ? this.opts.auth() : this.opts.auth;
    const auth = new TextEncoder().encode(JSON.stringify(payload));
    this.send({ type: MessageType.JoinRequest, crdt: CrdtType.Loro, roomId, auth, version: doc.oplogVersion().encode() });
    return auth;
  }

  private onOpen(): void {
    const { roomId } = this.opts;
    const auth = this.sendJoin();
    if (this.opts.presence) this.send({ type: MessageType.JoinRequest, crdt: CrdtType.LoroEphemeralStore, roomId, auth, version: new Uint8Array() });
    clearInterval(this.pingTimer);
    this.awaitingPong = false;
    this.pingTimer = setInterval(() => this.ping(), this.opts.pingMs ?? 15_000);
    this.pingTimer.unref?.();
  }

  private ping(): void {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.awaitingPong) {
      this.opts.log?.(`sync ${this.opts.roomId}: no pong, reconnecting`);
      this.ws.terminate();
      return;
    }
    this.awaitingPong = true;
    this.ws.send('ping');
  }

  private onClose(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    clearInterval(this.pingTimer);
    const wasJoined = this.joined;
    this.joined = false;
    // Unacked batches are uploaded again on rejoin (exported from the server's version).
    this.offlineCommits += this.inFlight.size;
    this.inFlight.clear();
    this.fragments.clear();
    if (this.closed) return;
    if (this.status.state !== 'error') this.setStatus({ state: 'offline', detail: wasJoined ? 'connection lost' : `cannot reach ${this.url}`, presence: null });
    const base = this.opts.initialBackoffMs ?? 500;
    // With several servers, the next one is tried at once; back off per full round.
    const n = this.urls.length;
    if (n > 1) this.urlIndex = (this.urlIndex + 1) % n;
    const round = Math.floor(this.attempts / n);
    const delay = n > 1 && this.attempts % n !== n - 1 ? 0 : Math.min(this.opts.maxBackoffMs ?? 5_000, base * 2 ** Math.min(round, 10)) * (0.75 + Math.random() * 0.5);
    this.attempts++;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.reconnectTimer.unref?.();
  }

  // ---- messages ------------------------------------------------------------

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      const text = data.toString('utf8');
      if (text === 'pong') this.awaitingPong = false;
      else if (text.startsWith('{')) this.onServerError(text);
      return;
    }
    let msg: ProtocolMessage;
    try {
      msg = decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } catch (err) {
      this.opts.log?.(`sync ${this.opts.roomId}: undecodable frame: ${String(err)}`);
      return;
    }
    if (msg.roomId !== this.opts.roomId) return;
    const eph = msg.crdt === CrdtType.LoroEphemeralStore;
    switch (msg.type) {
      case MessageType.JoinResponseOk:
        if (eph) {
          this.setStatus({ presence: true });
          this.send({ type: MessageType.DocUpdate, crdt: CrdtType.LoroEphemeralStore, roomId: this.opts.roomId, updates: [this.opts.presence!.encodeAll()], batchId: newBatchId() });
        } else this.onJoined(msg.version, msg.permission);
        return;
      case MessageType.JoinError:
        if (eph) this.setStatus({ presence: false });
        else this.fail(`join refused: ${msg.message}`);
        return;
      case MessageType.DocUpdate:
        if (eph) {
          for (const u of msg.updates) this.opts.presence?.apply(u);
        } else this.importRemote(msg.updates);
        return;
      case MessageType.DocUpdateFragmentHeader:
        this.fragments.set(msg.batchId, { parts: new Array(msg.fragmentCount), count: msg.fragmentCount, got: 0 });
        return;
      case MessageType.DocUpdateFragment: {
        const f = this.fragments.get(msg.batchId);
        if (!f || f.parts[msg.index]) return;
        f.parts[msg.index] = msg.fragment;
        if (++f.got < f.count) return;
        this.fragments.delete(msg.batchId);
        const whole = Buffer.concat(f.parts);
        if (eph) this.opts.presence?.apply(whole);
        else this.importRemote([new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength)]);
        return;
      }
      case MessageType.Ack:
        if (!eph) this.onAck(msg.refId, msg.status);
        return;
      case MessageType.RoomError:
        this.opts.log?.(`sync ${this.opts.roomId}: room error ${msg.code}: ${msg.message}`);
        if (!eph && msg.code === RoomErrorCode.RejoinSuggested && this.joined) {
          // The server lacks something we sent (refused, or its dependencies are missing):
          // join again on this socket; the join uploads what the server's version lacks.
          this.rejoinInPlace = true;
          this.sendJoin();
        } else this.ws?.close();
        return;
      default:
        return;
    }
  }

  private onJoined(serverVersion: Uint8Array, permission: string): void {
    const { doc } = this.opts;
    this.joined = true;
    this.attempts = 0;
    this.joins++;
    // "Back online" only after having been offline (a first join just uploads the notebook).
    const wasOffline = !this.rejoinInPlace && (this.everJoined || this.status.state === 'offline');
    this.rejoinInPlace = false;
    this.everJoined = true;
    let serverVV: VersionVector | undefined;
    try {
      serverVV = serverVersion.length > 0 ? VersionVector.decode(serverVersion) : undefined;
    } catch {
      serverVV = undefined;
    }
    const ours = doc.oplogVersion();
    const cmp = serverVV ? ours.compare(serverVV) : 1;
    // The server backfills what we lack right after the join response.
    this.backfillPending = serverVV !== undefined && (cmp === undefined || cmp < 0);
    const localOps = serverVV ? countMissing(ours, serverVV) : totalOps(ours);
    this.offlineCommits = 0;
    if (permission === 'write' && localOps > 0) {
      const update = serverVV ? doc.export({ mode: 'update', from: serverVV }) : doc.export({ mode: 'update' });
      this.sendUpdate(update);
    }
    this.mergeReport = wasOffline ? { localOps: permission === 'write' ? localOps : 0, remoteOps: 0 } : undefined;
    this.setStatus({ state: 'connected', detail: permission === 'write' ? undefined : 'read-only' });
    if (!this.backfillPending) this.reportMerge();
  }

  private importRemote(updates: Uint8Array[]): void {
    const before = this.opts.doc.oplogVersion();
    for (const u of updates) {
      try {
        this.opts.doc.import(u);
      } catch (err) {
        this.opts.log?.(`sync ${this.opts.roomId}: cannot import a remote update: ${String(err)}`);
      }
    }
    const got = countMissing(this.opts.doc.oplogVersion(), before);
    if (this.backfillPending) {
      this.backfillPending = false;
      if (this.mergeReport) this.mergeReport.remoteOps += got;
      this.reportMerge();
    }
    this.opts.onRemote?.();
  }

  private reportMerge(): void {
    const m = this.mergeReport;
    this.mergeReport = undefined;
    if (m && (m.localOps > 0 || m.remoteOps > 0)) this.setStatus({ merged: m });
  }

  private onLocalUpdate(bytes: Uint8Array): void {
    if (this.joined && this.status.detail !== 'read-only') this.sendUpdate(bytes);
    else this.offlineCommits++;
    this.setStatus({});
  }

  private sendUpdate(update: Uint8Array): void {
    const batchId = newBatchId();
    this.inFlight.set(batchId, update);
    const roomId = this.opts.roomId;
    if (update.length <= FRAGMENT_BYTES) {
      this.send({ type: MessageType.DocUpdate, crdt: CrdtType.Loro, roomId, updates: [update], batchId });
    } else {
      const count = Math.ceil(update.length / FRAGMENT_BYTES);
      this.send({ type: MessageType.DocUpdateFragmentHeader, crdt: CrdtType.Loro, roomId, batchId, fragmentCount: count, totalSizeBytes: update.length });
      for (let i = 0; i < count; i++) {
        this.send({ type: MessageType.DocUpdateFragment, crdt: CrdtType.Loro, roomId, batchId, index: i, fragment: update.subarray(i * FRAGMENT_BYTES, (i + 1) * FRAGMENT_BYTES) });
      }
    }
    this.setStatus({});
  }

  private onAck(refId: HexString, status: number): void {
    const update = this.inFlight.get(refId);
    if (!update) return;
    this.inFlight.delete(refId);
    if (status === UpdateStatusCode.Ok) {
      if (this.status.state === 'error') this.setStatus({ state: 'connected', detail: undefined });
      else this.setStatus({});
      return;
    }
    if (status === UpdateStatusCode.PermissionDenied) return this.fail('the server refused our changes (read-only access)');
    if (status === UpdateStatusCode.InvalidUpdate || status === UpdateStatusCode.PayloadTooLarge) return this.fail(`the server rejected an update (status ${status})`);
    // Not durable yet, rate limited, fragment timeout: try again shortly.
    this.offlineCommits++;
    this.setStatus({ detail: `server busy (status ${status}); retrying` });
    const joins = this.joins;
    const t = setTimeout(() => {
      if (!this.joined || this.closed || joins !== this.joins) return; // a later join uploaded it
      this.offlineCommits = Math.max(0, this.offlineCommits - 1);
      this.sendUpdate(update);
    }, 1000);
    t.unref?.();
  }

  /** The server explains a refusal in a JSON text frame ({"type":"error","code","message"}) next to the ack. */
  private lastServerError: string | undefined;
  private onServerError(text: string): void {
    try {
      const e = JSON.parse(text) as { type?: unknown; code?: unknown; message?: unknown };
      if (e.type !== 'error' || typeof e.message !== 'string') return;
      this.lastServerError = e.message.slice(0, 300);
      this.opts.log?.(`sync ${this.opts.roomId}: server says: ${e.code}: ${this.lastServerError}`);
      if (this.status.state === 'error' && this.failBase) this.setStatus({ detail: `${this.failBase}: ${this.lastServerError}` });
    } catch {
      /* not JSON: ignore */
    }
  }

  private failBase: string | undefined;
  private fail(detail: string): void {
    this.failBase = detail;
    this.setStatus({ state: 'error', detail });
  }

  private send(msg: ProtocolMessage): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(encode(msg));
  }

  private setStatus(patch: Partial<RoomStatus>): void {
    const merged = 'merged' in patch ? patch.merged : undefined;
    this.status = { ...this.status, ...patch, pending: this.inFlight.size + this.offlineCommits, merged };
    this.opts.onStatus?.(this.status);
  }
}

/** Ops in `a` that `b` lacks. */
function countMissing(a: VersionVector, b: VersionVector): number {
  let n = 0;
  const bm = b.toJSON();
  for (const [peer, end] of a.toJSON()) n += Math.max(0, end - (bm.get(peer) ?? 0));
  return n;
}

function totalOps(v: VersionVector): number {
  let n = 0;
  for (const end of v.toJSON().values()) n += end;
  return n;
}
