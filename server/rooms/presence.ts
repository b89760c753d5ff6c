// Presence rooms (crdt %EPH): a Loro EphemeralStore per room, relayed and never
// persisted. Joiners receive the current states; updates are checked by
// applying them to the server's store before they are relayed.
import { EphemeralStore } from 'loro-crdt';
import type { HexString } from 'loro-protocol';
import { newBatchId } from '../shared/updateBatch';

export interface PresenceMember {
  deliverPresence(key: string, updates: Uint8Array[], batchId: HexString): void;
}

interface PresenceRoom {
  store: EphemeralStore;
  members: Set<PresenceMember>;
}

export class PresenceHub {
  private rooms = new Map<string, PresenceRoom>();
  /** Entries expire like on the clients (loro-websocket default 30 s). */
  constructor(private readonly timeoutMs = 30_000) {}

  join(key: string, member: PresenceMember): Uint8Array | null {
    let room = this.rooms.get(key);
    if (!room) {
      room = { store: new EphemeralStore(this.timeoutMs), members: new Set() };
      this.rooms.set(key, room);
    }
    room.members.add(member);
    return room.store.keys().length ? room.store.encodeAll() : null;
  }

  leave(key: string, member: PresenceMember): void {
    const room = this.rooms.get(key);
    if (!room) return;
    room.members.delete(member);
    if (room.members.size === 0) {
      room.store.destroy();
      this.rooms.delete(key);
    }
  }

  /** Apply and relay; throws on bytes that are not an ephemeral-store update. */
  update(key: string, from: PresenceMember, updates: Uint8Array[]): void {
    const room = this.rooms.get(key);
    if (!room) throw new Error('not joined');
    for (const u of updates) room.store.apply(u);
    // One batch id for everyone: the relayed message is then encoded once (send.ts).
    const batchId = newBatchId();
    for (const m of room.members) if (m !== from) m.deliverPresence(key, updates, batchId);
  }

  get size(): number {
    return this.rooms.size;
  }
}
