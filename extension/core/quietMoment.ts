// A moment when the person is not typing in a notebook: no change of its
// text for `quietMs`. A re-read of the file (a revert) replaces a cell whose
// text differs from what was read, which throws away the keys pressed while
// it ran and moves the focus out of the cell; done only at such a moment,
// there are none. vscode-free (the glue reports each change with `touch`).

export class QuietMoment {
  private last = -Infinity;

  constructor(private readonly now: () => number = Date.now) {}

  /** The person changed the notebook just now. */
  touch(): void {
    this.last = this.now();
  }

  /** Milliseconds until `quietMs` will have passed since the last change (0: quiet now). */
  waitLeft(quietMs: number): number {
    return Math.max(0, this.last + quietMs - this.now());
  }

  /**
   * Resolves at the first moment with no change for `quietMs`; gives up after
   * `giveUpMs` of constant typing (false), so nothing waits for ever.
   */
  async whenQuiet(quietMs: number, giveUpMs: number): Promise<boolean> {
    const start = this.now();
    for (;;) {
      const left = this.waitLeft(quietMs);
      if (left === 0) return true;
      if (this.now() - start >= giveUpMs) return false;
      await new Promise((r) => setTimeout(r, Math.min(left, giveUpMs)));
    }
  }
}
