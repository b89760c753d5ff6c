// History a person can read: one-line summaries of what each row did, revert
// of one change (or a whole merge) keeping later edits, and line blame, on
// real multi-peer Loro histories with forks and joins, and on a real editing
// trace (automerge-paper, bench/traces/).
import * as assert from 'assert';
import { LoroMap, type LoroText } from 'loro-crdt';
import {
  blameNotebook,
  blameText,
  blameTextPerChar,
  CellLabeler,
  formatVersion,
  HistoryDag,
  historyInputFromLoro,
  revertChange,
  summarizeSpans,
  type DagRow,
} from '../../server/shared/history';
import type { NotebookDoc } from '../../server/shared/notebookDoc';
import { commitAt, peerDoc, syncInto, T0 } from '../support/historyFixture';
import { loadAutomergePaper, replayTrace } from '../support/traceFixture';

function rows(nb: NotebookDoc): { dag: HistoryDag; rows: DagRow[] } {
  const dag = HistoryDag.build(historyInputFromLoro(nb.doc), { windowSeconds: 0 });
  return { dag, rows: dag.page(0, 1000).rows };
}

function summaryOf(nb: NotebookDoc, dag: HistoryDag, row: DagRow): string {
  return summarizeSpans(nb.doc, dag.spans(row.id), new CellLabeler(nb.doc)).text;
}

function sourceText(nb: NotebookDoc, index: number): LoroText {
  return (nb.doc.getMovableList('cells').get(index) as LoroMap).get('source') as LoroText;
}

/** Ana and Ben build a notebook, edit concurrently, and sync (a join of concurrent edits). */
function twoPeers() {
  const ana = peerDoc('11', 'Ana');
  const trips = ana.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT *\nFROM trips', name: 'trips' });
  commitAt(ana, T0, 'Start');
  const x = ana.insertCell(1, { kind: 'code', language: 'sql', source: 'SELECT city, count(*)\nFROM trips\nGROUP BY city' });
  commitAt(ana, T0 + 100);
  ana.setCellProps(x, { name: 'x' });
  commitAt(ana, T0 + 200);
  ana.setCellProps(x, { name: 'daily' });
  commitAt(ana, T0 + 300);
  const ben = peerDoc('22', 'Ben', ana);
  // concurrent: Ben adds a WHERE to trips, Ana edits daily
  ben.spliceCellSource(trips, 'SELECT *\nFROM trips'.length, 0, '\nWHERE fare > 0');
  commitAt(ben, T0 + 400);
  ana.spliceCellSource(x, 0, 0, '-- by day\n');
  commitAt(ana, T0 + 410);
  syncInto(ana, ben);
  syncInto(ben, ana);
  ana.setCellProps(x, { language: 'python' });
  commitAt(ana, T0 + 500);
  const notes = ana.insertCell(2, { kind: 'markup', language: 'markdown', source: '# Notes' });
  commitAt(ana, T0 + 600);
  ana.moveCell(notes, 0);
  commitAt(ana, T0 + 700);
  ana.deleteCell(notes);
  commitAt(ana, T0 + 800);
  return { ana, ben, trips, x };
}

describe('history summaries', () => {
  it('says what each change did, in words, from Loro\'s record of the change', () => {
    const { ana } = twoPeers();
    const { dag, rows: rs } = rows(ana);
    const texts = rs.map((r) => `${r.author}: ${summaryOf(ana, dag, r)}`);
    // newest first
    assert.deepStrictEqual(texts, [
      'Ana: Deleted cell 1',
      'Ana: Moved cell 1',
      'Ana: Added cell 3',
      'Ana: Changed language of `daily` to python',
      'Ben: Edited `trips` (+15 −0)',
      'Ana: Edited `daily` (+10 −0)',
      'Ana: Renamed `x` → `daily`',
      'Ana: Named cell 2 `x`',
      'Ana: Added cell `daily`',
      'Ana: Added cell `trips`',
    ], texts.join('\n'));
  });

  it('marks a join of concurrent edits as a join, not a user merge, and never shows peer ids', () => {
    const { ana } = twoPeers();
    const joins = rows(ana).rows.filter((r) => r.parents.length > 1);
    // Ana's commit after the sync depends on both heads: the CRDT joined them.
    assert.strictEqual(joins.length, 1);
    assert.strictEqual(joins[0].join, true);
    assert.strictEqual(joins[0].message, undefined);
    for (const r of rows(ana).rows) assert.ok(!/\d{2,}/.test(r.author), r.author);
    const anon = peerDoc('33', 'x');
    anon.doc.getMap('meta').delete('authors');
    anon.insertCell(0, { source: 'SELECT 1' });
    commitAt(anon, T0);
    assert.deepStrictEqual(rows(anon).rows.map((r) => r.author), ['unknown author']);
  });

  it('lists every cell a grouped burst touched', () => {
    const ana = peerDoc('11', 'Ana');
    const a = ana.insertCell(0, { source: 'SELECT 1', name: 'a' });
    const b = ana.insertCell(1, { source: 'SELECT 2', name: 'b' });
    const c = ana.insertCell(2, { source: 'SELECT 3' });
    commitAt(ana, T0, 'Start');
    for (let i = 0; i < 5; i++) {
      ana.spliceCellSource([a, b, c][i % 3], 0, 0, '-');
      commitAt(ana, T0 + 100 + i * 10);
    }
    const dag = HistoryDag.build(historyInputFromLoro(ana.doc)); // default 300 s window: one group
    const burst = dag.page(0, 10).rows[0];
    assert.strictEqual(burst.size, 5);
    const s = summarizeSpans(ana.doc, dag.spans(burst.id));
    assert.strictEqual(s.text, 'Edited `a`, `b`, cell 3');
    assert.deepStrictEqual(s.cells.map((t) => [t.label, t.inserted]), [['`a`', 2], ['`b`', 2], ['cell 3', 1]]);
  });

  it('keeps a user message as the row title and summarises a checkpoint as naming the version', () => {
    const ana = peerDoc('11', 'Ana');
    ana.insertCell(0, { source: 'SELECT 1' });
    commitAt(ana, T0, 'First query');
    const { dag, rows: rs } = rows(ana);
    assert.strictEqual(rs[0].message, 'First query');
    assert.strictEqual(summaryOf(ana, dag, rs[0]), 'Added cell 1');
  });
});

