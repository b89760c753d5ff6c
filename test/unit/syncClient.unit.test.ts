// The room client (extension/core/sync/roomClient) against the real sync
// server on loopback: two notebook peers converge through it, the pending
// count drains, a server restart with edits on both sides merges with nothing
// lost, and presence (EphemeralStore) reaches the other peer where the server
// relays %EPH rooms (loro-websocket's SimpleServer does; ours says whether it does).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { startServer, type RunningServer } from '../../server';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import type { CellData } from '../../server/shared/notebookTypes';
import { NotebookSync } from '../../extension/core/sync/notebookSync';
import { Presence } from '../../extension/core/sync/presence';
import { RoomClient, type RoomStatus } from '../../extension/core/sync/roomClient';
import { rmDir, tmpDir, waitFor } from '../support/serverHarness';
import { freePort } from '../support/freePort';

class Peer {
  readonly nb = new NotebookDoc();
  readonly sync: NotebookSync;
  editor: CellData[] = [];
  readonly statuses: RoomStatus[] = [];
  client!: RoomClient;
  constructor(readonly name: string) {
    this.nb.setAuthor(name);
    this.nb.commit({ origin: 'sys' });
    this.sync = new NotebookSync(this.nb);
    this.editor = this.nb.toData().cells;
  }
  connect(url: string, room: string, presence?: Presence): void {
    this.client = new RoomClient({
      url,
      roomId: room,
      doc: this.nb.doc,
      auth: { user: this.name },
      presence: presence?.store,
      initialBackoffMs: 50,
      maxBackoffMs: 200,
      onStatus: (s) => this.statuses.push(s),
      onRemote: () => this.drain(),
    });
  }
  drain(): void {
    for (let e = this.sync.nextRemoteEdit(), n = 0; e && n < 10_000; e = this.sync.nextRemoteEdit(), n++) {
      this.sync.commitRemoteEdit(e);
      this.editor = this.sync.viewCells.map((c) => ({ ...c }));
    }
  }
  edit(f: (cells: CellData[]) => void): void {
    const cells = this.editor.map((c) => ({ ...c, metadata: { ...c.metadata } }));
    f(cells);
    const res = this.sync.applyLocal(cells);
    for (const { index, id } of res.idsToWrite) cells[index] = { ...cells[index], id };
    this.editor = cells;
  }
  sources(): string[] {
    return this.editor.map((c) => c.source);
  }
}

