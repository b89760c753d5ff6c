// `sqlroom-server merge-file %O %A %B [%P]`: the git merge driver for
// `.sqlroom` notebooks. Git hands it the merge base, our side and their side
// as temporary files; the two sides are merged through their Loro histories
// (no conflict markers) and the result is written to %A. Exit 0 = merged;
// 1 = a side cannot be read (git then reports a conflict and keeps %A as it was).
import * as fs from 'node:fs';
import { mergeSqlroomFiles } from './shared/sqlroomMerge';

export const MERGE_FILE_USAGE = 'usage: sqlroom-server merge-file BASE OURS THEIRS [PATH]  (git: driver = sqlroom-server merge-file %O %A %B %P)';

export function mergeFile(args: string[], stderr: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (args.length < 3 || args.length > 4 || args.some((a) => a.startsWith('-'))) {
    stderr(`sqlroom-server: ${MERGE_FILE_USAGE}\n`);
    return 2;
  }
  const [basePath, oursPath, theirsPath, shown] = args;
  const name = shown ?? oursPath;
  try {
    const read = (p: string) => new Uint8Array(fs.readFileSync(p));
    // An empty base (the file was added on both branches) is no base.
    const base = fs.existsSync(basePath) ? read(basePath) : undefined;
    const result = mergeSqlroomFiles(read(oursPath), read(theirsPath), base && base.length > 0 ? base : undefined);
    fs.writeFileSync(oursPath, result.bytes);
    return 0;
  } catch (err) {
    stderr(`sqlroom-server merge-file: cannot merge ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
