// Several `sqlroom-server` processes on one DuckLake (PostgreSQL catalog,
// shared data path), for the scale-out tests and the benchmark.
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance, DuckDBBlobValue, type DuckDBConnection } from '@duckdb/node-api';
import { LoroDoc } from 'loro-crdt';
import { startPostgres, type PgCluster } from './postgres';
import { spawnServer, type ChildServer } from './serverProcess';
import { rmDir, tmpDir, waitFor } from './serverHarness';

export const EXT_DIR = path.resolve(__dirname, '../../../.sqlroom-tools/duckdb-extensions');
const EXT_BIN = (name: string) => path.join(EXT_DIR, 'v1.5.5/linux_amd64', `${name}.duckdb_extension`);

/** Why the DuckDB extensions the scale-out needs are missing (null: present). */
export function lakeExtensionsMissing(): string | null {
  for (const n of ['ducklake', 'postgres_scanner']) {
    if (!existsSync(EXT_BIN(n))) return `DuckDB extension ${n} not found at ${EXT_BIN(n)}; run scripts/install-duckdb-extensions.sh`;
  }
  return null;
}

export interface ProcessSlot {
  index: number;
  walDir: string;
  server: ChildServer | null;
}

export class ScaleoutCluster {
  readonly slots: ProcessSlot[] = [];
  private constructor(
    readonly pg: PgCluster,
    readonly dir: string,
    readonly dataPath: string,
    readonly extraArgs: string[],
  ) {}

  static async start(processes: number, extraArgs: string[] = []): Promise<ScaleoutCluster> {
    const pg = await startPostgres();
    const dir = tmpDir('sqlroom-scaleout-');
    const dataPath = path.join(dir, 'lake-data');
    mkdirSync(dataPath, { recursive: true });
    const c = new ScaleoutCluster(pg, dir, dataPath, extraArgs);
    try {
      // The first process creates the catalog; the others then start together.
      await c.add();
      await Promise.all(Array.from({ length: processes - 1 }, () => c.add()));
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  args(walDir: string): string[] {
    return ['--lake', this.pg.lakeUri, '--data-path', this.dataPath, '--extension-dir', EXT_DIR, '--wal-dir', walDir, '--log-level', 'warn', ...this.extraArgs];
  }

  /** Start one more process (its own WAL dir). */
  async add(): Promise<ProcessSlot> {
    const slot: ProcessSlot = { index: this.slots.length, walDir: path.join(this.dir, `wal-${this.slots.length}`), server: null };
    this.slots.push(slot);
    slot.server = await spawnServer(this.args(slot.walDir), 60_000);
    return slot;
  }

  /** Restart a stopped/killed process with the same WAL dir (replays it). */
  async restart(slot: ProcessSlot): Promise<void> {
    slot.server = await spawnServer(this.args(slot.walDir), 60_000);
  }

  get servers(): ChildServer[] {
    return this.slots.map((s) => s.server).filter((s): s is ChildServer => s !== null);
  }

  /** Every live process has written what it buffered (WAL depth 0). */
  async settled(timeoutMs = 30_000): Promise<void> {
    for (const s of this.servers) {
      await waitFor(
        async () => {
          const h = (await (await fetch(`${s.httpUrl}/healthz`)).json()) as { walDepth?: number };
          return h.walDepth === 0;
        },
        `${s.url} flushed`,
        timeoutMs,
      );
    }
  }

  async stop(): Promise<void> {
    for (const s of this.slots) {
      if (s.server) await s.server.kill('SIGTERM').catch(() => null);
      s.server = null;
    }
    this.pg.stop();
    rmDir(this.dir);
  }
}

/** A read-only look at the lake from the test process (its own DuckDB). */
export class LakeReader {
  private constructor(
    private readonly inst: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}

  static async open(c: ScaleoutCluster): Promise<LakeReader> {
    const inst = await DuckDBInstance.create(':memory:', { extension_directory: EXT_DIR, autoinstall_known_extensions: 'false' });
    const conn = await inst.connect();
    await conn.run('LOAD ducklake');
    await conn.run(`ATTACH '${c.pg.lakeUri}' AS lake (DATA_PATH '${c.dataPath}')`);
    return new LakeReader(inst, conn);
  }

  async rows(sql: string, params: (string | number)[] = []): Promise<Record<string, unknown>[]> {
    return (await this.conn.runAndReadAll(sql, params)).getRowObjects();
  }

  /** op ids, spans and bytes of one doc+branch, ordered by op id. */
  async ops(docId: string, branch = 'main'): Promise<{ opId: number; spans: string; bytes: Uint8Array }[]> {
    const rows = await this.rows('SELECT op_id, spans, op_bytes FROM lake.ops_log WHERE doc_id = ? AND branch = ? ORDER BY op_id', [docId, branch]);
    return rows.map((r) => ({ opId: Number(r.op_id), spans: String(r.spans), bytes: (r.op_bytes as DuckDBBlobValue).bytes }));
  }

  /** The document as recovery builds it: latest snapshot + later ops. */
  async recover(docId: string, branch = 'main'): Promise<LoroDoc> {
    const snap = await this.rows('SELECT last_op_id, snapshot_bytes FROM lake.snapshots WHERE doc_id = ? AND branch = ? ORDER BY last_op_id DESC LIMIT 1', [docId, branch]);
    const doc = new LoroDoc();
    let after = 0;
    if (snap[0]) {
      doc.import((snap[0].snapshot_bytes as DuckDBBlobValue).bytes);
      after = Number(snap[0].last_op_id);
    }
    const ops = (await this.ops(docId, branch)).filter((o) => o.opId > after);
    if (ops.length) doc.importBatch(ops.map((o) => o.bytes));
    return doc;
  }

  close(): void {
    this.conn.closeSync();
    this.inst.closeSync();
  }
}

/** Assert-friendly summary of a doc's version. */
export function versionJson(doc: LoroDoc): string {
  const vv = doc.oplogVersion();
  const entries = [...vv.toJSON().entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  vv.free();
  return JSON.stringify(entries);
}
