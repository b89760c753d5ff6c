// Out of file descriptors (a real EMFILE: a child process under
// `prlimit --nofile`, every descriptor taken): a write-ahead segment that is
// due for rotation keeps taking records until a new one can be opened, so an
// honest writer's updates are still acknowledged, and the log rotates by
// itself once descriptors are free. Every record reads back, in order.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { WriteAheadLog } from '../../server/wal/wal';
import { rmDir, tmpDir } from '../support/serverHarness';

describe('write-ahead log rotation while the process is out of file descriptors', function () {
  this.timeout(120_000);

  it('appends go on in the current segment (none refused), rotation resumes once descriptors are free, all 20 records read back in order', async function () {
    if (spawnSync('prlimit', ['--version']).status !== 0) {
      if (process.env.CI === 'true') throw new Error('prlimit (util-linux) is missing: this fault cannot be made');
      return this.skip();
    }
    const dir = tmpDir('sqlroom-wal-emfile-');
    try {
      const child = spawnSync('prlimit', ['--nofile=96:96', process.execPath, path.join(__dirname, '..', 'support', 'walEmfileChild.js'), dir], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(child.status, 0, `child failed: ${child.stderr}`);
      const seen = JSON.parse(child.stdout.trim().split('\n').pop()!) as { emfile: boolean; hogs: number; before: (string | null)[]; during: (string | null)[]; after: (string | null)[]; segmentsBefore: number; segmentsDuring: number; segmentsAfter: number };
      assert.ok(seen.emfile && seen.hogs > 0, 'the child ran out of descriptors');
      assert.deepEqual(seen.before, Array(5).fill(null), 'appends before');
      assert.deepEqual(seen.during, Array(10).fill(null), 'appends while out of descriptors are acknowledged, not refused');
      assert.deepEqual(seen.after, Array(5).fill(null), 'appends after');
      assert.equal(seen.segmentsDuring, seen.segmentsBefore, 'no new segment while no file can be opened');
      assert.ok(seen.segmentsAfter > seen.segmentsDuring, 'rotation resumed by itself');
      const reread = new WriteAheadLog(dir);
      const { entries, tornBytes } = await reread.openAndRead();
      await reread.close();
      assert.equal(tornBytes, 0);
      assert.deepEqual(entries.map((e) => e.createdAt), [...Array(20).keys()]);
      for (const e of entries) assert.ok(e.bytes.length === 600 && e.bytes.every((b) => b === e.createdAt % 251), `record ${e.createdAt} intact`);
    } finally {
      rmDir(dir);
    }
  });
});
