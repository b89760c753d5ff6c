// Turns a failed run into the ErrorPayload the renderer draws and the
// position the cell's diagnostic marks.
import { SqlExecutionError } from './duckdbErrors';
import { splitDuckDbError } from './errorPosition';
import type { ErrorPayload, RunStamp } from './resultPayload';

export function toErrorPayload(error: unknown, cellText: string, run?: RunStamp): ErrorPayload {
  const raw = error instanceof Error ? error.message : String(error);
  if (error instanceof SqlExecutionError && error.cancelled) {
    return withRun({ version: 1, title: 'Cancelled', message: 'The query was interrupted.' }, run);
  }
  const split = splitDuckDbError(raw);
  const payload: ErrorPayload = { version: 1, title: split.type || (error instanceof SqlExecutionError ? 'DuckDB error' : 'Error'), message: split.text || raw };
  const position = error instanceof SqlExecutionError ? error.position : undefined;
  if (position) {
    payload.position = position;
    payload.sourceLine = (cellText.split('\n')[position.line] ?? '').replace(/\r$/, '');
  }
  return withRun(payload, run);
}

function withRun(payload: ErrorPayload, run: RunStamp | undefined): ErrorPayload {
  return run ? { ...payload, run } : payload;
}

/** The plain-text form (other viewers, and the text/plain item beside the error). */
export function errorText(payload: ErrorPayload): string {
  const lines = [`${payload.title}: ${payload.message}`];
  if (payload.position && payload.sourceLine !== undefined) {
    lines.push('', `LINE ${payload.position.line + 1}: ${payload.sourceLine}`, ' '.repeat(`LINE ${payload.position.line + 1}: `.length + payload.position.column) + '^');
  }
  return lines.join('\n');
}

/** The range to squiggle: the word (identifier, number or quoted name) at the position, at least one character. */
export function errorRange(lineText: string, column: number): { start: number; end: number } {
  const rest = lineText.slice(column);
  const m = /^("[^"]*"|'[^']*'|[A-Za-z0-9_$\u0080-\uffff.]+)/.exec(rest);
  const length = m ? m[0].length : 1;
  return { start: column, end: Math.min(lineText.length, column + length) || column + 1 };
}
