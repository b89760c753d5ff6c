// Hostile clients against Loro itself (issue items 2–4) on a real server on
// 127.0.0.1: an update pipelined right behind a panic blob still gets its
// ack; a stored document nested too deep is not rendered by GET /at (which
// would overflow Loro's stack); one message of 3,000 parts is charged 3,000
// against the update rate (no debt).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LoroDoc, LoroMap } from 'loro-crdt';
import { MessageType, UpdateStatusCode } from 'loro-protocol';
import { startServer, type LimitSettings, type RunningServer } from '../../server';
import { RawClient, rmDir, tmpDir, waitFor, textUpdate } from '../support/serverHarness';

const REGRESSIONS = path.resolve(__dirname, '..', '..', '..', 'test', 'fuzz', 'regressions', 'importUpdate');

describe('server hostile clients: Loro panics, deep nesting, rate debt', function () {
  this.timeout(90_000);
  let dir: string;
  let server: RunningServer | undefined;
  let raw: RawClient | undefined;

  const start = async (limits: Partial<LimitSettings> = {}) => {
    server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent', limits });
    raw = await RawClient.connect(server.url);
    return server;
  };
  const join = async (room: string) => {
    raw!.join(room);
    await raw!.next(MessageType.JoinResponseOk, (m) => m.roomId === room);
  };

  beforeEach(() => {
    dir = tmpDir();
  });
  afterEach(async () => {
    raw?.close();
    await server?.close();
    server = undefined;
    rmDir(dir);
  });

  it('item 2: an update pipelined right behind a panic blob on the same connection gets an ack, and the room works again', async () => {
    await start();
    await join('victim');
    assert.equal((await raw!.ackFor(raw!.update('victim', [textUpdate('before ', 900n)]))).status, UpdateStatusCode.Ok);
    const consoleError = console.error;
    console.error = (...a: unknown[]) => (a.some((x) => String(x).includes('panicked at')) ? undefined : consoleError(...a));
    try {
      const blob = new Uint8Array(fs.readFileSync(path.join(REGRESSIONS, 'loro-import-panic-poisons-doc')));
      const bad = raw!.update('victim', [blob]);
      const next = raw!.update('victim', [textUpdate('after ', 901n)]); // same tick: pipelined
      assert.equal((await raw!.ackFor(bad, 30_000)).status, UpdateStatusCode.InvalidUpdate);
      // Answered (before the fix: no ack at all, "unexpected error handling message").
      const st = (await raw!.ackFor(next, 30_000)).status;
      assert.ok(st === UpdateStatusCode.Ok || st === UpdateStatusCode.InvalidUpdate, `status ${st}`);
      assert.equal((await raw!.ackFor(raw!.update('victim', [textUpdate('later', 13n)]), 30_000)).status, UpdateStatusCode.Ok, 'the room works again');
    } finally {
      console.error = consoleError;
    }
    const h = (await (await fetch(`${server!.httpUrl}/healthz`)).json()) as { status: string };
    assert.equal(h.status, 'ok', 'Loro still works in this process');
  });

  it('item 3: a stored document nested deeper than maxNestingDepth is refused by GET /at with 422 (never rendered); the server keeps serving', async () => {
    // Stored by a server with a looser limit (as before the limit existed).
    await start({ maxNestingDepth: 1000 });
    await join('deep');
    const d = new LoroDoc();
    d.setPeerId(21n);
    let m = d.getMap('root');
    for (let i = 0; i < 200; i++) m = m.setContainer('c', new LoroMap());
    d.commit();
    assert.equal((await raw!.ackFor(raw!.update('deep', [d.export({ mode: 'update' })]), 30_000)).status, UpdateStatusCode.Ok);
    raw!.close();
    await server!.close();
    await start({ maxNestingDepth: 64 });
    const t = new Date(Date.now() + 60_000).toISOString();
    const r = await fetch(`${server!.httpUrl}/api/docs/deep/at?t=${encodeURIComponent(t)}`);
    assert.equal(r.status, 422);
    const body = (await r.json()) as { error: string; code: string };
    assert.equal(body.code, 'nesting_too_deep');
    assert.match(body.error, /maxNestingDepth 64/);
    // A new update nesting deeper is refused with the limit named; shallow ones pass.
    await join('deep2');
    const e = new LoroDoc();
    e.setPeerId(22n);
    let n = e.getMap('root');
    for (let i = 0; i < 100; i++) n = n.setContainer('c', new LoroMap());
    e.commit();
    assert.equal((await raw!.ackFor(raw!.update('deep2', [e.export({ mode: 'update' })]), 30_000)).status, UpdateStatusCode.InvalidUpdate);
    await waitFor(() => raw!.texts.some((x) => x.includes('maxNestingDepth 64')), 'the error frame');
    assert.equal((await raw!.ackFor(raw!.update('deep2', [textUpdate('fine', 23n)]))).status, UpdateStatusCode.Ok);
    // /at of an ordinary document answers, and a second call is served the same.
    const ok1 = (await (await fetch(`${server!.httpUrl}/api/docs/deep2/at?t=${encodeURIComponent(t)}`)).json()) as { json: unknown };
    const ok2 = (await (await fetch(`${server!.httpUrl}/api/docs/deep2/at?t=${encodeURIComponent(t)}`)).json()) as { json: unknown };
    assert.deepEqual(ok1.json, { t: 'fine' });
    assert.deepEqual(ok2.json, ok1.json);
  });

  it('item 4: one DocUpdate of 3,000 parts is charged 3,000 against maxUpdatesPerSecond and refused; nothing of it is stored', async () => {
    const s = await start();
    await join('debt');
    const parts = Array.from({ length: 3000 }, (_, i) => textUpdate('x', BigInt(1000 + i)));
    const id = raw!.update('debt', parts);
    assert.equal((await raw!.ackFor(id, 30_000)).status, UpdateStatusCode.RateLimited);
    await waitFor(() => raw!.texts.some((x) => x.includes('maxUpdatesPerSecond')), 'the rate_limited error frame');
    // Within the budget, a normal update passes.
    assert.equal((await raw!.ackFor(raw!.update('debt', [textUpdate('ok', 5000n)]))).status, UpdateStatusCode.Ok);
    await s.flush();
    assert.equal((await s.storage.analytics({ docId: 'debt' })).perBranch[0].updates, 1);
  });
});
