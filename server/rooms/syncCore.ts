// The authoritative rooms: accept updates (validate, import, WAL, buffer),
// batch them into database transactions, snapshot, compact, unload idle rooms,
// and replay the WAL on start.
import { LoroDoc, VersionVector, type ImportStatus, type OpId } from 'loro-crdt';
import type { Logger } from '../log';
import type { ResolvedSettings } from '../options';
import { Metrics } from '../metrics';
import { InvalidIdError, RoomRef, parseRoomId } from '../protocol/roomId';
import type { FlushBatch, Storage } from '../storage/types';
import { WriteAheadLog } from '../wal/wal';
import { WalLimit } from '../wal/walLimit';
import { Room, type UnloggedUpdate } from './room';
import { packUpdates, type PackedRow } from './packRows';
import { InvalidUpdateError, addedSpans, checkHeader, errText, exportRanges, fastUpdateSpan, inspectBlob, pendingText } from './updateInfo';
import { buildMergeUpdate } from './merge';
import { noteImported, tooDeep } from './nesting';
import { BIG_UPDATE_BYTES, OffThreadImports } from './importOffThread';
import { newBatchId } from '../shared/updateBatch';
import { LeaseBusyError, applyRemote, catchUp, withLease } from './scaleout';
import { freeDoc, isBroken } from './loroHealth';

const STOPPING = 'the server is stopping; send it again after reconnecting';

export type AcceptResult =
  /**
   * `bytes`: what the room gained (and stored, and relays): the client's
   * update, or the part of it that was new plus any ops it unblocked.
   * `missing`: part of the update waits for dependencies the room lacks.
   */
  | { kind: 'stored'; bytes: Uint8Array; missing: string | null; update: UnloggedUpdate }
  | { kind: 'duplicate' }
  /** Nothing applied: the update depends on ops the room lacks (Loro keeps it pending, nothing is stored). */
  | { kind: 'missing-deps'; reason: string }
  | { kind: 'invalid'; reason: string }
  | { kind: 'not-durable'; reason: string }
  /** The database is down and the write-ahead file is at its size limit: nothing was applied. */
  | { kind: 'wal-full'; reason: string };

/** A snapshot was asked for a room no longer in memory. */
class RoomUnloadedError extends Error {}

export class ForkError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface CoreStats {
  rooms: number;
  bufferedOps: number;
  bufferedBytes: number;
  degraded: boolean;
  lastFlushError: string | null;
  consecutiveFlushFailures: number;
  /** Age of the running flush (0: none); past flush.stallMs the database counts as stalled (degraded). */
  flushInProgressMs: number;
}

export class SyncCore {
  readonly rooms = new Map<string, Room>();
  private loading = new Map<string, Promise<Room>>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private retryAt = 0;
  private retryDelay: number;
  private consecutiveFailures = 0;
  private lastFlushError: string | null = null;
  private closed = false;
  private recovering = false;
  /** Snapshots being written because a room leaves memory (SyncCore.snapshotBeforeLeaving). */
  private readonly leaving = new Map<Room, Promise<void>>();
  /** Rooms of recent flushes whose snapshot may be due, and the background run that writes them. */
  private readonly snapshotCandidates = new Set<Room>();
  private autoSnapshotting: Promise<void> | null = null;
  private backlogLoggedAt = 0;
  /** Date.now() when the running flush started (0: none), for the stall watchdog. */
  private flushStartedAt = 0;
  private stallLogged = false;
  readonly walLimit: WalLimit;
  /** Imports in worker threads (importOffThread.ts). */
  private readonly offThread: OffThreadImports;

  constructor(
    readonly storage: Storage,
    readonly wal: WriteAheadLog,
    readonly settings: ResolvedSettings,
    readonly log: Logger,
    readonly metrics: Metrics,
  ) {
    this.retryDelay = settings.flush.retryInitialMs;
    this.offThread = new OffThreadImports(settings.imports, metrics, log);
    this.walLimit = new WalLimit(wal, settings.walMaxBytes, (full, live) =>
      full ? log.error('write-ahead file full: refusing updates until the database is writable', { liveBytes: live, maxBytes: settings.walMaxBytes }) : log.info('write-ahead file below its limit again: accepting updates', { liveBytes: live }),
    );
  }

  // ---- rooms ------------------------------------------------------------

  getRoom(ref: RoomRef): Promise<Room> {
    const existing = this.rooms.get(ref.key);
    if (existing) return Promise.resolve(existing);
    let p = this.loading.get(ref.key);
    if (!p) {
      p = this.loadRoom(ref).finally(() => this.loading.delete(ref.key));
      this.loading.set(ref.key, p);
    }
    return p;
  }

  private async loadRoom(ref: RoomRef): Promise<Room> {
    const t0 = performance.now();
    const state = await this.storage.loadRoom(ref.docId, ref.branch);
    const room = new Room(ref);
    // Rows of many unsynced peers can take Loro seconds: such a load runs in a worker thread.
    const offThread = await this.offThread.load(room, state.snapshot?.bytes ?? null, state.ops.map((o) => o.bytes), !!this.storage.multiWriter);
    if (!offThread && state.snapshot) room.doc.import(state.snapshot.bytes);
    if (!offThread && state.ops.length) {
      try {
        const st = room.doc.importBatch(state.ops.map((o) => o.bytes));
        if (st.pending) this.log.warn('stored ops wait for dependencies the database lacks', { room: ref.key, pending: pendingText(st) });
      } catch {
        // Find the bad row(s); the others still load.
        for (const op of state.ops) {
          try {
            room.doc.import(op.bytes);
          } catch (err) {
            this.log.error('stored op cannot be imported; skipped', { room: ref.key, opId: op.opId, error: errText(err) });
          }
        }
      }
    }
    room.nextOpId = state.maxOpId + 1;
    room.lastStoredOpId = state.maxOpId;
    room.seenOpId = state.maxOpId;
    room.nextSnapshotId = state.maxSnapshotId + 1;
    room.known = state.known;
    room.opsSinceSnapshot = state.ops.reduce((n, o) => n + (o.opCount ?? 1), 0);
    room.bytesSinceSnapshot = state.ops.reduce((n, o) => n + o.bytes.length, 0);
    room.lastSnapshotBytes = state.snapshot?.bytes.length ?? 0;
    room.coldDoc = offThread || (!!state.snapshot && state.ops.length === 0);
    this.rooms.set(ref.key, room);
    this.log.debug('room loaded', { room: ref.key, ops: state.ops.length, snapshot: state.snapshot?.snapshotId ?? null, ms: Math.round(performance.now() - t0) });
    return room;
  }

