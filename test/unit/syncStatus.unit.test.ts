// What the status bar says (extension/core/sync/statusText) and the offline
// cache (extension/core/sync/localCache): plain Node, no VS Code.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LoroDoc } from 'loro-crdt';
import { LocalCache } from '../../extension/core/sync/localCache';
import { describeStatus } from '../../extension/core/sync/statusText';
import { markedName } from '../../server/shared/collaboratorColor';

const robot = { key: 'r', name: 'robot', color: 1 };

describe('Sync status text', () => {
  it('names the state, the pending count and who else is here', () => {
    assert.match(describeStatus({ state: 'connected', pending: 0, presence: true }, [], 'ws://x').text, /connected$/);
    assert.match(describeStatus({ state: 'connected', pending: 0, presence: true }, [robot], 'ws://x').text, new RegExp(`connected · ${markedName('robot')}`));
    assert.match(describeStatus({ state: 'connected', pending: 0, presence: true }, [robot], 'ws://x').tooltip, new RegExp(`Also here: ${markedName('robot')}`));
    assert.match(describeStatus({ state: 'connected', pending: 0, presence: true }, [robot, { ...robot, key: 'b', name: 'bob' }], 'ws://x').text, /2 others/);
    assert.match(describeStatus({ state: 'connected', pending: 3, presence: true }, [], 'ws://x').text, /syncing 3 pending/);
    assert.match(describeStatus({ state: 'offline', pending: 2, presence: null }, [], 'ws://x').text, /offline \(2 local changes\)/);
    const err = describeStatus({ state: 'error', pending: 0, presence: null, detail: 'join refused: authentication failed' }, [], 'ws://x');
    assert.match(err.text, /sync error/);
    assert.match(err.tooltip, /authentication failed/);
    assert.equal(err.severity, 'error');
    const merged = describeStatus({ state: 'connected', pending: 0, presence: true, merged: { localOps: 5, remoteOps: 7 } }, [], 'ws://x');
    assert.match(merged.text, /back online, merged/);
    assert.match(merged.tooltip, /5 local and 7 remote/);
    assert.match(describeStatus({ state: 'connected', pending: 0, presence: false }, [], 'ws://x').tooltip, /does not relay presence/);
  });
});

describe('Offline cache', () => {
  it('keeps the latest state per document and refuses unsafe ids', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-cache-'));
    try {
      const cache = new LocalCache(dir);
      const doc = new LoroDoc();
      const stop = cache.watch('doc-1', doc, 10);
      doc.getText('t').insert(0, 'offline edit');
      doc.commit();
      stop(); // writes what is pending
      const back = new LoroDoc();
      back.import(cache.read('doc-1')!);
      assert.equal(back.getText('t').toString(), 'offline edit');
      assert.equal(cache.fileFor('../escape'), undefined);
      assert.equal(cache.read('missing'), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
