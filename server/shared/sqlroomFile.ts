// The `.sqlroom` file: UTF-8 JSON a person can read and diff (see
// docs/file-format.md). The plain `meta` and `cells` are what a reviewer
// reads; `loro` (base64 Loro snapshot, always last) carries the history.
// When the plain part disagrees with the snapshot (hand edit, git merge),
// the difference is applied as one new change by "file". That change is
// deterministic (its peer id and any new cell ids derive from the file's
// content), so reading the same file twice, in two windows or two processes,
// yields the same Loro ops: merging them applies the hand edit once.

import { createHash, randomBytes } from 'node:crypto';
import { NotebookDoc, NotebookModelError } from './notebookDoc';
import type { NotebookData } from './notebookTypes';
import { findJsonSyntaxProblem } from './jsonLocate';
import { isPlainObject, sortKeysDeep, type JsonValue } from './jsonValue';
import { decodeUtf8Strict } from './utf8';

export const SQLROOM_FORMAT = 'sqlroom-notebook';
export const SQLROOM_FORMAT_VERSION = 1;
/** Commit message of the change that applies edits found in the plain part of a file. */
export const FILE_RECONCILE_MESSAGE = 'Applied edits made to the file outside SQLRoom';
/** Commit message of the first change of a doc built from a file without a snapshot. */
export const FILE_IMPORT_MESSAGE = 'Created from a file written outside SQLRoom';
/** Commit origin of both. */
export const FILE_ORIGIN = 'file';

export type SqlroomFileErrorCode =
  | 'not-utf8' // bytes are not UTF-8 text
  | 'not-json' // a JSON syntax error (message has line and column)
  | 'truncated' // the JSON stops before it is complete
  | 'not-sqlroom' // valid JSON but another kind of file (e.g. a Jupyter notebook)
  | 'unsupported-version' // a newer format version than this code reads
  | 'bad-field' // a header or cell field has the wrong type or value (message has its JSON path)
  | 'duplicate-id' // two cells share an id
  | 'bad-base64' // `loro` is not base64
  | 'bad-snapshot' // `loro` decodes but Loro cannot import it (damaged or incomplete)
  | 'snapshot-not-notebook' // `loro` is a Loro document but not a notebook
  | 'conflict-markers'; // git left <<<<<<< / ======= / >>>>>>> lines in it (see sqlroomMerge.ts)

export class SqlroomFileError extends Error {
  constructor(
    readonly code: SqlroomFileErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SqlroomFileError';
  }
}

export interface ParsedSqlroomFile {
  docId: string;
  server?: string;
  notebook: NotebookDoc;
  /** The plain cells/meta differed from the snapshot (or there was no snapshot) and were applied as a change by "file". */
  reconciled: boolean;
  /** The file was empty: a new notebook with a fresh docId. */
  isNew: boolean;
  /**
   * The `outputs` section (kept results by cell id), as JSON: a cache outside
   * the history that the extension reads leniently (extension/core/keptOutputs.ts).
   */
  outputs?: Record<string, unknown>;
}

// A branch notebook's id is its room id `<docId>@<branch>` (branch: letters,
// digits, "_", "-", "."; not starting with "."), at most 128 characters in all.
const DOC_ID_RE = /^[A-Za-z0-9_-]{1,128}(?:@[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63})?$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

export function newDocId(): string {
  return globalThis.crypto.randomUUID();
}

export function isValidDocId(docId: unknown): docId is string {
  return typeof docId === 'string' && docId.length <= 128 && DOC_ID_RE.test(docId) && !docId.includes('..');
}

/**
 * Parses a `.sqlroom` file. Throws SqlroomFileError for anything damaged or
 * foreign. With `base` (an earlier version of the file, e.g. git's merge base):
 * when both carry the same snapshot, the base's own hand edits are applied
 * first (the same deterministic change every reader of the base makes), and
 * only what this file changed on top of them is a new change. With
 * `snapshotOnly`, a file with a snapshot is read from it alone (its plain cells
 * are ignored).
 */
