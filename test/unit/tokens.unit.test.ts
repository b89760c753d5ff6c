// Signed access tokens (server/tokens.ts) and the token auth hook: every way a
// token can be wrong gets its own error code and a message that says why.
import * as assert from 'node:assert/strict';
import { AuthError, tokenAuth, tokenFromPayload } from '../../server/auth';
import { ANY_DOC, TokenError, authorize, issueToken, parseTtl, verifyToken } from '../../server/tokens';

const SECRET = Buffer.from('a-test-secret-of-sufficient-length');
const OTHER = Buffer.from('another-secret-of-sufficient-len');
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TokenError || err instanceof AuthError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'ok';
}

describe('access tokens', () => {
  it('a token round-trips its claims: doc, branch, perm, expiry, user', () => {
    const t = issueToken(SECRET, { doc: 'nb-1', branch: 'dev', perm: 'write', ttlSeconds: 3600, user: 'ana', now: T0 });
    assert.match(t, /^sqr1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const c = verifyToken(SECRET, t, T0 + 1000);
    assert.equal(c.doc, 'nb-1');
    assert.equal(c.branch, 'dev');
    assert.equal(c.perm, 'write');
    assert.equal(c.user, 'ana');
    assert.equal(c.exp, T0 / 1000 + 3600);
    // Two tokens with equal claims differ (random jti).
    assert.notEqual(t, issueToken(SECRET, { doc: 'nb-1', branch: 'dev', perm: 'write', ttlSeconds: 3600, user: 'ana', now: T0 }));
  });

  it('a token signed with another secret, or altered, fails with bad_signature', () => {
    const t = issueToken(OTHER, { doc: 'nb', perm: 'write', ttlSeconds: 60, now: T0 });
    assert.match(code(() => verifyToken(SECRET, t, T0)), /^bad_signature: token signature does not match/);
    // Swap in a payload granting write on another doc, keeping the old signature.
    const [p, , sig] = issueToken(SECRET, { doc: 'nb', perm: 'read', ttlSeconds: 60, now: T0 }).split('.');
    const forged = Buffer.from(JSON.stringify({ doc: 'nb', perm: 'write', exp: T0 / 1000 + 60, iat: T0 / 1000, jti: 'x' })).toString('base64url');
    assert.match(code(() => verifyToken(SECRET, `${p}.${forged}.${sig}`, T0)), /^bad_signature/);
    // One flipped character in the signature.
    const good = issueToken(SECRET, { doc: 'nb', perm: 'read', ttlSeconds: 60, now: T0 });
    const flipped = good.slice(0, -2) + (good.at(-2) === 'A' ? 'B' : 'A') + good.at(-1);
    assert.match(code(() => verifyToken(SECRET, flipped, T0)), /^bad_signature/);
  });

  it('an expired token says when it expired', () => {
    const t = issueToken(SECRET, { doc: 'nb', perm: 'write', ttlSeconds: 60, now: T0 });
    assert.equal(code(() => verifyToken(SECRET, t, T0 + 59_000)), 'ok');
    assert.equal(code(() => verifyToken(SECRET, t, T0 + 3 * 3600_000)), 'token_expired: token expired at 2026-01-01T12:01:00.000Z (3 h ago); ask for a new one');
  });

  it('a token for another document or branch is refused (replayed for another room); read-only cannot write', () => {
    const t = issueToken(SECRET, { doc: 'nb', branch: 'dev', perm: 'read', ttlSeconds: 60, now: T0 });
    assert.equal(code(() => authorize(SECRET, t, { docId: 'other', branch: 'dev', need: 'read' }, T0)), 'wrong_doc: token is for document "nb", not "other"');
    assert.equal(code(() => authorize(SECRET, t, { docId: 'nb', branch: 'main', need: 'read' }, T0)), 'wrong_branch: token is for branch "dev" of "nb", not "main"');
    assert.equal(code(() => authorize(SECRET, t, { docId: 'nb', branch: 'dev', need: 'write' }, T0)), 'read_only: token for "nb" is read-only; this needs write permission');
    assert.equal(code(() => authorize(SECRET, t, { docId: 'nb', branch: 'dev', need: 'read' }, T0)), 'ok');
    // No branch in the token: every branch of that document.
    const any = issueToken(SECRET, { doc: 'nb', perm: 'write', ttlSeconds: 60, now: T0 });
    assert.equal(code(() => authorize(SECRET, any, { docId: 'nb', branch: 'feature/x', need: 'write' }, T0)), 'ok');
    const all = issueToken(SECRET, { doc: ANY_DOC, perm: 'read', ttlSeconds: 60, now: T0 });
    assert.equal(code(() => authorize(SECRET, all, { docId: 'whatever', branch: 'main', need: 'read' }, T0)), 'ok');
  });

  it('garbage is malformed_token, never a crash', () => {
    for (const g of ['x', 'sqr1', 'sqr1..', 'sqr1.a.b.c', 'sqr2.abc.def', 'sqr1.!!!.abc', 'sqr1.' + 'A'.repeat(5000) + '.x', '\u0000\u0001', 'sqr1.e30.' + 'A'.repeat(43)]) {
      assert.match(code(() => verifyToken(SECRET, g, T0)), /^(malformed_token|bad_signature):/, g.slice(0, 30));
    }
    assert.match(code(() => verifyToken(SECRET, '', T0)), /^token_required/);
    // A validly signed payload that is not a token's.
    const sig = (p: string) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { createHmac } = require('node:crypto') as typeof import('node:crypto');
      return createHmac('sha256', SECRET).update(`sqr1.${p}`).digest('base64url');
    };
    const p = Buffer.from('{"doc":1}').toString('base64url');
    assert.match(code(() => verifyToken(SECRET, `sqr1.${p}.${sig(p)}`, T0)), /^malformed_token: token payload lacks/);
  });

  it('secrets shorter than 16 bytes are refused', () => {
    assert.throws(() => issueToken(Buffer.from('short'), { doc: 'nb', perm: 'read', ttlSeconds: 1 }), /at least 16 bytes/);
  });

  it('parses lifetimes', () => {
    assert.equal(parseTtl('7d'), 7 * 86400);
    assert.equal(parseTtl('12h'), 43200);
    assert.equal(parseTtl('30m'), 1800);
    assert.equal(parseTtl('90'), 90);
    assert.equal(parseTtl('2w'), 14 * 86400);
    assert.throws(() => parseTtl('soon'), /must look like/);
    assert.throws(() => parseTtl('0'), /positive/);
  });

  it('the auth hook reads the token from a JSON payload or raw bytes; the author comes from the token', async () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const now = () => T0;
    const hook = tokenAuth(SECRET, now);
    const named = issueToken(SECRET, { doc: 'nb', perm: 'write', ttlSeconds: 60, user: 'ana', now: T0 });
    const anon = issueToken(SECRET, { doc: 'nb', perm: 'read', ttlSeconds: 60, now: T0 });
    const grant = async (auth: Uint8Array) => {
      const r = (await hook({ docId: 'nb', branch: 'main', auth }))!;
      assert.equal(r.expiresAt, (Math.floor(T0 / 1000) + 60) * 1000, 'the grant carries the expiry (rechecked on every write)');
      assert.match(r.quotaKey ?? '', /^token:/);
      return { permission: r.permission, author: r.author };
    };
    assert.deepEqual(await grant(enc(JSON.stringify({ token: named, user: 'mallory' }))), { permission: 'write', author: 'ana' });
    assert.deepEqual(await grant(enc(named)), { permission: 'write', author: 'ana' });
    assert.deepEqual(await grant(enc(JSON.stringify({ token: anon, user: 'bo' }))), { permission: 'read', author: 'bo' });
    const refused = async (auth: Uint8Array, docId = 'nb') => {
      try {
        await hook({ docId, branch: 'main', auth });
        return 'ok';
      } catch (err) {
        return err instanceof AuthError ? err.code : String(err);
      }
    };
    assert.equal(await refused(new Uint8Array()), 'token_required');
    assert.equal(await refused(enc('{"user":"x"}')), 'token_required');
    assert.equal(await refused(enc('{not json')), 'malformed_token');
    assert.equal(await refused(new Uint8Array([0xff, 0xfe])), 'malformed_token');
    assert.equal(await refused(enc(named), 'other'), 'wrong_doc');
    assert.deepEqual(tokenFromPayload(enc(' sqr1.a.b \n')), { token: 'sqr1.a.b' });
  });
});
