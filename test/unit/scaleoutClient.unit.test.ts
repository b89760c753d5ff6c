// The room client with a list of server URLs (scale-out failover), without
// PostgreSQL: two independent servers; when the first goes away the client
// moves to the second and uploads everything that server lacks, including
// edits the first acknowledged.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { LoroDoc } from 'loro-crdt';
import { startServer, type RunningServer } from '../../server';
import { RoomClient } from '../../extension/core/sync/roomClient';
import { RawClient, rmDir, tmpDir, waitFor } from '../support/serverHarness';
import { MessageType } from 'loro-protocol';

describe('room client: a list of server URLs', function () {
  this.timeout(60_000);
  let dir: string;
  let a: RunningServer | null = null;
  let b: RunningServer | null = null;

  beforeEach(async () => {
    dir = tmpDir('sqlroom-urls-');
    a = await startServer({ port: 0, db: path.join(dir, 'a.duckdb'), walDir: path.join(dir, 'wal-a'), logLevel: 'silent' });
    b = await startServer({ port: 0, db: path.join(dir, 'b.duckdb'), walDir: path.join(dir, 'wal-b'), logLevel: 'silent' });
  });

  afterEach(async () => {
    await a?.close();
    await b?.close();
    a = b = null;
    rmDir(dir);
  });

  it('moves to the next URL when its server stops, and the new server gets every edit (acked ones too)', async () => {
    const doc = new LoroDoc();
    const client = new RoomClient({ url: a!.url, urls: [a!.url, b!.url], roomId: 'multi', doc, auth: { user: 'ana' }, initialBackoffMs: 20, maxBackoffMs: 200 });
    try {
      await client.whenSynced(10_000);
      assert.equal(client.url, a!.url);
      doc.getText('t').insert(0, 'acked by A;');
      doc.commit();
      await client.whenSynced(10_000);
      await a!.close();
      a = null;
      doc.getText('t').insert(doc.getText('t').length, 'typed while moving;');
      doc.commit();
      await waitFor(() => client.url === b!.url && client.current.state === 'connected', 'client on B', 20_000);
      await client.whenSynced(20_000);
      // What B has now: join with an empty version and read the backfill.
      const raw = await RawClient.connect(b!.url);
      try {
        raw.join('multi', new Uint8Array(), new TextEncoder().encode(JSON.stringify({ user: 'check' })));
        await raw.next(MessageType.JoinResponseOk);
        const seen = new LoroDoc();
        await waitFor(() => {
          for (const m of raw.messages) if (m.type === MessageType.DocUpdate) for (const u of m.updates) seen.import(u);
          return seen.getText('t').toString() === 'acked by A;typed while moving;';
        }, 'B has both edits');
      } finally {
        raw.close();
      }
    } finally {
      client.close();
    }
  });

  it('cycles through the list (and back to the first) while none answers, then connects', async () => {
    const port = a!.port;
    const url = a!.url;
    await a!.close();
    a = null;
    const doc = new LoroDoc();
    const client = new RoomClient({ url: 'ws://127.0.0.1:1', urls: ['ws://127.0.0.1:1', url], roomId: 'cycle', doc, auth: { user: 'ana' }, initialBackoffMs: 20, maxBackoffMs: 100 });
    try {
      const seen = new Set<string>();
      await waitFor(() => (seen.add(client.url), seen.size === 2 && client.url === 'ws://127.0.0.1:1'), 'tried both and came back to the first', 20_000);
      a = await startServer({ port, db: path.join(dir, 'a.duckdb'), walDir: path.join(dir, 'wal-a'), logLevel: 'silent' });
      await client.whenSynced(20_000);
      assert.equal(client.url, url);
    } finally {
      client.close();
    }
  });
});
