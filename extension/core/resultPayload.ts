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
  /** The cell's id (cell metadata `id`): what the renderer names when it asks for a sort, an export or a chart change. */
  cellId?: string;
  /** The kernel sorted the whole result by this column (renderer-side sorts of complete results are not recorded here). */
  sort?: { column: number; descending: boolean };
  /** The chart choice from the cell's metadata (`chart`), shown instead of the table. */
  chart?: ChartChoice;
  run?: RunStamp;
}

export type ChartMark = 'bar' | 'line' | 'point' | 'histogram';

/** What a result is drawn as; stored in the cell's metadata so collaborators see the same chart. */
export interface ChartChoice {
  mark: ChartMark;
  /** Column names; a histogram uses only `x`. */
  x: string;
  y?: string;
}

/** A failed run: drawn by the same renderer as an error block. */
export const ERROR_MIME = 'application/vnd.sqlroom.error+json';

export interface ErrorPayload {
  version: 1;
  /** "Parser Error", "Binder Error", "Catalog Error", "Cancelled", "DuckDB error", ... */
  title: string;
  /** DuckDB's message without its type prefix and LINE block. */
  message: string;
  /** Where in the cell the error points (0-based), when DuckDB said. */
  position?: { line: number; column: number };
  /** The cell's line at `position`: what the caret is drawn under. */
  sourceLine?: string;
  run?: RunStamp;
}

/** When and by whom an output was made; `kept` when it was read back from the file (an earlier run). */
export interface RunStamp {
  /** Milliseconds since the epoch. */
  ranAt: number;
  ranBy?: string;
  kept?: boolean;
}
