// HTTP endpoints next to the websocket server (same port):
//   GET  /healthz                          ok | degraded (200) / starting | broken (503)
//   GET  /metrics                          Prometheus text
//   GET  /api/analytics?doc=&branch=&from=&to=
//   GET  /api/docs/:docId/analytics?branch=&from=&to=
//   POST /api/docs/:docId/checkpoint       {"message","author","branch"}
//   GET  /api/docs/:docId/at?t=<iso>&branch=
//   GET  /api/docs/:docId/branches         [{branch, parentBranch, forkFrontiers (JSON), head, headOpId, createdAt}]
//   GET  /api/docs/:docId/state?branch=    {head, snapshot (base64 Loro snapshot)}
//   POST /api/docs/:docId/branches         {"name","from","frontiers","author"}: fork a branch
//   POST /api/docs/:docId/merge            {"from","into","author","message"}: merge branch from into branch into
//   GET  /api/docs/:docId/snapshots?branch=
// With a server secret, /api/ needs `Authorization: Bearer <token>` for the
// document (read for GET, write for POST; a branch-scoped token only for its
// branch; /api/analytics without ?doc= needs a token for every document, `*`).
// /healthz and /metrics stay open.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_BRANCH, InvalidIdError, roomRef, validateBranch, validateDocId, type RoomRef } from '../protocol/roomId';
import type { OpId } from 'loro-crdt';
import { docDepth } from '../rooms/nesting';
import type { SyncCore } from '../rooms/syncCore';
import { ForkError, versionOf } from '../rooms/syncCore';
import { errText } from '../rooms/updateInfo';
import type { Logger } from '../log';
import { normalizeUserName } from '../protocol/names';
import { ANY_DOC, TokenError, checkClaims, verifyToken, type TokenClaims, type TokenPerm } from '../tokens';

export interface HttpContext {
  core: () => SyncCore | null;
  /** Prometheus exposition text and its content type. */
  metricsText: () => Promise<{ text: string; contentType: string }>;
  health: () => { status: 'ok' | 'degraded' | 'starting' | 'broken'; [k: string]: unknown };
  log: Logger;
  /** Server secret: when set, /api/ requests need a bearer token. */
  secret?: Uint8Array;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly code?: string) {
    super(message);
  }
}

/** What a request may do: everything (no secret) or what its token grants; `claims` is its token's. */
type Guard = ((docId: string, branches: string[], need: TokenPerm) => void) & { claims?: TokenClaims };

const OPEN_GUARD: Guard = () => undefined;
/** A request that reads every branch of a document (analytics without ?branch=). */
const EVERY_BRANCH = '\u0000every-branch';

function bearerGuard(secret: Uint8Array, req: IncomingMessage): Guard {
  const header = req.headers.authorization;
  if (!header) throw new HttpError(401, 'this server requires an access token: send Authorization: Bearer <token> (sqlroom-server token --help)', 'token_required');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new HttpError(401, 'the Authorization header must be "Bearer <token>"', 'malformed_token');
  let claims: TokenClaims;
  try {
    claims = verifyToken(secret, m[1]);
  } catch (err) {
    if (err instanceof TokenError) throw new HttpError(401, err.message, err.code);
    throw err;
  }
  const guard: Guard = (docId, branches, need) => {
    try {
      if (docId === ANY_DOC && claims.doc !== ANY_DOC) throw new TokenError('wrong_doc', `token is for document ${JSON.stringify(claims.doc)}; this request covers every document and needs a token issued with --doc '*'`);
      if (branches.length === 0) checkClaims(claims, { docId, need });
      for (const branch of branches) {
        if (branch === EVERY_BRANCH && claims.branch !== undefined) {
          checkClaims(claims, { docId, need });
          throw new TokenError('wrong_branch', `token is for branch ${JSON.stringify(claims.branch)} only; this request covers every branch (add ?branch=${encodeURIComponent(claims.branch)})`);
        }
        checkClaims(claims, { docId, ...(branch === EVERY_BRANCH ? {} : { branch }), need });
      }
    } catch (err) {
      if (err instanceof TokenError) throw new HttpError(403, err.message, err.code);
      throw err;
    }
  };
  guard.claims = claims;
  return guard;
}

/**
 * The author recorded for a checkpoint, fork or merge: the token's user when
 * it names one (a body "author" is ignored then), else the body's name,
 * checked like every user name (no control, invisible or look-alike characters).
 */
