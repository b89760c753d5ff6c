// text/plain fallback for viewers without the SQLRoom renderer (e.g. GitHub,
// other notebook front ends): an aligned table of the first rows and a summary.
import type { ResultPayload, ResultValue } from './resultPayload';

const MAX_ROWS = 20;
const MAX_WIDTH = 40;

function show(v: ResultValue): string {
  const s = v === null ? 'NULL' : String(v);
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > MAX_WIDTH ? `${flat.slice(0, MAX_WIDTH - 1)}…` : flat;
}

export function summarizeResult(p: ResultPayload): string {
  const rows = p.rowCount === 1 ? '1 row' : `${p.rowCount.toLocaleString('en-US')} rows`;
  const shown = p.truncated ? `showing ${p.rows.length.toLocaleString('en-US')} of ${rows}` : rows;
  const view = p.view ? `, saved as view ${p.view}` : '';
  return `${shown} in ${formatElapsed(p.elapsedMs)}${view}`;
}

export function formatElapsed(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function plainTextTable(p: ResultPayload): string {
  if (p.columns.length === 0) return `Statement ran (no rows) in ${formatElapsed(p.elapsedMs)}`;
  const head = p.columns.map((c) => c.name);
  const body = p.rows.slice(0, MAX_ROWS).map((r) => r.map(show));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ').trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('-+-'), ...body.map(line)];
  if (p.rows.length > MAX_ROWS) out.push(`… ${(p.rows.length - MAX_ROWS).toLocaleString('en-US')} more rows in this output`);
  out.push(summarizeResult(p));
  return out.join('\n');
}
