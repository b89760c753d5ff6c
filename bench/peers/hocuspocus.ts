// Hocuspocus (Yjs) with its SQLite extension (better-sqlite3): the document
// state is stored debounced (default debounce 2 s, maxDebounce 10 s) as one
// upsert per document. Acks (SyncStatus) are sent after the update is applied
// in memory, before it is stored.
import * as path from 'node:path';
import { Server } from '@hocuspocus/server';
import { SQLite } from '@hocuspocus/extension-sqlite';
import type { RunningSystem, SystemOptions } from '../systems/types';

export async function startHocuspocus(o: SystemOptions): Promise<RunningSystem> {
  let writes = 0;
  const server = new Server({
    address: '127.0.0.1',
    port: 0,
    quiet: true,
    stopOnSignals: false,
    extensions: [
      new SQLite({ database: path.join(o.dir, 'hocuspocus.sqlite') }),
      { afterStoreDocument: async () => void writes++ },
    ],
  });
  await server.listen();
  return {
    url: `ws://127.0.0.1:${server.address.port}`,
    dbWrites: async () => writes,
    stop: async () => {
      server.hocuspocus.flushPendingStores();
      await new Promise((r) => setTimeout(r, 300));
      await server.destroy();
    },
  };
}
