// Plain JSON values: normalisation before they enter Loro, structural
// equality (key order ignored), and key-sorted copies for stable file output.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Replaces lone UTF-16 surrogates with U+FFFD, as Loro (Rust strings) would. */
export function toWellFormed(s: string): string {
  // Fast path: most strings have no surrogates at all.
  if (!/[\uD800-\uDFFF]/.test(s)) return s;
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/**
 * Returns `value` as Loro would store and return it: what JSON.stringify keeps
 * (undefined object members and functions dropped, undefined array items and
 * non-finite numbers become null) with well-formed strings.
 * Throws TypeError on values JSON cannot represent (bigint, cycles).
 */
export function toJsonValue(value: unknown): JsonValue {
  return normalise(value, new Set());
}

function normalise(value: unknown, seen: Set<object>): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'string':
      return toWellFormed(value);
    case 'bigint':
      throw new TypeError('a bigint is not a JSON value');
    case 'function':
    case 'symbol':
      return null;
  }
  const obj = value as object;
  if (seen.has(obj)) throw new TypeError('a value with a cycle is not a JSON value');
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return obj.map((item) => normalise(item, seen));
    const withToJson = obj as { toJSON?: () => unknown };
    if (typeof withToJson.toJSON === 'function') return normalise(withToJson.toJSON(), seen);
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(obj)) {
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      out[toWellFormed(key)] = normalise(item, seen);
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

/** Structural equality of JSON values; object key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao);
  if (keys.length !== Object.keys(bo).length) return false;
  return keys.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && jsonEqual(ao[k], bo[k]));
}

/** Deep copy with object keys in code-unit order, so files diff stably. */
export function sortKeysDeep(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  const out: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeysDeep(value[key]);
  return out;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
