// What a change did, in words: "Added cell `trips`", "Edited `by_city`
// (+12 −3)", "Moved 2 cells", "Deleted cell 3", "Renamed `x` → `daily`",
// "Changed language of cell 4".
//
// Read from Loro's own record of the change (exportJsonInIdSpan: the ops of
// an id span, with the position, text and key each op wrote), not by
// re-parsing cells and not with LoroDoc.diff: diff(parents, change) has to
// compute both states and took seconds per row on the 260k-edit trace, while
// the ops of one change take about a millisecond. Which cell an op touched
// comes from the container's parent chain (Loro keeps it for deleted cells
// too). Counts in "(+N −M)" are characters typed and removed; the changed
// lines are in the row's diff (rowDiff.ts).

import { LoroMap, type ContainerID, type LoroDoc, type PeerID } from 'loro-crdt';
import { CHECKPOINTS } from './checkpoints';

const CELLS_CID = 'cid:root-cells:MovableList';
const META_CID = 'cid:root-meta:Map';
const CONTAINER_VALUE = '🦜:';
/** How many ancestor changes a rename looks through for the old name. */
const RENAME_LOOKBACK = 2000;

/** An id span: ops [counter, counter + length) of one peer. */
export interface OpSpan {
  peer: string;
  counter: number;
  length: number;
}

/** What one change (or a group of changes) did to one cell. */
export interface CellTouch {
  /** The cell's map container id (stable for the cell's life). */
  cell: string;
  /** The cell's id field (uuid), when known. */
  id?: string;
  /** "`name`" or "cell N" (1-based position now), or "a deleted cell". */
  label: string;
  /** 1-based position now (undefined: deleted). */
  position?: number;
  added?: boolean;
  deleted?: boolean;
  moved?: boolean;
  /** Characters typed / removed in its source. */
  inserted: number;
  removed: number;
  renamed?: { from?: string; to?: string };
  language?: string;
  kind?: string;
  metadata?: boolean;
}

export interface ChangeSummary {
  /** One line: what happened. */
  text: string;
  cells: CellTouch[];
  /** Notebook-level keys written (title, database, …; never the internal authors map). */
  meta: string[];
}

interface JsonOp {
  container: string;
  content: Record<string, unknown> & { type: string };
  counter: number;
}

/** Labels of cells: current position and name, computed once per batch of rows. */
export class CellLabeler {
  private readonly position = new Map<string, number>();
  private readonly names = new Map<string, string | undefined>();

  constructor(private readonly doc: LoroDoc) {
    const list = doc.getMovableList('cells');
    for (let i = 0; i < list.length; i++) {
      const m = list.get(i);
      if (m instanceof LoroMap) this.position.set(m.id, i);
    }
  }

  /** The cell's name now (also for a deleted cell: Loro keeps its last state). */
  name(cell: string): string | undefined {
    if (!this.names.has(cell)) {
      let name: string | undefined;
      try {
        const m = this.doc.getContainerById(cell as ContainerID);
        const v = m instanceof LoroMap ? m.get('name') : undefined;
        name = typeof v === 'string' && v !== '' ? v : undefined;
      } catch {
        name = undefined;
      }
      this.names.set(cell, name);
    }
    return this.names.get(cell);
  }

