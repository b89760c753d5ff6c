// The notebook as a Loro document (see DESIGN.md, "The notebook on Loro"):
//   root `cells`: LoroMovableList of LoroMap { id, kind, language,
//                 source: LoroText, name?, metadata: LoroMap }
//   root `meta`:  LoroMap { title, created_by, database, ...,
//                 authors: mergeable LoroMap peerId -> user name }
//
// Single-operation methods (insertCell, deleteCell, moveCell, setCellSource,
// spliceCellSource, setCellProps, setMeta, setAuthor) do NOT commit: the
// caller batches them and then calls commit(), so one user action becomes one
// Loro change. applyData() commits by itself (once, only if something changed).

import { LoroDoc, LoroMap, LoroMovableList } from 'loro-crdt';
import {
  cellFromJson,
  cellIdOf,
  insertCellMap,
  newCellId,
  normaliseCell,
  sourceTextOf,
  toJson,
  writeCellProps,
} from './cellMap';
import { planReorder } from './cellOrder';
import { isPlainObject, jsonEqual, toWellFormed, type JsonValue } from './jsonValue';
import { errorText, NotebookModelError } from './notebookModelError';
import { AUTHORS, CELLS, checkNotebookShape, META } from './notebookShape';
import type { CellData, CellKind, NotebookData } from './notebookTypes';
import { spliceText, updateText } from './textDiff';

export { NotebookModelError, type NotebookModelErrorCode } from './notebookModelError';
export { checkNotebookShape } from './notebookShape';
export { newCellId } from './cellMap';

export interface CommitOptions {
  message?: string;
  origin?: string;
}

export interface CellProps {
  kind?: CellKind;
  language?: string;
  /** null or '' removes the name. */
  name?: string | null;
  /** Replaces the whole metadata object (only changed keys are written). */
  metadata?: Record<string, unknown>;
}

/** Seconds within which Loro merges one peer's message-less commits into one change. */
export const CHANGE_MERGE_INTERVAL_S = 10;

export class NotebookDoc {
  readonly doc: LoroDoc;
  /** id -> cell map; checked on every hit because remote imports may delete cells. */
  private readonly cellCache = new Map<string, LoroMap>();

  constructor(doc?: LoroDoc) {
    this.doc = doc ?? new LoroDoc();
    this.doc.setRecordTimestamp(true);
    // Loro folds message-less commits of one peer within this many seconds into
    // one change (default 1000 s: a whole session). 10 s keeps each pause its
    // own change; the history view groups them back into sessions.
    this.doc.setChangeMergeInterval(CHANGE_MERGE_INTERVAL_S);
  }

  /** Loads a snapshot (or a complete update export); the loaded doc gets a fresh peer id. */
  static fromSnapshot(bytes: Uint8Array): NotebookDoc {
    if (!(bytes instanceof Uint8Array)) throw new NotebookModelError('snapshot must be a Uint8Array', 'bad-snapshot');
    if (bytes.length === 0) throw new NotebookModelError('snapshot is empty (0 bytes)', 'bad-snapshot');
    const doc = new LoroDoc();
    let status;
    try {
      status = doc.import(bytes);
    } catch (e) {
      throw new NotebookModelError(`snapshot is damaged: ${errorText(e)}`, 'bad-snapshot');
    }
    if (status.pending && status.pending.size > 0) {
      const missing = [...status.pending.entries()].map(([peer, span]) => `${peer}:${span.start}..${span.end}`);
      throw new NotebookModelError(
        `snapshot is incomplete: it holds changes whose history it lacks (${missing.join(', ')})`,
        'bad-snapshot',
      );
    }
    checkNotebookShape(doc);
    return new NotebookDoc(doc);
  }

  private get cells(): LoroMovableList {
    return this.doc.getMovableList(CELLS);
  }

  private get meta(): LoroMap {
    return this.doc.getMap(META);
  }

  toData(): NotebookData {
    const cells = (this.cells.toJSON() as unknown[]).map(cellFromJson);
    const meta = this.meta.toJSON() as Record<string, unknown>;
    return { meta, cells };
  }

  cellIds(): string[] {
    return this.entries().map(cellIdOf);
  }

