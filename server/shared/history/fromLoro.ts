// Reads the history input (types.ts) out of a local LoroDoc: the notebook's
// own history works offline, with no server.

import { LoroDoc, LoroMap } from 'loro-crdt';
import { listCheckpoints } from './checkpoints';
import type { HistoryChange, HistoryInput } from './types';
import { formatVersion } from './version';

export function changesFromLoro(doc: LoroDoc): HistoryChange[] {
  const out: HistoryChange[] = [];
  for (const list of doc.getAllChanges().values()) {
    for (const c of list) {
      const change: HistoryChange = {
        peer: c.peer,
        counter: c.counter,
        length: c.length,
        lamport: c.lamport,
        timestamp: c.timestamp,
        deps: c.deps.map((d) => ({ peer: d.peer, counter: d.counter })),
      };
      if (c.message) change.message = c.message;
      out.push(change);
    }
  }
  return out;
}

/** meta.authors as a plain object (peer id -> user name). */
export function authorsFromLoro(doc: LoroDoc): Record<string, string> {
  const authors = doc.getMap('meta').get('authors');
  if (!(authors instanceof LoroMap)) return {};
  const out: Record<string, string> = {};
  for (const [peer, name] of Object.entries(authors.toJSON() as Record<string, unknown>)) {
    if (typeof name === 'string') out[peer] = name;
  }
  return out;
}

export function historyInputFromLoro(doc: LoroDoc): HistoryInput {
  return {
    changes: changesFromLoro(doc),
    authors: authorsFromLoro(doc),
    checkpoints: listCheckpoints(doc),
    current: formatVersion(doc.frontiers()),
  };
}
