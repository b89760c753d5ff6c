import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { LoroDoc } from 'loro-crdt';
import { findJsonSyntaxProblem } from '../../server/shared/jsonLocate';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import {
  FILE_IMPORT_MESSAGE,
  FILE_RECONCILE_MESSAGE,
  parseSqlroomFile,
  serializeSqlroomFile,
  SqlroomFileError,
  type SqlroomFileErrorCode,
  SQLROOM_FORMAT,
  SQLROOM_FORMAT_VERSION,
} from '../../server/shared/sqlroomFile';

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);
const DOC_ID = '6f1c1a52-8d0e-4a43-9a39-0b1f3f0f5a11';

const SAMPLES = [
  'select 1',
  '',
  '漢字のクエリ -- CJK comment\nselect * from 表',
  '-- emoji 😀👩‍👩‍👧 and flags 🇯🇵\nselect \'🎉\' as party',
  'שלום עולם -- RTL\nselect \'مرحبا\'',
  'e\u0301 a\u0308 combining marks',
  'windows\r\nline\r\nendings\r\n',
  '\n\nleading and trailing newlines\n\n',
  '"quotes" \\ backslashes \t tabs \u0000 nul',
];

/** A notebook with `n` cells, several commits and every kind of content. */
function buildNotebook(n: number): NotebookDoc {
  const nb = new NotebookDoc();
  nb.setAuthor('Ada Lovelace');
  nb.setMeta('title', 'Quarterly report — 第1四半期 📈');
  nb.setMeta('database', 'warehouse.duckdb');
  nb.setMeta('settings', { rowLimit: 1000, nested: { list: [1, 'two', null, true] } });
  nb.commit({ message: 'create' });
  for (let i = 0; i < n; i++) {
    const markup = i % 7 === 3;
    nb.insertCell(i, {
      kind: markup ? 'markup' : 'code',
      source: `${SAMPLES[i % SAMPLES.length]}${i % 3 === 0 ? ` -- cell ${i}` : ''}`,
      name: !markup && i % 5 === 0 ? `view_${i}` : undefined,
      metadata: i % 4 === 0 ? { collapsed: i % 8 === 0, tags: ['t', `${i}`] } : {},
    });
    if (i % 50 === 49) nb.commit({ message: `cells up to ${i}` });
  }
  nb.commit();
  const ids = nb.cellIds();
  if (ids.length > 2) {
    nb.spliceCellSource(ids[1], 0, 0, '-- edited\n');
    nb.moveCell(ids[0], ids.length - 1);
    nb.commit({ message: 'edit and move' });
  }
  return nb;
}

function expectFileError(bytes: Uint8Array | string, code: SqlroomFileErrorCode, pattern: RegExp): SqlroomFileError {
  let caught: unknown;
  try {
    parseSqlroomFile(typeof bytes === 'string' ? encode(bytes) : bytes);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SqlroomFileError, `expected SqlroomFileError ${code}, got ${String(caught)}`);
  assert.strictEqual(caught.code, code, caught.message);
  assert.match(caught.message, pattern);
  return caught;
}

/** A valid file as a JSON object, to be damaged by a test. */
function validFileJson(n = 4): Record<string, unknown> & { cells: Array<Record<string, unknown>> } {
  return JSON.parse(decode(serializeSqlroomFile(buildNotebook(n), DOC_ID)));
}

function withoutLoro(o: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...o };
  delete copy.loro;
  return copy;
}

