// The notebook kernel's SQL execution core: one DuckDB database and connection,
// running cells one at a time and turning each into a ResultPayload.
//
// A cell is parsed by DuckDB (extractStatements) and its statements run in
// order, all but the last materialized; only the last one's rows are read,
// streamed chunk by chunk and capped. Runs queue up
// per session. interrupt() cancels the run that owns the session: it flags the
// run (checked before every statement and every chunk, because an interrupted
// streaming result can just end early instead of failing) and interrupts the
// connection, repeating until the run settles so an interrupt landing between
// two statements is not lost.

import {
  DuckDBConnection,
  DuckDBExtractedStatements,
  DuckDBInstance,
  DuckDBPreparedStatement,
  DuckDBResult,
  StatementType,
} from '@duckdb/node-api';
import {
  CANCELLED_MESSAGE,
  DuckDbOpenError,
  SqlExecutionError,
  duckDbMessage,
  isInterruptMessage,
} from './duckdbErrors';
import { locateInCell, splitDuckDbError, statementStart } from './errorPosition';
import { CappedRows, readCappedResult } from './readCappedResult';
import type { ResultPayload } from './resultPayload';
import { isValidViewName, quoteIdentifier, splitSqlStatements } from './sqlStatements';

export { DuckDbOpenError, SqlExecutionError } from './duckdbErrors';

export interface DuckDbSessionOptions {
  /** ':memory:' (default) or a database file path. */
  databasePath?: string;
  /** Rows kept in a result before capping (default 10_000). */
  rowCap?: number;
  /** Where DuckDB looks for extensions (offline users place binaries there). */
  extensionDirectory?: string;
  /** Folder relative file paths in SQL resolve against (`SET file_search_path`): the notebook's folder. */
  baseDirectory?: string;
}

export interface RunOptions {
  /** Store the cell's (last) query as this view and read the result from it. */
  viewName?: string;
  /** Rows kept for this run (default: the session's rowCap). */
  rowCap?: number;
  /** Aborting cancels this run: removed from the queue if waiting, interrupted if running. */
  signal?: AbortSignal;
}

export const DEFAULT_ROW_CAP = 10_000;
const INTERRUPT_REPEAT_MS = 100;

/** The last statement's streaming result, and how to run that statement again. */
interface LastResult {
  result: DuckDBResult;
  rerun(): Promise<unknown>;
}

interface RunJob {
  readonly sql: string;
  readonly opts: RunOptions;
  cancelled: boolean;
  resolve(payload: ResultPayload): void;
  reject(error: unknown): void;
  /** Stops listening to the run's abort signal. */
  detach(): void;
}

export class DuckDbSession {
  private readonly queue: RunJob[] = [];
  private active: RunJob | undefined;
  private interruptTimer: ReturnType<typeof setInterval> | undefined;
  private idleWaiters: Array<() => void> = [];
  private closing: Promise<void> | undefined;
  private side: Promise<DuckDBConnection> | undefined;

  private constructor(
    readonly databasePath: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly defaultRowCap: number,
  ) {}

  /** Opens the database; a file that cannot be opened gives a DuckDbOpenError saying what to do. */
  static async open(opts: DuckDbSessionOptions = {}): Promise<DuckDbSession> {
    const databasePath = opts.databasePath || ':memory:';
    const rowCap = checkRowCap(opts.rowCap ?? DEFAULT_ROW_CAP);
    const config: Record<string, string> = {};
    if (opts.extensionDirectory) config.extension_directory = opts.extensionDirectory;
    let instance: DuckDBInstance;
    try {
      // Sessions on the same file in this process must share one database: two
      // independent instances would both write it (file locks only stop other
      // processes). The cache hands out handles to one shared database, which
      // closes when the last handle does.
      instance = isInMemory(databasePath)
        ? await DuckDBInstance.create(databasePath, config)
        : await DuckDBInstance.fromCache(databasePath, config);
    } catch (error) {
      throw new DuckDbOpenError(databasePath, error);
    }
    try {
      const connection = await instance.connect();
      // file_search_path is a per-database setting: relative paths in
      // read_csv('x.csv') or FROM 'data/t.parquet' resolve against it, with no process chdir.
      if (opts.baseDirectory) await connection.run(`SET file_search_path = ${quoteString(opts.baseDirectory)}`);
      return new DuckDbSession(databasePath, instance, connection, rowCap);
    } catch (error) {
      instance.closeSync();
      throw new DuckDbOpenError(databasePath, error);
    }
  }

