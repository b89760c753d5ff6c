// Embedded DuckDB file storage (the default: --db ./sqlroom.duckdb).
import { DuckDBInstance } from '@duckdb/node-api';
import { SqlStorage, explainOpenError } from './sqlStorage';

export interface DuckDbStorageOptions {
  path: string;
  extensionDir?: string;
}

export class DuckDbStorage extends SqlStorage {
  readonly kind = 'duckdb';
  constructor(private readonly opts: DuckDbStorageOptions) {
    super();
  }

  protected async open(): Promise<void> {
    const config: Record<string, string> = {};
    if (this.opts.extensionDir) config.extension_directory = this.opts.extensionDir;
    try {
      this.instance = await DuckDBInstance.create(this.opts.path, config);
      this.conn = await this.instance.connect();
    } catch (err) {
      throw explainOpenError(err, `database ${this.opts.path}`);
    }
  }
}
