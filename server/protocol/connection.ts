// One websocket connection speaking loro-protocol: join / leave rooms, receive
// (possibly fragmented) updates, ack them once durable, relay to the room.
// Frames that cannot be decoded get a JSON text frame
// {"type":"error","code":...,"message":...} (the stock client ignores text
// frames other than ping/pong) and the connection stays open until too many.
import {
  CrdtType,
  JoinErrorCode,
  MAX_MESSAGE_SIZE,
  MessageType,
  RoomErrorCode,
  UpdateStatusCode,
  decode,
  type DocUpdate,
  type DocUpdateFragment,
  type DocUpdateFragmentHeader,
  type HexString,
  type JoinRequest,
  type Permission,
  type ProtocolMessage,
} from 'loro-protocol';
import { VersionVector } from 'loro-crdt';
import type { WebSocket, RawData } from 'ws';
import { AuthError, type AuthHook, type AuthResult } from '../auth';
import type { Logger } from '../log';
import type { LimitSettings } from '../options';
import type { Room, RoomMember } from '../rooms/room';
import type { SyncCore } from '../rooms/syncCore';
import { errText } from '../rooms/updateInfo';
import { InvalidIdError, MAX_ROOM_ID_BYTES, parseRoomId } from './roomId';
import { sendMessage, sendUpdates, setSendLimit } from './send';
import { DEFAULT_BRANCH } from './roomId';
import { WAL_FULL_CODE } from '../wal/walLimit';
import type { PresenceHub, PresenceMember } from '../rooms/presence';
import { KeyedBuckets, RateLimiter, TokenBucket, addDocBytes, docSize } from './limits';
import { ReadPacer } from './readPacing';

interface Membership {
  room: Room;
  /** The room id as this client spelled it (doc vs doc@main). */
  wireId: string;
  permission: Permission;
  author: string;
  /** The grant ends here (ms since the epoch): later writes are refused. */
  expiresAt?: number;
  /** Shared storage byte quota (one token over all its connections). */
  quotaKey?: string;
  /** RejoinSuggested was sent since this join (a new join makes a new Membership). */
  rejoinSuggested?: boolean;
}

/** State shared by every connection of one server (limits over connections). */
export interface SharedLimits {
  /** Joins per remote address. */
  joins: KeyedBuckets;
  /** Stored bytes per token. */
  tokenBytes: KeyedBuckets;
  /** Bytes announced by open fragmented updates, over all connections. */
  fragments: { held: number };
  /** Bytes read per remote address (read pacing). */
  reads: KeyedBuckets;
}

export function sharedLimits(limits: LimitSettings): SharedLimits {
  return {
    joins: new KeyedBuckets(limits.maxJoinsPerSecondPerAddress, limits.rateBurstSeconds),
    tokenBytes: new KeyedBuckets(limits.maxTokenBytesPerSecond, limits.rateBurstSeconds),
    fragments: { held: 0 },
    reads: new KeyedBuckets(limits.maxReadBytesPerSecondPerAddress, 1),
  };
}

interface FragmentBatch {
  header: DocUpdateFragmentHeader;
  parts: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  timer: NodeJS.Timeout;
}

const MAX_OPEN_FRAGMENT_BATCHES = 8;
let nextConnectionId = 1;

/**
 * A timer callback that runs `fn` once the input already waiting in the
 * sockets has been read: a busy event loop fires timers late, in its timers
 * phase, before the poll phase reads what arrived meanwhile (a JoinRequest,
 * a pong), and a check of what the client sent must see it.
 */
function afterWaitingInput(fn: () => void): () => void {
  return () => void setImmediate(fn);
}

