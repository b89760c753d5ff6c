// Keeps an editor's view of a notebook and its Loro document in step, both
// ways, without `vscode`:
//   - applyLocal(editor cells): what the user changed since the last view
//     becomes minimal Loro ops (cell insert/delete/move, text splices rebased
//     over remote text the editor does not show yet, changed props only);
//   - nextRemoteEdit(): the first difference between the view and the Loro
//     document as one small editor edit (delete, insert, move, text splices,
//     props, replace); the caller applies it and calls commitRemoteEdit().
// `view` is what the editor shows as far as we know. The caller marks a remote
// edit as committed before applying it, so the editor's change event for it
// (the echo) finds the editor equal to the view and writes nothing to Loro.
import type { CommitOptions, NotebookDoc } from '../../../server/shared/notebookDoc';
import { newCellId } from '../../../server/shared/cellMap';
import { planReorder, longestIncreasingSubsequence } from '../../../server/shared/cellOrder';
import { jsonEqual } from '../../../server/shared/jsonValue';
import type { CellData } from '../../../server/shared/notebookTypes';
import { cellSource } from './loroCells';
import { editorMeta } from '../notebookMapping';
import { applySplices, mapOffset, textEdits, type TextSplice } from './textEdits';

export type RemoteEdit =
  /** `count` cells from `index` (a run the editor shows that Loro no longer has). */
  | { type: 'delete'; index: number; count: number; id: string }
  /** A run of new cells at `index` (one edit for a whole backfill). */
  | { type: 'insert'; index: number; cells: CellData[] }
  /** Remove the cell at `from`, insert `cell` so it ends up at `to`. */
  | { type: 'move'; from: number; to: number; cell: CellData }
  /** Kind changed: the editor replaces the cell. */
  | { type: 'replace'; index: number; cell: CellData }
  | { type: 'text'; index: number; id: string; edits: TextSplice[]; before: string; after: string }
  | { type: 'props'; index: number; cell: CellData; language: boolean; metadata: boolean }
  | { type: 'meta'; meta: Record<string, unknown> };

export interface LocalResult {
  changed: boolean;
  /** Final id of each editor cell, in editor order. */
  ids: string[];
  /** Editor cells whose metadata must be given their id. */
  idsToWrite: Array<{ index: number; id: string }>;
}

/** Local text changes of one cell: splices applied one after another to the view's text. */
export type TextHints = Map<number, TextSplice[]>;

export class NotebookSync {
  private view: CellData[];
  private viewMeta: Record<string, unknown>;
  private cached: { key: string; data: ReturnType<NotebookDoc['toData']> } | undefined;
  /** A state of the Loro document the editor is about to show by itself (a reload of the file). */
  private expected: { cells: CellData[]; meta: Record<string, unknown> } | undefined;

  constructor(readonly nb: NotebookDoc, initial?: { cells: CellData[]; meta: Record<string, unknown> }) {
    const data = initial ?? nb.toData();
    this.view = data.cells.map(cloneCell);
    this.viewMeta = structuredClone(editorMeta(data.meta));
  }

  get viewCells(): readonly CellData[] {
    return this.view;
  }

  /** Resets the view (e.g. after the editor was reloaded from the file). */
  resetView(cells: CellData[], meta: Record<string, unknown>): void {
    this.view = cells.map(cloneCell);
    this.viewMeta = structuredClone(editorMeta(meta));
  }

  /**
   * The editor is about to replace its cells with `data`, a state of the Loro
   * document (VS Code reloads the file, and the file was merged into the
   * document). When the editor shows it, that is no edit: the view becomes it.
   * Until then remote edits wait (awaitingEditor), so none lands on top of the
   * reload. Returns false when the view already shows `data` (nothing to wait for).
   */
  expectEditorState(data: { cells: readonly CellData[]; meta: Record<string, unknown> }): boolean {
    if (sameCells(this.view, data.cells)) {
      this.expected = undefined;
      return false;
    }
    this.expected = { cells: data.cells.map(cloneCell), meta: structuredClone(editorMeta(data.meta)) };
    return true;
  }

  get awaitingEditor(): boolean {
    return this.expected !== undefined;
  }

