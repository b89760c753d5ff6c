// Lets a VS Code test ask the outer harness (scripts/run-vscode-tests.mjs) for
// a screenshot of the workbench at this moment, e.g. with a notebook and its
// results on screen. Handshake through files next to SQLROOM_TEST_RESULTS:
// the test writes <results>.shot-<name>.req, the harness takes
// test-artifacts/vscode-<name>.png and writes <results>.shot-<name>.done.
// Resolves false when no harness listens (desktop route, or not a test run).
import * as fs from 'fs';

export async function requestScreenshot(name: string, timeoutMs = 30_000): Promise<boolean> {
  const results = process.env.SQLROOM_TEST_RESULTS;
  if (!results || process.env.SQLROOM_SCREENSHOTS !== '1') return false;
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '_');
  const done = `${results}.shot-${safe}.done`;
  fs.writeFileSync(`${results}.shot-${safe}.req`, String(Date.now()));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(done)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
