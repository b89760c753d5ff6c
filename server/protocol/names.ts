// Names people read (branch names, user / author names): refused when they
// could pass for another name. Invisible characters (default-ignorable code
// points such as U+034F or U+200B, format and control characters) and letters
// from two look-alike scripts in one name (Latin "main" vs "mаin" with a
// Cyrillic а) would otherwise make a second, indistinguishable name.

/** Scripts whose letters are commonly confused with each other. */
const CONFUSABLE_SCRIPTS: [string, RegExp][] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Cherokee', /\p{Script=Cherokee}/u],
];

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}]/u;

/** Why `name` is not acceptable as a readable name, or null when it is. */
export function lookAlikeProblem(name: string): string | null {
  const bad = INVISIBLE.exec(name);
  if (bad) return `contains the invisible or control character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  const scripts = new Set<string>();
  for (const ch of name) {
    if (!/\p{L}/u.test(ch)) continue;
    for (const [script, re] of CONFUSABLE_SCRIPTS) if (re.test(ch)) scripts.add(script);
  }
  if (scripts.size > 1) return `mixes letters of the ${[...scripts].join(' and ')} scripts (a look-alike of another name)`;
  return null;
}

const MAX_USER_CHARS = 128;

/**
 * A user / author name in NFC, or an error message: 1–128 characters, no
 * control or invisible characters, no mixed look-alike scripts.
 */
export function normalizeUserName(raw: string): { name: string } | { error: string } {
  const name = raw.normalize('NFC').trim();
  if (name.length === 0) return { error: 'user name is empty' };
  if (name.length > MAX_USER_CHARS) return { error: `user name longer than ${MAX_USER_CHARS} characters` };
  const problem = lookAlikeProblem(name);
  if (problem) return { error: `user name ${JSON.stringify(name)} ${problem}` };
  return { name };
}