  /** Gives up waiting for an expected editor state (it never came). */
  clearExpected(): void {
    this.expected = undefined;
  }

  /** True when the editor (as far as the view knows) shows exactly the Loro document. */
  inSync(): boolean {
    return this.nextRemoteEdit() === undefined;
  }

  // ---- editor -> Loro ------------------------------------------------------

  applyLocal(cells: readonly CellData[], hints?: TextHints, opts: CommitOptions = { origin: 'vscode' }): LocalResult {
    const nb = this.nb;
    if (this.expected && sameCells(cells, this.expected.cells)) {
      // The editor now shows the reloaded state: it is in Loro already, nothing to write.
      this.view = cells.map(cloneCell);
      this.viewMeta = this.expected.meta;
      this.expected = undefined;
      return { changed: false, ids: cells.map((c) => c.id), idsToWrite: [] };
    }
    const viewById = new Map(this.view.map((c, i) => [c.id, { cell: c, index: i }]));
    let loroIds = nb.cellIds();
    const inLoro = new Set(loroIds);
    // Ids: keep the editor's unless missing or repeated (a copied cell).
    const seen = new Set<string>();
    const ids = cells.map((c) => {
      const id = c.id !== '' && !seen.has(c.id) && (viewById.has(c.id) || !inLoro.has(c.id)) ? c.id : newCellId();
      seen.add(id);
      return id;
    });
    let changed = false;
    // The editor already shows Loro's order (an echo, a reload): no structural ops.
    const sameAsLoro = ids.length === loroIds.length && ids.every((id, i) => id === loroIds[i]);

    // Cells gone from the editor.
    for (const v of sameAsLoro ? [] : this.view) {
      if (!seen.has(v.id) && inLoro.has(v.id)) {
        nb.deleteCell(v.id);
        changed = true;
      }
    }
    // Which kept cells the user moved: those off a longest run in view order.
    const keptPositions: number[] = [];
    const keptEditorIndex: number[] = [];
    ids.forEach((id, i) => {
      const v = viewById.get(id);
      if (v) {
        keptPositions.push(v.index);
        keptEditorIndex.push(i);
      }
    });
    const stay = new Set(longestIncreasingSubsequence(keptPositions).map((k) => keptEditorIndex[k]));
    loroIds = nb.cellIds();
    for (let i = 0; i < (sameAsLoro ? 0 : cells.length); i++) {
      const id = ids[i];
      const isNew = !viewById.has(id);
      if (!isNew && stay.has(i)) continue;
      if (!isNew && !loroIds.includes(id)) continue; // deleted remotely meanwhile: the remote edit removes it
      // After the nearest earlier editor cell that Loro still has.
      let pred = -1;
      for (let j = i - 1; j >= 0; j--) {
        const at = loroIds.indexOf(ids[j]);
        if (at >= 0) {
          pred = at;
          break;
        }
      }
      if (isNew) {
        const c = cells[i];
        nb.insertCell(pred + 1, { ...c, id, metadata: c.metadata ?? {} });
      } else {
        const from = loroIds.indexOf(id);
        const to = from < pred ? pred : pred + 1;
        if (from !== to) nb.moveCell(id, to);
      }
      changed = true;
      loroIds = nb.cellIds();
    }
    // Text and props of kept cells, as changes against the view.
    for (let i = 0; i < cells.length; i++) {
      const v = viewById.get(ids[i])?.cell;
      if (!v || !loroIds.includes(ids[i])) continue;
      if (this.localText(ids[i], v.source, cells[i].source, hints?.get(i))) changed = true;
      if (this.localProps(ids[i], v, cells[i])) changed = true;
    }
    if (changed) nb.commit(opts);
    this.view = cells.map((c, i) => cloneCell({ ...c, id: ids[i] }));
    const idsToWrite = ids.flatMap((id, index) => (cells[index].id === id ? [] : [{ index, id }]));
    return { changed, ids, idsToWrite };
  }

