// Recognises a Loro document as a SQLRoom notebook (see docs/file-format.md).

import { LoroDoc, LoroMap, LoroText } from 'loro-crdt';
import { NotebookModelError } from './notebookModelError';

export const CELLS = 'cells';
export const META = 'meta';
export const AUTHORS = 'authors';
const CELLS_CID = 'cid:root-cells:MovableList';
const META_CID = 'cid:root-meta:Map';

/** Throws NotebookModelError('not-notebook') unless `doc` has the notebook's shape. */
export function checkNotebookShape(doc: LoroDoc): void {
  const notNotebook = (why: string) =>
    new NotebookModelError(`snapshot is a Loro document but not a SQLRoom notebook: ${why}`, 'not-notebook');
  const roots = doc.getShallowValue() as Record<string, unknown>;
  const names = Object.keys(roots);
  if (roots[CELLS] !== undefined && roots[CELLS] !== CELLS_CID) {
    throw notNotebook(`root "cells" is ${describeCid(roots[CELLS])}, expected a MovableList`);
  }
  if (roots[META] !== undefined && roots[META] !== META_CID) {
    throw notNotebook(`root "meta" is ${describeCid(roots[META])}, expected a Map`);
  }
  if (roots[CELLS] === undefined && roots[META] === undefined && names.length > 0) {
    const list = names.map((n) => `"${n}" (${describeCid(roots[n])})`).join(', ');
    throw notNotebook(`it has no "cells" or "meta" root, only ${list}`);
  }
  const cells = doc.getMovableList(CELLS).toArray();
  cells.forEach((c, i) => {
    if (!(c instanceof LoroMap)) throw notNotebook(`cells[${i}] is not a map`);
    const id = c.get('id');
    if (typeof id !== 'string' || id === '') throw notNotebook(`cells[${i}] has no string id`);
    const kind = c.get('kind');
    if (kind !== 'code' && kind !== 'markup') throw notNotebook(`cells[${i}].kind is ${JSON.stringify(kind)}, expected "code" or "markup"`);
    if (!(c.get('source') instanceof LoroText)) throw notNotebook(`cells[${i}].source is not a Text container`);
  });
}

function describeCid(cid: unknown): string {
  const m = typeof cid === 'string' ? /:([A-Za-z]+)$/.exec(cid) : null;
  return m ? `a ${m[1]}` : JSON.stringify(cid);
}
