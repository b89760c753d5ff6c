// Checks that the offline DuckDB extensions load in the DuckDB that
// @duckdb/node-api embeds: a DuckLake with a DuckDB catalog and one with a
// SQLite catalog, each with a table written and read back.
// Usage: node scripts/verify-duckdb-extensions.mjs [extension_directory]
import { DuckDBInstance, blobValue } from '@duckdb/node-api';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const extDir = process.argv[2] ?? process.env.SQLROOM_EXTENSION_DIR ?? path.join(repo, '.sqlroom-tools/duckdb-extensions');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-ducklake-verify-'));
const sq = (s) => `'${s.replaceAll("'", "''")}'`;

let failed = false;
try {
  // autoinstall off: never try the network; autoload on: ATTACH 'ducklake:…'
  // loads ducklake (and sqlite_scanner for 'ducklake:sqlite:…') by itself.
  const inst = await DuckDBInstance.create(':memory:', {
    extension_directory: extDir,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
  });
  const c = await inst.connect();
  await c.run('LOAD ducklake');
  const catalogs = {
    duckdb: `ducklake:${path.join(tmp, 'cat.ducklake')}`,
    sqlite: `ducklake:sqlite:${path.join(tmp, 'cat.sqlite')}`,
  };
  for (const [kind, uri] of Object.entries(catalogs)) {
    const data = path.join(tmp, `data-${kind}`);
    await c.run(`ATTACH ${sq(uri)} AS lake_${kind} (DATA_PATH ${sq(data)}, DATA_INLINING_ROW_LIMIT 1000)`);
    await c.run(`CREATE TABLE lake_${kind}.ops_log (op_id BIGINT NOT NULL, doc_id VARCHAR NOT NULL, op_bytes BLOB NOT NULL)`);
    await c.run(`INSERT INTO lake_${kind}.ops_log VALUES (1, 'doc', $1), (2, 'doc', $2)`,
      [blobValue(new Uint8Array([0, 1, 2])), blobValue(new Uint8Array([255]))]);
    const r = await c.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(octet_length(op_bytes))::INTEGER AS bytes FROM lake_${kind}.ops_log`);
    const [n, bytes] = r.getRows()[0];
    const ok = n === 2 && bytes === 4;
    console.log(`${ok ? 'ok  ' : 'FAIL'} DuckLake with ${kind} catalog: ${n} rows, ${bytes} bytes read back`);
    failed ||= !ok;
  }
  const loaded = await c.runAndReadAll(
    "SELECT extension_name FROM duckdb_extensions() WHERE loaded AND install_path <> '(BUILT-IN)' ORDER BY 1");
  console.log(`loaded from ${extDir}: ${loaded.getRows().map((r) => r[0]).join(', ')}`);
  c.closeSync();
} catch (e) {
  failed = true;
  console.error(`FAIL ${e instanceof Error ? e.message : e}`);
  console.error('Run scripts/install-duckdb-extensions.sh first (or set SQLROOM_EXTENSION_DIR).');
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
