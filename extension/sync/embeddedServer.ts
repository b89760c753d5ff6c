// The bundled sync server, started lazily in the background when the first
// shared notebook opens: loopback only, persisting to a DuckDB file in the
// workspace storage, joins need a token signed with a per-install secret
// (extension/core/sync/serverSecret.ts; Share issues per-document tokens
// with it). Another window
// of the same workspace (its own extension host) finds the running server
// through `server.json` next to the database and joins it instead of opening
// the same DuckDB file a second time.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunningServer } from '../../server/index';
import type { TokenPerm } from '../../server/tokens';
import { loadOrCreateSecret, ownToken, shareToken, type ShareToken } from '../core/sync/serverSecret';

export interface ServerEndpoint {
  url: string;
  token: string;
  /** True when this window runs it (false: another window's). */
  own: boolean;
}

interface Discovery {
  url: string;
  httpUrl: string;
  token: string;
  pid: number;
}

export class EmbeddedServer implements vscode.Disposable {
  private running: RunningServer | undefined;
  private starting: Promise<ServerEndpoint> | undefined;

  /** `secretFile`: the per-install secret (global storage), shared by every window of this install. */
  constructor(private readonly dir: string, private readonly log: vscode.OutputChannel, private readonly secretFile: string) {}

  /** A token for a colleague to join `roomId` on this server (Share). */
  issueShareToken(roomId: string, perm: TokenPerm): ShareToken {
    return shareToken(loadOrCreateSecret(this.secretFile), roomId, perm);
  }

  get databaseFile(): string {
    return path.join(this.dir, 'sqlroom.duckdb');
  }

  private get discoveryFile(): string {
    return path.join(this.dir, 'server.json');
  }

  /** The running server (starting it, with progress in the status bar, if needed). */
  ensure(): Promise<ServerEndpoint> {
    if (!this.starting) {
      const p = Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'SQLRoom: starting the sync server' }, () => this.start()));
      p.catch(() => {
        if (this.starting === p) this.starting = undefined;
      });
      this.starting = p;
    }
    return this.starting;
  }

  /** Forgets a server that went away (another window closed), so the next ensure() starts one. */
  reset(): void {
    if (!this.running) this.starting = undefined;
  }

  async dispose(): Promise<void> {
    const s = this.running;
    this.running = undefined;
    if (!s) return;
    try {
      const d = readDiscovery(this.discoveryFile);
      if (d && d.pid === process.pid) fs.rmSync(this.discoveryFile, { force: true });
    } catch {
      /* best effort */
    }
    await s.close();
  }

  private async start(): Promise<ServerEndpoint> {
    fs.mkdirSync(this.dir, { recursive: true });
    for (let attempt = 0; attempt < 20; attempt++) {
      const other = readDiscovery(this.discoveryFile);
      if (other && other.pid !== process.pid && (await healthy(other.httpUrl))) {
        this.log.appendLine(`Joining the sync server of another window: ${other.url}`);
        return { url: other.url, token: other.token, own: false };
      }
      const secret = loadOrCreateSecret(this.secretFile);
      const token = ownToken(secret);
      try {
        const { startServer, createLogger } = await import('../../server/index');
        this.running = await startServer({
          host: '127.0.0.1',
          port: 0,
          db: this.databaseFile,
          secret,
          logger: createLogger('info', (line) => this.log.append(line)),
        });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        // Another window may be opening the same database right now: wait for its server.json.
        if (/lock|in use|Conflicting/i.test(message) && attempt < 19) {
          await new Promise((r) => setTimeout(r, 300));
          continue;
        }
        throw new Error(`The SQLRoom sync server could not start: ${message}`);
      }
      const d: Discovery = { url: this.running.url, httpUrl: this.running.httpUrl, token, pid: process.pid };
      fs.writeFileSync(this.discoveryFile, JSON.stringify(d, null, 2));
      this.log.appendLine(`SQLRoom sync server listening on ${d.url} (database ${this.databaseFile})`);
      return { url: d.url, token, own: true };
    }
    throw new Error('The SQLRoom sync server could not start: the database stayed locked by another process');
  }
}

function readDiscovery(file: string): Discovery | undefined {
  try {
    const d = JSON.parse(fs.readFileSync(file, 'utf8')) as Discovery;
    return typeof d.url === 'string' && typeof d.token === 'string' && typeof d.pid === 'number' ? d : undefined;
  } catch {
    return undefined;
  }
}

function healthy(httpUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${httpUrl}/healthz`, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}
