// Per-connection rate limits (token buckets) and per-room document size,
// checked by connection.ts before an update is imported.
import type { Room } from '../rooms/room';

/**
 * A token bucket. A request passes when the bucket holds its whole cost, so a
 * message of N parts is charged N and refused past the budget (no debt). The
 * one exception is `oversize`: an item larger than the whole bucket (a byte
 * count up to maxUpdateBytes) passes when the bucket is full, i.e. the client
 * was quiet for a whole burst period, and leaves the bucket in debt.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
  }

  /** Takes `cost` and returns true, or returns false (nothing taken) when the bucket does not hold it. */
  take(cost: number, oversize = false): boolean {
    this.refill();
    if (cost <= this.tokens || (oversize && cost > this.capacity && this.tokens >= this.capacity)) {
      this.tokens -= cost;
      return true;
    }
    return false;
  }

  /** Takes `cost` even past what the bucket holds (it goes into debt): for pacing, not refusing (readPacing.ts). */
  charge(cost: number): void {
    this.refill();
    this.tokens -= cost;
  }

  /** Milliseconds until the bucket is out of debt (0 when it is not in debt). */
  get debtMs(): number {
    this.refill();
    return this.tokens >= 0 ? 0 : (-this.tokens / this.ratePerSecond) * 1000;
  }

  /** Tokens taken from the full bucket lately. */
  get used(): number {
    this.refill();
    return this.capacity - this.tokens;
  }

  /** True when the bucket is full and has been for a while (nothing to remember). */
  get idle(): boolean {
    this.refill();
    return this.tokens >= this.capacity;
  }
}

/**
 * Buckets shared by key (a token, a remote address) over connections; idle
 * (full) buckets are forgotten so the map stays small.
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burstSeconds: number,
    private readonly now?: () => number,
  ) {}

  get enabled(): boolean {
    return this.ratePerSecond > 0;
  }

  take(key: string, cost: number, oversize = false): boolean {
    return !this.enabled || this.bucket(key).take(cost, oversize);
  }

  /** Charge `cost` to `key` even past its budget (pacing, readPacing.ts); returns how long `key` is in debt (ms). */
  charge(key: string, cost: number): number {
    if (!this.enabled) return 0;
    const b = this.bucket(key);
    b.charge(cost);
    return b.debtMs;
  }

  private bucket(key: string): TokenBucket {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= 1024) for (const [k, old] of this.buckets) if (old.idle) this.buckets.delete(k);
      b = new TokenBucket(this.ratePerSecond, this.ratePerSecond * Math.max(1, this.burstSeconds), this.now);
      this.buckets.set(key, b);
    }
    return b;
  }
}

export interface RateRefusal {
  limit: 'maxUpdatesPerSecond' | 'maxBytesPerSecond';
  value: number;
}

/** Update count and byte rate of one connection. */
export class RateLimiter {
  private readonly updates: TokenBucket | null;
  private readonly bytes: TokenBucket | null;

  constructor(
    private readonly updatesPerSecond: number,
    private readonly bytesPerSecond: number,
    burstSeconds: number,
    now?: () => number,
  ) {
    const burst = Math.max(1, burstSeconds);
    this.updates = updatesPerSecond > 0 ? new TokenBucket(updatesPerSecond, updatesPerSecond * burst, now) : null;
    this.bytes = bytesPerSecond > 0 ? new TokenBucket(bytesPerSecond, bytesPerSecond * burst, now) : null;
  }

  /** null when allowed; otherwise which limit refused it. */
  check(updateCount: number, byteCount: number): RateRefusal | null {
    if (this.updates && !this.updates.take(updateCount)) return { limit: 'maxUpdatesPerSecond', value: this.updatesPerSecond };
    if (this.bytes && !this.bytes.take(byteCount, true)) return { limit: 'maxBytesPerSecond', value: this.bytesPerSecond };
    return null;
  }
}

// Estimated size of each loaded room's document: its snapshot size when first
// checked, plus the bytes of every update accepted through a connection since.
const docSizes = new WeakMap<Room, number>();

export function docSize(room: Room): number {
  let n = docSizes.get(room);
  if (n === undefined) {
    n = room.doc.export({ mode: 'snapshot' }).length;
    docSizes.set(room, n);
  }
  return n;
}

export function addDocBytes(room: Room, bytes: number): void {
  docSizes.set(room, docSize(room) + bytes);
}