  /**
   * Runs one cell. Several statements separated by ';' run in order; the result
   * is the last statement's. With `viewName`, the last statement (a query)
   * becomes `CREATE OR REPLACE VIEW "<viewName>" AS <query>` and the result is
   * read from the view. Runs are serialized per session.
   */
  run(sql: string, opts: RunOptions = {}): Promise<ResultPayload> {
    return new Promise<ResultPayload>((resolve, reject) => {
      if (this.closing) {
        reject(new SqlExecutionError('The DuckDB session is closed.'));
        return;
      }
      const { signal } = opts;
      if (signal?.aborted) {
        reject(new SqlExecutionError(CANCELLED_MESSAGE, { cancelled: true }));
        return;
      }
      const job: RunJob = { sql, opts, cancelled: false, resolve, reject, detach: () => undefined };
      if (signal) {
        const onAbort = (): void => this.cancel(job);
        signal.addEventListener('abort', onAbort, { once: true });
        job.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /**
   * Rows of a small catalog query (completion, hover) on a second connection
   * to the same database, so it answers while a cell's query is running.
   * Sees what cells created (committed), not their temporary objects.
   */
  async query(sql: string, params: (string | number)[] = []): Promise<Record<string, unknown>[]> {
    if (this.closing) throw new SqlExecutionError('The DuckDB session is closed.');
    this.side ??= this.instance.connect();
    const connection = await this.side;
    const reader = await connection.runAndReadAll(sql, params);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }

  /** Cancels the run in progress (it rejects with cancelled=true); later queued runs still run. No-op when idle. */
  interrupt(): void {
    if (this.active) this.cancel(this.active);
  }

  /** Rejects queued runs, cancels the running one, then closes the database. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    for (const job of this.queue.splice(0)) {
      job.detach();
      job.reject(new SqlExecutionError('The DuckDB session was closed before this cell ran.', { cancelled: true }));
    }
    if (this.active) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      this.cancel(this.active);
      await idle;
    }
    if (this.side) await this.side.then((c) => c.closeSync(), () => undefined);
    this.connection.closeSync();
    this.instance.closeSync();
  }

  private cancel(job: RunJob): void {
    if (job === this.active) {
      if (job.cancelled) return;
      job.cancelled = true;
      this.connection.interrupt();
      // DuckDB only interrupts a statement that is executing; keep asking until the run settles.
      this.interruptTimer = setInterval(() => this.connection.interrupt(), INTERRUPT_REPEAT_MS);
      this.interruptTimer.unref?.();
      return;
    }
    const index = this.queue.indexOf(job);
    if (index >= 0) {
      this.queue.splice(index, 1);
      job.detach();
      job.reject(new SqlExecutionError(CANCELLED_MESSAGE, { cancelled: true }));
    }
  }

  /** Starts the next queued run if none is active. `active` is set synchronously, so interrupt() always finds it. */
  private pump(): void {
    if (this.active) return;
    const job = this.queue.shift();
    if (!job) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    this.active = job;
    this.execute(job).then(
      (payload) => this.settle(job, () => job.resolve(payload)),
      (error: unknown) => this.settle(job, () => job.reject(error)),
    );
  }

  private settle(job: RunJob, deliver: () => void): void {
    clearInterval(this.interruptTimer);
    this.interruptTimer = undefined;
    job.detach();
    this.active = undefined;
    this.pump();
    deliver();
  }

  private async execute(job: RunJob): Promise<ResultPayload> {
    const started = performance.now();
    const rowCap = checkRowCap(job.opts.rowCap ?? this.defaultRowCap);
    const { viewName } = job.opts;
    if (viewName !== undefined && !isValidViewName(viewName)) {
      throw new SqlExecutionError(
        `Invalid view name "${viewName}": use letters, digits and '_', not starting with a digit, at most 63 characters.`,
      );
    }
    const texts = splitSqlStatements(job.sql);
    if (texts.length === 0) {
      return { version: 1, columns: [], rows: [], rowCount: 0, truncated: false, elapsedMs: elapsedSince(started) };
    }
    const statements = await this.locating(job, texts, -1, () => this.step(job, () => this.connection.extractStatements(job.sql)));
    const last = statements.count - 1;
    const located = texts.length === statements.count;
    for (let i = 0; i < last; i++) {
      // Materialized, so an error anywhere in the statement stops the cell.
      await this.locating(job, texts, located ? i : -1, () =>
        this.withPrepared(job, statements, i, async (prepared) => {
          await prepared.run();
        }),
      );
    }
    const read = await this.locating(job, texts, located ? last : -1, () => this.withPrepared(job, statements, last, async (prepared) => {
      let lastResult: LastResult;
      if (viewName === undefined) {
        lastResult = { result: await prepared.stream(), rerun: () => prepared.run() };
      } else {
        if (prepared.statementType !== StatementType.SELECT) {
          throw new SqlExecutionError(
            `Cell "${viewName}" cannot become a view: its last statement is not a query (SELECT, FROM, VALUES or WITH ...).`,
          );
        }
        if (texts.length !== statements.count) {
          throw new SqlExecutionError(`Cell "${viewName}" cannot become a view: its last statement could not be located in the cell.`);
        }
        lastResult = await this.createView(job, viewName, texts[last]);
      }
      return this.readLastResult(job, lastResult, rowCap);
    }), viewName !== undefined);
    return {
      version: 1,
      columns: read.columns,
      rows: read.rows,
      rowCount: read.rowCount,
      truncated: read.rows.length < read.rowCount,
      elapsedMs: elapsedSince(started),
      ...(viewName === undefined ? {} : { view: viewName }),
    };
  }

  /**
   * Runs `call`; a DuckDB error that names a LINE gets its position in the
   * cell. `index` is the failing statement (-1: the cell as a whole, as for
   * extractStatements). DuckDB numbers a later statement's lines
   * inconsistently, so that statement alone is prepared again (binding only,
   * nothing runs) for a message numbered from its own first line.
   */
  private async locating<T>(job: RunJob, texts: string[], index: number, call: () => Promise<T>, inView = false): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof SqlExecutionError) || error.cancelled || error.position) throw error;
      let context = splitDuckDbError(error.message).context;
      let firstLine = 0;
      if (index >= 0) {
        const start = statementLine(job.sql, texts, index);
        firstLine = start - (inView ? 1 : 0);
        // A later statement's error comes with a misnumbered LINE, or none
        // when it binds against what an earlier statement created.
        if ((index > 0 || !context) && !inView) {
          const alone = await this.prepareMessage(texts[index]);
          const again = alone === undefined ? undefined : splitDuckDbError(alone).context;
          if (again) {
            context = again;
            firstLine = start;
          }
        }
      }
      if (!context) throw error;
      const position = locateInCell(job.sql, context, firstLine);
      if (position) error.position = position;
      throw error;
    }
  }

