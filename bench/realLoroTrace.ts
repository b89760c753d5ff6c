// The real-trace plan (realPlan.ts) as Loro updates on our notebook model:
// the base notebook (one cell per writer, created by a setup peer, one update
// per cell so each fits one protocol message), then per writer one update per
// keystroke, a splice of its cell's LoroText and one commit, as the extension
// does (NotebookDoc: timestamps recorded, the extension's change merge
// interval, the writer's name in the notebook's authors on its first edit).
import { LoroDoc, type LoroMap, type LoroText } from 'loro-crdt';
import { NotebookDoc } from '../server/shared/notebookDoc';
import type { Patch, RealRoomPlan } from './realPlan';

export interface RealWriterTrace {
  /** Key under which this writer appears in a receiver's version (Loro peer id). */
  peerKey: string;
  updates: Uint8Array[];
  /** Counter end of the writer's peer after each update (for relay timing). */
  ends: number[];
}

export interface RealRoomTrace {
  roomId: string;
  /** Base notebook updates, sent in order by writer 0 before the run. */
  base: Uint8Array[];
  writers: RealWriterTrace[];
}

export function buildLoroRealTrace(plan: RealRoomPlan[], patches: Patch[]): RealRoomTrace[] {
  return plan.map((room, r) => {
    const setup = new NotebookDoc();
    setup.doc.setPeerId(BigInt(900_000 + r));
    const base: Uint8Array[] = [];
    const unsub = setup.doc.subscribeLocalUpdates((u) => base.push(u));
    setup.setMeta('title', `The paper, part ${r + 1}`);
    room.cells.forEach((c, i) => {
      setup.insertCell(i, { id: c.id, kind: 'code', language: 'latex', source: c.start });
      setup.commit({ message: i === 0 ? 'setup' : undefined });
    });
    unsub();
    setup.doc.free();
    const writers = room.cells.map((c, w): RealWriterTrace => {
      const doc = new LoroDoc();
      doc.importBatch(base);
      const peer = BigInt(1_000_000 + r * 1000 + w + 1);
      doc.setPeerId(peer);
      const nb = new NotebookDoc(doc);
      nb.setAuthor(`writer ${r}.${w}`);
      const text = (doc.getMovableList('cells').get(w) as LoroMap).get('source') as LoroText;
      const updates: Uint8Array[] = [];
      const ends: number[] = [];
      const unsubscribe = doc.subscribeLocalUpdates((u) => updates.push(u));
      for (let k = c.from; k < c.to; k++) {
        const [pos, del, ins] = patches[k];
        // ASCII trace: scalar positions are UTF-16 positions.
        if (del > 0) text.delete(pos, del);
        if (ins) text.insert(pos, ins);
        doc.commit();
        ends.push(doc.frontiers()[0].counter + 1);
      }
      unsubscribe();
      if (updates.length !== c.to - c.from) throw new Error(`loro real trace: ${updates.length} updates for ${c.to - c.from} keystrokes`);
      if (text.toString() !== c.end) throw new Error(`loro real trace: cell ${c.id} does not end with the trace's text`);
      doc.free();
      return { peerKey: peer.toString(), updates, ends };
    });
    return { roomId: room.roomId, base, writers };
  });
}
