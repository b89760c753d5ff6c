// Reads the istanbul counters after an execution and turns them into
// "features" (file, branch arm or function, hit-count bucket), as AFL does
// with its edge map: an input is interesting when it produces a feature no
// earlier input produced.
import { COVERAGE_VAR } from './instrument';

interface FileCoverage {
  b: Record<string, number[]>;
  f: Record<string, number>;
}

/** AFL-style hit-count buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
function bucket(n: number): number {
  if (n <= 3) return n;
  if (n < 8) return 4;
  if (n < 16) return 5;
  if (n < 32) return 6;
  if (n < 128) return 7;
  return 8;
}

export class CoverageTracker {
  private seen = new Set<number>();
  private armsHit = new Set<number>();
  private fileIds = new Map<string, number>();

  private files(): [string, FileCoverage][] {
    const cov = (globalThis as Record<string, unknown>)[COVERAGE_VAR] as Record<string, FileCoverage> | undefined;
    return cov ? Object.entries(cov) : [];
  }

  private fileId(name: string): number {
    let id = this.fileIds.get(name);
    if (id === undefined) {
      id = this.fileIds.size;
      this.fileIds.set(name, id);
    }
    return id;
  }

  /** Zero every counter (before an execution). */
  reset(): void {
    for (const [, fc] of this.files()) {
      for (const arms of Object.values(fc.b)) arms.fill(0);
      for (const k of Object.keys(fc.f)) fc.f[k] = 0;
    }
  }

  /**
   * Features of the execution that just ran; returns how many were new (and
   * records them). Feature id = ((file * 2^14 + branch) * 2^6 + arm) * 16 + bucket;
   * functions use branch ids offset by 2^13.
   */
  collect(): number {
    let fresh = 0;
    for (const [name, fc] of this.files()) {
      const fid = this.fileId(name);
      for (const [bid, arms] of Object.entries(fc.b)) {
        for (let a = 0; a < arms.length; a++) {
          const n = arms[a];
          if (n === 0) continue;
          const arm = (fid * 16384 + Number(bid)) * 64 + Math.min(a, 63);
          this.armsHit.add(arm);
          const feature = arm * 16 + bucket(n);
          if (!this.seen.has(feature)) {
            this.seen.add(feature);
            fresh++;
          }
        }
      }
      for (const [fnId, n] of Object.entries(fc.f)) {
        if (n === 0) continue;
        const feature = ((fid * 16384 + 8192 + Number(fnId)) * 64) * 16 + bucket(n);
        if (!this.seen.has(feature)) {
          this.seen.add(feature);
          fresh++;
        }
      }
    }
    return fresh;
  }

  /** Branch arms hit so far / branch arms in the instrumented files. */
  branches(): { covered: number; total: number } {
    let total = 0;
    for (const [, fc] of this.files()) for (const arms of Object.values(fc.b)) total += arms.length;
    return { covered: this.armsHit.size, total };
  }

  get features(): number {
    return this.seen.size;
  }
}
