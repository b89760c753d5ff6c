// What a fuzz target provides (test/fuzz/targets/*.ts).

export interface FuzzTarget {
  name: string;
  /** Compiled modules to instrument for coverage (absolute path patterns). */
  instrument: RegExp[];
  /** Inputs are cut to this many bytes. */
  maxLen: number;
  /** Tokens the mutator inserts (field names, magic bytes...). */
  dictionary?: (string | Uint8Array)[];
  /** Loads the code under test (after the coverage hook is installed). */
  setup(): Promise<void> | void;
  /**
   * Runs one input. Throwing an error that `isExpected` accepts is a normal,
   * typed rejection; any other throw (or rejection) is a crash.
   */
  exec(data: Uint8Array): Promise<void> | void;
  isExpected(err: unknown): boolean;
}

/** Thrown by a target when an invariant it checks does not hold (always a crash). */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

/**
 * Thrown by a target for a known defect outside this project (e.g. a panic
 * inside Loro's wasm). Counted and reported apart from crashes; `poisoned`
 * means the process state can no longer be trusted (a wasm trap leaves the
 * instance's borrows and stack pointer behind), so the runner continues in a
 * fresh worker.
 */
export class KnownIssue extends Error {
  constructor(message: string, readonly poisoned: boolean) {
    super(message);
    this.name = 'KnownIssue';
  }
}

/** Splits an input into frames: [u16 big-endian length][bytes]...; a short tail is one last frame. */
export function splitFrames(data: Uint8Array, max = 16): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < data.length && out.length < max) {
    if (o + 2 > data.length) {
      out.push(data.subarray(o));
      break;
    }
    const n = (data[o] << 8) | data[o + 1];
    out.push(data.subarray(o + 2, Math.min(data.length, o + 2 + n)));
    o += 2 + n;
  }
  return out;
}

export function joinFrames(frames: Uint8Array[]): Uint8Array {
  const parts: number[] = [];
  for (const f of frames) {
    if (f.length > 0xffff) throw new Error('frame too long for the corpus framing');
    parts.push(f.length >> 8, f.length & 0xff, ...f);
  }
  return Uint8Array.from(parts);
}