  cellId(cell: string): string | undefined {
    try {
      const m = this.doc.getContainerById(cell as ContainerID);
      const v = m instanceof LoroMap ? m.get('id') : undefined;
      return typeof v === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  }

  /** 1-based position now, or undefined for a deleted cell. */
  positionOf(cell: string): number | undefined {
    const p = this.position.get(cell);
    return p === undefined ? undefined : p + 1;
  }

  label(cell: string, fallbackPosition?: number): string {
    const name = this.name(cell);
    if (name) return `\`${name}\``;
    const p = this.positionOf(cell) ?? fallbackPosition;
    return p === undefined ? 'a deleted cell' : `cell ${p}`;
  }
}

/** The cell map a container belongs to (the map in `cells`), or undefined (meta, checkpoints). */
function cellOf(doc: LoroDoc, cid: string, cache: Map<string, string | undefined>): string | undefined {
  if (cache.has(cid)) return cache.get(cid);
  let found: string | undefined;
  try {
    let c: { id: string; parent(): unknown } | undefined = doc.getContainerById(cid as ContainerID) as never;
    for (let depth = 0; c && depth < 16; depth++) {
      const parent = c.parent() as { id: string; parent(): unknown } | undefined;
      if (parent?.id === CELLS_CID) {
        found = c.id;
        break;
      }
      c = parent;
    }
  } catch {
    found = undefined;
  }
  cache.set(cid, found);
  return found;
}

/** Which root a container hangs under ("cells", "meta", "checkpoints", …). */
function rootOf(cid: string): string | undefined {
  const m = /^cid:root-([^:]*):/.exec(cid);
  return m ? m[1] : undefined;
}

/**
 * Summarises the ops of `spans` (one row: a change, or the changes of a
 * group). `labels` is shared by the rows of one page.
 */
export function summarizeSpans(doc: LoroDoc, spans: readonly OpSpan[], labels = new CellLabeler(doc)): ChangeSummary {
  const touches = new Map<string, CellTouch>();
  const meta = new Set<string>();
  const cellCache = new Map<string, string | undefined>();
  let checkpoint = false;
  const touch = (cell: string, fallbackPosition?: number): CellTouch => {
    let t = touches.get(cell);
    if (!t) {
      t = { cell, label: labels.label(cell, fallbackPosition), inserted: 0, removed: 0 };
      const id = labels.cellId(cell);
      if (id) t.id = id;
      const position = labels.positionOf(cell);
      if (position !== undefined) t.position = position;
      touches.set(cell, t);
    }
    return t;
  };
  const renames: { cell: string; to?: string; before: OpSpan }[] = [];

  for (const span of mergeSpans(spans)) {
    if (span.length <= 0) continue;
    const changes = doc.exportJsonInIdSpan({ peer: span.peer as PeerID, counter: span.counter, length: span.length }) as unknown as {
      ops: JsonOp[];
    }[];
    for (const change of changes) {
      for (const op of change.ops) {
        const c = op.content;
        if (op.container === CELLS_CID) {
          if (c.type === 'insert') {
            const values = (c.value as unknown[]) ?? [];
            values.forEach((v, k) => {
              if (typeof v === 'string' && v.startsWith(CONTAINER_VALUE)) touch(v.slice(CONTAINER_VALUE.length), Number(c.pos) + k + 1).added = true;
            });
          } else if (c.type === 'delete') {
            // start_id is the list element's id, which is the id of the op that inserted it: the cell map was created by that op.
            const len = Math.abs(Number(c.len) || 1);
            const start = String(c.start_id ?? '');
            const m = /^(\d+)@(\d+)$/.exec(start);
            for (let k = 0; k < len; k++) {
              const cell = m ? `cid:${Number(m[1]) + k}@${m[2]}:Map` : `deleted-${op.counter}-${k}`;
              touch(cell, Number(c.pos) + k + 1).deleted = true;
            }
          } else if (c.type === 'move') {
            const elem = /^(\d+)@(\d+)$/.exec(String(c.elem_id ?? ''));
            touch(elem ? `cid:${elem[1]}@${elem[2]}:Map` : `moved-${op.counter}`, Number(c.to) + 1).moved = true;
          }
          continue;
        }
        const root = rootOf(op.container);
        if (root === CHECKPOINTS) {
          checkpoint = true;
          continue;
        }
        if (op.container === META_CID) {
          if (typeof c.key === 'string' && c.key !== 'authors') meta.add(c.key);
          continue;
        }
        if (op.container.startsWith('cid:root-')) continue; // the authors map and other internal roots
        const cell = cellOf(doc, op.container, cellCache);
        if (!cell) continue;
        const t = touch(cell);
        if (op.container.endsWith(':Text')) {
          if (c.type === 'insert') t.inserted += String(c.text ?? '').length;
          else if (c.type === 'delete') t.removed += Math.abs(Number(c.len) || 0); // a backspace run has a negative len
        } else if (op.container === cell) {
          const key = c.key;
          if (key === 'name') {
            const to = typeof c.value === 'string' && c.value !== '' ? c.value : undefined;
            renames.push({ cell, to, before: { peer: span.peer, counter: op.counter, length: 1 } });
          } else if (key === 'language' && typeof c.value === 'string') t.language = c.value;
          else if (key === 'kind' && typeof c.value === 'string') t.kind = c.value;
          else if (key === 'metadata') t.metadata = true;
        } else {
          t.metadata = true; // the cell's metadata map
        }
      }
    }
  }
  for (const r of renames) {
    const t = touch(r.cell);
    if (t.added) continue; // a new cell's name is part of adding it
    t.renamed = { to: r.to, from: previousName(doc, r.cell, r.before) };
  }
  const cells = [...touches.values()];
  // A cell added and deleted within the row left nothing.
  const visible = cells.filter((t) => !(t.added && t.deleted));
  return { text: describe(visible, [...meta], checkpoint), cells: visible, meta: [...meta] };
}

/** Joins spans of one peer that continue each other (a burst is one export, not one per change). */
function mergeSpans(spans: readonly OpSpan[]): OpSpan[] {
  const out: OpSpan[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && last.peer === s.peer && last.counter + last.length === s.counter) last.length += s.length;
    else out.push({ ...s });
  }
  return out;
}

