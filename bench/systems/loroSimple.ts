// loro-websocket's SimpleServer with its save hook writing the room snapshot
// to a DuckDB file (one upsert per dirty room every saveInterval). Acks are
// sent on receipt, before anything is saved.
import * as path from 'node:path';
import { DuckDBInstance, blobValue, type DuckDBConnection } from '@duckdb/node-api';
import { SIMPLE_SAVE_INTERVAL_MS, type RunningSystem, type SystemOptions } from './types';

// The package's "./server" export is not visible to this tsconfig's
// node10 resolution, so it is required at run time with a local type.
interface SimpleServerConfig {
  port: number;
  host?: string;
  saveInterval?: number;
  onLoadDocument?: (roomId: string, crdtType: string) => Promise<Uint8Array | null>;
  onSaveDocument?: (roomId: string, crdtType: string, data: Uint8Array) => Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { SimpleServer } = require('loro-websocket/server') as {
  SimpleServer: new (cfg: SimpleServerConfig) => { start(): Promise<void>; stop(): Promise<void> };
};

export async function startLoroSimple(o: SystemOptions): Promise<RunningSystem> {
  const db = await DuckDBInstance.create(path.join(o.dir, 'simple.duckdb'));
  const conn: DuckDBConnection = await db.connect();
  await conn.run('CREATE TABLE IF NOT EXISTS docs (room_id VARCHAR PRIMARY KEY, crdt VARCHAR, data BLOB, updated_at TIMESTAMP)');
  let writes = 0;
  const port = await freePort();
  const server = new SimpleServer({
    host: '127.0.0.1',
    port,
    saveInterval: SIMPLE_SAVE_INTERVAL_MS,
    onLoadDocument: async (roomId) => {
      const r = await conn.runAndReadAll('SELECT data FROM docs WHERE room_id = $1', [roomId]);
      const row = r.getRows()[0];
      return row ? (row[0] as { bytes: Uint8Array }).bytes : null;
    },
    onSaveDocument: async (roomId, crdt, data) => {
      await conn.run('INSERT OR REPLACE INTO docs VALUES ($1, $2, $3, now())', [roomId, String(crdt), blobValue(data)]);
      writes++;
    },
  });
  await server.start();
  return {
    url: `ws://127.0.0.1:${port}`,
    dbWrites: async () => writes,
    stop: async () => {
      await server.stop();
      // stop() starts a last save without awaiting it: give it a moment.
      await new Promise((r) => setTimeout(r, 300));
      conn.closeSync();
      db.closeSync();
    },
  };
}

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
