// Real names: sqlroom.userName, else git's user.name (a real git), else the
// signed-in account, else the name given when asked; never "anonymous". And
// a stable colour per collaborator.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanUserName, gitUserName, pickUserName } from '../../extension/core/userName';
import { COLLABORATOR_PALETTE, collaboratorColor, markedName } from '../../server/shared/collaboratorColor';

describe('user name: where it comes from', () => {
  it('pickUserName: setting, then git, then account, then the asked name; nothing known asks', () => {
    assert.deepEqual(pickUserName({ setting: 'Ana', git: 'Ana Git', account: 'ana-gh', asked: 'A' }), { name: 'Ana', from: 'setting' });
    assert.deepEqual(pickUserName({ setting: '  ', git: 'Ana Git', account: 'ana-gh' }), { name: 'Ana Git', from: 'git' });
    assert.deepEqual(pickUserName({ account: 'ana-gh', asked: 'A' }), { name: 'ana-gh', from: 'account' });
    assert.deepEqual(pickUserName({ asked: 'Ana (asked)' }), { name: 'Ana (asked)', from: 'asked' });
    assert.equal(pickUserName({}), undefined);
    assert.equal(pickUserName({ setting: 'anonymous', git: 'Anonymous' }), undefined, 'never "anonymous"');
  });

  it('cleanUserName: trims and folds spaces; refuses empty, control characters and over-long names', () => {
    assert.equal(cleanUserName('  Ana   María \n'), 'Ana María');
    assert.equal(cleanUserName(''), undefined);
    assert.equal(cleanUserName('a\u0000b'), undefined);
    assert.equal(cleanUserName('x'.repeat(129)), undefined);
    assert.equal(cleanUserName(42), undefined);
  });

  it('gitUserName: a real git reads the repository\'s user.name; none configured gives undefined', async function () {
    this.timeout(30_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlroom-git-'));
    const saved = { g: process.env.GIT_CONFIG_GLOBAL, s: process.env.GIT_CONFIG_NOSYSTEM };
    try {
      // No global or system config: only what this test sets counts.
      process.env.GIT_CONFIG_GLOBAL = path.join(dir, 'empty-gitconfig');
      process.env.GIT_CONFIG_NOSYSTEM = '1';
      fs.writeFileSync(process.env.GIT_CONFIG_GLOBAL, '');
      const repo = path.join(dir, 'repo');
      fs.mkdirSync(repo);
      execFileSync('git', ['init', '-q'], { cwd: repo });
      assert.equal(await gitUserName(repo), undefined);
      execFileSync('git', ['config', 'user.name', 'Ana Lovelace'], { cwd: repo });
      assert.equal(await gitUserName(repo), 'Ana Lovelace');
      assert.equal(await gitUserName(repo, path.join(dir, 'no-such-git')), undefined, 'no git installed');
    } finally {
      for (const [k, v] of [['GIT_CONFIG_GLOBAL', saved.g], ['GIT_CONFIG_NOSYSTEM', saved.s]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('collaborator colours', () => {
  it('the same name always gets the same colour (case and spaces aside); names spread over the palette', () => {
    assert.deepEqual(collaboratorColor('Ana'), collaboratorColor(' ana '));
    const used = new Set(['Ana', 'Bo', 'Chen', 'Dara', 'Eli', 'Fatou', 'Gus', 'Hiro', 'Ines', 'Jon', 'Kemal', 'Lea', 'Mo', 'Nia'].map((n) => collaboratorColor(n).hex));
    assert.ok(used.size >= 4, `14 names use ${used.size} colours`);
    for (const c of COLLABORATOR_PALETTE) assert.match(c.hex, /^#[0-9a-f]{6}$/);
    assert.equal(markedName('Ana'), `${collaboratorColor('Ana').mark} Ana`);
  });
});
