// Sync over loro-protocol with stock loro-websocket clients and a raw client:
// convergence, late joiner, delta joins, fragmented large updates, relay.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { EphemeralStore, LoroDoc, VersionVector } from 'loro-crdt';
import { CrdtType, MessageType, UpdateStatusCode } from 'loro-protocol';
import { startServer, type RunningServer } from '../../server';
import { RawClient, randomBatch, rmDir, stockClient, textOf, tmpDir, waitFor, type StockClient } from '../support/serverHarness';

describe('server sync (loro-protocol over ws)', function () {
  this.timeout(30_000);
  let dir: string;
  let server: RunningServer;
  const clients: StockClient[] = [];

  beforeEach(async () => {
    dir = tmpDir();
    server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent' });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await server.close();
    rmDir(dir);
  });

  it('several stock clients and a raw client converge; a late joiner gets the full state', async () => {
    const a = await stockClient(server.url, 'conv', new LoroDoc(), 'alice');
    const b = await stockClient(server.url, 'conv', new LoroDoc(), 'bob');
    const c = await stockClient(server.url, 'conv@main', new LoroDoc(), 'carol');
    clients.push(a, b, c);
    a.doc.getText('t').insert(0, 'alpha ');
    a.doc.commit();
    b.doc.getText('t').insert(0, 'beta ');
    b.doc.commit();
    c.doc.getText('t').insert(0, 'gamma ');
    c.doc.commit();
    // Our own raw client edits too.
    const raw = await RawClient.connect(server.url);
    raw.join('conv');
    await raw.next(MessageType.JoinResponseOk);
    const own = new LoroDoc();
    own.setPeerId(42n);
    own.getText('t').insert(0, 'delta ');
    own.commit();
    const id = raw.update('conv', [own.export({ mode: 'update' })]);
    assert.equal((await raw.ackFor(id)).status, UpdateStatusCode.Ok);
    await waitFor(() => [a, b, c].every((x) => textOf(x.doc).length === 'alpha beta gamma delta '.length), 'convergence');
    const t = textOf(a.doc);
    assert.equal(textOf(b.doc), t);
    assert.equal(textOf(c.doc), t);
    for (const w of ['alpha', 'beta', 'gamma', 'delta']) assert.ok(t.includes(w), `${w} in ${t}`);
    raw.close();
    const late = await stockClient(server.url, 'conv');
    clients.push(late);
    await late.room.waitForReachingServerVersion();
    assert.equal(textOf(late.doc), t);
  });

  it('a client announcing an old version receives only the delta', async () => {
    const a = await stockClient(server.url, 'delta');
    clients.push(a);
    const text = a.doc.getText('t');
    for (let i = 0; i < 200; i++) {
      text.insert(text.length, `line ${i} ${'x'.repeat(40)}\n`);
      a.doc.commit();
    }
    const old = new LoroDoc();
    old.import(a.doc.export({ mode: 'snapshot' }));
    text.insert(0, 'new!');
    a.doc.commit();
    await server.flush();
    await waitFor(() => server.stats().opsAccepted >= 201, 'all updates accepted');
    const full = a.doc.export({ mode: 'snapshot' }).length;
    const raw = await RawClient.connect(server.url);
    raw.join('delta', old.oplogVersion().encode());
    const ok = await raw.next(MessageType.JoinResponseOk);
    const serverVV = VersionVector.decode(ok.version);
    assert.equal(serverVV.compare(a.doc.oplogVersion()), 0);
    const upd = await raw.next(MessageType.DocUpdate);
    const deltaBytes = upd.updates.reduce((n, u) => n + u.length, 0);
    assert.ok(deltaBytes * 10 < full, `delta ${deltaBytes} B should be much smaller than snapshot ${full} B`);
    old.importBatch(upd.updates);
    assert.equal(textOf(old), textOf(a.doc));
    raw.close();
  });

  it('unloads idle rooms after their buffers are flushed; /metrics reports rooms and clients', async () => {
    await server.close();
    server = await startServer({ port: 0, db: path.join(dir, 'db2.duckdb'), logLevel: 'silent', idleUnloadMs: 50, flush: { maxDelayMs: 10 } });
    const a = await stockClient(server.url, 'idle');
    a.doc.getText('t').insert(0, 'keep me');
    a.doc.commit();
    await waitFor(() => server.stats().opsStored === 1, 'stored');
    let metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    assert.match(metrics, /^sqlroom_rooms 1$/m);
    assert.match(metrics, /^sqlroom_clients 1$/m);
    assert.match(metrics, /^sqlroom_flush_duration_seconds_count 1$/m);
    await a.close();
    await waitFor(() => server.stats().rooms === 0, 'room unloaded');
    metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    assert.match(metrics, /^sqlroom_rooms 0$/m);
    // Reloaded from the database on the next join.
    const b = await stockClient(server.url, 'idle');
    clients.push(b);
    await b.room.waitForReachingServerVersion();
    assert.equal(textOf(b.doc), 'keep me');
  });

  it('forks a branch at given frontiers over HTTP; the branch room serves that state', async () => {
    const a = await stockClient(server.url, 'forky', new LoroDoc(), 'alice');
    clients.push(a);
    a.doc.getText('t').insert(0, 'v1');
    a.doc.commit();
    const at = a.doc.oplogFrontiers();
    a.doc.getText('t').insert(2, ' v2');
    a.doc.commit();
    await waitFor(() => server.stats().opsAccepted === 2, 'accepted');
    const post = (body: unknown) => fetch(`${server.httpUrl}/api/docs/forky/branches`, { method: 'POST', body: JSON.stringify(body) });
    const r = await post({ name: 'feature/x', from: 'main', frontiers: at, author: 'alice' });
    assert.equal(r.status, 201, await r.clone().text());
    const again = await post({ name: 'feature/x' });
    assert.equal(again.status, 409);
    const bad = await post({ name: 'other', frontiers: [{ peer: '123', counter: 99 }] });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /frontiers not found/);
    const b = await stockClient(server.url, 'forky@feature/x');
    clients.push(b);
    await b.room.waitForReachingServerVersion();
    assert.equal(textOf(b.doc), 'v1');
    const list = (await (await fetch(`${server.httpUrl}/api/docs/forky/branches`)).json()) as { branches: { branch: string; parentBranch: string | null; forkFrontiers: string | null }[] };
    const feature = list.branches.find((x) => x.branch === 'feature/x')!;
    assert.equal(feature.parentBranch, 'main');
    assert.deepEqual(JSON.parse(feature.forkFrontiers!), at);
  });

  it('relays presence (%EPH) between clients without storing it; garbage presence is rejected', async () => {
    const one = await RawClient.connect(server.url);
    const two = await RawClient.connect(server.url);
    const eph = CrdtType.LoroEphemeralStore;
    const storeA = new EphemeralStore(30_000);
    storeA.set('alice', { cell: 'c1' });
    one.send({ type: MessageType.JoinRequest, crdt: eph, roomId: 'pres', auth: new Uint8Array(), version: new Uint8Array() });
    await one.next(MessageType.JoinResponseOk, (m) => m.crdt === eph);
    const id = randomBatch();
    one.send({ type: MessageType.DocUpdate, crdt: eph, roomId: 'pres', updates: [storeA.encodeAll()], batchId: id });
    assert.equal((await one.ackFor(id)).status, UpdateStatusCode.Ok);
    // A late joiner receives the current presence.
    two.send({ type: MessageType.JoinRequest, crdt: eph, roomId: 'pres', auth: new Uint8Array(), version: new Uint8Array() });
    const first = await two.next(MessageType.DocUpdate, (m) => m.crdt === eph);
    const storeB = new EphemeralStore(30_000);
    storeB.apply(first.updates[0]);
    assert.deepEqual(storeB.get('alice'), { cell: 'c1' });
    const bad = randomBatch();
    two.send({ type: MessageType.DocUpdate, crdt: eph, roomId: 'pres', updates: [new Uint8Array([1, 2, 3, 4, 5])], batchId: bad });
    assert.equal((await two.ackFor(bad)).status, UpdateStatusCode.InvalidUpdate);
    await server.flush();
    assert.equal(server.stats().opsAccepted, 0);
    assert.deepEqual(await server.storage.listBranches('pres'), []);
    one.close();
    two.close();
  });

  it('relays and stores a large update sent in fragments (both directions)', async () => {
    const a = await stockClient(server.url, 'big');
    const b = await stockClient(server.url, 'big');
    clients.push(a, b);
    // ~700 KB of incompressible text: the stock client fragments it.
    let s = '';
    let x = 12345;
    while (s.length < 700_000) {
      x = (x * 1103515245 + 12345) >>> 0;
      s += x.toString(36);
    }
    a.doc.getText('t').insert(0, s);
    a.doc.commit();
    await waitFor(() => textOf(b.doc).length === s.length, 'fragmented relay', 20_000);
    assert.equal(a.errors.length, 0);
    const late = await stockClient(server.url, 'big');
    clients.push(late);
    await late.room.waitForReachingServerVersion();
    assert.equal(textOf(late.doc), s);
  });
});
