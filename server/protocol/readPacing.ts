// How fast the server reads what a client sends. Refusing an update over the
// rate limit (limits.ts) still costs reading it: every frame is received,
// unmasked and decoded before it can be refused, so a client that ignores
// refusals (or sends fragments of a refused batch, or frames nobody asked
// for) can keep the event loop busy reading. Pacing stops reading a socket
// for as long as its client is over its budget: TCP's own flow control then
// slows the sender, and the server's work per connection is bounded by
// construction.
/** A bucket that goes into debt: each frame is charged after it was read, and the debt says how long to stop reading. */
export class PacingBucket {
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

  charge(bytes: number): void {
    this.refill();
    this.tokens -= bytes;
  }

  /** Milliseconds until the bucket is out of debt (0 when it is not in debt). */
  get waitMs(): number {
    this.refill();
    return this.tokens >= 0 ? 0 : (-this.tokens / this.ratePerSecond) * 1000;
  }

  /** Bytes taken from the full bucket (how much this reader sent lately). */
  get used(): number {
    this.refill();
    return this.capacity - this.tokens;
  }

  get idle(): boolean {
    return this.used <= 0;
  }
}

/** Reading budgets shared by key (a remote address); idle ones are forgotten. */
export class KeyedPacing {
  private readonly buckets = new Map<string, PacingBucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly now?: () => number,
  ) {}

  /** Charge `bytes` to `key`; returns how long that key is in debt (ms). */
  charge(key: string, bytes: number): number {
    if (this.ratePerSecond <= 0) return 0;
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= 1024) for (const [k, old] of this.buckets) if (old.idle) this.buckets.delete(k);
      b = new PacingBucket(this.ratePerSecond, this.ratePerSecond, this.now);
      this.buckets.set(key, b);
    }
    b.charge(bytes);
    return b.waitMs;
  }
}

/**
 * A connection stops reading when it is over its own budget, or when its
 * address is over the address's budget and it is one of the heavy senders
 * there (it used more than HEAVY_BYTES of its own budget lately): clients
 * behind the same NAT that only type are never paused for a neighbour's flood.
 */
export const HEAVY_BYTES = 256 * 1024;

export class ReadPacer {
  private readonly own: PacingBucket | null;

  constructor(
    bytesPerSecond: number,
    private readonly byAddress: KeyedPacing,
    private readonly address: string,
    now?: () => number,
  ) {
    // One second's worth at once: enough for any update a person makes, little for a flood.
    this.own = bytesPerSecond > 0 ? new PacingBucket(bytesPerSecond, bytesPerSecond, now) : null;
  }

  /** Charge a frame of `bytes`; returns how long to stop reading (ms, 0: read on). */
  charge(bytes: number): number {
    if (!this.own) return 0;
    this.own.charge(bytes);
    const shared = this.byAddress.charge(this.address, bytes);
    const own = this.own.waitMs;
    if (own > 0) return own;
    return shared > 0 && this.own.used > HEAVY_BYTES ? shared : 0;
  }
}
