// Tables, written so the same DDL works on DuckDB and DuckLake: only NOT NULL
// constraints, no sequences, literal defaults only (ids and times come from the server).
export const SCHEMA: string[] = [
  `CREATE TABLE IF NOT EXISTS ops_log (
    op_id BIGINT NOT NULL,
    doc_id VARCHAR NOT NULL,
    branch VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    author VARCHAR NOT NULL,
    op_bytes BLOB NOT NULL,
    seq_start BIGINT NOT NULL,
    seq_end BIGINT NOT NULL,
    peer VARCHAR NOT NULL,
    op_count BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    spans VARCHAR NOT NULL,
    updates BIGINT,
    first_at TIMESTAMP
  )`,
  `CREATE TABLE IF NOT EXISTS snapshots (
    snapshot_id BIGINT NOT NULL,
    doc_id VARCHAR NOT NULL,
    branch VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL,
    last_op_id BIGINT NOT NULL,
    snapshot_bytes BLOB NOT NULL,
    message VARCHAR
  )`,
  `CREATE TABLE IF NOT EXISTS doc_meta (
    doc_id VARCHAR NOT NULL,
    title VARCHAR,
    created_at TIMESTAMP NOT NULL,
    head_op_id BIGINT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS doc_branches (
    doc_id VARCHAR NOT NULL,
    branch VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    parent_branch VARCHAR,
    fork_frontiers VARCHAR,
    head_op_id BIGINT NOT NULL
  )`,
];

/**
 * Columns added since the first release, for databases created before them
 * (ALTER TABLE … ADD COLUMN IF NOT EXISTS, which DuckDB and DuckLake both
 * run): rows written before packing hold one update each (updates NULL = 1,
 * first_at NULL = created_at).
 */
export const MIGRATIONS: string[] = [
  'ALTER TABLE ops_log ADD COLUMN IF NOT EXISTS updates BIGINT',
  'ALTER TABLE ops_log ADD COLUMN IF NOT EXISTS first_at TIMESTAMP',
];

/** Rows per INSERT statement (placeholders per statement stay bounded). */
export const INSERT_CHUNK = 100;
