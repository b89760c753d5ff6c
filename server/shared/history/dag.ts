// The version DAG of a notebook, built from its changes (see types.ts for the
// input, fromLoro.ts for reading it out of a LoroDoc).
//
// Nodes: Loro changes, ordered topologically (lamport, then peer). Edges: each
// change's deps, mapped to the change holding the dep op (a dep may point
// into the middle of a change: Loro keeps merging a peer's local commits into
// its last change). A merge is a node with more than one parent.
//
// Grouping: a change joins its parent's group when the chain is linear (one
// parent, the parent's only child, the dep is the parent's last op), both are
// by the same author, neither has a message nor is a checkpoint, and they are
// at most `windowSeconds` apart. A group is one row, expandable to its
// members. Rows are listed newest first (by the lamport of the group's first
// change, which keeps every parent below its children) and laid out in lanes.
//
// Loro itself already merges a peer's consecutive commits without a message
// into one change while they are within doc.setChangeMergeInterval seconds
// (default 1000 s), so with the default a whole editing session is one change;
// the grouping here matters when that interval is set small.

import { layoutLanes } from './lanes';
import type { DagRow, GroupMember, GroupingOptions, HistoryChange, HistoryInput, HistoryPage } from './types';
import { formatVersion, opIdString, parseVersion } from './version';

const DEFAULT_WINDOW_SECONDS = 300;
const MAX_PAGE = 1000;

interface Group {
  /** Change indices (topological order), first to last. */
  members: number[];
  parents: number[]; // group indices
  children: number;
}

export class HistoryDag {
  /** Changes in topological order. */
  private readonly changes: HistoryChange[];
  private readonly groups: Group[];
  /** Group index of each row (row 0 = newest). */
  private readonly rowGroup: number[];
  private readonly rowsCache: DagRow[];
  private readonly rowById = new Map<string, number>();
  private readonly locate: (peer: string, counter: number) => number;
  private readonly groupOf: Int32Array;
  private readonly rowOfGroup: Int32Array;
  readonly width: number;

  private constructor(
    changes: HistoryChange[],
    groups: Group[],
    rowGroup: number[],
    rows: DagRow[],
    width: number,
    index: { locate: (peer: string, counter: number) => number; groupOf: Int32Array; rowOfGroup: Int32Array },
  ) {
    this.locate = index.locate;
    this.groupOf = index.groupOf;
    this.rowOfGroup = index.rowOfGroup;
    this.changes = changes;
    this.groups = groups;
    this.rowGroup = rowGroup;
    this.rowsCache = rows;
    this.width = width;
    rows.forEach((r, i) => this.rowById.set(r.id, i));
  }

  static build(input: HistoryInput, opts: GroupingOptions = {}): HistoryDag {
    const window = opts.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
    const changes = [...input.changes].sort(
      (a, b) => a.lamport - b.lamport || (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0) || a.counter - b.counter,
    );
    const n = changes.length;
    const locate = changeLocator(changes);
    // Never a raw peer id: a peer that recorded no name (an old file, a foreign writer) is "unknown author".
    const authorOf = (peer: string) => input.authors[peer] ?? 'unknown author';

    // Change-level edges.
    const parents: number[][] = new Array(n);
    const partial: boolean[] = new Array(n).fill(false); // some dep points into the middle of its change
    const childCount = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const ps: number[] = [];
      for (const d of changes[i].deps) {
        const p = locate(d.peer, d.counter);
        if (p < 0) throw new Error(`change ${opIdString(changes[i])} depends on ${opIdString(d)}, which is not in the history`);
        if (p >= i) throw new Error(`change ${opIdString(changes[i])} depends on a later change ${opIdString(changes[p])}`);
        const last = changes[p].counter + changes[p].length - 1;
        if (d.counter !== last) partial[i] = true;
        if (!ps.includes(p)) ps.push(p);
      }
      parents[i] = ps;
      for (const p of ps) childCount[p]++;
    }

