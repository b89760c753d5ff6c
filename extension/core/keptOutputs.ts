// Kept results: the last output of each cell, saved in the `.sqlroom` file's
// `outputs` section (outside the Loro history: outputs are not edits) and
// shown again, marked as from an earlier run, when the notebook is reopened.
// Pure functions; the serializer (extension/serializer.ts) does the VS Code part.
import { ERROR_MIME, RESULT_MIME, type ErrorPayload, type ResultPayload, type RunStamp } from './resultPayload';

/** One cell's kept output as the file stores it. */
export interface KeptOutput {
  mime: typeof RESULT_MIME | typeof ERROR_MIME;
  /** ISO time of the run. */
  ranAt: string;
  ranBy?: string;
  data: ResultPayload | ErrorPayload;
}

export const DEFAULT_KEPT_MAX_BYTES = 256 * 1024;

/**
 * The output to keep for a payload, at most `maxBytes` of JSON: a large result
 * keeps its first rows (and says "showing N of M rows"), a result whose
 * columns alone are too large is not kept (undefined).
 */
export function keepOutput(mime: string, payload: ResultPayload | ErrorPayload, maxBytes: number): KeptOutput | undefined {
  if (mime !== RESULT_MIME && mime !== ERROR_MIME) return undefined;
  const run: RunStamp = payload.run ?? { ranAt: Date.now() };
  const base = { mime, ranAt: new Date(run.ranAt).toISOString(), ...(run.ranBy ? { ranBy: run.ranBy } : {}) } as const;
  const { run: _run, ...rest } = payload as ResultPayload & ErrorPayload;
  void _run;
  let data = rest as ResultPayload | ErrorPayload;
  if (mime === RESULT_MIME) data = fitRows(data as ResultPayload, maxBytes) as ResultPayload;
  if (!data || byteLength(data) > maxBytes) return undefined;
  return { ...base, data };
}

function byteLength(v: unknown): number {
  return new TextEncoder().encode(JSON.stringify(v)).length;
}

/** The payload with as many leading rows as fit in maxBytes (binary search), or undefined when none fit. */
function fitRows(p: ResultPayload, maxBytes: number): ResultPayload | undefined {
  const { sort: _sort, chart: _chart, ...rest } = p;
  void _sort;
  void _chart;
  const base = rest as ResultPayload;
  if (byteLength(base) <= maxBytes) return base;
  const withRows = (n: number): ResultPayload => ({ ...base, rows: base.rows.slice(0, n), truncated: n < base.rowCount });
  if (byteLength(withRows(0)) > maxBytes) return undefined;
  let lo = 0;
  let hi = base.rows.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (byteLength(withRows(mid)) <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  return withRows(lo);
}

/** The payload to show for a kept output: stamped `kept` with when and by whom. */
export function restoreOutput(kept: KeptOutput): ResultPayload | ErrorPayload {
  const ranAt = Date.parse(kept.ranAt);
  const run: RunStamp = { ranAt: Number.isFinite(ranAt) ? ranAt : 0, kept: true, ...(kept.ranBy ? { ranBy: kept.ranBy } : {}) };
  return { ...kept.data, run };
}

/**
 * Reads the file's `outputs` section leniently: outputs are a cache, so an
 * entry that is malformed or names no cell of the notebook is dropped instead
 * of refusing to open the notebook.
 */
export function readKeptOutputs(raw: unknown, cellIds: ReadonlySet<string>): Record<string, KeptOutput> {
  const out: Record<string, KeptOutput> = {};
  if (!isObject(raw)) return out;
  for (const [id, entry] of Object.entries(raw)) {
    if (!cellIds.has(id) || !isObject(entry)) continue;
    const { mime, ranAt, ranBy, data } = entry;
    if ((mime !== RESULT_MIME && mime !== ERROR_MIME) || typeof ranAt !== 'string' || !isObject(data)) continue;
    if (ranBy !== undefined && typeof ranBy !== 'string') continue;
    if (mime === RESULT_MIME && !(Array.isArray(data.columns) && Array.isArray(data.rows))) continue;
    if (mime === ERROR_MIME && !(typeof data.title === 'string' && typeof data.message === 'string')) continue;
    out[id] = { mime, ranAt, ...(typeof ranBy === 'string' ? { ranBy } : {}), data: data as unknown as ResultPayload | ErrorPayload };
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
