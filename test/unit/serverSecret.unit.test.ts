// The extension's per-install secret and the tokens it issues (its own
// sessions; Share's per-document read or write tokens), against a real server
// started the way the embedded one is.
import * as assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LoroDoc } from 'loro-crdt';
import { JoinErrorCode, MessageType, UpdateStatusCode } from 'loro-protocol';
import { startServer, verifyToken } from '../../server';
import { loadOrCreateSecret, ownToken, shareToken, SHARE_TTL_SECONDS } from '../../extension/core/sync/serverSecret';
import { RawClient, rmDir, tmpDir } from '../support/serverHarness';

describe('extension server secret and share tokens', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => rmDir(dir));

  it('creates the secret once (user-only file), reuses it, replaces an unusable one', () => {
    const file = path.join(dir, 'global', 'server-secret');
    const a = loadOrCreateSecret(file);
    assert.ok(a.length >= 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadOrCreateSecret(file), a);
    writeFileSync(file, 'short');
    const b = loadOrCreateSecret(file);
    assert.notDeepEqual(b, a);
    assert.equal(readFileSync(file, 'utf8').trim(), b.toString());
  });

  it('share tokens are per document (any branch), read or write, valid for 7 days; the own token covers every document', async () => {
    const secret = loadOrCreateSecret(path.join(dir, 'server-secret'));
    const t0 = Date.now();
    const share = shareToken(secret, 'nb@feature', 'read', undefined, t0);
    const claims = verifyToken(secret, share.token, t0);
    assert.deepEqual([claims.doc, claims.branch, claims.perm, claims.exp - claims.iat], ['nb', undefined, 'read', SHARE_TTL_SECONDS]);

    const server = await startServer({ port: 0, db: path.join(dir, 'db.duckdb'), logLevel: 'silent', secret });
    try {
      const own = await RawClient.connect(server.url);
      own.join('any-doc', new Uint8Array(), new TextEncoder().encode(JSON.stringify({ user: 'me', token: ownToken(secret) })));
      assert.equal((await own.next(MessageType.JoinResponseOk)).permission, 'write');
      const d = new LoroDoc();
      d.getText('t').insert(0, 'mine');
      d.commit();
      assert.equal((await own.ackFor(own.update('any-doc', [d.export({ mode: 'update' })]))).status, UpdateStatusCode.Ok);

      const guest = await RawClient.connect(server.url);
      guest.join('nb', new Uint8Array(), new TextEncoder().encode(JSON.stringify({ user: 'guest', token: share.token })));
      assert.equal((await guest.next(MessageType.JoinResponseOk)).permission, 'read');
      guest.join('any-doc', new Uint8Array(), new TextEncoder().encode(JSON.stringify({ user: 'guest', token: share.token })));
      const err = await guest.next(MessageType.JoinError);
      assert.equal(err.code, JoinErrorCode.AuthFailed);
      assert.match(err.message, /token is for document "nb", not "any-doc"/);
      [own, guest].forEach((c) => c.close());
      await server.flush();
      assert.deepEqual((await server.storage.analytics({ docId: 'any-doc' })).perAuthor.map((p) => p.author), ['me']);
    } finally {
      await server.close();
    }
  });
});
