// The history view: a toolbar of actions, and a virtualised list of the
// version DAG (only the rows in view are in the DOM; pages are fetched from
// the host as they come into view). Keyboard: Up/Down/PageUp/PageDown/Home/End
// move, Enter opens, Right/Left expand/collapse a group, Space marks a version
// to compare with.
import { drawMemberGraph, drawRowGraph, graphWidth } from './graph';
import { formatSpan, formatTime, memberLabel, parseLocalDateTime, rowLabel, rowSubtitle, rowTitle, rowTooltip } from './format';
import { HISTORY_PAGE_SIZE, type CellDiff, type HostMessage, type WebviewMessage } from './protocol';
import { RowModel, type DisplayItem, type ItemKey } from './rowModel';
import { collaboratorColor } from '../../server/shared/collaboratorColor';

export const ROW_HEIGHT = 26;
const OVERSCAN = 10;

interface Selected {
  key: ItemKey;
  version: string;
  label: string;
}

export class HistoryView {
  private readonly model = new RowModel();
  private readonly title: HTMLElement;
  private readonly status: HTMLElement;
  private readonly error: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rowsEl: HTMLElement;
  private readonly buttons: Record<'open' | 'compareCurrent' | 'compareMarked' | 'restore' | 'revert' | 'branch' | 'merge', HTMLButtonElement>;
  /** The selected row's changed lines (asked of the host after a short pause on a row). */
  private readonly details: HTMLElement;
  private detailsFor: string | undefined;
  private detailsTimer: ReturnType<typeof setTimeout> | undefined;
  /** Row index -> branch names whose head is in it (from the sync server). */
  private branchLabels = new Map<number, string[]>();
  private branch = 'main';
  private readonly timeInput: HTMLInputElement;
  private selected: ItemKey | undefined;
  private marked: Selected | undefined;
  private current = '';
  private changes = 0;
  private frame = 0;

  constructor(root: HTMLElement, private readonly post: (m: WebviewMessage) => void) {
    root.textContent = '';
    const header = div('header');
    this.title = div('title');
    this.status = div('status');
    header.append(this.title, this.status);

    const toolbar = div('toolbar');
    toolbar.setAttribute('role', 'toolbar');
    const button = (label: string, title: string, onClick: () => void, cls = 'secondary') => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.title = title;
      b.className = cls;
      b.addEventListener('click', onClick);
      toolbar.append(b);
      return b;
    };
    this.buttons = {
      open: button('Open', 'Open the selected version as a read-only notebook (Enter)', () => this.openSelected(), 'primary'),
      compareCurrent: button('Compare with current', 'Diff the selected version against the notebook as it is now', () => this.compare('current')),
      compareMarked: button('Compare with marked', 'Diff the selected version against the marked one (mark with Space)', () => this.compare('marked')),
      restore: button('Restore…', 'Make the notebook equal to the selected version, as a new change', () => this.restoreSelected()),
      revert: button('Revert change…', 'Undo just the selected change (a merge: everything it brought in) as a new change; later edits stay', () => this.revertSelected()),
      branch: button('Branch from here…', 'Create a named branch at the selected version and open it as an editable notebook (needs the sync server)', () => this.branchSelected()),
      merge: button('Merge…', 'Merge this notebook\'s branch into another branch, or another branch into it (needs the sync server)', () => this.post({ type: 'merge' })),
    };
    button('Checkpoint…', 'Name the current version', () => this.post({ type: 'checkpoint' }));
    const timeGroup = document.createElement('label');
    timeGroup.className = 'time';
    timeGroup.textContent = 'At ';
    this.timeInput = document.createElement('input');
    this.timeInput.type = 'datetime-local';
    this.timeInput.title = 'Open the notebook as it was at this time';
    timeGroup.append(this.timeInput);
    toolbar.append(timeGroup);
    button('Open at time', 'Open the notebook as it was at the chosen time', () => this.openAtTime());

    this.error = div('error');
    this.error.hidden = true;
    this.viewport = div('viewport');
    this.viewport.tabIndex = 0;
    this.viewport.setAttribute('role', 'listbox');
    this.viewport.setAttribute('aria-label', 'Versions, newest first');
    this.spacer = div('spacer');
    this.rowsEl = div('rows');
    this.spacer.append(this.rowsEl);
    this.viewport.append(this.spacer);
    this.details = div('details');
    this.details.hidden = true;
    this.details.setAttribute('aria-live', 'polite');
    root.append(header, toolbar, this.error, this.viewport, this.details);

