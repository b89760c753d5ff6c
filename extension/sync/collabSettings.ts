// Typed access to the `sqlroom.server.*` settings (contributes.configuration).
import * as vscode from 'vscode';

export interface CollabSettings {
  /** Start the bundled sync server in the background (loopback only). */
  embedded: boolean;
  /** A team server (ws:// or wss://) to join instead of the embedded one (the first of `urls`). */
  url: string | undefined;
  /**
   * `sqlroom.server.url` may list several servers (comma or space separated):
   * processes of one scale-out deployment, tried in turn on a lost connection.
   */
  urls: string[];
  /** PEM file of a private CA / self-signed certificate to trust for wss:// servers. */
  caFile: string | undefined;
}

export function readCollabSettings(scope?: vscode.ConfigurationScope): CollabSettings {
  const c = vscode.workspace.getConfiguration('sqlroom.server', scope);
  const urls = splitServerUrls(c.get<string>('url', ''));
  const caFile = c.get<string>('caFile', '').trim();
  return { embedded: c.get<boolean>('embedded', true), url: urls[0], urls, caFile: caFile === '' ? undefined : caFile };
}

/** "ws://a:1, ws://b:2" → ["ws://a:1", "ws://b:2"] (comma or whitespace separated). */
export function splitServerUrls(raw: string): string[] {
  return raw.split(/[\s,]+/).map((u) => u.trim()).filter((u) => u !== '');
}

/** ws(s)://host[:port][/path]; http(s) is accepted and turned into ws(s). */
export function normaliseServerUrl(raw: string): string | undefined {
  const s = raw.trim().replace(/^http(s?):\/\//i, 'ws$1://');
  try {
    const u = new URL(s);
    if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return undefined;
    return s.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}
