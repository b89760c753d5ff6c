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

/**
 * Holes in the log: per doc+branch and Loro peer, the rows' id spans follow
 * each other without a gap, and the last one ends where the recovered
 * document (`versions`: room key doc@branch -> peer -> counter end) ends. A
 * gap means ops that are in a snapshot (or the room) but in no row: history,
 * analytics and a replay of the log would miss them. (Compaction deletes a
 * prefix of the rows, which leaves no gap among the rest.)
 */
export async function opsLogHoles(db: InspectableDuckDb, versions: Map<string, Map<string, number>>): Promise<string[]> {
  const rows = await db.query('SELECT doc_id, branch, op_id, spans FROM ops_log ORDER BY doc_id, branch, op_id');
  const problems: string[] = [];
  const lastEnd = new Map<string, { end: number; opId: number }>();
  for (const r of rows) {
    const room = `${r.doc_id}@${r.branch}`;
    for (const [peer, [start, end]] of Object.entries(JSON.parse(String(r.spans)) as Record<string, [number, number]>)) {
      const k = `${room}/${peer}`;
      const prev = lastEnd.get(k);
      if (prev && start > prev.end) problems.push(`${room}: peer ${peer} ops [${prev.end},${start}) are in no row (between op ${prev.opId} and op ${r.op_id})`);
      if (!prev || end > prev.end) lastEnd.set(k, { end, opId: Number(r.op_id) });
    }
  }
  for (const [room, vv] of versions) {
    for (const [peer, end] of vv) {
      const last = lastEnd.get(`${room}/${peer}`);
      if (last && last.end < end) problems.push(`${room}: peer ${peer} ops [${last.end},${end}) are in the document but in no row (the last row with this peer is op ${last.opId})`);
    }
  }
  return problems;
}
