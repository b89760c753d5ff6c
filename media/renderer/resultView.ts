// Puts summary, table and pager together for one payload and swaps the
// table body when the page changes, so only one page of rows is in the DOM.
// Column widths are fixed from all kept rows; a header click sorts the kept
// rows (all of the result unless it was capped, which the summary says);
// cells, rows or a rectangle of cells are selected with the mouse and copied
// as TSV with Ctrl/Cmd+C or the Copy button.
import type { ResultPayload } from '../../extension/core/resultPayload';
import { createPager, DEFAULT_PAGE_SIZE, PAGE_SIZES, pageRange, type PageState } from './pager';
import { buildBody, buildTable } from './resultTable';
import { buildSummary } from './summary';
import { columnWidths, nextSort, sortedOrder, toTsv, type SortState } from './tableModel';

export interface ResultView {
  element: HTMLElement;
  /** The page state now shown. */
  state(): PageState;
}

interface Selection {
  r0: number;
  c0: number;
  r1: number;
  c1: number;
}

export function buildResultView(payload: ResultPayload, pageSize = DEFAULT_PAGE_SIZE): ResultView {
  const root = document.createElement('div');
  root.className = 'sqlroom-result';
  root.tabIndex = 0;
  root.append(buildSummary(payload));
  let state: PageState = { page: 0, pageSize, total: payload.rows.length };
  if (payload.columns.length === 0) return { element: root, state: () => state };

  const { columns, rows } = payload;
  let order: number[] = rows.map((_, i) => i);
  let sort: SortState | undefined;
  let anchor: { r: number; c: number } | undefined;
  let selection: Selection | undefined;

  const { start, end } = pageRange(state);
  const table = buildTable(columns, rows, start, end, columnWidths(columns, rows));
  const scroll = document.createElement('div');
  scroll.className = 'sqlroom-scroll';
  scroll.append(table);

  const tools = document.createElement('div');
  tools.className = 'sqlroom-tools';
  const copy = document.createElement('button');
  copy.type = 'button';
  copy.className = 'sqlroom-tool sqlroom-copy';
  copy.textContent = 'Copy';
  copy.title = 'Copy the selected cells (or the whole page) as TSV — Ctrl+C';
  const status = document.createElement('span');
  status.className = 'sqlroom-tool-status';
  status.setAttribute('aria-live', 'polite');
  tools.append(copy, status);
  root.append(tools, scroll);

  if (rows.length === 0) {
    const empty = document.createElement('div');
    empty.className = 'sqlroom-empty';
    empty.textContent = 'No rows';
    root.append(empty);
  }

  const redraw = (): void => {
    const range = pageRange(state);
    table.tBodies[0].replaceWith(buildBody(columns, rows, range.start, range.end, order));
    paintSelection();
  };

  // Sorting: click a column header.
  const headers = Array.from(table.tHead!.rows[0].cells).slice(1);
  headers.forEach((th, c) => {
    th.classList.add('sqlroom-sortable');
    th.tabIndex = 0;
    th.setAttribute('aria-sort', 'none');
    const activate = (): void => {
      sort = nextSort(sort, c);
      order = sort ? sortedOrder(rows, columns[c], c, sort.descending) : rows.map((_, i) => i);
      headers.forEach((h, k) => h.setAttribute('aria-sort', sort && sort.column === k ? (sort.descending ? 'descending' : 'ascending') : 'none'));
      selection = undefined;
      state = { ...state, page: 0 };
      pager?.update(state);
      redraw();
      status.textContent = sort ? `sorted by ${columns[c].name} ${sort.descending ? '↓' : '↑'}${payload.truncated ? ` (the ${rows.length} kept rows)` : ''}` : '';
    };
    th.addEventListener('click', activate);
    th.addEventListener('keydown', (e: KeyboardEvent) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        activate();
      }
    });
  });

  // Selection: click a cell, shift+click extends; click a row number selects the row.
  table.addEventListener('mousedown', (e) => {
    const target = (e.target as HTMLElement).closest('td, th[scope="row"]') as HTMLElement | null;
    const tr = target?.closest('tr') as HTMLTableRowElement | null;
    if (!target || !tr || tr.dataset.pos === undefined) return;
    const r = Number(tr.dataset.pos);
    if (target.tagName === 'TH') {
      selection = { r0: r, r1: r, c0: 0, c1: columns.length - 1 };
      anchor = { r, c: 0 };
    } else {
      const c = Number(target.dataset.col);
      if (e.shiftKey && anchor) selection = { r0: Math.min(anchor.r, r), r1: Math.max(anchor.r, r), c0: Math.min(anchor.c, c), c1: Math.max(anchor.c, c) };
      else {
        anchor = { r, c };
        selection = { r0: r, r1: r, c0: c, c1: c };
      }
    }
    e.preventDefault(); // no text selection: ours is the grid selection
    root.focus();
    paintSelection();
  });

  function paintSelection(): void {
    for (const tr of Array.from(table.tBodies[0].rows)) {
      const r = Number(tr.dataset.pos);
      for (const td of Array.from(tr.querySelectorAll('td')) as HTMLElement[]) {
        const c = Number(td.dataset.col);
        const on = !!selection && r >= selection.r0 && r <= selection.r1 && c >= selection.c0 && c <= selection.c1;
        td.classList.toggle('sqlroom-selected', on);
      }
    }
  }

  /** The TSV to copy: the selection, or the page shown (with a header line) when nothing is selected. */
  function selectedTsv(): string {
    if (selection) {
      const whole = selection.c0 === 0 && selection.c1 === columns.length - 1 && selection.r0 !== selection.r1;
      return toTsv(columns, rows, order, selection.r0, selection.r1, selection.c0, selection.c1, whole);
    }
    const range = pageRange(state);
    return range.end > range.start ? toTsv(columns, rows, order, range.start, range.end - 1, 0, columns.length - 1, true) : '';
  }

  async function copyNow(): Promise<void> {
    const text = selectedTsv();
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Without clipboard permission, the copy event still carries it.
      pendingCopy = text;
      document.execCommand('copy');
    }
    const n = text === '' ? 0 : text.split('\n').length;
    status.textContent = `copied ${n} line${n === 1 ? '' : 's'} as TSV`;
  }
  let pendingCopy: string | undefined;
  root.addEventListener('copy', (e) => {
    const text = pendingCopy ?? (selection ? selectedTsv() : undefined);
    pendingCopy = undefined;
    if (text === undefined || !e.clipboardData) return;
    e.clipboardData.setData('text/plain', text);
    e.preventDefault();
  });
  root.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'c' && selection) {
      e.preventDefault();
      void copyNow();
    }
  });
  copy.addEventListener('click', () => void copyNow());

  // A pager only when there is more than the smallest page to page through.
  let pager: ReturnType<typeof createPager> | undefined;
  if (rows.length > PAGE_SIZES[0]) {
    pager = createPager(state, (next) => {
      state = next;
      redraw();
      pager!.update(state);
    });
    root.append(pager.element);
  }
  return { element: root, state: () => state };
}
