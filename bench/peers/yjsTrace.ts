// Encodes the trace as Yjs updates on the same notebook shape: `cells`
// Y.Array of Y.Map { id, kind, language, source: Y.Text, metadata: Y.Map },
// `meta` Y.Map. One transaction (one update) per keystroke.
import * as Y from 'yjs';
import { cellId, roomName, type ClientScript, type TraceConfig } from '../trace';

export interface YjsClientTrace {
  room: number;
  client: number;
  clientId: number;
  updates: Uint8Array[];
  /** Clock end of clientId after each update; -1 for updates that only delete (no clock). */
  ends: number[];
}

export interface YjsRoomTrace {
  roomId: string;
  base: Uint8Array;
  clients: YjsClientTrace[];
}

export function yjsClientId(room: number, client: number): number {
  return 1_000_000 + room * 1000 + client + 1;
}

export function buildYjsTrace(cfg: TraceConfig, scripts: ClientScript[]): YjsRoomTrace[] {
  const rooms: YjsRoomTrace[] = [];
  for (let room = 0; room < cfg.rooms; room++) {
    const setup = new Y.Doc();
    setup.clientID = 900_000 + room;
    setup.transact(() => {
      setup.getMap('meta').set('title', `Bench notebook ${room}`);
      const cells = setup.getArray<Y.Map<unknown>>('cells');
      for (let c = 0; c < cfg.clientsPerRoom; c++) {
        const m = new Y.Map<unknown>();
        m.set('id', cellId(room, c));
        m.set('kind', 'code');
        m.set('language', 'sql');
        m.set('source', new Y.Text());
        m.set('metadata', new Y.Map());
        cells.push([m]);
      }
    });
    const base = Y.encodeStateAsUpdate(setup);
    const clients = scripts.filter((s) => s.room === room).map((s) => encodeClient(base, s));
    rooms.push({ roomId: roomName(room), base, clients });
  }
  return rooms;
}

function encodeClient(base: Uint8Array, script: ClientScript): YjsClientTrace {
  const doc = new Y.Doc();
  doc.clientID = yjsClientId(script.room, script.client);
  Y.applyUpdate(doc, base);
  const updates: Uint8Array[] = [];
  const ends: number[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  const text = (doc.getArray<Y.Map<unknown>>('cells').get(script.cell).get('source')) as Y.Text;
  for (const k of script.keys) {
    const before = Y.getState(doc.store, doc.clientID);
    doc.transact(() => {
      if (k.del > 0) text.delete(k.pos, k.del);
      if (k.text) text.insert(k.pos, k.text);
    });
    const after = Y.getState(doc.store, doc.clientID);
    ends.push(after > before ? after : -1);
  }
  if (updates.length !== script.keys.length) {
    throw new Error(`yjs trace: ${updates.length} updates for ${script.keys.length} keystrokes`);
  }
  return { room: script.room, client: script.client, clientId: doc.clientID, updates, ends };
}
