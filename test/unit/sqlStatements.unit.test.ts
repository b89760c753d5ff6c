import * as assert from 'assert';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import * as fc from 'fast-check';
import { isValidViewName, quoteIdentifier, splitSqlStatements } from '../../extension/core/sqlStatements';

describe('splitSqlStatements', () => {
  it('splits on semicolons and trims, dropping empty pieces', () => {
    assert.deepStrictEqual(splitSqlStatements(' SELECT 1;\n\n select 2 ;;; '), ['SELECT 1', 'select 2']);
    assert.deepStrictEqual(splitSqlStatements('SELECT 1'), ['SELECT 1']);
  });

  it('gives nothing for whitespace and comment-only cells', () => {
    assert.deepStrictEqual(splitSqlStatements(''), []);
    assert.deepStrictEqual(splitSqlStatements('  \n\t'), []);
    assert.deepStrictEqual(splitSqlStatements('-- a note; with a semicolon\n/* block; */ ;'), []);
  });

  it('ignores semicolons inside strings, identifiers, dollar quotes and comments', () => {
    assert.deepStrictEqual(splitSqlStatements(`SELECT 'a;b', 'it''s;'; SELECT 2`), [`SELECT 'a;b', 'it''s;'`, 'SELECT 2']);
    assert.deepStrictEqual(splitSqlStatements(`SELECT 1 AS "x;""y"; SELECT 2`), [`SELECT 1 AS "x;""y"`, 'SELECT 2']);
    assert.deepStrictEqual(splitSqlStatements('SELECT $$a;b$$, $t$c;$$;d$t$; SELECT 2'), ['SELECT $$a;b$$, $t$c;$$;d$t$', 'SELECT 2']);
    assert.deepStrictEqual(splitSqlStatements('SELECT 1 -- x; y\n; SELECT 2'), ['SELECT 1 -- x; y', 'SELECT 2']);
    assert.deepStrictEqual(splitSqlStatements('SELECT 1 /* a /* b; */ c; */; SELECT 2'), ['SELECT 1 /* a /* b; */ c; */', 'SELECT 2']);
  });

  it("honours backslash escapes only in E'' strings", () => {
    assert.deepStrictEqual(splitSqlStatements(`SELECT E'a\\';b'; SELECT 2`), [`SELECT E'a\\';b'`, 'SELECT 2']);
    // In a plain string a backslash is an ordinary character, so the string ends at the second quote.
    assert.deepStrictEqual(splitSqlStatements(`SELECT 'a\\'; SELECT 2`), [`SELECT 'a\\'`, 'SELECT 2']);
  });

  it('keeps a trailing comment with its statement and leaves parameters alone', () => {
    assert.deepStrictEqual(splitSqlStatements('SELECT $1; -- done'), ['SELECT $1']);
    assert.deepStrictEqual(splitSqlStatements('SELECT 1 -- done'), ['SELECT 1 -- done']);
  });

  describe('agrees with DuckDB on statement boundaries', () => {
    let instance: DuckDBInstance;
    let connection: DuckDBConnection;
    before(async () => {
      instance = await DuckDBInstance.create(':memory:');
      connection = await instance.connect();
    });
    after(() => {
      connection.closeSync();
      instance.closeSync();
    });

    // Each fragment is valid on its own; joined with ';' they form a cell.
    const fragment = fc.constantFrom(
      `SELECT 'a;b' AS s`,
      `SELECT 'it''s;' AS s`,
      `SELECT 1 AS "we;ird"`,
      `SELECT $$x;y$$ AS s`,
      `SELECT $q$ ; $$ ; $q$ AS s`,
      `SELECT E'\\';' AS s`,
      `SELECT 1 /* c; /* nested; */ ; */ AS n`,
      `-- lead; comment\nSELECT 2`,
      `SELECT 3 -- trailing; comment\n`,
      `FROM range(2)`,
      `VALUES (1, ';')`,
    );

    it('on generated cells: same count, and each piece is one statement', async function () {
      this.timeout(20_000);
      await fc.assert(
        fc.asyncProperty(fc.array(fragment, { minLength: 1, maxLength: 5 }), fc.constantFrom(';', ';\n', ' ; ;'), async (parts, sep) => {
          const cell = parts.join(sep);
          const pieces = splitSqlStatements(cell);
          assert.strictEqual(pieces.length, (await connection.extractStatements(cell)).count, cell);
          for (const piece of pieces) {
            assert.strictEqual((await connection.extractStatements(piece)).count, 1, piece);
          }
        }),
        { numRuns: 60 },
      );
    });
  });
});

describe('isValidViewName / quoteIdentifier', () => {
  it('accepts plain identifiers in any script', () => {
    for (const name of ['sales', '_tmp', 'Q3_totals', 'straße', '売上', 'a1']) assert.ok(isValidViewName(name), name);
  });

  it('rejects names that are not plain identifiers', () => {
    for (const name of ['', '1abc', 'a b', 'a-b', 'x"; DROP TABLE t; --', 'a.b', 'x'.repeat(64)]) {
      assert.ok(!isValidViewName(name), name);
    }
  });

  it('doubles embedded quotes', () => {
    assert.strictEqual(quoteIdentifier('a"b'), '"a""b"');
  });
});
