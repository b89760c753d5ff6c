// Safe joins: a token goes only to the server it was stored for; a server
// named by a notebook file is joined only after the user agreed; the old
// token setting moves to the servers it was configured for.
import * as assert from 'node:assert/strict';
import { joinDecision, joinPrompt, migrationTargets, serverKey, tokenFor, tokenSecretKey, type JoinContext } from '../../extension/core/sync/joinPolicy';

describe('safe joins: tokens and the join prompt', () => {
  it('serverKey: one identity per server (case, default port, trailing slash, http→ws), ws and wss differ', () => {
    assert.equal(serverKey('wss://Team.Example.com/'), 'wss://team.example.com:443');
    assert.equal(serverKey('wss://team.example.com:443'), 'wss://team.example.com:443');
    assert.equal(serverKey('https://team.example.com'), 'wss://team.example.com:443');
    assert.equal(serverKey('ws://127.0.0.1:8787/sync/'), 'ws://127.0.0.1:8787/sync');
    assert.notEqual(serverKey('ws://team.example.com'), serverKey('wss://team.example.com'), 'a TLS token is not sent in clear');
    assert.notEqual(serverKey('wss://team.example.com'), serverKey('wss://team.example.com.evil.io'));
    assert.notEqual(serverKey('wss://team.example.com:443'), serverKey('wss://team.example.com:8443'));
  });

  it('tokenFor: the token stored for this very server, never one configured for another', () => {
    const stored = new Map([[serverKey('wss://team.example.com'), 'TEAM-TOKEN']]);
    assert.equal(tokenFor('wss://TEAM.example.com/', stored), 'TEAM-TOKEN');
    for (const other of ['wss://evil.example.com', 'ws://team.example.com', 'wss://team.example.com:8443', 'wss://team.example.com/other', 'wss://team.example.com@evil.io']) {
      assert.equal(tokenFor(other, stored), undefined, `no token for ${other}`);
    }
    assert.equal(tokenSecretKey('wss://team.example.com/'), 'sqlroom.token:wss://team.example.com:443');
  });

  it('joinDecision: settings and Join join; a file-named server asks unless trusted, joined now, or declined now', () => {
    const none: JoinContext = { source: 'file', trusted: [], allowedNow: new Set(), declinedNow: new Set() };
    const url = 'wss://elsewhere.example.org';
    assert.equal(joinDecision(url, none), 'ask');
    assert.equal(joinDecision(url, { ...none, source: 'user-setting' }), 'join');
    assert.equal(joinDecision(url, { ...none, source: 'join' }), 'join');
    assert.equal(joinDecision(url, { ...none, source: 'workspace-setting' }), 'ask');
    assert.equal(joinDecision(url, { ...none, trusted: [serverKey('wss://ELSEWHERE.example.org:443/')] }), 'join', '"Always for this server"');
    assert.equal(joinDecision(url, { ...none, allowedNow: new Set([serverKey(url)]) }), 'join', 'answered Join in this window');
    assert.equal(joinDecision(url, { ...none, declinedNow: new Set([serverKey(url)]) }), 'offline', 'answered Work offline in this window');
    assert.equal(joinDecision('wss://other.example.org', { ...none, trusted: [serverKey(url)] }), 'ask', 'trust is per server');
    assert.match(joinPrompt(url, 'file'), /This notebook syncs with wss:\/\/elsewhere\.example\.org/);
  });

  it('migrationTargets: the old setting token goes to the servers of sqlroom.server.url only', () => {
    assert.deepEqual(migrationTargets('T', ['wss://a.example.com', 'wss://b.example.com:443/']), ['sqlroom.token:wss://a.example.com:443', 'sqlroom.token:wss://b.example.com:443']);
    assert.deepEqual(migrationTargets('T', []), [], 'no server configured: nowhere');
    assert.deepEqual(migrationTargets('  ', ['wss://a.example.com']), []);
    assert.deepEqual(migrationTargets(undefined, ['wss://a.example.com']), []);
  });
});
