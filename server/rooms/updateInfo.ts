// Validation of incoming Loro bytes and the id spans that make a stored row
// idempotent (a retried update imports nothing new and is not stored again).
import { decodeImportBlobMeta, type ImportStatus } from 'loro-crdt';

export class InvalidUpdateError extends Error {}

export interface BlobInfo {
  mode: string;
  /** Counter units the blob spans over all peers. */
  span: number;
}

/** Checks header and checksum; throws InvalidUpdateError with the reason. */
export function inspectBlob(bytes: Uint8Array): BlobInfo {
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
  for (const [peer, e] of end) span += e - (start.get(peer) ?? 0);
  meta.partialStartVersionVector.free();
  meta.partialEndVersionVector.free();
  return { mode: meta.mode, span };
}

export interface SpanSummary {
  peer: string;
  seqStart: number;
  seqEnd: number;
  opCount: number;
  json: string;
}

export function summarizeSpans(status: ImportStatus): SpanSummary {
  const spans: Record<string, [number, number]> = {};
  let opCount = 0;
  let first: [string, number, number] | null = null;
  const add = (m: ImportStatus['success'] | null) => {
    if (!m) return;
    for (const [peer, s] of m) {
      spans[peer] = [s.start, s.end];
      opCount += s.end - s.start;
      if (!first) first = [peer, s.start, s.end];
    }
  };
  add(status.success);
  add(status.pending);
  const f = first as [string, number, number] | null;
  return { peer: f ? f[0] : '', seqStart: f ? f[1] : 0, seqEnd: f ? f[2] : 0, opCount, json: JSON.stringify(spans) };
}

/** Id spans an import left pending (their dependencies are missing), as "peer:start-end" keys. */
export function pendingKeys(status: ImportStatus): string[] {
  const out: string[] = [];
  for (const [peer, s] of status.pending ?? []) out.push(`${peer}:${s.start}-${s.end}`);
  return out;
}

/**
 * Loro reports an update whose dependencies are missing as pending every time
 * it is imported, so a resent pending update looks new. It is a repeat when
 * nothing was applied and every pending span is one the room already stored.
 */
export function isRepeatedPending(status: ImportStatus, stored: Set<string>): boolean {
  if (status.success.size > 0) return false;
  const keys = pendingKeys(status);
  return keys.length > 0 && keys.every((k) => stored.has(k));
}

export function errText(err: unknown): string {
  const s = err instanceof Error ? err.message : String(err);
  return s.split('\n')[0].slice(0, 300);
}
