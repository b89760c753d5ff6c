// The automerge-paper editing trace (bench/traces/, CC BY 4.0) replayed into
// one cell of a NotebookDoc as a person typing it would: every patch is one
// splice of the cell's LoroText and one commit. The trace has no times, so a
// clock of `secondsPerEdit` is made up; the doc keeps the extension's change
// merge interval, so Loro folds the keystrokes of each 10 s into one change.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { NotebookDoc } from '../../server/shared/notebookDoc';

export interface EditingTrace {
  startContent: string;
  endContent: string;
  txns: { patches: [number, number, string][] }[];
}

export const TRACE_T0 = 1_780_000_000;

/** The repo root, from out/test/support (compiled) or test/support (ts-node). */
function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    try {
      readFileSync(path.join(dir, 'bench', 'traces', 'README.md'));
      return dir;
    } catch {
      dir = path.dirname(dir);
    }
  }
  throw new Error('bench/traces not found above ' + __dirname);
}

export function loadAutomergePaper(): EditingTrace {
  const file = path.join(repoRoot(), 'bench', 'traces', 'automerge-paper.json.gz');
  return JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as EditingTrace;
}

export interface ReplayOptions {
  /** Stop after this many patches (default: all). */
  limit?: number;
  /** Made-up typing speed (default 1 edit a second). */
  secondsPerEdit?: number;
  /** Loro change merge interval in seconds (default: the extension's). */
  mergeIntervalSeconds?: number;
  peer?: string;
  author?: string;
  /** A pause of `pauseSeconds` after every `pauseEvery` edits (default: none). */
  pauseEvery?: number;
  pauseSeconds?: number;
}

/** Replays the trace into one SQL cell; returns the notebook and the cell id. */
export function replayTrace(trace: EditingTrace, opts: ReplayOptions = {}): { nb: NotebookDoc; cellId: string; edits: number } {
  const nb = new NotebookDoc();
  nb.doc.setPeerId((opts.peer ?? '101') as `${number}`);
  if (opts.mergeIntervalSeconds !== undefined) nb.doc.setChangeMergeInterval(opts.mergeIntervalSeconds);
  nb.setAuthor(opts.author ?? 'martin');
  const cellId = nb.insertCell(0, { id: 'paper', kind: 'code', language: 'latex', source: trace.startContent, name: 'paper' });
  let t = TRACE_T0;
  nb.doc.commit({ timestamp: t, message: 'Start the paper' });
  const step = opts.secondsPerEdit ?? 1;
  const text = nb.doc.getMovableList('cells').get(0) as import('loro-crdt').LoroMap;
  const source = text.get('source') as import('loro-crdt').LoroText;
  const limit = opts.limit ?? Infinity;
  let edits = 0;
  outer: for (const txn of trace.txns) {
    for (const [pos, del, ins] of txn.patches) {
      if (edits >= limit) break outer;
      // ASCII trace: scalar positions are UTF-16 positions.
      if (del > 0) source.delete(pos, del);
      if (ins) source.insert(pos, ins);
      t += step;
      if (opts.pauseEvery && edits > 0 && edits % opts.pauseEvery === 0) t += opts.pauseSeconds ?? 600;
      nb.doc.commit({ timestamp: Math.floor(t) });
      edits++;
    }
  }
  return { nb, cellId, edits };
}
