// Pure chart logic: which chart a result gets by default (from its column
// types), which columns may go on which axis, and the rows turned into
// plottable values (numbers from DuckDB's exact-number strings, Dates from
// its date/time text). No DOM, so it is unit-tested in Node.
import type { ChartChoice, ChartMark, ResultColumn, ResultValue } from '../../extension/core/resultPayload';
import { isNumericType } from './format';

export type AxisKind = 'number' | 'time' | 'category';

export const CHART_MARKS: readonly { mark: ChartMark; label: string }[] = [
  { mark: 'bar', label: 'Bar' },
  { mark: 'line', label: 'Line' },
  { mark: 'point', label: 'Scatter' },
  { mark: 'histogram', label: 'Histogram' },
];

/** Rows drawn at most: Plot draws SVG, and more marks than this help nobody read a chart. */
export const MAX_CHART_ROWS = 10_000;

const TIME_TYPE = /^(DATE|TIME|TIMESTAMP|TIMESTAMPTZ|TIMESTAMP(_S|_MS|_NS)?|TIMESTAMP WITH TIME ZONE|DATETIME)$/i;

export function axisKind(type: string): AxisKind {
  const t = type.trim();
  if (isNumericType(t)) return 'number';
  if (TIME_TYPE.test(t)) return 'time';
  return 'category';
}

/** The chart a result starts with: a line over time, bars per category, a scatter of two numbers, or a histogram. */
export function defaultChart(columns: readonly ResultColumn[]): ChartChoice | undefined {
  if (columns.length === 0) return undefined;
  const kinds = columns.map((c) => axisKind(c.type));
  const first = (kind: AxisKind, not?: number) => kinds.findIndex((k, i) => k === kind && i !== not);
  const time = first('time');
  const num = first('number');
  const cat = first('category');
  if (time >= 0 && num >= 0) return { mark: 'line', x: columns[time].name, y: columns[num].name };
  if (cat >= 0 && num >= 0) return { mark: 'bar', x: columns[cat].name, y: columns[num].name };
  const num2 = num >= 0 ? first('number', num) : -1;
  if (num2 >= 0) return { mark: 'point', x: columns[num].name, y: columns[num2].name };
  return { mark: 'histogram', x: columns[num >= 0 ? num : 0].name };
}

/** The choice made valid for these columns: unknown columns replaced by the default's, y dropped for histograms. */
export function fitChart(choice: ChartChoice | undefined, columns: readonly ResultColumn[]): ChartChoice | undefined {
  const fallback = defaultChart(columns);
  if (!choice || !fallback) return fallback;
  const names = columns.map((c) => c.name);
  const x = names.includes(choice.x) ? choice.x : fallback.x;
  if (choice.mark === 'histogram') return { mark: 'histogram', x };
  const y = choice.y !== undefined && names.includes(choice.y) ? choice.y : (fallback.y ?? names.find((n) => n !== x) ?? x);
  return { mark: choice.mark, x, y };
}

/** DuckDB's date/time text as a Date ('2024-03-01', '2024-03-01 10:00:00.5', '2024-03-01 10:00:00+01'), or null. */
export function parseTime(text: string): Date | null {
  let s = text.trim();
  if (/^\d{2}:\d{2}/.test(s)) s = `1970-01-01T${s}`; // TIME: a time of day on a fixed date
  s = s.replace(' ', 'T');
  if (s.includes('T')) s = s.replace(/([+-]\d{2})$/, '$1:00'); // '+01' → '+01:00' (not the day of a DATE)
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) s += 'T00:00:00Z'; // a DATE is a calendar day, not local midnight
  else if (!/(Z|[+-]\d{2}:\d{2})$/.test(s)) s += 'Z';
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** A value on an axis of this kind; null when it has none (NULL, not a number, not a date). */
export function plotValue(value: ResultValue, kind: AxisKind): number | Date | string | null {
  if (value === null) return null;
  if (kind === 'number') {
    const n = typeof value === 'number' ? value : Number(value);
    return Number.isFinite(n) ? n : null;
  }
  if (kind === 'time') return parseTime(String(value));
  return String(value);
}

export interface ChartData {
  x: { name: string; kind: AxisKind };
  y?: { name: string; kind: AxisKind };
  points: { x: number | Date | string; y?: number | Date | string }[];
  /** Rows left out: NULL or unreadable values, or beyond MAX_CHART_ROWS. */
  skipped: number;
  /** Some x value occurs more than once (bars then add up their y). */
  repeatedX: boolean;
}

/** The points to draw for `choice` (lines ordered along x). */
export function chartData(columns: readonly ResultColumn[], rows: readonly ResultValue[][], choice: ChartChoice): ChartData {
  const xi = columns.findIndex((c) => c.name === choice.x);
  if (xi < 0) throw new Error(`no column "${choice.x}" in the result`);
  const x = { name: choice.x, kind: axisKind(columns[xi].type) };
  const yi = choice.mark === 'histogram' || choice.y === undefined ? -1 : columns.findIndex((c) => c.name === choice.y);
  if (choice.mark !== 'histogram' && yi < 0) throw new Error(`no column "${choice.y ?? ''}" in the result`);
  const y = yi >= 0 ? { name: columns[yi].name, kind: axisKind(columns[yi].type) } : undefined;
  const points: ChartData['points'] = [];
  let skipped = Math.max(0, rows.length - MAX_CHART_ROWS);
  for (const row of rows.slice(0, MAX_CHART_ROWS)) {
    const px = plotValue(row[xi], x.kind);
    const py = y ? plotValue(row[yi], y.kind) : undefined;
    if (px === null || py === null) skipped++;
    else points.push(y ? { x: px, y: py as number | Date | string } : { x: px });
  }
  if (choice.mark === 'line' && x.kind !== 'category') points.sort((a, b) => Number(a.x) - Number(b.x));
  const seen = new Set(points.map((p) => (p.x instanceof Date ? p.x.getTime() : p.x)));
  return { x, ...(y ? { y } : {}), points, skipped, repeatedX: seen.size < points.length };
}