export class Connection implements RoomMember, PresenceMember {
  readonly id = nextConnectionId++;
  private memberships = new Map<string, Membership>(); // by wire room id
  /** Presence (%EPH) rooms: wire room id -> room key and permission. */
  private presence = new Map<string, { key: string; permission: Permission; expiresAt?: number }>();
  private fragments = new Map<string, FragmentBatch>();
  private protocolErrors = 0;
  private closed = false;
  private readonly rate: RateLimiter;
  /** Updates refused for the rate limit since the last accepted one. */
  private rateStrikes = 0;
  private readonly joinRate: TokenBucket | null;
  /** Joins admitted but not finished (auth, room load): they count against maxRoomsPerConnection. */
  private pendingJoins = new Set<string>();
  /** Bytes announced by this connection's open fragmented updates. */
  private fragmentBytes = 0;
  private timers: NodeJS.Timeout[] = [];
  private alive = true;
  private readonly pacer: ReadPacer;
  /** Reading is stopped until this timer fires (read pacing). */
  private readPause: NodeJS.Timeout | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly core: SyncCore,
    private readonly auth: AuthHook,
    private readonly limits: LimitSettings,
    private readonly log: Logger,
    private readonly presenceHub: PresenceHub,
    private readonly shared: SharedLimits = sharedLimits(limits),
    private readonly address = 'unknown',
  ) {
    this.rate = new RateLimiter(limits.maxUpdatesPerSecond, limits.maxBytesPerSecond, limits.rateBurstSeconds);
    this.pacer = new ReadPacer(limits.maxReadBytesPerSecond, this.shared.reads, address);
    this.joinRate = limits.maxJoinsPerSecond > 0 ? new TokenBucket(limits.maxJoinsPerSecond, limits.maxJoinsPerSecond * Math.max(1, limits.rateBurstSeconds)) : null;
    ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    ws.on('close', () => this.onClose());
    ws.on('error', (err) => this.log.debug('socket error', { conn: this.id, error: err.message }));
    ws.on('pong', () => (this.alive = true));
    // Outgoing backpressure: a reader that lets this much pile up is dropped (its socket, not the server's memory).
    setSendLimit(ws, limits.maxQueuedBytesPerConnection, (queued) => {
      this.log.warn('disconnecting a slow reader', { conn: this.id, address: this.address, queuedBytes: queued, limit: limits.maxQueuedBytesPerConnection });
      ws.terminate();
    });
    if (limits.joinDeadlineMs > 0) {
      // A join being served counts (a slow room load), and so does a JoinRequest still waiting in
      // the socket (afterWaitingInput). A join still being served is looked at again one deadline later (it may be refused).
      const check = afterWaitingInput(() => {
        if (this.memberships.size > 0 || this.presence.size > 0 || this.closed) return;
        if (this.pendingJoins.size > 0) return void this.timer(setTimeout(check, limits.joinDeadlineMs));
        this.log.warn('closing a socket that joined no room in time', { conn: this.id, address: this.address, limit: limits.joinDeadlineMs });
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'error', code: 'join_deadline', message: `no room joined within ${limits.joinDeadlineMs} ms of connecting (joinDeadlineMs); connect again when you join`, limit: 'joinDeadlineMs', value: limits.joinDeadlineMs }));
        ws.close(1008, 'no room joined in time (joinDeadlineMs)');
        this.timer(setTimeout(() => ws.terminate(), 2000));
      });
      this.timer(setTimeout(check, limits.joinDeadlineMs));
    }
    if (limits.pingIntervalMs > 0) {
      // Any frame counts as an answer (onFrame), a pong still waiting in the socket too (afterWaitingInput).
      this.timer(setInterval(afterWaitingInput(() => {
        if (this.closed) return;
        if (!this.alive) {
          this.log.info('closing a socket that did not answer a ping', { conn: this.id, address: this.address });
          ws.terminate();
          return;
        }
        this.alive = false;
        if (ws.readyState === ws.OPEN) ws.ping();
      }), limits.pingIntervalMs));
    }
  }

  /** Keep a timer (unref'd) to clear when the connection ends. */
  private timer(t: NodeJS.Timeout): void {
    t.unref?.();
    this.timers.push(t);
  }

  get roomCount(): number {
    return this.memberships.size;
  }

  deliverPresence(key: string, updates: Uint8Array[], batchId: HexString): void {
    for (const [wireId, p] of this.presence) if (p.key === key) sendUpdates(this.ws, wireId, updates, batchId, CrdtType.LoroEphemeralStore);
  }

  deliver(room: Room, updates: Uint8Array[], batchId: HexString): void {
    for (const m of this.memberships.values()) if (m.room === room) sendUpdates(this.ws, m.wireId, updates, batchId);
  }

  /**
   * RoomError RejoinSuggested: loro-protocol's way to make a client (the
   * stock one too) rejoin, and so send what the server's version lacks.
   */
  suggestRejoin(room: Room, message: string): void {
    for (const m of this.memberships.values()) {
      if (m.room !== room) continue;
      // Once per join: a client that rejoins on each suggestion would send a
      // second JoinRequest while the first is in progress, which is refused
      // (join_in_progress), and the stock client then gives up on the room.
      if (m.rejoinSuggested || this.pendingJoins.has(m.wireId)) continue;
      m.rejoinSuggested = true;
      sendMessage(this.ws, { type: MessageType.RoomError, crdt: CrdtType.Loro, roomId: m.wireId, code: RoomErrorCode.RejoinSuggested, message });
    }
  }

  // ---- framing ----------------------------------------------------------

  /**
   * Stop reading this socket while its client is over its reading budget
   * (readPacing.ts), or while the database flush is behind (SyncCore.backlogFull).
   */
  private pace(frameBytes: number): void {
    this.core.metrics.bytesRead += frameBytes;
    const wait = this.pacer.charge(frameBytes);
    if (this.readPause) return;
    if (wait > 0) {
      this.core.metrics.readPauses++;
      this.pauseReading(wait);
    } else if (this.core.backlogFull()) {
      this.core.metrics.backlogPauses++;
      this.pauseReading(1000, this.core.flushEnded());
    }
  }

  /** At most a second at a time (or until `until`): the budgets are looked at again with the next frame. */
  private pauseReading(ms: number, until?: Promise<void>): void {
    this.ws.pause();
    const resume = () => {
      if (this.readPause !== timer) return; // this pause already ended
      clearTimeout(timer);
      this.readPause = null;
      if (!this.closed) this.ws.resume();
    };
    const timer = setTimeout(resume, Math.min(1000, Math.ceil(ms)));
    timer.unref?.();
    this.readPause = timer;
    void until?.then(resume, resume);
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    // Frames that arrive after the socket was dropped (slow reader, deadline) are not worth any work.
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.alive = true;
    const bytes = toBytes(data);
    this.pace(bytes.length);
    if (!isBinary) {
      const text = Buffer.from(bytes).toString('utf8');
      if (text === 'ping') {
        if (this.ws.readyState === this.ws.OPEN) this.ws.send('pong');
        return;
      }
      if (text === 'pong') return;
      this.protocolError('unexpected_text', 'text frames other than "ping"/"pong" are not part of the protocol');
      return;
    }
    let msg: ProtocolMessage;
    try {
      msg = decode(bytes);
    } catch (err) {
      this.protocolError('malformed_frame', `cannot decode loro-protocol message: ${errText(err)}`);
      return;
    }
    if (bytes.length > MAX_MESSAGE_SIZE) {
      // Too large for one protocol message: clients must fragment.
      if (msg.type === MessageType.DocUpdate || msg.type === MessageType.DocUpdateFragment) {
        this.refuse(msg.roomId, msg.batchId, UpdateStatusCode.PayloadTooLarge, 'message_too_large', `message of ${bytes.length} bytes exceeds the protocol's ${MAX_MESSAGE_SIZE}; send larger updates as fragments`, { limit: 'MAX_MESSAGE_SIZE', value: MAX_MESSAGE_SIZE }, msg.crdt);
        if (msg.type === MessageType.DocUpdateFragment) this.dropFragments(msg.batchId);
      } else this.protocolError('payload_too_large', `message of ${bytes.length} bytes exceeds ${MAX_MESSAGE_SIZE}`);
      return;
    }
    void this.handle(msg).catch((err) => {
      this.log.error('unexpected error handling message', { conn: this.id, type: msg.type, error: errText(err) });
      // Every update gets an answer, even when handling it failed unexpectedly.
      if (msg.type === MessageType.DocUpdate || msg.type === MessageType.DocUpdateFragment) this.refuse(msg.roomId, msg.batchId, UpdateStatusCode.AppError, 'server_error', `the server could not handle this update: ${errText(err)}`, {}, msg.crdt);
    });
  }

  private protocolError(code: string, message: string): void {
    this.protocolErrors++;
    this.core.metrics.protocolErrors++;
    this.log.warn('protocol error', { conn: this.id, code, message });
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify({ type: 'error', code, message }));
    if (this.protocolErrors > this.limits.maxProtocolErrors) this.ws.close(1002, 'too many protocol errors');
  }

  private async handle(msg: ProtocolMessage): Promise<void> {
    if (msg.crdt === CrdtType.LoroEphemeralStore) return this.handlePresence(msg);
    if (msg.crdt !== CrdtType.Loro) {
      if (msg.type === MessageType.JoinRequest) this.joinError(msg, JoinErrorCode.AppError, `crdt type ${msg.crdt} is not supported; only ${CrdtType.Loro}`, 'unsupported_crdt');
      else if (msg.type === MessageType.DocUpdate || msg.type === MessageType.DocUpdateFragmentHeader) this.ack(msg.roomId, msg.batchId, UpdateStatusCode.PermissionDenied, msg.crdt);
      return;
    }
    switch (msg.type) {
      case MessageType.JoinRequest:
        return this.onJoin(msg);
      case MessageType.DocUpdate:
        return this.onUpdate(msg);
      case MessageType.DocUpdateFragmentHeader:
        return this.onFragmentHeader(msg);
      case MessageType.DocUpdateFragment:
        return this.onFragment(msg);
      case MessageType.Leave:
        return this.onLeave(msg.roomId);
      case MessageType.Ack:
        if (msg.status !== UpdateStatusCode.Ok) this.log.warn('client could not apply an update', { conn: this.id, room: msg.roomId, refId: msg.refId, status: msg.status });
        return;
      default:
        this.protocolError('unexpected_message', `message type ${msg.type} is only sent by servers`);
    }
  }

  // ---- presence (%EPH): relayed, never stored ---------------------------

  private async handlePresence(msg: ProtocolMessage): Promise<void> {
    const eph = CrdtType.LoroEphemeralStore;
    if (msg.type === MessageType.JoinRequest) {
      let ref;
      try {
        ref = parseRoomId(msg.roomId);
      } catch (err) {
        this.joinError(msg, JoinErrorCode.AppError, err instanceof InvalidIdError ? err.message : errText(err), 'invalid_room_id');
        return;
      }
      if (!this.withinJoinRate(msg)) return;
      if (!this.presence.has(msg.roomId) && this.presence.size >= this.limits.maxRoomsPerConnection) {
        this.joinError(msg, JoinErrorCode.AppError, `at most ${this.limits.maxRoomsPerConnection} rooms per connection`, 'too_many_rooms');
        return;
      }
      const decision = await this.authorize(msg, ref);
      if (!decision || this.closed) return;
      const prev = this.presence.get(msg.roomId);
      if (prev) this.presenceHub.leave(prev.key, this);
      this.presence.set(msg.roomId, { key: ref.key, permission: decision.permission, expiresAt: decision.expiresAt });
      const current = this.presenceHub.join(ref.key, this);
      sendMessage(this.ws, { type: MessageType.JoinResponseOk, crdt: eph, roomId: msg.roomId, permission: decision.permission, version: new Uint8Array() });
      if (current) sendUpdates(this.ws, msg.roomId, [current], undefined, eph);
      return;
    }
    if (msg.type === MessageType.DocUpdate) {
      // Read-only members may publish presence (who is here, which cell): it is
      // relayed, never stored, and does not change the document.
      const p = this.presence.get(msg.roomId);
      if (!p) {
        this.refuse(msg.roomId, msg.batchId, UpdateStatusCode.PermissionDenied, 'not_joined', `join presence room ${msg.roomId} before sending to it`, {}, eph);
        return;
      }
      if (p.expiresAt !== undefined && Date.now() >= p.expiresAt) {
        this.refuse(msg.roomId, msg.batchId, UpdateStatusCode.PermissionDenied, 'token_expired', expiredMessage(p.expiresAt), {}, eph);
        return;
      }
      if (!this.withinRate(msg.roomId, msg.batchId, msg.updates.length, msg.updates.reduce((n, u) => n + u.length, 0), eph)) return;
      try {
        this.presenceHub.update(p.key, this, msg.updates);
      } catch (err) {
        this.log.warn('invalid presence update rejected', { conn: this.id, room: msg.roomId, reason: errText(err) });
        this.ack(msg.roomId, msg.batchId, UpdateStatusCode.InvalidUpdate, eph);
        return;
      }
      this.ack(msg.roomId, msg.batchId, UpdateStatusCode.Ok, eph);
      return;
    }
    if (msg.type === MessageType.Leave) {
      const p = this.presence.get(msg.roomId);
      if (p) {
        this.presence.delete(msg.roomId);
        this.presenceHub.leave(p.key, this);
      }
      return;
    }
    if (msg.type === MessageType.DocUpdateFragmentHeader) {
      this.ack(msg.roomId, msg.batchId, UpdateStatusCode.PayloadTooLarge, eph);
      return;
    }
    if (msg.type === MessageType.Ack || msg.type === MessageType.DocUpdateFragment) return;
    this.protocolError('unexpected_message', `message type ${msg.type} is only sent by servers`);
  }

  // ---- join / leave -----------------------------------------------------

  private async onJoin(msg: JoinRequest): Promise<void> {
    let ref;
    try {
      ref = parseRoomId(msg.roomId);
    } catch (err) {
      const m = err instanceof InvalidIdError ? err.message : errText(err);
      this.joinError(msg, JoinErrorCode.AppError, m, 'invalid_room_id');
      return;
    }
    if (!this.withinJoinRate(msg)) return;
    // Joins still being authorized or loaded count too: the limit holds for back-to-back JoinRequests.
    if (this.pendingJoins.has(msg.roomId)) {
      this.joinError(msg, JoinErrorCode.AppError, `a join of room ${msg.roomId} is already in progress on this connection`, 'join_in_progress');
      return;
    }
    if (!this.memberships.has(msg.roomId) && this.memberships.size + this.pendingJoins.size >= this.limits.maxRoomsPerConnection) {
      this.joinError(msg, JoinErrorCode.AppError, `at most ${this.limits.maxRoomsPerConnection} rooms per connection (maxRoomsPerConnection)`, 'too_many_rooms');
      return;
    }
    let clientVV: VersionVector | null = null;
    if (msg.version.length > 0) {
      try {
        clientVV = VersionVector.decode(msg.version);
      } catch (err) {
        this.joinError(msg, JoinErrorCode.VersionUnknown, `cannot decode the version vector: ${errText(err)}`);
        return;
      }
    }
    this.pendingJoins.add(msg.roomId);
    try {
      const decision = await this.authorize(msg, ref);
      if (!decision) return;
      let room: Room;
      try {
        room = await this.core.getRoom(ref);
      } catch (err) {
        this.log.error('room load failed', { room: ref.key, error: errText(err) });
        this.joinError(msg, JoinErrorCode.Unknown, `cannot load room: ${errText(err)}`, 'storage_unavailable');
        return;
      }
      if (this.closed) return;
      // Only writers create branches: a read token cannot make the server hold rooms for made-up names.
      if (decision.permission !== 'write' && ref.branch !== DEFAULT_BRANCH && !roomExists(room)) {
        if (room.members.size === 0) this.core.leave(room, this);
        this.joinError(msg, JoinErrorCode.AppError, `branch ${JSON.stringify(ref.branch)} of document ${JSON.stringify(ref.docId)} does not exist, and a read-only token cannot create it`, 'unknown_branch');
        return;
      }
      const previous = this.memberships.get(msg.roomId);
      if (previous && previous.room !== room) this.core.leave(previous.room, this);
      this.memberships.set(msg.roomId, { room, wireId: msg.roomId, permission: decision.permission, author: decision.author ?? 'anonymous', expiresAt: decision.expiresAt, quotaKey: decision.quotaKey });
      this.core.join(room, this);
      const serverVV = room.doc.oplogVersion();
      sendMessage(this.ws, { type: MessageType.JoinResponseOk, crdt: CrdtType.Loro, roomId: msg.roomId, permission: decision.permission, version: serverVV.encode() });
      // Backfill: only what the client's version lacks.
      const cmp = clientVV ? clientVV.compare(serverVV) : -1;
      if (cmp === undefined || cmp < 0) {
        const delta = clientVV ? room.doc.export({ mode: 'update', from: clientVV }) : snapshotOf(room);
        sendUpdates(this.ws, msg.roomId, [delta]);
      }
      serverVV.free();
    } finally {
      this.pendingJoins.delete(msg.roomId);
      clientVV?.free();
    }
  }

  /** Join rate of this connection and of its address; refuses the join when over either. */
  private withinJoinRate(msg: JoinRequest): boolean {
    const perConn = !this.joinRate || this.joinRate.take(1);
    const perAddr = perConn && this.shared.joins.take(this.address, 1);
    if (perConn && perAddr) return true;
    const [limit, value] = perConn ? ['maxJoinsPerSecondPerAddress', this.limits.maxJoinsPerSecondPerAddress] : ['maxJoinsPerSecond', this.limits.maxJoinsPerSecond];
    this.joinError(msg, JoinErrorCode.AppError, `join rate limit: at most ${value} joins per second ${perConn ? 'per address' : 'per connection'} (${limit}); wait and join again`, 'join_rate_limited');
    return false;
  }

  private onLeave(wireId: string): void {
    const m = this.memberships.get(wireId);
    if (!m) return;
    this.memberships.delete(wireId);
    if (![...this.memberships.values()].some((o) => o.room === m.room)) this.core.leave(m.room, this);
  }

  private onClose(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    if (this.readPause) clearTimeout(this.readPause);
    for (const p of this.presence.values()) this.presenceHub.leave(p.key, this);
    this.presence.clear();
    for (const k of [...this.fragments.keys()]) this.removeBatch(k);
    const rooms = new Set([...this.memberships.values()].map((m) => m.room));
    this.memberships.clear();
    for (const r of rooms) this.core.leave(r, this);
  }

  // ---- updates ----------------------------------------------------------

  /** Membership with write permission, or the ack status refusing it. */
  private writable(wireId: string): Membership | UpdateStatusCode {
    const m = this.memberships.get(wireId);
    if (!m) return UpdateStatusCode.PermissionDenied; // not joined
    if (m.permission !== 'write') return UpdateStatusCode.PermissionDenied;
    if (m.expiresAt !== undefined && Date.now() >= m.expiresAt) return UpdateStatusCode.PermissionDenied; // checked on every write
    return m;
  }

  private async onUpdate(msg: DocUpdate): Promise<void> {
    // Rate first: refused writes (read-only, not joined) count too, so spamming them ends in 1008.
    if (!this.withinRate(msg.roomId, msg.batchId, msg.updates.length, msg.updates.reduce((n, u) => n + u.length, 0))) return;
    const m = this.writable(msg.roomId);
    if (typeof m === 'number') return this.refuseWrite(msg.roomId, msg.batchId, m);
    await this.applyUpdates(m, msg.updates, msg.batchId);
  }

  /** Ack PermissionDenied plus a text frame saying why (not joined, or read-only). */
  private refuseWrite(roomId: string, batchId: HexString, status: UpdateStatusCode): void {
    const m = this.memberships.get(roomId);
    const joined = !!m;
    if (m && m.permission === 'write' && m.expiresAt !== undefined) {
      this.log.warn('update refused', { conn: this.id, room: roomId.slice(0, 120), reason: 'token expired' });
      this.refuse(roomId, batchId, status, 'token_expired', expiredMessage(m.expiresAt));
      return;
    }
    this.log.warn('update refused', { conn: this.id, room: roomId.slice(0, 120), reason: joined ? 'read-only' : 'not joined' });
    if (joined) this.refuse(roomId, batchId, status, 'read_only', `you joined room ${roomId} read-only: updates are refused, not relayed and not stored`);
    else this.refuse(roomId, batchId, status, 'not_joined', `join room ${roomId} before sending updates to it`);
  }

  /** Rate limit of this connection; refuses (and after too many strikes closes) when over it. */
  private withinRate(roomId: string, batchId: HexString, count: number, bytes: number, crdt: CrdtType = CrdtType.Loro): boolean {
    const over = this.rate.check(count, bytes);
    if (!over) {
      this.rateStrikes = 0;
      return true;
    }
    this.rateStrikes++;
    const unit = over.limit === 'maxUpdatesPerSecond' ? 'updates' : 'bytes';
    this.refuse(roomId, batchId, UpdateStatusCode.RateLimited, 'rate_limited', `rate limit: at most ${over.value} ${unit} per second per connection (${over.limit}); slow down and resend`, { limit: over.limit, value: over.value }, crdt);
    if (this.rateStrikes === 1) this.log.warn('rate limit exceeded', { conn: this.id, room: roomId.slice(0, 120), limit: over.limit, value: over.value });
    if (this.rateStrikes >= this.limits.maxRateLimitStrikes) {
      this.log.warn('closing a connection that keeps exceeding the rate limit', { conn: this.id, strikes: this.rateStrikes });
      this.ws.close(1008, `rate limit exceeded ${this.rateStrikes} times in a row (${over.limit} ${over.value})`);
    }
    return false;
  }

  private async applyUpdates(m: Membership, updates: Uint8Array[], batchId: HexString): Promise<void> {
    // Reject the whole batch before importing anything if one part is garbage.
    let total = 0;
    for (const u of updates) {
      total += u.length;
      if (u.length > this.limits.maxUpdateBytes) {
        this.refuse(m.wireId, batchId, UpdateStatusCode.PayloadTooLarge, 'update_too_large', `update of ${u.length} bytes exceeds maxUpdateBytes ${this.limits.maxUpdateBytes}`, { limit: 'maxUpdateBytes', value: this.limits.maxUpdateBytes });
        return;
      }
      // Several updates in one message: each is decoded before any is imported, so the message is refused whole.
      const bad = this.core.validate(u, updates.length > 1);
      if (bad) {
        this.core.metrics.opsRejected++;
        this.log.warn('invalid update rejected', { conn: this.id, room: m.room.key, reason: bad, bytes: u.length });
        this.ack(m.wireId, batchId, UpdateStatusCode.InvalidUpdate);
        return;
      }
    }
    if (this.limits.maxDocBytes > 0) {
      const size = docSize(m.room);
      if (size + total > this.limits.maxDocBytes) {
        this.log.warn('document size limit reached', { conn: this.id, room: m.room.key, size, update: total, limit: this.limits.maxDocBytes });
        this.refuse(m.wireId, batchId, UpdateStatusCode.PayloadTooLarge, 'document_too_large', `document ${m.wireId} holds about ${size} bytes; this update of ${total} bytes would pass maxDocBytes ${this.limits.maxDocBytes}, so it is refused (the server operator can raise --max-doc-bytes; a checkpoint with compaction does not shrink it)`, { limit: 'maxDocBytes', value: this.limits.maxDocBytes });
        return;
      }
    }
    if (m.quotaKey && !this.shared.tokenBytes.take(m.quotaKey, total, true)) {
      this.log.warn('token storage quota reached', { conn: this.id, room: m.room.key, update: total, limit: this.limits.maxTokenBytesPerSecond });
      this.refuse(m.wireId, batchId, UpdateStatusCode.RateLimited, 'token_quota', `storage quota: a token may store at most ${this.limits.maxTokenBytesPerSecond} bytes per second over all its connections (maxTokenBytesPerSecond); slow down and resend`, { limit: 'maxTokenBytesPerSecond', value: this.limits.maxTokenBytesPerSecond });
      return;
    }
    const relay: Uint8Array[] = [];
    let status: UpdateStatusCode = UpdateStatusCode.Ok;
    let missing: string | null = null;
    for (const u of updates) {
      const res = await this.core.accept(m.room, u, m.author);
      if (res.kind === 'stored') {
        // Relay what the room gained (it may include ops of others that this update unblocked).
        relay.push(res.bytes);
        addDocBytes(m.room, res.bytes.length);
        missing ??= res.missing;
      } else if (res.kind === 'missing-deps') missing ??= res.reason;
      else if (res.kind === 'invalid') {
        this.log.warn('invalid update rejected', { conn: this.id, room: m.room.key, reason: res.reason });
        if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify({ type: 'error', code: 'invalid_update', room: m.wireId.slice(0, 200), batchId, status: UpdateStatusCode.InvalidUpdate, message: res.reason }));
        status = UpdateStatusCode.InvalidUpdate;
      } else if (res.kind === 'not-durable') status = UpdateStatusCode.AppError;
      else if (res.kind === 'wal-full') {
        // Refused before import: the ack says AppError, the error frame says why.
        this.log.warn('update refused: write-ahead file full', { conn: this.id, room: m.room.key });
        this.refuse(m.wireId, batchId, UpdateStatusCode.AppError, WAL_FULL_CODE, res.reason);
        m.room.refusedMembers.add(this); // told to rejoin once updates are accepted again
        if (relay.length) for (const member of m.room.members) if (member !== this) member.deliver(m.room, relay, batchId);
        return;
      }
    }
    if (missing) {
      // Not (all) in the document: never acked Ok. The rejoin makes the client send what the server lacks.
      this.log.warn('update waits for dependencies the room lacks; asking the client to rejoin', { conn: this.id, room: m.room.key });
      this.refuse(m.wireId, batchId, status === UpdateStatusCode.Ok ? UpdateStatusCode.AppError : status, 'missing_dependencies', `${missing}; rejoin and send what the server lacks`);
      this.suggestRejoin(m.room, 'an update depends on changes the server does not have: rejoin and send what it lacks');
    } else this.ack(m.wireId, batchId, status);
    if (relay.length) {
      for (const member of m.room.members) if (member !== this) member.deliver(m.room, relay, batchId);
    }
  }

  private onFragmentHeader(h: DocUpdateFragmentHeader): void {
    const m = this.writable(h.roomId);
    if (typeof m === 'number') {
      // Counted as one update (no bytes), so spamming refused writes ends in 1008 too.
      if (this.withinRate(h.roomId, h.batchId, 1, 0)) this.refuseWrite(h.roomId, h.batchId, m);
      return;
    }
    if (h.totalSizeBytes > this.limits.maxUpdateBytes) {
      this.refuse(h.roomId, h.batchId, UpdateStatusCode.PayloadTooLarge, 'update_too_large', `fragmented update of ${h.totalSizeBytes} bytes exceeds maxUpdateBytes ${this.limits.maxUpdateBytes}`, { limit: 'maxUpdateBytes', value: this.limits.maxUpdateBytes });
      return;
    }
    if (!this.withinRate(h.roomId, h.batchId, 1, Math.max(0, h.totalSizeBytes))) return;
    if (h.fragmentCount < 1 || h.totalSizeBytes < 1 || h.fragmentCount > h.totalSizeBytes || h.fragmentCount > Math.ceil(this.limits.maxUpdateBytes / 1024)) {
      this.log.warn('bad fragment header', { conn: this.id, room: h.roomId, fragmentCount: h.fragmentCount, totalSizeBytes: h.totalSizeBytes });
      this.ack(h.roomId, h.batchId, UpdateStatusCode.InvalidUpdate);
      return;
    }
    const key = `${h.roomId}\u0000${h.batchId}`;
    if (!this.fragments.has(key) && this.fragments.size >= MAX_OPEN_FRAGMENT_BATCHES) {
      this.refuse(h.roomId, h.batchId, UpdateStatusCode.RateLimited, 'too_many_fragmented', `at most ${MAX_OPEN_FRAGMENT_BATCHES} fragmented updates open per connection; finish one first`);
      return;
    }
    this.dropFragments(h.batchId, h.roomId);
    // Announced bytes are reserved up front, per connection and for the process, so fragments cannot pile up.
    const perConn = this.limits.maxFragmentBytesPerConnection;
    if (this.fragmentBytes + h.totalSizeBytes > perConn) {
      this.refuse(h.roomId, h.batchId, UpdateStatusCode.RateLimited, 'fragment_budget', `open fragmented updates on this connection would hold ${this.fragmentBytes + h.totalSizeBytes} bytes, more than maxFragmentBytesPerConnection ${perConn}; finish the open ones first`, { limit: 'maxFragmentBytesPerConnection', value: perConn });
      return;
    }
    const total = this.limits.maxFragmentBytesTotal;
    if (this.shared.fragments.held + h.totalSizeBytes > total) {
      this.log.warn('fragmented update refused: the server holds too many open fragments', { conn: this.id, held: this.shared.fragments.held, limit: total });
      this.refuse(h.roomId, h.batchId, UpdateStatusCode.RateLimited, 'server_busy', `the server holds ${this.shared.fragments.held} bytes of open fragmented updates (maxFragmentBytesTotal ${total}); resend later`, { limit: 'maxFragmentBytesTotal', value: total });
      return;
    }
    const timer = setTimeout(() => {
      this.removeBatch(key);
      this.ack(h.roomId, h.batchId, UpdateStatusCode.FragmentTimeout);
    }, this.limits.fragmentTimeoutMs);
    timer.unref?.();
    this.fragmentBytes += h.totalSizeBytes;
    this.shared.fragments.held += h.totalSizeBytes;
    this.fragments.set(key, { header: h, parts: new Array(h.fragmentCount), received: 0, bytes: 0, timer });
  }

  private async onFragment(f: DocUpdateFragment): Promise<void> {
    const key = `${f.roomId}\u0000${f.batchId}`;
    const batch = this.fragments.get(key);
    if (!batch) {
      this.ack(f.roomId, f.batchId, UpdateStatusCode.FragmentTimeout);
      return;
    }
    const fail = (status: UpdateStatusCode, why: string) => {
      this.log.warn('fragmented update rejected', { conn: this.id, room: f.roomId, batchId: f.batchId, why });
      this.removeBatch(key);
      this.ack(f.roomId, f.batchId, status);
    };
    if (!Number.isInteger(f.index) || f.index < 0 || f.index >= batch.parts.length) return fail(UpdateStatusCode.InvalidUpdate, `fragment index ${f.index} out of range`);
    if (batch.parts[f.index]) return fail(UpdateStatusCode.InvalidUpdate, `fragment ${f.index} sent twice`);
    batch.parts[f.index] = f.fragment;
    batch.received++;
    batch.bytes += f.fragment.length;
    if (batch.bytes > batch.header.totalSizeBytes) return fail(UpdateStatusCode.InvalidUpdate, 'fragments exceed the announced size');
    if (batch.received < batch.parts.length) return;
    this.removeBatch(key);
    if (batch.bytes !== batch.header.totalSizeBytes) return fail(UpdateStatusCode.InvalidUpdate, `fragments hold ${batch.bytes} bytes, header announced ${batch.header.totalSizeBytes}`);
    const whole = Buffer.concat(batch.parts as Uint8Array[]);
    const m = this.writable(f.roomId);
    if (typeof m === 'number') return this.refuseWrite(f.roomId, f.batchId, m);
    await this.applyUpdates(m, [new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength)], f.batchId);
  }

  private dropFragments(batchId: HexString, roomId?: string): void {
    for (const [k, b] of this.fragments) {
      if (b.header.batchId === batchId && (roomId === undefined || b.header.roomId === roomId)) this.removeBatch(k);
    }
  }

  /** Forget an open fragmented batch and give back the bytes it reserved. */
  private removeBatch(key: string): void {
    const b = this.fragments.get(key);
    if (!b) return;
    clearTimeout(b.timer);
    this.fragments.delete(key);
    this.fragmentBytes -= b.header.totalSizeBytes;
    this.shared.fragments.held -= b.header.totalSizeBytes;
  }

  // ---- replies ----------------------------------------------------------

  private ack(roomId: string, refId: HexString, status: UpdateStatusCode, crdt: CrdtType = CrdtType.Loro): void {
    if (Buffer.byteLength(roomId, 'utf8') > MAX_ROOM_ID_BYTES) {
      this.protocolError('invalid_room_id', `update refused (status ${status}): room id longer than ${MAX_ROOM_ID_BYTES} bytes`);
      return;
    }
    sendMessage(this.ws, { type: MessageType.Ack, crdt, roomId, refId, status });
  }

  /**
   * Ack with `status` plus a JSON text frame saying which rule refused the
   * update and why: {"type":"error","code","room","batchId","message",limit?,value?}
   * (stock clients ignore text frames; ours shows the message).
   */
  private refuse(roomId: string, batchId: HexString, status: UpdateStatusCode, code: string, message: string, extra: Record<string, unknown> = {}, crdt: CrdtType = CrdtType.Loro): void {
    this.ack(roomId, batchId, status, crdt);
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify({ type: 'error', code, room: roomId.slice(0, 200), batchId, status, message, ...extra }));
  }

  /** Runs the auth hook; a refusal becomes JoinError AuthFailed with the hook's reason. */
  private async authorize(msg: JoinRequest, ref: { docId: string; branch: string }): Promise<AuthResult | null> {
    let decision: AuthResult | null;
    try {
      decision = await this.auth({ docId: ref.docId, branch: ref.branch, auth: msg.auth });
    } catch (err) {
      if (err instanceof AuthError) {
        // AuthFailed carries no appCode on the wire (only AppError does): the code ends the message.
        this.joinError(msg, JoinErrorCode.AuthFailed, `${err.message} (${err.code})`, err.code);
        return null;
      }
      this.log.error('auth hook failed', { conn: this.id, room: msg.roomId.slice(0, 120), error: errText(err) });
      this.joinError(msg, JoinErrorCode.AuthFailed, 'authentication failed (server error)', 'auth_error');
      return null;
    }
    if (!decision) this.joinError(msg, JoinErrorCode.AuthFailed, 'authentication failed');
    return decision;
  }

  private joinError(msg: JoinRequest, code: JoinErrorCode, message: string, appCode?: string): void {
    this.log.warn('join refused', { conn: this.id, room: msg.roomId.slice(0, 120), code, message });
    if (Buffer.byteLength(msg.roomId, 'utf8') > MAX_ROOM_ID_BYTES) {
      // A JoinError must echo the room id, which the protocol cannot encode: say it in a text frame.
      this.protocolError(appCode ?? 'join_refused', message);
      return;
    }
    sendMessage(this.ws, { type: MessageType.JoinError, crdt: msg.crdt, roomId: msg.roomId, code, message, ...(appCode ? { appCode } : {}) });
  }
}

// The last snapshot exported per room, with the version it covers: joins with
// an empty version (the usual first join, and what a join flood sends) reuse it.
const snapshots = new WeakMap<Room, { doc: unknown; version: Uint8Array; bytes: Uint8Array }>();

function snapshotOf(room: Room): Uint8Array {
  const vv = room.doc.oplogVersion();
  const version = vv.encode();
  vv.free();
  const hit = snapshots.get(room);
  if (hit && hit.doc === room.doc && Buffer.compare(hit.version, version) === 0) return hit.bytes;
  const bytes = room.doc.export({ mode: 'snapshot' });
  snapshots.set(room, { doc: room.doc, version, bytes });
  return bytes;
}

function expiredMessage(expiresAt: number): string {
  return `your token expired at ${new Date(expiresAt).toISOString()}: updates are refused; join again with a new token`;
}

/** Whether the room's branch exists (stored, or holding updates not yet flushed). */
function roomExists(room: Room): boolean {
  if (room.known || room.dirty) return true;
  try {
    const vv = room.doc.oplogVersion();
    const n = vv.length();
    vv.free();
    return n > 0;
  } catch {
    return true; // a broken document: let the join report it
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
