// Local write-ahead file with group commit. Accepted updates are appended and
// acknowledged after one fdatasync covering everything that arrived meanwhile.
// The file is split into segments; a segment is deleted once every entry in it
// has been committed to the database (`release`), so the WAL only holds what
// the database may not have yet.
//
// Disk faults: every byte of a batch must be written (short writes are
// retried; a write that makes no progress or fails rejects the whole batch)
// and fdatasynced before any of it is acknowledged. After a failed batch the
// segment is cut back to its last whole record; if that cut (or the fsync)
// fails, the segment is sealed and later records go to a new one, so a torn
// record is never followed by acknowledged records in the same file.
// Segments of a previous run are kept as they are until every entry in them
// is in the database: a restart needs no free space to keep them.
// A rotation opens the new segment before it lets go of the current one: when
// no file can be opened (the process is out of descriptors, EMFILE), records
// keep going to the current segment, past its target size, and the rotation
// is tried again with the next batch. The directory is held open from the
// start, so a rotation needs one new descriptor, not two.
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
  /** Update bytes of those entries. */
  outstandingBytes: number;
}

interface Pending {
  buf: Buffer;
  updateBytes: number;
  resolve: (segmentId: number) => void;
  reject: (err: Error) => void;
}

export interface WalStats {
  segments: number;
  /** Entries not yet committed to the database. */
  depth: number;
  /** Bytes in segment files. */
  bytes: number;
  /** Update bytes of the entries not yet in the database (what the size limit counts). */
  liveBytes: number;
  fsyncs: number;
  lastFsyncMs: number;
  /** Batches whose write or fsync failed (never acknowledged). */
  writeFailures: number;
}

/** One entry read back from a previous run, with the segment that holds it. */
export interface ReadEntry extends WalEntry {
  segment: number;
}

const SEG_RE = /^wal-(\d{12})\.log$/;

export class WriteAheadLog {
  private segments = new Map<number, Segment>();
  private current: Segment | null = null;
  /** The current segment may hold a partial record: start a new one before writing. */
  private sealCurrent = false;
  private pending: Pending[] = [];
  private writing: Promise<void> | null = null;
  private closed = false;
  private fsyncs = 0;
  private lastFsyncMs = 0;
  /** Called with each group commit's fdatasync time (ms), for the latency histogram of /metrics. */
  onFsync: ((ms: number) => void) | null = null;
  private writeFailures = 0;
  /** The WAL directory, open for its fsyncs (a new segment's name must be durable before records in it are acked). */
  private dirHandle: fsp.FileHandle | null = null;

  /**
   * segmentBytes: a segment is deleted once every entry in it is in the database, so its
   * size bounds what a restart after a crash reads again only to find it stored already
   * (256 KiB: about 1,500 keystroke updates, a fraction of a second to skip).
   */
  constructor(readonly dir: string, private readonly segmentBytes = 256 * 1024) {}

  /**
   * Read every existing segment (oldest first). Segments holding entries stay
   * on disk and count as outstanding until the caller releases each entry
   * (`release`) once the database has it; empty ones are deleted. New entries
   * go to a fresh segment.
   */
  async openAndRead(): Promise<{ entries: ReadEntry[]; tornBytes: number; tornRegions: number; tornSegments: string[] }> {
    mkdirSync(this.dir, { recursive: true });
    this.dirHandle = await fsp.open(this.dir, 'r');
    const names = readdirSync(this.dir).filter((n) => SEG_RE.test(n)).sort();
    const entries: ReadEntry[] = [];
    let tornBytes = 0;
    let tornRegions = 0;
    const tornSegments: string[] = [];
    let maxId = 0;
    for (const n of names) {
      const id = Number(SEG_RE.exec(n)![1]);
      maxId = Math.max(maxId, id);
      const file = path.join(this.dir, n);
      const buf = await fsp.readFile(file);
      const res = decodeSegment(buf);
      for (const e of res.entries) entries.push({ ...e, segment: id });
      tornBytes += res.tornBytes;
      tornRegions += res.tornRegions;
      if (res.tornBytes) tornSegments.push(n);
      if (res.entries.length === 0) {
        await fsp.rm(file, { force: true });
        continue;
      }
      const outstandingBytes = res.entries.reduce((s, e) => s + e.bytes.length, 0);
      this.segments.set(id, { id, file, fh: null, size: buf.length, outstanding: res.entries.length, outstandingBytes });
    }
    this.current = await this.openSegment(maxId + 1);
    return { entries, tornBytes, tornRegions, tornSegments };
  }

  /** Append an entry; resolves with its segment id once it is on disk (fdatasync). */
  append(entry: WalEntry): Promise<number> {
    if (this.closed) return Promise.reject(new Error('write-ahead log is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ buf: encodeEntry(entry), updateBytes: entry.bytes.length, resolve, reject });
      this.kick();
    });
  }

