// The Loro document behind each open `.sqlroom` notebook, keyed by document id.
// The serializer creates entries when it reads a file and writes the snapshot
// from them on save; the change tracker keeps them in step with VS Code edits
// (and marks them tracked while a notebook shows them); the sync sessions
// exchange their updates with the server.
import { NotebookDoc } from '../server/shared/notebookDoc';

export class NotebookRegistry {
  private readonly docs = new Map<string, NotebookDoc>();
  private readonly tracked = new Set<string>();
  /**
   * The latest local state of a shared document kept outside the file (set by
   * the sync sessions): merged in when the file is read, so reopening while
   * offline shows every edit.
   */
  cachedState: (docId: string) => Uint8Array | undefined = () => undefined;

  get(docId: string): NotebookDoc | undefined {
    return this.docs.get(docId);
  }

  /** Registers the document read from a file; a re-read (revert, reopen) replaces the old one. */
  set(docId: string, nb: NotebookDoc): void {
    this.docs.set(docId, nb);
  }

  delete(docId: string): void {
    this.docs.delete(docId);
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
