// Drives one server through one real-trace scenario: connect every writer and
// follower, writer 0 of each room sends the base notebook, then every writer
// sends its keystrokes as fast as acks allow (at most `window` unacked each).
// Afterwards every replica must hold the trace's text (checked without timing);
// a fresh client joins each room to check what the server serves.
import { withTimeout } from './loroClient';
import type { ReplicaClient } from './realClient';
import { summarize, type LatencySummary } from './stats';

export interface RealRoomRun {
  roomId: string;
  base: Uint8Array[];
  writers: { peerKey: string; updates: Uint8Array[]; ends: number[] }[];
  /** Expected source of each cell at the end. */
  expected: string[];
}

export type Role = 'writer' | 'follower' | 'joiner';

export interface RealLoadOptions {
  window: number;
  /** Followers per room: receive every relay, send nothing. */
  followers: number;
  phaseTimeoutMs: number;
  makeClient(roomId: string, role: Role, index: number): ReplicaClient;
  /** After writer 0 sent the base of a room and got its acks (e.g. wait until the others have it). */
  afterBase?(room: RealRoomRun, clients: ReplicaClient[]): Promise<void>;
  /** Follower 0 of each room times the relay of every keystroke (decodes what it receives). */
  measureRelay: boolean;
  /** Called right after the first send and right after the last ack (server CPU, a copy of its files). */
  atStart(): Promise<void> | void;
  atEnd(): Promise<void> | void;
  /** Also check the writers' replicas (with one writer its replica is only its own typing: not checked). */
  checkWriters: boolean;
  log(line: string): void;
}

export interface ReplicaCheck {
  checked: number;
  mismatches: string[];
  /** Time spent importing and comparing (not part of any figure). */
  seconds: number;
}

export interface RealLoadResult {
  updates: number;
  failedAcks: number;
  ack: LatencySummary;
  relay: LatencySummary;
  updatesPerSec: number;
  seconds: number;
  clientCpuPct: number;
  replicas: ReplicaCheck;
}

export async function runRealLoad(rooms: RealRoomRun[], o: RealLoadOptions): Promise<RealLoadResult> {
  const writers = rooms.map((r) => r.writers.map((_w, i) => o.makeClient(r.roomId, 'writer', i)));
  const followers = rooms.map((r) => Array.from({ length: o.followers }, (_x, i) => o.makeClient(r.roomId, 'follower', i)));
  const all = [...writers.flat(), ...followers.flat()];
  let progress: NodeJS.Timeout | undefined;
  try {
    // A few joins at a time (a burst of joins is not what we measure; servers rate-limit joins per address).
    for (let i = 0; i < all.length; i += 8) await Promise.all(all.slice(i, i + 8).map((c) => c.connect(30_000)));
    for (const [r, room] of rooms.entries()) {
      for (const u of room.base) {
        const ok = await withTimeout(writers[r][0].sendUpdate(u), 60_000, `base of ${room.roomId}`);
        if (!ok) throw new Error(`base of ${room.roomId} was not acked OK`);
      }
      await o.afterBase?.(room, [...writers[r], ...followers[r]]);
    }

    // Relay: follower 0 of each room sees each keystroke arrive.
    const sentAt = rooms.map((r) => r.writers.map((w) => new Float64Array(w.updates.length)));
    const relay: number[] = [];
    if (o.measureRelay) {
      rooms.forEach((room, r) => {
        const observer = followers[r][0];
        if (!observer) return;
        const byPeer = new Map(room.writers.map((w, i) => [w.peerKey, i]));
        const next = room.writers.map(() => 0);
        observer.onRemote = (ends) => {
          const now = performance.now();
          for (const [peer, end] of ends) {
            const i = byPeer.get(peer);
            if (i === undefined) continue;
            const plan = room.writers[i];
            while (next[i] < plan.ends.length) {
              const k = next[i];
              const at = sentAt[r][i][k];
              if (!at) break;
              if (plan.ends[k] !== -1) {
                if (plan.ends[k] > end) break;
                relay.push(now - at);
              }
              next[i]++;
            }
          }
        };
      });
    }

    const total = rooms.reduce((s, r) => s + r.writers.reduce((t, w) => t + w.updates.length, 0), 0);
    const ack: number[] = [];
    let failedAcks = 0;
    const started = performance.now();
    progress = setInterval(() => o.log(`  … ${ack.length + failedAcks}/${total} acked after ${((performance.now() - started) / 1000).toFixed(0)} s`), 30_000);
    const cpu0 = process.cpuUsage();
    await o.atStart();
    const done = rooms.flatMap((room, r) =>
      room.writers.map(async (plan, i) => {
        const client = writers[r][i];
        const inFlight = new Set<Promise<void>>();
        for (let k = 0; k < plan.updates.length; ) {
          while (inFlight.size < o.window && k < plan.updates.length) {
            const at = performance.now();
            sentAt[r][i][k] = at;
            const p: Promise<void> = client
              .sendUpdate(plan.updates[k++])
              .then((ok) => {
                if (ok) ack.push(performance.now() - at);
                else failedAcks++;
              })
              .finally(() => inFlight.delete(p));
            inFlight.add(p);
          }
          await Promise.race(inFlight);
          if (failedAcks) throw new Error(`${failedAcks} updates were refused or not acked (room ${room.roomId})`);
        }
        await Promise.all(inFlight);
      }),
    );
    await withTimeout(Promise.all(done), o.phaseTimeoutMs, `replaying ${total} keystrokes`).catch((e: Error) => {
      // Say how far it got: a system that slows down as the document grows times out here.
      throw new Error(`${e.message} (${ack.length} acked, ${((ack.length / (performance.now() - started)) * 1000).toFixed(0)} upd/s on average)`);
    });
    const end = performance.now();
    const cpu = process.cpuUsage(cpu0);
    clearInterval(progress);
    await o.atEnd();
    const seconds = (end - started) / 1000;
    if (failedAcks) throw new Error(`${failedAcks} updates were refused or not acked`);

    const replicas = await checkReplicas(rooms, rooms.map((_r, i) => [...(o.checkWriters ? writers[i] : []), ...followers[i]]), o);
    return {
      updates: total,
      failedAcks,
      ack: summarize(ack),
      relay: summarize(relay),
      updatesPerSec: ack.length / seconds,
      seconds,
      clientCpuPct: ((cpu.user + cpu.system) / 1000 / (end - started)) * 100,
      replicas,
    };
  } finally {
    clearInterval(progress);
    for (const c of all) {
      try {
        c.close();
      } catch {
        /* already closed */
      }
    }
  }
}