export function parseSqlroomFile(bytes: Uint8Array, opts?: { base?: Uint8Array; snapshotOnly?: boolean }): ParsedSqlroomFile {
  const text = decodeText(bytes);
  if (text.trim() === '') {
    return { docId: newDocId(), notebook: new NotebookDoc(), reconciled: false, isNew: true };
  }
  const conflict = findConflictMarkers(text);
  if (conflict) {
    throw new SqlroomFileError(
      'conflict-markers',
      `The file has git merge conflict markers (${conflict.hunks} conflict${conflict.hunks === 1 ? '' : 's'}, the first "<<<<<<<" at line ${conflict.line}): ` +
        'git merged it as text. Both sides are complete notebooks; run "SQLRoom: Merge Conflicted Notebook" to merge them through their histories, ' +
        'or set up the merge driver (docs/file-format.md) so git does it',
    );
  }
  const file = readFile(parseJson(text));

  let notebook: NotebookDoc;
  let message: string;
  const fromBase = opts?.base ? baseWithSameSnapshot(opts.base, file) : undefined;
  if (fromBase) {
    notebook = fromBase;
    message = FILE_RECONCILE_MESSAGE;
  } else if (file.loro === undefined) {
    notebook = new NotebookDoc();
    message = FILE_IMPORT_MESSAGE;
  } else {
    notebook = loadSnapshot(file.loro);
    message = FILE_RECONCILE_MESSAGE;
  }
  // A file without `meta` keeps the snapshot's meta.
  const meta = file.meta ?? notebook.toData().meta;
  const fingerprint = createHash('sha256').update(JSON.stringify([file.loro ?? '', meta, file.cells])).digest();
  const target: NotebookData = {
    meta,
    // A hand-added cell without an id gets one derived from the file, the same in every reader.
    cells: file.cells.map((c, i) => (c.id === '' ? { ...c, id: derivedCellId(fingerprint, i) } : c)),
  };
  let changed = false;
  const doc = notebook.doc;
  // The caller knows the plain part is not a person's edit (a side of a textual git merge).
  if (opts?.snapshotOnly && file.loro !== undefined) target.cells = notebook.toData().cells;
  try {
    doc.setPeerId(peerIdFrom(fingerprint));
    if (!(opts?.snapshotOnly && file.loro !== undefined)) changed = notebook.applyData(target, { origin: FILE_ORIGIN, message }).changed;
  } catch (e) {
    if (e instanceof NotebookModelError) throw new SqlroomFileError('bad-field', e.message);
    throw e;
  } finally {
    // The reader's own edits get a peer id of their own.
    doc.setPeerId(peerIdFrom(randomBytes(8)));
  }
  const parsed: ParsedSqlroomFile = {
    docId: file.docId ?? newDocId(),
    notebook,
    reconciled: changed,
    isNew: false,
  };
  if (file.server !== undefined) parsed.server = file.server;
  if (file.outputs !== undefined) parsed.outputs = file.outputs;
  return parsed;
}

