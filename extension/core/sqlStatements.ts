// Splitting a cell's SQL into statements, and naming views safely.
//
// DuckDB parses the cell itself (extractStatements) and decides what runs; this
// splitter only finds statement boundaries in the source text, which DuckDB's
// API does not expose and which a named cell needs (its last statement becomes
// `CREATE VIEW ... AS <text>`). It follows DuckDB's lexer where ';' can hide:
// '...' strings ('' escape), E'...' strings (backslash escapes), "..." identifiers,
// $tag$...$tag$ strings, -- line comments and nested /* */ comments.

const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

/**
 * The statements of `sql` in order, each trimmed and without its ';'.
 * Pieces holding only whitespace and comments are dropped, so an empty or
 * comment-only cell gives [].
 */
export function splitSqlStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let hasCode = false; // the current piece holds something besides comments/space
  let i = 0;
  const n = sql.length;

  const endPiece = (end: number): void => {
    if (hasCode) statements.push(sql.slice(start, end).trim());
    start = end + 1;
    hasCode = false;
  };

  while (i < n) {
    const ch = sql[i];
    const next = i + 1 < n ? sql[i + 1] : '';
    if (ch === '-' && next === '-') {
      const eol = sql.indexOf('\n', i + 2);
      i = eol === -1 ? n : eol + 1;
    } else if (ch === '/' && next === '*') {
      i = skipBlockComment(sql, i);
    } else if (ch === ';') {
      endPiece(i);
      i++;
    } else if (ch === "'") {
      hasCode = true;
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]) && (i < 2 || !IDENT_CHAR.test(sql[i - 2]));
      i = skipQuoted(sql, i, "'", escapes);
    } else if (ch === '"') {
      hasCode = true;
      i = skipQuoted(sql, i, '"', false);
    } else if (ch === '$' && (i === 0 || !IDENT_CHAR.test(sql[i - 1]))) {
      hasCode = true;
      const tag = DOLLAR_TAG.exec(sql.slice(i, i + 256));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? n : close + tag[0].length;
      } else {
        i++; // a parameter such as $1
      }
    } else {
      if (!/\s/.test(ch)) hasCode = true;
      i++;
    }
  }
  endPiece(n);
  return statements;
}

/** Index just past the block comment opening at `from` (DuckDB nests them). */
function skipBlockComment(sql: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return sql.length;
}

/** Index just past the quoted token opening at `from`; a doubled quote is an escaped quote. */
function skipQuoted(sql: string, from: number, quote: string, backslashEscapes: boolean): number {
  let i = from + 1;
  while (i < sql.length) {
    const ch = sql[i];
    if (backslashEscapes && ch === '\\') {
      i += 2;
    } else if (ch === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return sql.length;
}

/**
 * Whether `name` may name a cell's view: letters (any script), digits and '_',
 * not starting with a digit, at most 63 characters. The name is always quoted
 * when the view is created; this only keeps names to plain identifiers.
 */
export function isValidViewName(name: string): boolean {
  return name.length <= 63 && /^[\p{L}_][\p{L}\p{N}_]*$/u.test(name);
}

/** `name` as a double-quoted SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
