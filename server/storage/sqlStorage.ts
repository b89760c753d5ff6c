// SQL shared by the DuckDB and DuckLake storages. Every value is a bound
// parameter; doc ids and branch names never appear in SQL text.
import { DuckDBConnection, DuckDBInstance, DuckDBValue, blobValue } from '@duckdb/node-api';
import { INSERT_CHUNK, MIGRATIONS, SCHEMA } from './schema';
import { SerialQueue } from './serialQueue';
import { bytesOf, iso, msOf, num, ts } from './sqlValues';
import type { Analytics, AnalyticsQuery, BranchInfo, FlushBatch, FlushResult, OpRow, RoomState, SnapshotRow, Storage } from './types';

export class StorageOpenError extends Error {}
/** The database file is locked by another process (DuckDB's message names it, with its PID). */
export class StorageLockedError extends StorageOpenError {}

export abstract class SqlStorage implements Storage {
  abstract readonly kind: string;
  protected instance: DuckDBInstance | null = null;
  protected conn: DuckDBConnection | null = null;
  protected readonly queue = new SerialQueue();

  /** Open the instance/connection and make the schema's tables the default ones. */
  protected abstract open(): Promise<void>;

  protected get c(): DuckDBConnection {
    if (!this.conn) throw new Error('storage is not open');
    return this.conn;
  }

  async init(): Promise<void> {
    await this.open();
    for (const ddl of SCHEMA) await this.c.run(ddl);
    for (const ddl of MIGRATIONS) await this.c.run(ddl);
  }

  protected async rows(sql: string, params: DuckDBValue[] = []): Promise<Record<string, DuckDBValue>[]> {
    const reader = await this.c.runAndReadAll(sql, params);
    return reader.getRowObjects();
  }

