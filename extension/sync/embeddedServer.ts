// The local sync server as the windows see it: one per user and machine, a
// separate process (extension/core/sync/localServer.ts starts or finds it),
// shared by every window and VS Code profile of the user, on loopback. Joins
// need a token signed with the server's secret (readable by the user only);
// each join mints a fresh short-lived one. Share issues per-document tokens
// with the same secret.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DATABASE_FILE, localServerDir } from '../../server/local/localFiles';
import type { TokenPerm } from '../../server/tokens';
import { ensureLocalServer, type LocalServer } from '../core/sync/localServer';
import { ownToken, shareToken, type ShareToken } from '../core/sync/serverSecret';

export interface ServerEndpoint {
  url: string;
  /** A fresh short-lived token for each join. */
  token: () => string;
  /** True when this window started it. */
  own: boolean;
}

export class EmbeddedServer implements vscode.Disposable {
  private starting: Promise<LocalServer> | undefined;
  private running: LocalServer | undefined;
  readonly dir = localServerDir();

  constructor(private readonly extensionPath: string, private readonly log: vscode.OutputChannel) {}

  /** A token for a colleague to join `roomId` on this server (Share). */
  issueShareToken(roomId: string, perm: TokenPerm): ShareToken {
    if (!this.running) throw new Error('The local sync server is not running.');
    return shareToken(this.running.secret, roomId, perm);
  }

  get databaseFile(): string {
    return path.join(this.dir, DATABASE_FILE);
  }

  /** The pid of the server this window uses (tests). */
  get pid(): number | undefined {
    return this.running?.pid;
  }

  /** The running server (finding or starting it, with progress in the status bar). */
  async ensure(): Promise<ServerEndpoint> {
    if (!this.starting) {
      const p = Promise.resolve(
        vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'SQLRoom: starting the local sync server' }, () => this.find()),
      );
      p.catch(() => {
        if (this.starting === p) this.starting = undefined;
      });
      this.starting = p;
    }
    const s = await this.starting;
    return { url: s.url, token: () => ownToken(s.secret), own: s.started };
  }

  /** Forgets the server in use (it went away), so the next ensure() finds or starts one again. */
  reset(): void {
    this.starting = undefined;
    this.running = undefined;
  }

  /** The server is shared with other windows and exits by itself once idle: nothing to stop here. */
  dispose(): void {
    this.reset();
  }

  private async find(): Promise<LocalServer> {
    const script = path.join(this.extensionPath, 'dist', 'server.js');
    const idleMinutes = vscode.workspace.getConfiguration('sqlroom.server').get<number>('idleExitMinutes', 10);
    const s = await ensureLocalServer({
      dir: this.dir,
      serverScript: script,
      version: serverVersion(this.extensionPath, script),
      idleExitMs: Math.max(0, Math.round(idleMinutes * 60_000)),
      log: (line) => this.log.appendLine(line),
    });
    this.running = s;
    this.log.appendLine(`SQLRoom: ${s.started ? 'started' : 'joined'} the local sync server ${s.url} (pid ${s.pid}, data in ${this.dir})`);
    return s;
  }
}

/** The extension's version plus a digest of the server bundle: a rebuilt server replaces the running one. */
function serverVersion(extensionPath: string, script: string): string {
  let version = '0';
  try {
    version = (JSON.parse(fs.readFileSync(path.join(extensionPath, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* keep '0' */
  }
  try {
    return `${version}+${createHash('sha256').update(fs.readFileSync(script)).digest('hex').slice(0, 12)}`;
  } catch {
    return version;
  }
}
