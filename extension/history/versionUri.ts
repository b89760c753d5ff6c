// URIs of read-only notebook versions:
//   sqlroom-version:/<notebook name> @ <time> (<version>).sqlroom?doc=<docId>&v=<version>
// The path is what the editor tab shows (and ends in .sqlroom so the
// notebook type's file pattern matches); the query carries the document id
// and the version (frontiers, see server/shared/history/version.ts).
import * as vscode from 'vscode';
import { formatTime } from '../../media/history/format';
import { parseVersion, shortVersion } from '../../server/shared/history/version';

export const VERSION_SCHEME = 'sqlroom-version';

export interface VersionRef {
  docId: string;
  version: string;
  /**
   * A view for Compare: it shows the live notebook's document id (so the diff
   * has no metadata change). Opened on its own (Open Version) a version keeps
   * its own id, so that Save As of it writes the version, not the live notebook.
   */
  compare?: boolean;
}

export function versionUri(ref: VersionRef, notebookName: string, unixSeconds: number): vscode.Uri {
  const base = notebookName.replace(/\.sqlroom$/i, '').replace(/[/\\?#]/g, '_') || 'notebook';
  const label = `${base} @ ${formatTime(unixSeconds)} (${shortVersion(ref.version)}).sqlroom`;
  const query = new URLSearchParams({ doc: ref.docId, v: ref.version, ...(ref.compare ? { cmp: '1' } : {}) }).toString();
  return vscode.Uri.from({ scheme: VERSION_SCHEME, path: `/${label}`, query });
}

/** The document id and version a version URI names; throws on a malformed URI. */
export function parseVersionUri(uri: vscode.Uri): VersionRef {
  if (uri.scheme !== VERSION_SCHEME) throw new Error(`not a ${VERSION_SCHEME}: URI: ${uri.toString()}`);
  const q = new URLSearchParams(uri.query);
  const docId = q.get('doc');
  const version = q.get('v');
  if (!docId || version === null) throw new Error(`version URI without doc or v: ${uri.toString()}`);
  parseVersion(version);
  return { docId, version, ...(q.get('cmp') === '1' ? { compare: true } : {}) };
}

/** A document id for the notebook a version opens as, distinct from the live one (the registry is keyed by id). */
export function versionDocId(ref: VersionRef): string {
  let h = 0x811c9dc5; // FNV-1a, 32 bit
  for (let i = 0; i < ref.version.length; i++) {
    h ^= ref.version.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${ref.docId.slice(0, 100)}_at_${h.toString(16).padStart(8, '0')}_${ref.version.length}${ref.compare ? '_cmp' : ''}`;
}