  join(room: Room, member: Parameters<Room['members']['add']>[0]): void {
    room.members.add(member);
    room.lastActivity = Date.now();
    if (room.idleTimer) {
      clearTimeout(room.idleTimer);
      room.idleTimer = null;
    }
  }

  leave(room: Room, member: Parameters<Room['members']['add']>[0]): void {
    room.members.delete(member);
    room.refusedMembers.delete(member);
    if (room.members.size === 0) this.scheduleUnload(room);
  }

  private scheduleUnload(room: Room): void {
    if (room.idleTimer || this.closed) return;
    room.idleTimer = setTimeout(() => {
      room.idleTimer = null;
      if (room.members.size > 0 || this.rooms.get(room.key) !== room) return;
      if (room.dirty || room.importing || room.appending.size) {
        this.scheduleUnload(room); // flush (or finish an import) first; try again later
        return;
      }
      void this.snapshotBeforeLeaving(room, Date.now() + 10_000).then(() => {
        // Someone may have joined or written while the snapshot was written.
        if (this.closed || room.members.size > 0 || room.dirty || room.idleTimer || this.rooms.get(room.key) !== room) return;
        this.rooms.delete(room.key);
        freeDoc(room.doc);
        this.log.debug('room unloaded', { room: room.key });
      });
    }, this.settings.idleUnloadMs);
    room.idleTimer.unref?.();
  }

  // ---- updates ----------------------------------------------------------

  /**
   * The cheap checks of an update before it is imported: size and Loro's
   * header (Loro's import checks the checksum and encoding itself). `full`:
   * decode the blob's meta too, so a message of several updates is refused
   * whole before any part of it is imported.
   */
  validate(bytes: Uint8Array, full = false): string | null {
    if (bytes.length > this.settings.limits.maxUpdateBytes) return `update of ${bytes.length} bytes exceeds ${this.settings.limits.maxUpdateBytes}`;
    try {
      if (full) inspectBlob(bytes);
      else checkHeader(bytes);
      return null;
    } catch (err) {
      return err instanceof InvalidUpdateError ? err.message : errText(err);
    }
  }

  /**
   * Import one update into the room; resolves once it is durable (WAL fsync).
   * Duplicates (nothing new) are acknowledged but not stored again.
   */
  async accept(room: Room, bytes: Uint8Array, author: string, createdAt = Date.now(), walSegment?: number, retried = false): Promise<AcceptResult> {
    const invalid = this.validate(bytes);
    if (invalid) {
      this.metrics.opsRejected++;
      return { kind: 'invalid', reason: invalid };
    }
    const full = this.recovering ? null : this.walLimit.check(bytes.length, this.databaseProblem());
    if (full) return { kind: 'wal-full', reason: full };
    if (room.rebuilding) await room.rebuilding;
    // Nothing in this room is acknowledged (not even a duplicate) while an
    // update it already imported is missing from the WAL.
    if (room.unlogged.length || room.unloggedDrain) {
      const unlogged = await this.logUnlogged(room);
      if (unlogged) return { kind: 'not-durable', reason: unlogged };
    }
    // An update just before this one (pipelined) may have broken the document meanwhile, or be imported in a worker: wait for it.
    while (room.rebuilding || room.importing) await (room.rebuilding ?? room.importing);
    // Stopping: its sender is being disconnected and will send it again. (Imported
    // here, an update that waited behind a worker import could stall the stop for seconds.)
    if (this.closed) return { kind: 'not-durable', reason: STOPPING };
    const limit = this.settings.limits.maxNestingDepth;
    // A big update (or any of a room found slow) may be imported in a worker thread; the room's
    // later updates wait until it is in the document and its WAL append is queued.
    let offThread: ImportStatus | null = null;
    let releaseRoom = (): void => {};
    if (this.offThread.wanted(room, bytes, !!this.storage.multiWriter)) {
      room.importing = new Promise<void>((resolve) => {
        releaseRoom = () => {
          room.importing = null;
          releaseRoom = () => {};
          resolve();
        };
      });
      const off = await this.offThread.import(room, bytes, limit);
      if (off.kind !== 'imported' && off.kind !== 'here') releaseRoom();
      if (off.kind === 'invalid') {
        this.metrics.opsRejected++;
        return { kind: 'invalid', reason: off.reason };
      }
      if (off.kind === 'too-deep') return this.tooDeepResult(off.depth, limit);
      if (off.kind === 'stopping') return { kind: 'not-durable', reason: STOPPING };
      if (off.kind === 'imported') offThread = off.status;
    }
    try {
      return await this.acceptImported(room, bytes, author, createdAt, walSegment, retried, offThread, () => releaseRoom());
    } finally {
      releaseRoom();
    }
  }

