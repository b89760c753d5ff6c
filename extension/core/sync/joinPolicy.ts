// Safe joins: which server a notebook may be sent to without asking, and
// which token goes with it. A token is stored for one server (its key below)
// and only ever sent to that server; a server named by a `.sqlroom` file (or
// by a workspace's settings, which come with a cloned repository) is joined
// only after the user said so. No vscode here: unit-tested in plain Node.

/** Where the server of a notebook came from. */
export type ServerSource =
  /** `server` in the .sqlroom file */
  | 'file'
  /** sqlroom.server.url in the workspace (folder) settings */
  | 'workspace-setting'
  /** sqlroom.server.url in the user's own settings */
  | 'user-setting'
  /** SQLRoom: Join Notebook (the user typed or pasted it) */
  | 'join';

/**
 * The identity of a server for trust and tokens: scheme, lower-case host,
 * port (the scheme's default made explicit) and path without trailing
 * slashes. ws:// and wss:// differ: a token for TLS is not sent in clear.
 */
export function serverKey(url: string): string {
  const s = url.trim().replace(/^http(s?):\/\//i, 'ws$1://');
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return s;
  }
  const scheme = u.protocol.replace(/:$/, '').toLowerCase();
  const port = u.port || (scheme === 'wss' ? '443' : '80');
  return `${scheme}://${u.hostname.toLowerCase()}:${port}${u.pathname.replace(/\/+$/, '')}`;
}

/** Secret-storage key under which the token for `url` is kept. */
export function tokenSecretKey(url: string): string {
  return `sqlroom.token:${serverKey(url)}`;
}

/**
 * The token to send to `url`: only one stored for that very server (or given
 * by Join for it). Never a token configured for another server.
 */
export function tokenFor(url: string, stored: ReadonlyMap<string, string>): string | undefined {
  return stored.get(serverKey(url));
}

export interface JoinContext {
  source: ServerSource;
  /** Keys of servers the user chose "Always for this server" for. */
  trusted: readonly string[];
  /** Keys of servers the user joined in this window already ("Join"). */
  allowedNow: ReadonlySet<string>;
  /** Keys of servers the user chose "Work offline" for in this window. */
  declinedNow: ReadonlySet<string>;
}

/**
 * join: connect without asking; ask: show "This notebook syncs with …:
 * Join / Work offline / Always for this server"; offline: the user already
 * said no in this window.
 */
export function joinDecision(url: string, c: JoinContext): 'join' | 'ask' | 'offline' {
  if (c.source === 'user-setting' || c.source === 'join') return 'join';
  const key = serverKey(url);
  if (c.trusted.includes(key) || c.allowedNow.has(key)) return 'join';
  if (c.declinedNow.has(key)) return 'offline';
  return 'ask';
}

/** The prompt's answers (in the order shown). */
export const JOIN_ANSWERS = ['Join', 'Work offline', 'Always for this server'] as const;
export type JoinAnswer = (typeof JOIN_ANSWERS)[number];

export function joinPrompt(url: string, source: ServerSource): string {
  const from = source === 'file' ? 'This notebook syncs with' : 'This workspace’s settings sync notebooks with';
  return `${from} ${url}. Joining sends the notebook’s contents to that server. Join it?`;
}

/**
 * Where a token found in the old `sqlroom.server.token` setting goes: the
 * secret-storage keys of the servers listed in `sqlroom.server.url` (the
 * only servers it was ever meant for). No server listed: nowhere (the user
 * is told to set it again with the command).
 */
export function migrationTargets(settingToken: string | undefined, urls: readonly string[]): string[] {
  if (!settingToken || settingToken.trim() === '') return [];
  return [...new Set(urls.map((u) => tokenSecretKey(u)))];
}
