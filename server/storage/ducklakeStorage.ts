// DuckLake storage: ATTACH 'ducklake:<catalog>' with a data path. Small
// flushes are inlined into the catalog (DATA_INLINING_ROW_LIMIT above one
// flush's rows); merge / expire / cleanup run in the background.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { SqlStorage, StorageOpenError, explainOpenError, loadHttpfsForEncryption, sqlLiteral } from './sqlStorage';

export interface DuckLakeStorageOptions {
  /** `ducklake:<catalog>`; `ducklake:` is added when missing. */
  catalog: string;
  dataPath: string;
  extensionDir?: string;
  /** Rows inlined into the catalog per insert (default 5000 > one flush's 200 ops). */
  inliningRowLimit?: number;
  /** Snapshots older than this are expired by maintenance (ms). */
  expireOlderThanMs?: number;
  /** Encrypted Parquet data files (ATTACH ... ENCRYPTED; needs the httpfs extension for its crypto). */
  encrypted?: boolean;
}

export const DUCKDB_VERSION = '1.5.5';
/** The name the lake is attached as. */
export const LAKE = 'sqlroom_lake';

export class DuckLakeStorage extends SqlStorage {
  readonly kind = 'ducklake';
  constructor(private readonly opts: DuckLakeStorageOptions) {
    super();
  }

  protected async open(): Promise<void> {
    const config: Record<string, string> = { autoinstall_known_extensions: 'false' };
    if (this.opts.extensionDir) config.extension_directory = path.resolve(this.opts.extensionDir);
    this.instance = await DuckDBInstance.create(':memory:', config);
    this.conn = await this.instance.connect();
    try {
      await this.c.run('LOAD ducklake');
    } catch (err) {
      const where = this.opts.extensionDir
        ? `${path.resolve(this.opts.extensionDir)}/v${DUCKDB_VERSION}/linux_amd64/ducklake.duckdb_extension`
        : `~/.duckdb/extensions/v${DUCKDB_VERSION}/<platform>/ducklake.duckdb_extension`;
      throw new StorageOpenError(
        `the DuckDB ducklake extension is not available (${(err as Error).message.split('\n')[0]}). ` +
          `Expected ${where}${this.opts.extensionDir && !existsSync(where) ? ' (missing)' : ''}. ` +
          `Install it with scripts/install-duckdb-extensions.sh (offline, from the PyPI wheel duckdb-extension-ducklake==${DUCKDB_VERSION}) ` +
          `and pass --extension-dir, or run INSTALL ducklake with network access.`,
      );
    }
    if (this.opts.encrypted) await loadHttpfsForEncryption(this.c, this.opts.extensionDir);
    const catalog = this.opts.catalog.startsWith('ducklake:') ? this.opts.catalog : `ducklake:${this.opts.catalog}`;
    const limit = this.opts.inliningRowLimit ?? 5000;
    try {
      // ATTACH takes no bound parameters; these are operator-given paths, quoted as literals.
      await this.c.run(
        `ATTACH ${sqlLiteral(catalog)} AS ${LAKE} (DATA_PATH ${sqlLiteral(path.resolve(this.opts.dataPath))}, DATA_INLINING_ROW_LIMIT ${Math.floor(limit)}${this.opts.encrypted ? ', ENCRYPTED' : ''})`,
      );
      await this.c.run(`USE ${LAKE}`);
    } catch (err) {
      this.conn.closeSync();
      this.instance.closeSync();
      throw explainOpenError(err, `DuckLake catalog ${catalog}`);
    }
  }

  override async maintenance(): Promise<void> {
    const olderThanS = Math.max(1, Math.floor((this.opts.expireOlderThanMs ?? 3600_000) / 1000));
    await this.queue.run(async () => {
      await this.c.run(`CALL ducklake_merge_adjacent_files('${LAKE}')`);
      await this.c.run(`CALL ducklake_expire_snapshots('${LAKE}', older_than => now() - to_seconds(?::BIGINT))`, [olderThanS]);
      await this.c.run(`CALL ducklake_cleanup_old_files('${LAKE}', older_than => now() - to_seconds(?::BIGINT))`, [olderThanS]);
    });
  }
}