  /** The editor's notebook-level meta changed (title etc.): write changed keys. */
  applyLocalMeta(meta: Record<string, unknown>, opts: CommitOptions = { origin: 'vscode' }): boolean {
    let changed = false;
    for (const key of new Set([...Object.keys(this.viewMeta), ...Object.keys(meta)])) {
      if (key === 'authors' || jsonEqual(this.viewMeta[key], meta[key])) continue;
      this.nb.setMeta(key, meta[key]);
      changed = true;
    }
    if (changed) this.nb.commit(opts);
    this.viewMeta = structuredClone(editorMeta(meta));
    return changed;
  }

  /**
   * Fast path for a keystroke: one cell's text changed (no structure). Returns
   * undefined when the view does not have `id` at `index` (use applyLocal).
   */
  applyLocalText(index: number, id: string, source: string, hint?: TextSplice[], opts: CommitOptions = { origin: 'vscode' }): boolean | undefined {
    const v = this.view[index];
    if (!v || v.id !== id || this.expected) return undefined;
    if (!this.nb.cellIds().includes(id)) {
      // Deleted remotely meanwhile: the pending remote edit removes it from the editor.
      this.view[index] = { ...v, source };
      return false;
    }
    const changed = this.localText(id, v.source, source, hint);
    if (changed) this.nb.commit(opts);
    this.view[index] = { ...v, source };
    return changed;
  }

  private localText(id: string, before: string, after: string, hint: TextSplice[] | undefined): boolean {
    if (before === after) return false;
    // The editor now shows exactly Loro's text (e.g. a reload): nothing to write.
    if (after === cellSource(this.nb, id)) return false;
    // Splices one after another; or, when the hint does not explain the change, one diff.
    const steps = hint && hint.length > 0 && replay(before, hint) === after ? hint.map((s) => [s]) : [textEdits(before, after)];
    let view = before;
    for (const step of steps) {
      const loro = this.loroSource(id);
      // Rebase over the remote text the editor does not show yet. Applied from
      // the last splice back, so earlier offsets stay valid.
      const remote = loro === view ? [] : textEdits(view, loro);
      for (let k = step.length - 1; k >= 0; k--) {
        const s = step[k];
        const start = mapOffset(s.start, remote, true);
        // A pure insertion deletes nothing, also where remote text was inserted at the same place.
        const end = s.end === s.start ? start : Math.max(start, mapOffset(s.end, remote, false));
        this.nb.spliceCellSource(id, start, end - start, s.insert);
      }
      view = applySplices(view, step);
    }
    return true;
  }

  private localProps(id: string, v: CellData, c: CellData): boolean {
    const props: Parameters<NotebookDoc['setCellProps']>[1] = {};
    if (c.kind !== v.kind) props.kind = c.kind;
    if (c.language !== v.language) props.language = c.language;
    if ((c.name ?? '') !== (v.name ?? '')) props.name = c.name ?? null;
    const keys = new Set([...Object.keys(v.metadata), ...Object.keys(c.metadata)]);
    const changedKeys = [...keys].filter((k) => !jsonEqual(v.metadata[k], c.metadata[k]));
    if (changedKeys.length > 0) {
      const merged = { ...this.loroCell(id)?.metadata };
      for (const k of changedKeys) {
        if (c.metadata[k] === undefined) delete merged[k];
        else merged[k] = c.metadata[k];
      }
      props.metadata = merged;
    }
    if (Object.keys(props).length === 0) return false;
    this.nb.setCellProps(id, props);
    return true;
  }

  private loroCell(id: string): CellData | undefined {
    return this.nb.toData().cells.find((c) => c.id === id);
  }

  private loroSource(id: string): string {
    return cellSource(this.nb, id);
  }

  // ---- Loro -> editor ------------------------------------------------------

