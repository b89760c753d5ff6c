// The output the kernel emits and the notebook renderer (media/renderer) draws.
// Shared by both sides so the JSON shape has one definition.

export const RESULT_MIME = 'application/vnd.sqlroom.result+json';

/** A JSON-safe cell value: BIGINTs, decimals, dates, blobs and nested values arrive as strings. */
export type ResultValue = string | number | boolean | null;

export interface ResultColumn {
  name: string;
  /** DuckDB's type name, e.g. INTEGER, VARCHAR, DECIMAL(18,3), STRUCT(a INTEGER). */
  type: string;
}

export interface ResultPayload {
  version: 1;
  columns: ResultColumn[];
  /** The rows kept (at most the row cap), each with one value per column. */
  rows: ResultValue[][];
  /** Rows the statement produced in total (>= rows.length). */
  rowCount: number;
  /** True when rows.length < rowCount because of the row cap. */
  truncated: boolean;
  /** Wall-clock milliseconds the statement took. */
  elapsedMs: number;
  /** Set when a named cell's query was stored as a view. */
  view?: string;
}
