// NotebookSerializer for `.sqlroom`: the file's Loro snapshot is the source of
// truth; the plain cells are what VS Code shows. A damaged or foreign file
// throws with the parser's precise message, so VS Code shows an error instead
// of an empty notebook that a save would write over the file.
// The file is a CRDT: reading it again while it is open (VS Code reloads it
// after another window, editor or `git pull` changed it) merges it into the
// open document, and a save first merges what is on disk, so nothing another
// writer saved is overwritten and nothing is applied twice.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { NotebookDoc } from '../server/shared/notebookDoc';
import { newDocId, parseSqlroomFile, serializeSqlroomFile, SqlroomFileError } from '../server/shared/sqlroomFile';
import { importNotebook, parseConflictedFile } from '../server/shared/sqlroomMerge';
import { MERGE_CONFLICTED_COMMAND } from './conflictedFile';
import { cellToVs, editorMeta, fillMissingIdsByPosition, notebookFromVs, readSqlroomMetadata, VERSION_DOC_ID_KEY, VSCODE_MARKUP } from './core/notebookMapping';
import { NotebookRegistry } from './notebookRegistry';
import { errorText } from './core/errorPayload';
import { keepOutput, readKeptOutputs, restoreOutput, type KeptOutput } from './core/keptOutputs';
import { plainTextTable } from './core/plainTextTable';
import { ERROR_MIME, RESULT_MIME, type ErrorPayload, type ResultPayload } from './core/resultPayload';

export const NOTEBOOK_TYPE = 'sqlroom';
export { TRANSIENT_DOCUMENT_METADATA } from './core/notebookMapping';

/** Whether and how much of each cell's last output is saved in the file (settings `sqlroom.keepResults*`). */
export interface KeepSettings {
  enabled: boolean;
  maxBytes: number;
}