/** Serialises a notebook: 2-space JSON, `loro` last, trailing newline. */
export function serializeSqlroomFile(nb: NotebookDoc, docId: string, opts?: { server?: string; outputs?: Record<string, unknown> }): Uint8Array {
  if (!isValidDocId(docId)) {
    throw new SqlroomFileError('bad-field', `docId must be 1-128 letters, digits, "-" or "_" (a branch notebook: <docId>@<branch>), got ${JSON.stringify(docId)}`);
  }
  if (opts?.server !== undefined && !isServerUrl(opts.server)) {
    throw new SqlroomFileError('bad-field', `server must be a ws:// or wss:// URL, got ${JSON.stringify(opts.server)}`);
  }
  const loro = base64Encode(nb.exportSnapshot());
  const data = nb.toData();
  const out: Record<string, unknown> = { format: SQLROOM_FORMAT, version: SQLROOM_FORMAT_VERSION, docId };
  if (opts?.server !== undefined) out.server = opts.server;
  out.meta = sortKeysDeep(data.meta as JsonValue);
  out.cells = data.cells.map((c) => {
    const cell: Record<string, unknown> = { id: c.id, kind: c.kind, language: c.language };
    if (c.name !== undefined) cell.name = c.name;
    cell.source = c.source === '' ? [] : c.source.split('\n');
    if (Object.keys(c.metadata).length > 0) cell.metadata = sortKeysDeep(c.metadata as JsonValue);
    return cell;
  });
  // Kept results, in cell order, only for cells that exist; before `loro` so it stays last.
  if (opts?.outputs) {
    const outputs: Record<string, unknown> = {};
    for (const c of data.cells) if (opts.outputs[c.id] !== undefined) outputs[c.id] = opts.outputs[c.id];
    if (Object.keys(outputs).length > 0) out.outputs = outputs;
  }
  out.loro = loro;
  return new TextEncoder().encode(JSON.stringify(out, null, 2) + '\n');
}

// ---- reading, step by step ----

interface FileParts {
  docId?: string;
  server?: string;
  meta?: Record<string, unknown>;
  cells: NotebookData['cells'];
  outputs?: Record<string, unknown>;
  loro?: string;
}

function decodeText(bytes: Uint8Array): string {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    throw new SqlroomFileError('not-utf8', 'The file is UTF-16 text (it starts with a UTF-16 byte-order mark); .sqlroom files are UTF-8');
  }
  const decoded = decodeUtf8Strict(bytes);
  if (decoded.ok) return decoded.text;
  const hex = decoded.byte.toString(16).toUpperCase().padStart(2, '0');
  throw new SqlroomFileError(
    'not-utf8',
    `The file is not UTF-8 text: invalid byte 0x${hex} at byte offset ${decoded.offset}` +
      (decoded.offset === 0 ? ' (it may be a binary file)' : ''),
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const problem = findJsonSyntaxProblem(text);
    if (!problem) throw new SqlroomFileError('not-json', `The file is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    const where = `line ${problem.line}, column ${problem.column}`;
    if (problem.truncated) {
      throw new SqlroomFileError(
        'truncated',
        `The file is truncated: its JSON ends at ${where} before it is complete (${problem.reason}); it was probably cut off while being written or copied`,
      );
    }
    throw new SqlroomFileError('not-json', `The file is not valid JSON: at ${where}: ${problem.reason}`);
  }
}

function readFile(json: unknown): FileParts {
  if (!isPlainObject(json)) {
    const what = Array.isArray(json) ? 'an array' : json === null ? 'null' : `a ${typeof json}`;
    throw new SqlroomFileError('not-sqlroom', `The file is JSON but not a SQLRoom notebook: its top-level value is ${what}, not an object with "format": "${SQLROOM_FORMAT}"`);
  }
  if (json.format !== SQLROOM_FORMAT) throw notSqlroom(json);

  const version = json.version;
  if (version === undefined) throw badField(`version is missing (expected ${SQLROOM_FORMAT_VERSION})`);
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw badField(`version must be a positive integer, got ${JSON.stringify(version)}`);
  }
  if (version > SQLROOM_FORMAT_VERSION) {
    throw new SqlroomFileError(
      'unsupported-version',
      `The file uses .sqlroom format version ${version}, newer than this SQLRoom reads (version ${SQLROOM_FORMAT_VERSION}); update SQLRoom to open it`,
    );
  }

  const loro = json.loro;
  if (loro !== undefined && typeof loro !== 'string') throw badField(`loro must be a base64 string, got ${typeOf(loro)}`);

  const docId = json.docId;
  if (docId === undefined) {
    // A hand-written file may leave the id out; one with history may not.
    if (loro !== undefined) throw badField('docId is missing (required when the file has a "loro" snapshot)');
  } else if (!isValidDocId(docId)) {
    throw badField(`docId must be 1-128 letters, digits, "-" or "_" (a branch notebook: <docId>@<branch>), got ${JSON.stringify(docId)}`);
  }

  const server = json.server;
  if (server !== undefined && !isServerUrl(server)) {
    throw badField(`server must be a ws:// or wss:// URL, got ${JSON.stringify(server)}`);
  }

  const meta = json.meta;
  if (meta !== undefined) {
    if (!isPlainObject(meta)) throw badField(`meta must be an object, got ${typeOf(meta)}`);
    const authors = meta.authors;
    if (authors !== undefined) {
      if (!isPlainObject(authors)) throw badField(`meta.authors must be an object mapping peer ids to names, got ${typeOf(authors)}`);
      for (const [peer, name] of Object.entries(authors)) {
        if (typeof name !== 'string') throw badField(`meta.authors[${JSON.stringify(peer)}] must be a string, got ${typeOf(name)}`);
      }
    }
  }

  if (json.cells === undefined) throw badField('cells is missing (expected an array of cells)');
  if (!Array.isArray(json.cells)) throw badField(`cells must be an array, got ${typeOf(json.cells)}`);
  const cells = readCells(json.cells);

  const parts: FileParts = { cells };
  if (typeof docId === 'string') parts.docId = docId;
  if (typeof server === 'string') parts.server = server;
  if (meta !== undefined) parts.meta = meta as Record<string, unknown>;
  if (typeof loro === 'string') parts.loro = loro;
  // Optional; readers that predate it ignore it, so the format version stays 1.
  if (isPlainObject(json.outputs)) parts.outputs = json.outputs as Record<string, unknown>;
  return parts;
}

