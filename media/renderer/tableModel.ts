// Pure table logic: stable column widths computed from every kept row (so
// the table does not change width from page to page), sorting the kept rows
// by a column with DuckDB-like ordering (numbers by value, NULLs last), and
// TSV for copying cells, rows or a selection.
import type { ResultColumn, ResultValue } from '../../extension/core/resultPayload';
import { formatCell, isNumericType, MAX_CELL_CHARS } from './format';

/** Width of each column in characters: the longest shown value, name or type (types shortened to 40). */
export function columnWidths(columns: readonly ResultColumn[], rows: readonly ResultValue[][]): number[] {
  return columns.map((column, c) => {
    let width = Math.max(column.name.length, Math.min(column.type.length, 40), 4);
    for (const row of rows) {
      const n = Array.from(formatCell(row[c], column.type).text).length;
      if (n > width) width = n;
      if (width >= MAX_CELL_CHARS) break;
    }
    return Math.min(width, MAX_CELL_CHARS);
  });
}

export interface SortState {
  column: number;
  descending: boolean;
}

/** The next sort after clicking a column header: ascending, descending, then unsorted. */
export function nextSort(current: SortState | undefined, column: number): SortState | undefined {
  if (!current || current.column !== column) return { column, descending: false };
  return current.descending ? undefined : { column, descending: true };
}

/** Row indices of `rows` in sorted order (stable); NULLs last in both directions, as DuckDB's default. */
export function sortedOrder(rows: readonly ResultValue[][], column: ResultColumn, index: number, descending: boolean): number[] {
  const numeric = isNumericType(column.type);
  const order = rows.map((_, i) => i);
  const key = (v: ResultValue): number | bigint | string | boolean => {
    if (numeric && typeof v === 'string') {
      if (/^-?\d+$/.test(v)) return BigInt(v);
      const n = Number(v);
      return Number.isNaN(n) ? v : n;
    }
    return v as number | string | boolean;
  };
  order.sort((a, b) => {
    const va = rows[a][index];
    const vb = rows[b][index];
    if (va === null || vb === null) return va === vb ? a - b : va === null ? 1 : -1;
    const ka = key(va);
    const kb = key(vb);
    let cmp: number;
    if ((typeof ka === 'number' || typeof ka === 'bigint') && (typeof kb === 'number' || typeof kb === 'bigint')) cmp = ka < kb ? -1 : ka > kb ? 1 : 0;
    else cmp = String(ka) < String(kb) ? -1 : String(ka) > String(kb) ? 1 : 0;
    return (descending ? -cmp : cmp) || a - b;
  });
  return order;
}

/** A value as TSV text: NULL is empty, tabs and newlines become spaces (so the grid stays a grid). */
function tsvValue(v: ResultValue): string {
  if (v === null) return '';
  return String(v).replace(/[\t\r\n]+/g, ' ');
}

/** TSV of rows [r0..r1] × columns [c0..c1] (inclusive; rows are indices into `rows` as shown), with a header line when asked. */
export function toTsv(columns: readonly ResultColumn[], rows: readonly ResultValue[][], shown: readonly number[], r0: number, r1: number, c0: number, c1: number, header = false): string {
  const lines: string[] = [];
  const cols = columns.slice(c0, c1 + 1);
  if (header) lines.push(cols.map((c) => c.name).join('\t'));
  for (let r = r0; r <= r1; r++) {
    const row = rows[shown[r]];
    lines.push(cols.map((_, k) => tsvValue(row[c0 + k])).join('\t'));
  }
  return lines.join('\n');
}
