// Real disk faults for the server tests: a small tmpfs that can be filled
// (full disk, short writes) and a loop-mounted ext4 that can be frozen
// (a stalled database). Both need root and mount(8); `requireMounts(this)`
// skips a suite with the reason locally and fails it when CI=true.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

let probed: string | null | undefined;

/** Why mounts cannot be used here, or null when they can (probed once: mounts a 1 MB tmpfs). */
export function mountsUnavailable(): string | null {
  if (probed !== undefined) return probed;
  if (process.getuid?.() !== 0) return (probed = 'needs root to mount a tmpfs / loop device');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sqlroom-mount-probe-'));
  try {
    run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    run('umount', [dir]);
    probed = null;
  } catch (err) {
    probed = `cannot mount a tmpfs: ${(err as Error).message.split('\n')[0]}`;
  }
  rmSync(dir, { recursive: true, force: true });
  return probed;
}

export function requireMounts(ctx: Mocha.Context, extra: (string | null)[] = []): void {
  const reason = mountsUnavailable() ?? extra.find((r) => r) ?? null;
  if (!reason) return;
  if (process.env.CI === 'true') throw new Error(`disk-fault tests need root and mounts in CI: ${reason}`);
  // eslint-disable-next-line no-console
  console.log(`      (skipped: ${reason})`);
  ctx.skip();
}

/** A tmpfs of `sizeBytes` at a fresh directory; `fill` leaves only a few bytes free. */
export class SmallDisk {
  private fillers = 0;
  private constructor(readonly dir: string) {}

  static mount(sizeBytes: number): SmallDisk {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sqlroom-smalldisk-'));
    run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir]);
    return new SmallDisk(dir);
  }

  /** Free bytes as statfs reports them. */
  free(): number {
    const s = statfsSync(this.dir);
    return s.bavail * s.bsize;
  }

  sub(name: string): string {
    const p = path.join(this.dir, name);
    mkdirSync(p, { recursive: true });
    return p;
  }

  /** Write filler files until at most `leaveBytes` are free (ENOSPC ends a filler). */
  fill(leaveBytes = 0): void {
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    const fd = openSync(path.join(this.dir, `filler-${++this.fillers}`), 'w');
    try {
      for (;;) {
        const room = this.free() - leaveBytes;
        if (room <= 0) break;
        const n = Math.min(room, chunk.length);
        let wrote: number;
        try {
          wrote = writeSync(fd, chunk, 0, n);
        } catch {
          break; // ENOSPC
        }
        if (wrote < n) break;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Delete every filler: space comes back. */
  unfill(): void {
    for (let i = 1; i <= this.fillers; i++) rmSync(path.join(this.dir, `filler-${i}`), { force: true });
  }

  unmount(): void {
    try {
      run('umount', [this.dir]);
    } catch {
      run('umount', ['-l', this.dir]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An ext4 file system in a file, loop-mounted: `freeze()` stalls every write to it (fsfreeze). */
export class FreezableDisk {
  private frozen = false;
  private constructor(readonly dir: string, private readonly image: string) {}

  static mount(sizeMb = 64): FreezableDisk {
    const base = mkdtempSync(path.join(os.tmpdir(), 'sqlroom-ext4-'));
    const image = path.join(base, 'disk.img');
    const dir = path.join(base, 'mnt');
    mkdirSync(dir);
    run('truncate', ['-s', `${sizeMb}M`, image]);
    run('mkfs.ext4', ['-q', '-F', image]);
    run('mount', ['-o', 'loop', image, dir]);
    return new FreezableDisk(dir, image);
  }

  freeze(): void {
    run('fsfreeze', ['-f', this.dir]);
    this.frozen = true;
  }

  thaw(): void {
    if (!this.frozen) return;
    run('fsfreeze', ['-u', this.dir]);
    this.frozen = false;
  }

  unmount(): void {
    try {
      this.thaw();
    } finally {
      try {
        run('umount', [this.dir]);
      } catch {
        run('umount', ['-l', this.dir]);
      }
      rmSync(path.dirname(this.image), { recursive: true, force: true });
    }
  }
}
