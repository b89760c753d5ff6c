// Runs a real query on @duckdb/node-api and turns the result into the
// renderer's ResultPayload, following the contract in
// extension/core/resultPayload.ts (JSON-safe scalars; nested values as JSON
// strings; rows capped with the full count kept).
// NOTE: written before extension/core/duckdbSession.ts existed; once the
// kernel's session is in, the test should take its payload from there.
import { DuckDBInstance } from '@duckdb/node-api';
import type { ResultPayload, ResultValue } from '../../extension/core/resultPayload';

function toResultValue(value: unknown): ResultValue {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value); // lists, structs, maps, intervals
}

/** Runs `sql` on a fresh in-memory database and keeps at most `rowCap` rows. */
export async function queryPayload(sql: string, rowCap: number): Promise<ResultPayload> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const started = performance.now();
    const reader = await connection.runAndReadAll(sql);
    const elapsedMs = performance.now() - started;
    const names = reader.columnNames();
    const types = reader.columnTypes().map((t) => t.toString());
    const all = reader.getRowsJson();
    const rows = all.slice(0, rowCap).map((row) => row.map(toResultValue));
    return {
      version: 1,
      columns: names.map((name, i) => ({ name, type: types[i] })),
      rows,
      rowCount: all.length,
      truncated: all.length > rows.length,
      elapsedMs,
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
