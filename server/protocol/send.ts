// Encoding outgoing messages, splitting updates that do not fit one protocol
// message (256 KiB) into a fragment header + fragments, as the stock client does.
import { CrdtType, MessageType, encode, type HexString, type ProtocolMessage } from 'loro-protocol';
import type { WebSocket } from 'ws';
import { FRAGMENT_BYTES, newBatchId } from '../shared/updateBatch';

/** Per socket: most bytes that may wait in its send queue, and what to do past it. */
const sendLimits = new WeakMap<WebSocket, { maxQueued: number; onOver: (queued: number) => void; over: boolean }>();

/**
 * Outgoing backpressure: once `maxQueued` bytes wait to be sent to this socket
 * (a reader that does not read), `onOver` runs once and nothing more is queued.
 * One message is always queued when nothing waits, so a snapshot larger than
 * the bound still reaches a reader that keeps up. 0 = no limit.
 */
export function setSendLimit(ws: WebSocket, maxQueued: number, onOver: (queued: number) => void): void {
  if (maxQueued > 0) sendLimits.set(ws, { maxQueued, onOver, over: false });
}

/**
 * Frames sent to one socket in the same tick (the acks of one WAL group
 * commit, the relays of one update to every member) leave in one write:
 * the socket is corked until the tick ends. ws keeps its socket as
 * `_socket`; without it (another transport) frames go one by one.
 */
const corked = new WeakSet<object>();
function corkUntilTickEnds(ws: WebSocket): void {
  const sock = (ws as unknown as { _socket?: { cork(): void; uncork(): void; destroyed?: boolean } })._socket;
  if (!sock || corked.has(sock) || sock.destroyed) return;
  corked.add(sock);
  sock.cork();
  process.nextTick(() => {
    corked.delete(sock);
    sock.uncork();
  });
}

export function sendMessage(ws: WebSocket, msg: ProtocolMessage): void {
  if (ws.readyState !== ws.OPEN) return;
  sendEncoded(ws, encode(msg));
}

/** Send one encoded message, within the socket's send limit. */
function sendEncoded(ws: WebSocket, bytes: Uint8Array): void {
  if (ws.readyState !== ws.OPEN) return;
  corkUntilTickEnds(ws);
  const limit = sendLimits.get(ws);
  if (limit) {
    if (limit.over) return;
    const queued = ws.bufferedAmount;
    if (queued > 0 && queued + bytes.length > limit.maxQueued) {
      limit.over = true;
      limit.onOver(queued);
      return;
    }
  }
  ws.send(bytes);
}

/**
 * The messages of the last updates sent, kept until the tick ends: relaying
 * one update to every member of a room (or presence to everyone in it)
 * encodes it once, not once per member (ws sends the same bytes to each
 * socket without copying them).
 */
let lastEncoded: { roomId: string; updates: Uint8Array[]; batchId: HexString; crdt: CrdtType; messages: Uint8Array[] } | null = null;

function sameUpdates(a: Uint8Array[], b: Uint8Array[]): boolean {
  return a.length === b.length && a.every((u, i) => u === b[i]);
}

function encodedUpdates(roomId: string, updates: Uint8Array[], batchId: HexString, crdt: CrdtType): Uint8Array[] {
  const last = lastEncoded;
  if (last && last.roomId === roomId && last.batchId === batchId && last.crdt === crdt && sameUpdates(last.updates, updates)) return last.messages;
  const messages = updateMessages(roomId, updates, batchId, crdt).map(encode);
  if (!lastEncoded) process.nextTick(() => (lastEncoded = null));
  lastEncoded = { roomId, updates: [...updates], batchId, crdt, messages };
  return messages;
}

/** Send updates to one socket; each update too big for one message is fragmented. */
export function sendUpdates(ws: WebSocket, roomId: string, updates: Uint8Array[], batchId: HexString = newBatchId(), crdt: CrdtType = CrdtType.Loro): void {
  if (ws.readyState !== ws.OPEN) return;
  for (const bytes of encodedUpdates(roomId, updates, batchId, crdt)) sendEncoded(ws, bytes);
}

/** The messages that carry `updates`: small ones together, each one too big for a message as a fragment header + fragments. */
function updateMessages(roomId: string, updates: Uint8Array[], batchId: HexString, crdt: CrdtType): ProtocolMessage[] {
  const out: ProtocolMessage[] = [];
  const small: Uint8Array[] = [];
  let smallBytes = 0;
  const flushSmall = (id: HexString) => {
    if (small.length) out.push({ type: MessageType.DocUpdate, crdt, roomId, updates: small.splice(0), batchId: id });
    smallBytes = 0;
  };
  let first = true;
  const idFor = () => {
    const id = first ? batchId : newBatchId();
    first = false;
    return id;
  };
  for (const u of updates) {
    if (u.length > FRAGMENT_BYTES) {
      flushSmall(idFor());
      const id = idFor();
      const count = Math.ceil(u.length / FRAGMENT_BYTES);
      out.push({ type: MessageType.DocUpdateFragmentHeader, crdt, roomId, batchId: id, fragmentCount: count, totalSizeBytes: u.length });
      for (let i = 0; i < count; i++) {
        out.push({
          type: MessageType.DocUpdateFragment,
          crdt,
          roomId,
          batchId: id,
          index: i,
          fragment: u.subarray(i * FRAGMENT_BYTES, Math.min((i + 1) * FRAGMENT_BYTES, u.length)),
        });
      }
      continue;
    }
    if (smallBytes + u.length > FRAGMENT_BYTES) flushSmall(idFor());
    small.push(u);
    smallBytes += u.length;
  }
  flushSmall(idFor());
  return out;
}
