// Fast reads of one cell of a NotebookDoc without converting the whole
// document to JSON (the tracker reads a cell's text on every keystroke).
import { LoroMap, LoroText } from 'loro-crdt';
import type { NotebookDoc } from '../../../server/shared/notebookDoc';
import { CELLS } from '../../../server/shared/notebookShape';

export function cellSource(nb: NotebookDoc, id: string): string {
  for (const m of nb.doc.getMovableList(CELLS).toArray()) {
    if (m instanceof LoroMap && m.get('id') === id) {
      const t = m.get('source');
      return t instanceof LoroText ? t.toString() : '';
    }
  }
  return '';
}
