// Pure value formatting for result cells: which column types are numeric or
// nested, how a value is shown in a cell, and how counts and durations read.

export type CellKind = 'null' | 'number' | 'bool' | 'text' | 'nested';

export interface CellDisplay {
  kind: CellKind;
  /** What the cell shows (single line, possibly shortened). */
  text: string;
  /** The full value when `text` was shortened or flattened. */
  title?: string;
}

/** Cells longer than this many characters are shortened with an ellipsis. */
export const MAX_CELL_CHARS = 50;

const NUMERIC_TYPE =
  /^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|REAL|DOUBLE|VARINT|BIGNUM|INT[1248]|FLOAT[48]|(DECIMAL|NUMERIC)(\(\s*\d+\s*(,\s*\d+\s*)?\))?)$/i;

/** True for DuckDB scalar number types (not lists of them). */
export function isNumericType(type: string): boolean {
  return NUMERIC_TYPE.test(type.trim());
}

/** True for LIST (`T[]`), ARRAY (`T[n]`), STRUCT, MAP and UNION types. */
export function isNestedType(type: string): boolean {
  const t = type.trim().toUpperCase();
  return t.endsWith(']') || /^(STRUCT|MAP|UNION|LIST)\s*\(/.test(t);
}

/** Characters that make DuckDB quote a string inside a nested value. */
const NEEDS_QUOTES = /[,'"[\]{}():=\\\n]|^\s|\s$|^$|^NULL$/i;

function nestedScalar(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value);
  return NEEDS_QUOTES.test(value) ? `'${value.replace(/'/g, "\\'")}'` : value;
}

function isMapEntries(value: unknown): value is { key: unknown; value: unknown }[] {
  return Array.isArray(value) && value.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e) && 'key' in e && 'value' in e && Object.keys(e).length === 2);
}

/**
 * A nested value the way DuckDB prints it: `[1, 2]`, `{'a': 1, 'b': x}`,
 * `{k=1}` for maps (a JSON object when keys are VARCHAR, else key/value
 * entries), NULL for null.
 */
export function formatNested(value: unknown, asMap = false): string {
  if (value === null || value === undefined) return 'NULL';
  if (asMap && isMapEntries(value)) {
    return `{${value.map((e) => `${formatNested(e.key)}=${formatNested(e.value)}`).join(', ')}}`;
  }
  if (asMap && typeof value === 'object' && !Array.isArray(value)) {
    // A map with VARCHAR keys arrives as a JSON object.
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${nestedScalar(k)}=${formatNested(v)}`).join(', ')}}`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => formatNested(v)).join(', ')}]`;
  if (typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>);
    return `{${fields.map(([k, v]) => `'${k}': ${formatNested(v)}`).join(', ')}}`;
  }
  return nestedScalar(value as string | number | boolean);
}

/** Shortens `text` to MAX_CELL_CHARS code points, never splitting a surrogate pair. */
export function shorten(text: string, max = MAX_CELL_CHARS): string {
  if (text.length <= max) return text;
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max - 1).join('') + '…';
}

function display(kind: CellKind, full: string): CellDisplay {
  const oneLine = full.replace(/\r?\n/g, '↵').replace(/\t/g, ' ');
  const text = shorten(oneLine);
  return text === full ? { kind, text } : { kind, text, title: full };
}

/** How one value of a column with DuckDB type `type` is shown. */
export function formatCell(value: unknown, type: string): CellDisplay {
  if (value === null || value === undefined) return { kind: 'null', text: 'NULL' };
  if (isNestedType(type) || typeof value === 'object') {
    let parsed: unknown = value;
    if (typeof value === 'string') {
      try {
        parsed = JSON.parse(value);
      } catch {
        return display('nested', value); // already DuckDB's own text form
      }
    }
    return display('nested', formatNested(parsed, /^\s*MAP\s*\(/i.test(type)));
  }
  if (typeof value === 'boolean') return { kind: 'bool', text: String(value) };
  if (isNumericType(type)) return display('number', String(value));
  return display('text', String(value));
}

const countFormat = new Intl.NumberFormat('en-US');

/** 1234 → "1,234". */
export function formatCount(n: number): string {
  return countFormat.format(n);
}

/** "N rows" with the right plural. */
export function formatRows(n: number): string {
  return `${formatCount(n)} ${n === 1 ? 'row' : 'rows'}`;
}

/** 12.3 → "12 ms", 1530 → "1.53 s", 95000 → "1 min 35 s". */
export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}
