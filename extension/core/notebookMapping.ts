// Maps between VS Code's notebook shape and the plain NotebookData of the Loro
// model, without importing `vscode` (so plain mocha can test it). VS Code cells
// have no id of their own: the Loro cell id and the view name travel in cell
// metadata; the document id, server and Loro `meta` in notebook metadata.
// VS Code's notebook diff (Compare) shows every notebook-metadata difference
// that is not transient, so that metadata holds only what is the same for two
// versions of one notebook: the document id of the file (also for the copy of
// a version that Compare opens, whose own registry key is the transient
// `versionDocId`; a version opened on its own keeps its own id), the server,
// and `meta` without the peer id -> name map (which grows with each new peer).
import type { CellData, NotebookData } from '../../server/shared/notebookTypes';

/** vscode.NotebookCellKind values (Markup = 1, Code = 2). */
export const VSCODE_MARKUP = 1;
export const VSCODE_CODE = 2;

/** The structural subset of vscode.NotebookCellData this module needs. */
export interface VsCellLike {
  kind: number;
  value: string;
  languageId: string;
  metadata?: Record<string, unknown>;
}

/** What a notebook's metadata carries for SQLRoom. */
export interface SqlroomNotebookMetadata {
  /** The registry key of the Loro document the notebook shows: the file's document id, or a compare copy's own (`versionDocId`). */
  docId: string;
  server?: string;
  meta: Record<string, unknown>;
}

/** Cell metadata keys that belong to SQLRoom rather than to the cell's free-form metadata. */
const OWN_KEYS = new Set(['id', 'name']);

export function cellToVs(cell: CellData): VsCellLike {
  return {
    kind: cell.kind === 'markup' ? VSCODE_MARKUP : VSCODE_CODE,
    value: cell.source,
    languageId: cell.language,
    metadata: { ...cell.metadata, id: cell.id, ...(cell.name ? { name: cell.name } : {}) },
  };
}

export function cellFromVs(cell: VsCellLike): CellData {
  const md = cell.metadata ?? {};
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(md)) if (!OWN_KEYS.has(k) && v !== undefined) metadata[k] = v;
  const name = typeof md.name === 'string' && md.name.trim() !== '' ? md.name.trim() : undefined;
  return {
    id: typeof md.id === 'string' ? md.id : '',
    kind: cell.kind === VSCODE_MARKUP ? 'markup' : 'code',
    language: cell.languageId || (cell.kind === VSCODE_MARKUP ? 'markdown' : 'sql'),
    source: cell.value,
    ...(name ? { name } : {}),
    metadata,
  };
}

export function notebookFromVs(cells: readonly VsCellLike[], meta: Record<string, unknown>): NotebookData {
  return { meta, cells: cells.map(cellFromVs) };
}

/**
 * Notebook-metadata key of the own document id (the registry key of its
 * read-only fork) of a version's copy that Compare opens. Declared transient to VS Code: the diff editor does
 * not compare it and the serializer never receives it (versions are not saved).
 */
export const VERSION_DOC_ID_KEY = 'versionDocId';

/** The notebook-metadata keys VS Code must hold as transient (serializer registration). */
export const TRANSIENT_DOCUMENT_METADATA: Readonly<Record<string, true>> = { [VERSION_DOC_ID_KEY]: true };

export function readSqlroomMetadata(md: Record<string, unknown> | undefined): SqlroomNotebookMetadata | undefined {
  if (!md || typeof md.docId !== 'string' || md.docId === '') return undefined;
  const meta = md.meta && typeof md.meta === 'object' && !Array.isArray(md.meta) ? (md.meta as Record<string, unknown>) : {};
  const own = md[VERSION_DOC_ID_KEY];
  const docId = typeof own === 'string' && own !== '' ? own : md.docId;
  return { docId, ...(typeof md.server === 'string' ? { server: md.server } : {}), meta };
}

/**
 * The Loro `meta` as the notebook's metadata shows it: without `authors` (the
 * peer id -> name map). The history reads names from Loro; in VS Code the map
 * only made every compare show a metadata change (each session adds a peer).
 * Loro keeps `authors` when VS Code's meta lacks it (it is add-only).
 */
export function editorMeta(meta: Record<string, unknown>): Record<string, unknown> {
  if (!('authors' in meta)) return meta;
  const { authors: _authors, ...rest } = meta;
  return rest;
}

/** A valid DuckDB view name for a named cell: a plain identifier, so it can be typed unquoted in later cells. */
export function validateCellName(name: string): string | undefined {
  if (name === '') return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return 'Use letters, digits and _ only, starting with a letter or _ (it becomes a DuckDB view name).';
  if (name.length > 63) return 'At most 63 characters.';
  return undefined;
}

/**
 * Cells added in VS Code have no id until the change tracker writes one back
 * into their metadata. Until then, the Loro list (already in step with VS Code)
 * knows each such cell's id by position: reuse it when no other cell claims it,
 * so a save or a second change event never mints a second id for the same cell.
 */
export function fillMissingIdsByPosition(target: NotebookData, currentIds: readonly string[]): NotebookData {
  const used = new Set(target.cells.map((c) => c.id).filter((id) => id !== ''));
  const cells = target.cells.map((cell, i) => {
    if (cell.id !== '') return cell;
    const candidate = currentIds[i];
    if (candidate === undefined || used.has(candidate)) return cell;
    used.add(candidate);
    return { ...cell, id: candidate };
  });
  return { ...target, cells };
}
