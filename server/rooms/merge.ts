// The update that merges one branch's document into another: the source's
// changes the target lacks, plus one "merge" change that depends on both heads
// (so the DAG shows the join). Built on a fork of the target, never touching
// the authoritative doc; the caller imports it through the normal accept path.
import { LoroDoc, LoroMap } from 'loro-crdt';

/** Root map recording merges: key `<peer>@<counter>` of the entry, value {from, into, author, timestamp}. */
export const MERGES = 'merges';

export interface MergeUpdate {
  /** The one update to import into the target (null: the target already has everything of the source). */
  bytes: Uint8Array | null;
  /** Ops of the source the target lacked. */
  newOps: number;
}

export function buildMergeUpdate(target: LoroDoc, source: LoroDoc, from: string, into: string, author: string, message: string | null, now = Date.now()): MergeUpdate {
  const targetVV = target.oplogVersion();
  const missing = source.export({ mode: 'update', from: targetVV });
  const work = target.fork();
  try {
    const before = work.oplogVersion();
    const status = work.import(missing);
    let newOps = 0;
    for (const [, span] of status.success ?? new Map()) newOps += span.end - span.start;
    before.free();
    if (newOps === 0) return { bytes: null, newOps: 0 };
    work.setRecordTimestamp(true);
    const entry = new LoroMap();
    const merges = work.getMap(MERGES);
    const key = `${work.peerIdStr}@${Date.now()}`;
    const m = merges.setContainer(key, entry);
    m.set('from', from);
    m.set('into', into);
    m.set('author', author);
    m.set('timestamp', Math.floor(now / 1000));
    try {
      work.getMap('meta').ensureMergeableMap('authors').set(work.peerIdStr, author);
    } catch {
      /* a foreign document whose meta.authors is not a map: the merge still happens */
    }
    work.setNextCommitMessage(message ?? `Merge ${from} into ${into}`);
    work.commit();
    return { bytes: work.export({ mode: 'update', from: targetVV }), newOps };
  } finally {
    targetVV.free();
    work.free();
  }
}
