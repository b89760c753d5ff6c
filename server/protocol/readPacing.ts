// How fast the server reads what a client sends. Refusing an update over the
// rate limit (limits.ts) still costs reading it: every frame is received,
// unmasked and decoded before it can be refused, so a client that ignores
// refusals (or sends fragments of a refused batch, or frames nobody asked
// for) can keep the event loop busy reading. Pacing stops reading a socket
// for as long as its client is over its budget: TCP's own flow control then
// slows the sender, and the server's work per connection is bounded by
// construction.
import { TokenBucket, type KeyedBuckets } from './limits';

/**
 * A connection stops reading when it is over its own budget, or when its
 * address is over the address's budget and it is one of the heavy senders
 * there (it used more than HEAVY_BYTES of its own budget lately): clients
 * behind the same NAT that only type are never paused for a neighbour's flood.
 */
export const HEAVY_BYTES = 256 * 1024;

export class ReadPacer {
  private readonly own: TokenBucket | null;

  constructor(
    bytesPerSecond: number,
    /** Reading budgets per remote address (one second's worth at once). */
    private readonly byAddress: KeyedBuckets,
    private readonly address: string,
    now?: () => number,
  ) {
    // One second's worth at once: enough for any update a person makes, little for a flood.
    this.own = bytesPerSecond > 0 ? new TokenBucket(bytesPerSecond, bytesPerSecond, now) : null;
  }

  /** Charge a frame of `bytes`; returns how long to stop reading (ms, 0: read on). */
  charge(bytes: number): number {
    if (!this.own) return 0;
    this.own.charge(bytes);
    const shared = this.byAddress.charge(this.address, bytes);
    const own = this.own.debtMs;
    if (own > 0) return own;
    return shared > 0 && this.own.used > HEAVY_BYTES ? shared : 0;
  }
}
