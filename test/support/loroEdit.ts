// A text edit on a plain Loro document, as the update bytes a client would
// send (server tests that need a few real updates without a notebook).
import { LoroDoc } from 'loro-crdt';

/** Inserts `text` at the start of the document's `t` text and returns the update. */
export function textEdit(doc: LoroDoc, text: string): Uint8Array {
  const before = doc.oplogVersion();
  doc.getText('t').insert(0, text);
  doc.commit();
  const u = doc.export({ mode: 'update', from: before });
  before.free();
  return u;
}

/**
 * Many peers inserting at the start of the text "t" without seeing each other
 * (what Loro merges slowest, issue 17 item 1). From a shared start (peer 1,
 * "base"): `crowd`, one update holding `peers` such peers' inserts, and
 * `after`, 1-op updates of further such peers. The caller frees `start`.
 */
export function crowdAtOneSpot(peers: number, after: number): { start: LoroDoc; base: Uint8Array; crowd: Uint8Array; after: Uint8Array[] } {
  const start = new LoroDoc();
  start.setPeerId(1n);
  start.getText('t').insert(0, 'base');
  start.commit();
  const onePeer = (peer: bigint): Uint8Array => {
    const d = start.fork();
    d.setPeerId(peer);
    const u = textEdit(d, 'a');
    d.free();
    return u;
  };
  const all = start.fork();
  all.detach(); // only its history is sent
  for (let p = 0; p < peers; p++) all.import(onePeer(BigInt(1000 + p)));
  const crowd = all.export({ mode: 'update', from: start.oplogVersion() });
  all.free();
  return { start, base: start.export({ mode: 'update' }), crowd, after: Array.from({ length: after }, (_, i) => onePeer(BigInt(900_000 + i))) };
}
