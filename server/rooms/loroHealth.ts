// Whether Loro still works in this process. A wasm trap inside Loro (a panic
// some update blobs cause) can leave the whole module unusable: every room then
// fails. /healthz reports it so a supervisor restarts the process.
import { LoroDoc } from 'loro-crdt';

let last: { at: number; result: true | string } | null = null;

/** true, or why Loro failed a tiny edit / export / import round trip (cached for a second). */
export function loroWorks(now = Date.now()): true | string {
  if (last && now - last.at < 1000) return last.result;
  let result: true | string;
  const a = new LoroDoc();
  const b = new LoroDoc();
  try {
    a.getText('t').insert(0, 'ok');
    a.commit();
    b.import(a.export({ mode: 'snapshot' }));
    result = b.getText('t').toString() === 'ok' ? true : 'a round trip lost its text';
  } catch (err) {
    result = err instanceof Error ? err.message : String(err);
  } finally {
    for (const d of [a, b]) {
      try {
        d.free();
      } catch {
        /* broken */
      }
    }
  }
  last = { at: now, result };
  return result;
}

/** Whether a Loro panic left this document unusable (every call throws). */
export function isBroken(doc: LoroDoc): boolean {
  try {
    doc.oplogVersion().free();
    return false;
  } catch {
    return true;
  }
}

/**
 * Free a document. One whose import trapped inside Loro's wasm (see
 * test/fuzz/README.md) stays "borrowed" and throws here; shutting down must
 * go on regardless.
 */
export function freeDoc(doc: { free(): void }): void {
  try {
    doc.free();
  } catch {
    /* poisoned by a Loro panic */
  }
}