function authorOf(guard: Guard, body: Record<string, unknown>): string {
  const given = optString(body, 'author');
  if (guard.claims?.user) return guard.claims.user;
  if (given === undefined) return 'api';
  const n = normalizeUserName(given);
  if ('error' in n) throw new HttpError(400, `author: ${n.error}`, 'invalid_author');
  return n.name;
}

const MAX_BODY = 64 * 1024;

export function handleHttp(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): void {
  route(ctx, req, res).catch((err) => {
    const status = err instanceof HttpError ? err.status : 500;
    if (status >= 500) ctx.log.error('http request failed', { method: req.method, url: req.url?.slice(0, 200), error: errText(err) });
    if (status === 401) res.setHeader('www-authenticate', 'Bearer realm="sqlroom"');
    json(res, status, { error: errText(err), ...(err instanceof HttpError && err.code ? { code: err.code } : {}) });
  });
}

async function route(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  if (url.pathname === '/healthz') {
    const h = ctx.health();
    return json(res, h.status === 'starting' || h.status === 'broken' ? 503 : 200, h);
  }
  if (url.pathname === '/metrics') {
    const { text, contentType } = await ctx.metricsText();
    res.writeHead(200, { 'content-type': contentType });
    res.end(text);
    return;
  }
  const core = ctx.core();
  const guard = ctx.secret && url.pathname.startsWith('/api/') ? bearerGuard(ctx.secret, req) : OPEN_GUARD;
  if (url.pathname.startsWith('/api/') && !core) throw new HttpError(503, 'server is starting');
  if (url.pathname === '/api/analytics' && method === 'GET') {
    const docId = url.searchParams.get('doc');
    const b = url.searchParams.get('branch');
    guard(docId ? checkDoc(docId) : ANY_DOC, [b ? checkBranch(b) : EVERY_BRANCH], 'read');
    return json(res, 200, await analytics(core!, docId ? checkDoc(docId) : undefined, url));
  }
  const m = /^\/api\/docs\/([^/]+)\/([a-z]+)$/.exec(url.pathname);
  if (!m) throw new HttpError(404, `no route for ${method} ${url.pathname}`);
  let rawDoc: string;
  try {
    rawDoc = decodeURIComponent(m[1]);
  } catch {
    throw new HttpError(400, 'doc id is not valid percent-encoding');
  }
  const docId = checkDoc(rawDoc);
  const branch = checkBranch(url.searchParams.get('branch') ?? DEFAULT_BRANCH);
  const action = m[2];
  const branchParam = url.searchParams.get('branch');
  if (action === 'analytics' && method === 'GET') {
    guard(docId, [branchParam ? branch : EVERY_BRANCH], 'read');
    return json(res, 200, await analytics(core!, docId, url));
  }
  if (action === 'checkpoint' && method === 'POST') {
    const body = await readJson(req);
    const message = optString(body, 'message');
    const b = optString(body, 'branch');
    const ref = roomRef(docId, b ? checkBranch(b) : branch);
    guard(docId, [ref.branch], 'write');
    const author = authorOf(guard, body);
    try {
      const out = await core!.checkpoint(ref, author, message ?? null);
      return json(res, 200, { docId, branch: ref.branch, ...out });
    } catch (err) {
      throw new HttpError(503, `checkpoint failed: ${errText(err)}`);
    }
  }
  if (action === 'at' && method === 'GET') {
    const atMs = isoTime(url.searchParams.get('t'), 't');
    if (atMs === undefined) throw new HttpError(400, 'query parameter t must be an ISO 8601 time');
    guard(docId, [branch], 'read');
    await flushQuietly(core!);
    const state = await core!.storage.loadAt(docId, branch, atMs);
    const format = url.searchParams.get('format') === 'snapshot' ? 'snapshot' : 'json';
    // The same stored state renders the same answer: served from a small cache, not rebuilt per call.
    const cacheKey = `${docId}@${branch}\u0000${state.snapshot?.snapshotId ?? 0}\u0000${state.ops.length}\u0000${state.ops.at(-1)?.opId ?? 0}\u0000${format}`;
    const cached = atCache(core!).get(cacheKey);
    if (cached) return json(res, 200, { ...cached, t: new Date(atMs).toISOString() });
    const doc = await core!.buildForRead(state.snapshot?.bytes ?? null, state.ops.map((o) => o.bytes));
    try {
      // Loro's toJSON recurses: a document nested too deep (stored before the limit) is refused, never rendered.
      const limit = core!.settings.limits.maxNestingDepth;
      const depth = docDepth(doc, limit);
      if (depth > limit) throw new HttpError(422, `document ${docId}@${branch} nests containers ${depth}+ levels deep at that time, more than maxNestingDepth ${limit}; it cannot be rendered safely`, 'nesting_too_deep');
      const out: Record<string, unknown> = {
        docId,
        branch,
        t: new Date(atMs).toISOString(),
        snapshotId: state.snapshot?.snapshotId ?? null,
        opsApplied: state.ops.length,
        lastOpId: state.ops.length ? state.ops[state.ops.length - 1].opId : (state.snapshot?.lastOpId ?? 0),
        version: versionOf(doc),
        json: doc.toJSON(),
      };
      if (format === 'snapshot') out.snapshot = Buffer.from(doc.export({ mode: 'snapshot' })).toString('base64');
      atCache(core!).set(cacheKey, out);
      return json(res, 200, out);
    } finally {
      doc.free();
    }
  }
  if (action === 'branches' && method === 'POST') {
    const body = await readJson(req);
    const name = optString(body, 'name');
    if (!name) throw new HttpError(400, 'body needs "name" (the new branch)');
    const from = checkBranch(optString(body, 'from') ?? DEFAULT_BRANCH);
    const to = checkBranch(name);
    const frontiers = parseFrontiers(body.frontiers);
    guard(docId, [from], 'read');
    guard(docId, [to], 'write');
    const author = authorOf(guard, body);
    try {
      const out = await core!.fork(roomRef(docId, from), roomRef(docId, to), frontiers, author);
      return json(res, 201, { docId, ...out });
    } catch (err) {
      if (err instanceof ForkError) throw new HttpError(err.status, err.message);
      throw new HttpError(503, `fork failed: ${errText(err)}`);
    }
  }
  if (action === 'merge' && method === 'POST') {
    const body = await readJson(req);
    const rawFrom = optString(body, 'from');
    if (!rawFrom) throw new HttpError(400, 'body needs "from" (the branch to merge)');
    const from = checkBranch(rawFrom);
    const into = checkBranch(optString(body, 'into') ?? DEFAULT_BRANCH);
    const message = optString(body, 'message') ?? null;
    guard(docId, [from], 'read');
    guard(docId, [into], 'write');
    const author = authorOf(guard, body);
    try {
      const out = await core!.merge(roomRef(docId, from), roomRef(docId, into), author, message);
      return json(res, 200, { docId, ...out });
    } catch (err) {
      if (err instanceof ForkError) throw new HttpError(err.status, err.message);
      throw new HttpError(503, `merge failed: ${errText(err)}`);
    }
  }
  if (action === 'branches' && method === 'GET') {
    guard(docId, [], 'read');
    // No flush here: history panels poll this; forks flush when they are made.
    // A branch-scoped token sees only its own branch.
    const scope = guard.claims?.branch;
    const rows = (await core!.storage.listBranches(docId)).filter((b) => scope === undefined || b.branch === scope);
    const branches = [];
    for (const b of rows) branches.push({ ...b, head: await branchHead(core!, roomRef(docId, b.branch), b.headOpId) }); // forkFrontiers stays a JSON string (as stored)
    return json(res, 200, { docId, branches });
  }
  if (action === 'state' && method === 'GET') {
    guard(docId, [branch], 'read');
    const state = await core!.branchState(roomRef(docId, branch), true);
    if (!state) throw new HttpError(404, `unknown branch ${branch} of document ${docId}`);
    return json(res, 200, { docId, branch, head: state.frontiers, snapshot: Buffer.from(state.snapshot!).toString('base64') });
  }
  if (action === 'snapshots' && method === 'GET') {
    guard(docId, [branch], 'read');
    return json(res, 200, { docId, branch, snapshots: await core!.storage.listSnapshots(docId, branch) });
  }
  guard(docId, [], method === 'GET' ? 'read' : 'write');
  throw new HttpError(404, `no route for ${method} ${url.pathname}`);
}

