// NotebookSerializer for `.sqlroom`: the file's Loro snapshot is the source of
// truth; the plain cells are what VS Code shows. A damaged or foreign file
// throws with the parser's precise message, so VS Code shows an error instead
// of an empty notebook that a save would write over the file.
import * as vscode from 'vscode';
import { NotebookDoc } from '../server/shared/notebookDoc';
import { newDocId, parseSqlroomFile, serializeSqlroomFile } from '../server/shared/sqlroomFile';
import { cellToVs, fillMissingIdsByPosition, notebookFromVs, readSqlroomMetadata, VSCODE_MARKUP } from './core/notebookMapping';
import { NotebookRegistry } from './notebookRegistry';

export const NOTEBOOK_TYPE = 'sqlroom';

export class SqlroomSerializer implements vscode.NotebookSerializer {
  constructor(private readonly registry: NotebookRegistry, private readonly userName: () => string) {}

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
    const nbData = new vscode.NotebookData(data.cells.map(toVsCellData));
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
    if (this.registry.isTracked(docId)) return serializeSqlroomFile(nb, docId, own?.server ? { server: own.server } : undefined);
    const target = fillMissingIdsByPosition(notebookFromVs(data.cells, own?.meta ?? nb.toData().meta), nb.cellIds());
    nb.applyData(target, { origin: 'vscode' });
    return serializeSqlroomFile(nb, docId, own?.server ? { server: own.server } : undefined);
  }
}

export function toVsCellData(cell: Parameters<typeof cellToVs>[0]): vscode.NotebookCellData {
  const c = cellToVs(cell);
  const out = new vscode.NotebookCellData(c.kind === VSCODE_MARKUP ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code, c.value, c.languageId);
  out.metadata = c.metadata;
  return out;
}