  /** Run `fn` inside BEGIN/COMMIT on the serial queue; ROLLBACK on any error. */
  protected tx<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      await this.c.run('BEGIN TRANSACTION');
      try {
        const out = await fn();
        await this.c.run('COMMIT');
        return out;
      } catch (err) {
        try {
          await this.c.run('ROLLBACK');
        } catch {
          /* the transaction may already be aborted */
        }
        throw err;
      }
    });
  }

  loadRoom(docId: string, branch: string): Promise<RoomState> {
    return this.queue.run(() => this.readRoom(docId, branch));
  }

  /** The queries of loadRoom (callers run them on the queue, possibly in one transaction). */
  protected async readRoom(docId: string, branch: string): Promise<RoomState> {
    const snap = await this.rows(
      'SELECT snapshot_id, last_op_id, snapshot_bytes FROM snapshots WHERE doc_id = ? AND branch = ? ORDER BY last_op_id DESC, snapshot_id DESC LIMIT 1',
      [docId, branch],
    );
    const snapshot = snap[0] ? { snapshotId: num(snap[0].snapshot_id), lastOpId: num(snap[0].last_op_id), bytes: bytesOf(snap[0].snapshot_bytes) } : null;
    const after = snapshot ? snapshot.lastOpId : 0;
    const ops = await this.rows('SELECT op_id, op_bytes, op_count FROM ops_log WHERE doc_id = ? AND branch = ? AND op_id > ? ORDER BY op_id', [docId, branch, after]);
    const maxes = await this.rows(
      `SELECT (SELECT coalesce(max(op_id), 0) FROM ops_log WHERE doc_id = ? AND branch = ?) AS max_op,
              (SELECT coalesce(max(last_op_id), 0) FROM snapshots WHERE doc_id = ? AND branch = ?) AS max_snap_op,
              (SELECT coalesce(max(snapshot_id), 0) FROM snapshots WHERE doc_id = ? AND branch = ?) AS max_snap,
              (SELECT coalesce(max(head_op_id), -1) FROM doc_branches WHERE doc_id = ? AND branch = ?) AS head`,
      [docId, branch, docId, branch, docId, branch, docId, branch],
    );
    const m = maxes[0];
    const head = num(m.head);
    return {
      snapshot,
      ops: ops.map((r) => ({ opId: num(r.op_id), bytes: bytesOf(r.op_bytes), opCount: num(r.op_count) })),
      maxOpId: Math.max(num(m.max_op), num(m.max_snap_op), head),
      maxSnapshotId: num(m.max_snap),
      known: head >= 0,
    };
  }

  writeBatch(batch: FlushBatch): Promise<void | FlushResult> {
    return this.tx(async () => {
      // Idempotency: a retried batch reuses its op ids; rows already present
      // (a commit whose success was not seen) are skipped, never stored twice.
      await this.insertOps(await this.withoutStored(batch.ops));
      await this.insertBranchRows(batch.newBranches);
      await this.updateHeads(batch.heads);
    });
  }

  /**
   * head_op_id of every room in the flush, in one statement per table: under
   * load each statement waits a turn of the event loop behind the incoming
   * updates, so a flush costs round trips, not rooms.
   */
  private async updateHeads(heads: FlushBatch['heads']): Promise<void> {
    for (let i = 0; i < heads.length; i += INSERT_CHUNK) {
      const chunk = heads.slice(i, i + INSERT_CHUNK);
      await this.c.run(
        `UPDATE doc_branches SET head_op_id = v.h FROM (VALUES ${chunk.map(() => '(?::VARCHAR, ?::VARCHAR, ?::BIGINT)').join(', ')}) AS v(d, b, h) WHERE doc_branches.doc_id = v.d AND doc_branches.branch = v.b`,
        chunk.flatMap((h) => [h.docId, h.branch, h.headOpId]),
      );
      const main = chunk.filter((h) => h.branch === 'main');
      if (main.length) {
        await this.c.run(
          `UPDATE doc_meta SET head_op_id = v.h FROM (VALUES ${main.map(() => '(?::VARCHAR, ?::BIGINT)').join(', ')}) AS v(d, h) WHERE doc_meta.doc_id = v.d`,
          main.flatMap((h) => [h.docId, h.headOpId]),
        );
      }
    }
  }

  /** INSERT rows into ops_log, INSERT_CHUNK rows per statement (inside the caller's transaction). */
  protected async insertOps(ops: OpRow[]): Promise<void> {
    for (let i = 0; i < ops.length; i += INSERT_CHUNK) {
      const chunk = ops.slice(i, i + INSERT_CHUNK);
      const params: DuckDBValue[] = [];
      for (const op of chunk) params.push(...opParams(op));
      const values = chunk.map(() => '(?, ?, ?, make_timestamp(?::BIGINT), ?, ?, ?, ?, ?, ?, ?, ?, ?, make_timestamp(?::BIGINT))').join(', ');
      await this.c.run(
        `INSERT INTO ops_log (op_id, doc_id, branch, created_at, author, op_bytes, seq_start, seq_end, peer, op_count, bytes, spans, updates, first_at) VALUES ${values}`,
        params,
      );
    }
  }

  /**
   * doc_branches / doc_meta rows for rooms written for the first time (inside the caller's
   * transaction), one statement per table and chunk: a round trip waits a turn of a busy
   * event loop, so a flush that opens many rooms must not cost rooms x round trips.
   */
  protected async insertBranchRows(newBranches: FlushBatch['newBranches']): Promise<void> {
    for (let i = 0; i < newBranches.length; i += INSERT_CHUNK) {
      const chunk = newBranches.slice(i, i + INSERT_CHUNK);
      await this.c.run(
        `INSERT INTO doc_branches SELECT v.d, v.b, make_timestamp(v.t), v.p, v.f, 0
           FROM (VALUES ${chunk.map(() => '(?::VARCHAR, ?::VARCHAR, ?::BIGINT, ?::VARCHAR, ?::VARCHAR)').join(', ')}) AS v(d, b, t, p, f)
          WHERE NOT EXISTS (SELECT 1 FROM doc_branches WHERE doc_branches.doc_id = v.d AND doc_branches.branch = v.b)`,
        chunk.flatMap((b) => [b.docId, b.branch, ts(b.createdAt), b.parentBranch, b.forkFrontiers]),
      );
      await this.c.run(
        `INSERT INTO doc_meta SELECT v.d, NULL, make_timestamp(v.t), 0
           FROM (SELECT d, min(t) AS t FROM (VALUES ${chunk.map(() => '(?::VARCHAR, ?::BIGINT)').join(', ')}) AS x(d, t) GROUP BY d) AS v
          WHERE NOT EXISTS (SELECT 1 FROM doc_meta WHERE doc_meta.doc_id = v.d)`,
        chunk.flatMap((b) => [b.docId, ts(b.createdAt)]),
      );
    }
  }

  private async withoutStored(ops: OpRow[]): Promise<OpRow[]> {
    const byRoom = new Map<string, OpRow[]>();
    const out: OpRow[] = [];
    for (const op of ops) {
      // Fresh rows have op ids no commit used yet.
      if (!op.retried) {
        out.push(op);
        continue;
      }
      const k = JSON.stringify([op.docId, op.branch]);
      const list = byRoom.get(k);
      if (list) list.push(op);
      else byRoom.set(k, [op]);
    }
    for (const list of byRoom.values()) {
      const lo = Math.min(...list.map((o) => o.opId));
      const hi = Math.max(...list.map((o) => o.opId));
      const existing = await this.rows('SELECT op_id FROM ops_log WHERE doc_id = ? AND branch = ? AND op_id BETWEEN ? AND ?', [list[0].docId, list[0].branch, lo, hi]);
      const have = new Set(existing.map((r) => num(r.op_id)));
      for (const op of list) if (!have.has(op.opId)) out.push(op);
    }
    return out;
  }

  writeSnapshot(row: SnapshotRow): Promise<void | number> {
    return this.tx(() => this.insertSnapshot(row, row.snapshotId));
  }

  /** INSERT one snapshots row with the given id (inside the caller's transaction). */
  protected async insertSnapshot(row: SnapshotRow, snapshotId: number): Promise<void> {
    await this.c.run('INSERT INTO snapshots VALUES (?, ?, ?, make_timestamp(?::BIGINT), ?, ?, ?, ?)', [
      snapshotId,
      row.docId,
      row.branch,
      ts(row.createdAt),
      row.createdBy,
      row.lastOpId,
      blobValue(row.bytes),
      row.message,
    ]);
  }

  deleteSnapshots(docId: string, branch: string, snapshotIds: number[]): Promise<number> {
    if (snapshotIds.length === 0) return Promise.resolve(0);
    return this.tx(async () => {
      for (const id of snapshotIds) await this.c.run('DELETE FROM snapshots WHERE doc_id = ? AND branch = ? AND snapshot_id = ?', [docId, branch, id]);
      return snapshotIds.length;
    });
  }

  deleteOpsUpTo(docId: string, branch: string, uptoOpId: number): Promise<number> {
    return this.tx(async () => {
      const n = await this.rows('SELECT count(*) AS n FROM ops_log WHERE doc_id = ? AND branch = ? AND op_id <= ?', [docId, branch, uptoOpId]);
      await this.c.run('DELETE FROM ops_log WHERE doc_id = ? AND branch = ? AND op_id <= ?', [docId, branch, uptoOpId]);
      return num(n[0].n);
    });
  }

  listBranches(docId: string): Promise<BranchInfo[]> {
    return this.queue.run(async () => {
      const rows = await this.rows('SELECT * FROM doc_branches WHERE doc_id = ? ORDER BY created_at, branch', [docId]);
      return rows.map((r) => ({
        docId: String(r.doc_id),
        branch: String(r.branch),
        createdAt: msOf(r.created_at),
        parentBranch: r.parent_branch === null ? null : String(r.parent_branch),
        forkFrontiers: r.fork_frontiers === null ? null : String(r.fork_frontiers),
        headOpId: num(r.head_op_id),
      }));
    });
  }

  listSnapshots(docId: string, branch: string): Promise<Omit<SnapshotRow, 'bytes'>[]> {
    return this.queue.run(async () => {
      const rows = await this.rows(
        'SELECT snapshot_id, created_at, created_by, last_op_id, message FROM snapshots WHERE doc_id = ? AND branch = ? ORDER BY snapshot_id',
        [docId, branch],
      );
      return rows.map((r) => ({
        snapshotId: num(r.snapshot_id),
        docId,
        branch,
        createdAt: msOf(r.created_at),
        createdBy: String(r.created_by),
        lastOpId: num(r.last_op_id),
        message: r.message === null ? null : String(r.message),
      }));
    });
  }

  loadAt(docId: string, branch: string, atMs: number) {
    return this.queue.run(async () => {
      const at = ts(atMs);
      const snap = await this.rows(
        'SELECT snapshot_id, last_op_id, snapshot_bytes FROM snapshots WHERE doc_id = ? AND branch = ? AND created_at <= make_timestamp(?::BIGINT) ORDER BY snapshot_id DESC LIMIT 1',
        [docId, branch, at],
      );
      const snapshot = snap[0] ? { snapshotId: num(snap[0].snapshot_id), lastOpId: num(snap[0].last_op_id), bytes: bytesOf(snap[0].snapshot_bytes) } : null;
      const ops = await this.rows(
        'SELECT op_id, op_bytes FROM ops_log WHERE doc_id = ? AND branch = ? AND op_id > ? AND created_at <= make_timestamp(?::BIGINT) ORDER BY op_id',
        [docId, branch, snapshot ? snapshot.lastOpId : 0, at],
      );
      return { snapshot, ops: ops.map((r) => ({ opId: num(r.op_id), bytes: bytesOf(r.op_bytes) })) };
    });
  }

  analytics(q: AnalyticsQuery): Promise<Analytics> {
    return this.queue.run(async () => {
      // Optional filters are bound as NULL-able parameters, never spliced.
      const where = `WHERE (?::VARCHAR IS NULL OR doc_id = ?) AND (?::VARCHAR IS NULL OR branch = ?)
        AND (?::VARCHAR IS NULL OR created_at >= ?::TIMESTAMPTZ::TIMESTAMP) AND (?::VARCHAR IS NULL OR created_at <= ?::TIMESTAMPTZ::TIMESTAMP)`;
      const d = q.docId ?? null, b = q.branch ?? null, f = q.from ?? null, t = q.to ?? null;
      const p: DuckDBValue[] = [d, d, b, b, f, f, t, t];
      const perAuthor = await this.rows(
        `SELECT author, sum(coalesce(updates, 1)) AS updates, sum(op_count) AS ops, sum(bytes) AS bytes FROM ops_log ${where} GROUP BY author ORDER BY updates DESC, author`,
        p,
      );
      const perMinute = await this.rows(
        `SELECT strftime(date_trunc('minute', created_at), '%Y-%m-%dT%H:%M:00Z') AS minute, sum(coalesce(updates, 1)) AS updates, sum(op_count) AS ops, sum(bytes) AS bytes
         FROM ops_log ${where} GROUP BY 1 ORDER BY 1`,
        p,
      );
      const perBranch = await this.rows(
        `SELECT doc_id, branch, sum(coalesce(updates, 1)) AS updates, count(*) AS n_rows, sum(op_count) AS ops, sum(bytes) AS bytes, min(coalesce(first_at, created_at)) AS first_at, max(created_at) AS last_at
         FROM ops_log ${where} GROUP BY doc_id, branch ORDER BY doc_id, branch`,
        p,
      );
      return {
        perAuthor: perAuthor.map((r) => ({ author: String(r.author), updates: num(r.updates), ops: num(r.ops), bytes: num(r.bytes) })),
        perMinute: perMinute.map((r) => ({ minute: String(r.minute), updates: num(r.updates), ops: num(r.ops), bytes: num(r.bytes) })),
        perBranch: perBranch.map((r) => ({
          docId: String(r.doc_id),
          branch: String(r.branch),
          updates: num(r.updates),
          rows: num(r.n_rows),
          ops: num(r.ops),
          bytes: num(r.bytes),
          firstAt: iso(r.first_at),
          lastAt: iso(r.last_at),
        })),
      };
    });
  }

  async maintenance(): Promise<void> {
    /* plain DuckDB needs none */
  }

  async close(): Promise<void> {
    await this.queue.run(async () => {
      this.conn?.closeSync();
      this.instance?.closeSync();
      this.conn = null;
      this.instance = null;
    });
  }
}