/** The name a cell had before op `before` (the last earlier write of its `name`), when found nearby. */
function previousName(doc: LoroDoc, cell: string, before: OpSpan): string | undefined {
  let found: string | undefined;
  let seen = 0;
  const start = before.counter > 0 ? [{ peer: before.peer as PeerID, counter: before.counter - 1 }] : doc.getChangeAt({ peer: before.peer as PeerID, counter: before.counter }).deps;
  if (start.length === 0) return undefined;
  let done = false;
  try {
    doc.travelChangeAncestors(start, (change) => {
      if (done || ++seen > RENAME_LOOKBACK) return false;
      const ops = doc.exportJsonInIdSpan({ peer: change.peer, counter: change.counter, length: change.length }) as unknown as { ops: JsonOp[] }[];
      for (const ch of ops) {
        for (let i = ch.ops.length - 1; i >= 0; i--) {
          const op = ch.ops[i];
          if (op.container !== cell || op.content.key !== 'name') continue;
          if (change.peer === before.peer && op.counter >= before.counter) continue;
          const v = op.content.value;
          found = typeof v === 'string' && v !== '' ? v : undefined;
          done = true;
          return false;
        }
      }
      return true;
    });
  } catch {
    return undefined;
  }
  return found;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function describe(cells: CellTouch[], meta: string[], checkpoint: boolean): string {
  const parts: string[] = [];
  const added = cells.filter((t) => t.added);
  const deleted = cells.filter((t) => t.deleted);
  const moved = cells.filter((t) => t.moved && !t.added && !t.deleted);
  const edited = cells.filter((t) => !t.added && !t.deleted && (t.inserted > 0 || t.removed > 0));
  const renamed = cells.filter((t) => t.renamed && !t.deleted);
  const language = cells.filter((t) => t.language && !t.added && !t.deleted);
  const kind = cells.filter((t) => t.kind && !t.added && !t.deleted && !t.language);
  const metadata = cells.filter((t) => t.metadata && !t.added && !t.deleted && !t.language && !t.kind && !t.renamed && t.inserted === 0 && t.removed === 0 && !t.moved);
  const list = (ts: CellTouch[]) => (ts.length <= 3 ? ts.map((t) => t.label).join(', ') : `${ts.slice(0, 2).map((t) => t.label).join(', ')} and ${ts.length - 2} more`);
  if (added.length === 1) parts.push(`Added ${cellWord(added[0].label)}`);
  else if (added.length > 1) parts.push(`Added ${plural(added.length, 'cell')}`);
  if (deleted.length === 1) parts.push(`Deleted ${cellWord(deleted[0].label)}`);
  else if (deleted.length > 1) parts.push(`Deleted ${plural(deleted.length, 'cell')}`);
  if (edited.length === 1) {
    const t = edited[0];
    parts.push(`Edited ${t.label} (+${t.inserted} −${t.removed})`);
  } else if (edited.length > 1) {
    parts.push(`Edited ${list(edited)}`);
  }
  for (const t of renamed) {
    const from = t.renamed!.from;
    const to = t.renamed!.to;
    if (to && from) parts.push(`Renamed \`${from}\` → \`${to}\``);
    else if (to) parts.push(`Named ${t.position !== undefined ? `cell ${t.position}` : 'a cell'} \`${to}\``);
    else parts.push(`Removed the name ${from ? `\`${from}\`` : `of ${t.label}`}`);
  }
  if (moved.length === 1) parts.push(`Moved ${cellWord(moved[0].label)}`);
  else if (moved.length > 1) parts.push(`Moved ${plural(moved.length, 'cell')}`);
  for (const t of language) parts.push(`Changed language of ${t.label} to ${t.language}`);
  for (const t of kind) parts.push(`Made ${t.label} ${t.kind === 'markup' ? 'Markdown' : 'code'}`);
  if (metadata.length > 0) parts.push(`Changed settings of ${list(metadata)}`);
  if (meta.length > 0) parts.push(`Changed notebook ${meta.join(', ')}`);
  if (parts.length === 0) return checkpoint ? 'Named this version' : 'No change to cells';
  return parts.join('; ');
}

/** "`trips`" → "cell `trips`"; "cell 3" stays. */
function cellWord(label: string): string {
  return label.startsWith('`') ? `cell ${label}` : label;
}
