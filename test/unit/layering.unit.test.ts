// The layering DESIGN.md asks for: only extension/ (outside core/) may import
// `vscode`; the server, shared modules and extension core stay plain Node.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..', '..');

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('layering', () => {
  for (const dir of ['server', 'extension/core', 'media']) {
    it(`${dir}/ does not import vscode`, () => {
      const files = tsFiles(path.join(root, dir));
      assert.ok(files.length > 0, `${dir} has TypeScript files`);
      const offenders = files.filter((f) => /from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)/.test(fs.readFileSync(f, 'utf8')));
      assert.deepStrictEqual(offenders.map((f) => path.relative(root, f)), []);
    });
  }
});
