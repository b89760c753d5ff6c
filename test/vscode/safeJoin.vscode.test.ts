// Safe joins in a real VS Code: the team server's token comes from VS Code's
// SecretStorage and goes to that server only; a notebook file that names
// another server asks first ("Join / Work offline / Always for this server",
// answered through the notification as a person would: focus it, press its
// button or dismiss it) and that server never sees the token; the old token
// setting moves into SecretStorage; a changed sqlroom.server.url or
// sqlroom.server.embedded applies to an open notebook without a reload.
// The "other" server is a spy: a real WebSocket server on loopback that
// records every byte it is sent.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { WebSocketServer } from 'ws';
import { CrdtType, MessageType, decode } from 'loro-protocol';
import { NotebookDoc } from '../../server/shared/notebookDoc';
import { newDocId, serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { issueToken, newSecret } from '../../server/tokens';
import { serverKey } from '../../extension/core/sync/joinPolicy';
import type { SqlroomApi } from '../../extension/extension';
import { requestScreenshot } from '../support/screenshot';
import { TeamServer } from './teamServer';
import { closeAllEditors, openNotebook, setEmbeddedServer, sqlroomApi, tempNotebookPath, waitFor, writeFile } from './notebookTestUtils';

interface Spy {
  url: string;
  connections: number;
  /** Join payloads (JSON) in the order received. */
  joins: Array<Record<string, unknown>>;
  /** Every byte received, to search for a token. */
  raw: Buffer[];
  close(): Promise<void>;
}

/** A server a file might name: records what it is sent and never answers a join. */
async function startSpy(): Promise<Spy> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const spy: Spy = {
    url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`,
    connections: 0,
    joins: [],
    raw: [],
    close: () => new Promise<void>((r) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => r());
    }),
  };
  wss.on('connection', (ws) => {
    spy.connections++;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      spy.raw.push(Buffer.from(data));
      if (!isBinary) return;
      try {
        const m = decode(new Uint8Array(data));
        if (m.type === MessageType.JoinRequest && m.crdt === CrdtType.Loro) spy.joins.push(JSON.parse(new TextDecoder().decode(m.auth)) as Record<string, unknown>);
      } catch {
        /* not a protocol message */
      }
    });
  });
  return spy;
}

function notebookFile(stem: string, server?: string): vscode.Uri {
  const nb = new NotebookDoc();
  nb.insertCell(0, { kind: 'code', language: 'sql', source: `SELECT '${stem}'` });
  nb.commit();
  return writeFile(tempNotebookPath(stem), serializeSqlroomFile(nb, newDocId(), server ? { server } : undefined));
}

/** The join question for `url` is showing; this window sent that server nothing yet. */
async function questionShowing(api: SqlroomApi, url: string): Promise<void> {
  await waitFor(`the join question for ${url}`, () => (api.collab.pendingJoinQuestions.includes(serverKey(url)) ? true : undefined), 60_000);
}

describe('Safe joins: tokens per server in SecretStorage, the join question, settings applied live', function () {
  this.timeout(240_000);
  let api: SqlroomApi;
  let team: TeamServer | undefined;
  let token: string;
  const spies: Spy[] = [];
  const config = () => vscode.workspace.getConfiguration('sqlroom.server');

  before(async () => {
    api = await sqlroomApi();
    const dir = path.join(path.dirname(tempNotebookPath('x')), `safe-join-${process.pid}-${Date.now()}`);
    fs.mkdirSync(dir, { recursive: true });
    const secretFile = path.join(dir, 'secret.txt');
    fs.writeFileSync(secretFile, newSecret() + '\n', { mode: 0o600 });
    team = await TeamServer.start(path.join(dir, 'team.duckdb'), 0, ['--secret-file', secretFile]);
    token = issueToken(Buffer.from(fs.readFileSync(secretFile, 'utf8').trim()), { doc: '*', perm: 'write', ttlSeconds: 3600 });
    await vscode.commands.executeCommand('notifications.clearAll');
  });
  after(async () => {
    await closeAllEditors();
    await config().update('url', undefined, vscode.ConfigurationTarget.Workspace);
    await config().update('token', undefined, vscode.ConfigurationTarget.Global);
    if (team) await api.collab.tokens.clear(team.url);
    await setEmbeddedServer(false);
    for (const s of spies.splice(0)) await s.close();
    await team?.close();
  });

  it('the token set with the command lives in SecretStorage and joins its server; a file naming another server asks first and is never sent it', async () => {
    assert.ok(team);
    assert.strictEqual(await vscode.commands.executeCommand('sqlroom.setServerToken', team.url, token), true);
    assert.strictEqual(await api.collab.tokens.tokenFor(team.url), token);
    assert.strictEqual(config().get('token'), '', 'no token in settings');
    await config().update('url', team.url, vscode.ConfigurationTarget.Workspace);
    const own = (await openNotebook(notebookFile('safe-team'))).notebook;
    const ownSession = await api.collab.sessionFor(own);
    assert.ok(ownSession && ownSession.endpoint.kind === 'team' && ownSession.endpoint.url === team.url);
    await ownSession.client.whenSynced(60_000); // the server has a secret: the join needed the token

    const spy = await startSpy();
    spies.push(spy);
    await vscode.commands.executeCommand('notifications.clearAll'); // the question is then the newest notification
    const named = (await openNotebook(notebookFile('safe-named', spy.url))).notebook;
    const joining = api.collab.sessionFor(named);
    await questionShowing(api, spy.url);
    assert.strictEqual(spy.connections, 0, 'nothing is sent before the user answers');
    await requestScreenshot('join-question');
    // Answer as a person with the keyboard would (Ctrl+Shift+A): the newest notification's first button, Join.
    await vscode.commands.executeCommand('notification.acceptPrimaryAction');
    const session = await joining;
    assert.ok(session, 'Join joined');
    assert.strictEqual(session.endpoint.url, spy.url);
    await waitFor('the spy to receive the join', () => (spy.joins.length > 0 ? true : undefined), 60_000);
    for (const j of spy.joins) {
      assert.strictEqual(j.token, undefined, 'no token goes to a server it was not stored for');
      assert.strictEqual(j.user, api.identity.name);
      assert.notStrictEqual(j.user, 'anonymous');
    }
    assert.ok(!Buffer.concat(spy.raw).includes(Buffer.from(token)), 'the token is nowhere in what the spy received');
    // Joined once in this window: another file naming it does not ask again.
    const again = (await openNotebook(notebookFile('safe-named-again', spy.url))).notebook;
    const againSession = await api.collab.sessionFor(again);
    assert.ok(againSession);
    assert.deepStrictEqual(api.collab.pendingJoinQuestions, []);
  });

  it('"Work offline" (the notification dismissed): the notebook stays local and the server is never contacted', async () => {
    const spy = await startSpy();
    spies.push(spy);
    const named = (await openNotebook(notebookFile('safe-offline', spy.url))).notebook;
    const joining = api.collab.sessionFor(named);
    await questionShowing(api, spy.url);
    await vscode.commands.executeCommand('notifications.clearAll');
    assert.strictEqual(await joining, undefined, 'no session');
    assert.strictEqual(spy.connections, 0, 'the server was never contacted');
    // The notebook is still editable and local.
    const edit = new vscode.WorkspaceEdit();
    edit.insert(named.cellAt(0).document.uri, new vscode.Position(0, 0), '-- local ');
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.strictEqual(spy.connections, 0);
  });

  it('a token in the old sqlroom.server.token setting moves into SecretStorage for the configured server and leaves the settings', async () => {
    assert.ok(team);
    await config().update('url', team.url, vscode.ConfigurationTarget.Workspace);
    await config().update('token', 'OLD-SETTING-TOKEN', vscode.ConfigurationTarget.Global);
    await waitFor('the setting to be moved', () => (config().inspect<string>('token')?.globalValue === undefined ? true : undefined), 60_000);
    assert.strictEqual(await api.collab.tokens.tokenFor(team.url), 'OLD-SETTING-TOKEN');
    assert.strictEqual(await api.collab.tokens.tokenFor('ws://elsewhere.invalid:1'), undefined);
    assert.strictEqual(await vscode.commands.executeCommand('sqlroom.clearServerToken', team.url), true);
    assert.strictEqual(await api.collab.tokens.tokenFor(team.url), undefined);
  });

  it('changing sqlroom.server.url and sqlroom.server.embedded moves an open notebook without a reload', async () => {
    assert.ok(team);
    await config().update('url', undefined, vscode.ConfigurationTarget.Workspace);
    await api.collab.tokens.set(team.url, token);
    await setEmbeddedServer(true);
    const notebook = (await openNotebook(notebookFile('safe-live-settings'))).notebook;
    const kindNow = async () => (await api.collab.sessionFor(notebook))?.endpoint.kind;
    assert.strictEqual(await kindNow(), 'embedded');
    await config().update('url', team.url, vscode.ConfigurationTarget.Workspace);
    let seen: string | undefined;
    const end = Date.now() + 60_000;
    while ((seen = await kindNow()) !== 'team' && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    assert.strictEqual(seen, 'team', 'the team server from the changed setting');
    const onTeam = await api.collab.sessionFor(notebook);
    await onTeam!.client.whenSynced(60_000);
    await config().update('url', undefined, vscode.ConfigurationTarget.Workspace);
    while ((seen = await kindNow()) !== 'embedded' && Date.now() < end + 60_000) await new Promise((r) => setTimeout(r, 100));
    assert.strictEqual(seen, 'embedded', 'back on the local server');
    await setEmbeddedServer(false);
    while ((seen = await kindNow()) !== undefined && Date.now() < end + 120_000) await new Promise((r) => setTimeout(r, 100));
    assert.strictEqual(seen, undefined, 'not shared once both are off');
  });
});