/**
 * Waits until every replica holds the expected texts. A replica that stays
 * different for `quietMs` after the last update it received is a mismatch.
 * A Loro replica whose received bytes equal (same digest) those of one that
 * matched is the same replica and is not imported again.
 */
async function checkReplicas(rooms: RealRoomRun[], perRoom: ReplicaClient[][], o: RealLoadOptions, quietMs = 3000): Promise<ReplicaCheck> {
  const t0 = performance.now();
  const mismatches: string[] = [];
  let checked = 0;
  // Let the last relays arrive first (bounded), so equal streams are seen as equal.
  const clients = perRoom.flat();
  const settleEnd = performance.now() + 30_000;
  while (performance.now() < settleEnd && clients.some((c) => performance.now() - c.lastReceivedAt < 500)) await new Promise((r) => setTimeout(r, 100));
  for (const [r, room] of rooms.entries()) {
    const verified = new Set<string>();
    for (const [i, c] of perRoom[r].entries()) {
      checked++;
      const digest = c.receivedDigest?.();
      if (digest && verified.has(digest)) continue;
      const res = await waitForTexts(c, room.expected, quietMs, o.phaseTimeoutMs);
      if (res.ok) {
        const d = c.receivedDigest?.();
        if (d) verified.add(d);
      } else mismatches.push(`${room.roomId} replica ${i}: ${res.detail}`);
    }
  }
  return { checked, mismatches, seconds: (performance.now() - t0) / 1000 };
}

export interface TextWait {
  ok: boolean;
  /** performance.now() when the texts matched (or of the last update received, when they did not). */
  at: number;
  detail?: string;
}

/** Polls a replica until its cells equal `expected`, or it got nothing new for `quietMs`, or `timeoutMs`. */
export async function waitForTexts(c: ReplicaClient, expected: string[], quietMs: number, timeoutMs: number, pollMs = 100): Promise<TextWait> {
  const start = performance.now();
  let seen = -1;
  let diff: string | null = 'nothing received';
  for (;;) {
    // Read the replica again only when something arrived since the last look.
    if (c.lastReceivedAt !== seen) {
      seen = c.lastReceivedAt;
      diff = compareTexts(c.cellTexts(), expected);
    }
    const now = performance.now();
    if (!diff) return { ok: true, at: now };
    const idleSince = Math.max(start, c.lastReceivedAt);
    // Not equal: `at` is when it got the last of what it was served.
    if (now - idleSince > quietMs || now - start > timeoutMs) return { ok: false, at: idleSince, detail: diff };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** null when equal, else what differs first. */
export function compareTexts(texts: string[], expected: string[]): string | null {
  if (texts.length !== expected.length) return `${texts.length} cells, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = texts[i];
    const b = expected[i];
    if (a === b) continue;
    let k = 0;
    while (k < a.length && k < b.length && a[k] === b[k]) k++;
    return `cell ${i}: ${a.length} characters, expected ${b.length}; first difference at ${k}`;
  }
  return null;
}
