// Room ids: `<docId>` or `<docId>@<branch>` (branch defaults to "main").
// Ids reach file names, logs, URLs and SQL parameters, so only a sane subset
// is accepted and every rejection says exactly why.
import { lookAlikeProblem } from './names';

export const DEFAULT_BRANCH = 'main';
/** loro-protocol caps a room id at 128 UTF-8 bytes (MAX_ROOM_ID_LENGTH). */
export const MAX_ROOM_ID_BYTES = 128;
export const MAX_ID_BYTES = MAX_ROOM_ID_BYTES;

export interface RoomRef {
  docId: string;
  branch: string;
  /** Canonical key `<docId>@<branch>`. */
  key: string;
}

export class InvalidIdError extends Error {
  constructor(readonly what: 'room id' | 'doc id' | 'branch', message: string) {
    super(`invalid ${what}: ${message}`);
  }
}

// Letters, marks and digits of any script plus a few separators.
const DOC_CHARS = /^[\p{L}\p{M}\p{N}_\-.~+]+$/u;
const BRANCH_CHARS = /^[\p{L}\p{M}\p{N}_\-.~+/]+$/u;

function checkCommon(what: 'doc id' | 'branch', s: string): void {
  if (s.length === 0) throw new InvalidIdError(what, 'empty');
  const bytes = Buffer.byteLength(s, 'utf8');
  if (bytes > MAX_ID_BYTES) throw new InvalidIdError(what, `${bytes} bytes, at most ${MAX_ID_BYTES} allowed`);
  // eslint-disable-next-line no-control-regex
  if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}]/u.test(s)) throw new InvalidIdError(what, 'contains control, format or unassigned characters');
  if (s !== s.normalize('NFC')) throw new InvalidIdError(what, 'not in Unicode NFC form');
  const bad = /['"`\\\s;]/u.exec(s);
  if (bad) throw new InvalidIdError(what, `character ${JSON.stringify(bad[0])} not allowed`);
  if (s.includes('..')) throw new InvalidIdError(what, '".." not allowed');
  if (s.startsWith('.') || s.startsWith('-')) throw new InvalidIdError(what, 'must not start with "." or "-"');
}

export function validateDocId(docId: string): string {
  checkCommon('doc id', docId);
  if (!DOC_CHARS.test(docId)) throw new InvalidIdError('doc id', 'only letters, digits and _ - . ~ + are allowed');
  return docId;
}

export function validateBranch(branch: string): string {
  checkCommon('branch', branch);
  if (!BRANCH_CHARS.test(branch)) throw new InvalidIdError('branch', 'only letters, digits and _ - . ~ + / are allowed');
  if (branch.startsWith('/') || branch.endsWith('/') || branch.includes('//')) throw new InvalidIdError('branch', 'empty path segment');
  // A branch that reads like another one ("main\u034f", Cyrillic "mаin") would sit beside it unnoticed.
  const lookAlike = lookAlikeProblem(branch);
  if (lookAlike) throw new InvalidIdError('branch', lookAlike);
  return branch;
}

export function parseRoomId(roomId: string): RoomRef {
  const bytes = Buffer.byteLength(roomId, 'utf8');
  if (bytes > MAX_ROOM_ID_BYTES) throw new InvalidIdError('room id', `${bytes} bytes, at most ${MAX_ROOM_ID_BYTES} allowed`);
  const at = roomId.indexOf('@');
  const docId = at < 0 ? roomId : roomId.slice(0, at);
  const branch = at < 0 ? DEFAULT_BRANCH : roomId.slice(at + 1);
  if (at >= 0 && branch.includes('@')) throw new InvalidIdError('room id', 'more than one "@"');
  validateDocId(docId);
  validateBranch(branch);
  return roomRef(docId, branch);
}

export function roomKey(docId: string, branch: string): string {
  return `${docId}@${branch}`;
}

/** The ref of an already validated doc id and branch. */
export function roomRef(docId: string, branch: string): RoomRef {
  return { docId, branch, key: roomKey(docId, branch) };
}
