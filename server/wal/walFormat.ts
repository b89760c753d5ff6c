// One WAL entry on disk: [u32 payloadLen][u32 crc32(payload)][payload]
// payload = [u8 version=1][u16 keyLen][key utf8][u16 authorLen][author utf8][f64 createdAt][update bytes]
// A torn tail (short read or CRC mismatch) ends a segment: such an entry was
// never fsynced, hence never acknowledged.
import { crc32 } from 'node:zlib';

export interface WalEntry {
  roomKey: string;
  author: string;
  createdAt: number;
  bytes: Uint8Array;
}

export function encodeEntry(e: WalEntry): Buffer {
  const key = Buffer.from(e.roomKey, 'utf8');
  const author = Buffer.from(e.author, 'utf8');
  const payloadLen = 1 + 2 + key.length + 2 + author.length + 8 + e.bytes.length;
  const buf = Buffer.allocUnsafe(8 + payloadLen);
  let o = 8;
  buf.writeUInt8(1, o++);
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
  buf.writeUInt32LE(payloadLen, 0);
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

export interface DecodeResult {
  entries: WalEntry[];
  /** Bytes after the last good entry (a torn write), 0 when clean. */
  tornBytes: number;
}

export function decodeSegment(buf: Buffer): DecodeResult {
  const entries: WalEntry[] = [];
  let o = 0;
  while (o + 8 <= buf.length) {
    const len = buf.readUInt32LE(o);
    const crc = buf.readUInt32LE(o + 4);
    if (len < 13 || o + 8 + len > buf.length) break;
    const payload = buf.subarray(o + 8, o + 8 + len);
    if (crc32(payload) !== crc || payload[0] !== 1) break;
    let p = 1;
    const keyLen = payload.readUInt16LE(p);
    p += 2;
    const roomKey = payload.subarray(p, p + keyLen).toString('utf8');
    p += keyLen;
    const authorLen = payload.readUInt16LE(p);
    p += 2;
    const author = payload.subarray(p, p + authorLen).toString('utf8');
    p += authorLen;
    const createdAt = payload.readDoubleLE(p);
    p += 8;
    entries.push({ roomKey, author, createdAt, bytes: new Uint8Array(payload.subarray(p)) });
    o += 8 + len;
  }
  return { entries, tornBytes: buf.length - o };
}