  /** DuckDB's message when `sql` fails to prepare (parse and bind only), or undefined when it prepares. */
  private async prepareMessage(sql: string): Promise<string | undefined> {
    try {
      const prepared = await this.connection.prepare(sql);
      prepared.destroySync();
      return undefined;
    } catch (error) {
      return duckDbMessage(error);
    }
  }

  /** Streams the last statement's rows; a stream that ends in failure is turned into DuckDB's error. */
  private async readLastResult(job: RunJob, last: LastResult, rowCap: number): Promise<CappedRows> {
    let read: CappedRows;
    try {
      read = await readCappedResult(
        last.result,
        rowCap,
        () => job.cancelled,
        () => new SqlExecutionError(CANCELLED_MESSAGE, { cancelled: true }),
      );
    } catch (error) {
      throw toSqlError(job, error);
    }
    if (!read.streamFailed) return read;
    throwIfCancelled(job);
    // The stream hides the failure's message; running the query again (only on
    // this failure path, materialized) lets DuckDB raise it.
    try {
      await last.rerun();
    } catch (error) {
      throw toSqlError(job, error);
    }
    throw new SqlExecutionError(
      'The query failed while its rows were being read, but succeeded when run again to learn why. Run the cell again.',
    );
  }

  /** `CREATE OR REPLACE VIEW "<name>" AS <query>`, then the view's rows as a stream. */
  private async createView(job: RunJob, viewName: string, query: string): Promise<LastResult> {
    const quoted = quoteIdentifier(viewName);
    try {
      // The newline ends a trailing line comment in `query`.
      await this.step(job, () => this.connection.run(`CREATE OR REPLACE VIEW ${quoted} AS\n${query}\n`));
    } catch (error) {
      if (error instanceof SqlExecutionError && !error.cancelled) {
        throw new SqlExecutionError(`Cannot store the cell as view "${viewName}": ${error.message}`, { cause: error });
      }
      throw error;
    }
    const select = `SELECT * FROM ${quoted}`;
    const result = await this.step(job, () => this.connection.stream(select));
    return { result, rerun: () => this.connection.run(select) };
  }

