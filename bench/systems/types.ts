// What each benchmarked server looks like to the child harness.
export interface RunningSystem {
  /** WebSocket URL clients connect to. */
  url: string;
  /** Database write transactions (commits) so far. */
  dbWrites(): Promise<number>;
  /** Graceful stop: flush what is buffered, close the database. */
  stop(): Promise<void>;
  /** Accepted updates not yet in the database (ours: write-ahead entries not yet committed), when the system can tell. */
  backlog?(): Promise<number>;
}

export interface SystemOptions {
  /** Folder for this system's database files (its size is "bytes stored"). */
  dir: string;
  /** DuckDB extension directory (for DuckLake). */
  extensionDir: string;
  /** Extra options for our server's startServer (e.g. limits), from the real-trace bench. */
  serverOptions?: Record<string, unknown>;
}

export type SystemName = 'ours-duckdb' | 'ours-ducklake' | 'loro-simple' | 'hocuspocus';
export const SYSTEMS: SystemName[] = ['ours-duckdb', 'ours-ducklake', 'loro-simple', 'hocuspocus'];

/** loro SimpleServer's save-hook period in the bench (its default is 60 s). */
export const SIMPLE_SAVE_INTERVAL_MS = 1000;