describe('.sqlroom file: round trip', () => {
  it('300 cells of unicode, names, metadata and meta come back identical, history included', () => {
    const nb = buildNotebook(300);
    const bytes = serializeSqlroomFile(nb, DOC_ID, { server: 'wss://sync.example.test/rooms' });
    const parsed = parseSqlroomFile(bytes);
    assert.strictEqual(parsed.reconciled, false);
    assert.strictEqual(parsed.isNew, false);
    assert.strictEqual(parsed.docId, DOC_ID);
    assert.strictEqual(parsed.server, 'wss://sync.example.test/rooms');
    assert.deepStrictEqual(parsed.notebook.toData(), nb.toData());
    assert.strictEqual(parsed.notebook.toData().cells.length, 300);
    assert.deepStrictEqual(parsed.notebook.doc.frontiers(), nb.doc.frontiers());
    assert.strictEqual(parsed.notebook.doc.changeCount(), nb.doc.changeCount());
    assert.strictEqual(parsed.notebook.authorOf(nb.doc.peerIdStr), 'Ada Lovelace');
  });

  it('saving an unchanged notebook again gives the same bytes', () => {
    const first = serializeSqlroomFile(buildNotebook(20), DOC_ID);
    const second = serializeSqlroomFile(parseSqlroomFile(first).notebook, DOC_ID);
    assert.strictEqual(decode(second), decode(first));
  });

  it('writes readable JSON: 2-space indent, lines of source, loro last, trailing newline', () => {
    const nb = new NotebookDoc();
    nb.insertCell(0, { id: 'c1', source: 'select 1,\r\n  2', name: 'q' });
    nb.insertCell(1, { id: 'c2', kind: 'markup', source: '' });
    nb.commit();
    const text = decode(serializeSqlroomFile(nb, DOC_ID));
    assert.ok(text.endsWith('}\n'));
    assert.ok(text.startsWith(`{\n  "format": "${SQLROOM_FORMAT}",\n  "version": ${SQLROOM_FORMAT_VERSION},\n  "docId": "${DOC_ID}",`));
    const json = JSON.parse(text);
    assert.deepStrictEqual(Object.keys(json), ['format', 'version', 'docId', 'meta', 'cells', 'loro']);
    assert.deepStrictEqual(json.cells, [
      { id: 'c1', kind: 'code', language: 'sql', name: 'q', source: ['select 1,\r', '  2'] },
      { id: 'c2', kind: 'markup', language: 'markdown', source: [] },
    ]);
    assert.match(text, /\n {6}"source": \[\n {8}"select 1,\\r",\n {8}" {2}2"\n {6}\]/);
  });

  it('an empty file is a new empty notebook with a fresh id', () => {
    for (const content of [new Uint8Array(), encode('  \n\t\r\n'), new Uint8Array([0xef, 0xbb, 0xbf])]) {
      const parsed = parseSqlroomFile(content);
      assert.strictEqual(parsed.isNew, true);
      assert.strictEqual(parsed.reconciled, false);
      assert.deepStrictEqual(parsed.notebook.toData(), { meta: {}, cells: [] });
      assert.match(parsed.docId, /^[0-9a-f-]{36}$/);
    }
    assert.notStrictEqual(parseSqlroomFile(new Uint8Array()).docId, parseSqlroomFile(new Uint8Array()).docId);
  });

  it('a hand-written file without a snapshot builds a fresh notebook', () => {
    const text = JSON.stringify({
      format: SQLROOM_FORMAT,
      version: 1,
      meta: { title: 'By hand' },
      cells: [
        { kind: 'markup', source: '# Notes' },
        { id: 'given', source: ['select 1', 'from t'], name: 'first' },
        { source: 'select 2' },
      ],
    });
    const parsed = parseSqlroomFile(encode(text));
    assert.strictEqual(parsed.isNew, false);
    assert.strictEqual(parsed.reconciled, true);
    assert.match(parsed.docId, /^[0-9a-f-]{36}$/);
    const data = parsed.notebook.toData();
    assert.deepStrictEqual(data.meta, { title: 'By hand' });
    assert.deepStrictEqual(
      data.cells.map(({ kind, language, source, name }) => ({ kind, language, source, name })),
      [
        { kind: 'markup', language: 'markdown', source: '# Notes', name: undefined },
        { kind: 'code', language: 'sql', source: 'select 1\nfrom t', name: 'first' },
        { kind: 'code', language: 'sql', source: 'select 2', name: undefined },
      ],
    );
    assert.strictEqual(data.cells[1].id, 'given');
    assert.strictEqual(new Set(data.cells.map((c) => c.id)).size, 3);
    assert.strictEqual(parsed.notebook.doc.changeCount(), 1);
    assert.strictEqual(parsed.notebook.doc.getChangeAt(parsed.notebook.doc.frontiers()[0]).message, FILE_IMPORT_MESSAGE);
  });
});

describe('.sqlroom file: docs/file-format.md', () => {
  it('its example is a file this code reads without changes', () => {
    // out/test/unit -> repository root
    const docPath = path.resolve(__dirname, '..', '..', '..', 'docs', 'file-format.md');
    const markdown = fs.readFileSync(docPath, 'utf8');
    const example = /```json\n([\s\S]*?)\n```/.exec(markdown);
    assert.ok(example, 'the page has a ```json example');
    const bytes = encode(example[1] + '\n');
    const parsed = parseSqlroomFile(bytes);
    assert.strictEqual(parsed.reconciled, false);
    assert.strictEqual(parsed.notebook.toData().cells.length, 2);
    assert.strictEqual(decode(serializeSqlroomFile(parsed.notebook, parsed.docId, { server: parsed.server })), example[1] + '\n');
  });
});

