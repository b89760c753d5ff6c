// Run under `prlimit --nofile=N:N` by walRotationEmfile.unit.test.ts: a
// write-ahead log with small segments takes appends while every file
// descriptor of this process is in use (a real EMFILE from the kernel), then
// after they are freed. Prints what happened as one JSON line.
import * as fs from 'node:fs';
import { WriteAheadLog } from '../../server/wal/wal';

async function main(): Promise<void> {
  const dir = process.argv[2];
  const wal = new WriteAheadLog(dir, 2048);
  await wal.openAndRead();
  let seq = 0;
  const append = async () => {
    const n = seq++;
    try {
      await wal.append({ roomKey: 'r@main', author: 'a', createdAt: n, bytes: new Uint8Array(600).fill(n % 251) });
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  };
  const before: (string | null)[] = [];
  for (let i = 0; i < 5; i++) before.push(await append());
  const segmentsBefore = wal.stats().segments;
  // Every descriptor taken: opening a new segment fails with EMFILE.
  const hogs: number[] = [];
  let emfile = false;
  for (let i = 0; i < 100_000 && !emfile; i++) {
    try {
      hogs.push(fs.openSync('/dev/null', 'r'));
    } catch (err) {
      emfile = (err as NodeJS.ErrnoException).code === 'EMFILE';
      if (!emfile) throw err;
    }
  }
  const during: (string | null)[] = [];
  for (let i = 0; i < 10; i++) during.push(await append());
  const segmentsDuring = wal.stats().segments;
  for (const fd of hogs) fs.closeSync(fd);
  const after: (string | null)[] = [];
  for (let i = 0; i < 5; i++) after.push(await append());
  const segmentsAfter = wal.stats().segments;
  await wal.close();
  process.stdout.write(`${JSON.stringify({ emfile, hogs: hogs.length, before, during, after, segmentsBefore, segmentsDuring, segmentsAfter })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
