// Revert one change and keep every later one ("undo this block change but
// keep the others").
//
// LoroDoc.revertTo(v) rolls the whole document back to v, losing what came
// after. Here the inverse of just the change is made where the change
// happened and merged by the CRDT: fork the notebook at the change's version,
// apply Loro's diff from that version back to its parents (applyDiff, which
// also re-creates a deleted cell under its old id), commit that as one change
// by a fresh peer that depends only on the change, and import it into the
// live document's copy. Because the inverse is concurrent with everything
// after the change, Loro merges it with those edits: characters the change typed are
// deleted wherever they moved to, characters it deleted come back at their
// old place, later typing by anyone stays. What that merge changed is then
// applied to the live document as one change of the user's own, on top of
// the current version. The same works for a whole branch merge (its version
// back to the kept parent).

import { LoroDoc, type Frontiers, type PeerID } from 'loro-crdt';
import type { NotebookDoc } from '../notebookDoc';
import { frontiersIn } from './versionDoc';
import { formatVersion } from './version';

export interface RevertResult {
  /** False when the change had no visible effect left to undo. */
  changed: boolean;
  /** Version of the new change (version-string form). */
  version: string;
}

/** A fresh random peer id (decimal string, never 0). */
function freshPeer(): PeerID {
  const a = globalThis.crypto.getRandomValues(new Uint32Array(2));
  const id = (BigInt(a[0] & 0x1fffff) << 32n) | BigInt(a[1]);
  return String(id === 0n ? 1n : id) as PeerID;
}

/**
 * Adds one change to `nb` that undoes the effect of going from `from` to `to`
 * (version strings; `from` must be in `to`'s past: a change's parents and the
 * change, a group's first parents and its last change, or a merge's kept
 * parent and the merge). `author` is recorded for the new change's peer.
 */
export function revertChange(nb: NotebookDoc, from: string, to: string, message: string, author: string, timestamp = Math.floor(Date.now() / 1000)): RevertResult {
  nb.commit(); // pending local edits are their own change, before the revert
  const doc = nb.doc;
  const fromF = frontiersIn(doc, from);
  const toF = frontiersIn(doc, to);
  if (!isAncestor(doc, fromF, toF)) throw new Error(`cannot revert: version ${from} is not before ${to}`);
  const inverse = notebookPart(doc.diff(toF, fromF, false));
  if (inverse.length === 0) return { changed: false, version: formatVersion(doc.frontiers()) };
  // 1. The inverse, made where the change happened (deps: the change's version).
  const fork = doc.forkAt(toF);
  let bytes: Uint8Array;
  try {
    fork.setPeerId(freshPeer());
    const before = fork.oplogVersion();
    // fullState: a cell the change deleted comes back with its whole content.
    fork.applyDiff(inverse, { fullState: true });
    fork.commit();
    bytes = fork.export({ mode: 'update', from: before });
    before.free();
  } finally {
    fork.free();
  }
  // 2. Merged with everything since, on a copy of the live doc; what that
  // merge changes is applied to the live doc as ONE change by this user, on
  // top of the current version (so it is the newest row, with the message).
  const work = doc.fork();
  let effect: ReturnType<LoroDoc['diff']>;
  try {
    work.import(bytes);
    effect = notebookPart(work.diff(doc.frontiers(), work.frontiers(), false));
  } finally {
    work.free();
  }
  const beforeLive = formatVersion(doc.frontiers());
  if (effect.length === 0) return { changed: false, version: beforeLive };
  doc.applyDiff(effect, { fullState: true });
  nb.setAuthor(author);
  doc.commit({ message, timestamp, origin: 'history' });
  const after = formatVersion(doc.frontiers());
  return { changed: after !== beforeLive, version: after };
}

/**
 * Only what a person sees: the authors map (who made which change), the
 * checkpoints and the merges record stay as they are.
 */
function notebookPart(diff: ReturnType<LoroDoc['diff']>): ReturnType<LoroDoc['diff']> {
  const out: ReturnType<LoroDoc['diff']> = [];
  for (const [cid, d] of diff) {
    if (/^cid:root-(checkpoints|merges):/.test(cid) || /^cid:root-🤝:\$meta>authors/.test(cid)) continue;
    if (cid === 'cid:root-meta:Map' && d.type === 'map') {
      const updated = { ...(d.updated as Record<string, unknown>) };
      delete updated.authors;
      if (Object.keys(updated).length === 0) continue;
      out.push([cid, { ...d, updated } as typeof d]);
      continue;
    }
    out.push([cid, d]);
  }
  return out;
}

/** True when every op of `a` is in the past of `b`. */
function isAncestor(doc: LoroDoc, a: Frontiers, b: Frontiers): boolean {
  const va = doc.frontiersToVV(a);
  const vb = doc.frontiersToVV(b);
  try {
    const cmp = va.compare(vb);
    return cmp !== undefined && cmp <= 0;
  } finally {
    va.free();
    vb.free();
  }
}
