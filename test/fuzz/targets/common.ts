// Pieces shared by the server fuzz targets: a SyncCore on memory storage with
// a write-ahead log that "fsyncs" instantly, and a logger that records errors.
import * as path from 'node:path';
import type { Logger } from '../../../server/log';

export const OUT_SERVER = path.resolve(__dirname, '..', '..', '..', 'server');
/** Matches a compiled server module, e.g. serverModule('protocol/connection'). */
export function serverModule(rel: string): RegExp {
  return new RegExp(`${escape(path.join(OUT_SERVER, rel))}\\.js$`);
}
export const LORO_PROTOCOL = /node_modules[\\/]loro-protocol[\\/]dist[\\/]index\.cjs$/;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function recordingLogger(errors: string[]): Logger {
  const noop = () => undefined;
  return {
    debug: noop,
    info: noop,
    warn: noop,
    error: (msg, fields) => errors.push(`${msg} ${JSON.stringify(fields ?? {}, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`),
  };
}

/** A write-ahead log stand-in: every append is "durable" at once (segment 1). */
export function instantWal(): unknown {
  return {
    dir: '(memory)',
    append: () => Promise.resolve(1),
    release: () => undefined,
    stats: () => ({ segments: 0, depth: 0, bytes: 0, fsyncs: 0, lastFsyncMs: 0 }),
    depth: () => 0,
    openAndRead: async () => ({ entries: [], tornBytes: 0, oldSegments: [] }),
    dropReplayed: async () => undefined,
    close: async () => undefined,
  };
}

export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
