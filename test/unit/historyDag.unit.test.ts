// The version DAG built from real Loro notebook histories: grouping, forks
// and merges, lanes, paging, checkpoints, version at a time, restore.
import * as assert from 'assert';
import { parseSqlroomFile, serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import {
  createCheckpoint,
  dataAt,
  formatVersion,
  HistoryDag,
  historyInputFromLoro,
  notebookAt,
  parseVersion,
  restoreVersion,
  type DagRow,
  versionAt,
} from '../../server/shared/history';
import { changeCountOf, commitAt, peerDoc, syncInto, syntheticHistory, T0, teamHistory } from '../support/historyFixture';
import type { NotebookDoc } from '../../server/shared/notebookDoc';

function dagOf(nb: NotebookDoc, windowSeconds?: number): HistoryDag {
  return HistoryDag.build(historyInputFromLoro(nb.doc), windowSeconds === undefined ? {} : { windowSeconds });
}

function allRows(dag: HistoryDag): DagRow[] {
  return dag.page(0, 1000).rows;
}

/** Every line leaving a row's bottom enters the next row's top, and nothing else does. */
function assertLanesConnect(rows: DagRow[]): void {
  for (let i = 0; i + 1 < rows.length; i++) {
    const below = new Set([...rows[i].through, ...rows[i].out]);
    const above = new Set([...rows[i + 1].through, ...rows[i + 1].into]);
    assert.deepStrictEqual([...below].sort(), [...above].sort(), `lanes between rows ${i} and ${i + 1}`);
  }
  const last = rows[rows.length - 1];
  assert.deepStrictEqual([...last.through, ...last.out], [], 'no line leaves the oldest row');
  assert.deepStrictEqual(rows[0].into, [], 'no line enters the newest row');
}

describe('history DAG', () => {
  it('groups quick consecutive commits by one author; a message starts its own node', () => {
    const { alice } = teamHistory();
    const rows = allRows(dagOf(alice));
    const oldest = rows[rows.length - 1];
    assert.strictEqual(oldest.author, 'alice');
    assert.strictEqual(oldest.size, 3, 'the three typing commits are one node');
    assert.strictEqual(oldest.start, T0);
    assert.strictEqual(oldest.end, T0 + 20);
    const notes = rows[rows.length - 2];
    assert.strictEqual(notes.message, 'Add notes');
    assert.strictEqual(notes.size, 1);
    assert.deepStrictEqual(notes.parents, [oldest.id]);
    // A smaller window splits the typing into separate nodes.
    const fine = allRows(dagOf(alice, 5));
    assert.strictEqual(fine.filter((r) => r.author === 'alice' && !r.message).length >= 3, true);
    assert.strictEqual(fine[fine.length - 1].size, 1);
  });

  it('expands a group into its changes, each with its own version', () => {
    const { alice } = teamHistory();
    const dag = dagOf(alice);
    const group = allRows(dag).find((r) => r.size === 3)!;
    const members = dag.members(group.id);
    assert.deepStrictEqual(members.map((m) => m.timestamp), [T0, T0 + 10, T0 + 20]);
    assert.strictEqual(members[0].id, group.id);
    assert.strictEqual(members[2].version, group.version);
    const sources = members.map((m) => dataAt(alice, m.version).cells[0].source);
    assert.deepStrictEqual(sources, ['SELECT', 'SELECT 1', 'SELECT 1 AS one']);
  });

  it('shows a fork as two lanes and the merge as a node with two parents', () => {
    const { alice } = teamHistory();
    const dag = dagOf(alice);
    const rows = allRows(dag);
    assert.strictEqual(dag.total, 5, rows.map((r) => `${r.author}:${r.size}:${r.message ?? ''}`).join(' '));
    const [merge, ...rest] = rows;
    assert.strictEqual(merge.author, 'alice');
    assert.strictEqual(merge.head, true);
    assert.strictEqual(merge.current, true, 'the latest version is the current one');
    assert.strictEqual(merge.parents.length, 2, 'a merge joins two parents');
    const bobRow = rest.find((r) => r.author === 'bob')!;
    const aliceSide = rest.find((r) => r.author === 'alice' && r.start === T0 + 1005)!;
    assert.deepStrictEqual(new Set(merge.parents), new Set([bobRow.id, aliceSide.id]));
    assert.notStrictEqual(bobRow.lane, aliceSide.lane, 'concurrent branches are in different lanes');
    assert.strictEqual(merge.out.length, 2, 'two lines leave the merge');
    const notes = rows.find((r) => r.message === 'Add notes')!;
    assert.strictEqual(notes.into.length, 2, 'the fork point has two children joining it');
    assert.strictEqual(dag.width, 2);
    assertLanesConnect(rows);
    // Every parent is listed below its child.
    for (const r of rows) for (const p of r.parents) assert.ok(dag.row(p)!.index > r.index);
  });

  it('keeps a change whose dependant saw only part of it (Loro merged it later) as one parent', () => {
    const a = peerDoc('1', 'ann');
    a.doc.setChangeMergeInterval(1000);
    const id = a.insertCell(0, { source: 'x' });
    commitAt(a, T0);
    const b = peerDoc('2', 'ben', a); // b sees 1@0..k
    a.spliceCellSource(id, 1, 0, 'y');
    commitAt(a, T0 + 1); // merged into a's first change
    b.spliceCellSource(id, 0, 0, 'b');
    commitAt(b, T0 + 2);
    syncInto(a, b);
    const dag = dagOf(a);
    const rows = allRows(dag);
    assert.strictEqual(rows.length, 2);
    assert.deepStrictEqual(rows[0].parents, [rows[1].id]);
    assert.strictEqual(rows[0].author, 'ben');
    assert.strictEqual(rows[1].size, 1, 'a partial dependency is not a group boundary inside Loro changes');
  });

  it('pages through a long history without gaps or overlaps', () => {
    const nb = syntheticHistory(600, { peers: 3, syncEvery: 20, seed: 11 });
    const dag = dagOf(nb, 3);
    const rows: DagRow[] = [];
    let cursor: number | undefined = 0;
    let pages = 0;
    while (cursor !== undefined && pages < 1000) {
      const page = dag.page(cursor, 37);
      assert.ok(page.rows.length <= 37);
      assert.strictEqual(page.total, dag.total);
      assert.strictEqual(page.lanes, dag.width);
      rows.push(...page.rows);
      cursor = page.next;
      pages++;
    }
    assert.strictEqual(rows.length, dag.total);
    assert.deepStrictEqual(rows.map((r) => r.index), rows.map((_, i) => i));
    assert.ok(dag.total > 50, `grouping left ${dag.total} rows of ${changeCountOf(nb.doc)} changes`);
    assert.ok(rows.some((r) => r.parents.length > 1), 'the synthetic history has merges');
    assert.ok(dag.width > 1, 'and concurrent lanes');
    assertLanesConnect(rows);
    const ops = rows.reduce((s, r) => s + r.ops, 0);
    assert.strictEqual(ops, nb.doc.opCount(), 'every op is in exactly one row');
    assert.strictEqual(dag.headsVersion(), formatVersion(nb.doc.frontiers()));
  });

  it('opens any version with the same content and history as Loro\'s forkAt', () => {
    const nb = syntheticHistory(400, { peers: 3, syncEvery: 15, seed: 3 });
    const rows = allRows(dagOf(nb, 2));
    for (const r of [rows[0], rows[Math.floor(rows.length / 3)], rows[rows.length - 1], ...rows.filter((x) => x.parents.length > 1).slice(0, 3)]) {
      const at = notebookAt(nb, r.version);
      const fork = nb.doc.forkAt(parseVersion(r.version) as never);
      assert.deepStrictEqual(at.doc.toJSON(), fork.toJSON(), `content at ${r.version}`);
      assert.deepStrictEqual(formatVersion(at.doc.oplogFrontiers()), r.version, `history up to ${r.version}`);
      assert.strictEqual(at.doc.opCount(), fork.opCount());
    }
    assert.deepStrictEqual(notebookAt(nb, '').toData().cells, []);
  });

  it('labels a checkpoint, and the checkpoint survives save and reload', () => {
    const { alice } = teamHistory();
    const before = formatVersion(alice.doc.frontiers());
    const cp = createCheckpoint(alice, 'Before the refactor');
    assert.strictEqual(cp.version, before);
    // A VS Code sync (applyData with the cells) must not erase it.
    alice.applyData({ meta: alice.toData().meta, cells: alice.toData().cells.slice(1) }, { origin: 'vscode' });
    const bytes = serializeSqlroomFile(alice, 'doc-1');
    const reopened = parseSqlroomFile(bytes).notebook;
    const rows = allRows(dagOf(reopened));
    const labelled = rows.filter((r) => r.checkpoint);
    assert.deepStrictEqual(labelled.map((r) => r.checkpoint), ['Before the refactor']);
    assert.strictEqual(labelled[0].message, 'Checkpoint: Before the refactor');
    assert.deepStrictEqual(dataAt(reopened, labelled[0].version).cells, dataAt(reopened, before).cells);
    assert.throws(() => createCheckpoint(alice, '   '), /needs a name/);
  });

  it('finds the version at a time, leaving out changes whose past is later (clock skew)', () => {
    const { alice } = teamHistory();
    const dag = dagOf(alice);
    assert.strictEqual(dag.versionAt(T0 - 1), '');
    const early = dag.versionAt(T0 + 15);
    assert.strictEqual(dataAt(alice, early).cells[0].source, 'SELECT 1');
    // At T0+1002 bob's change (T0+1000) exists but alice's (T0+1005) not yet: two peers, one head.
    const mid = dag.versionAt(T0 + 1002);
    assert.strictEqual(parseVersion(mid).length, 1);
    assert.strictEqual(dataAt(alice, mid).cells.length, 3);
    // Both branches, not yet merged: two heads.
    const both = dag.versionAt(T0 + 1050);
    assert.strictEqual(parseVersion(both).length, 2);
    assert.strictEqual(dag.versionAt(T0 + 5000), formatVersion(alice.doc.frontiers()));

    // Clocks may disagree (a server merges histories from many machines): a
    // change stamped early but built on a later one is not in the earlier version.
    const skewed = [
      { peer: '1', counter: 0, length: 3, lamport: 0, timestamp: T0 + 500, deps: [] },
      { peer: '2', counter: 0, length: 1, lamport: 3, timestamp: T0 + 100, deps: [{ peer: '1', counter: 2 }] },
      { peer: '3', counter: 0, length: 2, lamport: 0, timestamp: T0 + 100, deps: [] },
    ];
    assert.strictEqual(versionAt(skewed, T0 + 200), '3@1');
    assert.strictEqual(versionAt(skewed, T0 + 600), '2@0,3@1');
  });

  it('restores an old version as one new change, losing nothing', () => {
    const { alice } = teamHistory();
    createCheckpoint(alice, 'cp');
    const rows = allRows(dagOf(alice));
    const old = rows.find((r) => r.message === 'Add notes')!;
    const latest = formatVersion(alice.doc.frontiers());
    const latestData = alice.toData();
    const changesBefore = changeCountOf(alice.doc);
    const { changed } = restoreVersion(alice, old.version, 'Add notes');
    assert.strictEqual(changed, true);
    assert.strictEqual(changeCountOf(alice.doc), changesBefore + 1, 'one new change');
    assert.deepStrictEqual(alice.toData().cells, dataAt(alice, old.version).cells);
    assert.deepStrictEqual(dataAt(alice, latest).cells, latestData.cells, 'the version before the restore is still there');
    assert.strictEqual(alice.authorOf('2'), 'bob', 'attribution is kept');
    const after = allRows(dagOf(alice));
    assert.strictEqual(after[0].message, 'Restored version Add notes');
    assert.ok(after.some((r) => r.checkpoint === 'cp'), 'checkpoints are kept');
    assert.throws(() => restoreVersion(alice, '9@99'), /not in this notebook's history/);
  });
});
