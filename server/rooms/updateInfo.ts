// Validation of incoming Loro bytes and the id spans that make a stored row
// idempotent (a retried update imports nothing new and is not stored again).
import { decodeImportBlobMeta, type ImportStatus, type LoroDoc, type OpId } from 'loro-crdt';

export class InvalidUpdateError extends Error {}

export interface BlobInfo {
  mode: string;
  /** Counter units the blob spans over all peers. */
  span: number;
  /** Per peer, the counter range [start, end) the blob holds (non-empty ranges only). */
  ranges: Map<string, [number, number]>;
  /** The versions its first changes build on. */
  startFrontiers: OpId[];
}

/**
 * Decoding a blob's meta costs more than importing a small update (about
 * 0.15 ms for 80 bytes), and one update is inspected up to three times on its
 * way in (the batch check, accept's validation, its id ranges): keep the
 * answer per byte array for as long as that array lives.
 */
const inspected = new WeakMap<Uint8Array, BlobInfo | InvalidUpdateError>();

const MAGIC = [0x6c, 0x6f, 0x72, 0x6f]; // "loro"
/** Encode mode of Loro's fast-updates format (u16 after the 4-byte magic and the 16-byte checksum field). */
const MODE_FAST_UPDATES = 4;

/**
 * A cheap check for the hot path: Loro's magic and the update format. Blobs
 * in any other mode (snapshots, old formats) get the full inspection.
 * Decoding a blob's meta costs about as much as importing it, and Loro's
 * import checks the checksum and the encoding itself (refusing garbage
 * without touching the document), so an update is not decoded twice.
 */
export function checkHeader(bytes: Uint8Array): void {
  if (bytes.length === 0) throw new InvalidUpdateError('empty update');
  if (bytes.length < 22 || MAGIC.some((b, i) => bytes[i] !== b)) throw new InvalidUpdateError('not a valid Loro update (no Loro header)');
  if (((bytes[20] << 8) | bytes[21]) !== MODE_FAST_UPDATES) inspectBlob(bytes);
}

/** Checks header and checksum; throws InvalidUpdateError with the reason. */
export function inspectBlob(bytes: Uint8Array): BlobInfo {
  let res = inspected.get(bytes);
  if (!res) {
    try {
      res = decodeBlobInfo(bytes);
    } catch (err) {
      if (!(err instanceof InvalidUpdateError)) throw err;
      res = err;
    }
    inspected.set(bytes, res);
  }
  if (res instanceof InvalidUpdateError) throw res;
  return res;
}

function decodeBlobInfo(bytes: Uint8Array): BlobInfo {
  if (bytes.length === 0) throw new InvalidUpdateError('empty update');
  let meta;
  try {
    meta = decodeImportBlobMeta(bytes, true);
  } catch (err) {
    throw new InvalidUpdateError(`not a valid Loro update (${errText(err)})`);
  }
  if (meta.mode === 'shallow-snapshot') throw new InvalidUpdateError('shallow snapshots cannot be merged into a room');
  const start = meta.partialStartVersionVector.toJSON();
  const end = meta.partialEndVersionVector.toJSON();
  let span = 0;
  const ranges = new Map<string, [number, number]>();
  for (const [peer, e] of end) {
    const s = start.get(peer) ?? 0;
    span += e - s;
    if (e > s) ranges.set(peer, [s, e]);
  }
  meta.partialStartVersionVector.free();
  meta.partialEndVersionVector.free();
  return { mode: meta.mode, span, ranges, startFrontiers: meta.startFrontiers };
}

/** The ops (counter units) a fast-updates blob holds (fastUpdateShape), or null: ask decodeImportBlobMeta. */
export function fastUpdateSpan(bytes: Uint8Array): number | null {
  return fastUpdateShape(bytes)?.ops ?? null;
}

