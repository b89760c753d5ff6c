// "From an earlier run" line of an output read back from the notebook file:
// when it ran and who ran it.
import type { RunStamp } from '../../extension/core/resultPayload';

/** "From an earlier run · 29 Nov 2026, 10:02 · by ana" (local time). */
export function runStampText(run: RunStamp, locale?: string): string {
  const when = new Date(run.ranAt);
  const parts = ['From an earlier run'];
  if (Number.isFinite(when.getTime())) {
    parts.push(when.toLocaleString(locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }));
  }
  if (run.ranBy) parts.push(`by ${run.ranBy}`);
  return parts.join(' · ');
}

export function buildRunStamp(run: RunStamp): HTMLElement {
  const stamp = document.createElement('div');
  stamp.className = 'sqlroom-kept';
  stamp.title = 'Saved with the notebook; run the cell to refresh it.';
  stamp.textContent = runStampText(run);
  return stamp;
}
