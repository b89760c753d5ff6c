// The Activity view's charts, drawn with Observable Plot (a maintained
// charting library that renders plain SVG: no eval, so it runs under the
// webview's strict CSP). Colours follow the VS Code theme through CSS
// variables (currentColor and the --vscode-charts-* palette).
import * as Plot from '@observablehq/plot';
import type { ActivityData } from '../../server/shared/history/activity';

const PALETTE = ['blue', 'green', 'orange', 'purple', 'red', 'yellow'].map((c) => `var(--vscode-charts-${c})`);

function section(root: HTMLElement, title: string, chart: Element): void {
  // Plot's chart carries a <style> element: give it this page's CSP nonce before it joins the document.
  const nonce = (document.querySelector('script[nonce]') as HTMLScriptElement | null)?.nonce ?? '';
  for (const st of Array.from(chart.querySelectorAll('style'))) st.setAttribute('nonce', nonce);
  if (chart.tagName.toLowerCase() === 'style') chart.setAttribute('nonce', nonce);
  const s = document.createElement('section');
  const h = document.createElement('h2');
  h.textContent = title;
  s.append(h, chart);
  root.append(s);
}

export function drawActivity(root: HTMLElement, data: ActivityData, width: number): void {
  root.replaceChildren();
  const authors = [...new Set(data.edits.map((e) => e.author))].sort();
  const color = { domain: authors, range: PALETTE, legend: true } as const;
  const w = Math.max(320, Math.min(width - 32, 1100));
  const style = { background: 'transparent', color: 'currentColor', fontSize: '12px', overflow: 'visible' };
  if (data.edits.length === 0) {
    const p = document.createElement('p');
    p.textContent = 'No changes yet.';
    root.append(p);
    return;
  }
  section(
    root,
    'Edits per author over time',
    Plot.plot({
      width: w,
      height: 240,
      style,
      color,
      x: { type: 'time', label: null },
      y: { label: 'ops', grid: true },
      marks: [
        Plot.rectY(data.edits, Plot.binX({ y: 'sum' }, { x: (d: { time: number }) => new Date(d.time), y: 'ops', fill: 'author', thresholds: 40, tip: true } as never)),
        Plot.ruleY([0]),
      ],
    }),
  );
  const perCell = new Map<string, number>();
  for (const c of data.cells) perCell.set(c.cell, (perCell.get(c.cell) ?? 0) + c.edits);
  const cellOrder = [...perCell].sort((a, b) => b[1] - a[1]).map(([c]) => c).slice(0, 30);
  const cells = data.cells.filter((c) => cellOrder.includes(c.cell));
  section(
    root,
    'Edits per cell',
    Plot.plot({
      width: w,
      height: Math.max(80, 26 * cellOrder.length + 40),
      marginLeft: 120,
      style,
      color,
      x: { label: 'characters typed or removed', grid: true },
      y: { domain: cellOrder, label: null },
      marks: [Plot.barX(cells, { y: 'cell', x: 'edits', fill: 'author', tip: true }), Plot.ruleX([0])],
    }),
  );
  section(
    root,
    'Who touched which cells',
    Plot.plot({
      width: Math.min(w, 140 + 90 * Math.max(1, authors.length)),
      height: Math.max(80, 26 * cellOrder.length + 50),
      marginLeft: 120,
      style,
      color: { scheme: 'blues', legend: false },
      x: { domain: authors, label: null, axis: 'top' },
      y: { domain: cellOrder, label: null },
      marks: [Plot.cell(cells, { x: 'author', y: 'cell', fill: 'edits', inset: 1, tip: true }), Plot.text(cells, { x: 'author', y: 'cell', text: 'edits', fill: 'currentColor', stroke: 'var(--vscode-editor-background)', strokeWidth: 3 })],
    }),
  );
  if (data.server) {
    section(
      root,
      'Team activity on the server (ops per author, all time)',
      Plot.plot({
        width: w,
        height: Math.max(80, 26 * data.server.perAuthor.length + 40),
        marginLeft: 120,
        style,
        color,
        x: { label: 'ops', grid: true },
        y: { label: null },
        marks: [Plot.barX(data.server.perAuthor, { y: 'author', x: 'ops', fill: 'author', tip: true }), Plot.ruleX([0])],
      }),
    );
  }
}
