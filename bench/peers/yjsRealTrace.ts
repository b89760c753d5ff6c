// The real-trace plan (../realPlan.ts) as Yjs updates on the same notebook
// shape as yjsTrace.ts: `cells` Y.Array of Y.Map { id, kind, language,
// source: Y.Text, metadata: Y.Map }, `meta` Y.Map. The base notebook is one
// update per cell (made by a setup client), then one transaction (one update)
// per keystroke of each writer in its own cell.
import * as Y from 'yjs';
import type { Patch, RealRoomPlan } from '../realPlan';

export interface YjsRealRoomTrace {
  roomId: string;
  base: Uint8Array[];
  /** peerKey = Yjs clientID; ends: clock end after each update, -1 for a delete-only update (no clock). */
  writers: { peerKey: string; updates: Uint8Array[]; ends: number[] }[];
}

export function yjsRealClientId(room: number, writer: number): number {
  return 1_000_000 + room * 1000 + writer + 1;
}

export function buildYjsRealTrace(plan: RealRoomPlan[], patches: Patch[]): YjsRealRoomTrace[] {
  return plan.map((room, r) => {
    const setup = new Y.Doc();
    setup.clientID = 900_000 + r;
    const base: Uint8Array[] = [];
    setup.on('update', (u: Uint8Array) => base.push(u));
    setup.getMap('meta').set('title', `The paper, part ${r + 1}`);
    const cells = setup.getArray<Y.Map<unknown>>('cells');
    for (const c of room.cells) {
      setup.transact(() => {
        const m = new Y.Map<unknown>();
        m.set('id', c.id);
        m.set('kind', 'code');
        m.set('language', 'latex');
        m.set('source', new Y.Text(c.start));
        m.set('metadata', new Y.Map());
        cells.push([m]);
      });
    }
    setup.destroy();
    const writers = room.cells.map((c, w) => {
      const doc = new Y.Doc();
      doc.clientID = yjsRealClientId(r, w);
      for (const u of base) Y.applyUpdate(doc, u);
      const updates: Uint8Array[] = [];
      const ends: number[] = [];
      doc.on('update', (u: Uint8Array) => updates.push(u));
      const text = doc.getArray<Y.Map<unknown>>('cells').get(w).get('source') as Y.Text;
      for (let k = c.from; k < c.to; k++) {
        const [pos, del, ins] = patches[k];
        const before = Y.getState(doc.store, doc.clientID);
        doc.transact(() => {
          if (del > 0) text.delete(pos, del);
          if (ins) text.insert(pos, ins);
        });
        const after = Y.getState(doc.store, doc.clientID);
        ends.push(after > before ? after : -1);
      }
      if (updates.length !== c.to - c.from) throw new Error(`yjs real trace: ${updates.length} updates for ${c.to - c.from} keystrokes`);
      if (text.toString() !== c.end) throw new Error(`yjs real trace: cell ${c.id} does not end with the trace's text`);
      doc.destroy();
      return { peerKey: String(doc.clientID), updates, ends };
    });
    return { roomId: room.roomId, base, writers };
  });
}
