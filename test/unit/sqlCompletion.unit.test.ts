// Completion and hover answers from a real DuckDB session (the notebook's own).
import * as assert from 'assert';
import { DuckDbSession } from '../../extension/core/duckdbSession';
import { describeRelation, relationMarkdown, statementBeforeCursor, suggest } from '../../extension/core/sqlCompletion';

describe('SQL completion and hover from the notebook DuckDB', function () {
  this.timeout(30_000);
  let session: DuckDbSession;
  before(async () => {
    session = await DuckDbSession.open();
    await session.run('CREATE TABLE trips AS SELECT 1 AS trip_id, 2.5 AS fare_amount');
    await session.run('SELECT trip_id AS ride FROM trips', { viewName: 'rides' });
  });
  after(async () => session.close());

  it('offers columns, tables and named cells (views), functions and keywords', async () => {
    const columns = await suggest(session, 'SELECT * FROM trips WHERE fa');
    assert.deepStrictEqual(columns[0], { label: 'fare_amount', kind: 'column', start: 26 });
    assert.ok(columns.some((s) => s.kind === 'function' && s.label === 'factorial'));
    assert.ok(columns.some((s) => s.kind === 'keyword' && s.label === 'false'));
    const tables = (await suggest(session, 'SELECT * FROM ')).filter((s) => s.kind === 'table').map((s) => s.label);
    assert.ok(tables.includes('trips') && tables.includes('rides'), tables.join(', '));
  });

  it('answers while a cell query is running (a second connection)', async () => {
    const running = session.run('SELECT count(*) FROM range(3000000000)');
    const answered = await suggest(session, 'SELECT * FROM tri');
    assert.strictEqual(answered[0].label, 'trips');
    session.interrupt();
    await running.catch(() => undefined);
  });

  it('completes within the statement under the cursor', () => {
    assert.deepStrictEqual(statementBeforeCursor('SELECT 1;\nSELECT fa FROM t', 19), { text: '\nSELECT fa', base: 9 });
  });

  it('hover: a table and a named cell with their columns and types', async () => {
    const trips = await describeRelation(session, 'TRIPS');
    assert.deepStrictEqual(trips, { name: 'trips', kind: 'table', columns: [{ name: 'trip_id', type: 'INTEGER' }, { name: 'fare_amount', type: 'DECIMAL(2,1)' }] });
    const rides = await describeRelation(session, 'rides');
    assert.strictEqual(rides?.kind, 'view');
    assert.match(relationMarkdown(rides!, true), /\*\*rides\*\* — named cell \(view\), 1 column\n\n\| column \| type \|\n\|---\|---\|\n\| ride \| INTEGER \|/);
    assert.strictEqual(await describeRelation(session, 'nothing_here'), undefined);
  });
});