describe('revert one change', () => {
  it('undoes just that change and keeps later edits by anyone', () => {
    const ana = peerDoc('11', 'Ana');
    const q = ana.insertCell(0, { source: 'SELECT *\nFROM trips', name: 'q' });
    commitAt(ana, T0);
    ana.spliceCellSource(q, 'SELECT *\nFROM trips'.length, 0, '\nWHERE bad');
    commitAt(ana, T0 + 100);
    const bad = formatVersion(ana.doc.frontiers());
    const ben = peerDoc('22', 'Ben', ana);
    ben.spliceCellSource(q, 0, 0, '-- ben\n');
    commitAt(ben, T0 + 200);
    ana.spliceCellSource(q, ana.toData().cells[0].source.length, 0, '\nLIMIT 5');
    commitAt(ana, T0 + 210);
    syncInto(ana, ben);
    assert.strictEqual(ana.toData().cells[0].source, '-- ben\nSELECT *\nFROM trips\nWHERE bad\nLIMIT 5');
    const { dag } = rows(ana);
    const row = dag.row(dag.page(0, 100).rows.find((r) => r.version === bad)!.id)!;
    const r = revertChange(ana, dag.versionBefore(row.id), row.version, 'Revert "WHERE bad"', 'Ana', T0 + 300);
    assert.ok(r.changed);
    assert.strictEqual(ana.toData().cells[0].source, '-- ben\nSELECT *\nFROM trips\nLIMIT 5');
    // One new change with the message, by a peer named Ana; Ben gets it by sync.
    const newest = rows(ana).rows[0];
    assert.strictEqual(newest.message, 'Revert "WHERE bad"');
    assert.strictEqual(newest.author, 'Ana');
    syncInto(ben, ana);
    assert.strictEqual(ben.toData().cells[0].source, ana.toData().cells[0].source);
  });

  it('brings back a deleted cell with its id and content, and removes an added one', () => {
    const { ana } = twoPeers();
    const { dag, rows: rs } = rows(ana);
    const before = ana.toData();
    assert.strictEqual(before.cells.length, 2);
    // "Added cell 3" (the notes cell), later moved and deleted: reverting the delete brings it back.
    const del = rs[0];
    revertChange(ana, dag.versionBefore(del.id), del.version, 'Revert delete', 'Ana');
    const after = ana.toData();
    assert.strictEqual(after.cells.length, 3);
    const notes = after.cells.find((c) => c.source === '# Notes');
    assert.ok(notes, JSON.stringify(after.cells));
    assert.strictEqual(notes.kind, 'markup');
    // authors are not rolled back
    assert.strictEqual((ana.doc.getMap('meta').get('authors') as LoroMap).get('22'), 'Ben');
    // Reverting the add of `daily` (row 'Added cell `daily`') removes that cell but keeps trips' later WHERE.
    const { dag: d2, rows: rs2 } = rows(ana);
    const add = rs2.find((r) => summaryOf(ana, d2, r) === 'Added cell `daily`')!;
    revertChange(ana, d2.versionBefore(add.id), add.version, 'Revert add', 'Ana');
    assert.deepStrictEqual(
      ana.toData().cells.map((c) => c.source).sort(),
      ['# Notes', 'SELECT *\nFROM trips\nWHERE fare > 0'],
    );
  });

  it('reverts a whole merge back to the kept parent, keeping the rest', () => {
    const main = peerDoc('11', 'Ana');
    const q = main.insertCell(0, { source: 'SELECT 1', name: 'q' });
    commitAt(main, T0);
    const branch = peerDoc('22', 'Ben', main);
    branch.insertCell(1, { source: 'SELECT 2', name: 'branch_only' });
    commitAt(branch, T0 + 10);
    branch.spliceCellSource(q, 8, 0, ' + 1');
    commitAt(branch, T0 + 20);
    main.insertCell(1, { source: 'SELECT 3', name: 'main_only' });
    commitAt(main, T0 + 30);
    const mainHead = formatVersion(main.doc.frontiers());
    syncInto(main, branch);
    main.doc.setNextCommitMessage('Merge fix into main');
    main.doc.getMap('merges').set('m', 1);
    commitAt(main, T0 + 40, 'Merge fix into main');
    main.spliceCellSource(q, 0, 0, '-- later\n');
    commitAt(main, T0 + 50);
    const { dag, rows: rs } = rows(main);
    const merge = rs.find((r) => r.message === 'Merge fix into main')!;
    assert.strictEqual(merge.parents.length, 2);
    assert.ok(!merge.join);
    const keep = merge.parents.find((p) => dag.row(p)!.version === mainHead)!;
    revertChange(main, dag.versionBefore(merge.id, keep), merge.version, 'Revert merge of fix', 'Ana');
    assert.deepStrictEqual(main.toData().cells.map((c) => [c.name, c.source]), [
      ['q', '-- later\nSELECT 1'],
      ['main_only', 'SELECT 3'],
    ]);
  });

  it('refuses a "before" that is not before', () => {
    const { ana } = twoPeers();
    const { rows: rs } = rows(ana);
    assert.throws(() => revertChange(ana, rs[0].version, rs[3].version, 'x', 'Ana'), /not before/);
  });
});