  /** `count` entries (`bytes` update bytes) of segment `segmentId` are now in the database. */
  release(segmentId: number, count: number, bytes: number): void {
    const seg = this.segments.get(segmentId);
    if (!seg) return;
    seg.outstanding -= count;
    seg.outstandingBytes = Math.max(0, seg.outstandingBytes - bytes);
    if (seg.outstanding <= 0 && seg !== this.current) {
      this.segments.delete(seg.id);
      const fh = seg.fh;
      seg.fh = null;
      void (fh ? fh.close() : Promise.resolve()).then(() => fsp.rm(seg.file, { force: true })).catch(() => undefined);
    }
  }

  stats(): WalStats {
    let bytes = 0;
    let liveBytes = 0;
    for (const s of this.segments.values()) {
      bytes += s.size;
      liveBytes += s.outstandingBytes;
    }
    return { segments: this.segments.size, depth: this.depth(), bytes, liveBytes, fsyncs: this.fsyncs, lastFsyncMs: this.lastFsyncMs, writeFailures: this.writeFailures };
  }

  /** Entries not yet released (stats().depth without the rest). */
  depth(): number {
    let n = 0;
    for (const s of this.segments.values()) n += Math.max(0, s.outstanding);
    return n;
  }

  /** Wait for pending writes; delete fully released segments (including the current one). */
  async close(): Promise<void> {
    while (this.writing) await this.writing;
    this.closed = true;
    for (const seg of [...this.segments.values()]) {
      await seg.fh?.close().catch(() => undefined);
      seg.fh = null;
      if (seg.outstanding <= 0) {
        await fsp.rm(seg.file, { force: true });
        this.segments.delete(seg.id);
      }
    }
    await this.dirHandle?.close().catch(() => undefined);
    this.dirHandle = null;
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
      const buf = batch.length === 1 ? batch[0].buf : Buffer.concat(batch.map((p) => p.buf));
      let seg: Segment | null = null;
      try {
        await this.maybeRotate();
        seg = this.current!;
        await writeAll(seg.fh!, buf, seg.size);
        const t0 = performance.now();
        await seg.fh!.datasync();
        this.lastFsyncMs = performance.now() - t0;
        this.fsyncs++;
        this.onFsync?.(this.lastFsyncMs);
      } catch (err) {
        this.writeFailures++;
        if (seg) await this.cutBack(seg);
        else this.sealCurrent = true;
        for (const p of batch) p.reject(err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      seg.size += buf.length;
      seg.outstanding += batch.length;
      for (const p of batch) seg.outstandingBytes += p.updateBytes;
      for (const p of batch) p.resolve(seg.id);
    }
  }

  /** After a failed batch: drop its partial bytes, or seal the segment when that cannot be made sure. */
  private async cutBack(seg: Segment): Promise<void> {
    try {
      await seg.fh!.truncate(seg.size);
      await seg.fh!.datasync();
    } catch {
      this.sealCurrent = true;
    }
  }

  /**
   * New segment when the current one is big or sealed (opened before the
   * current one is let go); reuse it when everything in it is released.
   */
  private async maybeRotate(): Promise<void> {
    const cur = this.current!;
    if (this.sealCurrent || cur.size >= this.segmentBytes) {
      let next: Segment;
      try {
        next = await this.openSegment(cur.id + 1);
      } catch (err) {
        // A big segment takes more records meanwhile; a sealed one may end in a torn record.
        if (this.sealCurrent) throw err;
        return;
      }
      await cur.fh?.close().catch(() => undefined);
      cur.fh = null;
      if (cur.outstanding <= 0) {
        this.segments.delete(cur.id);
        await fsp.rm(cur.file, { force: true }).catch(() => undefined);
      }
      this.current = next;
      this.sealCurrent = false;
    } else if (cur.outstanding <= 0 && cur.size > 0) {
      await cur.fh!.truncate(0);
      cur.size = 0;
    }
  }

  /** Creates segment `id`, its name durable in the directory; nothing is left behind when that fails. */
  private async openSegment(id: number): Promise<Segment> {
    const file = path.join(this.dir, `wal-${String(id).padStart(12, '0')}.log`);
    const fh = await fsp.open(file, 'w');
    try {
      await this.dirHandle!.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await fsp.rm(file, { force: true }).catch(() => undefined);
      throw err;
    }
    const seg: Segment = { id, file, fh, size: 0, outstanding: 0, outstandingBytes: 0 };
    this.segments.set(id, seg);
    return seg;
  }
}

/** Write every byte of `buf` at `pos`: a short write is continued; one that writes nothing fails. */
async function writeAll(fh: fsp.FileHandle, buf: Buffer, pos: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, pos + off);
    if (bytesWritten <= 0) throw Object.assign(new Error(`short write to the write-ahead file: ${off} of ${buf.length} bytes written (disk full?)`), { code: 'ENOSPC' });
    off += bytesWritten;
  }
}
