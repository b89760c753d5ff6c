// Local write-ahead file with group commit. Accepted updates are appended and
// acknowledged after one fdatasync covering everything that arrived meanwhile.
// The file is split into segments; a segment is deleted once every entry in it
// has been committed to the database (`release`), so the WAL only holds what
// the database may not have yet.
import { promises as fsp, mkdirSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { WalEntry, decodeSegment, encodeEntry } from './walFormat';

interface Segment {
  id: number;
  file: string;
  fh: fsp.FileHandle | null;
  size: number;
  /** Entries written to this segment and not yet released. */
  outstanding: number;
}

interface Pending {
  buf: Buffer;
  resolve: (segmentId: number) => void;
  reject: (err: Error) => void;
}

export interface WalStats {
  segments: number;
  /** Entries not yet committed to the database. */
  depth: number;
  bytes: number;
  /** Bytes of segments still holding entries not in the database (what the size limit counts). */
  liveBytes: number;
  fsyncs: number;
  lastFsyncMs: number;
}

const SEG_RE = /^wal-(\d{12})\.log$/;

export class WriteAheadLog {
  private segments = new Map<number, Segment>();
  private current: Segment | null = null;
  private pending: Pending[] = [];
  private writing: Promise<void> | null = null;
  private closed = false;
  private fsyncs = 0;
  private lastFsyncMs = 0;

  constructor(readonly dir: string, private readonly segmentBytes = 8 * 1024 * 1024) {}

  /**
   * Read every existing segment (oldest first). The caller re-applies and
   * re-appends what the database lacks, then calls `dropReplayed()`.
   */
  async openAndRead(): Promise<{ entries: WalEntry[]; tornBytes: number; oldSegments: string[] }> {
    mkdirSync(this.dir, { recursive: true });
    const names = readdirSync(this.dir).filter((n) => SEG_RE.test(n)).sort();
    const entries: WalEntry[] = [];
    let tornBytes = 0;
    let maxId = 0;
    for (const n of names) {
      maxId = Math.max(maxId, Number(SEG_RE.exec(n)![1]));
      const res = decodeSegment(await fsp.readFile(path.join(this.dir, n)));
      entries.push(...res.entries);
      tornBytes += res.tornBytes;
    }
    await this.startSegment(maxId + 1);
    return { entries, tornBytes, oldSegments: names.map((n) => path.join(this.dir, n)) };
  }

  /** Delete segments from a previous run once their entries are durable again. */
  async dropReplayed(files: string[]): Promise<void> {
    for (const f of files) await fsp.rm(f, { force: true });
    await this.syncDir();
  }

  /** Append an entry; resolves with its segment id once it is on disk (fdatasync). */
  append(entry: WalEntry): Promise<number> {
    if (this.closed) return Promise.reject(new Error('write-ahead log is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ buf: encodeEntry(entry), resolve, reject });
      this.kick();
    });
  }

  /** `count` entries of segment `segmentId` are now in the database. */
  release(segmentId: number, count: number): void {
    const seg = this.segments.get(segmentId);
    if (!seg) return;
    seg.outstanding -= count;
    if (seg.outstanding <= 0 && seg !== this.current) {
      this.segments.delete(seg.id);
      void fsp.rm(seg.file, { force: true }).catch(() => undefined);
    }
  }

  stats(): WalStats {
    let depth = 0;
    let bytes = 0;
    let liveBytes = 0;
    for (const s of this.segments.values()) {
      depth += s.outstanding;
      bytes += s.size;
      if (s.outstanding > 0) liveBytes += s.size;
    }
    return { segments: this.segments.size, depth, bytes, liveBytes, fsyncs: this.fsyncs, lastFsyncMs: this.lastFsyncMs };
  }

  /** Wait for pending writes; delete fully released segments (including the current one). */
  async close(): Promise<void> {
    while (this.writing) await this.writing;
    this.closed = true;
    for (const seg of [...this.segments.values()]) {
      await seg.fh?.close();
      seg.fh = null;
      if (seg.outstanding <= 0) {
        await fsp.rm(seg.file, { force: true });
        this.segments.delete(seg.id);
      }
    }
  }

  private kick(): void {
    if (this.writing) return;
    this.writing = this.drain().finally(() => {
      this.writing = null;
      if (this.pending.length) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.splice(0);
      try {
        await this.maybeRotate();
        const seg = this.current!;
        const buf = batch.length === 1 ? batch[0].buf : Buffer.concat(batch.map((p) => p.buf));
        await seg.fh!.write(buf, 0, buf.length, seg.size);
        const t0 = performance.now();
        await seg.fh!.datasync();
        this.lastFsyncMs = performance.now() - t0;
        this.fsyncs++;
        seg.size += buf.length;
        seg.outstanding += batch.length;
        for (const p of batch) p.resolve(seg.id);
      } catch (err) {
        for (const p of batch) p.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /** New segment when the current one is big; reuse it when everything in it is released. */
  private async maybeRotate(): Promise<void> {
    const cur = this.current!;
    if (cur.outstanding <= 0 && cur.size > 0) {
      await cur.fh!.truncate(0);
      cur.size = 0;
    } else if (cur.size >= this.segmentBytes) {
      await cur.fh!.close();
      cur.fh = null;
      await this.startSegment(cur.id + 1);
    }
  }

  private async startSegment(id: number): Promise<void> {
    const file = path.join(this.dir, `wal-${String(id).padStart(12, '0')}.log`);
    const fh = await fsp.open(file, 'w');
    const seg: Segment = { id, file, fh, size: 0, outstanding: 0 };
    this.segments.set(id, seg);
    this.current = seg;
    await this.syncDir();
  }

  private async syncDir(): Promise<void> {
    const dh = await fsp.open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}