  /** accept() from the import on (`offThread`: the big update was already imported in a worker, with this status). */
  private async acceptImported(room: Room, bytes: Uint8Array, author: string, createdAt: number, walSegment: number | undefined, retried: boolean, offThread: ImportStatus | null, releaseRoom: () => void): Promise<AcceptResult> {
    const limit = this.settings.limits.maxNestingDepth;
    let touched = false;
    let stored: Uint8Array;
    let exact: boolean;
    let spans: ReturnType<typeof addedSpans>;
    let missing: string | null;
    let duplicate = false;
    try {
      // Inside the try: on a document a panic just broke, this throws too (and must get an answer).
      void room.doc.peerIdStr;
      touched = true;
      if (!offThread && bytes.length > DEPTH_PRECHECK_BYTES) {
        // Big enough to nest containers dangerously deep: tried on a fork first.
        const deep = tooDeep(room, bytes, inspectBlob(bytes).span, limit);
        if (deep !== null) return this.tooDeepResult(deep, limit);
      }
      // Off the thread, the worker measured the depth (and the nesting state moved to the new document).
      const started = performance.now();
      const status = offThread ?? room.doc.import(bytes);
      if (!offThread) this.offThread.noteMainImport(room, performance.now() - started, status);
      const depth = offThread ? 0 : noteImported(room, status, limit);
      if (limit > 0 && depth > limit) {
        // Small updates are checked after the import: the room's document is rebuilt without this one.
        await this.rebuildBroken(room, `an update nested containers ${depth} levels deep`);
        return this.tooDeepResult(depth, limit);
      }
      spans = addedSpans(status);
      // Ops whose dependencies are missing stay pending in the doc and are
      // not stored; they are stored (once) by the import that applies them.
      missing = status.pending ? `this update depends on changes the server does not have (${pendingText(status)} wait for them); it is not in the document` : null;
      if (status.pending) room.hadPending = true;
      if (spans.opCount === 0) {
        if (missing) return { kind: 'missing-deps', reason: missing };
        duplicate = true;
      }
      // The client's bytes hold every op this import added unless it also
      // applied ops left pending by earlier updates: then the export of what it added.
      const exported = !!missing || room.hadPending;
      stored = exported ? exportRanges(room.doc, spans.ranges) : bytes;
      // Exactly those ops (nothing the room had already): its row can keep these bytes, with no
      // export from the document when it is packed (which, in a room of many unsynced peers, is slow).
      exact = exported || (spans.opCount > 0 && isExactUpdate(bytes, spans.opCount));
    } catch (err) {
      releaseRoom();
      if (!touched && !retried) {
        // The document was already broken (by an update just before this one): wait for the rebuild, then try this one.
        await this.rebuildBroken(room, err);
        return this.accept(room, bytes, author, createdAt, walSegment, true);
      }
      this.metrics.opsRejected++;
      if (isBroken(room.doc)) void this.rebuildBroken(room, err);
      return { kind: 'invalid', reason: `import failed: ${errText(err)}` };
    }
    if (duplicate) {
      // Its ops may be those of an update whose WAL append is still under way
      // (the stock client resends unacked batches when it rejoins): answer only
      // once that append ended, and never Ok if it failed.
      if (room.logging.size) await Promise.all([...room.logging]);
      const unlogged = await this.logUnlogged(room);
      if (unlogged) return { kind: 'not-durable', reason: unlogged };
      this.metrics.opsDuplicate++;
      return { kind: 'duplicate' };
    }
    room.lastActivity = Date.now();
    const entry: UnloggedUpdate = { author, createdAt, bytes: stored!, exact: exact!, spans: spans! };
    const logged = this.logAndBuffer(room, entry, walSegment).catch((err: unknown) => {
      room.unlogged.push(entry);
      throw err;
    });
    releaseRoom(); // its WAL append is queued: the room's next update goes after it
    const settled = logged.then(
      () => undefined,
      () => undefined,
    );
    room.logging.add(settled);
    void settled.then(() => room.logging.delete(settled));
    try {
      await logged;
      return { kind: 'stored', bytes: stored!, missing: missing!, update: entry };
    } catch (err) {
      return { kind: 'not-durable', reason: `write-ahead log: ${errText(err)}` };
    }
  }

  private tooDeepResult(depth: number, limit: number): AcceptResult {
    this.metrics.opsRejected++;
    return { kind: 'invalid', reason: `containers nested ${depth} levels deep, more than maxNestingDepth ${limit} (Loro's readers break on deep nesting)` };
  }

  /**
   * Some blobs make Loro panic inside import; the wasm trap leaves that
   * LoroDoc throwing on every later call. Rebuild the room's document from
   * storage plus the updates this process holds that are not stored yet
   * (buffered, in flight, unlogged), so the room keeps serving its members.
   */
  private rebuildBroken(room: Room, cause: unknown): Promise<void> {
    room.rebuilding ??= (async () => {
      if (typeof cause === 'string') this.log.warn(`${cause}; rebuilding the room document from storage and the buffered updates without it`, { room: room.key });
      else this.log.warn('a Loro panic broke the room document; rebuilding it from storage and the buffered updates', { room: room.key, error: errText(cause) });
      try {
        const state = await this.storage.loadRoom(room.ref.docId, room.ref.branch);
        const doc = new LoroDoc();
        if (state.snapshot) doc.import(state.snapshot.bytes);
        const held = [...state.ops.map((o) => o.bytes), ...room.retry.map((o) => o.bytes), ...room.inflight.map((o) => o.bytes), ...room.buffer.map((o) => o.bytes), ...[...room.appending].map((u) => u.bytes), ...room.unlogged.map((u) => u.bytes)];
        if (held.length) doc.importBatch(held);
        const broken = room.doc;
        room.doc = doc;
        freeDoc(broken);
        this.log.info('room document rebuilt', { room: room.key, updates: held.length });
      } catch (err) {
        this.log.error('rebuilding the room document failed; it serves again after a restart', { room: room.key, error: errText(err) });
      } finally {
        room.rebuilding = null;
      }
    })();
    return room.rebuilding;
  }

  /**
   * Append an imported update to the WAL and buffer it for the next flush.
   * `walSegment`: replayed from that segment, already on disk.
   */
  private async logAndBuffer(room: Room, u: UnloggedUpdate, walSegment?: number): Promise<void> {
    let segment: number;
    // While the append waits for its fsync the update is in the document but
    // in no buffer: a snapshot taken meanwhile must leave it out (storedSnapshot).
    if (walSegment === undefined) room.appending.add(u);
    try {
      segment = walSegment ?? (await this.wal.append({ roomKey: room.key, author: u.author, createdAt: u.createdAt, bytes: u.bytes }));
    } catch (err) {
      this.metrics.walErrors++;
      this.log.error('write-ahead log append failed', { room: room.key, error: errText(err) });
      throw err;
    } finally {
      room.appending.delete(u);
    }
    room.pushBuffered({ createdAt: u.createdAt, author: u.author, bytes: u.bytes, exact: u.exact, spans: u.spans, walSegment: segment, dedupAfter: room.seenOpId, origin: u });
    this.metrics.countAccepted();
    this.scheduleFlush();
  }

  /**
   * Retry the WAL appends that failed earlier in this room (one drain at a
   * time; concurrent accepts wait for it); an error text if one still fails.
   */
  private logUnlogged(room: Room): Promise<string | null> {
    if (room.unlogged.length === 0 && !room.unloggedDrain) return Promise.resolve(null);
    room.unloggedDrain ??= (async () => {
      try {
        while (room.unlogged.length) {
          try {
            await this.logAndBuffer(room, room.unlogged[0]);
          } catch (err) {
            return `write-ahead log (an earlier update of this room is not yet durable): ${errText(err)}`;
          }
          room.unlogged.shift();
        }
        return null;
      } finally {
        room.unloggedDrain = null;
      }
    })();
    return room.unloggedDrain;
  }

  // ---- flushing ---------------------------------------------------------

