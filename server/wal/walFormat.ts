// WAL records on disk.
//
// Version 2 (written now): [u32 MAGIC][u32 payloadLen][u32 crc32(payload)][payload]
// Version 1 (still read):  [u32 payloadLen][u32 crc32(payload)][payload]
// payload = [u8 version][u16 keyLen][key utf8][u16 authorLen][author utf8][f64 createdAt][update bytes]
//
// A record that is not whole (short read, CRC mismatch) was never fsynced and
// never acknowledged. It is skipped, not treated as the end of the segment:
// the decoder resynchronises on the next MAGIC that starts a whole record, so
// every whole record before AND after a torn region is kept (a torn region in
// the middle of a segment comes from a partial write that was later
// overwritten or followed by more records).
import { crc32 } from 'node:zlib';

export interface WalEntry {
  roomKey: string;
  author: string;
  createdAt: number;
  bytes: Uint8Array;
}

/** "SQW2" little-endian: starts every version-2 record. */
export const WAL_MAGIC = 0x32575153;
const MAGIC_BYTES = Buffer.from([0x53, 0x51, 0x57, 0x32]);
const MIN_PAYLOAD = 1 + 2 + 2 + 8;

/** Bytes one entry takes on disk. */
export function encodedSize(e: WalEntry): number {
  return 12 + MIN_PAYLOAD + Buffer.byteLength(e.roomKey, 'utf8') + Buffer.byteLength(e.author, 'utf8') + e.bytes.length;
}

export function encodeEntry(e: WalEntry): Buffer {
  const key = Buffer.from(e.roomKey, 'utf8');
  const author = Buffer.from(e.author, 'utf8');
  const payloadLen = MIN_PAYLOAD + key.length + author.length + e.bytes.length;
  const buf = Buffer.allocUnsafe(12 + payloadLen);
  let o = 12;
  buf.writeUInt8(2, o++);
  buf.writeUInt16LE(key.length, o);
  o += 2;
  key.copy(buf, o);
  o += key.length;
  buf.writeUInt16LE(author.length, o);
  o += 2;
  author.copy(buf, o);
  o += author.length;
  buf.writeDoubleLE(e.createdAt, o);
  o += 8;
  buf.set(e.bytes, o);
  buf.writeUInt32LE(WAL_MAGIC, 0);
  buf.writeUInt32LE(payloadLen, 4);
  buf.writeUInt32LE(crc32(buf.subarray(12)), 8);
  return buf;
}

export interface DecodeResult {
  entries: WalEntry[];
  /** Bytes that are not part of a whole record (torn writes), 0 when clean. */
  tornBytes: number;
  /** Separate torn regions (a torn tail counts as one). */
  tornRegions: number;
}

/** The record at `o`: its entry and total length, or null when none starts there. */
function recordAt(buf: Buffer, o: number): { entry: WalEntry; length: number } | null {
  let header: number;
  let version: number;
  if (o + 12 <= buf.length && buf.readUInt32LE(o) === WAL_MAGIC) {
    header = 12;
    version = 2;
  } else {
    header = 8;
    version = 1;
  }
  if (o + header > buf.length) return null;
  const len = buf.readUInt32LE(o + header - 8);
  const crc = buf.readUInt32LE(o + header - 4);
  if (len < MIN_PAYLOAD || o + header + len > buf.length) return null;
  const payload = buf.subarray(o + header, o + header + len);
  if (payload[0] !== version || crc32(payload) !== crc) return null;
  let p = 1;
  const keyLen = payload.readUInt16LE(p);
  p += 2;
  if (p + keyLen + 2 + 8 > len) return null;
  const roomKey = payload.subarray(p, p + keyLen).toString('utf8');
  p += keyLen;
  const authorLen = payload.readUInt16LE(p);
  p += 2;
  if (p + authorLen + 8 > len) return null;
  const author = payload.subarray(p, p + authorLen).toString('utf8');
  p += authorLen;
  const createdAt = payload.readDoubleLE(p);
  p += 8;
  return { entry: { roomKey, author, createdAt, bytes: new Uint8Array(payload.subarray(p)) }, length: header + len };
}

/** Offset of the next whole version-2 record after a torn one at `from`, or buf.length. */
function resync(buf: Buffer, from: number): number {
  // A torn record whose header survived claims where the next one starts: try there first.
  if (from + 12 <= buf.length && buf.readUInt32LE(from) === WAL_MAGIC) {
    const next = from + 12 + buf.readUInt32LE(from + 4);
    if (next < buf.length && next > from && recordAt(buf, next)) return next;
  }
  for (let o = buf.indexOf(MAGIC_BYTES, from + 1); o !== -1; o = buf.indexOf(MAGIC_BYTES, o + 1)) {
    if (recordAt(buf, o)) return o;
  }
  return buf.length;
}

export function decodeSegment(buf: Buffer): DecodeResult {
  const entries: WalEntry[] = [];
  let tornBytes = 0;
  let tornRegions = 0;
  let o = 0;
  while (o < buf.length) {
    const rec = recordAt(buf, o);
    if (rec) {
      entries.push(rec.entry);
      o += rec.length;
      continue;
    }
    const next = resync(buf, o);
    tornBytes += next - o;
    tornRegions++;
    o = next;
  }
  return { entries, tornBytes, tornRegions };
}
