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

/** What a row says in one line: the checkpoint name or message, else a description. */
export function rowTitle(row: DagRow): string {
  if (row.checkpoint !== undefined) return row.checkpoint;
  if (row.message) return row.message;
  if (row.parents.length > 1) return 'Merge';
  return row.size > 1 ? `${row.size} edits` : 'Edit';
}

/** A label for messages and editor titles: "alice, 2026-05-28 14:03". */
export function rowLabel(row: DagRow): string {
  const what = row.checkpoint ?? row.message;
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
