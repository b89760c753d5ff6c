// Child process running one benchmarked server, so its RSS is its own.
// argv: <system> <dir> <extensionDir> [<JSON options for our server>]. Talks to the parent over IPC:
//   child -> {type:'ready', url} | {type:'error', message}
//   parent -> {type:'writes'}  child -> {type:'writes', value}
//   parent -> {type:'backlog'} child -> {type:'backlog', value} (NaN when the system cannot tell)
//   parent -> {type:'stop'}    child -> {type:'stopped', writes, cpuMs}, then exits.
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
  const [name, dir, extensionDir, extra] = process.argv.slice(2) as [SystemName, string, string, string | undefined];
  const send = (m: unknown) => process.send?.(m);
  let sys: RunningSystem;
  try {
    sys = await start(name, { dir, extensionDir, serverOptions: extra ? (JSON.parse(extra) as Record<string, unknown>) : undefined });
  } catch (e) {
    send({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    setTimeout(() => process.exit(1), 100);
    return;
  }
  process.on('message', (m: { type: string }) => {
    void (async () => {
      if (m.type === 'writes') send({ type: 'writes', value: await sys.dbWrites() });
      if (m.type === 'backlog') send({ type: 'backlog', value: sys.backlog ? await sys.backlog().catch(() => NaN) : NaN });
      if (m.type === 'stop') {
        const writesBefore = await sys.dbWrites().catch(() => NaN);
        await sys.stop().catch((e: unknown) => console.error(`[${name}] stop failed:`, e));
        // After stop the final flush is counted too (when the counter is still readable).
        const writesAfter = await sys.dbWrites().catch(() => NaN);
        const cpu = process.cpuUsage();
        send({ type: 'stopped', writes: Number.isFinite(writesAfter) ? writesAfter : writesBefore, cpuMs: (cpu.user + cpu.system) / 1000 });
        setTimeout(() => process.exit(0), 50);
      }
    })();
  });
  // The parent going away must not leave a server behind.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url: sys.url });
}

void main();
