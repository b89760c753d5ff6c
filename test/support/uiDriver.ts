// Lets a VS Code test drive the workbench as a person would, through the
// outer harness's Playwright page (scripts/run-vscode-tests.mjs, code-server
// route): click, choose, type and read in the workbench or inside notebook
// output webviews. Handshake through files next to SQLROOM_TEST_RESULTS, like
// screenshot.ts: the test writes <results>.ui-<n>.req (a UiStep as JSON), the
// harness does it and writes <results>.ui-<n>.done ({ ok, error?, texts? }).
// Selectors match visible elements only (as a person sees them).
import * as fs from 'fs';

export type UiFrame = 'workbench' | 'output';

export type UiStep =
  /** Clicks the first element matching `selector` (in `frame`, default the workbench) once it is there. */
  | { do: 'click'; selector: string; frame?: UiFrame; hasText?: string }
  /** Chooses `value` in a <select>. */
  | { do: 'select'; selector: string; value: string; frame?: UiFrame }
  /** Replaces the text of an input and presses Enter. */
  | { do: 'fill'; selector: string; value: string; frame?: UiFrame; enter?: boolean }
  /** Waits until an element matching `selector` shows `hasText` (or just exists). */
  | { do: 'wait'; selector: string; hasText?: string; frame?: UiFrame }
  /** The text of every element matching `selector` (waits for at least one). */
  | { do: 'texts'; selector: string; frame?: UiFrame };

export interface UiResult {
  ok: boolean;
  error?: string;
  texts?: string[];
}

let counter = 0;

/** Whether a harness listens (the code-server route; not the desktop route). */
export function uiAvailable(): boolean {
  return !!process.env.SQLROOM_TEST_RESULTS && process.env.SQLROOM_SCREENSHOTS === '1';
}

/** Does one step through the harness; throws with the harness's reason when it fails. `timeoutMs` is a hang guard only. */
export async function ui(step: UiStep, timeoutMs = 90_000): Promise<UiResult> {
  const results = process.env.SQLROOM_TEST_RESULTS;
  if (!results || !uiAvailable()) throw new Error('no UI harness (run the VS Code suite through code-server)');
  const n = `${process.pid}-${++counter}`;
  const done = `${results}.ui-${n}.done`;
  fs.writeFileSync(`${results}.ui-${n}.req.tmp`, JSON.stringify(step));
  fs.renameSync(`${results}.ui-${n}.req.tmp`, `${results}.ui-${n}.req`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(done)) {
      const result = JSON.parse(fs.readFileSync(done, 'utf8')) as UiResult;
      if (!result.ok) throw new Error(`UI step ${JSON.stringify(step)} failed: ${result.error}`);
      return result;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`UI step ${JSON.stringify(step)}: no answer from the harness`);
}
