// SQL the result toolbar needs, built from the query that produced a result:
// the whole result sorted by one column (capped like a cell's result), and
// DuckDB's COPY of the whole result to a CSV or Parquet file. Pure string
// building, so quoting of identifiers, paths and odd SQL is unit-tested.
import { quoteIdentifier, splitSqlStatements } from './sqlStatements';

export type ExportFormat = 'csv' | 'parquet';

export interface SortRequest {
  /** 0-based index of the column in the result. */
  column: number;
  descending: boolean;
}

/** The statement whose rows a cell shows: its last one (earlier ones already ran), or undefined for an empty cell. */
export function resultQuery(cellSql: string): string | undefined {
  const statements = splitSqlStatements(cellSql);
  return statements.length === 0 ? undefined : statements[statements.length - 1];
}

/**
 * The key to ORDER BY: the column's quoted name, or its position when the
 * name is not unique in the result (SELECT 1 AS a, 2 AS a) and would be ambiguous.
 */
export function orderKey(columnNames: readonly string[], column: number): string {
  if (!Number.isInteger(column) || column < 0 || column >= columnNames.length) throw new RangeError(`no column ${column} in a result of ${columnNames.length}`);
  const name = columnNames[column];
  return columnNames.indexOf(name) === columnNames.lastIndexOf(name) ? quoteIdentifier(name) : String(column + 1);
}

/**
 * `query` (the cell's result statement) wrapped as a subquery and ordered by
 * one column, NULLs last both ways as the renderer's own sort, optionally
 * limited. The query goes on its own lines so a trailing `-- comment` cannot
 * swallow the closing parenthesis.
 */
export function sortedQuery(query: string, columnNames: readonly string[], sort: SortRequest | undefined, limit?: number): string {
  const body = stripTrailingSemicolons(query);
  let sql = `SELECT * FROM (\n${body}\n) AS sqlroom_result`;
  if (sort) sql += ` ORDER BY ${orderKey(columnNames, sort.column)} ${sort.descending ? 'DESC' : 'ASC'} NULLS LAST`;
  if (limit !== undefined) {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`bad limit ${limit}`);
    sql += ` LIMIT ${limit}`;
  }
  return sql;
}

/** A SQL string literal ('it''s'). */
export function quoteSqlString(text: string): string {
  if (text.includes('\0')) throw new Error('a path cannot contain a NUL character');
  return `'${text.replace(/'/g, "''")}'`;
}

/** `COPY (<query>) TO '<file>' (FORMAT ...)`: CSV with a header line, Parquet with DuckDB's defaults. */
export function copyStatement(query: string, file: string, format: ExportFormat): string {
  const options = format === 'csv' ? 'FORMAT csv, HEADER true' : 'FORMAT parquet';
  return `COPY (\n${stripTrailingSemicolons(query)}\n) TO ${quoteSqlString(file)} (${options})`;
}

/** The export format a file name asks for by its extension, else the fallback. */
export function formatForFile(file: string, fallback: ExportFormat): ExportFormat {
  const lower = file.toLowerCase();
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (lower.endsWith('.csv') || lower.endsWith('.tsv') || lower.endsWith('.txt')) return 'csv';
  return fallback;
}

/** A default file name for an export: the cell's name (or "result") and the format's extension. */
export function exportFileName(cellName: string | undefined, format: ExportFormat): string {
  const stem = (cellName ?? '').replace(/[^\p{L}\p{N}_.-]+/gu, '_').replace(/^[._]+/, '') || 'result';
  return `${stem}.${format}`;
}

function stripTrailingSemicolons(query: string): string {
  return query.trim().replace(/;+\s*$/, '');
}
