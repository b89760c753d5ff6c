// The message protocol between the history webview and its host (the
// extension, or a test stub). Types only, shared by both sides.
import type { DagRow, GroupMember, HistoryPage } from '../../server/shared/history/types';
import type { CellDiff } from '../../server/shared/history/rowDiff';

export type { DagRow, GroupMember, HistoryPage, CellDiff };

/** Rows per page the webview asks for. */
export const HISTORY_PAGE_SIZE = 200;

/** Host -> webview. */
export type HostMessage =
  /** (Re)start: the history changed or the view was (re)opened; drop cached pages. */
  | { type: 'reset'; generation: number; title: string; total: number; changes: number; lanes: number; current: string }
  | { type: 'page'; generation: number; cursor: number; page: HistoryPage }
  | { type: 'members'; generation: number; id: string; members: GroupMember[] }
  /** Select (and scroll to) the row holding a version, e.g. after "Open at time". */
  | { type: 'reveal'; generation: number; index: number }
  /** Branch names on the rows holding their heads (from the sync server; online false: no server). */
  | { type: 'branches'; generation: number; branch: string; online: boolean; labels: { index: number; names: string[] }[] }
  /** The changed lines of each cell a row touched (answer to 'details'). */
  | { type: 'details'; generation: number; id: string; summary: string; cells: CellDiff[] }
  | { type: 'error'; message: string };

/** What "compare" compares a version with. */
export type CompareTarget = { kind: 'current' } | { kind: 'version'; version: string };

/** Webview -> host. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'loadPage'; generation: number; cursor: number; limit: number }
  | { type: 'expand'; generation: number; id: string }
  | { type: 'open'; version: string; label: string }
  | { type: 'compare'; version: string; label: string; with: CompareTarget; withLabel: string }
  | { type: 'restore'; version: string; label: string }
  /** The changed lines of a row (sent when a row is selected). */
  | { type: 'details'; generation: number; id: string }
  /** One new change undoing just this row's change (a merge: back to its first parent). */
  | { type: 'revert'; generation: number; id: string; label: string }
  | { type: 'checkpoint' }
  /** Fork a named branch at a version (the host asks the name). */
  | { type: 'branch'; version: string; label: string }
  /** Merge this notebook's branch into another or another into it (the host asks which). */
  | { type: 'merge' }
  /** Unix seconds; without it the host asks for a time. */
  | { type: 'openAtTime'; time?: number };

export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (!value || typeof value !== 'object') return false;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
    case 'checkpoint':
    case 'merge':
      return true;
    case 'loadPage':
      return typeof m.generation === 'number' && typeof m.cursor === 'number' && typeof m.limit === 'number';
    case 'expand':
    case 'details':
      return typeof m.generation === 'number' && typeof m.id === 'string';
    case 'revert':
      return typeof m.generation === 'number' && typeof m.id === 'string' && typeof m.label === 'string';
    case 'open':
    case 'restore':
    case 'branch':
      return typeof m.version === 'string' && typeof m.label === 'string';
    case 'compare': {
      const w = m.with as Record<string, unknown> | undefined;
      const okWith = !!w && (w.kind === 'current' || (w.kind === 'version' && typeof w.version === 'string'));
      return typeof m.version === 'string' && typeof m.label === 'string' && typeof m.withLabel === 'string' && okWith;
    }
    case 'openAtTime':
      return m.time === undefined || (typeof m.time === 'number' && Number.isFinite(m.time));
    default:
      return false;
  }
}
