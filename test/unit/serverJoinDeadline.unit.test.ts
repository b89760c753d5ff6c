// The join deadline (joinDeadlineMs) closes sockets that never ask to join a
// room. It must not close a client that did ask: one whose JoinRequest is
// still being served (a slow room load), or one whose JoinRequest is waiting
// in the socket while the server's event loop was busy (found by the kill
// soak: after a restart, a stock client's rejoin was cut off with
// "no room joined in time" and the client stopped syncing).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { MessageType } from 'loro-protocol';
import { DuckDbStorage, startServer, type RunningServer } from '../../server';
import { RawClient, rmDir, tmpDir } from '../support/serverHarness';

/** A DuckDB storage whose room loads take `delayMs` (a database busy with a large catch-up). */
class SlowLoads extends DuckDbStorage {
  constructor(file: string, private readonly delayMs: number) {
    super({ path: file });
  }
  override async loadRoom(docId: string, branch: string) {
    await new Promise((r) => setTimeout(r, this.delayMs));
    return super.loadRoom(docId, branch);
  }
}

describe('join deadline and slow joins', function () {
  this.timeout(60_000);
  let dir: string;
  let server: RunningServer | null = null;
  const clients: RawClient[] = [];
  beforeEach(() => (dir = tmpDir()));
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    if (server) await server.close();
    server = null;
    rmDir(dir);
  });

  it('a JoinRequest still being served when the deadline passes (slow room load) is answered, the socket stays open', async () => {
    server = await startServer({ port: 0, storage: new SlowLoads(path.join(dir, 'db.duckdb'), 1500), logLevel: 'silent', limits: { joinDeadlineMs: 300 } });
    const c = await RawClient.connect(server.url);
    clients.push(c);
    c.join('slow');
    await c.next(MessageType.JoinResponseOk, (m) => m.roomId === 'slow', 20_000);
    // The deadline's error frame would have come before the JoinResponse (one ordered socket).
    assert.deepEqual(c.texts.filter((t) => t.includes('join_deadline')), [], 'not cut off by the join deadline');
    assert.equal(c.closeCode, null);
  });

  it('a JoinRequest that arrived while the event loop was busy past the deadline is served, not cut off', async () => {
    server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent', limits: { joinDeadlineMs: 300 } });
    const c = await RawClient.connect(server.url);
    clients.push(c);
    c.join('busy');
    // The whole process (server and client) stands still past the deadline: the
    // JoinRequest waits in the server's socket when the deadline timer fires.
    const until = Date.now() + 800;
    while (Date.now() < until) {
      /* busy: a saturated event loop */
    }
    await c.next(MessageType.JoinResponseOk, (m) => m.roomId === 'busy', 20_000);
    assert.deepEqual(c.texts.filter((t) => t.includes('join_deadline')), [], 'not cut off by the join deadline');
    assert.equal(c.closeCode, null);
  });
});
