// Reads what each code-server window shows from its extension host's reporter
// (secondWindow.ts, reporter mode): the collaboration tests that drive pages
// with Playwright assert on this, never on a window-level API call.
import * as fs from 'fs';
import * as path from 'path';
import type { WindowState } from './secondWindow';
import { sleep } from './notebookTestUtils';

export type Shown = WindowState['notebooks'][number];

export class ReporterWindows {
  /** `results`: the suite's SQLROOM_TEST_RESULTS; reporters write `${results}.host-<pid>.json`. */
  constructor(private readonly results: string) {}

  /** Turns reporter mode on for windows opened from now on. */
  start(): void {
    fs.writeFileSync(`${this.results}.reporter`, '');
  }

  stop(): void {
    fs.rmSync(`${this.results}.reporter`, { force: true });
  }

  /** The extension host pid of a window opened after `known` were: its reporter file appears. */
  async hostOf(known: Set<number>): Promise<number> {
    const dir = path.dirname(this.results);
    const prefix = `${path.basename(this.results)}.host-`;
    for (let i = 0; i < 600; i++) {
      for (const f of fs.readdirSync(dir)) {
        const m = f.startsWith(prefix) && /^(\d+)\.json$/.exec(f.slice(prefix.length));
        if (m && !known.has(Number(m[1]))) return Number(m[1]);
      }
      await sleep(200);
    }
    throw new Error('the window\'s extension host never reported');
  }

  shown(pid: number, file: string): Shown | undefined {
    return this.state(pid)?.notebooks.find((n) => n.path === file);
  }

  /** The window's whole report (undefined while it is being replaced). */
  state(pid: number): WindowState | undefined {
    try {
      return JSON.parse(fs.readFileSync(`${this.results}.host-${pid}.json`, 'utf8')) as WindowState;
    } catch {
      return undefined;
    }
  }

  /** Resolves with what the window shows once `ok` holds; `ms` is a hang guard. */
  async until(what: string, pid: number, file: string, ok: (n: Shown) => boolean, ms = 90_000): Promise<Shown> {
    const deadline = Date.now() + ms;
    let last: Shown | undefined;
    while (Date.now() < deadline) {
      last = this.shown(pid, file);
      if (last && ok(last)) return last;
      await sleep(200);
    }
    throw new Error(`timed out waiting for ${what}; the window shows ${JSON.stringify(last)}`);
  }
}

export const textOf = (n: Shown) => n.cells.map((c) => c.source).join('\n');
export const countOf = (haystack: string, needle: string) => haystack.split(needle).length - 1;
