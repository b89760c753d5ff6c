// Finds where and why a text is not valid JSON (RFC 8259), and whether it
// simply stops too early (a truncated file). Used only after JSON.parse has
// failed, to give a person a line and column. Iterative, so deep nesting
// cannot overflow the stack.

export interface JsonSyntaxProblem {
  /** UTF-16 offset of the problem. */
  offset: number;
  /** 1-based. */
  line: number;
  /** 1-based, in characters (UTF-16 code units) from the start of the line. */
  column: number;
  /** The input ended before the JSON value was complete. */
  truncated: boolean;
  /** What is wrong, e.g. `expected ',' or '}' after an object member, found '"'`. */
  reason: string;
}

class Stop extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Returns the first syntax problem of `text`, or undefined when it is valid JSON. */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  try {
    scan(text);
    return undefined;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    const { line, column } = lineAndColumn(text, e.offset);
    return { offset: e.offset, line, column, truncated: e.offset >= text.length, reason: e.reason };
  }
}

export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function scan(text: string): void {
  const n = text.length;
  let pos = 0;
  // Open containers: '{' or '['.
  const stack: string[] = [];

  const found = (): string => (pos >= n ? 'the end of the input' : `'${text[pos]}'`);
  const fail = (reason: string, at = pos): never => {
    throw new Stop(at, reason);
  };
  const skipWs = (): void => {
    while (pos < n) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };
  const readString = (): void => {
    const start = pos;
    pos++; // opening quote
    for (;;) {
      if (pos >= n) fail(`unterminated string (it starts at offset ${start})`);
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        return;
      }
      if (c === 0x5c) {
        const e = text[pos + 1];
        if (e === undefined) fail('unterminated escape sequence in a string', pos + 1);
        if ('"\\/bfnrt'.includes(e)) {
          pos += 2;
        } else if (e === 'u') {
          for (let k = 2; k < 6; k++) {
            if (pos + k >= n) fail('unterminated \\u escape in a string', n);
            if (!/[0-9a-fA-F]/.test(text[pos + k])) fail(`invalid \\u escape in a string: '${text[pos + k]}' is not a hex digit`, pos + k);
          }
          pos += 6;
        } else {
          fail(`invalid escape '\\${e}' in a string`);
        }
        continue;
      }
      if (c < 0x20) fail('a control character (e.g. a raw line break) inside a string must be escaped');
      pos++;
    }
  };
  const readNumber = (): void => {
    const digits = (what: string): void => {
      if (pos >= n) fail(`number ends before its ${what}`);
      if (!/[0-9]/.test(text[pos])) fail(`expected a digit in a number's ${what}, found ${found()}`);
      while (pos < n && /[0-9]/.test(text[pos])) pos++;
    };
    if (text[pos] === '-') pos++;
    if (text[pos] === '0') pos++;
    else digits('integer part');
    if (text[pos] === '.') {
      pos++;
      digits('fraction');
    }
    if (text[pos] === 'e' || text[pos] === 'E') {
      pos++;
      if (text[pos] === '+' || text[pos] === '-') pos++;
      digits('exponent');
    }
  };
  const readLiteral = (word: string): void => {
    for (let k = 0; k < word.length; k++) {
      if (pos + k >= n) fail(`input ends inside '${word}'`, n);
      if (text[pos + k] !== word[k]) fail(`expected '${word}', found '${text.slice(pos, pos + k + 1)}'`, pos + k);
    }
    pos += word.length;
  };
  /** Reads one value; for '{' or '[' only opens it. Returns true if it opened a container. */
  const readValue = (): boolean => {
    skipWs();
    if (pos >= n) fail('expected a value, found the end of the input');
    const c = text[pos];
    if (c === '{' || c === '[') {
      stack.push(c);
      pos++;
      return true;
    }
    if (c === '"') readString();
    else if (c === '-' || (c >= '0' && c <= '9')) readNumber();
    else if (c === 't') readLiteral('true');
    else if (c === 'f') readLiteral('false');
    else if (c === 'n') readLiteral('null');
    else fail(`expected a value, found ${found()}`);
    return false;
  };
  const readKey = (): void => {
    skipWs();
    if (text[pos] !== '"') fail(`expected a quoted member name, found ${found()}`);
    readString();
    skipWs();
    if (text[pos] !== ':') fail(`expected ':' after a member name, found ${found()}`);
    pos++;
  };

  // `opened`: the last readValue opened a container whose first member comes next.
  let opened = readValue();
  for (;;) {
    if (opened) {
      skipWs();
      const top = stack[stack.length - 1];
      const close = top === '{' ? '}' : ']';
      if (text[pos] === close) {
        stack.pop();
        pos++;
        opened = false;
        continue;
      }
      if (top === '{') readKey();
      opened = readValue();
      continue;
    }
    // A value just ended.
    skipWs();
    if (stack.length === 0) {
      if (pos < n) fail(`unexpected ${found()} after the end of the JSON value`);
      return;
    }
    const top = stack[stack.length - 1];
    const close = top === '{' ? '}' : ']';
    if (text[pos] === ',') {
      pos++;
      skipWs();
      if (text[pos] === close) fail(`trailing comma before '${close}'`);
      if (top === '{') readKey();
      opened = readValue();
      continue;
    }
    if (text[pos] === close) {
      stack.pop();
      pos++;
      continue;
    }
    fail(`expected ',' or '${close}' after ${top === '{' ? 'an object member' : 'an array element'}, found ${found()}`);
  }
}