  private scheduleFlush(): void {
    if (this.closed && !this.flushing) return;
    const f = this.settings.flush;
    let due = Infinity;
    for (const room of this.rooms.values()) {
      if (!room.unflushed) continue;
      if (room.retry.length || room.buffer.length >= f.maxOps || room.bufferBytes >= f.maxBytes) due = 0;
      else due = Math.min(due, room.firstBufferedAt + (room.sharedUntil > Date.now() ? Math.min(f.maxDelayMs, f.sharedDelayMs) : f.maxDelayMs) - Date.now());
    }
    if (due === Infinity) return;
    due = Math.max(due, this.retryAt - Date.now(), 0);
    if (this.flushing) return; // re-evaluated when the running flush ends
    if (this.flushTimer) {
      if (due > 0) return; // an earlier or equal timer is set
      clearTimeout(this.flushTimer);
    }
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flushOnce();
    }, due);
  }

  /** Write every buffered row now (one transaction). Resolves after it ran (success or not). */
  flushOnce(): Promise<void> {
    if (this.flushing) return this.flushing;
    const started = Date.now();
    this.flushStartedAt = started;
    const watchdog = this.settings.flush.stallMs > 0 ? setTimeout(() => this.flushStalled(started), this.settings.flush.stallMs) : null;
    watchdog?.unref?.();
    this.flushing = this.doFlush().finally(() => {
      if (watchdog) clearTimeout(watchdog);
      if (this.stallLogged) this.log.info('the stalled flush ended', { ms: Date.now() - started, error: this.lastFlushError });
      this.stallLogged = false;
      this.flushStartedAt = 0;
      this.flushing = null;
      this.walLimit.refresh(this.databaseProblem());
      this.scheduleFlush();
    });
    return this.flushing;
  }

  /** The flush started at `started` is still running after stallMs: the database is not answering. */
  private flushStalled(started: number): void {
    if (this.flushStartedAt !== started) return;
    this.stallLogged = true;
    this.metrics.flushStalls++;
    this.log.warn('flush stalled: the database has not answered; serving from the write-ahead log', { ms: Date.now() - started, stallMs: this.settings.flush.stallMs, bufferedOps: this.stats().bufferedOps });
  }

  /**
   * More acknowledged updates wait for the database than flush.maxBacklog while
   * it takes writes: connections stop reading until the flush ends. Under a load
   * the server cannot keep up with, each database round trip waits a turn of an
   * event loop full of incoming updates, the flush falls behind, and a crash
   * would leave all of it to replay; pausing the readers empties the loop.
   */
  backlogFull(): boolean {
    const max = this.settings.flush.maxBacklog;
    if (max <= 0 || this.closed || this.databaseProblem()) return false;
    const depth = this.wal.depth();
    if (depth < max) return false;
    if (Date.now() - this.backlogLoggedAt > 60_000) {
      this.backlogLoggedAt = Date.now();
      this.log.warn('the database flush is behind: slowing clients until it catches up', { unflushed: depth, maxBacklog: max });
    }
    return true;
  }

  /** Resolves (never rejects) when the running flush ends; soon, when none runs (one is due). */
  flushEnded(): Promise<void> {
    const done = (): undefined => undefined;
    return this.flushing ? this.flushing.then(done, done) : new Promise((r) => setTimeout(r, 20));
  }

  /** Why the database cannot take writes right now (a failed or stalled flush), or null. */
  databaseProblem(): string | null {
    if (this.lastFlushError) return this.lastFlushError;
    const age = this.flushStartedAt ? Date.now() - this.flushStartedAt : 0;
    const stall = this.settings.flush.stallMs;
    if (stall > 0 && age >= stall) return `a flush has been waiting ${Math.round(age / 1000)} s for the database (stalled over ${stall} ms)`;
    return null;
  }

  /**
   * Flush until nothing is buffered; throws if the database keeps failing past `deadlineMs`.
   * `withSnapshots`: also wait for the snapshots those flushes made due.
   */
  async flushAll(deadlineMs = 10_000, withSnapshots = true): Promise<void> {
    const end = Date.now() + deadlineMs;
    for (;;) {
      if (this.flushing) await this.flushing;
      const dirty = [...this.rooms.values()].some((r) => r.unflushed);
      if (!dirty) {
        // Callers (checkpoint, stop, tests) expect the due snapshots written too.
        if (withSnapshots && this.autoSnapshotting) await this.autoSnapshotting;
        return;
      }
      if (this.retryAt > Date.now()) {
        if (Date.now() >= end) throw new Error(`database unavailable: ${this.lastFlushError}`);
        await new Promise((r) => setTimeout(r, Math.min(this.retryAt - Date.now(), 100)));
        continue;
      }
      await this.flushOnce();
      if (this.consecutiveFailures > 0 && Date.now() >= end) throw new Error(`database unavailable: ${this.lastFlushError}`);
    }
  }

  private async doFlush(): Promise<void> {
    const rooms = [...this.rooms.values()].filter((r) => r.unflushed);
    if (rooms.length === 0) return;
    const batch: FlushBatch = { ops: [], newBranches: [], heads: [] };
    const pack = { maxSpanMs: this.settings.flush.packSpanMs, single: !!this.storage.multiWriter };
    for (const room of rooms) {
      // In a room found slow (many unsynced peers), exporting merged rows from its document is slow too: a row per update, its own bytes.
      const single = pack.single || Date.now() < room.slowImportsUntil;
      const rows = room.takeForFlush((updates) => packUpdates(room.doc, room.ref, updates, { ...pack, single }, () => room.nextOpId++));
      batch.ops.push(...rows);
      if (!room.known) {
        batch.newBranches.push({ docId: room.ref.docId, branch: room.ref.branch, createdAt: rows[0].firstAt, parentBranch: room.parentBranch, forkFrontiers: room.forkFrontiers });
      }
      batch.heads.push({ docId: room.ref.docId, branch: room.ref.branch, headOpId: rows[rows.length - 1].opId, seenOpId: room.seenOpId });
    }
    const t0 = performance.now();
    let result;
    try {
      result = await this.storage.writeBatch(batch);
    } catch (err) {
      for (const room of rooms) room.restoreInflight();
      this.metrics.flushFailures++;
      this.consecutiveFailures++;
      this.lastFlushError = errText(err);
      this.retryAt = Date.now() + this.retryDelay;
      this.log.warn('flush failed; serving from the write-ahead log and retrying', {
        error: this.lastFlushError,
        retryInMs: this.retryDelay,
        failures: this.consecutiveFailures,
        bufferedOps: this.stats().bufferedOps,
      });
      this.retryDelay = Math.min(this.retryDelay * 2, this.settings.flush.retryMaxMs);
      return;
    }
    const ms = performance.now() - t0;
    this.metrics.flushLatency.observe(ms / 1000);
    this.metrics.flushes++;
    this.metrics.opsStored += batch.ops.length;
    this.metrics.updatesStored += batch.ops.reduce((n, r) => n + (r as PackedRow).updates, 0);
    if (this.consecutiveFailures > 0) this.log.info('database writable again; caught up', { rows: batch.ops.length, failures: this.consecutiveFailures });
    this.consecutiveFailures = 0;
    this.lastFlushError = null;
    this.retryAt = 0;
    this.retryDelay = this.settings.flush.retryInitialMs;
    const perSegment = new Map<number, { n: number; bytes: number }>();
    for (const room of rooms) {
      for (const row of room.inflight) {
        for (const [id, part] of row.wal) {
          const seg = perSegment.get(id) ?? { n: 0, bytes: 0 };
          seg.n += part.n;
          seg.bytes += part.bytes;
          perSegment.set(id, seg);
        }
        this.metrics.bytesStored += row.bytes.length;
        room.bytesSinceSnapshot += row.bytes.length;
        room.opsSinceSnapshot += row.opCount;
      }
      room.lastStoredOpId = room.inflight[room.inflight.length - 1].opId;
      // Multi-writer: op ids were allocated in the transaction; import what
      // other processes committed before our rows, then our rows are seen too.
      const r = result?.rooms.find((x) => x.docId === room.ref.docId && x.branch === room.ref.branch);
      if (r) {
        applyRemote(room, r.before, this.log);
        const ours = room.inflight.length - r.duplicates; // our rows are head-ours+1 .. head
        if (room.seenOpId >= r.head - ours) room.seenOpId = Math.max(room.seenOpId, r.head);
        if (r.duplicates) this.metrics.opsDuplicate += r.duplicates;
        room.lastStoredOpId = r.head;
        room.nextOpId = Math.max(room.nextOpId, r.head + 1);
      }
      room.inflight = [];
      room.known = true;
    }
    for (const [seg, { n, bytes }] of perSegment) this.wal.release(seg, n, bytes);
    this.inviteRefused();
    this.log.debug('flushed', { rows: batch.ops.length, rooms: rooms.length, ms: Math.round(ms) });
    this.snapshotLater(rooms);
  }

  /**
   * Due snapshots are written after the flush, in the background: each is a few
   * round trips to the database, and under load each round trip waits a turn
   * of the event loop; the next flush must not wait for them.
   */
  private snapshotLater(rooms: Room[]): void {
    for (const room of rooms) this.snapshotCandidates.add(room);
    if (this.autoSnapshotting) return;
    this.autoSnapshotting = (async () => {
      while (this.snapshotCandidates.size && !this.closed) {
        const batch = [...this.snapshotCandidates];
        this.snapshotCandidates.clear();
        await this.autoSnapshots(batch);
      }
    })().finally(() => (this.autoSnapshotting = null));
  }

  /**
   * Members whose updates were refused for the WAL limit are told to rejoin
   * once the WAL has room again: the rejoin makes a client (the stock one
   * too) send what the server lacks, without its user typing again.
   */
  private inviteRefused(): void {
    if (this.wal.stats().liveBytes >= this.settings.walMaxBytes) return;
    for (const room of this.rooms.values()) {
      if (room.refusedMembers.size === 0) continue;
      const members = [...room.refusedMembers];
      room.refusedMembers.clear();
      for (const m of members) if (room.members.has(m)) m.suggestRejoin?.(room, 'the server accepts updates again: rejoin and send what it lacks');
    }
  }

  /**
   * A big room whose last rows are not in a snapshot gets one before it
   * leaves memory (idle unload, graceful stop): to apply even one row on top
   * of a snapshot, Loro decodes the document's whole history (about 1.5 s for
   * the 260k-keystroke paper of bench/traces), so loading the room again (a
   * restart, the next join) would pay that before the first client is served.
   * Small rooms load fast either way (and a stop with thousands of them stays
   * quick). Only with every row stored, and never past `deadline`.
   */
  private snapshotBeforeLeaving(room: Room, deadline: number): Promise<void> {
    // One at a time per room: a stop during an idle unload's snapshot waits for it (a second one would reuse its id).
    const running = this.leaving.get(room);
    if (running) return running;
    const done = this.snapshotBeforeLeavingNow(room, deadline).finally(() => this.leaving.delete(room));
    this.leaving.set(room, done);
    return done;
  }

  private async snapshotBeforeLeavingNow(room: Room, deadline: number): Promise<void> {
    const size = Math.max(room.lastSnapshotBytes, room.bytesSinceSnapshot);
    if (room.opsSinceSnapshot === 0 || size < LEAVE_SNAPSHOT_MIN_BYTES || Date.now() > deadline) return;
    if (room.dirty || room.appending.size || room.unlogged.length || isBroken(room.doc)) return;
    try {
      await this.snapshot(room, 'server', null);
    } catch (err) {
      if (!(err instanceof LeaseBusyError)) this.log.warn('snapshot before unloading failed; the room replays its last rows when loaded', { room: room.key, error: errText(err) });
    }
  }

  private async autoSnapshots(rooms: Room[]): Promise<void> {
    for (const room of rooms) {
      if (this.rooms.get(room.key) !== room) continue; // unloaded meanwhile (it took its snapshot then)
      const due = this.snapshotDue(room);
      if (!due) continue;
      // By cost: best when nothing is unstored (a plain export, no fork); a busy room gets a few flushes to reach such a moment.
      const quiet = room.buffer.length === 0 && room.appending.size === 0 && room.retry.length === 0;
      if (due === 'cost' && !quiet && room.snapshotWaits++ < SNAPSHOT_MAX_WAITS) continue;
      room.snapshotWaits = 0;
      try {
        await this.snapshot(room, 'server', null);
      } catch (err) {
        if (err instanceof LeaseBusyError) {
          room.opsSinceSnapshot = 0; // another process is snapshotting this room
          room.bytesSinceSnapshot = 0;
          continue;
        }
        if (err instanceof RoomUnloadedError) continue;
        this.log.warn('snapshot failed', { room: room.key, error: errText(err) });
      }
    }
  }

  /**
   * Snapshot by cost: loading the room reads the latest snapshot and replays
   * the ops stored after it. Once replaying those would cost more than
   * reading a new snapshot (replayCostFactor bytes of snapshot per byte of
   * ops), a snapshot is due. Also by op count and by time, when set.
   */
  private snapshotDue(room: Room): 'count' | 'time' | 'cost' | null {
    const s = this.settings.snapshot;
    if (room.opsSinceSnapshot === 0) return null;
    if (s.everyOps > 0 && room.opsSinceSnapshot >= s.everyOps) return 'count';
    if (s.everyMs > 0 && Date.now() - room.lastSnapshotAt >= s.everyMs) return 'time';
    if (s.replayCostFactor <= 0 || room.opsSinceSnapshot < s.minOps) return null;
    // Without a snapshot yet, one would be about as big as the ops stored so far.
    const snapshotBytes = room.lastSnapshotBytes || room.bytesSinceSnapshot;
    return room.bytesSinceSnapshot * s.replayCostFactor >= snapshotBytes ? 'cost' : null;
  }

  /**
   * Write a snapshot of the room covering every stored op (last_op_id), then
   * compact if configured. Call after a flush so last_op_id is current.
   */
  snapshot(room: Room, createdBy: string, message: string | null, leaseWaitMs = 0): Promise<{ snapshotId: number; lastOpId: number; bytes: number; deletedOps: number }> {
    // Several processes (multi-writer storage): only the lease holder snapshots and compacts.
    const before = room.snapshotRunning?.catch(() => undefined) ?? Promise.resolve();
    const run = before.then(() => withLease(this.storage, room, 60_000, leaseWaitMs, () => this.snapshotNow(room, createdBy, message)));
    room.snapshotRunning = run;
    const done = () => {
      if (room.snapshotRunning === run) room.snapshotRunning = null;
    };
    run.then(done, done);
    return run;
  }

  private async snapshotNow(room: Room, createdBy: string, message: string | null): Promise<{ snapshotId: number; lastOpId: number; bytes: number; deletedOps: number }> {
    const t0 = performance.now();
    // Queued behind another snapshot of a room that then left memory (its document is freed).
    if (this.rooms.get(room.key) !== room) throw new RoomUnloadedError(`room ${room.key} left memory before its snapshot (it wrote one as it left)`);
    const bytes = storedSnapshot(room);
    if (!bytes) throw new Error('an update of this room is imported but not yet in the write-ahead log; snapshot later');
    // Flushes may store more rows while this one is written: those stay counted.
    const coveredOps = room.opsSinceSnapshot;
    const coveredBytes = room.bytesSinceSnapshot;
    let snapshotId = room.nextSnapshotId;
    // Multi-writer: the doc holds every row up to seenOpId (and maybe more).
    const lastOpId = this.storage.multiWriter ? room.seenOpId : room.lastStoredOpId;
    try {
      const id = await this.storage.writeSnapshot({ snapshotId, docId: room.ref.docId, branch: room.ref.branch, createdAt: Date.now(), createdBy, lastOpId, bytes, message });
      if (typeof id === 'number') snapshotId = id;
    } catch (err) {
      this.metrics.snapshotFailures++;
      throw err;
    }
    room.nextSnapshotId = snapshotId + 1;
    room.opsSinceSnapshot = Math.max(0, room.opsSinceSnapshot - coveredOps);
    room.bytesSinceSnapshot = Math.max(0, room.bytesSinceSnapshot - coveredBytes);
    room.lastSnapshotBytes = bytes.length;
    room.lastSnapshotAt = Date.now();
    this.metrics.snapshots++;
    this.metrics.snapshotLatency.observe((performance.now() - t0) / 1000);
    if (this.settings.snapshot.thin && createdBy === 'server' && message === null) await this.thinSnapshots(room);
    let deletedOps = 0;
    const retain = this.settings.snapshot.retainOps;
    if (retain !== null && lastOpId - retain > 0) {
      deletedOps = await this.storage.deleteOpsUpTo(room.ref.docId, room.ref.branch, lastOpId - retain);
    }
    this.log.info('snapshot written', { room: room.key, snapshotId, lastOpId, bytes: bytes.length, deletedOps, by: createdBy });
    return { snapshotId, lastOpId, bytes: bytes.length, deletedOps };
  }

  /**
   * Keep the latest automatic snapshot and a ladder of older ones (each kept
   * one covers at most half the ops of the next newer kept one), so the
   * snapshots of a long history add up to about twice the latest one.
   * Checkpoints (a message or a person as author) are always kept.
   */
  private async thinSnapshots(room: Room): Promise<void> {
    if (!this.storage.deleteSnapshots) return;
    try {
      const all = await this.storage.listSnapshots(room.ref.docId, room.ref.branch);
      const auto = all.filter((x) => x.createdBy === 'server' && x.message === null).sort((a, b) => b.lastOpId - a.lastOpId || b.snapshotId - a.snapshotId);
      const drop = ladderDrops(auto);
      if (drop.length) await this.storage.deleteSnapshots(room.ref.docId, room.ref.branch, drop);
    } catch (err) {
      this.log.warn('thinning old snapshots failed (they stay)', { room: room.key, error: errText(err) });
    }
  }

  /** Rooms loaded for HTTP work (no members) are unloaded when idle too. */
  private unloadLater(room: Room): void {
    if (room.members.size === 0) this.scheduleUnload(room);
  }

  /** Explicit checkpoint: flush, then snapshot with a message and author. */
  async checkpoint(ref: RoomRef, author: string, message: string | null) {
    const room = await this.getRoom(ref);
    this.unloadLater(room);
    await this.flushAll();
    try {
      return await this.snapshot(room, author, message, 10_000);
    } catch (err) {
      if (err instanceof LeaseBusyError) throw new ForkError(409, err.message);
      throw err;
    }
  }

  // ---- branches ---------------------------------------------------------

  /**
   * Create branch `to` from branch `from` of the same document, at `frontiers`
   * (default: the parent's current head). The branch starts with the parent's
   * history up to that point as its first op; doc_branches records the parent
   * and the fork frontiers.
   */
  async fork(from: RoomRef, to: RoomRef, frontiers: OpId[] | null, author: string): Promise<{ branch: string; parentBranch: string; forkFrontiers: OpId[]; opId: number | null }> {
    if (from.docId !== to.docId) throw new ForkError(400, 'a branch must fork from the same document');
    if (from.branch === to.branch) throw new ForkError(400, 'a branch cannot fork from itself');
    const parent = await this.getRoom(from);
    this.unloadLater(parent);
    await catchUp(this.storage, [parent], this.log);
    if (!parent.known && !parent.dirty && parent.doc.oplogVersion().length() === 0) throw new ForkError(404, `unknown branch ${from.branch} of document ${from.docId}`);
    let forked: LoroDoc;
    try {
      forked = frontiers ? parent.doc.forkAt(frontiers) : parent.doc.fork();
    } catch (err) {
      throw new ForkError(400, `frontiers not found in branch ${from.branch}: ${errText(err)}`);
    }
    try {
      const child = await this.getRoom(to);
      this.unloadLater(child);
      if (child.known || child.dirty || child.nextOpId > 1) throw new ForkError(409, `branch ${to.branch} already exists`);
      const at = frontiers ?? forked.oplogFrontiers();
      child.parentBranch = from.branch;
      child.forkFrontiers = JSON.stringify(at);
      const bytes = forked.export({ mode: 'update' });
      let opId: number | null = null;
      if (bytes.length > 0 && forked.oplogVersion().length() > 0) {
        const res = await this.accept(child, bytes, author);
        if (res.kind !== 'stored' && res.kind !== 'duplicate') throw new Error(`cannot store the fork: ${res.reason}`);
        await this.flushAll();
        if (res.kind === 'stored') opId = this.rowOf(child, res.update);
      } else await this.flushAll();
      return { branch: to.branch, parentBranch: from.branch, forkFrontiers: at, opId };
    } finally {
      forked.free();
    }
  }

  /**
   * Merge branch `from` into branch `into` (same document): the Loro merge of
   * the two histories plus one merge change (deps on both heads), imported
   * into `into` as ONE update through accept() (WAL, ack, batched flush) and
   * relayed to the clients in `into`. Merging again adds nothing.
   */
  async merge(from: RoomRef, into: RoomRef, author: string, message: string | null): Promise<{ from: string; into: string; merged: boolean; newOps: number; opId: number | null; version: Record<string, number> }> {
    if (from.docId !== into.docId) throw new ForkError(400, 'branches of different documents cannot be merged');
    if (from.branch === into.branch) throw new ForkError(400, `cannot merge branch ${from.branch} into itself`);
    const [source, target] = [await this.getRoom(from), await this.getRoom(into)];
    this.unloadLater(source);
    this.unloadLater(target);
    await catchUp(this.storage, [source, target], this.log);
    for (const [r, name] of [[source, from.branch], [target, into.branch]] as const) {
      const empty = !r.known && !r.dirty && r.doc.oplogVersion().length() === 0;
      if (empty) throw new ForkError(404, `unknown branch ${name} of document ${from.docId}`);
    }
    const update = buildMergeUpdate(target.doc, source.doc, from.branch, into.branch, author, message);
    let opId: number | null = null;
    let merged = false;
    if (update.bytes) {
      const res = await this.accept(target, update.bytes, author);
      if (res.kind === 'invalid' || res.kind === 'not-durable' || res.kind === 'wal-full' || res.kind === 'missing-deps') throw new Error(`cannot store the merge: ${res.reason}`);
      if (res.kind === 'stored') {
        merged = true;
        const batchId = newBatchId();
        for (const member of target.members) member.deliver(target, [res.bytes], batchId);
        // The row that holds it (it is durable already; a database that is down only leaves this null).
        await this.flushAll(2_000).catch(() => undefined);
        opId = this.rowOf(target, res.update);
      }
    }
    return { from: from.branch, into: into.branch, merged, newOps: update.newOps, opId, version: versionOf(target.doc) };
  }

  /** The ops_log row holding an accepted update, once packed (multi-writer storage allocates ids in the flush: its head then). */
  private rowOf(room: Room, u: UnloggedUpdate): number | null {
    if (u.rowId === undefined) return null;
    return this.storage.multiWriter ? room.lastStoredOpId : u.rowId;
  }

  /** A branch's current head frontiers and snapshot (null: no such branch). */
  async branchState(ref: RoomRef, withSnapshot: boolean): Promise<{ frontiers: OpId[]; snapshot?: Uint8Array } | null> {
    const room = await this.getRoom(ref);
    this.unloadLater(room);
    if (!room.known && !room.dirty && room.doc.oplogVersion().length() === 0) return null;
    return { frontiers: room.doc.oplogFrontiers(), ...(withSnapshot ? { snapshot: room.doc.export({ mode: 'snapshot' }) } : {}) };
  }

  // ---- recovery ---------------------------------------------------------

  /**
   * Re-apply WAL entries from the previous run. Entries already in the
   * database import nothing new and are released; the rest are buffered for
   * the next flush and stay in their old segment (no new write, so a restart
   * on a full disk keeps them) until that flush releases them.
   */
  async recover(): Promise<{ entries: number; replayed: number; duplicates: number; invalid: number; tornBytes: number; tornRegions: number }> {
    const { entries, tornBytes, tornRegions, tornSegments } = await this.wal.openAndRead();
    let replayed = 0;
    let duplicates = 0;
    let invalid = 0;
    let waiting = 0;
    this.recovering = true; // replayed entries were acked before: never refused by the size limit (a failed start ends the server)
    // Load the rooms first (together: some load in worker threads), then import every entry in WAL order.
    const keys = [...new Set(entries.map((e) => e.roomKey))];
    const loaded = await Promise.all(
      keys.map((key) => {
        try {
          return this.getRoom(parseRoomId(key));
        } catch (err) {
          if (!(err instanceof InvalidIdError)) throw err;
          return null;
        }
      }),
    );
    const rooms = new Map(keys.map((key, i) => [key, loaded[i]]));
    const targets = entries.map((e) => rooms.get(e.roomKey) ?? null);
    const results = await Promise.all(entries.map((e, i) => (targets[i] ? this.accept(targets[i]!, e.bytes, e.author, e.createdAt, e.segment) : Promise.resolve({ kind: 'invalid', reason: 'bad room id' } as AcceptResult))));
    results.forEach((res, i) => {
      if (res.kind === 'stored') replayed++;
      else if (res.kind === 'duplicate') duplicates++;
      else if (res.kind === 'invalid') invalid++;
      else if (res.kind === 'missing-deps') waiting++;
      else throw new Error(`cannot replay WAL entry: ${res.reason}`);
      // A waiting entry (its deps not in the database nor in an earlier entry) is
      // not released: if a later entry applies its ops they go into that entry's
      // row, and this record must stay on disk until that row is in the database.
      // The next start finds it a duplicate and releases it.
      if (res.kind === 'duplicate' || res.kind === 'invalid') this.wal.release(entries[i].segment, 1, entries[i].bytes.length);
    });
    this.recovering = false;
    if (tornBytes) {
      // Never acknowledged (a record is acked only once whole and fsynced), but worth an operator's look.
      this.log.warn('write-ahead log had torn records (writes cut short by a crash or a full disk); they were never acknowledged and are skipped, every whole record before and after them is replayed', { tornBytes, tornRegions, segments: tornSegments, entries: entries.length });
    }
    if (waiting) this.log.warn('write-ahead log entries wait for changes the server does not have; kept in the log', { waiting });
    if (entries.length || tornBytes) this.log.info('write-ahead log replayed', { entries: entries.length, replayed, duplicates, invalid, waiting, tornBytes });
    return { entries: entries.length, replayed, duplicates, invalid, tornBytes, tornRegions };
  }

  // ---- misc -------------------------------------------------------------

  /** A stored version for a reader (time travel, a branch's head): built in a worker when its rows are costly. */
  async buildForRead(snapshot: Uint8Array | null, ops: Uint8Array[]): Promise<LoroDoc> {
    return (await this.offThread.buildForRead(snapshot, ops)) ?? buildDoc(snapshot, ops);
  }

  stats(): CoreStats {
    let bufferedOps = 0;
    let bufferedBytes = 0;
    for (const r of this.rooms.values()) {
      bufferedOps += r.unstoredUpdates;
      bufferedBytes += r.bufferBytes + r.inflight.reduce((n, o) => n + o.bytes.length, 0) + r.retry.reduce((n, o) => n + o.bytes.length, 0);
    }
    return {
      rooms: this.rooms.size,
      bufferedOps,
      bufferedBytes,
      degraded: this.databaseProblem() !== null,
      lastFlushError: this.databaseProblem(),
      consecutiveFlushFailures: this.consecutiveFailures,
      flushInProgressMs: this.flushStartedAt ? Date.now() - this.flushStartedAt : 0,
    };
  }

  /** Stop timers and flush what is buffered (best effort; the WAL keeps the rest). */
  async close(flushDeadlineMs = 10_000): Promise<void> {
    this.closed = true;
    await this.offThread.close();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const deadline = Date.now() + flushDeadlineMs;
    let flushed = true;
    try {
      await this.flushAll(flushDeadlineMs);
    } catch (err) {
      flushed = false;
      this.log.error('shutdown flush incomplete; the write-ahead log keeps the rest for the next start', { error: errText(err) });
    }
    if (this.autoSnapshotting) await this.autoSnapshotting;
    for (const room of this.rooms.values()) {
      if (room.idleTimer) clearTimeout(room.idleTimer);
      if (flushed) await this.snapshotBeforeLeaving(room, deadline);
      freeDoc(room.doc);
    }
    this.rooms.clear();
  }
}