describe('blame', () => {
  it('names who last wrote each line and when, across peers and a join', () => {
    const { ana, trips, x } = twoPeers();
    const b = blameNotebook(ana.doc);
    const tripsLines = b.get(ana.toData().cells.find((c) => c.name === 'trips')!.id)!;
    assert.deepStrictEqual(tripsLines.map((l) => [l.line, l.author, l.timestamp - T0]), [
      [0, 'Ana', 0],
      [1, 'Ana', 0],
      [2, 'Ben', 400],
    ]);
    const daily = b.get(ana.toData().cells.find((c) => c.name === 'daily')!.id)!;
    assert.deepStrictEqual(daily.map((l) => [l.author, l.timestamp - T0]), [
      ['Ana', 410],
      ['Ana', 100],
      ['Ana', 100],
      ['Ana', 100],
    ]);
    assert.ok(trips && x);
  });

  it('gives the same answer as asking Loro character by character, on concurrent typing', () => {
    const a = peerDoc('11', 'Ana');
    const id = a.insertCell(0, { source: 'line one\nline two\n\nline four' });
    commitAt(a, T0);
    const b = peerDoc('22', 'Ben', a);
    for (let i = 0; i < 30; i++) {
      const who = i % 2 ? a : b;
      const src = who.toData().cells[0].source;
      const at = (i * 7) % (src.length + 1);
      who.spliceCellSource(id, at, i % 5 === 0 && at < src.length ? 1 : 0, i % 3 === 0 ? '\n' : 'é😀x'.slice(0, 1 + (i % 3)));
      commitAt(who, T0 + 10 + i);
      if (i % 4 === 3) {
        syncInto(a, b);
        syncInto(b, a);
      }
    }
    syncInto(a, b);
    const text = sourceText(a, 0);
    assert.deepStrictEqual(blameText(a.doc, text), blameTextPerChar(a.doc, text));
    assert.strictEqual(blameText(a.doc, text).length, text.toString().split('\n').length);
  });

  it('works on the automerge-paper trace and agrees with the per-character reference', function () {
    this.timeout(300_000);
    const trace = loadAutomergePaper();
    const { nb, edits } = replayTrace(trace, { limit: 20_000 });
    assert.strictEqual(edits, 20_000);
    const text = sourceText(nb, 0);
    const fast = blameText(nb.doc, text);
    const s = text.toString();
    assert.strictEqual(fast.length, s.split('\n').length - (s.endsWith('\n') ? 1 : 0));
    assert.deepStrictEqual(fast, blameTextPerChar(nb.doc, text));
    // The trace starts empty: every line was typed during the replay, after the first commit.
    assert.ok(fast.every((l) => l.author === 'martin' && l.timestamp > 1_780_000_000));
    // Summaries of the trace's rows: typing in the one cell.
    const dag = HistoryDag.build(historyInputFromLoro(nb.doc));
    const labels = new CellLabeler(nb.doc);
    for (const r of dag.page(0, 50).rows.slice(0, -1)) {
      assert.match(summarizeSpans(nb.doc, dag.spans(r.id), labels).text, /^Edited `paper` \(\+\d+ −\d+\)$/);
    }
  });
});
