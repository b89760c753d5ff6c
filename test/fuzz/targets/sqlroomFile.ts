// Fuzz target: the `.sqlroom` parser. parseSqlroomFile may only throw
// SqlroomFileError (a damaged or foreign file opens with a clear error).
// A file it accepts must save and re-open to the same notebook: serialize
// must not throw, and parsing the output must reproduce the cells and meta
// without reconciling anything.
import type { FuzzTarget } from '../engine/target';
import { InvariantError } from '../engine/target';
import { serverModule } from './common';

export const instrument = [serverModule('shared/sqlroomFile'), serverModule('shared/jsonLocate'), serverModule('shared/utf8'), serverModule('shared/jsonValue'), serverModule('shared/notebookDoc'), serverModule('shared/notebookShape'), serverModule('shared/cellMap'), serverModule('shared/cellOrder'), serverModule('shared/textDiff')];

/* eslint-disable @typescript-eslint/no-require-imports */
let f: typeof import('../../../server/shared/sqlroomFile');

export const target: FuzzTarget = {
  name: 'sqlroomFile',
  instrument,
  maxLen: 16384,
  dictionary: ['"format"', '"sqlroom-notebook"', '"version"', '"docId"', '"server"', '"ws://h"', '"meta"', '"authors"', '"cells"', '"id"', '"kind"', '"code"', '"markup"', '"language"', '"sql"', '"source"', '"name"', '"metadata"', '"loro"', '"nbformat"', 'null', 'true', '1e999', '-0', '{}', '[]', '"\\u0000"', '"\\ud800"', '\ufeff', '@', '..', '==', 'AAAA'],
  setup() {
    f = require('../../../server/shared/sqlroomFile');
  },
  exec(data) {
    let parsed;
    try {
      parsed = f.parseSqlroomFile(data);
    } catch (err) {
      if (err instanceof f.SqlroomFileError) return;
      throw err;
    }
    if (parsed.isNew) return;
    let again;
    try {
      const out = f.serializeSqlroomFile(parsed.notebook, parsed.docId, parsed.server !== undefined ? { server: parsed.server } : undefined);
      again = f.parseSqlroomFile(out);
    } catch (err) {
      throw new InvariantError(`a file that opens cannot be saved and re-opened: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    }
    if (again.reconciled) throw new InvariantError('re-opening a saved file reconciled changes (the plain part and the snapshot disagree)');
    if (JSON.stringify(again.notebook.toData()) !== JSON.stringify(parsed.notebook.toData())) throw new InvariantError('save + re-open changed the notebook');
    if (again.docId !== parsed.docId) throw new InvariantError('save + re-open changed the docId');
  },
  isExpected: (err) => err instanceof f.SqlroomFileError,
};