  nextRemoteEdit(): RemoteEdit | undefined {
    const data = this.loroData();
    const target = dedupe(data.cells);
    const targetIds = new Set(target.map((c) => c.id));
    const d = this.view.findIndex((c) => !targetIds.has(c.id));
    if (d >= 0) {
      let count = 1;
      while (d + count < this.view.length && !targetIds.has(this.view[d + count].id)) count++;
      return { type: 'delete', index: d, count, id: this.view[d].id };
    }
    const viewIds = this.view.map((c) => c.id);
    const op = planReorder(viewIds, target.map((c) => c.id))[0];
    if (op) {
      const at = target.findIndex((c) => c.id === op.id);
      const cell = target[at];
      if (op.type === 'insert') {
        // The run of target cells from here that the editor does not have yet.
        const inView = new Set(viewIds);
        let end = at + 1;
        while (end < target.length && !inView.has(target[end].id)) end++;
        return { type: 'insert', index: op.index, cells: target.slice(at, end).map(cloneCell) };
      }
      if (op.type === 'move') return { type: 'move', from: op.from, to: op.to, cell: cloneCell(cell) };
      return { type: 'delete', index: op.index, count: 1, id: op.id }; // a repeated id in the view
    }
    for (let i = 0; i < target.length; i++) {
      const v = this.view[i];
      const t = target[i];
      if (v.kind !== t.kind) return { type: 'replace', index: i, cell: cloneCell(t) };
      const language = v.language !== t.language;
      const metadata = (v.name ?? '') !== (t.name ?? '') || !jsonEqual(v.metadata, t.metadata);
      if (language || metadata) return { type: 'props', index: i, cell: cloneCell(t), language, metadata };
      if (v.source !== t.source) return { type: 'text', index: i, id: t.id, edits: textEdits(v.source, t.source), before: v.source, after: t.source };
    }
    const meta = editorMeta(data.meta);
    if (!jsonEqual(this.viewMeta, meta)) return { type: 'meta', meta: structuredClone(meta) };
    return undefined;
  }

  /** The Loro document as plain data, reused while its version is unchanged (a drain asks several times). */
  private loroData(): ReturnType<NotebookDoc['toData']> {
    const key = JSON.stringify(this.nb.doc.frontiers());
    if (this.cached?.key !== key) this.cached = { key, data: this.nb.toData() };
    return this.cached.data;
  }

  /** Records that the editor now shows `edit` (call before applying it, so its echo is recognised). */
  commitRemoteEdit(edit: RemoteEdit): void {
    const view = this.view;
    switch (edit.type) {
      case 'delete':
        view.splice(edit.index, edit.count);
        break;
      case 'insert':
        view.splice(edit.index, 0, ...edit.cells.map(cloneCell));
        break;
      case 'move':
        view.splice(edit.from, 1);
        view.splice(edit.to, 0, cloneCell(edit.cell));
        break;
      case 'replace':
        view[edit.index] = cloneCell(edit.cell);
        break;
      case 'text':
        view[edit.index] = { ...view[edit.index], source: edit.after };
        break;
      case 'props':
        view[edit.index] = { ...cloneCell(edit.cell), source: view[edit.index].source };
        break;
      case 'meta':
        this.viewMeta = structuredClone(edit.meta);
        break;
    }
  }

  /** Snapshot of the view, to restore if the editor refused a remote edit. */
  saveView(): () => void {
    const cells = this.view.map(cloneCell);
    const meta = structuredClone(this.viewMeta);
    return () => {
      this.view = cells;
      this.viewMeta = meta;
    };
  }
}

function replay(text: string, splices: readonly TextSplice[]): string {
  let out = text;
  for (const s of splices) {
    if (s.start < 0 || s.end < s.start || s.end > out.length) return '\u0000invalid';
    out = out.slice(0, s.start) + s.insert + out.slice(s.end);
  }
  return out;
}

/** Same cells in the same order (id, kind, language, name, source). */
function sameCells(a: readonly CellData[], b: readonly CellData[]): boolean {
  return (
    a.length === b.length &&
    a.every((c, i) => c.id === b[i].id && c.kind === b[i].kind && c.language === b[i].language && (c.name ?? '') === (b[i].name ?? '') && c.source === b[i].source)
  );
}

/** A foreign document may repeat an id: the editor shows the first. */
function dedupe(cells: CellData[]): CellData[] {
  const seen = new Set<string>();
  return cells.filter((c) => (seen.has(c.id) ? false : (seen.add(c.id), true)));
}

function cloneCell(c: CellData): CellData {
  const out: CellData = { id: c.id, kind: c.kind, language: c.language, source: c.source, metadata: structuredClone(c.metadata ?? {}) };
  if (c.name) out.name = c.name;
  return out;
}
