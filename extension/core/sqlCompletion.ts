// Completion and hover for SQL cells from the notebook's own DuckDB: DuckDB's
// `sql_auto_complete` (the autocomplete extension, built into @duckdb/node-api)
// knows the grammar, the catalog (tables, views = named cells, columns) and
// the functions; when it is missing, names come from duckdb_tables(),
// duckdb_views(), duckdb_columns() and duckdb_functions().
import type { DuckDbSession } from './duckdbSession';

export type SuggestionKind = 'keyword' | 'table' | 'view' | 'column' | 'function' | 'other';

export interface Suggestion {
  label: string;
  kind: SuggestionKind;
  /** Offset in the text given where the replaced word starts. */
  start: number;
}

/** The text of the statement the cursor is in, up to the cursor (after the last ';'). */
export function statementBeforeCursor(cellText: string, offset: number): { text: string; base: number } {
  const before = cellText.slice(0, offset);
  const semi = before.lastIndexOf(';');
  return { text: before.slice(semi + 1), base: semi + 1 };
}

export async function suggest(session: DuckDbSession, text: string): Promise<Suggestion[]> {
  try {
    const rows = await session.query('SELECT suggestion, suggestion_start, suggestion_type FROM sql_auto_complete($1) LIMIT 200', [text]);
    return rows.map((r) => ({ label: String(r.suggestion).trimEnd(), kind: kindOf(String(r.suggestion_type)), start: Number(r.suggestion_start) }));
  } catch {
    return fallback(session, text);
  }
}

function kindOf(type: string): SuggestionKind {
  if (type === 'keyword') return 'keyword';
  if (type === 'table') return 'table';
  if (type === 'column') return 'column';
  if (type.endsWith('function')) return 'function';
  return 'other';
}

/** Names from the catalog that start with the word before the cursor. */
async function fallback(session: DuckDbSession, text: string): Promise<Suggestion[]> {
  const word = /[A-Za-z0-9_]*$/.exec(text)![0];
  const start = text.length - word.length;
  const rows = await session.query(
    `SELECT DISTINCT name, kind FROM (
       SELECT table_name AS name, 'table' AS kind FROM duckdb_tables()
       UNION ALL SELECT view_name, 'view' FROM duckdb_views() WHERE NOT internal
       UNION ALL SELECT column_name, 'column' FROM duckdb_columns()
       UNION ALL SELECT function_name, 'function' FROM duckdb_functions()
     ) WHERE starts_with(lower(name), lower($1)) ORDER BY kind, name LIMIT 200`,
    [word],
  );
  return rows.map((r) => ({ label: String(r.name), kind: String(r.kind) as SuggestionKind, start }));
}

export interface RelationInfo {
  name: string;
  kind: 'table' | 'view';
  columns: { name: string; type: string }[];
}

/** The columns and types of a table or view (a named cell) called `name`, or undefined. */
export async function describeRelation(session: DuckDbSession, name: string): Promise<RelationInfo | undefined> {
  const rows = await session.query(
    `SELECT c.table_name, c.column_name, c.data_type, v.view_name IS NOT NULL AS is_view
       FROM duckdb_columns() c LEFT JOIN duckdb_views() v ON v.view_name = c.table_name AND v.schema_name = c.schema_name AND v.database_name = c.database_name
      WHERE lower(c.table_name) = lower($1) AND NOT c.internal
      ORDER BY c.database_name = current_database() DESC, c.schema_name = current_schema() DESC, c.column_index`,
    [name],
  );
  if (rows.length === 0) return undefined;
  const first = String(rows[0].table_name);
  const own = rows.filter((r) => String(r.table_name) === first);
  return { name: first, kind: own[0].is_view ? 'view' : 'table', columns: own.map((r) => ({ name: String(r.column_name), type: String(r.data_type) })) };
}

/** Markdown for a hover: "**trips** (table)" and a column list. */
export function relationMarkdown(info: RelationInfo, isNamedCell: boolean): string {
  const what = isNamedCell ? 'named cell (view)' : info.kind;
  const lines = [`**${info.name}** — ${what}, ${info.columns.length} column${info.columns.length === 1 ? '' : 's'}`, '', '| column | type |', '|---|---|'];
  for (const c of info.columns) lines.push(`| ${c.name.replace(/\|/g, '\\|')} | ${c.type.replace(/\|/g, '\\|')} |`);
  return lines.join('\n');
}