  /**
   * Makes the doc equal to `target` with minimal ops: cells are matched by id;
   * new ids are inserted, missing ones deleted, the order restored with as few
   * list moves as possible (a longest increasing run stays in place), sources
   * changed by a text diff, kind/language/name/metadata and meta keys written
   * only where they differ. `meta.authors` is only added to, never shrunk.
   * Target cells with an empty or repeated id get a fresh uuid; `ids` are the
   * final ids in target order. Commits once (with `opts`) if anything changed.
   */
  applyData(target: NotebookData, opts?: CommitOptions): { changed: boolean; ids: string[] } {
    if (!target || !Array.isArray(target.cells)) throw new NotebookModelError('applyData: target.cells must be an array');
    // Validate everything before the first write, so a bad target leaves no partial ops.
    const meta = target.meta === undefined ? undefined : normaliseMeta(target.meta);
    const seen = new Set<string>();
    const wanted = target.cells.map((cell, i) => {
      const c = normaliseCell(cell, `cells[${i}]`);
      if (c.id === '' || seen.has(c.id)) c.id = newCellId();
      seen.add(c.id);
      return c;
    });
    const ids = wanted.map((c) => c.id);

    const entries = this.entries();
    const byId = new Map<string, LoroMap>();
    for (const m of entries) {
      const id = cellIdOf(m);
      if (m && !byId.has(id)) byId.set(id, m);
    }
    const wantedById = new Map(wanted.map((c) => [c.id, c]));
    let changed = false;
    const list = this.cells;
    for (const op of planReorder(entries.map(cellIdOf), ids)) {
      changed = true;
      if (op.type === 'delete') list.delete(op.index, 1);
      else if (op.type === 'move') list.move(op.from, op.to);
      else this.createCell(op.index, wantedById.get(op.id)!);
    }
    for (const c of wanted) {
      const m = byId.get(c.id);
      if (!m) continue; // created above with all its fields
      if (writeCellProps(m, c)) changed = true;
      if (updateText(sourceTextOf(m), c.source)) changed = true;
    }
    if (meta && this.writeMeta(meta)) changed = true;
    if (changed) this.commit(opts);
    return { changed, ids };
  }

  insertCell(index: number, cell: Partial<CellData> & { source?: string }): string {
    checkIndex(index, this.cells.length + 1, 'insertCell: index');
    const c = normaliseCell({ id: '', kind: 'code', language: '', source: '', metadata: {}, ...cell }, 'cell');
    if (c.id === '') c.id = newCellId();
    else if (this.findCell(c.id)) throw new NotebookModelError(`insertCell: a cell with id ${JSON.stringify(c.id)} already exists`);
    this.createCell(index, c);
    return c.id;
  }

  deleteCell(id: string): void {
    this.cells.delete(this.indexOf(id), 1);
    this.cellCache.delete(id);
  }

  moveCell(id: string, toIndex: number): void {
    const from = this.indexOf(id);
    checkIndex(toIndex, this.cells.length, 'moveCell: toIndex');
    if (from !== toIndex) this.cells.move(from, toIndex);
  }

  setCellSource(id: string, source: string): void {
    if (typeof source !== 'string') throw new NotebookModelError('setCellSource: source must be a string');
    updateText(sourceTextOf(this.cell(id)), toWellFormed(source));
  }

  /** Offsets are UTF-16 code units, as in VS Code and JS strings. */
  spliceCellSource(id: string, utf16Offset: number, deleteCount: number, insert: string): void {
    const text = sourceTextOf(this.cell(id));
    const length = text.length;
    if (!Number.isInteger(utf16Offset) || utf16Offset < 0 || utf16Offset > length) {
      throw new NotebookModelError(`spliceCellSource: offset ${utf16Offset} is outside the source of cell ${id} (length ${length})`);
    }
    if (!Number.isInteger(deleteCount) || deleteCount < 0 || utf16Offset + deleteCount > length) {
      throw new NotebookModelError(
        `spliceCellSource: deleting ${deleteCount} at ${utf16Offset} runs past the end of cell ${id} (length ${length})`,
      );
    }
    if (typeof insert !== 'string') throw new NotebookModelError('spliceCellSource: insert must be a string');
    spliceText(text, utf16Offset, deleteCount, insert);
  }

  setCellProps(id: string, props: CellProps): void {
    const m = this.cell(id);
    const current = cellFromJson(m.toJSON());
    const next: CellData = {
      ...current,
      kind: props.kind ?? current.kind,
      language: props.language ?? current.language,
      metadata: props.metadata ?? current.metadata,
    };
    if (props.name !== undefined) next.name = props.name ?? undefined;
    writeCellProps(m, normaliseCell(next, `cell ${id}`));
  }

  /**
   * Sets (or, with undefined, deletes) one meta key. `authors` must be an
   * object of strings and only adds or renames entries (it is never shrunk).
   */
  setMeta(key: string, value: unknown): void {
    if (typeof key !== 'string' || key === '') throw new NotebookModelError('setMeta: key must be a non-empty string');
    const meta = this.meta.toJSON() as Record<string, unknown>;
    if (value === undefined) delete meta[key];
    else meta[key] = value;
    this.writeMeta(normaliseMeta(meta));
  }

  setAuthor(userName: string): void {
    if (typeof userName !== 'string') throw new NotebookModelError('setAuthor: userName must be a string');
    const name = toWellFormed(userName);
    if (this.authorOf(this.doc.peerIdStr) === name) return;
    authorsMap(this.meta).set(this.doc.peerIdStr, name);
  }

