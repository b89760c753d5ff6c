// Blame: for each line of a cell, who last wrote it and when, from the Loro
// history (works on any LoroDoc, so on a read-only version's doc too).
//
// Every character of a LoroText carries the id (peer, counter) of the op that
// inserted it. Asking for each character (getCursor(pos).pos()) costs one
// WASM call per character. LoroText.iter() instead walks the text's internal
// chunks, and a chunk is a run of characters with consecutive ids of one
// peer (Loro merges runs only when their ids continue), so one getCursor per
// chunk gives every character's id: the k-th character of a chunk has
// counter + k. A line's blame is its newest character (highest Lamport
// time); a line's own newline counts only when the line is empty. Deleting
// characters leaves no character behind, so a line that only lost text keeps
// the blame of what remains (as in git blame).

import { LoroMap, type LoroDoc, type LoroText, type PeerID } from 'loro-crdt';
import { authorsFromLoro } from './fromLoro';

export interface LineBlame {
  /** 0-based line number. */
  line: number;
  peer: string;
  author: string;
  /** Unix seconds of the change that wrote the line's newest character. */
  timestamp: number;
  /** Id "peer@counter" of that character's op. */
  op: string;
  /** Message of that change, if any. */
  message?: string;
}

interface ChangeInfo {
  counter: number;
  length: number;
  lamport: number;
  timestamp: number;
  message?: string;
}

/** Caches change metadata by peer (sorted by counter) so each change is asked of Loro once. */
class ChangeCache {
  private readonly byPeer = new Map<string, ChangeInfo[]>();
  constructor(private readonly doc: LoroDoc) {}

  get(peer: string, counter: number): ChangeInfo {
    let list = this.byPeer.get(peer);
    if (!list) this.byPeer.set(peer, (list = []));
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = list[mid];
      if (counter < c.counter) hi = mid - 1;
      else if (counter >= c.counter + c.length) lo = mid + 1;
      else return c;
    }
    const ch = this.doc.getChangeAt({ peer: peer as PeerID, counter });
    const info: ChangeInfo = { counter: ch.counter, length: ch.length, lamport: ch.lamport, timestamp: ch.timestamp };
    if (ch.message) info.message = ch.message;
    list.splice(lo, 0, info);
    return info;
  }

  lamportOf(peer: string, counter: number): number {
    const c = this.get(peer, counter);
    return c.lamport + (counter - c.counter);
  }
}

/** Number of Unicode code points in s[0, end) (op counters count code points). */
function codePoints(s: string, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) i++;
    n++;
  }
  return n;
}

/** Blame of every line of `text` (a LoroText attached to `doc`). */
export function blameText(doc: LoroDoc, text: LoroText): LineBlame[] {
  const changes = new ChangeCache(doc);
  const authors = authorsFromLoro(doc);
  // Best candidate per line: peer, counter, lamport.
  const best: { peer: string; counter: number; lamport: number }[] = [];
  let line = 0;
  let pos = 0; // UTF-16 offset of the chunk's start
  let lineHasText = false;
  const consider = (peer: string, counter: number) => {
    const lamport = changes.lamportOf(peer, counter);
    const b = best[line];
    if (!b || lamport > b.lamport || (lamport === b.lamport && peer > b.peer)) best[line] = { peer, counter, lamport };
  };
  const chunks: string[] = [];
  text.iter((s) => {
    chunks.push(s);
    return true;
  });
  for (const chunk of chunks) {
    const cursor = text.getCursor(pos);
    const id = cursor?.pos();
    cursor?.free();
    if (!id) {
      pos += chunk.length;
      continue;
    }
    // Walk the chunk line by line: the newest char of a run in one line is its last one.
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf('\n', start);
      const end = nl < 0 ? chunk.length : nl; // [start, end) is text of the current line
      if (end > start) {
        consider(id.peer, id.counter + codePoints(chunk, end) - 1);
        lineHasText = true;
      }
      if (nl < 0) break;
      if (!lineHasText) consider(id.peer, id.counter + codePoints(chunk, nl)); // an empty line: its newline
      line++;
      lineHasText = false;
      start = nl + 1;
    }
    pos += chunk.length;
  }
  const out: LineBlame[] = [];
  for (let l = 0; l < best.length; l++) {
    const b = best[l];
    if (!b) continue;
    const c = changes.get(b.peer, b.counter);
    const entry: LineBlame = { line: l, peer: b.peer, author: authors[b.peer] ?? 'unknown author', timestamp: c.timestamp, op: `${b.peer}@${b.counter}` };
    if (c.message) entry.message = c.message;
    out.push(entry);
  }
  return out;
}

/** Blame of each cell's source: cell id -> lines. */
export function blameNotebook(doc: LoroDoc): Map<string, LineBlame[]> {
  const out = new Map<string, LineBlame[]>();
  const list = doc.getMovableList('cells');
  for (let i = 0; i < list.length; i++) {
    const m = list.get(i);
    if (!(m instanceof LoroMap)) continue;
    const id = m.get('id');
    const source = m.get('source');
    if (typeof id !== 'string' || !source || typeof (source as LoroText).iter !== 'function') continue;
    out.set(id, blameText(doc, source as LoroText));
  }
  return out;
}

/** The slow reference: one getCursor per character (tests check blameText against it). */
export function blameTextPerChar(doc: LoroDoc, text: LoroText): LineBlame[] {
  const changes = new ChangeCache(doc);
  const authors = authorsFromLoro(doc);
  const s = text.toString();
  const best: { peer: string; counter: number; lamport: number }[] = [];
  let line = 0;
  let lineHasText = false;
  for (let i = 0; i < s.length; i++) {
    const cur = text.getCursor(i);
    const id = cur?.pos();
    cur?.free();
    const isNl = s[i] === '\n';
    if (id && (!isNl || !lineHasText)) {
      const lamport = changes.lamportOf(id.peer, id.counter);
      const b = best[line];
      if (!b || lamport > b.lamport || (lamport === b.lamport && id.peer > b.peer)) best[line] = { peer: id.peer, counter: id.counter, lamport };
    }
    if (isNl) {
      line++;
      lineHasText = false;
    } else {
      lineHasText = true;
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) i++;
    }
  }
  return best.flatMap((b, l) => {
    if (!b) return [];
    const c = changes.get(b.peer, b.counter);
    const entry: LineBlame = { line: l, peer: b.peer, author: authors[b.peer] ?? 'unknown author', timestamp: c.timestamp, op: `${b.peer}@${b.counter}` };
    if (c.message) entry.message = c.message;
    return [entry];
  });
}
