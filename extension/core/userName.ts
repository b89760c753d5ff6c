// Who "you" are on the changes you make and in presence: the first of
// sqlroom.userName, git's user.name, the account signed in to VS Code, and
// the name the user gave when asked once. Never "anonymous". No vscode here.
import { execFile } from 'node:child_process';

export type NameSource = 'setting' | 'git' | 'account' | 'asked';

export interface NameSources {
  setting?: string;
  git?: string;
  account?: string;
  asked?: string;
}

/** A usable display name: trimmed, 1-128 printable characters, or undefined. */
export function cleanUserName(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.replace(/\s+/g, ' ').trim();
  if (s === '' || s.length > 128 || /[\p{Cc}\p{Cf}]/u.test(s)) return undefined;
  if (s.toLowerCase() === 'anonymous') return undefined;
  return s;
}

/** The name to use and where it came from; undefined: nothing known, ask the user. */
export function pickUserName(s: NameSources): { name: string; from: NameSource } | undefined {
  for (const from of ['setting', 'git', 'account', 'asked'] as const) {
    const name = cleanUserName(s[from]);
    if (name) return { name, from };
  }
  return undefined;
}

/** `git config user.name` (in `cwd`, so a repository's own setting wins); undefined when git or the setting is missing. */
export function gitUserName(cwd?: string, git = 'git'): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(git, ['config', 'user.name'], { cwd, timeout: 5000, windowsHide: true }, (err, stdout) => {
      resolve(err ? undefined : cleanUserName(String(stdout)));
    });
  });
}