describe('.sqlroom file: edits made outside SQLRoom', () => {
  it('applies a hand edit (source, order, add, delete, meta) as one change by "file"', () => {
    const nb = buildNotebook(6);
    const original = nb.toData();
    const json = JSON.parse(decode(serializeSqlroomFile(nb, DOC_ID)));
    // The edit a person (or git merge) makes in the plain part:
    json.cells[0].source = ['select 42 -- changed by hand'];
    const [moved] = json.cells.splice(4, 1);
    json.cells.unshift(moved);
    json.cells.splice(2, 1); // delete
    json.cells.push({ kind: 'code', language: 'sql', source: ['select \'added\''] });
    json.meta.title = 'Renamed by hand';

    const parsed = parseSqlroomFile(encode(JSON.stringify(json, null, 2)));
    assert.strictEqual(parsed.reconciled, true);
    const data = parsed.notebook.toData();
    assert.strictEqual(data.meta.title, 'Renamed by hand');
    assert.deepStrictEqual(
      data.cells.map((c) => c.source),
      json.cells.map((c: { source: string[] }) => c.source.join('\n')),
    );
    assert.deepStrictEqual(data.cells.slice(0, -1).map((c) => c.id), json.cells.slice(0, -1).map((c: { id: string }) => c.id));

    // History: everything before, plus exactly one change with the message.
    const doc = parsed.notebook.doc;
    assert.strictEqual(doc.changeCount(), nb.doc.changeCount() + 1);
    const change = doc.getChangeAt(doc.frontiers()[0]) // the "file" change (its peer id derives from the file);
    assert.strictEqual(change.message, FILE_RECONCILE_MESSAGE);
    assert.ok(change.timestamp > 0);
    doc.checkout(nb.doc.frontiers());
    assert.deepStrictEqual(parsed.notebook.toData(), original, 'the old version is still in the history');
    doc.checkoutToLatest();
  });

  it('an unchanged file is not reconciled and gets no new change', () => {
    const nb = buildNotebook(5);
    const parsed = parseSqlroomFile(serializeSqlroomFile(nb, DOC_ID));
    assert.strictEqual(parsed.reconciled, false);
    assert.strictEqual(parsed.notebook.doc.changeCount(), nb.doc.changeCount());
  });

  it('reformatting (source as one string, keys reordered, no indent) is not a change', () => {
    const json = validFileJson(5);
    for (const cell of json.cells) cell.source = (cell.source as string[]).join('\n');
    const reordered = { loro: json.loro, cells: json.cells, meta: json.meta, docId: json.docId, version: json.version, format: json.format };
    assert.strictEqual(parseSqlroomFile(encode(JSON.stringify(reordered))).reconciled, false);
  });

  it('a file without "meta" keeps the snapshot meta', () => {
    const json = validFileJson(2);
    const meta = json.meta;
    delete json.meta;
    const parsed = parseSqlroomFile(encode(JSON.stringify(json)));
    assert.strictEqual(parsed.reconciled, false);
    assert.deepStrictEqual(parsed.notebook.toData().meta, meta);
  });

  it('a git merge of two edited copies keeps both edits', () => {
    const base = JSON.parse(decode(serializeSqlroomFile(buildNotebook(4), DOC_ID)));
    // Branch A edited cell 0 in SQLRoom (new snapshot); branch B edited cell 3 by hand.
    const a = parseSqlroomFile(encode(JSON.stringify(base))).notebook;
    a.setCellSource(base.cells[0].id, 'select \'from A\'');
    a.commit({ message: 'A' });
    const merged = JSON.parse(decode(serializeSqlroomFile(a, DOC_ID)));
    merged.cells[3].source = ['select \'from B\''];
    const result = parseSqlroomFile(encode(JSON.stringify(merged)));
    assert.strictEqual(result.reconciled, true);
    const sources = result.notebook.toData().cells.map((c) => c.source);
    assert.strictEqual(sources[0], "select 'from A'");
    assert.strictEqual(sources[3], "select 'from B'");
  });
});

