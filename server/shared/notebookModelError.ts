// The error every notebook-model operation throws for bad input or bad bytes.

export type NotebookModelErrorCode = 'bad-snapshot' | 'not-notebook' | 'unknown-cell' | 'bad-argument';

export class NotebookModelError extends Error {
  constructor(
    message: string,
    readonly code: NotebookModelErrorCode = 'bad-argument',
  ) {
    super(message);
    this.name = 'NotebookModelError';
  }
}

/** Loro's wasm errors are sometimes thrown as plain strings. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
