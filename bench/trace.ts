// The edit trace, independent of the CRDT: every client of every room types
// into its own cell of one notebook. A keystroke is a splice of the client's
// cell source (mostly typing at the cursor, some backspaces and cursor jumps).
// The Loro and Yjs encoders turn the same keystrokes into updates.
import { Prng } from './prng';

export interface TraceConfig {
  seed: number;
  rooms: number;
  clientsPerRoom: number;
  /** Keystrokes per client. */
  keystrokes: number;
}

export interface Keystroke {
  /** UTF-16 offset in the cell source. */
  pos: number;
  /** Characters deleted at pos (before inserting). */
  del: number;
  /** Text inserted at pos ('' for a backspace). */
  text: string;
}

export interface ClientScript {
  room: number;
  client: number;
  /** Index of the cell this client types into (= client). */
  cell: number;
  keys: Keystroke[];
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz     ____,,..**()==0123456789\n';

/** One script per (room, client), in room-major order. */
export function makeScripts(cfg: TraceConfig): ClientScript[] {
  const scripts: ClientScript[] = [];
  for (let room = 0; room < cfg.rooms; room++) {
    for (let client = 0; client < cfg.clientsPerRoom; client++) {
      const rng = new Prng(cfg.seed * 1_000_003 + room * 1009 + client);
      const keys: Keystroke[] = [];
      let length = 0;
      let cursor = 0;
      for (let k = 0; k < cfg.keystrokes; k++) {
        const r = rng.next();
        if (r < 0.04 && length > 0) cursor = rng.int(length + 1); // click elsewhere, then type
        if (r >= 0.04 && r < 0.14 && cursor > 0) {
          keys.push({ pos: cursor - 1, del: 1, text: '' }); // backspace
          cursor--;
          length--;
          continue;
        }
        keys.push({ pos: cursor, del: 0, text: rng.pick([...ALPHABET]) });
        cursor++;
        length++;
      }
      scripts.push({ room, client, cell: client, keys });
    }
  }
  return scripts;
}

export function roomName(room: number): string {
  return `bench-room-${room}`;
}

export function cellId(room: number, cell: number): string {
  return `cell-${room}-${cell}`;
}