describe('.sqlroom file: damaged and foreign files', () => {
  it('not UTF-8: names the byte and its offset', () => {
    const bytes = encode('{"format": "sqlroom-notebook", "x": "ab"}');
    bytes[32] = 0xff;
    expectFileError(bytes, 'not-utf8', /not UTF-8.*0xFF at byte offset 32/);
    expectFileError(new Uint8Array([0xc3, 0x28]), 'not-utf8', /0xC3 at byte offset 0/);
    expectFileError(new Uint8Array([0xff, 0xfe, 0x7b, 0x00]), 'not-utf8', /UTF-16/);
    // An overlong encoding and an encoded surrogate are not UTF-8 either.
    expectFileError(new Uint8Array([0x7b, 0xc0, 0xaf, 0x7d]), 'not-utf8', /byte offset 1/);
    expectFileError(new Uint8Array([0x7b, 0xed, 0xa0, 0x80, 0x7d]), 'not-utf8', /byte offset 1/);
  });

  it('not JSON: gives line and column', () => {
    expectFileError('{\n  "format": "sqlroom-notebook",\n  "version": 1 x\n}', 'not-json', /line 3, column 16: expected ',' or '}' after an object member, found 'x'/);
    expectFileError('{"a": 1,}', 'not-json', /line 1, column 9: trailing comma/);
    expectFileError('{"a": "line\nbreak"}', 'not-json', /line 1, column 12: a control character/);
    expectFileError('{} {}', 'not-json', /after the end of the JSON value/);
    expectFileError('SELECT 1;', 'not-json', /line 1, column 1: expected a value, found 'S'/);
  });

  it('truncated: a file cut short says so', () => {
    const full = decode(serializeSqlroomFile(buildNotebook(3), DOC_ID));
    for (const cut of [Math.floor(full.length / 2), full.length - 3, 40, 1]) {
      expectFileError(full.slice(0, cut), 'truncated', /The file is truncated: its JSON ends at line \d+, column \d+/);
    }
  });

  it('JSON but not a notebook: says what it is', () => {
    const ipynb = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', source: ['1+1'] }] };
    expectFileError(JSON.stringify(ipynb), 'not-sqlroom', /Jupyter notebook \(nbformat 4\), not a SQLRoom notebook/);
    expectFileError('[1, 2]', 'not-sqlroom', /top-level value is an array/);
    expectFileError('{"name": "package"}', 'not-sqlroom', /no "format" field/);
    expectFileError('{"format": "other-notebook", "version": 1}', 'not-sqlroom', /"format" is "other-notebook"/);
  });

  it('a newer version is refused with the version numbers', () => {
    expectFileError(JSON.stringify({ ...validFileJson(1), version: 2 }), 'unsupported-version', /version 2, newer than .*version 1/);
  });

  it('each bad field is named by its JSON path', () => {
    const cases: Array<[(j: Record<string, unknown> & { cells: Array<Record<string, unknown>> }) => void, RegExp]> = [
      [(j) => (j.cells[3].source = 5), /^cells\[3\]\.source must be a string or an array of strings/],
      [(j) => (j.cells[2].source = ['ok', 7]), /cells\[2\]\.source must be a string or an array of strings \(cells\[2\]\.source\[1\] is number 7\)/],
      [(j) => (j.cells[1].kind = 'python'), /cells\[1\]\.kind must be "code" or "markup", got "python"/],
      [(j) => (j.cells[0].id = 12), /cells\[0\]\.id must be a string/],
      [(j) => (j.cells[0].name = { x: 1 }), /cells\[0\]\.name must be a string or null/],
      [(j) => (j.cells[0].language = false), /cells\[0\]\.language must be a string/],
      [(j) => (j.cells[2].metadata = [1]), /cells\[2\]\.metadata must be an object, got an array/],
      [(j) => (j.cells[1] = 'select 1' as never), /cells\[1\] must be an object/],
      [(j) => (j.cells = {} as never), /cells must be an array, got an object/],
      [(j) => delete (j as Record<string, unknown>).cells, /cells is missing/],
      [(j) => (j.version = '1'), /version must be a positive integer, got "1"/],
      [(j) => delete j.version, /version is missing/],
      [(j) => delete j.docId, /docId is missing/],
      [(j) => (j.docId = 'has spaces/and slashes'), /docId must be .* got "has spaces\/and slashes"/],
      [(j) => (j.server = 'http://example.test'), /server must be a ws:\/\/ or wss:\/\/ URL/],
      [(j) => (j.meta = 'title'), /meta must be an object/],
      [(j) => (j.meta = { authors: { '1': 2 } }), /meta\.authors\["1"\] must be a string/],
      [(j) => (j.loro = 42), /loro must be a base64 string/],
    ];
    for (const [damage, pattern] of cases) {
      const json = validFileJson(4);
      damage(json);
      expectFileError(JSON.stringify(json), 'bad-field', pattern);
    }
  });

  it('duplicate cell ids are refused', () => {
    const json = validFileJson(4);
    json.cells[3].id = json.cells[1].id;
    expectFileError(JSON.stringify(json), 'duplicate-id', new RegExp(`cells\\[3\\]\\.id "${json.cells[1].id}" is also the id of cells\\[1\\]`));
  });

  it('loro that is not base64', () => {
    const json = validFileJson(2);
    expectFileError(JSON.stringify({ ...json, loro: 'bG9yb%%%' }), 'bad-base64', /invalid character "%" at position 5/);
    expectFileError(JSON.stringify({ ...json, loro: (json.loro as string).slice(0, -1) }), 'bad-base64', /not a multiple of 4/);
  });

  it('a damaged snapshot gives Loro\'s error', () => {
    const json = validFileJson(2);
    const snapshot = Buffer.from(json.loro as string, 'base64');
    const cut = snapshot.subarray(0, snapshot.length - 40);
    const truncatedLoro = cut.toString('base64');
    expectFileError(JSON.stringify({ ...json, loro: truncatedLoro }), 'bad-snapshot', /snapshot in "loro" cannot be loaded: the snapshot is damaged: Decode error/);
    expectFileError(JSON.stringify({ ...json, loro: Buffer.from('not a loro snapshot').toString('base64') }), 'bad-snapshot', /damaged/);
  });

  it('a snapshot of some other Loro document', () => {
    const other = new LoroDoc();
    other.getText('text').insert(0, 'hello');
    const json = { ...validFileJson(1), loro: Buffer.from(other.export({ mode: 'snapshot' })).toString('base64') };
    expectFileError(JSON.stringify(json), 'snapshot-not-notebook', /not a SQLRoom notebook: it has no "cells" or "meta" root, only "text"/);
  });

  it('random damage never yields anything but a notebook or a SqlroomFileError', () => {
    const bytes = serializeSqlroomFile(buildNotebook(3), DOC_ID);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (flips) => {
        const damaged = bytes.slice();
        for (const [at, value] of flips) damaged[at] = value;
        try {
          const parsed = parseSqlroomFile(damaged);
          return parsed.notebook.toData().cells.length > 0; // damage landed somewhere harmless or was reconciled
        } catch (e) {
          return e instanceof SqlroomFileError && e.message.length > 0;
        }
      }),
      { numRuns: 100 },
    );
  });

  it('refuses to write a bad docId or server', () => {
    const nb = buildNotebook(1);
    assert.throws(() => serializeSqlroomFile(nb, ''), /docId must be/);
    assert.throws(() => serializeSqlroomFile(nb, DOC_ID, { server: 'ftp://x' }), /server must be a ws/);
  });

  it('does not mistake a hand-written file without snapshot for a damaged one', () => {
    const json = withoutLoro(validFileJson(3));
    const parsed = parseSqlroomFile(encode(JSON.stringify(json)));
    assert.strictEqual(parsed.docId, DOC_ID);
    assert.strictEqual(parsed.notebook.toData().cells.length, 3);
  });
});

