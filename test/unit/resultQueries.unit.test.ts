// The SQL behind the result toolbar (sort the whole result, export it with
// COPY) and the renderer's messages: pure checks of the text, then the
// statements run on a real DuckDB (odd column names, a path with a quote,
// a cell ending in a comment) and the exported files read back.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DuckDbSession } from '../../extension/core/duckdbSession';
import { parseChart, parseRendererRequest } from '../../extension/core/rendererMessages';
import { copyStatement, exportFileName, formatForFile, orderKey, quoteSqlString, resultQuery, sortedQuery } from '../../extension/core/resultQueries';

describe('result queries: text', () => {
  it('takes the last statement of a cell as the result query', () => {
    assert.strictEqual(resultQuery('CREATE TABLE t AS SELECT 1;\nSELECT * FROM t; -- done'), 'SELECT * FROM t');
    assert.strictEqual(resultQuery('  -- nothing\n'), undefined);
  });

  it('orders by the quoted name, or by position when the name is not unique', () => {
    assert.strictEqual(orderKey(['a', 'we"ird name'], 1), '"we""ird name"');
    assert.strictEqual(orderKey(['a', 'b', 'a'], 2), '3');
    assert.throws(() => orderKey(['a'], 1), RangeError);
  });

  it('wraps the query on its own lines, NULLs last both ways, with a limit', () => {
    assert.strictEqual(
      sortedQuery('SELECT 1 AS x -- a comment;', ['x'], { column: 0, descending: true }, 10),
      'SELECT * FROM (\nSELECT 1 AS x -- a comment\n) AS sqlroom_result ORDER BY "x" DESC NULLS LAST LIMIT 10',
    );
    assert.strictEqual(sortedQuery('FROM t', ['x'], undefined), 'SELECT * FROM (\nFROM t\n) AS sqlroom_result');
    assert.throws(() => sortedQuery('FROM t', ['x'], undefined, -1), RangeError);
  });

  it('quotes paths as SQL strings and builds COPY for CSV and Parquet', () => {
    assert.strictEqual(quoteSqlString("/tmp/it's.csv"), "'/tmp/it''s.csv'");
    assert.throws(() => quoteSqlString('a\0b'));
    assert.strictEqual(copyStatement('FROM t;', '/x/y.csv', 'csv'), "COPY (\nFROM t\n) TO '/x/y.csv' (FORMAT csv, HEADER true)");
    assert.strictEqual(copyStatement('FROM t', '/x/y.parquet', 'parquet'), "COPY (\nFROM t\n) TO '/x/y.parquet' (FORMAT parquet)");
  });

  it('picks the format from the file name and a default file name from the cell', () => {
    assert.strictEqual(formatForFile('/a/b.PARQUET', 'csv'), 'parquet');
    assert.strictEqual(formatForFile('/a/b.csv', 'parquet'), 'csv');
    assert.strictEqual(formatForFile('/a/b', 'parquet'), 'parquet');
    assert.strictEqual(exportFileName('daily trips', 'csv'), 'daily_trips.csv');
    assert.strictEqual(exportFileName(undefined, 'parquet'), 'result.parquet');
    assert.strictEqual(exportFileName('../../etc', 'csv'), 'etc.csv');
  });
});

