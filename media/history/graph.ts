// Draws one row of the DAG as a small SVG: lines passing through, lines
// ending in the node (from children above), lines leaving it (to parents
// below), and the node itself. A row needs nothing from its neighbours, so
// the virtualised list can draw any slice of a long history.
import type { DagRow } from './protocol';

export const LANE_WIDTH = 14;
/** Lanes beyond this are clipped (the graph column keeps a bounded width). */
export const MAX_LANES = 24;
const SVG_NS = 'http://www.w3.org/2000/svg';
const LANE_COLOURS = 6;

export function graphWidth(lanes: number): number {
  return (Math.min(Math.max(lanes, 1), MAX_LANES) + 0.5) * LANE_WIDTH;
}

const x = (lane: number) => lane * LANE_WIDTH + LANE_WIDTH / 2 + 2;

function el(name: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function laneClass(lane: number): string {
  return `lane lane-${lane % LANE_COLOURS}`;
}

/** The graph cell of a DAG row (`height` px tall). */
export function drawRowGraph(row: DagRow, lanes: number, height: number): SVGSVGElement {
  const svg = el('svg', { width: graphWidth(lanes), height, class: 'graph', 'aria-hidden': 'true' }) as SVGSVGElement;
  const mid = height / 2;
  const nx = x(row.lane);
  for (const l of row.through) svg.append(el('path', { d: `M${x(l)} 0 V${height}`, class: laneClass(l) }));
  // A join the CRDT made by itself is drawn light (thin, dashed): nobody merged anything.
  const joinCls = row.join ? ' join-line' : '';
  for (const l of row.into) {
    const d = l === row.lane ? `M${nx} 0 V${mid}` : `M${x(l)} 0 C${x(l)} ${mid} ${nx} ${mid * 0.5} ${nx} ${mid}`;
    svg.append(el('path', { d, class: laneClass(l) }));
  }
  for (const l of row.out) {
    const d = l === row.lane ? `M${nx} ${mid} V${height}` : `M${nx} ${mid} C${nx} ${mid * 1.5} ${x(l)} ${mid} ${x(l)} ${height}`;
    svg.append(el('path', { d, class: laneClass(l) + (l === row.lane ? '' : joinCls) }));
  }
  const kind = row.checkpoint !== undefined ? 'checkpoint' : row.parents.length > 1 ? (row.join ? 'join' : 'merge') : 'change';
  const cls = `node node-${kind} ${laneClass(row.lane)}${row.current ? ' node-current' : ''}`;
  if (kind === 'checkpoint') {
    const r = 5.5;
    svg.append(el('path', { d: `M${nx} ${mid - r} L${nx + r} ${mid} L${nx} ${mid + r} L${nx - r} ${mid} Z`, class: cls }));
  } else {
    svg.append(el('circle', { cx: nx, cy: mid, r: kind === 'merge' ? 5 : kind === 'join' ? 3 : 4, class: cls }));
  }
  if (row.current) svg.append(el('circle', { cx: nx, cy: mid, r: 8, class: 'current-ring' }));
  return svg;
}

/** The graph cell of one change inside an expanded group: its group's lane, straight through. */
export function drawMemberGraph(row: DagRow, lanes: number, height: number): SVGSVGElement {
  const svg = el('svg', { width: graphWidth(lanes), height, class: 'graph', 'aria-hidden': 'true' }) as SVGSVGElement;
  const passing = new Set([...row.through, ...row.out]);
  passing.delete(row.lane);
  for (const l of passing) svg.append(el('path', { d: `M${x(l)} 0 V${height}`, class: laneClass(l) }));
  // The group's own lane, dotted: these changes are inside the node above.
  svg.append(el('path', { d: `M${x(row.lane)} 0 V${height}`, class: `${laneClass(row.lane)} member-line` }));
  svg.append(el('circle', { cx: x(row.lane), cy: height / 2, r: 2.5, class: `node node-member ${laneClass(row.lane)}` }));
  return svg;
}
