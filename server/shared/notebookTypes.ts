// Plain-JSON view of a notebook: what the .sqlroom file shows a reviewer, what
// the VS Code serializer exchanges, and what the Loro model maps to and from.

export type CellKind = 'code' | 'markup';

export interface CellData {
  /** Stable uuid; lives in VS Code cell metadata (VS Code cells have no id). */
  id: string;
  kind: CellKind;
  /** 'sql' for code cells, 'markdown' for markup cells (other ids allowed). */
  language: string;
  source: string;
  /** A named SQL cell's result becomes a DuckDB view of that name. */
  name?: string;
  /** Extra per-cell metadata (JSON values only). */
  metadata: Record<string, unknown>;
}

export interface NotebookData {
  /** Document-level metadata: title, created_by, database, ... (JSON values). */
  meta: Record<string, unknown>;
  cells: CellData[];
}
