// Real Loro notebook histories for the history tests and bench/history.ts:
// several peers with their own clocks, forks (concurrent edits) and merges
// (imports), built through NotebookDoc like the extension does. Timestamps
// are given explicitly so grouping is deterministic; each doc's change merge
// interval is 0 so every commit with a later timestamp is its own Loro change.
import type { LoroDoc } from 'loro-crdt';
import { Prng } from '../../bench/prng';
import { NotebookDoc } from '../../server/shared/notebookDoc';

export const T0 = 1_780_000_000; // a fixed Unix time (2026-05-28)

/** A peer's notebook, joined to `from`'s history first when given (as opening a shared file does). */
export function peerDoc(peer: string, name: string, from?: NotebookDoc): NotebookDoc {
  const nb = new NotebookDoc();
  nb.doc.setPeerId(peer as `${number}`);
  nb.doc.setChangeMergeInterval(0);
  if (from) syncInto(nb, from);
  // Pending until the peer's first commit, which then records who made it.
  nb.setAuthor(name);
  return nb;
}

/** Commits pending ops at `timestamp` (seconds), with an optional message. */
export function commitAt(nb: NotebookDoc, timestamp: number, message?: string): void {
  nb.doc.commit(message ? { timestamp, message } : { timestamp });
}

/** Imports everything `from` has that `to` lacks (a one-way sync). */
export function syncInto(to: NotebookDoc, from: NotebookDoc): void {
  to.doc.import(from.doc.export({ mode: 'update', from: to.doc.oplogVersion() }));
}

/**
 * Alice writes a query in three quick commits (one group), with a message on
 * the next one; Bob and Alice then edit concurrently (a fork); Bob's work is
 * merged into Alice's doc and Alice commits on top (a merge node).
 */
export function teamHistory(): { alice: NotebookDoc; bob: NotebookDoc; cellId: string } {
  const alice = peerDoc('1', 'alice');
  const cellId = alice.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT' });
  commitAt(alice, T0);
  alice.spliceCellSource(cellId, 6, 0, ' 1');
  commitAt(alice, T0 + 10);
  alice.spliceCellSource(cellId, 8, 0, ' AS one');
  commitAt(alice, T0 + 20);
  alice.insertCell(1, { kind: 'markup', language: 'markdown', source: '# Notes' });
  commitAt(alice, T0 + 30, 'Add notes');

  const bob = peerDoc('2', 'bob', alice);
  bob.insertCell(2, { kind: 'code', language: 'sql', source: 'SELECT 2' });
  commitAt(bob, T0 + 1000);
  alice.spliceCellSource(cellId, 0, 0, '-- alice\n');
  commitAt(alice, T0 + 1005);

  syncInto(alice, bob);
  alice.spliceCellSource(cellId, 0, 0, '-- merged\n');
  commitAt(alice, T0 + 1100);
  return { alice, bob, cellId };
}

/**
 * `changes` commits spread over `peers` peers: small edits to a few cells,
 * a few seconds apart, with a sync between two random peers every
 * `syncEvery` commits (so concurrent work forks and later merges).
 */
export function syntheticHistory(changes: number, opts: { peers?: number; syncEvery?: number; seed?: number } = {}): NotebookDoc {
  const rng = new Prng(opts.seed ?? 7);
  const peerCount = opts.peers ?? 3;
  const syncEvery = opts.syncEvery ?? 25;
  const first = peerDoc('1', 'user1');
  for (let c = 0; c < Math.max(3, peerCount); c++) first.insertCell(c, { kind: 'code', language: 'sql', source: `SELECT ${c}` });
  commitAt(first, T0);
  const docs = [first, ...Array.from({ length: peerCount - 1 }, (_, i) => peerDoc(String(i + 2), `user${i + 2}`, first))];
  // One clock for everyone: Loro stamps a change no earlier than what it depends on.
  let clock = T0 + 1;
  for (let i = 0; i < changes - 1; i++) {
    const p = rng.int(peerCount);
    const nb = docs[p];
    const ids = nb.cellIds();
    // People mostly type in "their" cell; sometimes in another one (concurrent edits of one text).
    const id = rng.next() < 0.9 ? ids[p % ids.length] : ids[rng.int(ids.length)];
    nb.spliceCellSource(id, 0, 0, String.fromCharCode(97 + rng.int(26)));
    // Mostly typing (seconds apart), sometimes a pause that starts a new group.
 clock += rng.next() < 0.05 ? 900 : 1 + rng.int(5);
    commitAt(nb, clock, rng.next() < 0.01 ? `note ${i}` : undefined);
    if ((i + 1) % syncEvery === 0) {
      const a = rng.int(peerCount);
      const b = (a + 1 + rng.int(peerCount - 1)) % peerCount;
      syncInto(docs[a], docs[b]);
    }
  }
  for (const d of docs.slice(1)) syncInto(first, d);
  return first;
}

export function changeCountOf(doc: LoroDoc): number {
  let n = 0;
  for (const list of doc.getAllChanges().values()) n += list.length;
  return n;
}
