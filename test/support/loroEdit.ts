// A text edit on a plain Loro document, as the update bytes a client would
// send (server tests that need a few real updates without a notebook).
import type { LoroDoc } from 'loro-crdt';

/** Inserts `text` at the start of the document's `t` text and returns the update. */
export function textEdit(doc: LoroDoc, text: string): Uint8Array {
  const before = doc.oplogVersion();
  doc.getText('t').insert(0, text);
  doc.commit();
  const u = doc.export({ mode: 'update', from: before });
  before.free();
  return u;
}
