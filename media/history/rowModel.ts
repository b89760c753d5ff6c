// What the history list shows, loaded on demand: pages of DAG rows fetched
// from the host as they scroll into view, plus the changes of expanded groups
// listed under their group row. Display index d counts both.
import { HISTORY_PAGE_SIZE, type DagRow, type GroupMember, type HistoryPage } from './protocol';

export type DisplayItem =
  | { kind: 'row'; index: number; row: DagRow | undefined }
  | { kind: 'member'; index: number; row: DagRow; member: GroupMember; memberIndex: number };

/** A stable key of a display item (survives expanding and collapsing). */
export interface ItemKey {
  index: number;
  member?: number;
}

export class RowModel {
  generation = 0;
  total = 0;
  lanes = 1;
  private readonly pages = new Map<number, DagRow[]>();
  private readonly pending = new Set<number>();
  /** Row index -> its members, newest first (only loaded groups are listed). */
  private readonly expanded = new Map<number, GroupMember[]>();
  private readonly expanding = new Map<string, number>(); // group id -> row index
  private expandedKeys: number[] = [];

  reset(generation: number, total: number, lanes: number): void {
    this.generation = generation;
    this.total = total;
    this.lanes = lanes;
    this.pages.clear();
    this.pending.clear();
    this.expanded.clear();
    this.expanding.clear();
    this.expandedKeys = [];
  }

  addPage(cursor: number, page: HistoryPage): void {
    const p = Math.floor(cursor / HISTORY_PAGE_SIZE);
    this.pending.delete(p);
    this.pages.set(p, page.rows);
    this.total = page.total;
    this.lanes = page.lanes;
  }

  row(index: number): DagRow | undefined {
    return this.pages.get(Math.floor(index / HISTORY_PAGE_SIZE))?.[index % HISTORY_PAGE_SIZE];
  }

  /** Page cursors to request so that rows [from, to] are loaded (marks them pending). */
  missing(from: number, to: number): number[] {
    const out: number[] = [];
    const first = Math.floor(Math.max(0, from) / HISTORY_PAGE_SIZE);
    const last = Math.floor(Math.min(this.total - 1, to) / HISTORY_PAGE_SIZE);
    for (let p = first; p <= last; p++) {
      if (this.pages.has(p) || this.pending.has(p)) continue;
      this.pending.add(p);
      out.push(p * HISTORY_PAGE_SIZE);
    }
    return out;
  }

  loadedPages(): number {
    return this.pages.size;
  }

  isExpanded(index: number): boolean {
    return this.expanded.has(index);
  }

  /** Starts expanding a group row; returns false when there is nothing to ask for. */
  requestExpand(row: DagRow): boolean {
    if (row.size < 2 || this.expanded.has(row.index)) return false;
    this.expanding.set(row.id, row.index);
    return true;
  }

  addMembers(id: string, members: GroupMember[]): void {
    const index = this.expanding.get(id);
    if (index === undefined) return;
    this.expanding.delete(id);
    this.expanded.set(index, [...members].reverse());
    this.expandedKeys = [...this.expanded.keys()].sort((a, b) => a - b);
  }

  collapse(index: number): void {
    this.expanded.delete(index);
    this.expandedKeys = [...this.expanded.keys()].sort((a, b) => a - b);
  }

  /** Number of display items. */
  count(): number {
    let n = this.total;
    for (const m of this.expanded.values()) n += m.length;
    return n;
  }

  itemAt(d: number): DisplayItem | undefined {
    if (d < 0) return undefined;
    let offset = 0; // display items before row `index` that are members
    for (const k of this.expandedKeys) {
      const rowDisplay = k + offset;
      if (d <= rowDisplay) break;
      const members = this.expanded.get(k)!;
      if (d <= rowDisplay + members.length) {
        const memberIndex = d - rowDisplay - 1;
        const row = this.row(k);
        if (!row) return { kind: 'row', index: k, row: undefined };
        return { kind: 'member', index: k, row, member: members[memberIndex], memberIndex };
      }
      offset += members.length;
    }
    const index = d - offset;
    if (index >= this.total) return undefined;
    return { kind: 'row', index, row: this.row(index) };
  }

  displayIndexOf(key: ItemKey): number {
    let offset = 0;
    for (const k of this.expandedKeys) {
      if (k > key.index) break;
      if (k === key.index) return key.member === undefined ? k + offset : k + offset + 1 + key.member;
      offset += this.expanded.get(k)!.length;
    }
    return key.index + offset;
  }

  /** Row indices covered by display items [from, to]. */
  rowRange(from: number, to: number): [number, number] {
    const a = this.itemAt(Math.max(0, from));
    const b = this.itemAt(Math.min(this.count() - 1, to));
    return [a?.index ?? 0, b?.index ?? this.total - 1];
  }
}