    const checkpointAt = new Map<number, string>();
    for (const cp of input.checkpoints ?? []) {
      const [id] = parseVersion(cp.opId);
      const c = id ? locate(id.peer, id.counter) : -1;
      if (c >= 0) checkpointAt.set(c, cp.name);
    }

    // Groups.
    const groupOf = new Int32Array(n);
    const groups: Group[] = [];
    for (let i = 0; i < n; i++) {
      const c = changes[i];
      const ps = parents[i];
      let joined = false;
      if (ps.length === 1 && !partial[i] && !c.message && !checkpointAt.has(i)) {
        const p = ps[0];
        const g = groups[groupOf[p]];
        const pc = changes[p];
        if (
          g.members[g.members.length - 1] === p &&
          childCount[p] === 1 &&
          !pc.message &&
          !checkpointAt.has(p) &&
          authorOf(pc.peer) === authorOf(c.peer) &&
          c.timestamp - pc.timestamp <= window &&
          c.timestamp >= pc.timestamp - window
        ) {
          g.members.push(i);
          groupOf[i] = groupOf[p];
          joined = true;
        }
      }
      if (!joined) {
        groupOf[i] = groups.length;
        groups.push({ members: [i], parents: [...new Set(ps.map((p) => groupOf[p]))], children: 0 });
      }
    }
    for (const g of groups) for (const p of g.parents) groups[p].children++;

    // Rows newest first: group order is already topological (groups are created in change order).
    const rowGroup = groups.map((_, i) => groups.length - 1 - i);
    const rowOfGroup = new Int32Array(groups.length);
    rowGroup.forEach((g, row) => (rowOfGroup[g] = row));
    const { rows: layout, width } = layoutLanes(rowGroup.map((g) => groups[g].parents.map((p) => rowOfGroup[p])));

    const current = new Set(input.current ? input.current.split(',').filter(Boolean) : []);
    const rows: DagRow[] = rowGroup.map((gi, row) => {
      const g = groups[gi];
      const first = changes[g.members[0]];
      const last = changes[g.members[g.members.length - 1]];
      const lastOp = opIdString({ peer: last.peer, counter: last.counter + last.length - 1 });
      let ops = 0;
      for (const m of g.members) ops += changes[m].length;
      const r: DagRow = {
        index: row,
        id: opIdString(first),
        version: lastOp,
        author: authorOf(first.peer),
        peer: first.peer,
        start: first.timestamp,
        end: last.timestamp,
        size: g.members.length,
        ops,
        parents: g.parents.map((p) => opIdString(changes[groups[p].members[0]])),
        current: current.has(lastOp),
        head: g.children === 0,
        ...layout[row],
      };
      if (first.message) r.message = first.message;
      if (r.parents.length > 1 && !first.message) r.join = true;
      const cp = checkpointAt.get(g.members[0]);
      if (cp !== undefined) r.checkpoint = cp;
      return r;
    });
    return new HistoryDag(changes, groups, rowGroup, rows, width, { locate, groupOf, rowOfGroup });
  }

  get total(): number {
    return this.rowsCache.length;
  }

  get changeCount(): number {
    return this.changes.length;
  }

  /** Rows [cursor, cursor + limit), newest first. */
  page(cursor = 0, limit = 200): HistoryPage {
    const start = Math.max(0, Math.min(Math.floor(cursor) || 0, this.total));
    const size = Math.max(1, Math.min(Math.floor(limit) || 1, MAX_PAGE));
    const rows = this.rowsCache.slice(start, start + size);
    const next = start + rows.length < this.total ? start + rows.length : undefined;
    return { rows, total: this.total, lanes: this.width, ...(next !== undefined ? { next } : {}) };
  }

  row(id: string): DagRow | undefined {
    const i = this.rowById.get(id);
    return i === undefined ? undefined : this.rowsCache[i];
  }

  /** Index of the row holding op (peer, counter), or -1. */
  rowIndexOfOp(peer: string, counter: number): number {
    const c = this.locate(peer, counter);
    return c < 0 ? -1 : this.rowOfGroup[this.groupOf[c]];
  }

  /** The changes of a group row, oldest first. */
  members(id: string): GroupMember[] {
    const i = this.rowById.get(id);
    if (i === undefined) return [];
    return this.groups[this.rowGroup[i]].members.map((m) => {
      const c = this.changes[m];
      const member: GroupMember = {
        id: opIdString(c),
        version: opIdString({ peer: c.peer, counter: c.counter + c.length - 1 }),
        timestamp: c.timestamp,
        ops: c.length,
      };
      if (c.message) member.message = c.message;
      return member;
    });
  }

  /** The op spans of a row's changes (what summary.ts reads). */
  spans(id: string): { peer: string; counter: number; length: number }[] {
    const i = this.rowById.get(id);
    if (i === undefined) return [];
    return this.groups[this.rowGroup[i]].members.map((m) => {
      const c = this.changes[m];
      return { peer: c.peer, counter: c.counter, length: c.length };
    });
  }

  /**
   * The version just before a row: the deps of its first change. For a join
   * or merge (several deps) `keep` picks one parent row id: the version before
   * is then that parent's version (what reverting the whole merge goes back to).
   */
  versionBefore(id: string, keep?: string): string {
    const i = this.rowById.get(id);
    if (i === undefined) throw new Error(`no version ${id} in this history`);
    if (keep !== undefined) {
      const parent = this.row(keep);
      if (!parent || !this.rowsCache[i].parents.includes(keep)) throw new Error(`${keep} is not a parent of ${id}`);
      return parent.version;
    }
    const first = this.changes[this.groups[this.rowGroup[i]].members[0]];
    return formatVersion(first.deps);
  }

  /** The heads of the whole history (the latest version), version-string form. */
  headsVersion(): string {
    return this.rowsCache
      .filter((r) => r.head)
      .map((r) => r.version)
      .sort()
      .join(',');
  }

  /**
   * The version as it was at `unixSeconds`: every change stamped at or before
   * it whose whole past is too (clocks of different peers may disagree, so a
   * change is left out when anything it depends on is). "" when nothing was.
   */
  versionAt(unixSeconds: number): string {
    return versionAt(this.changes, unixSeconds);
  }
}

