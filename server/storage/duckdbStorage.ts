// Embedded DuckDB file storage (the default: --db ./sqlroom.duckdb).
import { DuckDBInstance } from '@duckdb/node-api';
import { SqlStorage, StorageOpenError, explainOpenError, loadHttpfsForEncryption, sqlLiteral } from './sqlStorage';

export interface DuckDbStorageOptions {
  path: string;
  extensionDir?: string;
  /** Encrypt the database file (AES-GCM, ATTACH ... ENCRYPTION_KEY); needs the httpfs extension. */
  encryptionKey?: string;
}

export class DuckDbStorage extends SqlStorage {
  readonly kind = 'duckdb';
  constructor(private readonly opts: DuckDbStorageOptions) {
    super();
  }

  protected async open(): Promise<void> {
    const config: Record<string, string> = {};
    if (this.opts.extensionDir) config.extension_directory = this.opts.extensionDir;
    if (this.opts.encryptionKey !== undefined) return this.openEncrypted(config);
    try {
      this.instance = await DuckDBInstance.create(this.opts.path, config);
      this.conn = await this.instance.connect();
    } catch (err) {
      if (/encrypted database/i.test(err instanceof Error ? err.message : '')) {
        throw explainOpenError(new Error(`${(err as Error).message.split('\n')[0]}; pass --encryption-key-file (option encryptionKey)`), `database ${this.opts.path}`);
      }
      throw explainOpenError(err, `database ${this.opts.path}`);
    }
  }

  private async openEncrypted(config: Record<string, string>): Promise<void> {
    this.instance = await DuckDBInstance.create(':memory:', { ...config, autoinstall_known_extensions: 'false' });
    this.conn = await this.instance.connect();
    try {
      await loadHttpfsForEncryption(this.conn, this.opts.extensionDir);
      // ATTACH takes no bound parameters: path and key are quoted literals.
      await this.conn.run(`ATTACH ${sqlLiteral(this.opts.path)} AS sqlroom_db (ENCRYPTION_KEY ${sqlLiteral(this.opts.encryptionKey!)})`);
      await this.conn.run('USE sqlroom_db');
    } catch (err) {
      this.conn.closeSync();
      this.instance.closeSync();
      this.conn = null;
      this.instance = null;
      if (err instanceof StorageOpenError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      if (/encrypt|key/i.test(msg) && !/lock/i.test(msg)) throw explainOpenError(new Error(`${msg.split('\n')[0]} (wrong --encryption-key-file, or the file is not encrypted?)`), `database ${this.opts.path}`);
      throw explainOpenError(err, `database ${this.opts.path}`);
    }
  }
}
