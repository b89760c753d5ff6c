// A read-only file system for notebook versions (scheme sqlroom-version,
// registered with isReadonly): reading a version URI gives a .sqlroom file of
// the notebook forked at that version, so it opens in the 'sqlroom' notebook
// editor and runs with the kernel, but VS Code refuses to edit or save it.
// Versions are immutable, so the bytes are cached (a few, most recent).
import * as vscode from 'vscode';
import { notebookAt, versionTimestamp } from '../../server/shared/history/versionDoc';
import { serializeSqlroomFile } from '../../server/shared/sqlroomFile';
import { readSqlroomMetadata } from '../core/notebookMapping';
import type { NotebookRegistry } from '../notebookRegistry';
import { parseVersionUri, versionDocId, VERSION_SCHEME } from './versionUri';

const CACHE_SIZE = 16;

export class VersionFileSystem implements vscode.FileSystemProvider {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;
  private readonly cache = new Map<string, { bytes: Uint8Array; mtime: number }>();

  constructor(private readonly registry: NotebookRegistry) {}

  static register(registry: NotebookRegistry): vscode.Disposable {
    return vscode.workspace.registerFileSystemProvider(VERSION_SCHEME, new VersionFileSystem(registry), { isReadonly: true, isCaseSensitive: true });
  }

  private load(uri: vscode.Uri): { bytes: Uint8Array; mtime: number } {
    let ref;
    try {
      ref = parseVersionUri(uri);
    } catch (e) {
      throw vscode.FileSystemError.FileNotFound(`${e instanceof Error ? e.message : String(e)}`);
    }
    if (ref.compare) {
      // The serializer shows a compare view under the live notebook's id and
      // server (what a compare must find equal); its fork stays under its own id.
      const server = liveServer(ref.docId);
      this.registry.noteVersion(versionDocId(ref), { docId: ref.docId, ...(server ? { server } : {}) });
    }
    const key = `${ref.docId}\n${ref.version}\n${ref.compare ? 'compare' : 'open'}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const nb = this.registry.get(ref.docId);
    if (!nb) throw vscode.FileSystemError.FileNotFound(`The notebook of this version (document ${ref.docId}) is not open; open it first, then its history.`);
    let entry;
    try {
      const at = notebookAt(nb, ref.version);
      entry = { bytes: serializeSqlroomFile(at, versionDocId(ref)), mtime: versionTimestamp(nb.doc, ref.version) * 1000 };
    } catch (e) {
      throw vscode.FileSystemError.FileNotFound(`${e instanceof Error ? e.message : String(e)}`);
    }
    this.cache.set(key, entry);
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    return entry;
  }

  stat(uri: vscode.Uri): vscode.FileStat {
    const { bytes, mtime } = this.load(uri);
    return { type: vscode.FileType.File, ctime: mtime, mtime, size: bytes.length, permissions: vscode.FilePermission.Readonly };
  }

  readFile(uri: vscode.Uri): Uint8Array {
    return this.load(uri).bytes;
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined); // versions never change
  }

  readDirectory(): [string, vscode.FileType][] {
    return [];
  }

  createDirectory(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  writeFile(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  delete(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  rename(oldUri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(oldUri);
  }
}

/** The sync server of the open (file) notebook of `docId`, if any. */
function liveServer(docId: string): string | undefined {
  for (const nb of vscode.workspace.notebookDocuments) {
    if (nb.uri.scheme === VERSION_SCHEME) continue;
    const own = readSqlroomMetadata(nb.metadata);
    if (own?.docId === docId && own.server) return own.server;
  }
  return undefined;
}
