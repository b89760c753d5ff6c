import * as assert from 'assert';
import { plainTextTable, summarizeResult } from '../../extension/core/plainTextTable';
import type { ResultPayload } from '../../extension/core/resultPayload';

const payload = (over: Partial<ResultPayload>): ResultPayload => ({ version: 1, columns: [], rows: [], rowCount: 0, truncated: false, elapsedMs: 12, ...over });

describe('text/plain result fallback', () => {
  it('aligns columns and shows NULL', () => {
    const text = plainTextTable(payload({ columns: [{ name: 'id', type: 'INTEGER' }, { name: 'city', type: 'VARCHAR' }], rows: [[1, 'Berlin'], [22, null]], rowCount: 2 }));
    assert.strictEqual(text.split('\n').slice(0, 4).join('\n'), 'id | city\n---+-------\n1  | Berlin\n22 | NULL');
    assert.match(text, /2 rows in 12 ms$/);
  });

  it('says how many rows were kept when capped, and names the view', () => {
    assert.strictEqual(summarizeResult(payload({ rows: [[1]], rowCount: 25_000, truncated: true, view: 'v', elapsedMs: 1500 })), 'showing 1 of 25,000 rows in 1.50 s, saved as view v');
  });

  it('limits the fallback to the first rows and shortens long values', () => {
    const rows = Array.from({ length: 30 }, (_, i) => [i, 'x'.repeat(100)]);
    const text = plainTextTable(payload({ columns: [{ name: 'i', type: 'BIGINT' }, { name: 's', type: 'VARCHAR' }], rows, rowCount: 30 }));
    assert.match(text, /… 10 more rows in this output/);
    assert.ok(text.split('\n').every((l) => l.length < 60), 'long values are cut');
  });

  it('describes statements without rows', () => {
    assert.strictEqual(plainTextTable(payload({})), 'Statement ran (no rows) in 12 ms');
  });
});
