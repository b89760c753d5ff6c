// Errors the DuckDB session reports: failed or cancelled cell runs, and
// databases that cannot be opened (with what the user can do about it).
import type { CellPosition } from './errorPosition';

/** A cell run failed; `message` is DuckDB's own message. */
export class SqlExecutionError extends Error {
  readonly cancelled: boolean;
  /** Where in the cell's text the error points (parser, binder and catalog errors), when DuckDB said. */
  position?: CellPosition;

  constructor(message: string, opts: { cancelled?: boolean; cause?: unknown; position?: CellPosition } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SqlExecutionError';
    this.cancelled = opts.cancelled ?? false;
    if (opts.position) this.position = opts.position;
  }
}

/** Message of a cancelled run when DuckDB itself did not raise one. */
export const CANCELLED_MESSAGE = 'INTERRUPT Error: Interrupted!';

/** Whether DuckDB's message says the statement was interrupted. */
export function isInterruptMessage(message: string): boolean {
  return message.startsWith('INTERRUPT Error');
}

/** DuckDB's message from whatever node-api threw, without node-api's own prefixes. */
export function duckDbMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Failed to extract statements: /, '');
}

export type OpenFailureReason = 'locked' | 'permission' | 'not-duckdb' | 'missing' | 'other';

/** The database file could not be opened; the message says why and what to do. */
export class DuckDbOpenError extends Error {
  readonly reason: OpenFailureReason;
  /** DuckDB's own message. */
  readonly duckDbMessage: string;

  constructor(databasePath: string, cause: unknown) {
    const raw = duckDbMessage(cause);
    const reason = classifyOpenFailure(raw);
    super(`Cannot open DuckDB database "${databasePath}": ${ADVICE[reason]}\nDuckDB said: ${raw}`, { cause });
    this.name = 'DuckDbOpenError';
    this.reason = reason;
    this.duckDbMessage = raw;
  }
}

const ADVICE: Record<OpenFailureReason, string> = {
  locked:
    'another process has it open (DuckDB allows one writer per file). Close the other program or VS Code window using it, or point the notebook at a different database file.',
  permission: 'permission denied. Check that you may read and write the file and its folder, or choose another path.',
  'not-duckdb':
    'the file exists but is not a DuckDB database (or was written by an incompatible DuckDB version). Choose a DuckDB database file, or a new path to create one.',
  missing: 'its folder does not exist. Create the folder or choose another path.',
  other: 'see DuckDB\'s message below. Check the path, or use ":memory:" for an in-memory database.',
};

function classifyOpenFailure(message: string): OpenFailureReason {
  if (/Could not set lock|Conflicting lock/i.test(message)) return 'locked';
  if (/Permission denied|Access is denied|Read-only file system/i.test(message)) return 'permission';
  if (/not a valid DuckDB database|serialization version|was created by|database file with version/i.test(message)) {
    return 'not-duckdb';
  }
  if (/No such file or directory|cannot find the path/i.test(message)) return 'missing';
  return 'other';
}
