// The notebook's version history (see dag.ts for the DAG, checkpoints.ts for
// named versions, version.ts for the version string form).
export * from './types';
export * from './version';
export { HistoryDag, versionAt } from './dag';
export { layoutLanes, type RowLanes } from './lanes';
export { changesFromLoro, authorsFromLoro, historyInputFromLoro } from './fromLoro';
export { createCheckpoint, listCheckpoints, CHECKPOINTS, CHECKPOINT_PREFIX } from './checkpoints';
export { dataAt, frontiersIn, notebookAt, restoreVersion, versionTimestamp } from './versionDoc';
export { summarizeSpans, CellLabeler, type ChangeSummary, type CellTouch, type OpSpan } from './summary';
export { revertChange, type RevertResult } from './revert';
export { blameText, blameNotebook, blameTextPerChar, type LineBlame } from './blame';
export { rowDiff, lineDiff, type CellDiff, type DiffLine } from './rowDiff';
export { localActivity, type ActivityData, type ServerActivity } from './activity';
