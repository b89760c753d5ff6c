// Branches as the history sees them (no `vscode`): a branch notebook's
// document id is its room id `<docId>@<branch>`; branch names a user may type;
// which DAG rows hold a branch's head (to label lanes).
import type { HistoryDag } from './dag';
import type { OpIdLike } from './version';

export const MAIN_BRANCH = 'main';

/** Names safe as a room suffix, a file name part and a DuckDB value (a subset of what the server accepts). */
const BRANCH_NAME_RE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/;

/** Why `name` cannot be a new branch name, or undefined when it can. */
export function branchNameProblem(name: string, existing: readonly string[] = []): string | undefined {
  if (name === '') return 'Enter a branch name';
  if (!BRANCH_NAME_RE.test(name)) return 'Use 1-64 letters, digits, "_", "-" or "." (not starting with ".")';
  if (name.includes('..')) return '".." is not allowed';
  if (existing.includes(name)) return `A branch named ${name} already exists`;
  return undefined;
}

/** `<docId>@<branch>` -> its parts; a plain id is the main branch. */
export function splitRoomId(roomId: string): { docId: string; branch: string } {
  const at = roomId.indexOf('@');
  return at < 0 ? { docId: roomId, branch: MAIN_BRANCH } : { docId: roomId.slice(0, at), branch: roomId.slice(at + 1) };
}

/** The room (and branch notebook document id) of a branch: main is the plain id. */
export function branchRoomId(docId: string, branch: string): string {
  return branch === MAIN_BRANCH ? docId : `${docId}@${branch}`;
}

/** `sales.sqlroom` + `fix` -> `sales@fix.sqlroom` (a branch of a branch replaces the suffix). */
export function branchFileName(fileName: string, branch: string): string {
  const stem = fileName.replace(/\.sqlroom$/i, '').replace(/@[^@]*$/, '');
  return branch === MAIN_BRANCH ? `${stem}.sqlroom` : `${stem}@${branch}.sqlroom`;
}

export interface BranchHead {
  branch: string;
  /** The branch's head frontiers on the server. */
  head: OpIdLike[];
}

/** Row index -> names of the branches whose head is in that row (heads not in this history are left out). */
export function branchLabels(dag: HistoryDag, heads: readonly BranchHead[]): { index: number; names: string[] }[] {
  const byRow = new Map<number, string[]>();
  for (const h of heads) {
    for (const id of h.head) {
      const index = dag.rowIndexOfOp(id.peer, id.counter);
      if (index < 0) continue;
      const names = byRow.get(index) ?? [];
      if (!names.includes(h.branch)) names.push(h.branch);
      byRow.set(index, names);
    }
  }
  return [...byRow].map(([index, names]) => ({ index, names })).sort((a, b) => a.index - b.index);
}

export interface MergeChoice {
  from: string;
  into: string;
  /** Why it is offered (parent / child relation). */
  detail: string;
}

/**
 * The merges a notebook on branch `own` offers: its branch into each other
 * branch and each other branch into it; the parent first (own -> parent),
 * then branches forked from it (child -> own), then the rest. With `from`
 * given: only merges of `from`.
 */
export function mergeChoices(own: string, branches: readonly { branch: string; parentBranch: string | null }[], from?: string): MergeChoice[] {
  const parentOf = new Map(branches.map((b) => [b.branch, b.parentBranch]));
  const out: (MergeChoice & { rank: number })[] = [];
  for (const b of branches) {
    if (b.branch === own) continue;
    const isParent = parentOf.get(own) === b.branch;
    const isChild = b.parentBranch === own;
    out.push({ from: own, into: b.branch, detail: isParent ? `${own} was branched from ${b.branch}` : isChild ? `${b.branch} was branched from ${own}` : '', rank: isParent ? 0 : 2 });
    out.push({ from: b.branch, into: own, detail: isChild ? `${b.branch} was branched from ${own}` : isParent ? `${own} was branched from ${b.branch}` : '', rank: isChild ? 1 : 3 });
  }
  if (from !== undefined && from !== own) {
    return branches.filter((b) => b.branch !== from).map((b) => ({ from, into: b.branch, detail: parentOf.get(from) === b.branch ? `${from} was branched from ${b.branch}` : '' }));
  }
  return out.sort((a, b) => a.rank - b.rank).map(({ from: f, into, detail }) => ({ from: f, into, detail }));
}
