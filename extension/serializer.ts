// NotebookSerializer for `.sqlroom`: the file's Loro snapshot is the source of
// truth; the plain cells are what VS Code shows. A damaged or foreign file
// throws with the parser's precise message, so VS Code shows an error instead
// of an empty notebook that a save would write over the file.
import * as vscode from 'vscode';
import { NotebookDoc } from '../server/shared/notebookDoc';
import { newDocId, parseSqlroomFile, serializeSqlroomFile } from '../server/shared/sqlroomFile';
import { cellToVs, fillMissingIdsByPosition, notebookFromVs, readSqlroomMetadata, VSCODE_MARKUP } from './core/notebookMapping';
import { NotebookRegistry } from './notebookRegistry';
import { errorText } from './core/errorPayload';
import { keepOutput, readKeptOutputs, restoreOutput, type KeptOutput } from './core/keptOutputs';
import { plainTextTable } from './core/plainTextTable';
import { ERROR_MIME, RESULT_MIME, type ErrorPayload, type ResultPayload } from './core/resultPayload';

export const NOTEBOOK_TYPE = 'sqlroom';

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
      throw new Error(`SQLRoom cannot open this file: ${message}. The file was left unchanged; fix it in a text editor (Reopen Editor With… > Text Editor) or restore it from version control.`);
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
    const data = nb.toData();
    const kept = this.keep().enabled ? readKeptOutputs(parsed.outputs, new Set(data.cells.map((c) => c.id))) : {};
    const nbData = new vscode.NotebookData(
      data.cells.map((cell) => {
        const vsCell = toVsCellData(cell);
        const output = kept[cell.id];
        if (output) vsCell.outputs = [keptToVsOutput(output)];
        return vsCell;
      }),
    );
    nbData.metadata = { docId: parsed.docId, ...(parsed.server ? { server: parsed.server } : {}), meta: data.meta };
    return nbData;
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
    const opts = { ...(own?.server ? { server: own.server } : {}), ...this.outputsOf(data) };
    if (this.registry.isTracked(docId)) return serializeSqlroomFile(nb, docId, opts);
    const target = fillMissingIdsByPosition(notebookFromVs(data.cells, own?.meta ?? nb.toData().meta), nb.cellIds());
    nb.applyData(target, { origin: 'vscode' });
    return serializeSqlroomFile(nb, docId, opts);
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