describe('result queries: on DuckDB', function () {
  this.timeout(60_000);
  let session: DuckDbSession;
  let dir: string;
  const cell = `CREATE OR REPLACE TABLE t AS SELECT i::INTEGER AS i, CASE WHEN i % 7 = 0 THEN NULL ELSE ((i * 37) % 101)::INTEGER END AS "we""ird", 'v' || i AS a FROM range(1, 301) r(i);
SELECT i AS a, "we""ird", a FROM t -- the last statement ends in a comment`;

  before(async () => {
    session = await DuckDbSession.open({ rowCap: 50 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sqlroom export 'q' "));
  });
  after(async () => {
    await session.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sorts the whole result, not the capped part, NULLs last', async () => {
    const shown = await session.run(cell);
    assert.strictEqual(shown.truncated, true);
    const names = shown.columns.map((c) => c.name);
    assert.deepStrictEqual(names, ['a', 'we"ird', 'a']);
    const query = resultQuery(cell)!;
    const desc = await session.run(sortedQuery(query, names, { column: 0, descending: true }, 50));
    assert.deepStrictEqual(desc.rows.slice(0, 3).map((r) => r[0]), [300, 299, 298], 'the largest of all 300 rows, beyond the 50 kept');
    const byOdd = await session.run(sortedQuery(query, names, { column: 1, descending: false }, 300), { rowCap: 300 });
    const values = byOdd.rows.map((r) => r[1]);
    assert.strictEqual(values.filter((v) => v === null).length, 42);
    assert.deepStrictEqual(values.slice(-42), Array(42).fill(null), 'NULLs last');
    const nums = values.filter((v): v is number => v !== null);
    assert.ok(nums.every((v, i) => i === 0 || nums[i - 1] <= v));
    const byDupName = await session.run(sortedQuery(query, names, { column: 2, descending: true }, 1));
    assert.deepStrictEqual(byDupName.rows[0][2], 'v99', 'the second "a" (text) by position');
  });

  it('exports the whole result with COPY to CSV and Parquet at a path with a quote, read back', async () => {
    const query = resultQuery(cell)!;
    const csv = path.join(dir, "it's.csv");
    const copied = await session.run(copyStatement(query, csv, 'csv'));
    assert.deepStrictEqual(copied.rows, [['300']], 'COPY answers with the row count (a BIGINT)');
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
    assert.strictEqual(lines.length, 301);
    assert.strictEqual(lines[0], 'a,"we""ird",a_1');
    const parquet = path.join(dir, 'r.parquet');
    await session.run(copyStatement(sortedQuery(query, ['a', 'we"ird', 'a'], { column: 0, descending: true }), parquet, 'parquet'));
    const back = await session.run(`SELECT count(*)::INTEGER AS n, first(a)::INTEGER AS top FROM ${quoteSqlString(parquet)}`);
    assert.deepStrictEqual(back.rows, [[300, 300]], 'all rows, in the sort order asked for');
  });

  it('a cancelled COPY (the export\'s Cancel) ends as cancelled and leaves no partial file', async () => {
    // A scan of 10^13 rows that writes nothing but the header: it only ends by being cancelled.
    const file = path.join(dir, 'cancelled.csv');
    const abort = new AbortController();
    const copy = session.run(copyStatement('SELECT i FROM range(10000000000000) t(i) WHERE i < 0', file, 'csv'), { signal: abort.signal });
    copy.catch(() => undefined);
    // The COPY has started once DuckDB created the file (hang guard only).
    for (let i = 0; i < 600 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(fs.existsSync(file), 'the COPY started writing');
    abort.abort();
    await assert.rejects(copy, (e: Error & { cancelled?: boolean }) => e.cancelled === true);
    assert.ok(!fs.existsSync(file), 'DuckDB removed the partial file');
    const after = await session.run('SELECT 42 AS still');
    assert.deepStrictEqual(after.rows, [[42]], 'the session runs on');
  });
});

describe('renderer messages', () => {
  it('accepts well-formed requests and refuses others', () => {
    assert.deepStrictEqual(parseRendererRequest({ type: 'sort', requestId: 'r1', cellId: 'c', sort: { column: 2, descending: true } }), {
      type: 'sort', requestId: 'r1', cellId: 'c', sort: { column: 2, descending: true },
    });
    assert.deepStrictEqual(parseRendererRequest({ type: 'export', cellId: 'c', format: 'parquet' }), { type: 'export', cellId: 'c', format: 'parquet', sort: null });
    assert.deepStrictEqual(parseRendererRequest({ type: 'chart', cellId: 'c', chart: null }), { type: 'chart', cellId: 'c', chart: null });
    assert.deepStrictEqual(parseRendererRequest({ type: 'hello', cellId: 'c' }), { type: 'hello', cellId: 'c' });
    for (const bad of [
      null, 'x', { type: 'sort', cellId: 'c', sort: null }, { type: 'sort', requestId: 'r', cellId: 'c', sort: { column: -1, descending: false } },
      { type: 'export', cellId: 'c', format: 'xlsx' }, { type: 'chart', cellId: 'c', chart: { mark: 'pie', x: 'a' } }, { type: 'hello', cellId: '' }, { type: 'drop', cellId: 'c' },
    ]) assert.strictEqual(parseRendererRequest(bad), undefined, JSON.stringify(bad));
  });

  it('reads a chart choice, dropping an empty y', () => {
    assert.deepStrictEqual(parseChart({ mark: 'histogram', x: 'n', y: '' }), { mark: 'histogram', x: 'n' });
    assert.deepStrictEqual(parseChart({ mark: 'line', x: 'd', y: 'n', extra: 1 }), { mark: 'line', x: 'd', y: 'n' });
    assert.strictEqual(parseChart({ mark: 'line', x: 3 }), undefined);
  });
});
