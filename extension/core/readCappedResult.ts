// Reads a (streaming) DuckDB result chunk by chunk: converts at most `rowCap`
// rows to JSON-safe values and only counts the rest, so a result of millions of
// rows never sits in JS memory.

import type { DuckDBResult } from '@duckdb/node-api';
import type { ResultColumn, ResultValue } from './resultPayload';
import { toResultValue } from './valueToJson';

export interface CappedRows {
  columns: ResultColumn[];
  rows: ResultValue[][];
  /** All rows the result produced, kept or not. */
  rowCount: number;
  /**
   * The stream ended because the query failed, not because it was exhausted.
   * node-api cannot tell the two apart from the chunks (both end with an empty
   * chunk) and does not expose the error, but a failed result stops reporting
   * itself as streaming.
   */
  streamFailed: boolean;
}

/**
 * Drains `result`. `stopRequested` is checked before every fetch: when it turns
 * true, reading stops and `onStop` decides what to throw (a streaming result
 * that DuckDB interrupts can simply end early, so the caller must not take a
 * short result for a complete one).
 */
export async function readCappedResult(
  result: DuckDBResult,
  rowCap: number,
  stopRequested: () => boolean,
  onStop: () => Error,
): Promise<CappedRows> {
  const types = result.columnTypes();
  // An alias names types such as JSON, which DuckDB stores as VARCHAR.
  const columns = result.columnNames().map((name, i) => ({ name, type: types[i].alias ?? types[i].toString() }));
  const wasStreaming = result.isStreaming;
  const rows: ResultValue[][] = [];
  let rowCount = 0;
  for (;;) {
    if (stopRequested()) throw onStop();
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const keep = Math.min(chunk.rowCount, rowCap - rows.length);
    if (keep > 0) {
      const vectors = types.map((_, c) => chunk.getColumnVector(c));
      for (let r = 0; r < keep; r++) {
        rows.push(vectors.map((vector, c) => toResultValue(vector.getItem(r), types[c])));
      }
    }
    rowCount += chunk.rowCount;
  }
  if (stopRequested()) throw onStop();
  return { columns, rows, rowCount, streamFailed: wasStreaming && !result.isStreaming };
}
