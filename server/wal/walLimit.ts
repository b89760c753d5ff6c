// The write-ahead file's size limit. While the database cannot be written
// the WAL holds every accepted update; past `maxBytes` of un-flushed WAL new
// updates are refused BEFORE anything is imported (so nothing refused is in
// a room, relayed or acked) and nothing already acked is touched. When the
// database is back, flushes release WAL segments and updates are accepted
// again.
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

  /** Reason to refuse an update of `incoming` bytes, or null to accept it. */
  check(incoming: number, databaseError: string | null): string | null {
    const live = this.wal.stats().liveBytes;
    const full = live + incoming > this.maxBytes;
    if (full !== this.full) {
      this.full = full;
      this.onChange(full, live);
    }
    if (!full) return null;
    this.refused++;
    const why = databaseError ? `the database is unreachable (${databaseError})` : 'the database has not caught up';
    return `${why} and the write-ahead file is full (${live} of ${this.maxBytes} bytes); the update was not applied; send it again once the server is healthy`;
  }

  get isFull(): boolean {
    return this.full;
  }
}
