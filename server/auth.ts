// Pluggable auth (Hocuspocus-style hook): given a join, decide the permission
// and the author name recorded with that connection's updates.
import type { Permission } from 'loro-protocol';

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
}

/** Return null to refuse the join (JoinError AuthFailed). */
export type AuthHook = (req: AuthRequest) => AuthResult | null | Promise<AuthResult | null>;

const SANE_NAME = /^[^\p{Cc}\p{Cf}]{1,128}$/u;

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
      return SANE_NAME.test(u) ? u : 'anonymous';
    }
  } catch {
    /* not JSON: a plain name */
  }
  return SANE_NAME.test(text) ? text : 'anonymous';
}
