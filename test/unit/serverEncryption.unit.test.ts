// Encryption at rest: DuckLake with encrypted Parquet data files (--encrypt)
// and an encrypted DuckDB file (--encryption-key-file). The files written
// hold no plaintext, a fresh DuckDB cannot read them without the key, and the
// server reads them back after a restart. Needs the ducklake and httpfs
// extensions (scripts/install-duckdb-extensions.sh); skipped with the reason
// otherwise. SQLROOM_EXTENSION_DIR overrides where they are looked for.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { LoroDoc } from 'loro-crdt';
import { MessageType, UpdateStatusCode } from 'loro-protocol';
import { startServer, type ServerOptions } from '../../server';
import { RawClient, rmDir, textOf, tmpDir } from '../support/serverHarness';
import { runCli } from '../support/serverProcess';

const EXT_DIR = process.env.SQLROOM_EXTENSION_DIR ?? path.resolve(__dirname, '../../../.sqlroom-tools/duckdb-extensions');
const BIN = (name: string) => path.join(EXT_DIR, `v1.5.5/linux_amd64/${name}.duckdb_extension`);
const MARKER = 'PLAINTEXT-MARKER-7f3a';

function missing(...names: string[]): string | null {
  const absent = names.filter((n) => !existsSync(BIN(n)));
  return absent.length ? `DuckDB extension(s) ${absent.join(', ')} not found in ${EXT_DIR}; run scripts/install-duckdb-extensions.sh` : null;
}

function files(dir: string, ext: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(ext)) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Writes `n` updates holding MARKER through a client, flushes, closes. Returns the text. */
async function writeAndClose(opts: ServerOptions, n: number): Promise<string> {
  const server = await startServer({ port: 0, logLevel: 'silent', ...opts });
  const d = new LoroDoc();
  d.setPeerId(42n);
  const c = await RawClient.connect(server.url);
  c.join('secret-notes');
  await c.next(MessageType.JoinResponseOk);
  for (let i = 0; i < n; i++) {
    const before = d.oplogVersion();
    d.getText('t').insert(d.getText('t').length, `${MARKER} line ${i}\n`);
    d.commit();
    assert.equal((await c.ackFor(c.update('secret-notes', [d.export({ mode: 'update', from: before })]))).status, UpdateStatusCode.Ok);
  }
  c.close();
  await server.flush();
  await server.close();
  return textOf(d);
}

async function readBack(opts: ServerOptions): Promise<string> {
  const server = await startServer({ port: 0, logLevel: 'silent', ...opts });
  try {
    const state = await server.storage.loadRoom('secret-notes', 'main');
    const d = new LoroDoc();
    if (state.snapshot) d.import(state.snapshot.bytes);
    d.importBatch(state.ops.map((o) => o.bytes));
    return textOf(d);
  } finally {
    await server.close();
  }
}

describe('encryption at rest', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => rmDir(dir));

  it('DuckLake --encrypt: data files are encrypted Parquet (unreadable by a fresh read_parquet, no plaintext); the server reads them back after restart', async function () {
    const reason = missing('ducklake', 'httpfs');
    if (reason) {
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
    const opts: ServerOptions = { lake: `ducklake:${path.join(dir, 'catalog.ducklake')}`, dataPath: path.join(dir, 'lake'), extensionDir: EXT_DIR, encrypt: true, walDir: path.join(dir, 'wal') };
    const text = await writeAndClose(opts, 20);
    const parquet = files(path.join(dir, 'lake'), '.parquet');
    assert.ok(parquet.length >= 1, 'rows land in Parquet files (no inlining into the catalog when encrypted)');
    const fresh = await DuckDBInstance.create(':memory:');
    const conn = await fresh.connect();
    try {
      for (const f of parquet) {
        const bytes = readFileSync(f);
        assert.equal(bytes.subarray(-4).toString('latin1'), 'PARE', `${f} ends with the encrypted-Parquet magic`);
        assert.ok(!bytes.includes(Buffer.from(MARKER)), `${f} holds no plaintext`);
        await assert.rejects(conn.run(`SELECT * FROM read_parquet('${f.replace(/'/g, "''")}')`), /encrypted/);
      }
    } finally {
      conn.closeSync();
      fresh.closeSync();
    }
    assert.ok(!readFileSync(path.join(dir, 'catalog.ducklake')).includes(Buffer.from(MARKER)), 'the catalog holds no inlined plaintext rows');
    assert.equal(await readBack(opts), text);
  });

  it('DuckDB file --encryption-key-file: the file holds no plaintext, cannot be opened without the key or with a wrong one; the server reads it back', async function () {
    const reason = missing('httpfs');
    if (reason) {
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
    const db = path.join(dir, 'enc.duckdb');
    const opts: ServerOptions = { db, extensionDir: EXT_DIR, encryptionKey: 'correct horse battery staple 42' };
    const text = await writeAndClose(opts, 10);
    assert.ok(!readFileSync(db).includes(Buffer.from(MARKER)), 'no plaintext in the database file');
    await assert.rejects(DuckDBInstance.create(db), /Cannot open encrypted database .* without a key/);
    await assert.rejects(startServer({ port: 0, logLevel: 'silent', db, extensionDir: EXT_DIR }), /without a key; pass --encryption-key-file/);
    await assert.rejects(startServer({ port: 0, logLevel: 'silent', db, extensionDir: EXT_DIR, encryptionKey: 'wrong key wrong key' }), /Wrong encryption key .*wrong --encryption-key-file/);
    assert.equal(await readBack(opts), text);
  });

  it('CLI: --encrypt needs --lake, --encryption-key-file needs --db; both say so', async () => {
    const a = await runCli(['serve', '--port', '0', '--db', path.join(dir, 'x.duckdb'), '--encrypt']);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /--encrypt is for DuckLake \(--lake\); to encrypt a DuckDB file pass --encryption-key-file FILE/);
    const b = await runCli(['serve', '--port', '0', '--lake', 'ducklake:x', '--data-path', dir, '--encryption-key-file', path.join(dir, 'nope')]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /--encryption-key-file is for a DuckDB file \(--db\); for DuckLake use --encrypt/);
  });
});
