// Merging `.sqlroom` files. A notebook file is a CRDT: its Loro snapshot holds
// the whole history, so two copies merge by importing one snapshot into the
// other (every change is applied once, whichever copy has it). Used by the
// editor when the file changes on disk, by the git merge driver
// (`sqlroom-server merge-file`) and to undo a textual git merge that left
// conflict markers in a file.
import type { NotebookDoc } from './notebookDoc';
import { parseSqlroomFile, serializeSqlroomFile, SqlroomFileError, type ParsedSqlroomFile } from './sqlroomFile';

/** Imports into `into` the changes of `from` it lacks. Returns whether anything was new. */
export function importNotebook(into: NotebookDoc, from: NotebookDoc): boolean {
  into.commit(); // pending local ops are their own change, before the import
  const known = into.doc.oplogVersion();
  try {
    const missing = from.doc.export({ mode: 'update', from: known });
    const status = into.doc.import(missing);
    return (status.success?.size ?? 0) > 0;
  } finally {
    known.free();
  }
}

/** The two sides of a file git merged as text (`<<<<<<<` ours `|||||||` base `=======` theirs `>>>>>>>`). */
export function splitConflictSides(text: string): { ours: string; theirs: string } | undefined {
  const ours: string[] = [];
  const theirs: string[] = [];
  let state: 'both' | 'ours' | 'base' | 'theirs' = 'both';
  let hunks = 0;
  for (const line of text.split('\n')) {
    if (state === 'both' && line.startsWith('<<<<<<<')) {
      state = 'ours';
      hunks++;
    } else if (state === 'ours' && line.startsWith('|||||||')) state = 'base';
    else if ((state === 'ours' || state === 'base') && line.startsWith('=======')) state = 'theirs';
    else if (state === 'theirs' && line.startsWith('>>>>>>>')) state = 'both';
    else if (state === 'both') {
      ours.push(line);
      theirs.push(line);
    } else if (state === 'ours') ours.push(line);
    else if (state === 'theirs') theirs.push(line);
  }
  if (hunks === 0) return undefined;
  if (state !== 'both') throw new SqlroomFileError('conflict-markers', `The conflict markers are incomplete: a "<<<<<<<" has no matching "${state === 'theirs' ? '>>>>>>>' : '======='}"`);
  return { ours: ours.join('\n'), theirs: theirs.join('\n') };
}

/**
 * Reads a file that may hold git conflict markers: each side is parsed as a
 * file of its own and the two are merged. Errors name the side that is damaged.
 * A side's plain cells are not its own: git merged the hunks that did not
 * conflict (the other side's cell edits) into both, so each side is read from
 * its snapshot alone (a side without one, from its cells).
 */
export function parseConflictedFile(bytes: Uint8Array): ParsedSqlroomFile & { sides: number } {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const sides = splitConflictSides(text);
  if (!sides) return { ...parseSqlroomFile(bytes), sides: 1 };
  const enc = new TextEncoder();
  const ours = parseSide(enc.encode(sides.ours), 'ours (between <<<<<<< and =======)');
  const theirs = parseSide(enc.encode(sides.theirs), 'theirs (between ======= and >>>>>>>)');
  if (ours.docId !== theirs.docId) {
    throw new SqlroomFileError('conflict-markers', `The two sides are different notebooks (docId ${ours.docId} and ${theirs.docId}); keep one side by hand`);
  }
  importNotebook(ours.notebook, theirs.notebook);
  return { ...ours, reconciled: ours.reconciled || theirs.reconciled, sides: 2 };
}

function parseSide(bytes: Uint8Array, which: string): ParsedSqlroomFile {
  try {
    return parseSqlroomFile(bytes, { snapshotOnly: true });
  } catch (e) {
    if (e instanceof SqlroomFileError) throw new SqlroomFileError(e.code, `side ${which}: ${e.message}`);
    throw e;
  }
}

export interface MergeFilesResult {
  bytes: Uint8Array;
  docId: string;
  /** Changes of B that A lacked (0: A already had everything). */
  newFromB: boolean;
}

/**
 * The git merge driver's work: `ours` (%A) and `theirs` (%B) merged through
 * Loro. `base` (%O) lets a side that is a text edit of the base's plain cells
 * (same snapshot) count only what it changed relative to the base. The result
 * keeps the docId and server of `ours`.
 */
export function mergeSqlroomFiles(ours: Uint8Array, theirs: Uint8Array, base?: Uint8Array): MergeFilesResult {
  const a = readSide(ours, '%A (ours)', base);
  const b = readSide(theirs, '%B (theirs)', base);
  if (a.docId !== b.docId) {
    throw new SqlroomFileError('bad-field', `the two files are different notebooks (docId ${a.docId} and ${b.docId}); they cannot be merged`);
  }
  const newFromB = importNotebook(a.notebook, b.notebook);
  const bytes = serializeSqlroomFile(a.notebook, a.docId, a.server !== undefined ? { server: a.server } : undefined);
  return { bytes, docId: a.docId, newFromB };
}

function readSide(bytes: Uint8Array, which: string, base?: Uint8Array): ParsedSqlroomFile {
  try {
    return parseSqlroomFile(bytes, base ? { base } : undefined);
  } catch (e) {
    if (e instanceof SqlroomFileError) throw new SqlroomFileError(e.code, `${which}: ${e.message}`);
    throw e;
  }
}
