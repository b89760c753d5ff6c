// Where in a cell a DuckDB error points. DuckDB (parser, binder and catalog
// errors) ends its message with a context block:
//
//   Binder Error: Referenced column "nope" not found in FROM clause!
//
//   LINE 1: SELECT nope FROM range(3)
//                  ^
//
// node-api exposes no structured position, so the block is parsed: the text
// after "LINE n: " is the statement's line n (shortened with "..." when long)
// and the caret sits under the character. The line is then found in the cell
// by its text, which also covers statements DuckDB numbered from elsewhere
// (a later statement of the cell, the CREATE VIEW wrapper of a named cell).

export interface CellPosition {
  /** 0-based line in the cell. */
  line: number;
  /** 0-based UTF-16 column in that line. */
  column: number;
}

export interface ErrorContext {
  /** DuckDB's "LINE n" (1-based, counted in the text DuckDB was given). */
  lineNumber: number;
  /** The line as DuckDB showed it, without a leading/trailing "...". */
  snippet: string;
  /** Column of the caret inside `snippet`. */
  caret: number;
}

export interface SplitError {
  /** "Parser Error", "Binder Error", "Catalog Error", ... (empty when DuckDB gave no type). */
  type: string;
  /** The message without its type prefix and without the LINE block. */
  text: string;
  context?: ErrorContext;
}

const TYPE_RE = /^([A-Z][A-Za-z ]*? Error): /;
const CONTEXT_RE = /\n\s*LINE (\d+): ([^\n]*)\n( *)\^\s*$/;

/** Splits DuckDB's message into type, text and the LINE context (when there is one). */
export function splitDuckDbError(message: string): SplitError {
  let rest = message;
  let type = '';
  const t = TYPE_RE.exec(rest);
  if (t) {
    type = t[1];
    rest = rest.slice(t[0].length);
  }
  const m = CONTEXT_RE.exec(rest);
  if (!m) return { type, text: rest.trim() };
  const prefix = `LINE ${m[1]}: `.length;
  let snippet = m[2];
  let caret = m[3].length - prefix;
  if (snippet.startsWith('...')) {
    snippet = snippet.slice(3);
    caret -= 3;
  }
  if (snippet.endsWith('...')) snippet = snippet.slice(0, -3);
  const text = rest.slice(0, m.index).trim();
  if (caret < 0) return { type, text };
  return { type, text, context: { lineNumber: Number(m[1]), snippet, caret: indexAtWidth(snippet, caret) } };
}

/**
 * DuckDB places the caret by display width (a tab or other control
 * character counts 0, a wide CJK character or emoji 2): the UTF-16 index in
 * `text` of the character that starts at display column `width`.
 */
export function indexAtWidth(text: string, width: number): number {
  let w = 0;
  let i = 0;
  for (const ch of text) {
    if (w >= width && displayWidth(ch) > 0) return i;
    w += displayWidth(ch);
    i += ch.length;
  }
  return i;
}

function displayWidth(ch: string): number {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (/\p{Mn}|\p{Me}/u.test(ch)) return 0;
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

/**
 * The position in `cellText` the context points at. `firstLine` is the cell
 * line DuckDB's "LINE 1" corresponds to (the failing statement's first line);
 * among cell lines holding the snippet, the one nearest to the expected line wins.
 */
export function locateInCell(cellText: string, context: ErrorContext, firstLine = 0): CellPosition | undefined {
  const lines = cellText.split('\n');
  const expected = firstLine + context.lineNumber - 1;
  let best: CellPosition | undefined;
  let bestDistance = Infinity;
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    // DuckDB shows tabs as they are; an empty snippet (error at end of an empty line) matches the expected line only.
    const at = context.snippet === '' ? (index === expected ? 0 : -1) : line.indexOf(context.snippet);
    if (at < 0) return;
    const distance = Math.abs(index - expected);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = { line: index, column: Math.min(at + context.caret, line.length) };
    }
  });
  return best;
}

/** The 0-based cell line where `statement` (a trimmed piece of the cell) starts, searching from `fromOffset`. */
export function statementStart(cellText: string, statement: string, fromOffset = 0): { line: number; endOffset: number } | undefined {
  const at = cellText.indexOf(statement, fromOffset);
  if (at < 0) return undefined;
  const line = cellText.slice(0, at).split('\n').length - 1;
  return { line, endOffset: at + statement.length };
}
