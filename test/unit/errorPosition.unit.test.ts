// Where DuckDB's parser, binder and catalog errors point in a cell: real
// messages from a real DuckDB session, located in the cell's own text.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DuckDbSession, SqlExecutionError } from '../../extension/core/duckdbSession';
import { locateInCell, splitDuckDbError } from '../../extension/core/errorPosition';

async function failure(session: DuckDbSession, sql: string, viewName?: string): Promise<SqlExecutionError> {
  try {
    await session.run(sql, viewName ? { viewName } : {});
  } catch (error) {
    assert.ok(error instanceof SqlExecutionError, String(error));
    return error;
  }
  assert.fail(`expected ${JSON.stringify(sql)} to fail`);
}

/** The text at the error position: from the column to the end of the word. */
function wordAt(sql: string, e: SqlExecutionError): string {
  assert.ok(e.position, `a position for: ${e.message}`);
  const line = sql.split('\n')[e.position.line];
  return /^[^\s,()]*/.exec(line.slice(e.position.column))![0];
}

describe('DuckDB error positions', function () {
  this.timeout(30_000);
  let session: DuckDbSession;
  before(async () => {
    session = await DuckDbSession.open();
  });
  after(async () => session.close());

  it('splits type, text and the LINE context of a message', () => {
    const split = splitDuckDbError('Binder Error: Referenced column "nope" not found in FROM clause!\nCandidate bindings: "range"\n\nLINE 1: SELECT nope FROM range(3)\n               ^');
    assert.strictEqual(split.type, 'Binder Error');
    assert.strictEqual(split.text, 'Referenced column "nope" not found in FROM clause!\nCandidate bindings: "range"');
    assert.deepStrictEqual(split.context, { lineNumber: 1, snippet: 'SELECT nope FROM range(3)', caret: 7 });
    assert.deepStrictEqual(splitDuckDbError('Conversion Error: Could not convert string "a" to INT32'), { type: 'Conversion Error', text: 'Could not convert string "a" to INT32' });
  });

  it('a parser error points at the bad token', async () => {
    const sql = 'SELECT 1 AS a,\n  2 AS b\nFORM range(3)';
    const e = await failure(session, sql);
    assert.match(e.message, /^Parser Error/);
    assert.deepStrictEqual(e.position, { line: 2, column: 0 });
  });

  it('a binder error points at the unknown column, on the right line', async () => {
    const sql = 'SELECT i,\n       nope\nFROM range(3) t(i)';
    const e = await failure(session, sql);
    assert.match(e.message, /^Binder Error/);
    assert.strictEqual(wordAt(sql, e), 'nope');
    assert.strictEqual(e.position!.line, 1);
  });

  it('a catalog error points at the missing table and function', async () => {
    let sql = 'SELECT *\nFROM no_such_table';
    let e = await failure(session, sql);
    assert.match(e.message, /^Catalog Error/);
    assert.deepStrictEqual(e.position, { line: 1, column: 5 });
    sql = 'SELECT *\nFROM range(3) t(i)\nWHERE foo(i)';
    e = await failure(session, sql);
    assert.strictEqual(wordAt(sql, e), 'foo');
  });

  it('an error in a later statement of the cell points into that statement', async () => {
    const sql = 'CREATE OR REPLACE TABLE pos_t AS SELECT 1 AS x;\n\n  SELECT x,\n  y\n FROM pos_t';
    const e = await failure(session, sql);
    assert.strictEqual(wordAt(sql, e), 'y');
    assert.strictEqual(e.position!.line, 3);
  });

  it('an error in a named cell (stored as a view) points into the cell, not the CREATE VIEW wrapper', async () => {
    const sql = 'SELECT i,\n  missing_col\nFROM range(3) t(i)';
    const e = await failure(session, sql, 'pos_view');
    assert.strictEqual(wordAt(sql, e), 'missing_col');
    assert.strictEqual(e.position!.line, 1);
  });

  it('a long line shortened with "..." still gives the right column', async () => {
    const cols = Array.from({ length: 30 }, (_, i) => `col${i}`).join(', ');
    const sql = `SELECT ${cols} FROM range(3) t(col0)`;
    const e = await failure(session, sql);
    assert.strictEqual(wordAt(sql, e), 'col1');
  });

  it('a conversion error points at the cast; an error without a LINE context has no position', async () => {
    const sql = "SELECT 1 AS a,\n  'abc'::INTEGER AS b";
    const e = await failure(session, sql);
    assert.match(e.message, /^Conversion Error/);
    assert.strictEqual(e.position?.line, 1);
    const raised = await failure(session, "SELECT error('boom')");
    assert.match(raised.message, /boom/);
    assert.strictEqual(raised.position, undefined);
  });

  it('a tab or a wide character before the mistake: DuckDB counts display width, the position counts characters', async () => {
    let sql = 'SELECT 1,\n\t\tnope\nFROM range(1)';
    let e = await failure(session, sql);
    assert.deepStrictEqual(e.position, { line: 1, column: 2 });
    sql = "SELECT '東京🦆' AS city, nope FROM range(1)";
    e = await failure(session, sql);
    assert.strictEqual(wordAt(sql, e), 'nope');
  });

  it('locates a snippet that occurs on several lines at the one DuckDB numbered', () => {
    const cell = 'SELECT a\nFROM t\nSELECT a\nFROM t';
    assert.deepStrictEqual(locateInCell(cell, { lineNumber: 3, snippet: 'SELECT a', caret: 7 }), { line: 2, column: 7 });
    assert.deepStrictEqual(locateInCell(cell, { lineNumber: 1, snippet: 'SELECT a', caret: 7 }, 2), { line: 2, column: 7 });
    assert.strictEqual(locateInCell(cell, { lineNumber: 1, snippet: 'not there', caret: 0 }), undefined);
  });
});

describe('relative paths resolve against the notebook folder', function () {
  this.timeout(30_000);
  it('FROM a relative file and read_csv use baseDirectory (file_search_path)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-base-'));
    const session = await DuckDbSession.open({ baseDirectory: dir });
    try {
      fs.mkdirSync(path.join(dir, 'data'));
      fs.writeFileSync(path.join(dir, 'data', 'trips.csv'), 'city,n\nBern,2\nZürich,3\n');
      fs.writeFileSync(path.join(dir, "it's.csv"), 'v\n7\n');
      const a = await session.run("SELECT sum(n)::INTEGER AS total FROM 'data/trips.csv'");
      assert.deepStrictEqual(a.rows, [[5]]);
      const b = await session.run("SELECT v::INTEGER AS v FROM read_csv('it''s.csv')");
      assert.deepStrictEqual(b.rows, [[7]]);
      const glob = await session.run("SELECT count(*)::INTEGER AS files FROM glob('data/*.csv')");
      assert.deepStrictEqual(glob.rows, [[1]]);
    } finally {
      await session.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
