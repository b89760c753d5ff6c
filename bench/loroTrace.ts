// Encodes the trace as Loro updates on the notebook model (NotebookDoc:
// `cells` LoroMovableList of LoroMap with a LoroText `source`).
import { LoroDoc } from 'loro-crdt';
import { NotebookDoc } from '../server/shared/notebookDoc';
import { cellId, roomName, type ClientScript, type TraceConfig } from './trace';

export interface LoroClientTrace {
  room: number;
  client: number;
  /** Loro peer id (decimal string). */
  peer: string;
  /** One update per keystroke (one commit each). */
  updates: Uint8Array[];
  /** Counter end (exclusive) of `peer` after each update: visible once the receiver's vv reaches it. */
  ends: number[];
}

export interface LoroRoomTrace {
  roomId: string;
  /** The notebook with one empty cell per client, sent once by client 0 before the run. */
  base: Uint8Array;
  clients: LoroClientTrace[];
}

export function loroPeer(room: number, client: number): bigint {
  return BigInt(1_000_000 + room * 1000 + client + 1);
}

export function buildLoroTrace(cfg: TraceConfig, scripts: ClientScript[]): LoroRoomTrace[] {
  const rooms: LoroRoomTrace[] = [];
  for (let room = 0; room < cfg.rooms; room++) {
    const setup = new LoroDoc();
    setup.setPeerId(BigInt(900_000 + room));
    const nb = new NotebookDoc(setup);
    nb.setMeta('title', `Bench notebook ${room}`);
    for (let c = 0; c < cfg.clientsPerRoom; c++) {
      nb.insertCell(c, { id: cellId(room, c), kind: 'code', language: 'sql', source: '' });
    }
    nb.commit({ message: 'bench setup' });
    const base = setup.export({ mode: 'update' });
    const clients = scripts
      .filter((s) => s.room === room)
      .map((s) => encodeClient(base, s));
    rooms.push({ roomId: roomName(room), base, clients });
  }
  return rooms;
}

function encodeClient(base: Uint8Array, script: ClientScript): LoroClientTrace {
  const doc = new LoroDoc();
  doc.import(base);
  const peer = loroPeer(script.room, script.client);
  doc.setPeerId(peer);
  const nb = new NotebookDoc(doc);
  const updates: Uint8Array[] = [];
  const ends: number[] = [];
  const unsubscribe = doc.subscribeLocalUpdates((u) => updates.push(u));
  const id = cellId(script.room, script.cell);
  for (const k of script.keys) {
    nb.spliceCellSource(id, k.pos, k.del, k.text);
    nb.commit();
    ends.push(doc.oplogVersion().get(peer) ?? 0);
  }
  unsubscribe();
  if (updates.length !== script.keys.length) {
    throw new Error(`loro trace: ${updates.length} updates for ${script.keys.length} keystrokes`);
  }
  return { room: script.room, client: script.client, peer: peer.toString(), updates, ends };
}
