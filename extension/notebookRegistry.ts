// The Loro document behind each open `.sqlroom` notebook, keyed by document id.
// The serializer creates entries when it reads a file and writes the snapshot
// from them on save; the change tracker keeps them in step with VS Code edits.
import { NotebookDoc } from '../server/shared/notebookDoc';

export class NotebookRegistry {
  private readonly docs = new Map<string, NotebookDoc>();

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
}
