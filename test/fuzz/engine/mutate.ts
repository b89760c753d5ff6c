// Byte-level mutations (the usual libFuzzer/AFL set): bit flips, random and
// "interesting" values, arithmetic, insert/delete/duplicate ranges, splice
// with another corpus entry, dictionary tokens.

/** Small deterministic PRNG (xorshift32), so a run is reproducible from its seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** Integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
}

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40, 0x3f, 0xfe];
const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x100, 0x10000, 0x3fffffff, 1024, 65535, 256 * 1024];

export interface MutationContext {
  rng: Rng;
  maxLen: number;
  dictionary: Uint8Array[];
  /** Another corpus entry (for splicing). */
  other(): Uint8Array;
}

function insert(buf: Uint8Array, at: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(buf.length + bytes.length);
  out.set(buf.subarray(0, at), 0);
  out.set(bytes, at);
  out.set(buf.subarray(at), at + bytes.length);
  return out;
}

function remove(buf: Uint8Array, at: number, n: number): Uint8Array {
  const out = new Uint8Array(buf.length - n);
  out.set(buf.subarray(0, at), 0);
  out.set(buf.subarray(at + n), at);
  return out;
}

function uleb(n: number): Uint8Array {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0 && out.length < 10);
  return Uint8Array.from(out);
}

/** One mutation of `input`; never returns more than ctx.maxLen bytes. */
export function mutateOnce(input: Uint8Array, ctx: MutationContext): Uint8Array {
  const { rng } = ctx;
  let buf = input;
  const len = buf.length;
  const pos = () => rng.below(len);
  const op = len === 0 ? 5 + rng.below(2) : rng.below(14);
  switch (op) {
    case 0: {
      buf = Uint8Array.from(buf);
      const p = pos();
      buf[p] ^= 1 << rng.below(8);
      break;
    }
    case 1: {
      buf = Uint8Array.from(buf);
      buf[pos()] = rng.below(256);
      break;
    }
    case 2: {
      buf = Uint8Array.from(buf);
      buf[pos()] = INTERESTING_8[rng.below(INTERESTING_8.length)];
      break;
    }
    case 3: {
      buf = Uint8Array.from(buf);
      const p = pos();
      buf[p] = (buf[p] + (rng.below(2) ? 1 : -1) * (1 + rng.below(16))) & 0xff;
      break;
    }
    case 4: {
      // 32-bit interesting value, either endianness
      if (len < 4) break;
      buf = Uint8Array.from(buf);
      const p = rng.below(len - 3);
      const v = INTERESTING_32[rng.below(INTERESTING_32.length)];
      const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      dv.setUint32(p, v, rng.below(2) === 0);
      break;
    }
    case 5: {
      const n = 1 + rng.below(rng.chance(0.9) ? 8 : 128);
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = rng.below(256);
      buf = insert(buf, rng.below(len + 1), bytes);
      break;
    }
    case 6: {
      if (ctx.dictionary.length === 0) break;
      const tok = ctx.dictionary[rng.below(ctx.dictionary.length)];
      buf = insert(buf, rng.below(len + 1), tok);
      break;
    }
    case 7: {
      if (ctx.dictionary.length === 0) break;
      const tok = ctx.dictionary[rng.below(ctx.dictionary.length)];
      buf = Uint8Array.from(buf);
      const p = pos();
      buf.set(tok.subarray(0, Math.max(0, len - p)), p);
      break;
    }
    case 8: {
      const p = pos();
      const n = 1 + rng.below(Math.min(len - p, rng.chance(0.8) ? 8 : len));
      buf = remove(buf, p, n);
      break;
    }
    case 9: {
      // duplicate a range
      const p = pos();
      const n = 1 + rng.below(Math.min(len - p, 64));
      buf = insert(buf, rng.below(len + 1), buf.slice(p, p + n));
      break;
    }
    case 10: {
      // copy a range over another place
      const from = pos();
      const n = 1 + rng.below(Math.min(len - from, 32));
      buf = Uint8Array.from(buf);
      buf.copyWithin(pos(), from, from + n);
      break;
    }
    case 11: {
      // splice: prefix of this, suffix of another corpus entry
      const o = ctx.other();
      const a = rng.below(len + 1);
      const b = rng.below(o.length + 1);
      const out = new Uint8Array(a + (o.length - b));
      out.set(buf.subarray(0, a), 0);
      out.set(o.subarray(b), a);
      buf = out;
      break;
    }
    case 12: {
      // replace a byte with a LEB128 length-ish value (the protocol and Loro use varints)
      const p = pos();
      buf = insert(remove(buf, p, 1), p, uleb(INTERESTING_32[rng.below(INTERESTING_32.length)]));
      break;
    }
    default: {
      buf = buf.slice(0, rng.below(len + 1)); // truncate
      break;
    }
  }
  return buf.length > ctx.maxLen ? buf.slice(0, ctx.maxLen) : buf;
}

/** 1..5 stacked mutations. */
export function mutate(input: Uint8Array, ctx: MutationContext): Uint8Array {
  let out = input;
  const n = 1 + ctx.rng.below(5);
  for (let i = 0; i < n; i++) out = mutateOnce(out, ctx);
  return out;
}
