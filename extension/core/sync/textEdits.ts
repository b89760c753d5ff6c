// Text differences as a few precise splices (UTF-16 offsets), so a remote
// change becomes VS Code TextEdits that leave the local cursor where it is,
// and a local edit can be rebased over remote text VS Code does not show yet.
import { LoroDoc } from 'loro-crdt';
import { commonEnds } from '../../../server/shared/textDiff';

/** Replace `[start, end)` of the old text with `insert`. */
export interface TextSplice {
  start: number;
  end: number;
  insert: string;
}

/**
 * Splices (ascending, non-overlapping, offsets in `before`) that turn
 * `before` into `after`. One region when only one place changed; otherwise
 * Loro's own diff (Myers) so unrelated text in between is left alone.
 */
export function textEdits(before: string, after: string): TextSplice[] {
  if (before === after) return [];
  const { prefix, suffix } = commonEnds(before, after);
  const removed = before.length - prefix - suffix;
  const added = after.length - prefix - suffix;
  if (removed === 0 || added === 0 || removed + added <= 2) {
    return [{ start: prefix, end: prefix + removed, insert: after.slice(prefix, prefix + added) }];
  }
  return diffByLoro(before, after);
}

function diffByLoro(before: string, after: string): TextSplice[] {
  const doc = new LoroDoc();
  const text = doc.getText('t');
  text.insert(0, before);
  doc.commit();
  const splices: TextSplice[] = [];
  const unsubscribe = doc.subscribe((batch) => {
    for (const ev of batch.events) {
      if (ev.diff.type !== 'text') continue;
      let pos = 0; // offset in `before`
      for (const d of ev.diff.diff) {
        if ('retain' in d && d.retain !== undefined) pos += d.retain;
        else if ('delete' in d && d.delete !== undefined) {
          push(splices, { start: pos, end: pos + d.delete, insert: '' });
          pos += d.delete;
        } else if ('insert' in d && typeof d.insert === 'string') push(splices, { start: pos, end: pos, insert: d.insert });
      }
    }
  });
  try {
    text.update(after, { timeoutMs: 200 });
  } catch {
    text.updateByLine(after);
  }
  doc.commit();
  unsubscribe();
  doc.free();
  if (applySplices(before, splices) !== after) {
    // Should not happen; one region is always right.
    const { prefix, suffix } = commonEnds(before, after);
    return [{ start: prefix, end: before.length - suffix, insert: after.slice(prefix, after.length - suffix) }];
  }
  return splices;
}

/** Merges touching splices (a delete right before an insert becomes a replace). */
function push(out: TextSplice[], s: TextSplice): void {
  const last = out[out.length - 1];
  if (last && last.end === s.start) {
    last.end = s.end;
    last.insert += s.insert;
  } else out.push(s);
}

/** Applies ascending, non-overlapping splices given in the old text's offsets. */
export function applySplices(text: string, splices: readonly TextSplice[]): string {
  let out = '';
  let pos = 0;
  for (const s of splices) {
    out += text.slice(pos, s.start) + s.insert;
    pos = s.end;
  }
  return out + text.slice(pos);
}

/**
 * Where a position of `base` lands in `current`, given that `current` differs
 * from `base` by `edits` (ascending splices in base offsets). A position inside
 * a replaced region goes to the region's end; `stickLeft` keeps a position at
 * an insertion point before the inserted text.
 */
export function mapOffset(pos: number, edits: readonly TextSplice[], stickLeft = false): number {
  let delta = 0;
  for (const e of edits) {
    if (pos < e.start) break;
    if (pos === e.start && (e.start !== e.end || stickLeft)) break;
    if (pos < e.end) return e.start + delta + e.insert.length;
    delta += e.insert.length - (e.end - e.start);
  }
  return pos + delta;
}
