// Notices when the whole process stood still (SIGSTOP/SIGCONT, a VM or
// container pause, heavy swapping, or a long synchronous call): a 500 ms
// timer that fires much later than due. Logged at warn with the gap, and
// counted for /metrics, so an operator can tell a stalled server from a
// stalled database.
import type { Logger } from './log';

export class PauseWatch {
  pauses = 0;
  longestMs = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly log: Logger, private readonly thresholdMs = 2000, private readonly everyMs = 500) {}

  start(): void {
    let last = Date.now();
    this.timer = setInterval(() => {
      const now = Date.now();
      const gap = now - last - this.everyMs;
      last = now;
      if (gap < this.thresholdMs) return;
      this.pauses++;
      this.longestMs = Math.max(this.longestMs, gap);
      this.log.warn('the server process stood still (SIGSTOP, a VM pause, swapping or a blocked event loop); clients waited for acks meanwhile', { pausedMs: gap });
    }, this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
