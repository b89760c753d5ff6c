// What the server and the extension's room client both put on the wire for a
// batch of updates: the batch id an ack refers to, and the fragment size that
// splits an update too large for one protocol message.
import { randomBytes } from 'node:crypto';
import { MAX_MESSAGE_SIZE, type HexString } from 'loro-protocol';

/** Largest fragment of a split update: one protocol message (256 KiB) less room for its header. */
export const FRAGMENT_BYTES = Math.min(240 * 1024, MAX_MESSAGE_SIZE - 4096);

export function newBatchId(): HexString {
  return `0x${randomBytes(8).toString('hex')}`;
}
