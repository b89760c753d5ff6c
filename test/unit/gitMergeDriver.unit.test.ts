// The git merge driver for .sqlroom notebooks, through a real `git merge` of
// two branches that both edited one notebook (git in a temporary repository,
// the driver configured as docs/file-format.md says). Without the driver git
// merges the file as text and leaves conflict markers; the file then reads
// with a precise error and its two sides still merge.
import * as assert from 'assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { parseSqlroomFile, serializeSqlroomFile, SqlroomFileError } from '../../server/shared/sqlroomFile';
import { parseConflictedFile } from '../../server/shared/sqlroomMerge';

const CLI = path.resolve(__dirname, '../../server/cli.js');
const DOC_ID = 'git-merge-driver-test';

describe('git merge driver: sqlroom-server merge-file', function () {
  this.timeout(60_000);
  let repo: string;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const file = () => path.join(repo, 'demo.sqlroom');
  const edit = (fn: (nb: NotebookDoc) => void) => {
    const parsed = parseSqlroomFile(fs.readFileSync(file()));
    fn(parsed.notebook);
    parsed.notebook.commit();
    fs.writeFileSync(file(), serializeSqlroomFile(parsed.notebook, DOC_ID));
  };

  beforeEach(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-git-'));
    git('init', '-q', '-b', 'main');
    git('config', 'user.name', 'Test');
    git('config', 'user.email', 'test@example.invalid');
    git('config', 'commit.gpgsign', 'false');
    const nb = new NotebookDoc();
    nb.insertCell(0, { kind: 'code', language: 'sql', source: 'SELECT 1 AS a' });
    nb.insertCell(1, { kind: 'code', language: 'sql', source: 'SELECT 2 AS b' });
    nb.commit();
    fs.writeFileSync(file(), serializeSqlroomFile(nb, DOC_ID));
    git('add', '.');
    git('commit', '-q', '-m', 'base');
    git('checkout', '-q', '-b', 'feature');
    edit((n) => {
      n.spliceCellSource(n.cellIds()[0], 13, 0, ' -- feature');
      n.insertCell(2, { kind: 'code', language: 'sql', source: 'SELEC 1' });
    });
    git('commit', '-q', '-am', 'feature edits');
    git('checkout', '-q', 'main');
    edit((n) => n.spliceCellSource(n.cellIds()[1], 13, 0, ' ORDER BY 1 DESC LIMIT 2'));
    git('commit', '-q', '-am', 'main edits');
  });
  afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

  it('merges both branches through Loro: no conflict, every edit once', () => {
    fs.writeFileSync(path.join(repo, '.gitattributes'), '*.sqlroom merge=sqlroom\n');
    git('config', 'merge.sqlroom.name', 'SQLRoom notebook (Loro merge)');
    git('config', 'merge.sqlroom.driver', `"${process.execPath}" "${CLI}" merge-file %O %A %B %P`);
    const res = spawnSync('git', ['merge', '--no-edit', 'feature'], { cwd: repo, encoding: 'utf8' });
    assert.strictEqual(res.status, 0, `git merge failed: ${res.stdout}${res.stderr}`);
    const text = fs.readFileSync(file(), 'utf8');
    assert.ok(!/^(<<<<<<<|=======|>>>>>>>)/m.test(text), 'no conflict markers');
    const merged = parseSqlroomFile(new TextEncoder().encode(text));
    assert.strictEqual(merged.reconciled, false, 'the plain cells are the snapshot\'s');
    assert.deepStrictEqual(
      merged.notebook.toData().cells.map((c) => c.source),
      ['SELECT 1 AS a -- feature', 'SELECT 2 AS b ORDER BY 1 DESC LIMIT 2', 'SELEC 1'],
    );
    assert.strictEqual(git('status', '--porcelain', '--untracked-files=no').trim(), '', 'the merge was committed');
  });

  it('without the driver: conflict markers, a precise error, and the two sides merge', () => {
    const res = spawnSync('git', ['merge', '--no-edit', 'feature'], { cwd: repo, encoding: 'utf8' });
    assert.notStrictEqual(res.status, 0, 'git reports a conflict');
    const bytes = new Uint8Array(fs.readFileSync(file()));
    assert.throws(
      () => parseSqlroomFile(bytes),
      (e: unknown) => e instanceof SqlroomFileError && e.code === 'conflict-markers' && /Merge Conflicted Notebook/.test(e.message),
    );
    const merged = parseConflictedFile(bytes);
    assert.deepStrictEqual(
      merged.notebook.toData().cells.map((c) => c.source),
      ['SELECT 1 AS a -- feature', 'SELECT 2 AS b ORDER BY 1 DESC LIMIT 2', 'SELEC 1'],
    );
  });

  it('a side that is not a notebook: exit 1 with the side named, the file left as it was', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-mf-'));
    try {
      const [o, a, b] = ['o', 'a', 'b'].map((n) => path.join(dir, n));
      fs.writeFileSync(o, '');
      fs.copyFileSync(file(), a);
      fs.writeFileSync(b, '{"nbformat": 4, "cells": []}');
      const before = fs.readFileSync(a);
      const res = spawnSync(process.execPath, [CLI, 'merge-file', o, a, b, 'demo.sqlroom'], { encoding: 'utf8' });
      assert.strictEqual(res.status, 1);
      assert.match(res.stderr, /cannot merge demo\.sqlroom: %B \(theirs\): This is a Jupyter notebook/);
      assert.deepStrictEqual(fs.readFileSync(a), before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
