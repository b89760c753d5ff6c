// Paging: pure page arithmetic plus the pager bar (First/Prev/Next/Last
// buttons, "rows a–b of N", a page-size select). The bar is built once and
// updated in place so keyboard focus survives page changes.
import { formatCount } from './format';

export const PAGE_SIZES = [25, 50, 100, 500] as const;
export const DEFAULT_PAGE_SIZE = 50;

export interface PageState {
  /** 0-based page index. */
  page: number;
  pageSize: number;
  /** Rows available to page through. */
  total: number;
}

export function pageCount(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / pageSize));
}

/** Brings `state.page` into range. */
export function clampPage(state: PageState): PageState {
  const last = pageCount(state.total, state.pageSize) - 1;
  return { ...state, page: Math.min(Math.max(0, Math.floor(state.page)), last) };
}

/** Row indices [start, end) shown on the current page. */
export function pageRange(state: PageState): { start: number; end: number } {
  const start = Math.min(state.page * state.pageSize, state.total);
  return { start, end: Math.min(start + state.pageSize, state.total) };
}

/** Changes the page size, keeping the first row of the current page visible. */
export function resizePage(state: PageState, pageSize: number): PageState {
  const first = pageRange(state).start;
  return clampPage({ ...state, pageSize, page: Math.floor(first / pageSize) });
}

/** "rows 51–100 of 1,000" (or "no rows"). */
export function rangeLabel(state: PageState): string {
  const { start, end } = pageRange(state);
  if (state.total === 0) return 'no rows';
  return `rows ${formatCount(start + 1)}–${formatCount(end)} of ${formatCount(state.total)}`;
}

export type PageAction = 'first' | 'prev' | 'next' | 'last';

/** The state after pressing one of the pager buttons. */
export function applyAction(state: PageState, action: PageAction): PageState {
  const last = pageCount(state.total, state.pageSize) - 1;
  const page = { first: 0, prev: state.page - 1, next: state.page + 1, last }[action];
  return clampPage({ ...state, page });
}

export interface Pager {
  element: HTMLElement;
  update(state: PageState): void;
}

const BUTTONS: { action: PageAction; label: string; title: string }[] = [
  { action: 'first', label: '« First', title: 'First page' },
  { action: 'prev', label: '‹ Prev', title: 'Previous page' },
  { action: 'next', label: 'Next ›', title: 'Next page' },
  { action: 'last', label: 'Last »', title: 'Last page' },
];

/** Builds the pager bar; `onChange` receives every new state the user asks for. */
export function createPager(initial: PageState, onChange: (next: PageState) => void): Pager {
  const doc = document;
  let state = initial;
  const bar = doc.createElement('div');
  bar.className = 'sqlroom-pager';
  bar.setAttribute('role', 'navigation');
  bar.setAttribute('aria-label', 'Result pages');

  const buttons = new Map<PageAction, HTMLButtonElement>();
  for (const b of BUTTONS) {
    const button = doc.createElement('button');
    button.type = 'button';
    button.className = 'sqlroom-pager-button';
    button.dataset.action = b.action;
    button.textContent = b.label;
    button.title = b.title;
    button.addEventListener('click', () => onChange(applyAction(state, b.action)));
    buttons.set(b.action, button);
  }

  const label = doc.createElement('span');
  label.className = 'sqlroom-pager-range';
  label.setAttribute('aria-live', 'polite');

  const sizeLabel = doc.createElement('label');
  sizeLabel.className = 'sqlroom-pager-size';
  sizeLabel.append('Rows per page ');
  const select = doc.createElement('select');
  for (const size of PAGE_SIZES) {
    const option = doc.createElement('option');
    option.value = String(size);
    option.textContent = String(size);
    select.append(option);
  }
  select.addEventListener('change', () => onChange(resizePage(state, Number(select.value))));
  sizeLabel.append(select);

  bar.append(buttons.get('first')!, buttons.get('prev')!, label, buttons.get('next')!, buttons.get('last')!, sizeLabel);

  function update(next: PageState): void {
    state = next;
    const focused = doc.activeElement;
    const atStart = state.page === 0;
    const atEnd = state.page >= pageCount(state.total, state.pageSize) - 1;
    buttons.get('first')!.disabled = atStart;
    buttons.get('prev')!.disabled = atStart;
    buttons.get('next')!.disabled = atEnd;
    buttons.get('last')!.disabled = atEnd;
    label.textContent = rangeLabel(state);
    select.value = String(state.pageSize);
    // A disabled button drops focus; hand it to the nearest enabled one.
    if (focused instanceof HTMLButtonElement && focused.disabled && bar.contains(focused)) {
      const toward = focused.dataset.action === 'next' || focused.dataset.action === 'last' ? 'prev' : 'next';
      const fallback = buttons.get(toward)!;
      if (!fallback.disabled) fallback.focus();
    }
  }
  update(initial);
  return { element: bar, update };
}
