// Pluggable auth (Hocuspocus-style hook): given a join, decide the permission
// and the author name recorded with that connection's updates.
import type { Permission } from 'loro-protocol';
import { authorize, TokenError, type TokenErrorCode } from './tokens';
import { normalizeUserName } from './protocol/names';

export interface AuthRequest {
  docId: string;
  branch: string;
  /** Raw `auth` bytes of the JoinRequest. */
  auth: Uint8Array;
}

export interface AuthResult {
  permission: Permission;
  /** Recorded as ops_log.author; defaults to the auth payload's `user`. */
  author?: string;
  /** When the grant ends (ms since the epoch): writes after it are refused on the open connection too. */
  expiresAt?: number;
  /** Connections with the same key share one storage byte quota (e.g. one token). */
  quotaKey?: string;
}

/**
 * Return null (or throw AuthError) to refuse the join: JoinError AuthFailed,
 * with the AuthError's message and code (`appCode`) when one is thrown.
 */
export type AuthHook = (req: AuthRequest) => AuthResult | null | Promise<AuthResult | null>;

/** The name in NFC, or undefined when it is not an acceptable user name (server/protocol/names.ts). */
function saneName(u: string): string | undefined {
  const n = normalizeUserName(u);
  return 'name' in n ? n.name : undefined;
}

/**
 * Default: everyone may write. The author is taken from a JSON payload
 * `{"user": "..."}` or a plain UTF-8 name; otherwise "anonymous".
 */
export const openAuth: AuthHook = (req) => ({ permission: 'write', author: authorFromPayload(req.auth) });

export function authorFromPayload(auth: Uint8Array): string {
  if (auth.length === 0 || auth.length > 1024) return 'anonymous';
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(auth);
  } catch {
    return 'anonymous';
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && typeof (parsed as { user?: unknown }).user === 'string') {
      const u = (parsed as { user: string }).user;
      return saneName(u) ?? 'anonymous';
    }
  } catch {
    /* not JSON: a plain name */
  }
  return saneName(text) ?? 'anonymous';
}

/** A refused join with a reason the client is told (JoinError message + appCode). */
export class AuthError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** The token in a join payload: `{"token": "...", "user": "..."}` (JSON) or the token itself as UTF-8. */
export function tokenFromPayload(auth: Uint8Array): { token: string; user?: string } {
  if (auth.length === 0) return { token: '' };
  if (auth.length > 8192) throw new AuthError('malformed_token', 'join payload larger than 8192 bytes');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(auth).trim();
  } catch {
    throw new AuthError('malformed_token', 'join payload is not UTF-8');
  }
  if (text.startsWith('{')) {
    let parsed: { token?: unknown; user?: unknown };
    try {
      parsed = JSON.parse(text) as { token?: unknown; user?: unknown };
    } catch {
      throw new AuthError('malformed_token', 'join payload starts with "{" but is not JSON');
    }
    const token = typeof parsed.token === 'string' ? parsed.token.trim() : '';
    const user = typeof parsed.user === 'string' ? saneName(parsed.user) : undefined;
    return { token, ...(user ? { user } : {}) };
  }
  return { token: text };
}

const TOKEN_HELP = 'ask the server operator for one (sqlroom-server token --help) or use SQLRoom: Share Notebook';

/**
 * Signed-token auth (server/tokens.ts): the join payload carries a token for
 * the room's document (and branch, when the token names one). The permission
 * and, when the token names a user, the author come from the token; otherwise
 * the author is the name the client sends.
 */
export function tokenAuth(secret: Uint8Array, now: () => number = Date.now): AuthHook {
  return (req) => {
    const { token, user } = tokenFromPayload(req.auth);
    if (!token) throw new AuthError('token_required', `this server requires an access token; ${TOKEN_HELP}`);
    try {
      const claims = authorize(secret, token, { docId: req.docId, branch: req.branch, need: 'read' }, now());
      return { permission: claims.perm, author: claims.user ?? user ?? 'anonymous', expiresAt: claims.exp * 1000, quotaKey: `token:${claims.jti}` };
    } catch (err) {
      if (err instanceof TokenError) throw new AuthError(err.code satisfies TokenErrorCode, err.message);
      throw err;
    }
  };
}