/**
 * The ops (counter units) a fast-updates blob holds and its number of blocks,
 * read from the blocks' headers: the body is a sequence of length-prefixed
 * blocks, each holding one peer's changes (so blocks bound the peers) and
 * starting with its counter start and counter length as LEB128 varints (Loro
 * 1.x's block encoding). decodeImportBlobMeta answers the ops too but builds
 * Loro state to do it (about 0.1 ms an update, a quarter of a keystroke's cost
 * on the server). Null when the blob is in another mode or its framing is not
 * as expected: ask decodeImportBlobMeta then. (updateInfo.unit.test.ts checks
 * it against decodeImportBlobMeta on many documents.)
 */
export function fastUpdateShape(bytes: Uint8Array): { ops: number; blocks: number } | null {
  if (bytes.length < 22 || ((bytes[20] << 8) | bytes[21]) !== MODE_FAST_UPDATES) return null;
  let o = 22;
  let span = 0;
  let blocks = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (o >= bytes.length) return -1;
      const b = bytes[o++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
    return -1;
  };
  while (o < bytes.length) {
    const len = varint();
    if (len <= 0) return null;
    const end = o + len;
    if (end > bytes.length) return null;
    if (varint() < 0) return null; // counter start
    const counterLen = varint();
    if (counterLen < 0 || o > end) return null;
    span += counterLen;
    blocks++;
    o = end;
  }
  return { ops: span, blocks };
}

export interface SpanSummary {
  peer: string;
  seqStart: number;
  seqEnd: number;
  opCount: number;
  json: string;
}

/**
 * What an import added to the document, per peer: Loro's ImportStatus.success
 * is exactly the counters between the oplog versions before and after the
 * import (ops Loro keeps pending are not in it, and ops of earlier updates an
 * import unblocks are), so no version vector of the whole document is needed
 * (test: packRows.unit.test.ts checks this against version diffs).
 */
export function addedSpans(status: ImportStatus): SpanSummary & { ranges: Map<string, [number, number]> } {
  const ranges = new Map<string, [number, number]>();
  for (const [peer, span] of status.success) if (span.end > span.start) ranges.set(peer, [span.start, span.end]);
  return spanSummary(ranges);
}

/** Row fields for per-peer ranges: the peer with the most ops, the op count and the spans JSON (peers sorted). */
export function spanSummary(unsorted: Map<string, [number, number]>): SpanSummary & { ranges: Map<string, [number, number]> } {
  if (unsorted.size === 1) {
    // The common case (one peer's keystrokes), without the sort and the generic JSON.
    const [[peer, [s, e]]] = unsorted;
    return { peer, seqStart: s, seqEnd: e, opCount: e - s, json: `{${JSON.stringify(peer)}:[${s},${e}]}`, ranges: unsorted };
  }
  const ranges = new Map([...unsorted].sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)));
  let opCount = 0;
  let main: [string, number, number] = ['', 0, 0];
  for (const [peer, [s, e]] of ranges) {
    opCount += e - s;
    if (e - s > main[2] - main[1]) main = [peer, s, e]; // the row's peer: the one with the most ops
  }
  return { peer: main[0], seqStart: main[1], seqEnd: main[2], opCount, json: JSON.stringify(Object.fromEntries(ranges)), ranges };
}

/** The ops of `doc` in the given per-peer counter ranges, as one update. */
export function exportRanges(doc: LoroDoc, ranges: Map<string, [number, number]>): Uint8Array {
  return doc.export({ mode: 'updates-in-range', spans: [...ranges].map(([peer, [s, e]]) => ({ id: { peer: peer as `${number}`, counter: s }, len: e - s })) });
}

/** "peer 12: ops 5-8, …": the pending spans of an import, for the client's error message. */
export function pendingText(status: ImportStatus): string {
  return [...(status.pending ?? [])].map(([peer, s]) => `peer ${peer}: ops ${s.start}-${s.end - 1}`).join(', ');
}

export function errText(err: unknown): string {
  const s = err instanceof Error ? err.message : String(err);
  return s.split('\n')[0].slice(0, 300);
}