  private async withPrepared<T>(
    job: RunJob,
    statements: DuckDBExtractedStatements,
    index: number,
    use: (prepared: DuckDBPreparedStatement) => Promise<T>,
  ): Promise<T> {
    const prepared = await this.step(job, () => statements.prepare(index));
    try {
      return await this.step(job, () => use(prepared));
    } finally {
      prepared.destroySync();
    }
  }

  /** One DuckDB call of a run: not started once the run is cancelled; DuckDB errors become SqlExecutionErrors. */
  private async step<T>(job: RunJob, call: () => Promise<T>): Promise<T> {
    throwIfCancelled(job);
    let value: T;
    try {
      value = await call();
    } catch (error) {
      throw toSqlError(job, error);
    }
    throwIfCancelled(job);
    return value;
  }
}

/** The cell line where statement `index` of `texts` (the cell split in order) starts. */
function statementLine(sql: string, texts: string[], index: number): number {
  let from = 0;
  for (let i = 0; i <= index; i++) {
    const found = statementStart(sql, texts[i], from);
    if (!found) return 0;
    if (i === index) return found.line;
    from = found.endOffset;
  }
  return 0;
}

function throwIfCancelled(job: RunJob): void {
  if (job.cancelled) throw new SqlExecutionError(CANCELLED_MESSAGE, { cancelled: true });
}

function toSqlError(job: RunJob, error: unknown): SqlExecutionError {
  if (error instanceof SqlExecutionError) return error;
  const message = duckDbMessage(error);
  return new SqlExecutionError(message, { cancelled: job.cancelled || isInterruptMessage(message), cause: error });
}

/** A SQL string literal. */
export function quoteString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function isInMemory(databasePath: string): boolean {
  return databasePath === ':memory:' || databasePath.startsWith(':memory:');
}

function checkRowCap(rowCap: number): number {
  if (!Number.isSafeInteger(rowCap) || rowCap < 0) {
    throw new RangeError(`rowCap must be a non-negative integer, got ${rowCap}`);
  }
  return rowCap;
}

function elapsedSince(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
