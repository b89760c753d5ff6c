// Start-up on a database locked by another process (a `duckdb` shell left
// open, a backup, a second server that is stopping): wait for the lock with a
// clear message instead of failing at once, up to a limit.
import type { Logger } from '../log';
import { StorageLockedError } from './sqlStorage';
import type { Storage } from './types';

/**
 * storage.init(), retried while it fails with StorageLockedError, for at most
 * `waitMs` (0: fail at once). `onWaiting` gets the reason while waiting and
 * null once open. Past the limit the error says how long it waited.
 */
export async function initWaitingForLock(storage: Storage, waitMs: number, log: Logger, onWaiting: (why: string | null) => void): Promise<void> {
  const started = Date.now();
  let delay = 250;
  let lastLog = 0;
  for (;;) {
    try {
      await storage.init();
      if (lastLog) log.info('the database lock was released; starting', { waitedMs: Date.now() - started });
      onWaiting(null);
      return;
    } catch (err) {
      if (!(err instanceof StorageLockedError)) throw err;
      const waited = Date.now() - started;
      if (waited >= waitMs) {
        if (waitMs <= 0) throw err;
        throw new StorageLockedError(`${err.message} Waited ${Math.round(waited / 1000)} s for the lock (--lock-wait ${Math.round(waitMs / 1000)}).`);
      }
      onWaiting(err.message);
      // First attempt, then every ~10 s: the holder (DuckDB names its PID) and how long is left.
      if (!lastLog || Date.now() - lastLog >= 10_000) {
        lastLog = Date.now();
        log.warn('the database is locked by another process; waiting for the lock before starting', { error: err.message, waitedMs: waited, lockWaitMs: waitMs });
      }
      await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, waitMs - waited))));
      delay = Math.min(delay * 2, 2000);
    }
  }
}
