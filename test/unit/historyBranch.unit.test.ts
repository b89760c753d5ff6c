// Branch helpers of the history (no server): names, room ids, file names, the
// rows that get a branch label, and the file format accepting a branch
// notebook's id `<docId>@<branch>`.
import * as assert from 'node:assert/strict';
import { LoroDoc } from 'loro-crdt';
import { HistoryDag, historyInputFromLoro } from '../../server/shared/history';
import { branchFileName, branchLabels, branchNameProblem, branchRoomId, mergeChoices, splitRoomId } from '../../server/shared/history/branches';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { parseSqlroomFile, serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { httpUrlOf } from '../../extension/history/branchApi';
import { buildMergeUpdate } from '../../server/rooms/merge';

describe('history branches (helpers)', () => {
  it('validates branch names a user types', () => {
    assert.equal(branchNameProblem('feature-1'), undefined);
    assert.equal(branchNameProblem('v1.2_fix'), undefined);
    assert.match(branchNameProblem('')!, /Enter/);
    for (const bad of ['.hidden', 'a b', 'a/b', "x'y", 'a@b', 'x'.repeat(65), 'ü']) assert.match(branchNameProblem(bad)!, /Use 1-64/, bad);
    assert.match(branchNameProblem('a..b')!, /".."/);
    assert.match(branchNameProblem('main', ['main', 'x'])!, /already exists/);
  });

  it('maps room ids, branch notebook ids and file names', () => {
    assert.deepEqual(splitRoomId('doc-1'), { docId: 'doc-1', branch: 'main' });
    assert.deepEqual(splitRoomId('doc-1@fix'), { docId: 'doc-1', branch: 'fix' });
    assert.equal(branchRoomId('doc-1', 'main'), 'doc-1');
    assert.equal(branchRoomId('doc-1', 'fix'), 'doc-1@fix');
    assert.equal(branchFileName('sales.sqlroom', 'fix'), 'sales@fix.sqlroom');
    assert.equal(branchFileName('sales@fix.sqlroom', 'fix2'), 'sales@fix2.sqlroom');
    assert.equal(branchFileName('sales@fix.sqlroom', 'main'), 'sales.sqlroom');
    assert.equal(httpUrlOf('ws://127.0.0.1:4000'), 'http://127.0.0.1:4000');
    assert.equal(httpUrlOf('wss://sync.example.test/rooms'), 'https://sync.example.test');
  });

  it('offers merges both ways, parent and children first', () => {
    const branches = [
      { branch: 'main', parentBranch: null },
      { branch: 'feature', parentBranch: 'main' },
      { branch: 'fix', parentBranch: 'feature' },
      { branch: 'other', parentBranch: 'main' },
    ];
    const pairs = (own: string, from?: string) => mergeChoices(own, branches, from).map((c) => `${c.from}>${c.into}`);
    assert.deepEqual(pairs('feature'), ['feature>main', 'fix>feature', 'feature>fix', 'feature>other', 'main>feature', 'other>feature']);
    assert.deepEqual(pairs('main').slice(0, 2), ['feature>main', 'other>main']);
    assert.deepEqual(pairs('main', 'fix'), ['fix>main', 'fix>feature', 'fix>other']);
    assert.equal(mergeChoices('feature', branches)[0].detail, 'feature was branched from main');
    assert.deepEqual(mergeChoices('main', [{ branch: 'main', parentBranch: null }]), []);
  });

  it('a .sqlroom file may carry a branch notebook id, not a hostile one', () => {
    const nb = new NotebookDoc();
    nb.insertCell(0, { source: 'select 1' });
    nb.commit();
    const parsed = parseSqlroomFile(serializeSqlroomFile(nb, 'doc-1@fix.2'));
    assert.equal(parsed.docId, 'doc-1@fix.2');
    for (const bad of ['doc@', 'doc@.x', 'doc@a@b', 'doc@a/b', 'doc@a..b', `doc@${'x'.repeat(130)}`]) {
      assert.throws(() => serializeSqlroomFile(nb, bad), /docId must be/, bad);
    }
  });

  it('labels the rows holding branch heads; a merge builds a join', () => {
    const main = new NotebookDoc();
    main.insertCell(0, { source: 'a' });
    main.commit({ message: 'base' });
    const feature = new NotebookDoc(main.doc.fork());
    feature.insertCell(1, { source: 'b' });
    feature.commit({ message: 'feature work' });
    main.insertCell(0, { source: 'c' });
    main.commit({ message: 'main work' });
    const update = buildMergeUpdate(main.doc, feature.doc, 'feature', 'main', 'bob', null);
    assert.ok(update.bytes && update.newOps > 0);
    main.doc.import(update.bytes);
    assert.equal(buildMergeUpdate(main.doc, feature.doc, 'feature', 'main', 'bob', null).bytes, null, 'nothing new the second time');
    const dag = HistoryDag.build(historyInputFromLoro(main.doc), { windowSeconds: 0 });
    const rows = dag.page(0, 100).rows;
    const merge = rows.find((r) => r.parents.length === 2);
    assert.equal(merge?.message, 'Merge feature into main');
    assert.equal(merge?.author, 'bob');
    const labels = branchLabels(dag, [
      { branch: 'main', head: main.doc.oplogFrontiers() },
      { branch: 'feature', head: feature.doc.oplogFrontiers() },
      { branch: 'elsewhere', head: [{ peer: '999', counter: 3 }] },
    ]);
    const named = Object.fromEntries(labels.flatMap((l) => l.names.map((n) => [n, rows[l.index].message])));
    assert.deepEqual(named, { main: 'Merge feature into main', feature: 'feature work' });
    // A foreign doc without a notebook's meta still merges.
    const a = new LoroDoc();
    a.getText('t').insert(0, 'x');
    a.commit();
    const b = a.fork();
    b.getText('t').insert(1, 'y');
    b.commit();
    assert.ok(buildMergeUpdate(a, b, 'b', 'main', 'z', 'custom message').bytes);
  });
});
