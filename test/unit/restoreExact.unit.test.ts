// Exact restore on real Loro documents, as the reported sequence: checkpoint,
// a branch forked at it (the server's fork), edits on both sides, the
// server's merge, then Restore of the checkpoint. The document equals the
// version, and the editor (a NotebookSync view, as the change tracker keeps
// it) shows it through the remote-edit path with nothing written back.
import * as assert from 'assert';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { createCheckpoint, dataAt, restoreVersion } from '../../server/shared/history';
import { buildMergeUpdate } from '../../server/rooms/merge';
import { NotebookSync } from '../../extension/core/sync/notebookSync';

describe('Restore is exact after branches and merges', () => {
  it('restoring a checkpoint taken before a branch + merge gives the version, and nothing changes afterwards', () => {
    const main = new NotebookDoc();
    for (let i = 0; i < 7; i++) main.insertCell(i, { kind: 'code', language: 'sql', source: `SELECT ${i}` });
    main.commit();
    main.insertCell(7, { kind: 'code', language: 'sql', source: 'SELEC 1' });
    main.commit();
    const editor = new NotebookSync(main);
    const cp = createCheckpoint(main, 'before the branch');
    const ids = main.cellIds();

    const branch = new NotebookDoc(main.doc.forkAt(main.doc.frontiers()));
    main.spliceCellSource(ids[0], 0, 0, '-- main\n');
    main.deleteCell(ids[7]); // the SELEC 1 cell
    main.commit();
    branch.spliceCellSource(ids[1], 0, 0, '-- branch\n');
    branch.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT 99' });
    branch.moveCell(ids[3], 6);
    branch.commit();
    const merge = buildMergeUpdate(main.doc, branch.doc, 'feature', 'main', 'Ada', null);
    main.doc.import(merge.bytes!);
    drain(editor);
    assert.strictEqual(main.toData().cells.length, 8);

    const target = dataAt(main, cp.version);
    assert.strictEqual(target.cells.length, 8);
    const changesBefore = main.doc.changeCount();
    restoreVersion(main, cp.version, 'before the branch');
    assert.deepStrictEqual(main.toData().cells, target.cells, 'the document equals the version');
    assert.strictEqual(main.doc.changeCount(), changesBefore + 1, 'one new change');

    // The tracker shows it like any remote change; the editor's change events write nothing.
    drain(editor);
    assert.deepStrictEqual(editor.viewCells, target.cells);
    const after = editor.applyLocal(editor.viewCells.map((c) => ({ ...c })));
    assert.strictEqual(after.changed, false, 'no automatic edit after the restore');
    assert.strictEqual(main.doc.changeCount(), changesBefore + 1);
    assert.deepStrictEqual(main.toData().cells.map((c) => c.source).filter((s) => s === 'SELEC 1'), ['SELEC 1']);
  });
});

function drain(sync: NotebookSync): void {
  for (let i = 0; i < 1000; i++) {
    const edit = sync.nextRemoteEdit();
    if (!edit) return;
    sync.commitRemoteEdit(edit);
  }
  throw new Error('drain does not end');
}
