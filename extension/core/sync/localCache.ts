// The latest local state of each shared notebook, kept on disk so that
// reopening VS Code while the team server is unreachable shows every edit
// (saved or not). One Loro snapshot per document id, written atomically
// (temp file + rename) a moment after changes settle.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoroDoc } from 'loro-crdt';

const SAFE_ID = /^[A-Za-z0-9._@-]{1,200}$/; // docId or <docId>@<branch>

export class LocalCache {
  constructor(readonly dir: string) {}

  fileFor(docId: string): string | undefined {
    if (!SAFE_ID.test(docId) || docId.startsWith('.')) return undefined;
    return path.join(this.dir, `${docId}.loro`);
  }

  read(docId: string): Uint8Array | undefined {
    const file = this.fileFor(docId);
    if (!file || !fs.existsSync(file)) return undefined;
    try {
      return new Uint8Array(fs.readFileSync(file));
    } catch {
      return undefined;
    }
  }

  write(docId: string, doc: LoroDoc): void {
    const file = this.fileFor(docId);
    if (!file) return;
    fs.mkdirSync(this.dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, doc.export({ mode: 'snapshot' }));
    fs.renameSync(tmp, file);
  }

  /** Writes `doc` `delayMs` after the last change; returns a function that stops watching (and writes once more). */
  watch(docId: string, doc: LoroDoc, delayMs = 500, onError?: (e: unknown) => void): () => void {
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      try {
        this.write(docId, doc);
      } catch (e) {
        onError?.(e);
      }
    };
    const unsubscribe = doc.subscribe(() => {
      if (!timer) {
        timer = setTimeout(flush, delayMs);
        timer.unref?.();
      }
    });
    return () => {
      unsubscribe();
      if (timer) {
        clearTimeout(timer);
        flush();
      }
    };
  }
}
