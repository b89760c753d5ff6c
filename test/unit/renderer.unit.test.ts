// Pure parts of the notebook renderer (media/renderer) that need no DOM:
// value formatting, page arithmetic and payload validation.
import * as assert from 'assert';
import { formatCell, formatElapsed, formatNested, isNestedType, isNumericType, shorten } from '../../media/renderer/format';
import { applyAction, clampPage, pageRange, rangeLabel, resizePage } from '../../media/renderer/pager';
import { parsePayload } from '../../media/renderer/payload';

describe('renderer format', () => {
  it('tells numeric column types from others', () => {
    for (const t of ['INTEGER', 'BIGINT', 'HUGEINT', 'UBIGINT', 'DOUBLE', 'FLOAT', 'DECIMAL(18,3)', 'DECIMAL', 'NUMERIC(10, 2)']) {
      assert.ok(isNumericType(t), t);
    }
    for (const t of ['VARCHAR', 'INTEGER[]', 'DATE', 'INTERVAL', 'STRUCT("a" INTEGER)', 'BOOLEAN', 'DOUBLE[3]']) {
      assert.ok(!isNumericType(t), t);
    }
    assert.ok(isNestedType('BIGINT[]') && isNestedType('DOUBLE[3]') && isNestedType('MAP(VARCHAR, BIGINT)') && isNestedType('STRUCT("a" INTEGER)'));
    assert.ok(!isNestedType('VARCHAR'));
  });

  it('prints nested values the way DuckDB does', () => {
    assert.strictEqual(formatNested(['1', '2', null]), '[1, 2, NULL]');
    assert.strictEqual(formatNested({ a: '1', b: 'x y', c: 'a, b', d: [] }), "{'a': 1, 'b': x y, 'c': 'a, b', 'd': []}");
    assert.strictEqual(formatNested([{ key: 'k', value: '1' }], true), '{k=1}');
    assert.strictEqual(formatNested({ k: 1, 'a b,': [2] }, true), "{k=1, 'a b,'=[2]}");
    assert.strictEqual(formatCell('{"k":1}', 'MAP(VARCHAR, INTEGER)').text, '{k=1}');
    assert.strictEqual(formatNested([{ key: 'k', value: '1' }]), "[{'key': k, 'value': 1}]");
    assert.strictEqual(formatNested(["it's"]), "['it\\'s']");
  });

  it('formats cells by kind', () => {
    assert.deepStrictEqual(formatCell(null, 'INTEGER'), { kind: 'null', text: 'NULL' });
    assert.deepStrictEqual(formatCell('NULL', 'VARCHAR'), { kind: 'text', text: 'NULL' });
    assert.deepStrictEqual(formatCell('12345678901234567890', 'HUGEINT'), { kind: 'number', text: '12345678901234567890' });
    assert.deepStrictEqual(formatCell('[1,2]', 'INTEGER[]'), { kind: 'nested', text: '[1, 2]' });
    assert.deepStrictEqual(formatCell('not json', 'INTEGER[]'), { kind: 'nested', text: 'not json' });
    assert.deepStrictEqual(formatCell(true, 'BOOLEAN'), { kind: 'bool', text: 'true' });
    assert.deepStrictEqual(formatCell('a\nb', 'VARCHAR'), { kind: 'text', text: 'a↵b', title: 'a\nb' });
  });

  it('shortens without splitting surrogate pairs', () => {
    const ducks = '🦆'.repeat(100);
    const short = shorten(ducks, 10);
    assert.strictEqual(short, '🦆'.repeat(9) + '…');
    assert.strictEqual(shorten('abc', 10), 'abc');
  });

  it('formats elapsed time', () => {
    assert.deepStrictEqual([0.2, 12.4, 1530, 95_000].map(formatElapsed), ['<1 ms', '12 ms', '1.53 s', '1 min 35 s']);
  });
});

describe('renderer paging', () => {
  const s = { page: 0, pageSize: 50, total: 1000 };

  it('moves between pages and stays in range', () => {
    assert.strictEqual(applyAction(s, 'prev').page, 0);
    assert.strictEqual(applyAction(s, 'next').page, 1);
    assert.strictEqual(applyAction(s, 'last').page, 19);
    assert.strictEqual(applyAction({ ...s, page: 19 }, 'next').page, 19);
    assert.strictEqual(clampPage({ ...s, page: 99 }).page, 19);
    assert.deepStrictEqual(pageRange({ page: 2, pageSize: 500, total: 1001 }), { start: 1000, end: 1001 });
    assert.strictEqual(rangeLabel({ page: 19, pageSize: 50, total: 1000 }), 'rows 951–1,000 of 1,000');
    assert.strictEqual(rangeLabel({ page: 0, pageSize: 50, total: 0 }), 'no rows');
  });

  it('keeps the first visible row when the page size changes', () => {
    assert.deepStrictEqual(resizePage({ ...s, page: 3 }, 25), { ...s, page: 6, pageSize: 25 }); // row 151
    assert.deepStrictEqual(resizePage({ ...s, page: 3 }, 500), { ...s, page: 0, pageSize: 500 });
  });
});

describe('renderer payload validation', () => {
  const good = { version: 1, columns: [{ name: 'a', type: 'INTEGER' }], rows: [[1]], rowCount: 1, truncated: false, elapsedMs: 1 };

  it('accepts a well-formed payload', () => {
    assert.deepStrictEqual(parsePayload(good), { ok: true, payload: good });
  });

  it('names what is wrong with a malformed one', () => {
    const cases: [unknown, RegExp][] = [
      [null, /not a JSON object/],
      [[1], /not a JSON object/],
      [{ ...good, version: 2 }, /unsupported result version 2/],
      [{ ...good, columns: [{ name: 'a' }] }, /column 1 has no name or type/],
      [{ ...good, rows: [[1, 2]] }, /row 1 has 2 values, expected 1/],
      [{ ...good, rows: ['x'] }, /row 1 is not a list/],
      [{ ...good, rowCount: 0 }, /rowCount/],
      [{ ...good, truncated: 'no' }, /truncated/],
      [{ ...good, elapsedMs: '1' }, /elapsedMs/],
      [{ ...good, view: 3 }, /view/],
    ];
    for (const [raw, expected] of cases) {
      const r = parsePayload(raw);
      assert.ok(!r.ok && expected.test(r.error), `${JSON.stringify(raw)} → ${JSON.stringify(r)}`);
    }
  });
});
