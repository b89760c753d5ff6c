// Signed per-room access tokens: `sqr1.<base64url JSON payload>.<base64url HMAC-SHA256>`.
// The MAC covers `sqr1.<payload>` with the server secret; verification uses a
// timing-safe compare. Pure functions (no I/O except readSecretFile), so the
// CLI, the server, the extension and the tests share them.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import { normalizeUserName } from './protocol/names';

export const TOKEN_PREFIX = 'sqr1';
/** Tokens longer than this are refused before any parsing. */
export const MAX_TOKEN_CHARS = 4096;
/** Shortest secret accepted (bytes, after trimming a secret file's whitespace). */
export const MIN_SECRET_BYTES = 16;
/** `doc` value that grants every document (for operators and the extension's own sessions). */
export const ANY_DOC = '*';

export type TokenPerm = 'read' | 'write';

export interface TokenClaims {
  /** Document id, or `*` for every document. */
  doc: string;
  /** Only this branch; absent: any branch of the document. */
  branch?: string;
  perm: TokenPerm;
  /** Expiry, unix seconds. */
  exp: number;
  /** Issued at, unix seconds. */
  iat: number;
  /** Author recorded in ops_log for this token's updates; absent: the name the client sends. */
  user?: string;
  /** Random id (distinguishes tokens issued in the same second). */
  jti: string;
}

export type TokenErrorCode = 'token_required' | 'malformed_token' | 'bad_signature' | 'token_expired' | 'wrong_doc' | 'wrong_branch' | 'read_only';

export class TokenError extends Error {
  constructor(readonly code: TokenErrorCode, message: string) {
    super(message);
  }
}

export interface IssueOptions {
  doc: string;
  branch?: string;
  perm: TokenPerm;
  /** Lifetime in seconds. */
  ttlSeconds: number;
  user?: string;
  /** Clock (ms), for tests. */
  now?: number;
}

function mac(secret: Uint8Array, signed: string): Buffer {
  return createHmac('sha256', secret).update(signed, 'utf8').digest();
}

export function issueToken(secret: Uint8Array, o: IssueOptions): string {
  checkSecret(secret);
  if (!o.doc) throw new TokenError('malformed_token', 'a token needs a document id');
  if (o.perm !== 'read' && o.perm !== 'write') throw new TokenError('malformed_token', `permission must be read or write, got ${JSON.stringify(o.perm)}`);
  if (!Number.isFinite(o.ttlSeconds) || o.ttlSeconds <= 0) throw new TokenError('malformed_token', 'the lifetime must be a positive number of seconds');
  let user: string | undefined;
  if (o.user !== undefined && o.user !== '') {
    const n = normalizeUserName(o.user);
    if ('error' in n) throw new TokenError('malformed_token', n.error);
    user = n.name;
  }
  const iat = Math.floor((o.now ?? Date.now()) / 1000);
  const claims: TokenClaims = {
    doc: o.doc,
    ...(o.branch ? { branch: o.branch } : {}),
    perm: o.perm,
    exp: iat + Math.floor(o.ttlSeconds),
    iat,
    ...(user ? { user } : {}),
    jti: randomBytes(9).toString('base64url'),
  };
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  const signed = `${TOKEN_PREFIX}.${payload}`;
  return `${signed}.${mac(secret, signed).toString('base64url')}`;
}

