// The server as the soak test runs it: a child process like the CLI (first
// stdout line {"listening","http"}), with the database wrapped in the fault
// injector of test/support so the parent can make it unwritable:
// SIGUSR1 = writes fail (database down), SIGUSR2 = writes work again,
// SIGHUP = run the garbage collector (started with --expose-gc).
// Args: <db> <walDir> [flushOps] [flushMs] [snapshotOps] [retainOps|all]
import { DuckDbStorage, startServer } from '../../server';
import { FaultyStorage } from '../support/serverFaults';

async function main(): Promise<void> {
  const [db, walDir, flushOps = '200', flushMs = '500', snapshotOps = '200', retain = '50'] = process.argv.slice(2);
  const storage = new FaultyStorage(new DuckDbStorage({ path: db }));
  const server = await startServer({
    port: 0,
    storage,
    walDir,
    logLevel: 'warn',
    idleUnloadMs: 1000,
    flush: { maxOps: Number(flushOps), maxDelayMs: Number(flushMs), retryInitialMs: 50, retryMaxMs: 500 },
    snapshot: { everyOps: Number(snapshotOps), everyMs: 0, retainOps: retain === 'all' ? null : Number(retain) },
  });
  process.on('SIGUSR1', () => (storage.mode = 'fail'));
  process.on('SIGUSR2', () => (storage.mode = 'none'));
  process.on('SIGHUP', () => (globalThis as { gc?: () => void }).gc?.());
  process.on('SIGTERM', () => {
    storage.mode = 'none';
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  process.stdout.write(JSON.stringify({ listening: server.url, http: server.httpUrl }) + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
