// Kept results: the `outputs` section of a .sqlroom file (outside the Loro
// history), capped in size, read leniently, and files without it still open.
import * as assert from 'assert';
import { DuckDbSession } from '../../extension/core/duckdbSession';
import { toErrorPayload } from '../../extension/core/errorPayload';
import { keepOutput, readKeptOutputs, restoreOutput } from '../../extension/core/keptOutputs';
import { ERROR_MIME, RESULT_MIME, type ResultPayload } from '../../extension/core/resultPayload';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { parseSqlroomFile, serializeSqlroomFile } from '../../server/shared/sqlroomFile';

const DOC = '6f1c1a52-8d0e-4a43-9a39-0b1f3f0f5a11';

function notebook(): { nb: NotebookDoc; ids: string[] } {
  const nb = new NotebookDoc();
  nb.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT 1' });
  nb.insertCell(1, { kind: 'code', language: 'sql', source: 'SELEC 2' });
  nb.commit();
  return { nb, ids: nb.cellIds() };
}

describe('kept results (outputs section)', function () {
  this.timeout(30_000);
  let session: DuckDbSession;
  let big: ResultPayload;
  before(async () => {
    session = await DuckDbSession.open();
    big = await session.run("SELECT i, 'row ' || i AS label FROM range(5000) t(i)");
  });
  after(async () => session.close());

  it('round-trips through the file before "loro", outside the Loro history', async () => {
    const { nb, ids } = notebook();
    const result = { ...(await session.run('SELECT 42 AS answer')), run: { ranAt: Date.UTC(2026, 10, 29, 10, 2), ranBy: 'ana' } };
    const error = toErrorPayload(await session.run('SELEC 2').catch((e: unknown) => e), 'SELEC 2', { ranAt: Date.UTC(2026, 10, 29, 10, 3) });
    const outputs = { [ids[0]]: keepOutput(RESULT_MIME, result, 10_000), [ids[1]]: keepOutput(ERROR_MIME, error, 10_000), 'no-such-cell': keepOutput(RESULT_MIME, result, 10_000) };
    const before = JSON.stringify(nb.doc.oplogFrontiers());
    const bytes = serializeSqlroomFile(nb, DOC, { outputs });
    assert.strictEqual(JSON.stringify(nb.doc.oplogFrontiers()), before, 'no Loro change: outputs are not edits');
    const json = JSON.parse(new TextDecoder().decode(bytes));
    assert.deepStrictEqual(Object.keys(json).slice(-2), ['outputs', 'loro'], 'outputs sit just before loro');
    assert.deepStrictEqual(Object.keys(json.outputs), [ids[0], ids[1]], 'only cells that exist, in cell order');
    assert.strictEqual(json.outputs[ids[0]].ranAt, '2026-11-29T10:02:00.000Z');
    assert.strictEqual(json.outputs[ids[0]].ranBy, 'ana');
    assert.strictEqual(json.outputs[ids[0]].data.run, undefined, 'the stamp is stored once, beside the data');

    const parsed = parseSqlroomFile(bytes);
    assert.strictEqual(parsed.reconciled, false, 'outputs are not edits');
    const kept = readKeptOutputs(parsed.outputs, new Set(ids));
    const shown = restoreOutput(kept[ids[0]]) as ResultPayload;
    assert.deepStrictEqual(shown.rows, [[42]]);
    assert.deepStrictEqual(shown.run, { ranAt: Date.UTC(2026, 10, 29, 10, 2), ranBy: 'ana', kept: true });
    const shownError = restoreOutput(kept[ids[1]]);
    assert.strictEqual((shownError as { title: string }).title, 'Parser Error');
    assert.deepStrictEqual((shownError as { position?: unknown }).position, { line: 0, column: 0 });
  });

  it('caps a large result to the rows that fit, saying how many there were', () => {
    const kept = keepOutput(RESULT_MIME, big, 20_000)!;
    const data = kept.data as ResultPayload;
    assert.ok(new TextEncoder().encode(JSON.stringify(data)).length <= 20_000);
    assert.ok(data.rows.length > 100 && data.rows.length < 5000, `kept ${data.rows.length} rows`);
    assert.strictEqual(data.rowCount, 5000);
    assert.strictEqual(data.truncated, true);
    assert.strictEqual(keepOutput(RESULT_MIME, big, 10), undefined, 'nothing fits: not kept');
    assert.strictEqual((keepOutput(RESULT_MIME, big, 10_000_000)!.data as ResultPayload).rows.length, 5000);
  });

  it('drops malformed entries instead of refusing the file', () => {
    const { nb, ids } = notebook();
    const text = new TextDecoder().decode(serializeSqlroomFile(nb, DOC));
    const json = JSON.parse(text);
    json.outputs = {
      [ids[0]]: { mime: RESULT_MIME, ranAt: 'x', data: { columns: 'nope' } },
      [ids[1]]: { mime: 'text/html', ranAt: '2026-01-01T00:00:00Z', data: {} },
    };
    const parsed = parseSqlroomFile(new TextEncoder().encode(JSON.stringify(json)));
    assert.deepStrictEqual(readKeptOutputs(parsed.outputs, new Set(ids)), {});
    json.outputs = 'not an object';
    assert.strictEqual(parseSqlroomFile(new TextEncoder().encode(JSON.stringify(json))).outputs, undefined);
  });

  it('a file without outputs (written before kept results) opens as before and writes the same bytes', () => {
    const { nb } = notebook();
    const bytes = serializeSqlroomFile(nb, DOC);
    const parsed = parseSqlroomFile(bytes);
    assert.strictEqual(parsed.outputs, undefined);
    const plain = (b: Uint8Array) => {
      const { loro: _loro, ...rest } = JSON.parse(new TextDecoder().decode(b));
      return rest;
    };
    assert.deepStrictEqual(plain(serializeSqlroomFile(parsed.notebook, DOC, { outputs: {} })), plain(bytes), 'no outputs section is written');
  });
});
