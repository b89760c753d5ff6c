// Times and labels shown in the history view.
import type { DagRow, GroupMember } from './protocol';

const pad = (n: number) => String(n).padStart(2, '0');

/** "2026-05-28 14:03" in the viewer's local time zone (Loro stores Unix seconds). */
export function formatTime(unixSeconds: number): string {
  if (!unixSeconds) return 'unknown time';
  const d = new Date(unixSeconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function formatSpan(start: number, end: number): string {
  const a = formatTime(start);
  const b = formatTime(end);
  if (a === b) return a;
  return a.slice(0, 10) === b.slice(0, 10) ? `${a}–${b.slice(11)}` : `${a} – ${b}`;
}

/** What a row says in one line: the checkpoint name or the user's message, else what it did. */
export function rowTitle(row: DagRow): string {
  if (row.checkpoint !== undefined) return row.checkpoint;
  if (row.message) return row.message;
  if (row.join) return row.summary && row.summary !== 'No change to cells' ? `Joined concurrent edits · ${row.summary}` : 'Joined concurrent edits';
  if (row.summary) return row.summary;
  return row.size > 1 ? `${row.size} edits` : 'Edit';
}

/** The summary shown after a user's title (a message or checkpoint keeps its place as the title). */
export function rowSubtitle(row: DagRow): string | undefined {
  if ((row.checkpoint !== undefined || row.message) && row.summary && row.summary !== 'Named this version') return row.summary;
  return undefined;
}

/** Hover text of a row: what it did and every cell it touched. */
export function rowTooltip(row: DagRow): string {
  const lines = [rowTitle(row)];
  const sub = rowSubtitle(row);
  if (sub) lines.push(sub);
  if (row.touched && row.touched.length > 0) lines.push(`Cells: ${row.touched.join(', ')}`);
  lines.push(`${row.author}, ${formatSpan(row.start, row.end)}${row.size > 1 ? ` · ${row.size} changes` : ''}`);
  return lines.join('\n');
}

/** A label for messages and editor titles: "alice, 2026-05-28 14:03". */
export function rowLabel(row: DagRow): string {
  const what = row.checkpoint ?? row.message ?? (row.summary && row.summary !== 'No change to cells' ? row.summary : undefined);
  return `${what ? `"${what}" ` : ''}${row.author}, ${formatTime(row.end)}`;
}

export function memberLabel(row: DagRow, m: GroupMember): string {
  return `${row.author}, ${formatTime(m.timestamp)}`;
}

/** Unix seconds of a <input type="datetime-local"> value (local time), or undefined. */
export function parseLocalDateTime(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) return undefined;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  return Number.isNaN(d.getTime()) ? undefined : Math.floor(d.getTime() / 1000);
}
