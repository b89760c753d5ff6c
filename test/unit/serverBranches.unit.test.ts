// Branches and merges at the server with stock loro-websocket clients editing
// notebooks: fork at a version, concurrent edits on the branch and on main,
// merge (one durable update relayed to main's clients, a join in the DAG),
// idempotency, validation, persistence across a restart, restore afterwards.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { startServer, type RunningServer } from '../../server';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { HistoryDag, historyInputFromLoro, formatVersion } from '../../server/shared/history';
import { restoreVersion } from '../../server/shared/history/versionDoc';
import { rmDir, stockClient, tmpDir, waitFor, type StockClient } from '../support/serverHarness';

const sources = (nb: NotebookDoc) => nb.toData().cells.map((c) => c.source);

describe('server branches and merges', function () {
  this.timeout(30_000);
  let dir: string;
  let server: RunningServer;
  const clients: StockClient[] = [];
  const start = async () => (server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent' }));
  const api = (p: string, body?: unknown) =>
    fetch(`${server.httpUrl}/api/docs/${p}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  const join = async (room: string, user: string) => {
    const nb = new NotebookDoc();
    const c = await stockClient(server.url, room, nb.doc, user);
    clients.push(c);
    await c.room.waitForReachingServerVersion();
    return { nb, c };
  };

  /** The server's head of `branch` equals the client's frontiers (the client's edits arrived). */
  const serverAt = async (doc: string, branch: string, nb: NotebookDoc) => {
    const r = (await (await api(`${doc}/state?branch=${branch}`)).json()) as { head: unknown };
    return JSON.stringify(r.head) === JSON.stringify(nb.doc.oplogFrontiers());
  };

  beforeEach(async () => {
    dir = tmpDir();
    await start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await server.close();
    rmDir(dir);
  });

  it('branch, edit both sides concurrently, merge: main clients see the merge, the DAG joins, merging again adds nothing', async () => {
    const alice = await join('nb1', 'alice');
    alice.nb.setAuthor('alice');
    alice.nb.insertCell(0, { kind: 'code', language: 'sql', source: 'select 1' });
    alice.nb.commit({ message: 'first' });
    const forkAt = alice.nb.doc.oplogFrontiers();
    alice.nb.insertCell(1, { kind: 'code', language: 'sql', source: 'select 2 -- main after the fork' });
    alice.nb.commit();
    await waitFor(() => server.stats().opsAccepted >= 2, 'main accepted');

    const fork = await api('nb1/branches', { name: 'feature', from: 'main', frontiers: forkAt, author: 'bob' });
    assert.equal(fork.status, 201, await fork.clone().text());

    const bob = await join('nb1@feature', 'bob');
    assert.deepEqual(sources(bob.nb), ['select 1'], 'the branch starts at the fork point, not at main head');
    // The branch shares main's past: same op ids, not a copy.
    assert.deepEqual(bob.nb.doc.oplogFrontiers(), forkAt);

    const carol = await join('nb1', 'carol');
    bob.nb.setAuthor('bob');
    bob.nb.insertCell(1, { kind: 'code', language: 'sql', source: 'select 42 -- from feature' });
    bob.nb.commit({ message: 'feature work' });
    alice.nb.setCellSource(alice.nb.cellIds()[0], 'select 1 -- edited on main');
    alice.nb.commit();
    await waitFor(() => serverAt('nb1', 'main', alice.nb), 'main edit on the server');
    await waitFor(() => serverAt('nb1', 'feature', bob.nb), 'branch edit on the server');
    // accept() imports before the WAL fsync and counts after it: wait for the count too
    // (alice 2 + the fork + bob + alice).
    await waitFor(() => server.stats().opsAccepted === 5, 'all five updates durable');

    const list = (await (await api('nb1/branches')).json()) as { branches: { branch: string; parentBranch: string | null; forkFrontiers: string | null; head: unknown }[] };
    const feature = list.branches.find((b) => b.branch === 'feature')!;
    assert.equal(feature.parentBranch, 'main');
    assert.deepEqual(JSON.parse(feature.forkFrontiers!), forkAt);
    await waitFor(() => JSON.stringify(bob.nb.doc.oplogFrontiers()) === JSON.stringify(feature.head), 'bob at branch head');
    assert.ok(list.branches.some((b) => b.branch === 'main' && b.parentBranch === null));

    const accepted = server.stats().opsAccepted;
    const r = await api('nb1/merge', { from: 'feature', into: 'main', author: 'bob' });
    assert.equal(r.status, 200, await r.clone().text());
    const out = (await r.json()) as { merged: boolean; newOps: number; opId: number | null };
    assert.equal(out.merged, true);
    assert.ok(out.newOps > 0);
    assert.equal(server.stats().opsAccepted, accepted + 1, 'the merge is ONE accepted update');

    // Both sides inserted after cell 0 concurrently: Loro orders the two by peer id.
    const merged = (nb: NotebookDoc) => {
      const [first, ...rest] = sources(nb);
      return JSON.stringify([first, ...rest.sort()]);
    };
    const want = JSON.stringify(['select 1 -- edited on main', 'select 2 -- main after the fork', 'select 42 -- from feature']);
    for (const who of [alice, carol]) await waitFor(() => merged(who.nb) === want, `merged cells on main (${JSON.stringify(sources(who.nb))})`);
    assert.deepEqual(sources(alice.nb), sources(carol.nb));
    // The branch itself is unchanged by the merge.
    assert.deepEqual(sources(bob.nb), ['select 1', 'select 42 -- from feature']);

    // The DAG built from main's doc has a node with two parents: the merge.
    const dag = HistoryDag.build(historyInputFromLoro(carol.nb.doc), { windowSeconds: 0 });
    const rows = dag.page(0, 1000).rows;
    const join_ = rows.find((row) => row.parents.length > 1);
    assert.ok(join_, `a merge node in ${JSON.stringify(rows.map((x) => [x.message, x.parents]))}`);
    assert.equal(join_.message, 'Merge feature into main');
    assert.equal(join_.author, 'bob');

    const again = (await (await api('nb1/merge', { from: 'feature', into: 'main' })).json()) as { merged: boolean; newOps: number };
    assert.deepEqual([again.merged, again.newOps], [false, 0]);
    assert.equal(server.stats().opsAccepted, accepted + 1, 'merging twice adds nothing');

    // Restore still works on the merged notebook: back to the pre-merge main version, as one new change.
    const before = formatVersion(carol.nb.doc.frontiers());
    const { changed, data } = restoreVersion(carol.nb, formatVersion(forkAt));
    assert.equal(changed, true);
    assert.deepEqual(data.cells.map((c) => c.source), ['select 1']);
    assert.notEqual(formatVersion(carol.nb.doc.frontiers()), before);
    await waitFor(() => JSON.stringify(sources(alice.nb)) === JSON.stringify(['select 1']), 'restore relayed to alice');

    // Persisted on the target branch: a restarted server serves the merged, restored main and the untouched branch.
    for (const c of clients.splice(0)) await c.close();
    await server.close();
    await start();
    const late = await join('nb1', 'dave');
    assert.deepEqual(sources(late.nb), ['select 1']);
    assert.equal(HistoryDag.build(historyInputFromLoro(late.nb.doc), { windowSeconds: 0 }).page(0, 1000).rows.filter((x) => x.parents.length > 1).length, 1);
    const lateBranch = await join('nb1@feature', 'erin');
    assert.deepEqual(sources(lateBranch.nb), ['select 1', 'select 42 -- from feature']);
  });

  it('merge into a branch with no members and from main into a branch', async () => {
    const a = await join('nb2', 'alice');
    a.nb.insertCell(0, { source: 'one' });
    a.nb.commit();
    await waitFor(() => server.stats().opsAccepted >= 1, 'accepted');
    assert.equal((await api('nb2/branches', { name: 'b1' })).status, 201);
    a.nb.insertCell(1, { source: 'two' });
    a.nb.commit();
    await waitFor(() => server.stats().opsAccepted >= 3, 'accepted');
    const r = (await (await api('nb2/merge', { from: 'main', into: 'b1' })).json()) as { merged: boolean };
    assert.equal(r.merged, true);
    const b = await join('nb2@b1', 'bob');
    assert.deepEqual(sources(b.nb), ['one', 'two']);
    const state = (await (await api('nb2/state?branch=b1')).json()) as { snapshot: string; head: unknown };
    const fromState = NotebookDoc.fromSnapshot(Buffer.from(state.snapshot, 'base64'));
    assert.deepEqual(sources(fromState), ['one', 'two']);
    assert.deepEqual(state.head, b.nb.doc.oplogFrontiers());
  });

  it('refuses bad merges with precise errors', async () => {
    const a = await join('nb3', 'alice');
    a.nb.insertCell(0, { source: 'x' });
    a.nb.commit();
    await waitFor(() => server.stats().opsAccepted >= 1, 'accepted');
    const err = async (body: unknown, status: number, re: RegExp) => {
      const r = await api('nb3/merge', body);
      const text = await r.text();
      assert.equal(r.status, status, text);
      assert.match((JSON.parse(text) as { error: string }).error, re);
    };
    await err({ from: 'nope', into: 'main' }, 404, /unknown branch nope/);
    await err({ from: 'main', into: 'nope' }, 404, /unknown branch nope/);
    await err({ from: 'main', into: 'main' }, 400, /into itself/);
    await err({ into: 'main' }, 400, /needs "from"/);
    await err({ from: '../etc', into: 'main' }, 400, /invalid branch/);
    await err({ from: "x'; drop table ops_log; --", into: 'main' }, 400, /invalid branch/);
    await err({ from: 'a b' }, 400, /invalid branch/);
    await err({ from: 7 }, 400, /from must be a string/);
    const fork = await api('nb3/branches', { name: 'child', from: 'ghost' });
    assert.equal(fork.status, 404);
    assert.match(((await fork.json()) as { error: string }).error, /unknown branch ghost/);
    const st = await api('nb3/state?branch=ghost');
    assert.equal(st.status, 404);
    // Unknown rooms loaded for the check are not turned into branches.
    await server.flush();
    const list = (await (await api('nb3/branches')).json()) as { branches: { branch: string }[] };
    assert.deepEqual(list.branches.map((b) => b.branch), ['main']);
  });
});
