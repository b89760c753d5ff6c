// Puts summary, table and pager together for one payload and swaps the
// table body when the page changes, so only one page of rows is in the DOM.
import type { ResultPayload } from '../../extension/core/resultPayload';
import { createPager, DEFAULT_PAGE_SIZE, PAGE_SIZES, pageRange, type PageState } from './pager';
import { buildBody, buildTable } from './resultTable';
import { buildSummary } from './summary';

export interface ResultView {
  element: HTMLElement;
  /** The page state now shown. */
  state(): PageState;
}

export function buildResultView(payload: ResultPayload, pageSize = DEFAULT_PAGE_SIZE): ResultView {
  const root = document.createElement('div');
  root.className = 'sqlroom-result';
  root.append(buildSummary(payload));
  let state: PageState = { page: 0, pageSize, total: payload.rows.length };
  if (payload.columns.length === 0) return { element: root, state: () => state };

  const { start, end } = pageRange(state);
  const table = buildTable(payload.columns, payload.rows, start, end);
  const scroll = document.createElement('div');
  scroll.className = 'sqlroom-scroll';
  scroll.append(table);
  root.append(scroll);

  if (payload.rows.length === 0) {
    const empty = document.createElement('div');
    empty.className = 'sqlroom-empty';
    empty.textContent = 'No rows';
    root.append(empty);
  }

  // A pager only when there is more than the smallest page to page through.
  if (payload.rows.length > PAGE_SIZES[0]) {
    const pager = createPager(state, (next) => {
      state = next;
      const range = pageRange(state);
      table.tBodies[0].replaceWith(buildBody(payload.columns, payload.rows, range.start, range.end));
      pager.update(state);
    });
    root.append(pager.element);
  }
  return { element: root, state: () => state };
}