/** Checks the signature and expiry; returns the claims. Throws TokenError with a precise message. */
export function verifyToken(secret: Uint8Array, token: string, now = Date.now()): TokenClaims {
  if (typeof token !== 'string' || token.length === 0) throw new TokenError('token_required', 'no token given');
  if (token.length > MAX_TOKEN_CHARS) throw new TokenError('malformed_token', `token longer than ${MAX_TOKEN_CHARS} characters`);
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX) throw new TokenError('malformed_token', `not a SQLRoom token (expected ${TOKEN_PREFIX}.<payload>.<signature>)`);
  const [, payload, sig] = parts;
  if (!/^[A-Za-z0-9_-]+$/.test(payload) || !/^[A-Za-z0-9_-]+$/.test(sig)) throw new TokenError('malformed_token', 'token parts must be base64url');
  // One spelling per token: base64url with unused trailing bits set decodes to the same bytes.
  if (!isCanonicalBase64url(payload) || !isCanonicalBase64url(sig)) throw new TokenError('malformed_token', 'token parts must be canonical base64url (unpadded, unused bits zero)');
  const expected = mac(secret, `${TOKEN_PREFIX}.${payload}`);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new TokenError('bad_signature', 'token signature does not match this server\'s secret (issued by another server, or altered)');
  }
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    throw new TokenError('malformed_token', 'token payload is not JSON');
  }
  if (
    !claims ||
    typeof claims !== 'object' ||
    typeof claims.doc !== 'string' ||
    (claims.perm !== 'read' && claims.perm !== 'write') ||
    !Number.isFinite(claims.exp) ||
    (claims.branch !== undefined && typeof claims.branch !== 'string') ||
    (claims.user !== undefined && typeof claims.user !== 'string')
  ) {
    throw new TokenError('malformed_token', 'token payload lacks doc, perm or exp');
  }
  if (claims.user !== undefined) {
    const n = normalizeUserName(claims.user);
    if ('error' in n || n.name !== claims.user) throw new TokenError('malformed_token', `token user is not a valid name: ${'error' in n ? n.error : 'not in NFC form'}`);
  }
  const nowS = Math.floor(now / 1000);
  if (claims.exp <= nowS) {
    throw new TokenError('token_expired', `token expired at ${new Date(claims.exp * 1000).toISOString()} (${describeSeconds(nowS - claims.exp)} ago); ask for a new one`);
  }
  return claims;
}

function isCanonicalBase64url(s: string): boolean {
  return Buffer.from(s, 'base64url').toString('base64url') === s;
}

export interface Access {
  docId: string;
  /** Branch the request touches; undefined: none in particular (e.g. listing branches). */
  branch?: string;
  need: TokenPerm;
}

/** Verifies a token and checks it grants `access`. Returns the claims or throws TokenError. */
export function authorize(secret: Uint8Array, token: string, access: Access, now = Date.now()): TokenClaims {
  const c = verifyToken(secret, token, now);
  checkClaims(c, access);
  return c;
}

export function checkClaims(c: TokenClaims, access: Access): void {
  if (c.doc !== ANY_DOC && c.doc !== access.docId) throw new TokenError('wrong_doc', `token is for document ${JSON.stringify(c.doc)}, not ${JSON.stringify(access.docId)}`);
  if (c.branch !== undefined && access.branch !== undefined && c.branch !== access.branch) {
    throw new TokenError('wrong_branch', `token is for branch ${JSON.stringify(c.branch)} of ${JSON.stringify(c.doc)}, not ${JSON.stringify(access.branch)}`);
  }
  if (access.need === 'write' && c.perm !== 'write') throw new TokenError('read_only', `token for ${JSON.stringify(c.doc)} is read-only; this needs write permission`);
}

/** `7d`, `12h`, `30m`, `45s` or plain seconds. */
export function parseTtl(s: string): number {
  const m = /^(\d+)([smhdw]?)$/.exec(s.trim());
  if (!m) throw new Error(`lifetime ${JSON.stringify(s)} must look like 30m, 12h, 7d, 2w or a number of seconds`);
  const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd' | 'w'];
  const n = Number(m[1]) * mult;
  if (n <= 0) throw new Error('the lifetime must be positive');
  return n;
}

function describeSeconds(s: number): string {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

export function checkSecret(secret: Uint8Array): void {
  if (secret.length < MIN_SECRET_BYTES) throw new Error(`the secret must be at least ${MIN_SECRET_BYTES} bytes (got ${secret.length}); e.g. openssl rand -hex 32 > secret.txt`);
}

/** A secret file's contents (surrounding whitespace trimmed), checked for length. */
export function readSecretFile(file: string): Buffer {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the secret file ${file}: ${(err as Error).message}`);
  }
  const secret = Buffer.from(text.trim(), 'utf8');
  checkSecret(secret);
  return secret;
}

/** A secret from a string (e.g. SQLROOM_SECRET), checked for length. */
export function secretFromString(s: string): Buffer {
  const secret = Buffer.from(s.trim(), 'utf8');
  checkSecret(secret);
  return secret;
}

/** A new random secret (64 hex characters). */
export function newSecret(): string {
  return randomBytes(32).toString('hex');
}
