// Checks that an output item's JSON is a ResultPayload before anything is
// drawn, so a damaged or foreign output shows a message instead of throwing.
import type { ErrorPayload, ResultColumn, ResultPayload, RunStamp } from '../../extension/core/resultPayload';

export type ParseResult = { ok: true; payload: ResultPayload } | { ok: false; error: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isColumn(v: unknown): v is ResultColumn {
  return isObject(v) && typeof v.name === 'string' && typeof v.type === 'string';
}

/** Validates `raw` (already parsed JSON) and returns the payload or why it is not one. */
export function parsePayload(raw: unknown): ParseResult {
  const fail = (error: string): ParseResult => ({ ok: false, error });
  if (!isObject(raw)) return fail('the output is not a JSON object');
  if (raw.version !== 1) return fail(`unsupported result version ${JSON.stringify(raw.version)} (expected 1)`);
  const { columns, rows, rowCount, truncated, elapsedMs, view } = raw;
  if (!Array.isArray(columns)) return fail('"columns" is not a list');
  const badColumn = columns.findIndex((c) => !isColumn(c));
  if (badColumn >= 0) return fail(`column ${badColumn + 1} has no name or type`);
  if (!Array.isArray(rows)) return fail('"rows" is not a list');
  for (let i = 0; i < rows.length; i++) {
    const row: unknown = rows[i];
    if (!Array.isArray(row)) return fail(`row ${i + 1} is not a list`);
    if (row.length !== columns.length) return fail(`row ${i + 1} has ${row.length} values, expected ${columns.length}`);
  }
  if (typeof rowCount !== 'number' || !Number.isInteger(rowCount) || rowCount < rows.length) {
    return fail('"rowCount" is missing or smaller than the rows given');
  }
  if (typeof truncated !== 'boolean') return fail('"truncated" is not true or false');
  if (typeof elapsedMs !== 'number') return fail('"elapsedMs" is not a number');
  if (view !== undefined && typeof view !== 'string') return fail('"view" is not a string');
  if (raw.run !== undefined && !isRunStamp(raw.run)) return fail('"run" is not a run stamp');
  if (raw.cellId !== undefined && typeof raw.cellId !== 'string') return fail('"cellId" is not a string');
  return { ok: true, payload: raw as unknown as ResultPayload };
}

export type ParseErrorResult = { ok: true; payload: ErrorPayload } | { ok: false; error: string };

/** Validates an error output (ERROR_MIME). */
export function parseErrorPayload(raw: unknown): ParseErrorResult {
  const fail = (error: string): ParseErrorResult => ({ ok: false, error });
  if (!isObject(raw)) return fail('the error output is not a JSON object');
  if (raw.version !== 1) return fail(`unsupported error version ${JSON.stringify(raw.version)} (expected 1)`);
  if (typeof raw.title !== 'string' || typeof raw.message !== 'string') return fail('the error output has no title or message');
  const p = raw.position;
  if (p !== undefined && !(isObject(p) && Number.isInteger(p.line) && Number.isInteger(p.column) && (p.line as number) >= 0 && (p.column as number) >= 0)) {
    return fail('"position" is not a line and column');
  }
  if (raw.sourceLine !== undefined && typeof raw.sourceLine !== 'string') return fail('"sourceLine" is not a string');
  if (raw.run !== undefined && !isRunStamp(raw.run)) return fail('"run" is not a run stamp');
  return { ok: true, payload: raw as unknown as ErrorPayload };
}

export function isRunStamp(v: unknown): v is RunStamp {
  return isObject(v) && typeof v.ranAt === 'number' && (v.ranBy === undefined || typeof v.ranBy === 'string') && (v.kept === undefined || typeof v.kept === 'boolean');
}
