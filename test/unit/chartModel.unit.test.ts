// The renderer's chart logic without a DOM: default chart from column types,
// choices fitted to the columns, values turned into numbers and dates.
import * as assert from 'assert';
import { axisKind, chartData, defaultChart, fitChart, MAX_CHART_ROWS, parseTime, plotValue } from '../../media/renderer/chartModel';

const col = (name: string, type: string) => ({ name, type });

describe('chart model', () => {
  it('tells numbers, times and categories apart by DuckDB type', () => {
    assert.deepStrictEqual(['BIGINT', 'DECIMAL(18,3)', 'DATE', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP_NS', 'VARCHAR', 'BOOLEAN', 'INTEGER[]'].map(axisKind),
      ['number', 'number', 'time', 'time', 'time', 'category', 'category', 'category']);
  });

  it('picks a sensible default from the types', () => {
    assert.deepStrictEqual(defaultChart([col('city', 'VARCHAR'), col('day', 'DATE'), col('n', 'BIGINT')]), { mark: 'line', x: 'day', y: 'n' });
    assert.deepStrictEqual(defaultChart([col('city', 'VARCHAR'), col('n', 'BIGINT')]), { mark: 'bar', x: 'city', y: 'n' });
    assert.deepStrictEqual(defaultChart([col('a', 'DOUBLE'), col('b', 'INTEGER')]), { mark: 'point', x: 'a', y: 'b' });
    assert.deepStrictEqual(defaultChart([col('a', 'DOUBLE')]), { mark: 'histogram', x: 'a' });
    assert.deepStrictEqual(defaultChart([col('s', 'VARCHAR')]), { mark: 'histogram', x: 's' });
    assert.strictEqual(defaultChart([]), undefined);
  });

  it('fits a stored choice to the columns the result has now', () => {
    const cols = [col('city', 'VARCHAR'), col('n', 'BIGINT')];
    assert.deepStrictEqual(fitChart({ mark: 'point', x: 'n', y: 'city' }, cols), { mark: 'point', x: 'n', y: 'city' });
    assert.deepStrictEqual(fitChart({ mark: 'line', x: 'gone', y: 'n' }, cols), { mark: 'line', x: 'city', y: 'n' });
    assert.deepStrictEqual(fitChart({ mark: 'histogram', x: 'n', y: 'city' }, cols), { mark: 'histogram', x: 'n' });
    assert.deepStrictEqual(fitChart(undefined, cols), { mark: 'bar', x: 'city', y: 'n' });
  });

  it('reads DuckDB date and time text as UTC instants', () => {
    assert.strictEqual(parseTime('2024-03-01')!.toISOString(), '2024-03-01T00:00:00.000Z');
    assert.strictEqual(parseTime('2024-03-01 10:00:00.5')!.toISOString(), '2024-03-01T10:00:00.500Z');
    assert.strictEqual(parseTime('2024-03-01 10:00:00+01')!.toISOString(), '2024-03-01T09:00:00.000Z');
    assert.strictEqual(parseTime('12:30:00')!.toISOString(), '1970-01-01T12:30:00.000Z');
    assert.strictEqual(parseTime('infinity'), null);
  });

  it('turns exact-number strings into numbers and skips NULLs', () => {
    assert.strictEqual(plotValue('12345678901234567890', 'number'), 12345678901234567000);
    assert.strictEqual(plotValue('1.50', 'number'), 1.5);
    assert.strictEqual(plotValue(null, 'number'), null);
    const data = chartData([col('d', 'DATE'), col('n', 'HUGEINT')], [['2024-01-03', '3'], ['2024-01-01', '1'], [null, '9'], ['2024-01-02', null]], { mark: 'line', x: 'd', y: 'n' });
    assert.deepStrictEqual(data.points.map((p) => [(p.x as Date).toISOString().slice(0, 10), p.y]), [['2024-01-01', 1], ['2024-01-03', 3]].sort());
    assert.strictEqual(data.skipped, 2);
    assert.strictEqual(data.repeatedX, false);
    assert.strictEqual(chartData([col('c', 'VARCHAR'), col('n', 'INTEGER')], [['a', 1], ['b', 2], ['a', 3]], { mark: 'bar', x: 'c', y: 'n' }).repeatedX, true);
    assert.throws(() => chartData([col('a', 'INTEGER')], [[1]], { mark: 'bar', x: 'a', y: 'b' }), /no column "b"/);
  });

  it('draws at most MAX_CHART_ROWS rows and says how many it left out', () => {
    const rows = Array.from({ length: MAX_CHART_ROWS + 5 }, (_, i) => [i]);
    const data = chartData([col('a', 'INTEGER')], rows, { mark: 'histogram', x: 'a' });
    assert.strictEqual(data.points.length, MAX_CHART_ROWS);
    assert.strictEqual(data.skipped, 5);
  });
});