  authorOf(peerId: string): string | undefined {
    const authors = this.meta.get(AUTHORS);
    if (!(authors instanceof LoroMap)) return undefined;
    const name = authors.get(peerId);
    return typeof name === 'string' ? name : undefined;
  }

  commit(opts?: CommitOptions): void {
    const options: { message?: string; origin?: string } = {};
    if (opts?.message) options.message = opts.message;
    if (opts?.origin) options.origin = opts.origin;
    this.doc.commit(options);
  }

  exportSnapshot(): Uint8Array {
    return this.doc.export({ mode: 'snapshot' });
  }

  // ---- internals ----

  /** The list's elements in order; undefined where a foreign doc put something that is not a cell map. */
  private entries(): Array<LoroMap | undefined> {
    return this.cells.toArray().map((c) => (c instanceof LoroMap ? c : undefined));
  }

  private findCell(id: string): LoroMap | undefined {
    const cached = this.cellCache.get(id);
    if (cached && !cached.isDeleted() && cached.get('id') === id) return cached;
    this.cellCache.clear();
    let found: LoroMap | undefined;
    for (const m of this.entries()) {
      if (!m) continue;
      const mid = cellIdOf(m);
      if (!this.cellCache.has(mid)) this.cellCache.set(mid, m);
      if (mid === id && !found) found = m;
    }
    return found;
  }

  private cell(id: string): LoroMap {
    const m = this.findCell(id);
    if (!m) throw new NotebookModelError(`no cell with id ${JSON.stringify(id)}`, 'unknown-cell');
    return m;
  }

  private indexOf(id: string): number {
    const index = this.cellIds().indexOf(id);
    if (index < 0) throw new NotebookModelError(`no cell with id ${JSON.stringify(id)}`, 'unknown-cell');
    return index;
  }

  private createCell(index: number, c: CellData): void {
    this.cellCache.set(c.id, insertCellMap(this.cells, index, c));
  }

  /** Makes meta equal to a normalised `target`, writing only changed keys. */
  private writeMeta(target: Record<string, JsonValue>): boolean {
    const meta = this.meta;
    let changed = false;
    const current = meta.toJSON() as Record<string, unknown>;
    for (const key of Object.keys(current)) {
      // authors is add-only: a stale meta must not erase who made changes.
      if (key === AUTHORS) continue;
      if (!(key in target) || target[key] === undefined) {
        meta.delete(key);
        changed = true;
      }
    }
    for (const [key, value] of Object.entries(target)) {
      if (key === AUTHORS) {
        if (writeAuthors(meta, value as Record<string, string>)) changed = true;
        continue;
      }
      if (!(key in current) || !jsonEqual(current[key], value)) {
        meta.set(key, value);
        changed = true;
      }
    }
    return changed;
  }
}

/** Checks and normalises a whole meta object (JSON values; authors an object of strings). */
function normaliseMeta(meta: unknown): Record<string, JsonValue> {
  if (!isPlainObject(meta)) throw new NotebookModelError('meta must be an object');
  const out = toJson(meta, 'meta') as Record<string, JsonValue>;
  const authors = out[AUTHORS];
  if (authors !== undefined && (!isPlainObject(authors) || !Object.values(authors).every((v) => typeof v === 'string'))) {
    throw new NotebookModelError('meta.authors must be an object mapping peer ids to user names (strings)');
  }
  return out;
}

function writeAuthors(meta: LoroMap, target: Record<string, string>): boolean {
  const existing = meta.get(AUTHORS);
  const current = existing instanceof LoroMap ? (existing.toJSON() as Record<string, unknown>) : {};
  const changedPeers = Object.keys(target).filter((peer) => current[peer] !== target[peer]);
  if (changedPeers.length === 0) return false;
  const authors = authorsMap(meta);
  for (const peer of changedPeers) authors.set(peer, target[peer]);
  return true;
}

/** meta.authors as a mergeable map: peers that create it concurrently share one map. */
function authorsMap(meta: LoroMap): LoroMap {
  try {
    return meta.ensureMergeableMap(AUTHORS);
  } catch {
    // The key holds a plain value or a non-mergeable map (a foreign doc):
    // replace it, keeping the names a map held.
    const old = meta.get(AUTHORS);
    const names = old instanceof LoroMap ? (old.toJSON() as Record<string, unknown>) : {};
    meta.delete(AUTHORS);
    const authors = meta.ensureMergeableMap(AUTHORS);
    for (const [peer, name] of Object.entries(names)) if (typeof name === 'string') authors.set(peer, name);
    return authors;
  }
}

function checkIndex(index: number, limit: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= limit) {
    throw new NotebookModelError(`${what} ${index} is out of range 0..${limit - 1}`);
  }
}

