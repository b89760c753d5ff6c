// Puts summary, table and pager together for one payload and swaps the
// table body when the page changes, so only one page of rows is in the DOM.
// Column widths are fixed from all kept rows; a header click sorts the kept
// rows (all of the result unless it was capped, which the summary says);
// cells, rows or a rectangle of cells are selected with the mouse and copied
// as TSV with Ctrl/Cmd+C or the Copy button. With the extension on the line
// (host.ts): a capped result is sorted again in DuckDB (the whole result, not
// the kept rows), Export CSV/Parquet writes the whole result, and Chart shows
// it as a chart whose choice is kept in the cell's metadata.
import type { ExtensionMessage } from '../../extension/core/rendererMessages';
import type { ChartChoice, ResultPayload, ResultValue } from '../../extension/core/resultPayload';
import { buildChartView, type ChartView } from './chartView';
import type { RendererHost } from './host';
import { createPager, DEFAULT_PAGE_SIZE, PAGE_SIZES, pageRange, type PageState } from './pager';
import { buildBody, buildTable } from './resultTable';
import { buildSummary } from './summary';
import { columnWidths, nextSort, sortedOrder, toTsv, type SortState } from './tableModel';

export interface ResultView {
  element: HTMLElement;
  /** The page state now shown. */
  state(): PageState;
  /** Stops listening to the extension. */
  dispose(): void;
}

let requestCounter = 0;

function button(cls: string, text: string, title: string): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `sqlroom-tool ${cls}`;
  b.textContent = text;
  b.title = title;
  return b;
}

interface Selection {
  r0: number;
  c0: number;
  r1: number;
  c1: number;
}