function readCells(raw: unknown[]): NotebookData['cells'] {
  const firstWithId = new Map<string, number>();
  return raw.map((c, i) => {
    const at = `cells[${i}]`;
    if (!isPlainObject(c)) throw badField(`${at} must be an object, got ${typeOf(c)}`);
    const id = c.id ?? '';
    if (typeof id !== 'string') throw badField(`${at}.id must be a string, got ${typeOf(id)}`);
    if (id !== '') {
      const first = firstWithId.get(id);
      if (first !== undefined) {
        throw new SqlroomFileError('duplicate-id', `${at}.id ${JSON.stringify(id)} is also the id of cells[${first}]; cell ids must be unique`);
      }
      firstWithId.set(id, i);
    }
    const kind = c.kind ?? 'code';
    if (kind !== 'code' && kind !== 'markup') throw badField(`${at}.kind must be "code" or "markup", got ${JSON.stringify(kind)}`);
    const language = c.language ?? '';
    if (typeof language !== 'string') throw badField(`${at}.language must be a string, got ${typeOf(language)}`);
    const name = c.name ?? undefined;
    if (name !== undefined && typeof name !== 'string') throw badField(`${at}.name must be a string or null, got ${typeOf(name)}`);
    const metadata = c.metadata ?? {};
    if (!isPlainObject(metadata)) throw badField(`${at}.metadata must be an object, got ${typeOf(metadata)}`);
    const cell: NotebookData['cells'][number] = { id, kind, language, source: readSource(c.source, at), metadata };
    if (name !== undefined && name !== '') cell.name = name;
    return cell;
  });
}

function readSource(source: unknown, at: string): string {
  if (source === undefined || source === null) return '';
  if (typeof source === 'string') return source;
  if (Array.isArray(source)) {
    const bad = source.findIndex((line) => typeof line !== 'string');
    if (bad < 0) return source.join('\n');
    throw badField(`${at}.source must be a string or an array of strings (${at}.source[${bad}] is ${typeOf(source[bad])})`);
  }
  throw badField(`${at}.source must be a string or an array of strings, got ${typeOf(source)}`);
}

