// The Loro document behind each open `.sqlroom` notebook, keyed by document id.
// The serializer creates entries when it reads a file and writes the snapshot
// from them on save; the change tracker keeps them in step with VS Code edits
// (and marks them tracked while a notebook shows them); the sync sessions
// exchange their updates with the server.
import { createHash } from 'node:crypto';
import { NotebookDoc } from '../server/shared/notebookDoc';
import type { NotebookData } from '../server/shared/notebookTypes';

const NOTED_FILES = 16;

export class NotebookRegistry {
  private readonly docs = new Map<string, NotebookDoc>();
  private readonly tracked = new Set<string>();
  /**
   * The latest local state of a shared document kept outside the file (set by
   * the sync sessions): merged in when the file is read, so reopening while
   * offline shows every edit.
   */
  cachedState: (docId: string) => Uint8Array | undefined = () => undefined;
  /**
   * The file of an open document was read again (VS Code reloads or reverts it)
   * and merged into the document; the notebook is about to show `data` (set by
   * the change tracker).
   */
  onReload: (docId: string, data: NotebookData) => void = () => undefined;
  /** Resolves once every open notebook of the document shows its Loro state (set by the change tracker). */
  whenShown: (docId: string) => Promise<void> = async () => undefined;
  /** The files on disk of an open document (set by the change tracker): merged in before a save. */
  filesOf: (docId: string) => string[] = () => [];
  /** The Loro documents open notebooks of `docId` show (set by the change tracker; two copies of a file: two). */
  openDocs: (docId: string) => NotebookDoc[] = () => [];
  /**
   * Counters for tests: files written by this window (saves), another writer's
   * versions merged from disk, and of those the ones that arrived while the
   * notebook had unsaved changes, and re-reads of the file (reverts).
   */
  readonly fileStats = { saves: 0, foreignWrites: 0, foreignWhileDirty: 0, reverts: 0 };

  /**
   * Digests of the bytes this window recently read or wrote as the document's
   * file, newest last. Several: two files (copies) may hold one document, and
   * a watcher's event for a file may arrive after the serializer read it.
   */
  private readonly fileDigests = new Map<string, string[]>();

  /** The serializer read or wrote these bytes as the document's file. */
  noteFile(docId: string, bytes: Uint8Array): void {
    const list = (this.fileDigests.get(docId) ?? []).filter((d) => d !== digest(bytes));
    list.push(digest(bytes));
    this.fileDigests.set(docId, list.slice(-NOTED_FILES));
  }

  /** Whether this window itself read or wrote `bytes` as the document's file (its own save or read, not another writer). */
  isNotedFile(docId: string, bytes: Uint8Array): boolean {
    return this.fileDigests.get(docId)?.includes(digest(bytes)) ?? false;
  }

  /** Version views: the registry key of a version's fork -> the notebook it is a version of (its file's id and server). */
  private readonly versions = new Map<string, { docId: string; server?: string }>();

  /** `versionDocId` is the document a version file (sqlroom-version:) was written with; it is a version of `of`. */
  noteVersion(versionDocId: string, of: { docId: string; server?: string }): void {
    this.versions.set(versionDocId, of);
  }

  /** The notebook a version's document is a version of, when `docId` is one. */
  versionOf(docId: string): { docId: string; server?: string } | undefined {
    return this.versions.get(docId);
  }

  get(docId: string): NotebookDoc | undefined {
    return this.docs.get(docId);
  }

  /** Registers the document read from a file; a re-read (revert, reopen) replaces the old one. */
  set(docId: string, nb: NotebookDoc): void {
    this.docs.set(docId, nb);
  }

  delete(docId: string): void {
    this.docs.delete(docId);
    this.versions.delete(docId);
  }

  getOrCreate(docId: string, create: () => NotebookDoc): NotebookDoc {
    let nb = this.docs.get(docId);
    if (!nb) {
      nb = create();
      this.docs.set(docId, nb);
    }
    return nb;
  }

  /** An open notebook shows this document and keeps it in step (the change tracker). */
  isTracked(docId: string): boolean {
    return this.tracked.has(docId);
  }

  markTracked(docId: string, tracked: boolean): void {
    if (tracked) this.tracked.add(docId);
    else this.tracked.delete(docId);
  }
}

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
