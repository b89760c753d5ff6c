// A failed run: the error type as a heading, DuckDB's message in monospace,
// and, when DuckDB said where, the cell's line with a caret under the
// character (the same position is squiggled in the cell's SQL).
import type { ErrorPayload } from '../../extension/core/resultPayload';
import { buildRunStamp } from './runStamp';

export function buildErrorBlock(payload: ErrorPayload): HTMLElement {
  const box = document.createElement('div');
  box.className = 'sqlroom-error-block';
  box.setAttribute('role', 'alert');
  if (payload.run?.kept) box.append(buildRunStamp(payload.run));
  const title = document.createElement('div');
  title.className = 'sqlroom-error-title';
  title.textContent = payload.title;
  if (payload.position) {
    const where = document.createElement('span');
    where.className = 'sqlroom-error-where';
    where.textContent = `line ${payload.position.line + 1}, column ${payload.position.column + 1}`;
    title.append(' ', where);
  }
  const message = document.createElement('pre');
  message.className = 'sqlroom-error-message';
  message.textContent = payload.message;
  box.append(title, message);
  if (payload.position && payload.sourceLine !== undefined) {
    const context = document.createElement('pre');
    context.className = 'sqlroom-error-context';
    const gutter = `${payload.position.line + 1} │ `;
    const line = document.createElement('span');
    line.className = 'sqlroom-error-source';
    line.textContent = gutter + payload.sourceLine;
    const caret = document.createElement('span');
    caret.className = 'sqlroom-error-caret';
    // Tabs stay tabs so the caret lines up with the source however wide a tab is drawn.
    const lead = payload.sourceLine.slice(0, payload.position.column).replace(/[^\t]/g, ' ');
    caret.textContent = ' '.repeat(gutter.length) + lead + '^';
    context.append(line, '\n', caret);
    box.append(context);
  }
  return box;
}
