// WAL records on disk: every whole record before and after a torn region is
// read back; version-1 files (no magic) still read.
import * as assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { decodeSegment, encodeEntry, encodedSize, type WalEntry } from '../../server/wal/walFormat';

function entry(i: number, size = 100): WalEntry {
  return { roomKey: `room${i}@main`, author: `a${i}`, createdAt: 1700000000000 + i, bytes: new Uint8Array(size).fill(i & 0xff) };
}

/** A version-1 record as the previous server wrote it. */
function encodeV1(e: WalEntry): Buffer {
  const key = Buffer.from(e.roomKey);
  const author = Buffer.from(e.author);
  const payload = Buffer.concat([Buffer.from([1]), u16(key.length), key, u16(author.length), author, f64(e.createdAt), Buffer.from(e.bytes)]);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}
const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const f64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(n);
  return b;
};

describe('WAL record format', () => {
  it('round-trips entries; encodedSize is the size on disk', () => {
    const es = [entry(1), entry(2, 0), entry(3, 9000)];
    const buf = Buffer.concat(es.map(encodeEntry));
    const res = decodeSegment(buf);
    assert.equal(res.tornBytes, 0);
    assert.deepEqual(res.entries, es);
    for (const e of es) assert.equal(encodeEntry(e).length, encodedSize(e));
  });

  it('a torn record in the middle (partly written, then more records) loses only itself', () => {
    const a = encodeEntry(entry(1));
    const torn = encodeEntry(entry(2, 8000)).subarray(0, 4096); // a short write
    const hole = Buffer.alloc(8000 + 31 - 4096); // the old writer then wrote past the record's claimed end
    const b = encodeEntry(entry(3));
    const c = encodeEntry(entry(4));
    const res = decodeSegment(Buffer.concat([a, torn, hole, b, c]));
    assert.deepEqual(res.entries.map((e) => e.roomKey), ['room1@main', 'room3@main', 'room4@main']);
    assert.equal(res.tornBytes, torn.length + hole.length);
    assert.equal(res.tornRegions, 1);
  });

  it('resyncs on the next record when the torn one is followed directly by another, and with garbage between', () => {
    const a = encodeEntry(entry(1));
    const cut = encodeEntry(entry(2, 500)).subarray(0, 200);
    const garbage = Buffer.from('not a record at all, SQW2 inside it too');
    const b = encodeEntry(entry(3));
    const res = decodeSegment(Buffer.concat([a, cut, b, garbage, b]));
    assert.deepEqual(res.entries.map((e) => e.roomKey), ['room1@main', 'room3@main', 'room3@main']);
    assert.equal(res.tornRegions, 2);
    assert.equal(res.tornBytes, cut.length + garbage.length);
  });

  it('a flipped byte inside a record loses that record only', () => {
    const recs = [1, 2, 3].map((i) => encodeEntry(entry(i)));
    recs[1][60] ^= 0xff;
    const res = decodeSegment(Buffer.concat(recs));
    assert.deepEqual(res.entries.map((e) => e.roomKey), ['room1@main', 'room3@main']);
  });

  it('a torn last record: every whole record before it, tornBytes = its bytes', () => {
    const recs = [1, 2].map((i) => encodeEntry(entry(i)));
    const last = encodeEntry(entry(3, 300)).subarray(0, 123);
    const res = decodeSegment(Buffer.concat([...recs, last]));
    assert.equal(res.entries.length, 2);
    assert.equal(res.tornBytes, 123);
    assert.equal(res.tornRegions, 1);
  });

  it('reads version-1 segments (written before the magic), also followed by version-2 records', () => {
    const v1 = [entry(1), entry(2)].map(encodeV1);
    const res = decodeSegment(Buffer.concat([...v1, encodeEntry(entry(3))]));
    assert.deepEqual(res.entries, [entry(1), entry(2), entry(3)]);
    assert.equal(res.tornBytes, 0);
  });
});
