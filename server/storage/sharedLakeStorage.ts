// DuckLake on a PostgreSQL catalog, written by several server processes at
// once (scale-out, docs/scale-out.md). The consensus is DuckLake's own
// optimistic concurrency on the PostgreSQL catalog; nothing home-made:
//
//   - Every flush updates doc_branches.head_op_id of the rooms it writes.
//     DuckLake aborts the commit of a transaction when another one committed
//     an update/delete of the same table after it started ("Transaction
//     conflict ... deleted inlined data from it"; verified on DuckDB 1.5.5,
//     tests/unit/scaleout*), so flushes are serialised across processes; a
//     conflicting one is retried from BEGIN and then sees the other's rows.
//     Write transactions that would not update doc_branches (creating a
//     branch, snapshots, compaction) update the one row of `sqlroom_writes`,
//     which every such transaction also updates: the same conflict.
//   - op ids are allocated inside the flush transaction from the highest op id
//     visible in it (max over ops_log, doc_branches.head_op_id and snapshots),
//     so per doc+branch op ids are unique, gap-free and follow commit order:
//     any snapshot of the lake holds a prefix 1..N of them.
//   - The same transaction returns the rows other processes committed since
//     the room's `seenOpId`, and skips updates whose Loro id spans are already
//     stored (a client retrying on another process, a commit whose success
//     was lost), so idempotency holds across processes.
//   - Other processes' rows are tailed by op id (`tail`), cheaply gated by
//     DuckLake's current snapshot id.
//   - Snapshot/compaction leases are plain rows in the catalog's PostgreSQL
//     database (`sqlroom_leases`, INSERT ... ON CONFLICT ... WHERE expired).
import { randomBytes } from 'node:crypto';
import { DuckDBValue, type DuckDBConnection } from '@duckdb/node-api';
import { SerialQueue } from './serialQueue';
import { bytesOf, num, ts } from './sqlValues';
import { DuckLakeStorage, LAKE, type DuckLakeStorageOptions } from './ducklakeStorage';
import { SCHEMA } from './schema';
import { StorageOpenError, sqlLiteral } from './sqlStorage';
import type { FlushBatch, FlushResult, OpRow, RemoteRows, RoomState, SnapshotRow } from './types';

const PG = 'sqlroom_pg';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A commit that lost against a concurrent one: safe to retry from BEGIN. */
export function isCommitConflict(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /conflict/i.test(msg) || /Failed to commit DuckLake transaction/i.test(msg);
}

/** `ducklake:postgres:<conninfo>` → `<conninfo>`; null for other catalogs. */
export function postgresConninfo(catalog: string): string | null {
  const m = /^(?:ducklake:)?postgres:(.*)$/s.exec(catalog);
  return m ? m[1] : null;
}

/**
 * A PostgreSQL string literal inside a DuckDB string literal (postgres_execute
 * takes SQL text): PostgreSQL quotes a literal as DuckDB does.
 */
const pgText = sqlLiteral;

export interface SharedLakeStorageOptions extends DuckLakeStorageOptions {
  /** Attempts per write transaction when it conflicts with another process (default 50). */
  maxCommitAttempts?: number;
}

export class SharedLakeStorage extends DuckLakeStorage {
  readonly multiWriter = true;
  /** Commits retried after a conflict with another process (metrics). */
  conflicts = 0;
  private lastTailSnapshot: bigint | null = null;
  /**
   * Reads of other processes' rows use their own connection (and queue), so a
   * relay is not held up behind a flush transaction of this process.
   */
  private tailConn: DuckDBConnection | null = null;
  private readonly tailQueue = new SerialQueue();
  private readonly conninfo: string;

  constructor(private readonly shared: SharedLakeStorageOptions) {
    super(shared);
    const ci = postgresConninfo(shared.catalog);
    if (ci === null) throw new StorageOpenError(`several writers need a DuckLake catalog on PostgreSQL (ducklake:postgres:dbname=… host=…), got ${shared.catalog}`);
    this.conninfo = ci;
  }

  protected override async open(): Promise<void> {
    try {
      await super.open();
    } catch (err) {
      throw this.explainPg(err);
    }
    try {
      await this.c.run(`ATTACH ${sqlLiteral(this.conninfo)} AS ${PG} (TYPE postgres)`);
      await this.pgExec(
        'CREATE TABLE IF NOT EXISTS sqlroom_leases (doc_id text NOT NULL, branch text NOT NULL, holder text NOT NULL, expires_at timestamptz NOT NULL, PRIMARY KEY (doc_id, branch))',
      );
    } catch (err) {
      throw this.explainPg(err);
    }
  }

