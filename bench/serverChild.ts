// Child process running one benchmarked server, so its RSS is its own.
// argv: <system> <dir> <extensionDir>. Talks to the parent over IPC:
//   child -> {type:'ready', url} | {type:'error', message}
//   parent -> {type:'writes'}  child -> {type:'writes', value}
//   parent -> {type:'stop'}    child -> {type:'stopped', writes}, then exits.
import { peers } from './peers';
import { startLoroSimple } from './systems/loroSimple';
import { startOurs } from './systems/ours';
import type { RunningSystem, SystemName, SystemOptions } from './systems/types';

function start(name: SystemName, o: SystemOptions): Promise<RunningSystem> {
  switch (name) {
    case 'ours-duckdb':
      return startOurs('duckdb', o);
    case 'ours-ducklake':
      return startOurs('ducklake', o);
    case 'loro-simple':
      return startLoroSimple(o);
    case 'hocuspocus':
      return peers().startHocuspocus(o);
  }
}

async function main(): Promise<void> {
  const [name, dir, extensionDir] = process.argv.slice(2) as [SystemName, string, string];
  const send = (m: unknown) => process.send?.(m);
  let sys: RunningSystem;
  try {
    sys = await start(name, { dir, extensionDir });
  } catch (e) {
    send({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    setTimeout(() => process.exit(1), 100);
    return;
  }
  process.on('message', (m: { type: string }) => {
    void (async () => {
      if (m.type === 'writes') send({ type: 'writes', value: await sys.dbWrites() });
      if (m.type === 'stop') {
        const writesBefore = await sys.dbWrites().catch(() => NaN);
        await sys.stop().catch((e: unknown) => console.error(`[${name}] stop failed:`, e));
        // After stop the final flush is counted too (when the counter is still readable).
        const writesAfter = await sys.dbWrites().catch(() => NaN);
        send({ type: 'stopped', writes: Number.isFinite(writesAfter) ? writesAfter : writesBefore });
        setTimeout(() => process.exit(0), 50);
      }
    })();
  });
  // The parent going away must not leave a server behind.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url: sys.url });
}

void main();
