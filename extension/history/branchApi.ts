// The sync server's branch endpoints over HTTP (no `vscode`): list, fork at a
// version, read a branch's state, merge. Errors carry the server's message.
// node:http(s) rather than fetch: a private CA (sqlroom.server.caFile) must
// be trusted here exactly as on the websocket.
import * as http from 'node:http';
import * as https from 'node:https';
import type { OpIdLike } from '../../server/shared/history/version';

export interface ServerBranch {
  branch: string;
  parentBranch: string | null;
  /** JSON frontiers of the fork point, as stored. */
  forkFrontiers: string | null;
  head: OpIdLike[];
  headOpId: number;
  createdAt: number;
}

export interface MergeResult {
  from: string;
  into: string;
  merged: boolean;
  newOps: number;
  opId: number | null;
}

export class BranchApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** http(s)://host:port of a ws(s):// sync server URL. */
export function httpUrlOf(wsUrl: string): string {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  return u.origin;
}

export class BranchApi {
  /**
   * `token`: sent as `Authorization: Bearer` (servers with a secret require it on /api/);
   * `ca`: PEM certificate(s) trusted for https:// (the websocket's sqlroom.server.caFile).
   */
  constructor(private readonly httpUrl: string, private readonly token?: string, private readonly ca?: string | Buffer) {}

  /** The API of the server a session is connected to, with the session's token and CA. */
  static of(access: { url: string; token?: string; ca?: string | Buffer }): BranchApi {
    return new BranchApi(httpUrlOf(access.url), access.token, access.ca);
  }

  private async call<T>(docId: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(`${this.httpUrl}/api/docs/${encodeURIComponent(docId)}/${path}`);
    const headers: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
    let res: { status: number; text: string };
    try {
      res = await new Promise((resolve, reject) => {
        const options = { method: payload === undefined ? 'GET' : 'POST', headers, ...(this.ca && url.protocol === 'https:' ? { ca: this.ca } : {}) };
        const req = (url.protocol === 'https:' ? https : http).request(url, options, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          r.on('error', reject);
        });
        req.on('error', reject);
        req.end(payload);
      });
    } catch (e) {
      throw new BranchApiError(0, `cannot reach the sync server at ${this.httpUrl}: ${e instanceof Error ? e.message : String(e)}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(res.text);
    } catch {
      throw new BranchApiError(res.status, `the sync server answered ${res.status} with ${res.text.slice(0, 200)}`);
    }
    if (res.status < 200 || res.status >= 300) throw new BranchApiError(res.status, (json as { error?: string }).error ?? `HTTP ${res.status}`);
    return json as T;
  }

  /** The server's SQL analytics over ops_log for the document (all branches). */
  async analytics(docId: string): Promise<{ perAuthor: { author: string; updates: number; ops: number }[]; perMinute: { minute: string; updates: number; ops: number }[] }> {
    return this.call(docId, 'analytics');
  }

  async list(docId: string): Promise<ServerBranch[]> {
    return (await this.call<{ branches: ServerBranch[] }>(docId, 'branches')).branches;
  }

  async create(docId: string, name: string, from: string, frontiers: OpIdLike[], author: string): Promise<void> {
    await this.call(docId, 'branches', { name, from, frontiers, author });
  }

  /** The branch's Loro snapshot and head. */
  async state(docId: string, branch: string): Promise<{ snapshot: Uint8Array; head: OpIdLike[] }> {
    const out = await this.call<{ snapshot: string; head: OpIdLike[] }>(docId, `state?branch=${encodeURIComponent(branch)}`);
    return { snapshot: new Uint8Array(Buffer.from(out.snapshot, 'base64')), head: out.head };
  }

  /** Asks the server to write a snapshot of the branch with this message (a named version). */
  checkpoint(docId: string, branch: string, message: string, author: string): Promise<{ snapshotId: number }> {
    return this.call<{ snapshotId: number }>(docId, 'checkpoint', { branch, message, author });
  }

  merge(docId: string, from: string, into: string, author: string): Promise<MergeResult> {
    return this.call<MergeResult>(docId, 'merge', { from, into, author });
  }
}
