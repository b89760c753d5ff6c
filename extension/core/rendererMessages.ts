// Messages between the result renderer (media/renderer, in the output
// webview) and the extension (extension/resultActions.ts), over VS Code's
// renderer messaging. One definition for both sides, and a check of what
// arrives from the webview before the extension acts on it.
import type { ChartChoice, ChartMark, ResultPayload } from './resultPayload';
import type { ExportFormat, SortRequest } from './resultQueries';

/** Renderer → extension. `cellId` is the cell's metadata id (payload.cellId). */
export type RendererRequest =
  /** Sort the whole (capped) result again in DuckDB; answered by a `sorted` message with the same requestId. */
  | { type: 'sort'; requestId: string; cellId: string; sort: SortRequest | null }
  /** Export the whole result (optionally in the shown sort order) to a file the user picks. */
  | { type: 'export'; cellId: string; format: ExportFormat; sort: SortRequest | null }
  /** Store the chart choice (null: show the table) in the cell's metadata. */
  | { type: 'chart'; cellId: string; chart: ChartChoice | null }
  /** A rendered output asks for the cell's current chart choice (its payload may be older than the metadata). */
  | { type: 'hello'; cellId: string };

/** Extension → renderer. */
export type ExtensionMessage =
  | { type: 'sorted'; requestId: string; cellId: string; payload?: ResultPayload; error?: string }
  | { type: 'chart'; cellId: string; chart: ChartChoice | null }
  /** A line for the result's toolbar status (how an export ended). */
  | { type: 'status'; cellId: string; text: string };

const MARKS: readonly ChartMark[] = ['bar', 'line', 'point', 'histogram'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A chart choice, or undefined when `v` is not one. */
export function parseChart(v: unknown): ChartChoice | undefined {
  if (!isObject(v) || typeof v.x !== 'string' || v.x === '' || !MARKS.includes(v.mark as ChartMark)) return undefined;
  if (v.y !== undefined && typeof v.y !== 'string') return undefined;
  return { mark: v.mark as ChartMark, x: v.x, ...(typeof v.y === 'string' && v.y !== '' ? { y: v.y } : {}) };
}

function parseSort(v: unknown): SortRequest | null | undefined {
  if (v === null) return null;
  if (!isObject(v) || !Number.isInteger(v.column) || (v.column as number) < 0 || typeof v.descending !== 'boolean') return undefined;
  return { column: v.column as number, descending: v.descending };
}

/** The request in `raw`, or undefined when it is not a well-formed one (ignored by the extension). */
export function parseRendererRequest(raw: unknown): RendererRequest | undefined {
  if (!isObject(raw) || typeof raw.cellId !== 'string' || raw.cellId === '') return undefined;
  const cellId = raw.cellId;
  switch (raw.type) {
    case 'sort': {
      const sort = parseSort(raw.sort);
      return typeof raw.requestId === 'string' && sort !== undefined ? { type: 'sort', requestId: raw.requestId, cellId, sort } : undefined;
    }
    case 'export': {
      const sort = parseSort(raw.sort ?? null);
      return (raw.format === 'csv' || raw.format === 'parquet') && sort !== undefined ? { type: 'export', cellId, format: raw.format, sort } : undefined;
    }
    case 'chart': {
      if (raw.chart === null) return { type: 'chart', cellId, chart: null };
      const chart = parseChart(raw.chart);
      return chart ? { type: 'chart', cellId, chart } : undefined;
    }
    case 'hello':
      return { type: 'hello', cellId };
    default:
      return undefined;
  }
}