/** Small LRU caches per server: rendered /at answers, and branch heads by head op id. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
}
const atCaches = new WeakMap<SyncCore, Lru<Record<string, unknown>>>();
const headCaches = new WeakMap<SyncCore, Lru<{ headOpId: number; head: OpId[] }>>();

function atCache(core: SyncCore): Lru<Record<string, unknown>> {
  let c = atCaches.get(core);
  if (!c) atCaches.set(core, (c = new Lru(16)));
  return c;
}

/**
 * A branch's head frontiers without loading (and holding) its room: from the
 * loaded room when it is in memory, else from a cache keyed by the stored head
 * op id, computed once from storage when that changes.
 */
async function branchHead(core: SyncCore, ref: RoomRef, headOpId: number): Promise<OpId[]> {
  const loaded = core.rooms.get(ref.key);
  if (loaded && !loaded.rebuilding) return loaded.doc.oplogFrontiers();
  let cache = headCaches.get(core);
  if (!cache) headCaches.set(core, (cache = new Lru(4096)));
  const hit = cache.get(ref.key);
  if (hit && hit.headOpId === headOpId) return hit.head;
  const state = await core.storage.loadRoom(ref.docId, ref.branch);
  const doc = await core.buildForRead(state.snapshot?.bytes ?? null, state.ops.map((o) => o.bytes));
  try {
    const head = doc.oplogFrontiers();
    cache.set(ref.key, { headOpId, head });
    return head;
  } finally {
    doc.free();
  }
}