export function buildResultView(payload: ResultPayload, pageSize = DEFAULT_PAGE_SIZE, host?: RendererHost): ResultView {
  const root = document.createElement('div');
  root.className = 'sqlroom-result';
  root.tabIndex = 0;
  root.append(buildSummary(payload));
  let state: PageState = { page: 0, pageSize, total: payload.rows.length };
  const unsubscribe: Array<() => void> = [];
  const dispose = (): void => unsubscribe.splice(0).forEach((u) => u());
  if (payload.columns.length === 0) return { element: root, state: () => state, dispose };

  const { columns } = payload;
  const cellId = payload.cellId;
  const linked = host !== undefined && cellId !== undefined;
  /** The rows shown: the kept rows, or the first rows of the whole result sorted in DuckDB. */
  let rows: ResultValue[][] = payload.rows;
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
  const copy = button('sqlroom-copy', 'Copy', 'Copy the selected cells (or the whole page) as TSV — Ctrl+C');
  const toChart = button('sqlroom-show-chart', 'Chart', 'Show the result as a chart');
  const toTable = button('sqlroom-show-table', 'Table', 'Show the result as a table');
  toTable.hidden = true;
  const status = document.createElement('span');
  status.className = 'sqlroom-tool-status';
  status.setAttribute('aria-live', 'polite');
  tools.append(copy);
  if (linked) {
    const rowsWord = `${payload.rowCount} row${payload.rowCount === 1 ? '' : 's'}`;
    for (const format of ['csv', 'parquet'] as const) {
      const label = format === 'csv' ? 'CSV' : 'Parquet';
      const b = button(`sqlroom-export sqlroom-export-${format}`, `Export ${label}`, `Export the whole result (${rowsWord}) to a ${label} file with DuckDB's COPY`);
      b.addEventListener('click', () => {
        host.post({ type: 'export', cellId, format, sort: sort ?? null });
        status.textContent = `exporting ${rowsWord} as ${label}…`;
      });
      tools.append(b);
    }
  }
  tools.append(toChart, toTable, status);
  const tablePart = document.createElement('div');
  tablePart.className = 'sqlroom-table-part';
  tablePart.append(scroll);
  root.append(tools, tablePart);

  if (rows.length === 0) {
    const empty = document.createElement('div');
    empty.className = 'sqlroom-empty';
    empty.textContent = 'No rows';
    tablePart.append(empty);
  }

  const redraw = (): void => {
    const range = pageRange(state);
    table.tBodies[0].replaceWith(buildBody(columns, rows, range.start, range.end, order));
    paintSelection();
  };

  // Sorting: click a column header. A capped result asks the extension to
  // sort the whole result in DuckDB; a complete one sorts here.
  const headers = Array.from(table.tHead!.rows[0].cells).slice(1);
  let pendingSort: string | undefined;
  const showSort = (): void => {
    headers.forEach((h, k) => h.setAttribute('aria-sort', sort && sort.column === k ? (sort.descending ? 'descending' : 'ascending') : 'none'));
    selection = undefined;
    state = { ...state, page: 0 };
    pager?.update(state);
    redraw();
  };
  const arrow = (s: SortState): string => `${columns[s.column].name} ${s.descending ? '↓' : '↑'}`;
  const sortLocally = (note = ''): void => {
    order = sort ? sortedOrder(rows, columns[sort.column], sort.column, sort.descending) : rows.map((_, i) => i);
    showSort();
    status.textContent = sort ? `sorted by ${arrow(sort)}${payload.truncated ? ` (the ${rows.length} kept rows${note})` : ''}` : note;
  };
  if (linked) {
    unsubscribe.push(host.listen(cellId, (message: ExtensionMessage) => {
      if (message.type !== 'sorted' || message.requestId !== pendingSort) return;
      pendingSort = undefined;
      table.removeAttribute('aria-busy');
      if (message.payload && message.payload.rows.every((r) => Array.isArray(r) && r.length === columns.length)) {
        rows = message.payload.rows;
        order = rows.map((_, i) => i);
        showSort();
        status.textContent = sort ? `sorted all ${payload.rowCount} rows by ${arrow(sort)} in DuckDB` : '';
      } else {
        rows = payload.rows;
        sortLocally(`; DuckDB could not sort them all: ${message.error ?? 'no answer'}`);
      }
    }));
  }
  headers.forEach((th, c) => {
    th.classList.add('sqlroom-sortable');
    th.tabIndex = 0;
    th.setAttribute('aria-sort', 'none');
    const activate = (): void => {
      sort = nextSort(sort, c);
      if (payload.truncated && linked) {
        if (!sort) {
          // Back to the order the query gave: the kept rows as they came.
          pendingSort = undefined;
          table.removeAttribute('aria-busy');
          rows = payload.rows;
          sortLocally();
          return;
        }
        const requestId = `${cellId}:${++requestCounter}`;
        pendingSort = requestId;
        table.setAttribute('aria-busy', 'true');
        headers.forEach((h, k) => h.setAttribute('aria-sort', k === c ? (sort!.descending ? 'descending' : 'ascending') : 'none'));
        status.textContent = `sorting all ${payload.rowCount} rows by ${arrow(sort)} in DuckDB…`;
        host.post({ type: 'sort', requestId, cellId, sort });
        return;
      }
      sortLocally();
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
    tablePart.append(pager.element);
  }

  // Chart: the cell's choice (payload, then the cell's metadata as the extension says) or a default from the types.
  let chart: ChartView | undefined;
  let chartChoice: ChartChoice | undefined = payload.chart;
  const showChart = (choice: ChartChoice | undefined): void => {
    chart ??= buildChartView(payload, choice, (picked) => {
      chartChoice = picked;
      if (linked) host.post({ type: 'chart', cellId, chart: picked });
    });
    if (!chart.element.isConnected) root.append(chart.element);
    tablePart.hidden = true;
    chart.element.hidden = false;
    toChart.hidden = true;
    toTable.hidden = false;
    chart.show(choice);
    chartChoice = chart.choice();
  };
  const showTable = (): void => {
    tablePart.hidden = false;
    if (chart) chart.element.hidden = true;
    toChart.hidden = false;
    toTable.hidden = true;
    chartChoice = undefined;
  };
  toChart.addEventListener('click', () => {
    showChart(chartChoice);
    if (linked && chartChoice) host.post({ type: 'chart', cellId, chart: chartChoice });
  });
  toTable.addEventListener('click', () => {
    showTable();
    if (linked) host.post({ type: 'chart', cellId, chart: null });
  });
  if (payload.chart) showChart(payload.chart);
  if (linked) {
    unsubscribe.push(host.listen(cellId, (message) => {
      if (message.type !== 'chart') return;
      if (JSON.stringify(message.chart ?? null) === JSON.stringify(chartChoice ?? null)) return;
      if (message.chart) showChart(message.chart);
      else showTable();
    }));
    unsubscribe.push(host.listen(cellId, (message) => {
      if (message.type === 'status') status.textContent = message.text;
    }));
    host.post({ type: 'hello', cellId });
  }
  return { element: root, state: () => state, dispose };
}
