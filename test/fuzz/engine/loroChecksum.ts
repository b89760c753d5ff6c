// Loro blobs carry a checksum (xxHash32 of bytes[20..], seed "LORO" read as
// little-endian u32, stored at bytes[16..20]). Nearly every mutated input
// fails it and is rejected before Loro decodes anything, so the import
// target re-computes it: mutations then reach Loro's decoder and the
// server's import path behind it.
const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;
const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
const mul = (a: number, b: number) => Math.imul(a, b) >>> 0;

export function xxhash32(buf: Uint8Array, seed: number): number {
  const len = buf.length;
  const rd = (o: number) => (buf[o] | (buf[o + 1] << 8) | (buf[o + 2] << 16) | (buf[o + 3] << 24)) >>> 0;
  let i = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + P1 + P2) >>> 0;
    let v2 = (seed + P2) >>> 0;
    let v3 = seed >>> 0;
    let v4 = (seed - P1) >>> 0;
    while (i <= len - 16) {
      v1 = mul(rotl((v1 + mul(rd(i), P2)) >>> 0, 13), P1);
      v2 = mul(rotl((v2 + mul(rd(i + 4), P2)) >>> 0, 13), P1);
      v3 = mul(rotl((v3 + mul(rd(i + 8), P2)) >>> 0, 13), P1);
      v4 = mul(rotl((v4 + mul(rd(i + 12), P2)) >>> 0, 13), P1);
      i += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0;
  } else h = (seed + P5) >>> 0;
  h = (h + len) >>> 0;
  for (; i <= len - 4; i += 4) h = mul(rotl((h + mul(rd(i), P3)) >>> 0, 17), P4);
  for (; i < len; i++) h = mul(rotl((h + mul(buf[i], P5)) >>> 0, 11), P1);
  h ^= h >>> 15;
  h = mul(h, P2);
  h ^= h >>> 13;
  h = mul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

const SEED = 0x4f524f4c; // "LORO" as little-endian u32

/** A copy of `data` with a correct checksum when it starts with Loro's magic; otherwise `data`. */
export function withLoroChecksum(data: Uint8Array): Uint8Array {
  if (data.length < 22 || data[0] !== 0x6c || data[1] !== 0x6f || data[2] !== 0x72 || data[3] !== 0x6f) return data;
  const out = Uint8Array.from(data);
  new DataView(out.buffer).setUint32(16, xxhash32(out.subarray(20), SEED), true);
  return out;
}
