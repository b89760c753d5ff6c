// The sync server's branch endpoints over HTTP (no `vscode`): list, fork at a
// version, read a branch's state, merge. Errors carry the server's message.
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
  /** `token`: sent as `Authorization: Bearer` (servers with a secret require it on /api/). */
  constructor(private readonly httpUrl: string, private readonly token?: string) {}

  private async call<T>(docId: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.httpUrl}/api/docs/${encodeURIComponent(docId)}/${path}`;
    let res: Response;
    try {
      const auth: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
      res = await fetch(url, body === undefined ? { headers: auth } : { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch (e) {
      throw new BranchApiError(0, `cannot reach the sync server at ${this.httpUrl}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new BranchApiError(res.status, `the sync server answered ${res.status} with ${text.slice(0, 200)}`);
    }
    if (!res.ok) throw new BranchApiError(res.status, (json as { error?: string }).error ?? `HTTP ${res.status}`);
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