/**
 * A snapshot of the room as its stored rows have it: the document without the
 * updates not yet in the database (in the flush under way, buffered, or
 * imported and waiting for their WAL fsync). A snapshot that covered those
 * too would hide them from a WAL replay after a crash (they would import
 * nothing new and never get their rows). Null while an update whose WAL
 * append failed is held in `unlogged` (the stored rows are then not a prefix
 * of the document's history).
 */
function storedSnapshot(room: Room): Uint8Array | null {
  if (room.unlogged.length) return null;
  // Rows of the current flush, rows waiting for the next one, and updates whose WAL append is under way.
  const unstored = [...room.retry.map((o) => o.spans), ...room.inflight.map((o) => o.spans), ...room.buffer.map((o) => o.spans.json), ...[...room.appending].map((u) => u.spans.json)];
  if (unstored.length === 0) return room.doc.export({ mode: 'snapshot' });
  // Per peer, the unstored ops are the newest ones: cut each peer's counter at its first unstored op.
  const vv = room.doc.oplogVersion();
  const cut = vv.toJSON();
  vv.free();
  for (const spans of unstored) {
    for (const [peer, [start]] of Object.entries(JSON.parse(spans) as Record<string, [number, number]>)) {
      if (start < (cut.get(peer as `${number}`) ?? 0)) cut.set(peer as `${number}`, start);
    }
  }
  for (const [peer, end] of cut) if (end === 0) cut.delete(peer);
  const at = new VersionVector(cut);
  const frontiers = room.doc.vvToFrontiers(at);
  at.free();
  const fork = room.doc.forkAt(frontiers);
  try {
    return fork.export({ mode: 'snapshot' });
  } finally {
    fork.free();
  }
}

