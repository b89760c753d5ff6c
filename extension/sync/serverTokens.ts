// Team-server tokens, kept in VS Code's SecretStorage (the OS keychain; not
// in settings, which Settings Sync and dotfiles repos carry around), one per
// server: a token is only ever sent to the server it was stored for
// (extension/core/sync/joinPolicy.ts). Migrates an old `sqlroom.server.token`
// setting into it once, and offers Set / Clear commands.
import * as vscode from 'vscode';
import { migrationTargets, serverKey, tokenSecretKey } from '../core/sync/joinPolicy';
import { normaliseServerUrl, splitServerUrls } from './collabSettings';

export const SET_TOKEN_COMMAND = 'sqlroom.setServerToken';
export const CLEAR_TOKEN_COMMAND = 'sqlroom.clearServerToken';

export class ServerTokens implements vscode.Disposable {
  /** Tokens given to Join for a server, this window only (by server key). */
  private readonly joined = new Map<string, string>();
  private readonly subscriptions: vscode.Disposable[];
  /** Done once the old setting has been moved (sessions wait for it). */
  migrated: Promise<void>;

  constructor(private readonly secrets: vscode.SecretStorage, private readonly log: vscode.OutputChannel) {
    this.subscriptions = [
      vscode.commands.registerCommand(SET_TOKEN_COMMAND, (url?: string, token?: string) => this.setCommand(url, token)),
      vscode.commands.registerCommand(CLEAR_TOKEN_COMMAND, (url?: string) => this.clearCommand(url)),
      // A token pasted into the old setting later is moved as well.
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('sqlroom.server.token')) this.migrated = this.migrated.then(() => this.migrate());
      }),
    ];
    this.migrated = this.migrate();
  }

  private migrate(): Promise<void> {
    return this.migrateSetting().catch((err: unknown) => this.log.appendLine(`SQLRoom: moving sqlroom.server.token failed: ${String(err)}`));
  }

  /** The token for `url`: one given to Join for it in this window, else the one stored for it; never another server's. */
  async tokenFor(url: string): Promise<string | undefined> {
    await this.migrated;
    return this.joined.get(serverKey(url)) ?? (await this.secrets.get(tokenSecretKey(url))) ?? undefined;
  }

  rememberJoin(url: string, token: string): void {
    this.joined.set(serverKey(url), token);
  }

  async set(url: string, token: string): Promise<void> {
    await this.secrets.store(tokenSecretKey(url), token);
  }

  async clear(url: string): Promise<void> {
    this.joined.delete(serverKey(url));
    await this.secrets.delete(tokenSecretKey(url));
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }

  /** sqlroom.server.token (any scope) → SecretStorage for the servers of sqlroom.server.url, then removed from settings. */
  private async migrateSetting(): Promise<void> {
    const c = vscode.workspace.getConfiguration('sqlroom.server');
    const info = c.inspect<string>('token');
    const value = (info?.workspaceFolderValue || info?.workspaceValue || info?.globalValue || '').trim();
    if (value === '') return;
    const urls = splitServerUrls(c.get<string>('url', '')).map((u) => normaliseServerUrl(u)).filter((u): u is string => u !== undefined);
    const keys = migrationTargets(value, urls);
    for (const key of keys) await this.secrets.store(key, value);
    const targets: Array<[unknown, vscode.ConfigurationTarget]> = [
      [info?.globalValue, vscode.ConfigurationTarget.Global],
      [info?.workspaceValue, vscode.ConfigurationTarget.Workspace],
    ];
    for (const [v, target] of targets) if (v !== undefined) await c.update('token', undefined, target).then(undefined, () => undefined);
    const where = urls.length > 0 ? `for ${urls.join(', ')}` : 'nowhere: sqlroom.server.url names no server, so run "SQLRoom: Set Server Token" with the server it is for';
    this.log.appendLine(`SQLRoom: moved sqlroom.server.token into the secret storage ${where}`);
    void vscode.window.showInformationMessage(
      `SQLRoom: the token from the setting sqlroom.server.token now lives in VS Code's secret storage ${where}, and the setting was removed (settings are synced and shared; secrets are not).`,
    );
  }

  private async setCommand(urlArg?: string, tokenArg?: string): Promise<boolean> {
    const configured = splitServerUrls(vscode.workspace.getConfiguration('sqlroom.server').get<string>('url', ''));
    const raw =
      urlArg ??
      (await vscode.window.showInputBox({
        title: 'SQLRoom: Set Server Token (1/2)',
        prompt: 'The server this token is for (it is sent to no other)',
        value: configured[0] ?? 'wss://',
        validateInput: (v) => (normaliseServerUrl(v) ? undefined : 'A ws:// or wss:// URL'),
      }));
    const url = raw === undefined ? undefined : normaliseServerUrl(raw);
    if (!url) return false;
    const token =
      tokenArg ??
      (await vscode.window.showInputBox({ title: 'SQLRoom: Set Server Token (2/2)', prompt: `Token for ${url}`, password: true, ignoreFocusOut: true }))?.trim();
    if (!token) return false;
    // One deployment listed in the setting (scale-out) shares its token.
    const all = configured.map((u) => normaliseServerUrl(u)).some((u) => u && serverKey(u) === serverKey(url)) ? configured : [url];
    for (const u of all) await this.set(normaliseServerUrl(u) ?? u, token);
    void vscode.window.showInformationMessage(`SQLRoom: token stored for ${all.join(', ')} (in VS Code's secret storage).`);
    return true;
  }

  private async clearCommand(urlArg?: string): Promise<boolean> {
    const configured = splitServerUrls(vscode.workspace.getConfiguration('sqlroom.server').get<string>('url', ''));
    const raw = urlArg ?? (await vscode.window.showInputBox({ title: 'SQLRoom: Clear Server Token', prompt: 'The server whose token to forget', value: configured[0] ?? '' }));
    const url = raw === undefined ? undefined : normaliseServerUrl(raw);
    if (!url) return false;
    await this.clear(url);
    void vscode.window.showInformationMessage(`SQLRoom: token for ${url} removed.`);
    return true;
  }
}
