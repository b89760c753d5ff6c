// A result drawn as a chart: controls (type, x, y) above an Observable Plot
// chart. Plot renders plain SVG (no eval, so it runs under the output
// webview's CSP) and is the charting library the Activity view already
// ships. Colours come from the VS Code theme: text in currentColor, marks in
// the theme's --vscode-charts-blue, read when drawn (SVG attributes cannot
// hold var()).
import * as Plot from '@observablehq/plot';
import type { ChartChoice, ChartMark, ResultPayload } from '../../extension/core/resultPayload';
import { CHART_MARKS, chartData, fitChart, type ChartData } from './chartModel';

export interface ChartView {
  element: HTMLElement;
  choice(): ChartChoice | undefined;
  /** Shows `choice` (made valid for the columns) without telling anyone. */
  show(choice: ChartChoice | undefined): void;
}

function themeColor(element: Element, name: string, fallback: string): string {
  const v = getComputedStyle(element).getPropertyValue(name).trim();
  return v || fallback;
}

function select(label: string, cls: string, options: { value: string; label: string }[]): { wrap: HTMLLabelElement; select: HTMLSelectElement } {
  const wrap = document.createElement('label');
  wrap.className = 'sqlroom-chart-field';
  wrap.append(`${label} `);
  const s = document.createElement('select');
  s.className = cls;
  for (const o of options) {
    const option = document.createElement('option');
    option.value = o.value;
    option.textContent = o.label;
    s.append(option);
  }
  wrap.append(s);
  return { wrap, select: s };
}

/** `onChange` gets every choice the user makes with the controls. */
export function buildChartView(payload: ResultPayload, initial: ChartChoice | undefined, onChange: (choice: ChartChoice) => void): ChartView {
  const root = document.createElement('div');
  root.className = 'sqlroom-chart';
  const controls = document.createElement('div');
  controls.className = 'sqlroom-chart-controls';
  const columns = payload.columns.map((c) => ({ value: c.name, label: c.name }));
  const mark = select('Chart', 'sqlroom-chart-mark', CHART_MARKS.map((m) => ({ value: m.mark, label: m.label })));
  const x = select('x', 'sqlroom-chart-x', columns);
  const y = select('y', 'sqlroom-chart-y', columns);
  const note = document.createElement('span');
  note.className = 'sqlroom-chart-note';
  controls.append(mark.wrap, x.wrap, y.wrap, note);
  const plot = document.createElement('div');
  plot.className = 'sqlroom-chart-plot';
  root.append(controls, plot);

  let current: ChartChoice | undefined;

  let waits = 0;
  function draw(): void {
    // Built before it joins the page: the width and theme colours are known once it is in.
    if (!root.isConnected && waits < 120) {
      waits++;
      requestAnimationFrame(draw);
      return;
    }
    if (!current) {
      plot.replaceChildren();
      return;
    }
    mark.select.value = current.mark;
    root.dataset.mark = current.mark;
    x.select.value = current.x;
    y.select.value = current.y ?? '';
    y.wrap.hidden = current.mark === 'histogram';
    let data: ChartData;
    try {
      data = chartData(payload.columns, payload.rows, current);
    } catch (e) {
      note.textContent = e instanceof Error ? e.message : String(e);
      plot.replaceChildren();
      return;
    }
    const parts: string[] = [];
    if (payload.truncated) parts.push(`the first ${payload.rows.length} of ${payload.rowCount} rows`);
    if (data.skipped > 0) parts.push(`${data.skipped} row${data.skipped === 1 ? '' : 's'} without a value left out`);
    note.textContent = parts.join('; ');
    // Wait for layout so the chart takes the output's width.
    // The result box is as wide as its table: take the output's width instead.
    const box = root.closest('.sqlroom-result')?.parentElement ?? document.body;
    const width = Math.max(320, Math.min(box.getBoundingClientRect().width - 24 || 640, 1000));
    const chart = plotChart(current.mark, data, width, themeColor(root, '--vscode-charts-blue', '#3794ff'));
    // Plot's <style> element gets the page's CSP nonce, if it has one.
    const nonce = (document.querySelector('script[nonce]') as HTMLScriptElement | null)?.nonce;
    if (nonce) for (const st of Array.from(chart.querySelectorAll('style'))) st.setAttribute('nonce', nonce);
    plot.replaceChildren(chart);
  }

  function pick(): void {
    const choice = fitChart({ mark: mark.select.value as ChartMark, x: x.select.value, ...(mark.select.value === 'histogram' ? {} : { y: y.select.value }) }, payload.columns);
    if (!choice) return;
    current = choice;
    draw();
    onChange(choice);
  }
  for (const s of [mark.select, x.select, y.select]) s.addEventListener('change', pick);

  const view: ChartView = {
    element: root,
    choice: () => current,
    show(choice) {
      current = fitChart(choice, payload.columns);
      draw();
    },
  };
  view.show(initial);
  return view;
}

function plotChart(mark: ChartMark, data: ChartData, width: number, color: string): SVGSVGElement | HTMLElement {
  const style = { background: 'transparent', color: 'currentColor', fontSize: '12px', overflow: 'visible' };
  const xLabel = data.x.name;
  const yLabel = data.y?.name;
  const categorical = data.x.kind === 'category';
  const common = { width, height: 320, marginLeft: 60, marginBottom: categorical ? 60 : 40, style };
  // Categories in the order the query gave them (its ORDER BY), not alphabetically.
  const domain = categorical ? [...new Set(data.points.map((p) => String(p.x)))] : undefined;
  const xCat = categorical ? { type: 'band' as const, label: xLabel, domain, tickRotate: (domain?.length ?? 0) > 12 ? -35 : 0 } : { label: xLabel };
  switch (mark) {
    case 'bar':
      return Plot.plot({
        ...common,
        x: { ...xCat, type: 'band' },
        // Rows sharing an x are added up into one bar (not stacked slices).
        y: { label: data.repeatedX ? `sum of ${yLabel}` : yLabel, grid: true },
        marks: [Plot.barY(data.points, { ...Plot.groupX({ y: 'sum' }, { x: 'x', y: 'y' }), fill: color, tip: true }), Plot.ruleY([0])],
      });
    case 'line':
      return Plot.plot({
        ...common,
        x: xCat,
        y: { label: yLabel, grid: true },
        marks: [Plot.lineY(data.points, { x: 'x', y: 'y', stroke: color, strokeWidth: 2 }), Plot.dot(data.points, { x: 'x', y: 'y', fill: color, r: 2, tip: true })],
      });
    case 'point':
      return Plot.plot({
        ...common,
        x: { ...xCat, grid: !categorical },
        y: { label: yLabel, grid: true },
        marks: [Plot.dot(data.points, { x: 'x', y: 'y', stroke: color, tip: true })],
      });
    case 'histogram':
      return Plot.plot({
        ...common,
        x: xCat,
        y: { label: 'count', grid: true },
        marks: [
          categorical
            ? Plot.barY(data.points, { ...Plot.groupX({ y: 'count' }, { x: 'x' }), fill: color, tip: true })
            : Plot.rectY(data.points, { ...Plot.binX({ y: 'count' }, { x: 'x' }), fill: color, tip: true }),
          Plot.ruleY([0]),
        ],
      });
  }
}