export class SqlroomSerializer implements vscode.NotebookSerializer {
  constructor(
    private readonly registry: NotebookRegistry,
    private readonly userName: () => string,
    private readonly keep: () => KeepSettings = () => ({ enabled: false, maxBytes: 0 }),
  ) {}

  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    let parsed;
    try {
      parsed = parseSqlroomFile(content);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof SqlroomFileError && e.code === 'conflict-markers') {
        void vscode.window.showErrorMessage(`SQLRoom: ${message}.`, 'Merge Both Sides').then((choice) => {
          if (choice) void vscode.commands.executeCommand(MERGE_CONFLICTED_COMMAND);
        });
        throw new Error(`SQLRoom cannot open this file: ${message}. The file was left unchanged.`);
      }
      throw new Error(`SQLRoom cannot open this file: ${message}. The file was left unchanged; fix it in a text editor (Reopen Editor With… > Text Editor) or restore it from version control.`);
    }
    // VS Code does not say which notebook a read is for. It is a reload of the
    // open notebook's file (another writer saved it; VS Code reloads or we
    // revert) when that file now holds these bytes and this window never read
    // or wrote them: merged, never replaced (the open document has unsaved and
    // live edits; the file's history is imported once). Anything else (a copy
    // opened beside it, a joined room's new file, a plain reopen) gets a
    // document of its own, as before; so do two open copies of one document
    // (which one reloads is unknown; they meet through the server).
    const openDocs = this.registry.isTracked(parsed.docId) ? this.registry.openDocs(parsed.docId) : [];
    const reload = openDocs.length === 1 && !this.registry.isNotedFile(parsed.docId, content) && this.registry.filesOf(parsed.docId).some((f) => fileHolds(f, content));
    const open = reload ? openDocs[0] : undefined;
    this.registry.noteFile(parsed.docId, content);
    if (open) {
      importNotebook(open, parsed.notebook);
      const merged = open.toData();
      this.registry.onReload(parsed.docId, merged);
      return this.notebookData(parsed.docId, parsed.server, merged, parsed.outputs);
    }
    const nb = parsed.notebook;
    // The latest local state of a shared notebook (edits made while the team
    // server was unreachable), merged in so reopening offline loses nothing.
    const cached = this.registry.cachedState(parsed.docId);
    if (cached) {
      try {
        nb.doc.import(cached);
      } catch {
        // A damaged cache is ignored: the file and the server have the document.
      }
    }
    nb.setAuthor(this.userName());
    this.registry.set(parsed.docId, nb);
    return this.notebookData(parsed.docId, parsed.server, nb.toData(), parsed.outputs);
  }

  serializeNotebook(data: vscode.NotebookData): Uint8Array {
    const own = readSqlroomMetadata(data.metadata);
    const docId = own?.docId ?? newDocId();
    const nb = this.registry.getOrCreate(docId, () => {
      const fresh = new NotebookDoc();
      fresh.setAuthor(this.userName());
      return fresh;
    });
    // An open notebook's edits are already in Loro (the change tracker), and
    // Loro may hold remote changes VS Code is about to show: save Loro as it is.
    if (this.registry.isTracked(docId)) {
      // Only where one notebook shows the document (which copy is saved is otherwise unknown).
      if (this.registry.openDocs(docId).length === 1) this.mergeDisk(docId, nb);
    } else {
      const target = fillMissingIdsByPosition(notebookFromVs(data.cells, own?.meta ?? nb.toData().meta), nb.cellIds());
      nb.applyData(target, { origin: 'vscode' });
    }
    const bytes = serializeSqlroomFile(nb, docId, { ...(own?.server ? { server: own.server } : {}), ...this.outputsOf(data) });
    this.registry.noteFile(docId, bytes);
    this.registry.fileStats.saves++;
    return bytes;
  }

  /** What another writer saved since we read the file joins the document before it is written over. */
  private mergeDisk(docId: string, nb: NotebookDoc): void {
    for (const file of this.registry.filesOf(docId)) {
      try {
        const parsed = parseConflictedFile(new Uint8Array(fs.readFileSync(file)));
        if (parsed.docId === docId) importNotebook(nb, parsed.notebook);
      } catch {
        // Missing or unreadable: there is nothing on disk to keep.
      }
    }
  }

  /** The cells VS Code shows, with each cell's kept output when keeping is on. */
  private notebookData(docId: string, server: string | undefined, data: ReturnType<NotebookDoc['toData']>, outputs: unknown): vscode.NotebookData {
    const kept = this.keep().enabled ? readKeptOutputs(outputs, new Set(data.cells.map((c) => c.id))) : {};
    const nbData = new vscode.NotebookData(
      data.cells.map((cell) => {
        const vsCell = toVsCellData(cell);
        const output = kept[cell.id];
        if (output) vsCell.outputs = [keptToVsOutput(output)];
        return vsCell;
      }),
    );
    // A copy of a version that Compare opens (sqlroom-version:…&cmp=1) shows the live
    // notebook's id and server, so that the diff finds the notebook metadata equal;
    // its fork's own id is transient. A version opened on its own keeps its own id.
    const version = this.registry.versionOf(docId);
    const shown = version ? { docId: version.docId, ...(version.server ? { server: version.server } : {}), [VERSION_DOC_ID_KEY]: docId } : { docId, ...(server ? { server } : {}) };
    nbData.metadata = { ...shown, meta: editorMeta(data.meta) };
    return nbData;
  }

  /** The `outputs` section: each cell's SQLRoom output, capped, when keeping is on. */
  private outputsOf(data: vscode.NotebookData): { outputs?: Record<string, unknown> } {
    const keep = this.keep();
    if (!keep.enabled) return {};
    const outputs: Record<string, unknown> = {};
    for (const cell of data.cells) {
      const id = typeof cell.metadata?.id === 'string' ? cell.metadata.id : '';
      const item = cell.outputs?.flatMap((o) => o.items).find((i) => i.mime === RESULT_MIME || i.mime === ERROR_MIME);
      if (id === '' || !item) continue;
      let payload: ResultPayload | ErrorPayload;
      try {
        payload = JSON.parse(new TextDecoder().decode(item.data)) as ResultPayload | ErrorPayload;
      } catch {
        continue;
      }
      const kept = keepOutput(item.mime, payload, keep.maxBytes);
      if (kept) outputs[id] = kept;
    }
    return { outputs };
  }
}

/** A kept output as VS Code shows it: our item (stamped as from an earlier run) and the text fallback. */
export function keptToVsOutput(kept: KeptOutput): vscode.NotebookCellOutput {
  const payload = restoreOutput(kept);
  const text = kept.mime === ERROR_MIME ? errorText(payload as ErrorPayload) : plainTextTable(payload as ResultPayload);
  return new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.json(payload, kept.mime), vscode.NotebookCellOutputItem.text(text)]);
}

export function toVsCellData(cell: Parameters<typeof cellToVs>[0]): vscode.NotebookCellData {
  const c = cellToVs(cell);
  const out = new vscode.NotebookCellData(c.kind === VSCODE_MARKUP ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code, c.value, c.languageId);
  out.metadata = c.metadata;
  return out;
}

/** Whether the file at `file` holds exactly `bytes` now. */
function fileHolds(file: string, bytes: Uint8Array): boolean {
  try {
    return Buffer.from(bytes).equals(fs.readFileSync(file));
  } catch {
    return false;
  }
}
