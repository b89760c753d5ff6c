// The embedded server's secret (one per install, in the extension's global
// storage, readable by the user only) and the tokens the extension issues
// with it: its own sessions' token and the Share command's per-document
// tokens. No vscode here: unit-tested in plain Node.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ANY_DOC, MIN_SECRET_BYTES, issueToken, newSecret, type TokenPerm } from '../../../server/tokens';
import { splitRoomId } from '../../../server/shared/history/branches';

/** How long a token made by Share is valid. */
export const SHARE_TTL_SECONDS = 7 * 86400;
/** The extension's own sessions re-issue their token on every start; a year covers a long-lived window. */
const OWN_TTL_SECONDS = 365 * 86400;

/** Reads the secret in `file`, creating it (mode 0600) when missing or unusable. Safe when two windows race. */
export function loadOrCreateSecret(file: string): Buffer {
  const read = (): Buffer | undefined => {
    try {
      const s = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'utf8');
      return s.length >= MIN_SECRET_BYTES ? s : undefined;
    } catch {
      return undefined;
    }
  };
  const existing = read();
  if (existing) return existing;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fresh = newSecret();
  try {
    fs.writeFileSync(file, fresh + '\n', { flag: 'wx', mode: 0o600 });
    return Buffer.from(fresh, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // Another window created it first, or it holds something unusable (replace that).
  const raced = read();
  if (raced) return raced;
  fs.writeFileSync(file, fresh + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return Buffer.from(fresh, 'utf8');
}

/** Token of the extension's own sessions on its embedded server: every document, write; the author is the name the session sends. */
export function ownToken(secret: Uint8Array): string {
  return issueToken(secret, { doc: ANY_DOC, perm: 'write', ttlSeconds: OWN_TTL_SECONDS });
}

export interface ShareToken {
  token: string;
  perm: TokenPerm;
  docId: string;
  expires: Date;
}

/** A token for a colleague: this document (every branch), read or write, valid for `ttlSeconds`. */
export function shareToken(secret: Uint8Array, roomId: string, perm: TokenPerm, ttlSeconds = SHARE_TTL_SECONDS, now = Date.now()): ShareToken {
  const { docId } = splitRoomId(roomId);
  const token = issueToken(secret, { doc: docId, perm, ttlSeconds, now });
  return { token, perm, docId, expires: new Date(now + ttlSeconds * 1000) };
}
