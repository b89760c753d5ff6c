// The write-ahead file's size limit: while the database cannot be written,
// updates are acked from the WAL until it holds walMaxBytes; then they are
// refused (AppError + a JSON "wal_full" error frame), nothing refused is
// applied or relayed, nothing acked is lost, and once the database is back
// the WAL drains and updates are accepted again.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { LoroDoc } from 'loro-crdt';
import { MessageType, UpdateStatusCode } from 'loro-protocol';
import { DuckDbStorage, startServer, type RunningServer } from '../../server';
import { FaultyStorage, startFaultyServer } from '../support/serverFaults';
import { RawClient, rmDir, tmpDir, waitFor } from '../support/serverHarness';
import { AckWriter, joinedRaw, joinerVersion } from '../support/faultWriter';

async function state(url: string, roomId: string): Promise<LoroDoc> {
  const raw = await RawClient.connect(url);
  raw.join(roomId);
  await raw.next(MessageType.JoinResponseOk);
  const doc = new LoroDoc();
  const upd = await raw.next(MessageType.DocUpdate).catch(() => null);
  if (upd) doc.importBatch(upd.updates);
  raw.close();
  return doc;
}

describe('write-ahead file size limit', function () {
  this.timeout(60_000);

  it('database down + WAL at --wal-max-bytes: refuses with AppError and a wal_full frame, loses nothing acked, accepts again once the database is back', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'db.duckdb');
    const walDir = path.join(dir, 'wal');
    const faulty = new FaultyStorage(new DuckDbStorage({ path: db }));
    let server: RunningServer | null = await startServer({ port: 0, storage: faulty, walDir, walMaxBytes: 4096, logLevel: 'silent', flush: { maxDelayMs: 20, retryInitialMs: 20, retryMaxMs: 100 } });
    const writer = new LoroDoc();
    writer.setPeerId(77n);
    const raw = await RawClient.connect(server.url);
    const watcher = await RawClient.connect(server.url);
    try {
      raw.join('limited');
      await raw.next(MessageType.JoinResponseOk);
      watcher.join('limited');
      await watcher.next(MessageType.JoinResponseOk);
      await watcher.next(MessageType.DocUpdate); // the join's (empty) snapshot
      const relayedBefore = watcher.messages.filter((m) => m.type === MessageType.DocUpdate).length;
      faulty.mode = 'fail';
      const acked: { bytes: Uint8Array; end: number }[] = [];
      let refused: { bytes: Uint8Array; status: number } | null = null;
      for (let i = 0; i < 100 && !refused; i++) {
        const before = writer.oplogVersion();
        writer.getText('t').insert(writer.getText('t').length, `${i}:${'x'.repeat(300)}\n`);
        writer.commit();
        const bytes = writer.export({ mode: 'update', from: before });
        const ack = await raw.ackFor(raw.update('limited', [bytes]));
        if (ack.status === UpdateStatusCode.Ok) acked.push({ bytes, end: writer.oplogVersion().get('77') ?? 0 });
        else refused = { bytes, status: ack.status };
      }
      assert.ok(refused, 'an update was refused within 100 updates of ~330 bytes with a 4096-byte limit');
      assert.equal(refused.status, UpdateStatusCode.AppError);
      assert.ok(acked.length >= 5, `acked ${acked.length} before the limit`);
      await waitFor(() => raw.texts.some((t) => t.includes('"wal_full"')), 'wal_full frame');
      const frame = JSON.parse(raw.texts.find((t) => t.includes('"wal_full"'))!) as { code: string; message: string };
      assert.match(frame.message, /database is unreachable .*write-ahead file is full/);
      const health = (await (await fetch(`${server.httpUrl}/healthz`)).json()) as { status: string; walFull: boolean; walMaxBytes: number };
      assert.equal(health.status, 'degraded');
      assert.equal(health.walFull, true);
      assert.equal(health.walMaxBytes, 4096);
      const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
      assert.match(metrics, /^sqlroom_wal_full 1$/m);
      assert.match(metrics, /^sqlroom_updates_refused_wal_full_total [1-9]/m);
      // The refused update is not in the room and was not relayed.
      const during = await state(server.url, 'limited');
      assert.equal(during.oplogVersion().get('77'), acked[acked.length - 1].end, 'room holds exactly the acked updates');
      const relayed = watcher.messages.filter((m) => m.type === MessageType.DocUpdate).length - relayedBefore;
      assert.equal(relayed, acked.length, 'only acked updates were relayed');

      // Database back: the WAL drains and the refused update is accepted when sent again.
      faulty.mode = 'none';
      await waitFor(() => server!.stats().walDepth === 0 && !server!.stats().degraded, 'WAL drained', 20_000);
      const again = await raw.ackFor(raw.update('limited', [refused.bytes]));
      assert.equal(again.status, UpdateStatusCode.Ok);
      assert.equal(server.stats().walFull, false);
      await server.close();
      server = null;

      // Fresh recovery from the database has every acked update and the resent one.
      server = await startServer({ port: 0, db, walDir, logLevel: 'silent' });
      const after = await state(server.url, 'limited');
      assert.equal(after.oplogVersion().get('77'), writer.oplogVersion().get('77'));
      assert.equal(after.getText('t').toString(), writer.getText('t').toString());
    } finally {
      raw.close();
      watcher.close();
      if (server) await server.close();
      rmDir(dir);
    }
  });

  it('abandoned while the WAL is full (a crash): a restart on the same database and WAL has every acked update and nothing refused', async () => {
    const dir = tmpDir();
    const walDir = path.join(dir, 'wal');
    const faulty = new FaultyStorage(new DuckDbStorage({ path: path.join(dir, 'db.duckdb') }));
    const old = await startServer({ port: 0, storage: faulty, walDir, walMaxBytes: 2048, shutdownFlushMs: 0, logLevel: 'silent', flush: { maxDelayMs: 20, retryInitialMs: 20, retryMaxMs: 100 } });
    const writer = new LoroDoc();
    writer.setPeerId(78n);
    const raw = await RawClient.connect(old.url);
    let ackedEnd = 0;
    let refusedOne = false;
    try {
      raw.join('abandon');
      await raw.next(MessageType.JoinResponseOk);
      faulty.mode = 'fail';
      for (let i = 0; i < 60 && !refusedOne; i++) {
        const before = writer.oplogVersion();
        writer.getText('t').insert(0, `${i}${'y'.repeat(200)}`);
        writer.commit();
        const ack = await raw.ackFor(raw.update('abandon', [writer.export({ mode: 'update', from: before })]));
        if (ack.status === UpdateStatusCode.Ok) ackedEnd = writer.oplogVersion().get('78') ?? 0;
        else refusedOne = true;
      }
      assert.ok(refusedOne && old.stats().walFull, 'the WAL reached its limit');
    } finally {
      raw.close();
    }
    // The old process "dies": it never writes again; a new one starts on the same files.
    faulty.mode = 'dead';
    const restarted = await startServer({ port: 0, storage: FaultyStorage.reopen(faulty.inner), walDir, logLevel: 'silent' });
    try {
      assert.ok(restarted.stats().recovered.replayed > 0);
      const after = await state(restarted.url, 'abandon');
      assert.equal(after.oplogVersion().get('78'), ackedEnd, 'every acked update, and nothing refused, after replay');
    } finally {
      await old.close();
      await restarted.close();
      rmDir(dir);
    }
  });

  it('counts update bytes not yet in the database, never refuses while the database is healthy, and walFull clears once the database is writable', async () => {
    const dir = tmpDir();
    // Flushes deferred (60 s): the WAL holds far more than the limit while the database is healthy.
    const { faulty, server } = await startFaultyServer(dir, { walMaxBytes: 4096, flush: { maxDelayMs: 60_000, maxOps: 100_000, maxBytes: 100_000_000, retryInitialMs: 20, retryMaxMs: 100 } });
    const w = new AckWriter('catchup', 79n);
    const raw = await joinedRaw(server.url, 'catchup');
    try {
      for (let i = 0; i < 12; i++) assert.equal((await w.send(raw, 1000)).status, UpdateStatusCode.Ok, `healthy database: update ${i} acked`);
      assert.ok(server.stats().walLiveBytes >= 12_000 && server.stats().walLiveBytes < 14_000, `live bytes count the updates (${server.stats().walLiveBytes})`);
      assert.equal((await w.send(raw, 20_000)).status, UpdateStatusCode.Ok, 'a 20 KB update with a 4 KB limit while healthy');
      assert.equal(server.stats().walFull, false);
      // Database down: past the limit updates are refused.
      faulty.mode = 'fail';
      await server.flush().catch(() => undefined);
      await waitFor(() => server.stats().degraded, 'degraded');
      assert.equal((await w.send(raw, 1000)).status, UpdateStatusCode.AppError, 'refused: database down and WAL over the limit');
      assert.equal(server.stats().walFull, true);
      // Database back: walFull clears with the next flush, without any update arriving.
      faulty.mode = 'none';
      void server.flush(); // flushes are deferred 60 s here; the retry is the next flush
      await waitFor(() => !server.stats().walFull && server.stats().walLiveBytes === 0, 'walFull cleared by the catch-up flush', 20_000);
      const health = (await (await fetch(`${server.httpUrl}/healthz`)).json()) as { status: string; walFull: boolean };
      assert.deepEqual([health.status, health.walFull], ['ok', false]);
      await w.resendRefused(raw);
      // The refused update is in; a catch-up much larger than the limit gets in too.
      assert.equal((await w.send(raw, 30_000)).status, UpdateStatusCode.Ok, 'a 30 KB catch-up once the database is back');
      assert.equal(w.refused(), 0, 'every update in once the database is back');
      await server.flush();
      assert.equal(await joinerVersion(server.url, 'catchup', 79n), w.ackedEnd());
    } finally {
      raw.close();
      await server.close();
      rmDir(dir);
    }
  });
});
