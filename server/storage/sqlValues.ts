// Converting between JavaScript values and DuckDB's, the same for every SQL
// storage (the DuckDB file, DuckLake, DuckLake shared by several processes).
import { DuckDBBlobValue, DuckDBTimestampValue, type DuckDBValue } from '@duckdb/node-api';

/** Milliseconds since the epoch → microseconds, for make_timestamp. */
export const ts = (ms: number): bigint => BigInt(Math.round(ms)) * 1000n;

/** A numeric column (BIGINT comes back as a bigint); NULL → 0. */
export const num = (v: DuckDBValue): number => (v === null ? 0 : Number(v));

export const bytesOf = (v: DuckDBValue): Uint8Array => {
  if (v instanceof DuckDBBlobValue) return v.bytes;
  throw new Error('expected a BLOB value');
};

/** A TIMESTAMP column → milliseconds since the epoch (0 for anything else). */
export const msOf = (v: DuckDBValue): number => (v instanceof DuckDBTimestampValue ? Number(v.micros / 1000n) : 0);

export const iso = (v: DuckDBValue): string => new Date(msOf(v)).toISOString();