/** Of snapshots sorted newest first (by last op id): the ids the ladder drops. */
export function ladderDrops(newestFirst: { snapshotId: number; lastOpId: number }[]): number[] {
  const drop: number[] = [];
  let kept: number | null = null;
  for (const x of newestFirst) {
    if (kept === null || x.lastOpId <= kept / 2) kept = x.lastOpId;
    else drop.push(x.snapshotId);
  }
  return drop;
}

/** Whether `bytes` (an update the room took) hold only the `added` ops: every op in it was new. */
function isExactUpdate(bytes: Uint8Array, added: number): boolean {
  const span = fastUpdateSpan(bytes);
  if (span !== null) return span === added;
  try {
    const info = inspectBlob(bytes);
    return info.mode === 'update' && info.span === added;
  } catch {
    return false;
  }
}

/** Updates bigger than this are checked for deep nesting on a fork before the import; smaller ones after it. */
const DEPTH_PRECHECK_BYTES = BIG_UPDATE_BYTES;

/** A room at least this big (its last snapshot, or its rows since) is snapshotted before it leaves memory (SyncCore.snapshotBeforeLeaving). */
const LEAVE_SNAPSHOT_MIN_BYTES = 64 * 1024;

/** Flushes a due snapshot waits for a room with nothing unstored before it is taken anyway (with a fork at the stored version). */
const SNAPSHOT_MAX_WAITS = 20;

/** Rebuild a document from a snapshot and ops (recovery, time travel). */
export function buildDoc(snapshot: Uint8Array | null, ops: Uint8Array[]): LoroDoc {
  const doc = new LoroDoc();
  if (snapshot) doc.import(snapshot);
  if (ops.length) doc.importBatch(ops);
  return doc;
}

export function versionOf(doc: LoroDoc): Record<string, number> {
  const vv: VersionVector = doc.oplogVersion();
  const out = Object.fromEntries(vv.toJSON());
  vv.free();
  return out;
}
