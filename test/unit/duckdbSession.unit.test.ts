import * as assert from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DuckDbOpenError, DuckDbSession, SqlExecutionError } from '../../extension/core/duckdbSession';
import type { ResultPayload } from '../../extension/core/resultPayload';

/** A query that would run for hours: only an interrupt (or the test's hang guard) ends it. */
const ENDLESS_COUNT = 'SELECT count(*) FROM range(1000000000000)';
const HANG_GUARD_MS = 30_000;

async function rejection(promise: Promise<unknown>): Promise<SqlExecutionError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SqlExecutionError, `expected SqlExecutionError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the run to fail');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function tableExists(session: DuckDbSession, name: string): Promise<boolean> {
  const result = await session.run(`SELECT count(*) FROM duckdb_tables() WHERE table_name = '${name}'`);
  return result.rows[0][0] === '1';
}

describe('DuckDbSession', function () {
  this.timeout(HANG_GUARD_MS);
  let session: DuckDbSession;

  beforeEach(async () => {
    session = await DuckDbSession.open();
  });
  afterEach(async () => {
    await session.close();
  });

  describe('values and types', () => {
    let result: ResultPayload;
    before(async () => {
      const s = await DuckDbSession.open();
      try {
        result = await s.run(`
          CREATE TYPE mood AS ENUM ('sad', 'happy');
          SELECT 42::INTEGER AS i, 9007199254740993::BIGINT AS big,
            170141183460469231731687303715884105727::HUGEINT AS huge,
            -123456789012345.678::DECIMAL(18,3) AS dec, 1.5::DOUBLE AS dbl, 'inf'::DOUBLE AS dinf,
            'héllo 👋 日本' AS s, true AS b, DATE '2024-02-29' AS d,
            TIMESTAMP '2024-01-02 03:04:05.123456' AS ts, TIMESTAMPTZ '2024-01-02 03:04:05+02' AS tstz,
            INTERVAL '1 year 2 days 3 hours' AS iv, '\\xAA\\x00abc'::BLOB AS bl,
            '550e8400-e29b-41d4-a716-446655440000'::UUID AS u, [1, 2, NULL] AS l,
            {'a': 1, 'b': 'x', 'c': [9007199254740993]} AS st, MAP {'k': 1, 'j': 2} AS m, 'happy'::mood AS e,
            NULL::INTEGER AS n, 'infinity'::DATE AS dmax, '-infinity'::TIMESTAMP_MS AS tsmin,
            TIMESTAMP_NS '2024-01-01 00:00:00.123456789' AS tsns, TIME '12:34:56' AS t, '{"k": [1]}'::JSON AS js,
            0.1::FLOAT AS fl, [0.1::FLOAT, 'nan'::FLOAT] AS fll, 18446744073709551615::UBIGINT AS ubig, 255::UTINYINT AS utiny, [1, 2]::INTEGER[2] AS arr`);
      } finally {
        await s.close();
      }
    });

    const expected: Array<[string, string, unknown]> = [
      ['i', 'INTEGER', 42],
      ['big', 'BIGINT', '9007199254740993'],
      ['huge', 'HUGEINT', '170141183460469231731687303715884105727'],
      ['dec', 'DECIMAL(18,3)', '-123456789012345.678'],
      ['dbl', 'DOUBLE', 1.5],
      ['dinf', 'DOUBLE', 'Infinity'],
      ['s', 'VARCHAR', 'héllo 👋 日本'],
      ['b', 'BOOLEAN', true],
      ['d', 'DATE', '2024-02-29'],
      ['ts', 'TIMESTAMP', '2024-01-02 03:04:05.123456'],
      ['tstz', 'TIMESTAMP WITH TIME ZONE', '2024-01-02 01:04:05+00'],
      ['iv', 'INTERVAL', '1 year 2 days 03:00:00'],
      ['bl', 'BLOB', '\\xAA\\x00abc'],
      ['u', 'UUID', '550e8400-e29b-41d4-a716-446655440000'],
      ['l', 'INTEGER[]', '[1,2,null]'],
      ['st', 'STRUCT(a INTEGER, b VARCHAR, c BIGINT[])', '{"a":1,"b":"x","c":["9007199254740993"]}'],
      ['m', 'MAP(VARCHAR, INTEGER)', '{"k":1,"j":2}'],
      ['e', "ENUM('sad', 'happy')", 'happy'],
      ['n', 'INTEGER', null],
      ['dmax', 'DATE', 'infinity'],
      ['tsmin', 'TIMESTAMP_MS', '-infinity'],
      ['tsns', 'TIMESTAMP_NS', '2024-01-01 00:00:00.123456789'],
      ['t', 'TIME', '12:34:56'],
      ['js', 'JSON', '{"k": [1]}'],
      ['fl', 'FLOAT', 0.1],
      ['fll', 'FLOAT[]', '[0.1,"NaN"]'],
      ['ubig', 'UBIGINT', '18446744073709551615'],
      ['utiny', 'UTINYINT', 255],
      ['arr', 'INTEGER[2]', '[1,2]'],
    ];

    for (const [name, type, value] of expected) {
      it(`${type} (${name})`, () => {
        const index = result.columns.findIndex((c) => c.name === name);
        assert.ok(index >= 0, `column ${name}`);
        // DuckDB quotes struct field names in type strings; compare without those quotes.
        assert.strictEqual(result.columns[index].type.replace(/"/g, ''), type);
        assert.strictEqual(result.rows[0][index], value);
      });
    }

    it('is one row of JSON-safe values that survives a JSON round trip', () => {
      assert.strictEqual(result.rowCount, 1);
      assert.strictEqual(result.truncated, false);
      assert.strictEqual(result.columns.length, expected.length);
      assert.deepStrictEqual(JSON.parse(JSON.stringify(result)), result);
    });
  });

  describe('cells', () => {
    it('runs several statements in order and returns the last one', async () => {
      const result = await session.run('CREATE TABLE t (a INTEGER);\nINSERT INTO t VALUES (1), (2), (39);\nSELECT sum(a) AS total FROM t;');
      assert.deepStrictEqual(result.columns, [{ name: 'total', type: 'HUGEINT' }]);
      assert.deepStrictEqual(result.rows, [['42']]);
      assert.strictEqual(result.version, 1);
      assert.ok(Number.isFinite(result.elapsedMs) && result.elapsedMs >= 0);
    });

    it("keeps what DuckDB returns for statements without rows", async () => {
      const created = await session.run('CREATE TABLE t (a INTEGER)');
      assert.deepStrictEqual(created.columns, [{ name: 'Count', type: 'BIGINT' }]);
      assert.strictEqual(created.rowCount, 0);
      const inserted = await session.run('INSERT INTO t SELECT * FROM range(7)');
      assert.deepStrictEqual(inserted.rows, [['7']]);
    });

    it('gives an empty payload for an empty or comment-only cell', async () => {
      for (const sql of ['', '   \n', '-- just a note\n/* and; a block */']) {
        const result = await session.run(sql);
        assert.deepStrictEqual({ ...result, elapsedMs: 0 }, { version: 1, columns: [], rows: [], rowCount: 0, truncated: false, elapsedMs: 0 });
      }
    });

    it('stops at the first failing statement', async () => {
      const error = await rejection(session.run('CREATE TABLE before_err (a INTEGER); SELECT * FROM nope; CREATE TABLE after_err (a INTEGER)'));
      assert.match(error.message, /^Catalog Error: Table with name nope does not exist!/);
      assert.strictEqual(await tableExists(session, 'before_err'), true);
      assert.strictEqual(await tableExists(session, 'after_err'), false);
    });
  });

  describe('errors', () => {
    it("reports DuckDB's own message and stays usable", async () => {
      const missing = await rejection(session.run('SELECT * FROM nope'));
      assert.match(missing.message, /^Catalog Error: Table with name nope does not exist!/);
      assert.strictEqual(missing.cancelled, false);
      const syntax = await rejection(session.run('SELEC 1'));
      assert.match(syntax.message, /^Parser Error: syntax error at or near "SELEC"/);
      assert.deepStrictEqual((await session.run('SELECT 1 AS one')).rows, [[1]]);
    });

    it('reports an error raised while rows stream in', async () => {
      const sql = "SELECT CASE WHEN range = 2500000 THEN error('boom at 2500000') ELSE range END AS r FROM range(3000000)";
      // The failure comes after the first chunks were streamed, so it must not pass for the end of the rows.
      for (const opts of [{ rowCap: 10 }, { rowCap: 10, viewName: 'failing' }]) {
        const error = await rejection(session.run(sql, opts));
        assert.strictEqual(error.message, 'Invalid Input Error: boom at 2500000');
        assert.strictEqual(error.cancelled, false);
      }
      assert.deepStrictEqual((await session.run('SELECT 5 AS x')).rows, [[5]]);
    });

    it('stops the cell when an earlier statement fails while producing rows', async () => {
      const sql = "SELECT CASE WHEN range = 2500000 THEN error('early boom') ELSE range END FROM range(3000000); CREATE TABLE later (a INTEGER)";
      assert.match((await rejection(session.run(sql))).message, /early boom/);
      assert.strictEqual(await tableExists(session, 'later'), false);
    });

    it('does not run a syntactically broken cell at all', async () => {
      await rejection(session.run('CREATE TABLE never_made (a INTEGER); SELEC 1'));
      assert.strictEqual(await tableExists(session, 'never_made'), false);
    });
  });

  describe('named cells', () => {
    it('stores the query as a view that later cells can read', async () => {
      const first = await session.run(`SELECT range AS id, 'n' || range AS label FROM range(3) -- trailing comment`, { viewName: 'numbers' });
      assert.strictEqual(first.view, 'numbers');
      assert.deepStrictEqual(first.rows, [['0', 'n0'], ['1', 'n1'], ['2', 'n2']]);
      const later = await session.run('SELECT count(*) AS c, max(label) AS m FROM numbers');
      assert.deepStrictEqual(later.rows, [['3', 'n2']]);
      assert.strictEqual(later.view, undefined);
    });

    it('replaces the view when the cell runs again, using earlier statements of the cell', async () => {
      await session.run('SELECT 1 AS x', { viewName: 'v' });
      const again = await session.run('CREATE TABLE src AS SELECT 5 AS y; FROM src', { viewName: 'v' });
      assert.deepStrictEqual(again.columns, [{ name: 'y', type: 'INTEGER' }]);
      assert.deepStrictEqual((await session.run('SELECT * FROM v')).rows, [[5]]);
    });

    it('rejects a view name that is not an identifier, running nothing', async () => {
      await session.run('CREATE TABLE t (a INTEGER)');
      for (const name of ['1abc', 'has space', 'x"; DROP TABLE t; --', '']) {
        const error = await rejection(session.run('SELECT 1', { viewName: name }));
        assert.match(error.message, /^Invalid view name/);
        assert.strictEqual(error.cancelled, false);
      }
      assert.strictEqual(await tableExists(session, 't'), true);
      assert.deepStrictEqual((await session.run('SELECT count(*) FROM duckdb_views() WHERE NOT internal')).rows, [['0']]);
    });

    it('rejects a last statement that is not a query', async () => {
      await session.run('CREATE TABLE t (a INTEGER)');
      const error = await rejection(session.run('INSERT INTO t VALUES (1)', { viewName: 'ins' }));
      assert.match(error.message, /cannot become a view: its last statement is not a query/);
      assert.deepStrictEqual((await session.run('SELECT count(*) FROM t')).rows, [['0']], 'the INSERT did not run');
    });
  });

  describe('row cap', () => {
    it('keeps rowCap rows but counts them all', async () => {
      const result = await session.run('SELECT * FROM range(25000)', { rowCap: 10_000 });
      assert.strictEqual(result.rows.length, 10_000);
      assert.strictEqual(result.rowCount, 25_000);
      assert.strictEqual(result.truncated, true);
      assert.deepStrictEqual(result.rows[9999], ['9999']);
    });

    it('counts millions of rows exactly with a small cap', async () => {
      const result = await session.run('SELECT range, range * 2 AS twice FROM range(3000000)', { rowCap: 5 });
      assert.deepStrictEqual(result.rows, [['0', '0'], ['1', '2'], ['2', '4'], ['3', '6'], ['4', '8']]);
      assert.strictEqual(result.rowCount, 3_000_000);
      assert.strictEqual(result.truncated, true);
    });

    it('uses the session default and is not truncated at exactly the cap', async () => {
      const small = await DuckDbSession.open({ rowCap: 3 });
      try {
        const exact = await small.run('FROM range(3)');
        assert.strictEqual(exact.rows.length, 3);
        assert.strictEqual(exact.truncated, false);
        const over = await small.run('FROM range(4)');
        assert.deepStrictEqual([over.rows.length, over.rowCount, over.truncated], [3, 4, true]);
      } finally {
        await small.close();
      }
    });
  });

  describe('serialization and cancellation', () => {
    it('runs queued cells one after another', async () => {
      const create = session.run('CREATE TABLE q1 AS SELECT * FROM range(2000000)');
      const count = session.run('SELECT count(*) FROM q1');
      await create;
      assert.deepStrictEqual((await count).rows, [['2000000']]);
    });

    it('interrupts a long statement; the session stays usable', async () => {
      const run = session.run(ENDLESS_COUNT);
      await delay(300);
      session.interrupt();
      const error = await rejection(run);
      assert.strictEqual(error.cancelled, true);
      assert.match(error.message, /INTERRUPT/);
      assert.deepStrictEqual((await session.run('SELECT 7 AS x')).rows, [[7]]);
    });

    it('interrupts while streaming rows instead of returning a short result', async () => {
      const run = session.run('SELECT * FROM range(1000000000000)', { rowCap: 10 });
      await delay(300);
      session.interrupt();
      assert.strictEqual((await rejection(run)).cancelled, true);
    });

    it('cancels only the running cell; queued cells still run', async () => {
      const long = session.run(ENDLESS_COUNT);
      const next = session.run('SELECT 1 AS a');
      const after = session.run('SELECT 2 AS b');
      await delay(300);
      session.interrupt();
      assert.strictEqual((await rejection(long)).cancelled, true);
      assert.deepStrictEqual((await next).rows, [[1]]);
      assert.deepStrictEqual((await after).rows, [[2]]);
    });

    it('skips the remaining statements of an interrupted cell', async () => {
      const run = session.run(`CREATE TABLE first_part AS SELECT 1 AS a; ${ENDLESS_COUNT}; CREATE TABLE never_reached AS SELECT 1 AS a`);
      await delay(300);
      session.interrupt();
      assert.strictEqual((await rejection(run)).cancelled, true);
      assert.strictEqual(await tableExists(session, 'first_part'), true);
      assert.strictEqual(await tableExists(session, 'never_reached'), false);
    });

    it('cancels a cell interrupted before it started executing', async () => {
      const run = session.run('CREATE TABLE not_made AS SELECT 1 AS a');
      session.interrupt();
      assert.strictEqual((await rejection(run)).cancelled, true);
      assert.strictEqual(await tableExists(session, 'not_made'), false);
    });

    it('gives every queued run its own result or a cancellation under repeated interrupts', async () => {
      const runs = Array.from({ length: 30 }, (_, i) => session.run(`SELECT ${i} AS i`));
      const outcomes = runs.map((run) =>
        run.then(
          (payload) => payload.rows[0][0],
          (error: unknown) => (error instanceof SqlExecutionError && error.cancelled ? 'cancelled' : error),
        ),
      );
      session.interrupt(); // the first run owns the session already
      for (let k = 0; k < 9; k++) {
        await delay(1);
        session.interrupt();
      }
      const results = await Promise.all(outcomes);
      assert.strictEqual(results[0], 'cancelled');
      results.forEach((result, i) => assert.ok(result === i || result === 'cancelled', `run ${i}: ${String(result)}`));
      assert.ok(results.filter((r) => r === 'cancelled').length <= 10, 'one interrupt cancels at most one run');
      assert.deepStrictEqual((await session.run('SELECT 99 AS x')).rows, [[99]]);
    });

    it('ignores an interrupt while idle', async () => {
      session.interrupt();
      assert.deepStrictEqual((await session.run('SELECT 3 AS x')).rows, [[3]]);
    });

    it('drops a queued run whose signal aborts, without running it', async () => {
      const controller = new AbortController();
      const long = session.run(ENDLESS_COUNT);
      const queued = session.run('CREATE TABLE aborted_one AS SELECT 1 AS a', { signal: controller.signal });
      controller.abort();
      assert.strictEqual((await rejection(queued)).cancelled, true);
      session.interrupt();
      await rejection(long);
      assert.strictEqual(await tableExists(session, 'aborted_one'), false);
    });

    it('cancels the running cell when its signal aborts', async () => {
      const controller = new AbortController();
      const run = session.run(ENDLESS_COUNT, { signal: controller.signal });
      await delay(300);
      controller.abort();
      assert.strictEqual((await rejection(run)).cancelled, true);
      const already = await rejection(session.run('SELECT 1', { signal: controller.signal }));
      assert.strictEqual(already.cancelled, true);
      assert.deepStrictEqual((await session.run('SELECT 4 AS x')).rows, [[4]]);
    });

    it('close() cancels the running cell and rejects queued and later runs', async () => {
      const s = await DuckDbSession.open();
      const long = s.run(ENDLESS_COUNT);
      const queued = s.run('SELECT 1');
      const failures = [rejection(long), rejection(queued)];
      await delay(200);
      await s.close();
      for (const failure of failures) assert.strictEqual((await failure).cancelled, true);
      assert.match((await rejection(s.run('SELECT 1'))).message, /closed/);
    });
  });

  describe('database files', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-session-'));
    });
    afterEach(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('keeps tables and views across close and reopen', async () => {
      const file = path.join(dir, 'notebook.duckdb');
      const first = await DuckDbSession.open({ databasePath: file });
      assert.strictEqual(first.databasePath, file);
      await first.run("CREATE TABLE kept AS SELECT 'still here' AS msg");
      await first.run('SELECT upper(msg) AS shout FROM kept', { viewName: 'loud' });
      await first.close();
      const second = await DuckDbSession.open({ databasePath: file });
      try {
        assert.deepStrictEqual((await second.run('SELECT * FROM kept')).rows, [['still here']]);
        assert.deepStrictEqual((await second.run('SELECT * FROM loud')).rows, [['STILL HERE']]);
      } finally {
        await second.close();
      }
    });

    it('shares one database between sessions on the same file in this process', async () => {
      const file = path.join(dir, 'shared.duckdb');
      const a = await DuckDbSession.open({ databasePath: file });
      const b = await DuckDbSession.open({ databasePath: file });
      await a.run('CREATE TABLE shared AS SELECT 1 AS x');
      assert.deepStrictEqual((await b.run('SELECT x FROM shared')).rows, [[1]]);
      await a.close();
      assert.deepStrictEqual((await b.run('SELECT count(*) FROM shared')).rows, [['1']], 'closing one session leaves the other working');
      await b.close();
      // Once the last session closes, the file is free for another process.
      (await spawnHolder(file)).kill();
    });

    it('keeps separate in-memory sessions apart', async () => {
      const other = await DuckDbSession.open();
      try {
        await session.run('CREATE TABLE mine AS SELECT 1 AS x');
        assert.strictEqual(await tableExists(other, 'mine'), false);
      } finally {
        await other.close();
      }
    });

    it('defaults to an in-memory database', () => {
      assert.strictEqual(session.databasePath, ':memory:');
    });

    it('says another process holds the file, and what to do', async () => {
      const file = path.join(dir, 'locked.duckdb');
      const holder = await spawnHolder(file);
      try {
        await assert.rejects(DuckDbSession.open({ databasePath: file }), (error: unknown) => {
          assert.ok(error instanceof DuckDbOpenError);
          assert.strictEqual(error.reason, 'locked');
          assert.ok(error.message.includes(file));
          assert.match(error.message, /another process has it open.*Close the other program/s);
          assert.match(error.duckDbMessage, /lock/i);
          return true;
        });
      } finally {
        holder.kill();
      }
    });

    it('says a file that is not a DuckDB database is not one', async () => {
      const file = path.join(dir, 'notes.txt');
      fs.writeFileSync(file, 'just some text\n'.repeat(500));
      await assert.rejects(DuckDbSession.open({ databasePath: file }), (error: unknown) => {
        assert.ok(error instanceof DuckDbOpenError);
        assert.strictEqual(error.reason, 'not-duckdb');
        assert.match(error.message, /not a DuckDB database/);
        return true;
      });
    });

    it('says when the folder does not exist', async () => {
      await assert.rejects(DuckDbSession.open({ databasePath: path.join(dir, 'no', 'such', 'x.duckdb') }), (error: unknown) => {
        assert.ok(error instanceof DuckDbOpenError);
        assert.strictEqual(error.reason, 'missing');
        return true;
      });
    });

    it('passes the extension directory to DuckDB', async () => {
      const extensions = path.join(dir, 'extensions');
      const s = await DuckDbSession.open({ extensionDirectory: extensions });
      try {
        assert.deepStrictEqual((await s.run("SELECT current_setting('extension_directory') AS d")).rows, [[extensions]]);
      } finally {
        await s.close();
      }
    });
  });
});

/** A child node process that opens `file` with DuckDB and keeps it open until killed. */
async function spawnHolder(file: string): Promise<ChildProcess> {
  const api = require.resolve('@duckdb/node-api');
  const script = `
    const { DuckDBInstance } = require(${JSON.stringify(api)});
    DuckDBInstance.create(${JSON.stringify(file)}).then(async (db) => {
      await (await db.connect()).run('CREATE TABLE held (a INTEGER)');
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    }, (e) => { process.stderr.write(String(e)); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
  return child;
}
