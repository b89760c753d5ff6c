// Checkpoints: named versions, stored in the notebook's own Loro document so
// they travel with it (saved in the .sqlroom snapshot, synced to peers).
//
// Convention: a root LoroMap "checkpoints" (beside "cells" and "meta", which
// the notebook model owns; applyData never touches it, so a VS Code sync or a
// file reconcile cannot erase a checkpoint). Creating one writes a single
// entry and commits it as its own change with the message "Checkpoint: NAME":
//   key    "peer@counter" of the op that writes the entry (so the DAG can put
//          the label on the change that holds it)
//   value  { name, version, timestamp }: the version named (the frontiers just
//          before the entry, version-string form) and Unix seconds.
// The change holding the entry has the named version's content (the entry is
// not notebook content), so the DAG shows it as a labelled node.

import { LoroDoc, LoroMap } from 'loro-crdt';
import type { NotebookDoc } from '../notebookDoc';
import type { CheckpointInfo } from './types';
import { formatVersion, opIdString, parseOpId, parseVersion } from './version';

export const CHECKPOINTS = 'checkpoints';
export const CHECKPOINT_PREFIX = 'Checkpoint: ';

export function createCheckpoint(nb: NotebookDoc, name: string, now = Math.floor(Date.now() / 1000)): CheckpointInfo {
  const clean = typeof name === 'string' ? name.trim() : '';
  if (clean === '') throw new Error('a checkpoint needs a name');
  const doc = nb.doc;
  nb.commit(); // pending edits are their own change, before the checkpoint
  if (doc.isDetached()) throw new Error('cannot create a checkpoint while the document is checked out at an old version');
  const version = formatVersion(doc.frontiers());
  const peer = doc.peerIdStr;
  const opId = opIdString({ peer, counter: doc.oplogVersion().get(peer) ?? 0 });
  const info: CheckpointInfo = { opId, name: clean, version, timestamp: now };
  doc.getMap(CHECKPOINTS).set(opId, { name: clean, version, timestamp: now });
  nb.commit({ message: CHECKPOINT_PREFIX + clean, origin: 'history' });
  return info;
}

/** The checkpoints recorded in `doc`; malformed entries (a foreign writer) are skipped. */
export function listCheckpoints(doc: LoroDoc): CheckpointInfo[] {
  const roots = doc.getShallowValue() as Record<string, unknown>;
  if (roots[CHECKPOINTS] === undefined) return [];
  const map = doc.getMap(CHECKPOINTS);
  if (!(map instanceof LoroMap)) return [];
  const out: CheckpointInfo[] = [];
  for (const [opId, value] of Object.entries(map.toJSON() as Record<string, unknown>)) {
    if (!value || typeof value !== 'object') continue;
    const v = value as Record<string, unknown>;
    if (typeof v.name !== 'string' || typeof v.version !== 'string') continue;
    try {
      parseOpId(opId);
      parseVersion(v.version);
    } catch {
      continue;
    }
    out.push({ opId, name: v.name, version: v.version, timestamp: typeof v.timestamp === 'number' ? v.timestamp : 0 });
  }
  return out.sort((a, b) => a.timestamp - b.timestamp || (a.opId < b.opId ? -1 : 1));
}
