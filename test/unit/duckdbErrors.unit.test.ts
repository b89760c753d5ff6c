import * as assert from 'assert';
import { DuckDbOpenError, SqlExecutionError, duckDbMessage, isInterruptMessage } from '../../extension/core/duckdbErrors';

// DuckDB's messages for files it cannot open, in the form DuckDB 1.5 writes them.
// (The lock and not-a-database cases are also produced for real in duckdbSession.unit.test.ts;
// permission errors cannot be provoked there because the tests may run as root.)
describe('DuckDbOpenError', () => {
  const cases: Array<[string, DuckDbOpenError['reason'], RegExp]> = [
    ['IO Error: Could not set lock on file "/d/x.duckdb": Conflicting lock is held in /usr/bin/node (PID 42).', 'locked', /another process/],
    ['IO Error: Cannot open file "/d/x.duckdb": Permission denied', 'permission', /permission denied/],
    ['IO Error: The file "/d/x.duckdb" exists, but it is not a valid DuckDB database file!', 'not-duckdb', /not a DuckDB database/],
    ['IO Error: Cannot open file "/d/x.duckdb": No such file or directory', 'missing', /folder does not exist/],
    ['IO Error: Could not read from file "/d": Is a directory', 'other', /:memory:/],
  ];
  for (const [duckdb, reason, advice] of cases) {
    it(`classifies "${duckdb.slice(0, 50)}…" as ${reason}`, () => {
      const error = new DuckDbOpenError('/d/x.duckdb', new Error(duckdb));
      assert.strictEqual(error.reason, reason);
      assert.match(error.message, advice);
      assert.ok(error.message.startsWith('Cannot open DuckDB database "/d/x.duckdb": '));
      assert.ok(error.message.endsWith(`DuckDB said: ${duckdb}`));
      assert.strictEqual(error.duckDbMessage, duckdb);
    });
  }
});

describe('SqlExecutionError helpers', () => {
  it('strips node-api prefixes from DuckDB messages', () => {
    assert.strictEqual(duckDbMessage(new Error('Failed to extract statements: Parser Error: x')), 'Parser Error: x');
    assert.strictEqual(duckDbMessage('plain'), 'plain');
  });

  it('recognises interrupts and defaults to not cancelled', () => {
    assert.ok(isInterruptMessage('INTERRUPT Error: Interrupted!'));
    assert.ok(!isInterruptMessage('Catalog Error: INTERRUPT Error'));
    assert.strictEqual(new SqlExecutionError('x').cancelled, false);
    assert.strictEqual(new SqlExecutionError('x', { cancelled: true }).cancelled, true);
  });
});