describe('Sync client against the sync server', function () {
  this.timeout(60_000);
  let dir: string;
  let server: RunningServer;
  const peers: Peer[] = [];

  beforeEach(async () => {
    dir = tmpDir('sqlroom-sync-');
    server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent' });
  });
  afterEach(async () => {
    for (const p of peers.splice(0)) p.client.close();
    await server.close();
    rmDir(dir);
  });

  it('two notebook peers converge live; pending drains to 0; ids are stable', async () => {
    const a = new Peer('alice');
    const b = new Peer('bob');
    peers.push(a, b);
    a.edit((cells) => cells.push({ id: '', kind: 'code', language: 'sql', source: 'select 1', metadata: {} }));
    a.connect(server.url, 'doc-live');
    b.connect(server.url, 'doc-live');
    await waitFor(() => b.sources().join() === 'select 1', 'b sees the cell');
    const id = a.editor[0].id;
    assert.equal(b.editor[0].id, id);
    b.edit((cells) => {
      cells[0].source = 'select 1 as one';
      cells.push({ id: '', kind: 'markup', language: 'markdown', source: '# notes', metadata: {} });
    });
    a.edit((cells) => (cells[0].source = '-- a\nselect 1'));
    await waitFor(() => a.sources().join('|') === b.sources().join('|') && a.editor.length === 2, 'convergence');
    assert.deepEqual(a.sources(), ['-- a\nselect 1 as one', '# notes']);
    assert.equal(a.editor[0].id, id, 'cell id unchanged');
    await a.client.whenSynced();
    await b.client.whenSynced();
    assert.equal(a.client.current.pending, 0);
    assert.equal(a.client.current.state, 'connected');
    assert.ok(a.statuses.some((s) => s.pending > 0), 'pending was reported while unacked');
  });

  it('server restart with edits on both sides: both reconnect, merge, nothing lost', async () => {
    const a = new Peer('alice');
    const b = new Peer('bob');
    peers.push(a, b);
    a.edit((cells) => cells.push({ id: '', kind: 'code', language: 'sql', source: 'select 1', metadata: {} }));
    a.connect(server.url, 'doc-restart');
    b.connect(server.url, 'doc-restart');
    await waitFor(() => b.editor.length === 1, 'b joined');
    await a.client.whenSynced();
    const port = server.port;
    await server.close();
    await waitFor(() => a.client.current.state === 'offline' && b.client.current.state === 'offline', 'both offline');
    a.edit((cells) => (cells[0].source = 'select 1 -- a offline'));
    b.edit((cells) => cells.push({ id: '', kind: 'code', language: 'sql', source: 'select 2 -- b offline', metadata: {} }));
    assert.ok(a.client.current.pending > 0, 'offline edits are pending');
    server = await startServer({ port, db: path.join(dir, 'db.duckdb'), logLevel: 'silent' });
    await waitFor(() => a.editor.length === 2 && b.sources().join() === a.sources().join(), 'merge after restart', 30_000);
    assert.deepEqual(a.sources(), ['select 1 -- a offline', 'select 2 -- b offline']);
    await a.client.whenSynced();
    await b.client.whenSynced();
    assert.ok(a.statuses.some((s) => s.merged && s.merged.localOps > 0), 'status says local changes were merged');
    // Durable: a fresh client after another restart sees everything.
    await server.close();
    server = await startServer({ port, db: path.join(dir, 'db.duckdb'), logLevel: 'silent' });
    const c = new Peer('carol');
    peers.push(c);
    c.connect(server.url, 'doc-restart');
    await waitFor(() => c.sources().join() === a.sources().join(), 'late joiner after restart');
  });

  it('presence reaches the other peer through our server (%EPH relayed, never stored)', async () => {
    const a = new Peer('alice');
    const b = new Peer('bob');
    peers.push(a, b);
    const pa = new Presence('alice-1', 'alice');
    const pb = new Presence('bob-1', 'bob');
    a.connect(server.url, 'doc-presence', pa);
    await waitFor(() => a.client.current.presence === true, 'presence joined');
    pa.setCell('cell-7'); // before bob joins: bob gets it from the room's current state
    b.connect(server.url, 'doc-presence', pb);
    await waitFor(() => pb.others().some((o) => o.name === 'alice' && o.cellId === 'cell-7'), 'bob sees alice in cell-7');
    await waitFor(() => pa.others().some((o) => o.name === 'bob'), 'alice sees bob');
    pa.dispose();
    pb.dispose();
  });

  it('presence reaches the other peer through a server that relays %EPH (SimpleServer)', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SimpleServer } = require('loro-websocket/server') as typeof import('../../node_modules/loro-websocket/dist/server/index');
    const port = await freePort();
    const simple = new SimpleServer({ port, host: '127.0.0.1' });
    await simple.start();
    try {
      const a = new Peer('alice');
      const b = new Peer('bob');
      peers.push(a, b);
      const pa = new Presence('alice-1', 'alice');
      const pb = new Presence('bob-1', 'bob');
      a.connect(`ws://127.0.0.1:${port}`, 'doc-eph', pa);
      b.connect(`ws://127.0.0.1:${port}`, 'doc-eph', pb);
      await waitFor(() => a.client.current.presence === true && b.client.current.presence === true, 'presence joined');
      pa.setCell('cell-42');
      await waitFor(() => pb.others().some((o) => o.name === 'alice' && o.cellId === 'cell-42'), 'bob sees alice in cell-42');
      assert.ok(pa.others().some((o) => o.name === 'bob'));
      pa.dispose();
      pb.dispose();
    } finally {
      for (const p of peers.splice(0)) p.client.close();
      await simple.stop();
    }
  });
});