  private explainPg(err: unknown): StorageOpenError {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    const where = this.conninfo.replace(/password=\S+/g, 'password=***');
    if (/postgres/i.test(msg) && /extension/i.test(msg)) {
      return new StorageOpenError(
        `the DuckDB postgres extension is not available (${msg}). Install postgres_scanner into --extension-dir with scripts/install-duckdb-extensions.sh, or run INSTALL postgres with network access.`,
      );
    }
    return new StorageOpenError(
      `cannot open the DuckLake catalog on PostgreSQL (${where}): ${msg}. Check that PostgreSQL is running and reachable at that host/port, ` +
        `that the database exists and the user may connect (pg_hba.conf, password), and that --data-path is the same shared directory on every process.`,
    );
  }

  override async init(): Promise<void> {
    // Processes starting together on a fresh catalog race to create it: retry.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.open();
        break;
      } catch (err) {
        if (attempt >= 5 || !/conflict|already exists|duplicate key/i.test(String(err))) throw err;
        this.conn?.closeSync();
        this.instance?.closeSync();
        this.conn = null;
        this.instance = null;
        await sleep(100 * attempt * (0.5 + Math.random()));
      }
    }
    const ddl = [...SCHEMA, 'CREATE TABLE IF NOT EXISTS sqlroom_writes (commits BIGINT NOT NULL, updated_at TIMESTAMP NOT NULL)'];
    for (const sql of ddl) await this.retryConflicts(() => this.c.run(sql));
    this.tailConn = await this.instance!.connect();
    await this.tailConn.run(`USE ${LAKE}`);
    // The serialisation row (see the header). Two processes starting at once
    // may both insert it; every row is updated, which conflicts just the same.
    const n = await this.rows('SELECT count(*) AS n FROM sqlroom_writes');
    if (num(n[0].n) === 0) await this.retryConflicts(() => this.c.run('INSERT INTO sqlroom_writes VALUES (0, make_timestamp(?::BIGINT))', [ts(Date.now())]));
  }

  private async retryConflicts<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isCommitConflict(err) || attempt >= 20) throw err;
        await sleep(20 * attempt * (0.5 + Math.random()));
      }
    }
  }

  private pgExec(sql: string): Promise<void> {
    return this.c.run(`CALL postgres_execute('${PG}', ${sqlLiteral(sql)})`).then(() => undefined);
  }

  /**
   * A write transaction retried on conflict. `bump` (default) also updates the
   * sqlroom_writes row so that it conflicts with every other bumping one.
   */
  private async writeTx<T>(fn: () => Promise<T>, bump: (out: T) => boolean = () => true): Promise<T> {
    const attempts = this.shared.maxCommitAttempts ?? 50;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tx(async () => {
          const out = await fn();
          if (bump(out)) await this.c.run('UPDATE sqlroom_writes SET commits = commits + 1, updated_at = make_timestamp(?::BIGINT)', [ts(Date.now())]);
          return out;
        });
      } catch (err) {
        if (!isCommitConflict(err) || attempt >= attempts) throw err;
        this.conflicts++;
        await sleep(Math.min(200, 2 * attempt) * (0.5 + Math.random()));
      }
    }
  }

  /**
   * The highest op id committed for a doc+branch, as visible in this
   * transaction: doc_branches.head_op_id (every flush sets it in the same
   * transaction as its rows); max over the tables for a branch without a row.
   */
  private async headOf(docId: string, branch: string): Promise<number> {
    const h = await this.rows('SELECT max(head_op_id) AS h FROM doc_branches WHERE doc_id = ? AND branch = ?', [docId, branch]);
    if (h[0].h !== null) return num(h[0].h);
    const r = await this.rows(
      `SELECT greatest(
         (SELECT coalesce(max(op_id), 0) FROM ops_log WHERE doc_id = ? AND branch = ?),
         (SELECT coalesce(max(head_op_id), 0) FROM doc_branches WHERE doc_id = ? AND branch = ?),
         (SELECT coalesce(max(last_op_id), 0) FROM snapshots WHERE doc_id = ? AND branch = ?)) AS h`,
      [docId, branch, docId, branch, docId, branch],
    );
    return num(r[0].h);
  }

  private async latestSnapshot(docId: string, branch: string, read = (sql: string, p: DuckDBValue[]) => this.rows(sql, p)): Promise<{ lastOpId: number; bytes: Uint8Array } | null> {
    const s = await read('SELECT last_op_id, snapshot_bytes FROM snapshots WHERE doc_id = ? AND branch = ? ORDER BY last_op_id DESC, snapshot_id DESC LIMIT 1', [docId, branch]);
    return s[0] ? { lastOpId: num(s[0].last_op_id), bytes: bytesOf(s[0].snapshot_bytes) } : null;
  }

  /** Rows after `after` must start at after+1; if compaction removed some, the latest snapshot fills the gap. */
  private async contiguous(
    docId: string,
    branch: string,
    after: number,
    rows: { opId: number; bytes: Uint8Array }[],
    read?: (sql: string, p: DuckDBValue[]) => Promise<Record<string, DuckDBValue>[]>,
  ): Promise<RemoteRows> {
    let snapshot: RemoteRows['snapshot'] = null;
    if (rows.length && rows[0].opId !== after + 1) snapshot = await this.latestSnapshot(docId, branch, read);
    return { docId, branch, rows, snapshot };
  }

  /**
   * One transaction: snapshot, ops and max op id from the same lake snapshot,
   * so "every row <= maxOpId is in the loaded doc" holds while others commit.
   */
  override loadRoom(docId: string, branch: string): Promise<RoomState> {
    return this.tx(() => this.readRoom(docId, branch));
  }

  override writeBatch(batch: FlushBatch): Promise<FlushResult> {
    const groups = new Map<string, OpRow[]>();
    for (const op of batch.ops) {
      const k = JSON.stringify([op.docId, op.branch]);
      const list = groups.get(k);
      if (list) list.push(op);
      else groups.set(k, [op]);
    }
    return this.writeTx(async () => {
      const out: FlushResult = { rooms: [] };
      const inserts: { op: OpRow; opId: number }[] = [];
      for (const list of groups.values()) {
        const { docId, branch } = list[0];
        const seen = batch.heads.find((h) => h.docId === docId && h.branch === branch)?.seenOpId ?? 0;
        const head = await this.headOf(docId, branch);
        const dedupFrom = Math.min(seen, ...list.map((o) => o.dedupAfter ?? seen));
        // Nothing committed since we last looked (the common case): no read of ops_log.
        const recent = dedupFrom < head
          ? await this.rows('SELECT op_id, op_bytes, spans FROM ops_log WHERE doc_id = ? AND branch = ? AND op_id > ? ORDER BY op_id', [docId, branch, dedupFrom])
          : [];
        const storedSpans = new Set(recent.map((r) => String(r.spans)));
        const gap = recent.filter((r) => num(r.op_id) > seen).map((r) => ({ opId: num(r.op_id), bytes: bytesOf(r.op_bytes) }));
        const before = await this.contiguous(docId, branch, seen, gap);
        if (!before.snapshot && gap.length === 0 && head > seen) before.snapshot = await this.latestSnapshot(docId, branch);
        let next = head;
        let duplicates = 0;
        for (const op of list) {
          if (storedSpans.has(op.spans)) {
            duplicates++;
            continue;
          }
          storedSpans.add(op.spans);
          inserts.push({ op, opId: ++next });
        }
        out.rooms.push({ docId, branch, head: next, before, duplicates });
      }
      await this.insertOps(inserts.map(({ op, opId }) => ({ ...op, opId })));
      // Branch rows: inside the serialised transaction, "exists?" is exact.
      await this.insertBranchRows(batch.newBranches);
      for (const r of out.rooms) {
        // Unconditional: this update is what makes concurrent flushes conflict.
        await this.c.run('UPDATE doc_branches SET head_op_id = ? WHERE doc_id = ? AND branch = ?', [r.head, r.docId, r.branch]);
        if (r.branch === 'main') await this.c.run('UPDATE doc_meta SET head_op_id = ? WHERE doc_id = ?', [r.head, r.docId]);
      }
      return out;
    }, () => batch.newBranches.length > 0);
  }

  override writeSnapshot(row: SnapshotRow): Promise<number> {
    return this.writeTx(async () => {
      const r = await this.rows('SELECT coalesce(max(snapshot_id), 0) + 1 AS id FROM snapshots WHERE doc_id = ? AND branch = ?', [row.docId, row.branch]);
      const id = num(r[0].id);
      await this.insertSnapshot(row, id);
      return id;
    });
  }

  override deleteOpsUpTo(docId: string, branch: string, uptoOpId: number): Promise<number> {
    return this.writeTx(async () => {
      // Never delete past what a snapshot covers (a stale caller could ask for more).
      const cover = await this.rows('SELECT coalesce(max(last_op_id), 0) AS c FROM snapshots WHERE doc_id = ? AND branch = ?', [docId, branch]);
      const upto = Math.min(uptoOpId, num(cover[0].c));
      const n = await this.rows('SELECT count(*) AS n FROM ops_log WHERE doc_id = ? AND branch = ? AND op_id <= ?', [docId, branch, upto]);
      if (num(n[0].n) > 0) await this.c.run('DELETE FROM ops_log WHERE doc_id = ? AND branch = ? AND op_id <= ?', [docId, branch, upto]);
      return num(n[0].n);
    });
  }

  private async tailRows(sql: string, params: DuckDBValue[] = []): Promise<Record<string, DuckDBValue>[]> {
    if (!this.tailConn) throw new Error('storage is not open');
    return (await this.tailConn.runAndReadAll(sql, params)).getRowObjects();
  }

  tail(rooms: { docId: string; branch: string; after: number }[], some = false): Promise<RemoteRows[] | null> {
    return this.tailQueue.run(async () => {
      // Nothing committed since the last full poll: nothing new for any loaded room
      // (a room loaded since then was read from a newer state).
      const s = await this.tailRows(`SELECT id FROM ducklake_current_snapshot('${LAKE}')`);
      const snap = BigInt(s[0].id as bigint);
      if (!some && (this.lastTailSnapshot === snap || rooms.length === 0)) {
        this.lastTailSnapshot = snap;
        return null;
      }
      const out: RemoteRows[] = [];
      for (let i = 0; i < rooms.length; i += 50) {
        const chunk = rooms.slice(i, i + 50);
        const params: DuckDBValue[] = [];
        for (const r of chunk) params.push(r.docId, r.branch, r.after);
        // One statement = one lake snapshot: the rows of each room are a gap-free run.
        const rows = await this.tailRows(
          `SELECT doc_id, branch, op_id, op_bytes FROM ops_log WHERE ${chunk.map(() => '(doc_id = ? AND branch = ? AND op_id > ?)').join(' OR ')} ORDER BY doc_id, branch, op_id`,
          params,
        );
        for (const r of chunk) {
          const mine = rows.filter((x) => x.doc_id === r.docId && x.branch === r.branch).map((x) => ({ opId: num(x.op_id), bytes: bytesOf(x.op_bytes) }));
          if (mine.length) out.push(await this.contiguous(r.docId, r.branch, r.after, mine, (sql, p) => this.tailRows(sql, p)));
        }
      }
      if (!some) this.lastTailSnapshot = snap;
      return out;
    });
  }

  override async close(): Promise<void> {
    await this.tailQueue.run(async () => {
      this.tailConn?.closeSync();
      this.tailConn = null;
    });
    await super.close();
  }

  acquireLease(docId: string, branch: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.queue.run(async () => {
      const secs = Math.max(1, Math.ceil(ttlMs / 1000));
      // PostgreSQL's clock decides expiry: one clock for every process.
      await this.pgExec(
        `INSERT INTO sqlroom_leases AS l VALUES (${pgText(docId)}, ${pgText(branch)}, ${pgText(holder)}, now() + interval '${secs} seconds') ` +
          `ON CONFLICT (doc_id, branch) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at ` +
          `WHERE l.expires_at < now() OR l.holder = excluded.holder`,
      );
      const q = `SELECT holder FROM sqlroom_leases WHERE doc_id = ${pgText(docId)} AND branch = ${pgText(branch)} AND expires_at > now()`;
      const r = await this.rows(`SELECT * FROM postgres_query('${PG}', ${sqlLiteral(q)})`);
      return r.length > 0 && String(r[0].holder) === holder;
    });
  }

  releaseLease(docId: string, branch: string, holder: string): Promise<void> {
    return this.queue.run(() =>
      this.pgExec(`DELETE FROM sqlroom_leases WHERE doc_id = ${pgText(docId)} AND branch = ${pgText(branch)} AND holder = ${pgText(holder)}`),
    );
  }
}

/** A lease holder id unique to this process. */
export function newHolderId(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}
