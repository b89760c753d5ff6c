// The local server's secret (one per user, in its 0600 directory, see
// server/local/localFiles.ts) and the tokens the extension issues with it:
// its own sessions' short-lived token (minted again for every join) and the
// Share command's per-document tokens. No vscode here: unit-tested in plain Node.
import { ANY_DOC, issueToken, type TokenPerm } from '../../../server/tokens';
import { splitRoomId } from '../../../server/shared/history/branches';

/** How long a token made by Share is valid. */
export const SHARE_TTL_SECONDS = 7 * 86400;
/** Minted afresh for every (re)join; the server also rechecks expiry on each write, so it must outlive a working day of one connection. */
export const OWN_TTL_SECONDS = 24 * 3600;

/** Reads the secret in `file`, creating it (0600) when missing (shared with the server's `local` command). */
export { loadOrCreateSecret } from '../../../server/local/localFiles';

/** Token of the extension's own sessions on its embedded server: every document, write; the author is the name the session sends. */
export function ownToken(secret: Uint8Array, now = Date.now()): string {
  return issueToken(secret, { doc: ANY_DOC, perm: 'write', ttlSeconds: OWN_TTL_SECONDS, now });
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