/** See HistoryDag.versionAt; `changes` may be in any order. */
export function versionAt(changes: readonly HistoryChange[], unixSeconds: number): string {
  const sorted = [...changes].sort((a, b) => a.lamport - b.lamport || a.counter - b.counter);
  const included = new Map<string, number>(); // peer -> end counter (exclusive) of the included prefix
  const has = (peer: string, counter: number) => (included.get(peer) ?? 0) > counter;
  for (const c of sorted) {
    if (c.timestamp > unixSeconds) continue;
    if (c.counter > 0 && !has(c.peer, c.counter - 1)) continue;
    if (!c.deps.every((d) => has(d.peer, d.counter))) continue;
    included.set(c.peer, c.counter + c.length);
  }
  // Heads: a peer's last included op, unless an included change depends on it.
  const covered = new Set<string>();
  for (const c of sorted) {
    if (!has(c.peer, c.counter)) continue;
    for (const d of c.deps) if (d.counter === (included.get(d.peer) ?? 0) - 1) covered.add(d.peer);
  }
  const heads = [...included]
    .filter(([peer]) => !covered.has(peer))
    .map(([peer, end]) => ({ peer, counter: end - 1 }));
  return formatVersion(heads);
}

/** Finds the index of the change holding op (peer, counter), or -1. */
function changeLocator(changes: readonly HistoryChange[]): (peer: string, counter: number) => number {
  const byPeer = new Map<string, number[]>();
  changes.forEach((c, i) => {
    let list = byPeer.get(c.peer);
    if (!list) byPeer.set(c.peer, (list = []));
    list.push(i);
  });
  for (const list of byPeer.values()) list.sort((a, b) => changes[a].counter - changes[b].counter);
  return (peer, counter) => {
    const list = byPeer.get(peer);
    if (!list) return -1;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = changes[list[mid]];
      if (counter < c.counter) hi = mid - 1;
      else if (counter >= c.counter + c.length) lo = mid + 1;
      else return list[mid];
    }
    return -1;
  };
}
