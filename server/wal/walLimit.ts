// The write-ahead file's size limit. While the database cannot be written
// (a failed flush, or one stalled past flush.stallMs) the WAL holds every
// accepted update; past `maxBytes` of update bytes not yet in the database,
// new updates are refused BEFORE anything is imported (so nothing refused is
// in a room, relayed or acked) and nothing already acked is touched.
//
// The limit bounds what an outage can pile up; it is not a flow control:
// - while the database takes writes, nothing is refused (flushes drain the
//   WAL; what it holds is the flush buffer);
// - when the WAL holds nothing un-flushed, one update is admitted whatever
//   its size (up to maxUpdateBytes), so a catch-up larger than the limit can
//   always get in eventually.
// `walFull` clears as soon as the database is writable again (the next
// successful flush), not only at the next update.
import type { WriteAheadLog } from './wal';

export const DEFAULT_WAL_MAX_BYTES = 1024 * 1024 * 1024; // 1 GiB

/** Code of the JSON error frame sent with the refusing ack. */
export const WAL_FULL_CODE = 'wal_full';

export class WalLimit {
  /** Updates refused because the WAL was full. */
  refused = 0;
  private full = false;

  constructor(
    private readonly wal: WriteAheadLog,
    readonly maxBytes: number,
    private readonly onChange: (full: boolean, liveBytes: number) => void = () => undefined,
  ) {}

  /** Reason to refuse an update of `incoming` bytes, or null to accept it. `databaseError`: why the database cannot be written, null when it can. */
  check(incoming: number, databaseError: string | null): string | null {
    const live = this.wal.stats().liveBytes;
    const refuse = databaseError !== null && live > 0 && live + incoming > this.maxBytes;
    this.set(refuse, live);
    if (!refuse) return null;
    this.refused++;
    return `the database is unreachable (${databaseError}) and the write-ahead file is full (${live} of ${this.maxBytes} bytes not yet in the database, this update ${incoming}); the update was not applied; send it again once the server is healthy`;
  }

  /** Re-evaluate without an update (after each flush): clears once the database is writable or the WAL drained. */
  refresh(databaseError: string | null): void {
    if (!this.full) return;
    const live = this.wal.stats().liveBytes;
    if (databaseError === null || live === 0) this.set(false, live);
  }

  get isFull(): boolean {
    return this.full;
  }

  private set(full: boolean, live: number): void {
    if (full === this.full) return;
    this.full = full;
    this.onChange(full, live);
  }
}
