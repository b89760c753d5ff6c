// Per-connection rate limits (token buckets) and per-room document size,
// checked by connection.ts before an update is imported.
import type { Room } from '../rooms/room';

/**
 * A token bucket that may go into debt: a request is allowed while the bucket
 * is not empty and then takes its full cost, so one update larger than the
 * bucket (up to maxUpdateBytes) still passes when the client has been quiet.
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

  /** Takes `cost` and returns true, or returns false (nothing taken) when the bucket is empty. */
  take(cost: number): boolean {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
    if (this.tokens <= 0) return false;
    this.tokens -= cost;
    return true;
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
    if (this.bytes && !this.bytes.take(byteCount)) return { limit: 'maxBytesPerSecond', value: this.bytesPerSecond };
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