async function analytics(core: SyncCore, docId: string | undefined, url: URL) {
  const b = url.searchParams.get('branch');
  // Passed on as canonical ISO strings: the database never sees what the client typed.
  const fromMs = isoTime(url.searchParams.get('from'), 'from');
  const toMs = isoTime(url.searchParams.get('to'), 'to');
  const from = fromMs === undefined ? undefined : new Date(fromMs).toISOString();
  const to = toMs === undefined ? undefined : new Date(toMs).toISOString();
  await flushQuietly(core);
  return { docId: docId ?? null, branch: b ?? null, ...(await core.storage.analytics({ docId, branch: b ? checkBranch(b) : undefined, from, to })) };
}

/** Analytics read the database: flush first so they include what was acked (best effort when degraded). */
async function flushQuietly(core: SyncCore): Promise<void> {
  try {
    await core.flushAll(2000);
  } catch {
    /* degraded: answer from what the database has */
  }
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Milliseconds of an ISO 8601 time parameter; undefined when absent; 400 when not ISO 8601 (`1`, `yesterday`). */
function isoTime(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined;
  const ms = ISO_TIME.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms) || Math.abs(ms) > 8.64e15) throw new HttpError(400, `query parameter ${name} must be an ISO 8601 time such as 2026-01-31T12:00:00Z (got ${JSON.stringify(v.slice(0, 40))})`, 'bad_parameter');
  return ms;
}

function checkDoc(s: string): string {
  try {
    return validateDocId(s);
  } catch (err) {
    throw new HttpError(400, err instanceof InvalidIdError ? err.message : errText(err));
  }
}

function checkBranch(s: string): string {
  try {
    return validateBranch(s);
  } catch (err) {
    throw new HttpError(400, err instanceof InvalidIdError ? err.message : errText(err));
  }
}

/** `[{"peer":"123","counter":4}, ...]` or absent (null = parent's head). */
function parseFrontiers(v: unknown): { peer: `${number}`; counter: number }[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.length > 1000) throw new HttpError(400, 'frontiers must be an array of {peer, counter}');
  return v.map((f: unknown) => {
    const o = f as { peer?: unknown; counter?: unknown };
    if (!o || typeof o !== 'object' || typeof o.peer !== 'string' || !/^\d{1,20}$/.test(o.peer) || !Number.isInteger(o.counter) || (o.counter as number) < 0) {
      throw new HttpError(400, 'frontiers must be an array of {"peer": "<decimal peer id>", "counter": <integer >= 0>}');
    }
    return { peer: o.peer as `${number}`, counter: o.counter as number };
  });
}

function optString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > 2000) throw new HttpError(400, `${key} must be a string of at most 2000 characters`);
  return v;
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > MAX_BODY) {
        reject(new HttpError(413, `body larger than ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text.trim()) return resolve({});
      try {
        const v: unknown = JSON.parse(text);
        if (!v || typeof v !== 'object' || Array.isArray(v)) return reject(new HttpError(400, 'body must be a JSON object'));
        resolve(v as Record<string, unknown>);
      } catch (err) {
        reject(new HttpError(400, `body is not JSON: ${errText(err)}`));
      }
    });
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
}