    this.viewport.addEventListener('scroll', () => this.scheduleRender());
    this.viewport.addEventListener('keydown', (e) => this.onKey(e));
    window.addEventListener('resize', () => this.scheduleRender());
    this.rowsEl.addEventListener('click', (e) => this.onClick(e));
    this.rowsEl.addEventListener('dblclick', (e) => {
      if (this.itemFromEvent(e)) this.openSelected();
    });
    this.updateButtons();
  }

  receive(m: HostMessage): void {
    switch (m.type) {
      case 'reset':
        this.model.reset(m.generation, m.total, m.lanes);
        this.current = m.current;
        this.changes = m.changes;
        this.title.textContent = m.title;
        this.selected = this.selected && this.selected.index < m.total ? { index: this.selected.index } : m.total > 0 ? { index: 0 } : undefined;
        this.error.hidden = true;
        this.detailsFor = undefined;
        this.render();
        this.scheduleDetails();
        return;
      case 'page':
        if (m.generation !== this.model.generation) return;
        this.model.addPage(m.cursor, m.page);
        this.render();
        if (this.detailsFor === undefined) this.scheduleDetails();
        return;
      case 'members':
        if (m.generation !== this.model.generation) return;
        this.model.addMembers(m.id, m.members);
        this.render();
        return;
      case 'reveal':
        if (m.generation !== this.model.generation) return;
        this.select({ index: m.index });
        return;
      case 'branches':
        if (m.generation !== this.model.generation) return;
        this.branchLabels = new Map(m.labels.map((l) => [l.index, l.names]));
        this.branch = m.branch;
        this.buttons.merge.title = `Merge ${m.branch} into another branch, or another branch into ${m.branch} (needs the sync server)`;
        this.render();
        return;
      case 'details':
        if (m.generation !== this.model.generation || m.id !== this.detailsFor) return;
        this.showDetails(m.summary, m.cells);
        return;
      case 'error':
        this.error.textContent = m.message;
        this.error.hidden = false;
        return;
    }
  }

  private scheduleRender(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const count = this.model.count();
    this.spacer.style.height = `${count * ROW_HEIGHT}px`;
    const height = this.viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(count - 1, Math.ceil((this.viewport.scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
    const [fromRow, toRow] = this.model.rowRange(first, last);
    for (const cursor of this.model.missing(fromRow, toRow)) {
      this.post({ type: 'loadPage', generation: this.model.generation, cursor, limit: HISTORY_PAGE_SIZE });
    }
    const selectedDisplay = this.selected ? this.model.displayIndexOf(this.selected) : -1;
    const rows: HTMLElement[] = [];
    for (let d = first; d <= last; d++) {
      const item = this.model.itemAt(d);
      if (item) rows.push(this.renderItem(item, d, d === selectedDisplay));
    }
    this.rowsEl.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    this.rowsEl.replaceChildren(...rows);
    if (selectedDisplay >= 0) this.viewport.setAttribute('aria-activedescendant', `item-${selectedDisplay}`);
    this.status.textContent = `${count === this.model.total ? '' : `${count} shown · `}${this.model.total} versions · ${this.changes} changes`;
    this.updateButtons();
  }

  private renderItem(item: DisplayItem, d: number, selected: boolean): HTMLElement {
    const el = div('row');
    el.id = `item-${d}`;
    el.dataset.display = String(d);
    el.setAttribute('role', 'option');
    el.setAttribute('aria-selected', String(selected));
    if (selected) el.classList.add('selected');
    const marked = this.marked && sameKey(this.marked.key, keyOf(item));
    if (marked) el.classList.add('marked');
    el.style.height = `${ROW_HEIGHT}px`;
    if (item.kind === 'row' && !item.row) {
      el.classList.add('loading');
      const g = div('graph-placeholder');
      g.style.width = `${graphWidth(this.model.lanes)}px`;
      el.append(g, span('msg', 'Loading…'));
      return el;
    }
    if (item.kind === 'member') {
      el.classList.add('member');
      el.dataset.version = item.member.version;
      el.append(drawMemberGraph(item.row, this.model.lanes, ROW_HEIGHT));
      el.append(span('msg', item.member.message ?? `Edit ${item.member.id}`), span('time', formatTime(item.member.timestamp)), span('ops', `${item.member.ops} ops`));
      return el;
    }
    const row = item.row!;
    el.dataset.version = row.version;
    el.dataset.id = row.id;
    if (row.current) el.classList.add('current');
    if (row.checkpoint !== undefined) el.classList.add('checkpoint');
    el.append(drawRowGraph(row, this.model.lanes, ROW_HEIGHT));
    const twisty = span('twisty', row.size > 1 ? (this.model.isExpanded(row.index) ? '▾' : '▸') : '');
    if (row.size > 1) {
      twisty.setAttribute('role', 'button');
      twisty.title = this.model.isExpanded(row.index) ? 'Collapse' : `Show the ${row.size} changes`;
    }
    el.title = rowTooltip(row);
    if (row.join) el.classList.add('join');
    el.append(twisty, span('msg', rowTitle(row)));
    const sub = rowSubtitle(row);
    if (sub) el.append(span('summary', sub));
    if (marked) el.append(span('badge marked-badge', 'marked'));
    if (row.checkpoint !== undefined) el.append(span('badge', 'checkpoint'));
    if (row.current) el.append(span('badge current-badge', 'current'));
    for (const name of this.branchLabels.get(row.index) ?? []) {
      const b = span('badge branch-badge', `⎇ ${name}`);
      b.title = name === this.branch ? `Head of branch ${name} (this notebook)` : `Head of branch ${name}`;
      el.append(b);
    }
    el.append(authorSpan(row.author), span('time', formatSpan(row.start, row.end)));
    if (row.size > 1) el.append(span('ops', `${row.size} changes`));
    return el;
  }

  private itemFromEvent(e: Event): number | undefined {
    const rowEl = (e.target as Element | null)?.closest?.('.row') as HTMLElement | null;
    if (!rowEl || rowEl.dataset.display === undefined) return undefined;
    return Number(rowEl.dataset.display);
  }

  private onClick(e: MouseEvent): void {
    const d = this.itemFromEvent(e);
    if (d === undefined) return;
    const item = this.model.itemAt(d);
    if (!item) return;
    if ((e.target as Element).classList.contains('twisty') && item.kind === 'row' && item.row) {
      this.toggle(item.row.index);
    }
    if (e.ctrlKey || e.metaKey) this.toggleMark(keyOf(item));
    this.select(keyOf(item));
    this.viewport.focus();
  }

  private onKey(e: KeyboardEvent): void {
    const count = this.model.count();
    if (count === 0) return;
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) - 1);
    const d = this.selected ? this.model.displayIndexOf(this.selected) : -1;
    const item = d >= 0 ? this.model.itemAt(d) : undefined;
    const move = (to: number) => {
      const target = this.model.itemAt(Math.max(0, Math.min(count - 1, to)));
      if (target) this.select(keyOf(target));
    };
    switch (e.key) {
      case 'ArrowDown':
        move(d + 1);
        break;
      case 'ArrowUp':
        move(d - 1);
        break;
      case 'PageDown':
        move(d + page);
        break;
      case 'PageUp':
        move(d - page);
        break;
      case 'Home':
        move(0);
        break;
      case 'End':
        move(count - 1);
        break;
      case 'Enter':
        this.openSelected();
        break;
      case 'ArrowRight':
        if (item?.kind === 'row' && item.row && item.row.size > 1 && !this.model.isExpanded(item.index)) this.toggle(item.index);
        break;
      case 'ArrowLeft':
        if (item?.kind === 'member') this.select({ index: item.index });
        else if (item?.kind === 'row' && this.model.isExpanded(item.index)) this.toggle(item.index);
        break;
      case ' ':
        if (item) this.toggleMark(keyOf(item));
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  private toggle(index: number): void {
    const row = this.model.row(index);
    if (!row) return;
    if (this.model.isExpanded(index)) {
      this.model.collapse(index);
      if (this.selected?.index === index) this.selected = { index };
      this.render();
    } else if (this.model.requestExpand(row)) {
      this.post({ type: 'expand', generation: this.model.generation, id: row.id });
    }
  }

  private select(key: ItemKey): void {
    this.selected = key;
    this.scheduleDetails();
    const d = this.model.displayIndexOf(key);
    const top = d * ROW_HEIGHT;
    const vh = this.viewport.clientHeight || 600;
    const scrollTop = this.viewport.scrollTop;
    if (top < scrollTop) this.viewport.scrollTop = top;
    else if (top + ROW_HEIGHT > scrollTop + vh) this.viewport.scrollTop = top + ROW_HEIGHT - vh;
    // Keep the row elements when nothing scrolled (a double-click needs the same element twice).
    if (this.viewport.scrollTop !== scrollTop) this.render();
    else this.refreshSelection();
  }

  /** Updates selection and mark classes of the rows in the DOM, without rebuilding them. */
  private refreshSelection(): void {
    const selectedDisplay = this.selected ? this.model.displayIndexOf(this.selected) : -1;
    const markedDisplay = this.marked ? this.model.displayIndexOf(this.marked.key) : -1;
    for (const el of Array.from(this.rowsEl.children) as HTMLElement[]) {
      const d = Number(el.dataset.display);
      el.classList.toggle('selected', d === selectedDisplay);
      el.setAttribute('aria-selected', String(d === selectedDisplay));
      el.classList.toggle('marked', d === markedDisplay);
    }
    if (selectedDisplay >= 0) this.viewport.setAttribute('aria-activedescendant', `item-${selectedDisplay}`);
    this.updateButtons();
  }

  private toggleMark(key: ItemKey): void {
    const sel = this.describe(key);
    this.marked = this.marked && sameKey(this.marked.key, key) ? undefined : sel;
    this.render(); // the marked badge is part of the row
  }

  /** Version and label of a display item, when its data is loaded. */
  private describe(key: ItemKey): Selected | undefined {
    const row = this.model.row(key.index);
    if (!row) return undefined;
    if (key.member === undefined) return { key, version: row.version, label: rowLabel(row) };
    const item = this.model.itemAt(this.model.displayIndexOf(key));
    if (item?.kind !== 'member') return undefined;
    return { key, version: item.member.version, label: memberLabel(row, item.member) };
  }

  private openSelected(): void {
    const sel = this.selected && this.describe(this.selected);
    if (sel) this.post({ type: 'open', version: sel.version, label: sel.label });
  }

  /** Asks the host for the selected row's changed lines once the selection rests. */
  private scheduleDetails(): void {
    if (this.detailsTimer) clearTimeout(this.detailsTimer);
    this.detailsTimer = setTimeout(() => {
      this.detailsTimer = undefined;
      const row = this.selected && this.selected.member === undefined ? this.model.row(this.selected.index) : undefined;
      if (!row || row.id === this.detailsFor) return;
      this.detailsFor = row.id;
      this.post({ type: 'details', generation: this.model.generation, id: row.id });
    }, 150);
  }

  private showDetails(summary: string, cells: CellDiff[]): void {
    const children: HTMLElement[] = [];
    const h = document.createElement('h3');
    h.textContent = summary;
    children.push(h);
    for (const c of cells) {
      const t = div('cell-title');
      t.textContent = `${c.label}${c.status ? ` (${c.status})` : ''}  +${c.added} −${c.removed} lines`;
      const pre = document.createElement('pre');
      for (const l of c.lines) {
        const line = span(l.kind, `${l.kind === 'add' ? '+ ' : l.kind === 'del' ? '- ' : '  '}${l.text}\n`);
        pre.append(line);
      }
      children.push(t, pre);
    }
    this.details.replaceChildren(...children);
    this.details.hidden = false;
  }

  private revertSelected(): void {
    const row = this.selected && this.selected.member === undefined ? this.model.row(this.selected.index) : undefined;
    if (row) this.post({ type: 'revert', generation: this.model.generation, id: row.id, label: rowLabel(row) });
  }

  private restoreSelected(): void {
    const sel = this.selected && this.describe(this.selected);
    if (sel) this.post({ type: 'restore', version: sel.version, label: sel.label });
  }

  private branchSelected(): void {
    const sel = this.selected && this.describe(this.selected);
    if (sel) this.post({ type: 'branch', version: sel.version, label: sel.label });
  }

  private compare(what: 'current' | 'marked'): void {
    const sel = this.selected && this.describe(this.selected);
    if (!sel) return;
    if (what === 'current') {
      this.post({ type: 'compare', version: sel.version, label: sel.label, with: { kind: 'current' }, withLabel: 'current' });
    } else if (this.marked) {
      // Older on the left: the marked version is usually the older one, but check by position.
      const [left, right] = this.model.displayIndexOf(this.marked.key) >= this.model.displayIndexOf(sel.key) ? [this.marked, sel] : [sel, this.marked];
      this.post({ type: 'compare', version: left.version, label: left.label, with: { kind: 'version', version: right.version }, withLabel: right.label });
    }
  }

  private openAtTime(): void {
    const time = parseLocalDateTime(this.timeInput.value);
    this.post(time === undefined ? { type: 'openAtTime' } : { type: 'openAtTime', time });
  }

  private updateButtons(): void {
    const sel = this.selected && this.describe(this.selected);
    this.buttons.open.disabled = !sel;
    this.buttons.restore.disabled = !sel || sel.version === this.current;
    this.buttons.branch.disabled = !sel;
    this.buttons.revert.disabled = !sel || this.selected?.member !== undefined;
    this.buttons.compareCurrent.disabled = !sel;
    this.buttons.compareMarked.disabled = !sel || !this.marked || sameKey(this.marked.key, sel.key);
  }
}

function keyOf(item: DisplayItem): ItemKey {
  return item.kind === 'member' ? { index: item.index, member: item.memberIndex } : { index: item.index };
}

function sameKey(a: ItemKey, b: ItemKey): boolean {
  return a.index === b.index && a.member === b.member;
}

function div(cls: string): HTMLDivElement {
  const d = document.createElement('div');
  d.className = cls;
  return d;
}

/** The author's name after a dot of their colour (the same colour as their presence in the editor). */
function authorSpan(name: string): HTMLSpanElement {
  const s = span('author', name);
  const c = collaboratorColor(name);
  s.style.setProperty('--author-color', c.hex); // CSSOM, allowed by the webview's CSP
  s.title = `${name} (${c.label})`;
  return s;
}

function span(cls: string, text: string): HTMLSpanElement {
  const s = document.createElement('span');
  s.className = cls;
  s.textContent = text;
  return s;
}
