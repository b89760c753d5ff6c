// One notebook cell as a Loro map: { id, kind, language, source: LoroText,
// name?, metadata: LoroMap }. Validation of caller input, the tolerant plain
// view, and writes that touch only what changed.

import { LoroMap, LoroText } from 'loro-crdt';
import { isPlainObject, jsonEqual, toJsonValue, toWellFormed, type JsonValue } from './jsonValue';
import { errorText, NotebookModelError } from './notebookModelError';
import type { CellData, CellKind } from './notebookTypes';

/** A fresh cell id (uuid v4). */
export function newCellId(): string {
  return globalThis.crypto.randomUUID();
}

export function cellIdOf(m: LoroMap | undefined): string {
  const id = m?.get('id');
  return typeof id === 'string' ? id : '';
}

export function sourceTextOf(m: LoroMap): LoroText {
  const text = m.get('source');
  if (text instanceof LoroText) return text;
  // Only a foreign or broken doc lacks it; give the cell a source so edits work.
  return m.setContainer('source', new LoroText());
}

export function defaultLanguage(kind: CellKind): string {
  return kind === 'markup' ? 'markdown' : 'sql';
}

/** Plain view of one cell map's JSON; tolerant of missing fields. */
export function cellFromJson(raw: unknown): CellData {
  const o = isPlainObject(raw) ? raw : {};
  const kind: CellKind = o.kind === 'markup' ? 'markup' : 'code';
  const cell: CellData = {
    id: typeof o.id === 'string' ? o.id : '',
    kind,
    language: typeof o.language === 'string' && o.language !== '' ? o.language : defaultLanguage(kind),
    source: typeof o.source === 'string' ? o.source : '',
    metadata: isPlainObject(o.metadata) ? o.metadata : {},
  };
  if (typeof o.name === 'string' && o.name !== '') cell.name = o.name;
  return cell;
}

/** Validates a caller's cell and puts it in the form stored in Loro. */
export function normaliseCell(cell: Partial<CellData> | undefined, where: string): CellData {
  if (!isPlainObject(cell)) throw new NotebookModelError(`${where} must be an object`);
  const kind = cell.kind ?? 'code';
  if (kind !== 'code' && kind !== 'markup') throw new NotebookModelError(`${where}.kind must be "code" or "markup", got ${JSON.stringify(kind)}`);
  const stringField = (key: 'id' | 'language' | 'source'): string => {
    const v = cell[key];
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw new NotebookModelError(`${where}.${key} must be a string`);
    return toWellFormed(v);
  };
  const language = stringField('language');
  const out: CellData = {
    id: stringField('id'),
    kind,
    language: language === '' ? defaultLanguage(kind) : language,
    source: stringField('source'),
    metadata: {},
  };
  if (cell.name !== undefined && cell.name !== null) {
    if (typeof cell.name !== 'string') throw new NotebookModelError(`${where}.name must be a string`);
    if (cell.name !== '') out.name = toWellFormed(cell.name);
  }
  if (cell.metadata !== undefined && cell.metadata !== null) {
    if (!isPlainObject(cell.metadata)) throw new NotebookModelError(`${where}.metadata must be an object`);
    out.metadata = toJson(cell.metadata, `${where}.metadata`) as Record<string, JsonValue>;
  }
  return out;
}

/** Writes kind, language, name and metadata where they differ. Not the source. */
export function writeCellProps(m: LoroMap, c: CellData): boolean {
  let changed = false;
  for (const key of ['kind', 'language'] as const) {
    if (m.get(key) !== c[key]) {
      m.set(key, c[key]);
      changed = true;
    }
  }
  const name = m.get('name');
  if (c.name === undefined) {
    if (name !== undefined) {
      m.delete('name');
      changed = true;
    }
  } else if (name !== c.name) {
    m.set('name', c.name);
    changed = true;
  }
  let metadata = m.get('metadata');
  if (!(metadata instanceof LoroMap)) {
    if (Object.keys(c.metadata).length === 0 && metadata === undefined) return changed;
    metadata = m.setContainer('metadata', new LoroMap());
    changed = true;
  }
  if (syncMap(metadata as LoroMap, c.metadata)) changed = true;
  return changed;
}

/** Makes a map of plain values equal to `target` key by key. */
export function syncMap(map: LoroMap, target: Record<string, unknown>): boolean {
  let changed = false;
  const current = map.toJSON() as Record<string, unknown>;
  for (const key of Object.keys(current)) {
    if (!(key in target)) {
      map.delete(key);
      changed = true;
    }
  }
  for (const [key, value] of Object.entries(target)) {
    if (!(key in current) || !jsonEqual(current[key], value)) {
      map.set(key, value);
      changed = true;
    }
  }
  return changed;
}

/** Creates a complete cell map at `index` of the cells list. */
export function insertCellMap(list: { insertContainer(pos: number, child: LoroMap): LoroMap }, index: number, c: CellData): LoroMap {
  const m = list.insertContainer(index, new LoroMap());
  m.set('id', c.id);
  m.set('kind', c.kind);
  m.set('language', c.language);
  if (c.name !== undefined) m.set('name', c.name);
  const text = m.setContainer('source', new LoroText());
  if (c.source.length > 0) text.insert(0, c.source);
  const metadata = m.setContainer('metadata', new LoroMap());
  for (const [k, v] of Object.entries(c.metadata)) metadata.set(k, v);
  return m;
}

export function toJson(value: unknown, where: string): JsonValue {
  try {
    return toJsonValue(value);
  } catch (e) {
    throw new NotebookModelError(`${where} is not a JSON value: ${errorText(e)}`);
  }
}
