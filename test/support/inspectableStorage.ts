// DuckDB storage with a read-only SQL door for tests (ops_log invariants).
import { DuckDbStorage } from '../../server';

export class InspectableDuckDb extends DuckDbStorage {
  /** Rows of `sql` (values as JS: bigint → number, blobs untouched). */
  query(sql: string): Promise<Record<string, unknown>[]> {
    return this.queue.run(async () => (await this.rows(sql)).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]))));
  }
}

/**
 * ops_log invariants: per doc+branch, op ids are unique; per Loro peer, the
 * id spans of the rows never overlap (no op stored twice) and grow with op_id.
 * Returns the problems found (empty = fine).
 */
export async function opsLogProblems(db: InspectableDuckDb): Promise<string[]> {
  const rows = await db.query('SELECT doc_id, branch, op_id, spans FROM ops_log ORDER BY doc_id, branch, op_id');
  const problems: string[] = [];
  const seenOpIds = new Set<string>();
  const lastEnd = new Map<string, { end: number; opId: number }>();
  for (const r of rows) {
    const room = `${r.doc_id}@${r.branch}`;
    const key = `${room}#${r.op_id}`;
    if (seenOpIds.has(key)) problems.push(`op_id ${r.op_id} appears twice in ${room}`);
    seenOpIds.add(key);
    const spans = JSON.parse(String(r.spans)) as Record<string, [number, number]>;
    if (Object.keys(spans).length === 0) problems.push(`${room}: op ${r.op_id} holds no Loro ops (a duplicate stored as an empty row)`);
    for (const [peer, [start, end]] of Object.entries(spans)) {
      const k = `${room}/${peer}`;
      const prev = lastEnd.get(k);
      if (prev && start < prev.end) problems.push(`${room}: peer ${peer} ops [${start},${end}) of op ${r.op_id} overlap op ${prev.opId} (ending at ${prev.end}): stored twice or out of order`);
      if (!prev || end > prev.end) lastEnd.set(k, { end, opId: Number(r.op_id) });
    }
  }
  return problems;
}