function opParams(op: OpRow): DuckDBValue[] {
  return [op.opId, op.docId, op.branch, ts(op.createdAt), op.author, blobValue(op.bytes), op.seqStart, op.seqEnd, op.peer, op.opCount, op.bytes.length, op.spans, op.updates ?? 1, ts(op.firstAt ?? op.createdAt)];
}

/** SQL string literal for operator-given paths in ATTACH (which takes no parameters). */
export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Turn DuckDB's open errors into start-up messages a person can act on. */
export function explainOpenError(err: unknown, what: string): StorageOpenError {
  const msg = err instanceof Error ? err.message : String(err);
  if (/lock/i.test(msg) && /conflict|could not set lock/i.test(msg)) {
    return new StorageLockedError(`${what} is locked by another process (${msg.split('\n')[0]}). Stop the other process, use another --db / --lake, or (CLI) ask the running server with --server http://HOST:PORT.`);
  }
  return new StorageOpenError(`cannot open ${what}: ${msg}`);
}

/**
 * DuckDB writes encrypted files (databases, Parquet) only with the OpenSSL
 * crypto of the httpfs extension loaded; its built-in one can only read.
 */
export async function loadHttpfsForEncryption(conn: DuckDBConnection, extensionDir: string | undefined): Promise<void> {
  try {
    await conn.run('LOAD httpfs');
  } catch (err) {
    throw new StorageOpenError(
      `encryption needs the DuckDB httpfs extension (its OpenSSL crypto; DuckDB's built-in one can only read encrypted files): ${(err as Error).message.split('\n')[0]}. ` +
        `Install it with scripts/install-duckdb-extensions.sh (it fetches httpfs with the others) and pass --extension-dir${extensionDir ? ` (looked in ${extensionDir})` : ''}, or run INSTALL httpfs with network access.`,
    );
  }
}
