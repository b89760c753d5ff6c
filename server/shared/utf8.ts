// Strict UTF-8 decoding with the position of the first bad byte.

/** Byte offset of the first byte that does not start a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let len: number;
    if (b >= 0xc2 && b <= 0xdf) len = 2;
    else if (b >= 0xe0 && b <= 0xef) len = 3;
    else if (b >= 0xf0 && b <= 0xf4) len = 4;
    else return i;
    if (i + len > n) return i;
    for (let k = 1; k < len; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    const b1 = bytes[i + 1];
    // Overlong forms, UTF-16 surrogates and code points above U+10FFFF.
    if ((b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 >= 0xa0)) return i;
    if ((b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 >= 0x90)) return i;
    i += len;
  }
  return -1;
}

export type Utf8Result = { ok: true; text: string } | { ok: false; offset: number; byte: number };

/** Decodes strictly; a leading byte-order mark is dropped. */
export function decodeUtf8Strict(bytes: Uint8Array): Utf8Result {
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const body = bytes.subarray(start);
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body) };
  } catch {
    const at = firstInvalidUtf8Offset(body);
    const offset = (at < 0 ? 0 : at) + start;
    return { ok: false, offset, byte: bytes[offset] };
  }
}
