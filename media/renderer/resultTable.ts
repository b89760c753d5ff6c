// The result table: a header with column names and DuckDB types, and a body
// holding only the rows of one page.
import type { ResultColumn, ResultValue } from '../../extension/core/resultPayload';
import { formatCell, formatCount, isNumericType, shorten } from './format';

/** Header types longer than this (big STRUCTs) are shortened, full text in the tooltip. */
const MAX_TYPE_CHARS = 40;

export function buildHeader(columns: readonly ResultColumn[]): HTMLTableSectionElement {
  const thead = document.createElement('thead');
  const tr = thead.insertRow();
  const corner = document.createElement('th');
  corner.className = 'sqlroom-rownum';
  corner.scope = 'col';
  corner.textContent = '#';
  tr.append(corner);
  for (const column of columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    if (isNumericType(column.type)) th.classList.add('sqlroom-num');
    const name = document.createElement('span');
    name.className = 'sqlroom-col-name';
    name.textContent = column.name;
    const type = document.createElement('span');
    type.className = 'sqlroom-col-type';
    type.textContent = shorten(column.type, MAX_TYPE_CHARS);
    th.title = `${column.name} ${column.type}`;
    th.append(name, type);
    tr.append(th);
  }
  return thead;
}

export function buildCell(value: ResultValue, column: ResultColumn): HTMLTableCellElement {
  const td = document.createElement('td');
  const shown = formatCell(value, column.type);
  td.className = `sqlroom-${shown.kind}`;
  if (isNumericType(column.type)) td.classList.add('sqlroom-num');
  td.textContent = shown.text;
  if (shown.title !== undefined) td.title = shown.title;
  return td;
}

/** The rows at positions [start, end) of `order` (indices into `rows`; default: as they came), numbered from start + 1. */
export function buildBody(columns: readonly ResultColumn[], rows: readonly ResultValue[][], start: number, end: number, order?: readonly number[]): HTMLTableSectionElement {
  const tbody = document.createElement('tbody');
  for (let i = start; i < end && i < rows.length; i++) {
    const tr = tbody.insertRow();
    tr.dataset.pos = String(i);
    const num = document.createElement('th');
    num.scope = 'row';
    num.className = 'sqlroom-rownum';
    num.textContent = formatCount(i + 1);
    tr.append(num);
    const row = rows[order ? order[i] : i];
    columns.forEach((column, c) => {
      const td = buildCell(row[c], column);
      td.dataset.col = String(c);
      tr.append(td);
    });
  }
  return tbody;
}

/** Fixed column widths (in characters of the monospace font) so paging never changes the layout. */
export function buildColGroup(widths: readonly number[]): HTMLTableColElement[] {
  const num = document.createElement('col');
  num.className = 'sqlroom-col-rownum';
  return [num, ...widths.map((w) => {
    const col = document.createElement('col');
    col.style.width = `calc(${w}ch + 20px)`;
    return col;
  })];
}

export function buildTable(columns: readonly ResultColumn[], rows: readonly ResultValue[][], start: number, end: number, widths?: readonly number[]): HTMLTableElement {
  const table = document.createElement('table');
  table.className = widths ? 'sqlroom-table sqlroom-fixed' : 'sqlroom-table';
  if (widths) {
    const group = document.createElement('colgroup');
    group.append(...buildColGroup(widths));
    table.append(group);
  }
  table.append(buildHeader(columns), buildBody(columns, rows, start, end));
  return table;
}
