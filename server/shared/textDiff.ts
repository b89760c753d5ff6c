// Minimal edits to a LoroText. Positions are UTF-16 code units (what JS and
// VS Code use, and what LoroText's JS API takes); Loro refuses a position
// inside a surrogate pair, so such positions are widened to whole code points.

import type { LoroText } from 'loro-crdt';

/** Above this time Myers' diff gives up and we diff by lines instead. */
const CHAR_DIFF_TIMEOUT_MS = 300;

/**
 * Turns `text` into `target` with a diff (never delete-all + insert-all).
 * Returns false when the text already equals `target`.
 */
export function updateText(text: LoroText, target: string): boolean {
  const current = text.toString();
  if (current === target) return false;
  const { prefix, suffix } = commonEnds(current, target);
  const removed = current.length - prefix - suffix;
  const added = target.slice(prefix, target.length - suffix);
  if (removed === 0 || added.length === 0) {
    // Pure insertion or deletion: one splice is already minimal.
    text.splice(prefix, removed, added);
    return true;
  }
  try {
    text.update(target, { timeoutMs: CHAR_DIFF_TIMEOUT_MS });
  } catch {
    // Myers' diff is quadratic on very different large texts; a line diff is
    // less precise but bounded. update() changes nothing when it times out.
    text.updateByLine(target);
  }
  return true;
}

/** Lengths of the common prefix and suffix, never splitting a surrogate pair. */
export function commonEnds(a: string, b: string): { prefix: number; suffix: number } {
  const max = Math.min(a.length, b.length);
  let prefix = 0;
  while (prefix < max && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  if (prefix > 0 && isHigh(a.charCodeAt(prefix - 1))) prefix--; // stopped inside a pair
  let suffix = 0;
  const maxSuffix = max - prefix;
  while (suffix < maxSuffix && a.charCodeAt(a.length - 1 - suffix) === b.charCodeAt(b.length - 1 - suffix)) suffix++;
  if (suffix > 0 && isLow(a.charCodeAt(a.length - suffix))) suffix--; // starts inside a pair
  return { prefix, suffix };
}

/**
 * Replaces `deleteCount` UTF-16 code units at `offset` with `insert`, exactly
 * like the same splice on a JS string. When a boundary falls inside a
 * surrogate pair, the edit is widened to whole code points (the result is the
 * same; a lone surrogate left in the result is stored by Loro as U+FFFD).
 * The caller checks the range.
 */
export function spliceText(text: LoroText, offset: number, deleteCount: number, insert: string): void {
  const end = offset + deleteCount;
  const start = floorToCodePoint(text, offset);
  const stop = ceilToCodePoint(text, end);
  if (start === offset && stop === end) {
    if (deleteCount === 0 && insert.length === 0) return;
    text.splice(offset, deleteCount, insert);
    return;
  }
  const region = text.slice(start, stop);
  text.splice(start, stop - start, region.slice(0, offset - start) + insert + region.slice(end - start));
}

function floorToCodePoint(text: LoroText, utf16: number): number {
  if (utf16 <= 0 || utf16 >= text.length) return utf16;
  const cp = text.convertPos(utf16, 'utf16', 'unicode');
  return typeof cp === 'number' ? (text.convertPos(cp, 'unicode', 'utf16') as number) : utf16;
}

function ceilToCodePoint(text: LoroText, utf16: number): number {
  const floor = floorToCodePoint(text, utf16);
  return floor === utf16 ? utf16 : floor + 2;
}

function isHigh(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLow(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
