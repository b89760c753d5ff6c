// The lines above the table: row count (or "showing N of M" when capped),
// elapsed time, and the view a named cell was saved as.
import type { ResultPayload } from '../../extension/core/resultPayload';
import { formatCount, formatElapsed, formatRows } from './format';
import { buildRunStamp } from './runStamp';

/** Text of the summary line, e.g. "showing 1,000 of 1,234 rows (capped by sqlroom.maxResultRows)". */
export function summaryText(payload: ResultPayload): string {
  if (payload.columns.length === 0) return 'Statement ran (no rows)';
  if (payload.truncated) {
    return `showing ${formatCount(payload.rows.length)} of ${formatRows(payload.rowCount)} (capped by sqlroom.maxResultRows)`;
  }
  return formatRows(payload.rowCount);
}

export function buildSummary(payload: ResultPayload): HTMLElement {
  const box = document.createElement('div');
  box.className = 'sqlroom-summary';
  const line = document.createElement('div');
  line.className = 'sqlroom-summary-line';
  const count = document.createElement('span');
  count.className = payload.truncated ? 'sqlroom-count sqlroom-truncated' : 'sqlroom-count';
  count.textContent = summaryText(payload);
  line.append(count);
  const elapsed = formatElapsed(payload.elapsedMs);
  if (elapsed) {
    const time = document.createElement('span');
    time.className = 'sqlroom-elapsed';
    time.textContent = elapsed;
    line.append(time);
  }
  box.append(line);
  if (payload.run?.kept) box.prepend(buildRunStamp(payload.run));
  if (payload.view) {
    const view = document.createElement('div');
    view.className = 'sqlroom-view';
    const name = document.createElement('code');
    name.textContent = payload.view;
    view.append('saved as view ', name);
    box.append(view);
  }
  return box;
}