describe('JSON syntax locator', () => {
  const parses = (s: string): boolean => {
    try {
      JSON.parse(s);
      return true;
    } catch {
      return false;
    }
  };

  it('agrees with JSON.parse on valid JSON and on damaged JSON', () => {
    fc.assert(fc.property(fc.json(), (s) => findJsonSyntaxProblem(s) === undefined), { numRuns: 200 });
    const damaged = fc.tuple(fc.json(), fc.nat(), fc.nat({ max: 3 }), fc.constantFrom('', '"', ',', '}', ']', '{', 'x', '\\', '\n', '0', '-', 'e', 'tru'));
    fc.assert(
      fc.property(damaged, ([json, at, del, insert]) => {
        const i = at % (json.length + 1);
        const s = json.slice(0, i) + insert + json.slice(i + del);
        return (findJsonSyntaxProblem(s) === undefined) === parses(s);
      }),
      { numRuns: 300 },
    );
  });

  it('reports truncation for every proper prefix of a JSON object', () => {
    const text = JSON.stringify({ a: [1, -2.5e3, 'x\\"y', null, true, false], b: { c: '😀' } });
    for (let cut = 1; cut < text.length; cut++) {
      const problem = findJsonSyntaxProblem(text.slice(0, cut));
      assert.ok(problem && problem.truncated, `prefix of length ${cut}`);
    }
  });

  it('survives deep nesting without recursion', () => {
    const problem = findJsonSyntaxProblem('['.repeat(200_000));
    assert.ok(problem?.truncated);
    assert.strictEqual(findJsonSyntaxProblem('['.repeat(50_000) + ']'.repeat(50_000)), undefined);
  });
});
