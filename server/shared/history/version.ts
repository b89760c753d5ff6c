// Versions are Loro frontiers. Their string form, used in URIs, messages and
// the checkpoints map: the op ids "peer@counter" sorted and joined with ",";
// the empty version (before any change) is "". (Loro's own idStr is
// "counter@peer"; peer-first reads better in a URI and sorts by peer.)

export type OpIdLike = { peer: string; counter: number };

const OP_ID = /^(\d{1,20})@(\d{1,15})$/;

export function opIdString(id: OpIdLike): string {
  return `${id.peer}@${id.counter}`;
}

export function parseOpId(text: string): OpIdLike {
  const m = OP_ID.exec(text);
  if (!m) throw new Error(`not an op id "peer@counter": ${JSON.stringify(text)}`);
  return { peer: m[1], counter: Number(m[2]) };
}

export function formatVersion(frontiers: readonly OpIdLike[]): string {
  return frontiers
    .map(opIdString)
    .sort()
    .join(',');
}

/** Parses a version string; throws with the offending part on bad input. */
export function parseVersion(text: string): OpIdLike[] {
  if (typeof text !== 'string') throw new Error('a version must be a string');
  if (text === '') return [];
  const ids = text.split(',').map(parseOpId);
  if (new Set(ids.map((i) => i.peer)).size !== ids.length) throw new Error(`a version names each peer once: ${JSON.stringify(text)}`);
  return ids;
}

/** Short label for UI: the first op id, and "+N" when the version has several heads. */
export function shortVersion(version: string): string {
  if (version === '') return 'empty';
  const parts = version.split(',');
  return parts.length === 1 ? parts[0] : `${parts[0]} +${parts.length - 1}`;
}
