// A team `sqlroom-server` for the VS Code suite, run as its own process (the
// CLI from out/), as a team would run it. Starting it inside the extension
// host instead would load a second copy of DuckDB's native library next to
// the one of the installed extension (VSIX route), which DuckDB does not
// survive.
import { spawnServer, type ChildServer } from '../support/serverProcess';

export class TeamServer {
  private constructor(private readonly child: ChildServer, readonly url: string, readonly port: number) {}

  /** Starts `sqlroom-server serve --db <dbFile>` on `port` (0 = any free port); `more`: further options (e.g. --secret-file). */
  static async start(dbFile: string, port = 0, more: string[] = []): Promise<TeamServer> {
    const child = await spawnServer(['--db', dbFile, '--port', String(port), '--log-level', 'warn', ...more]);
    return new TeamServer(child, child.url, Number(new URL(child.url).port));
  }

  /** Graceful stop (SIGTERM: the server flushes, then exits). */
  async close(): Promise<void> {
    const code = await this.child.kill('SIGTERM');
    if (code !== 0) throw new Error(`team server exited with ${code}: ${this.child.stderr()}`);
  }
}