function loadSnapshot(loro: string): NotebookDoc {
  if (loro.length % 4 !== 0 || !BASE64_RE.test(loro)) {
    const bad = /[^A-Za-z0-9+/=]/.exec(loro);
    const why = bad
      ? `invalid character ${JSON.stringify(bad[0])} at position ${bad.index}`
      : loro.length % 4 !== 0
        ? `its length ${loro.length} is not a multiple of 4 (cut short?)`
        : '"=" padding in the middle';
    throw new SqlroomFileError('bad-base64', `loro is not valid base64: ${why}`);
  }
  const bytes = base64Decode(loro);
  try {
    return NotebookDoc.fromSnapshot(bytes);
  } catch (e) {
    if (!(e instanceof NotebookModelError)) throw e;
    if (e.code === 'not-notebook') throw new SqlroomFileError('snapshot-not-notebook', `The "loro" field holds a Loro document that is not a SQLRoom notebook: ${stripPrefix(e.message)}`);
    throw new SqlroomFileError('bad-snapshot', `The Loro snapshot in "loro" cannot be loaded: ${stripPrefix(e.message)}`);
  }
}

// ---- helpers ----

/** The base file's notebook (its hand edits applied) when it has the same snapshot as `file`; else undefined. */
function baseWithSameSnapshot(base: Uint8Array, file: FileParts): NotebookDoc | undefined {
  try {
    const baseFile = readFile(parseJson(decodeText(base)));
    if (baseFile.loro !== file.loro || baseFile.docId !== file.docId) return undefined;
    return parseSqlroomFile(base).notebook;
  } catch {
    return undefined; // a damaged base is no help: the file stands on its own
  }
}

/** Where git left conflict markers: lines starting with "<<<<<<< " (never inside a JSON string: those lines start with spaces and a quote). */
export function findConflictMarkers(text: string): { line: number; hunks: number } | undefined {
  let first = 0;
  let hunks = 0;
  text.split('\n').forEach((l, i) => {
    if (l.startsWith('<<<<<<<')) {
      hunks++;
      if (first === 0) first = i + 1;
    }
  });
  return hunks > 0 ? { line: first, hunks } : undefined;
}

/** A Loro peer id from 8 bytes (top bit cleared: Loro reserves the largest ids). */
function peerIdFrom(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(bytes[i]);
  return v & 0x7fff_ffff_ffff_ffffn;
}

function derivedCellId(fingerprint: Uint8Array, index: number): string {
  const h = createHash('sha256').update(fingerprint).update(`cell ${index}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function notSqlroom(json: Record<string, unknown>): SqlroomFileError {
  if ('nbformat' in json && Array.isArray(json.cells)) {
    const v = typeof json.nbformat === 'number' ? ` (nbformat ${json.nbformat})` : '';
    return new SqlroomFileError('not-sqlroom', `This is a Jupyter notebook${v}, not a SQLRoom notebook; open it as .ipynb`);
  }
  if (json.format === undefined) {
    return new SqlroomFileError('not-sqlroom', `The file is JSON but not a SQLRoom notebook: it has no "format" field (expected "format": "${SQLROOM_FORMAT}")`);
  }
  return new SqlroomFileError(
    'not-sqlroom',
    `The file is JSON but not a SQLRoom notebook: "format" is ${JSON.stringify(json.format)} (expected "${SQLROOM_FORMAT}")`,
  );
}

function badField(message: string): SqlroomFileError {
  return new SqlroomFileError('bad-field', message);
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function isServerUrl(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  try {
    const url = new URL(v);
    return url.protocol === 'ws:' || url.protocol === 'wss:';
  } catch {
    return false;
  }
}

function stripPrefix(message: string): string {
  return message.replace(/^snapshot is a Loro document but not a SQLRoom notebook: /, '').replace(/^snapshot /, 'the snapshot ');
}

function base64Encode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function base64Decode(text: string): Uint8Array {
  const buf = Buffer.from(text, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
