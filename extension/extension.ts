// Activation: wires the serializer, the change tracker, the DuckDB kernel, the
// cell status bar and the commands. Logic lives in core/ and server/shared/.
import * as vscode from 'vscode';
import { ChangeTracker } from './changeTracker';
import { registerCellNameStatusBar } from './cellNameStatusBar';
import { registerCommands } from './commands';
import { registerConflictedFile } from './conflictedFile';
import { watchDiskChanges } from './diskChanges';
import { readSettings } from './config';
import { registerHistory } from './history';
import { SqlKernel } from './kernel';
import { ResultActions } from './resultActions';
import { registerSqlLanguageFeatures } from './sqlLanguageFeatures';
import { NotebookRegistry } from './notebookRegistry';
import { NOTEBOOK_TYPE, SqlroomSerializer, TRANSIENT_DOCUMENT_METADATA } from './serializer';
import { CollabManager } from './sync/collabManager';
import { UserIdentity } from './userIdentity';

export interface SqlroomApi {
  readonly registry: NotebookRegistry;
  readonly kernel: SqlKernel;
  readonly tracker: ChangeTracker;
  readonly collab: CollabManager;
  readonly identity: UserIdentity;
  readonly results: ResultActions;
}

let collabManager: CollabManager | undefined;

export function activate(context: vscode.ExtensionContext): SqlroomApi {
  const identity = new UserIdentity(context);
  context.subscriptions.push(identity);
  const userName = () => identity.name;
  const keepSettings = () => {
    const s = readSettings();
    return { enabled: s.keepResults, maxBytes: s.keptResultMaxBytes };
  };
  const registry = new NotebookRegistry();
  const kernel = new SqlKernel(userName);
  const tracker = new ChangeTracker(registry, userName);
  const results = new ResultActions(kernel);
  context.subscriptions.push(
    vscode.workspace.registerNotebookSerializer(NOTEBOOK_TYPE, new SqlroomSerializer(registry, userName, keepSettings), {
      // Each cell's last output is saved with the file (outside the Loro
      // history) unless sqlroom.keepResults is off (read at activation).
      transientOutputs: !keepSettings().enabled,
      // A version view's own document id: never compared by Compare, never saved.
      transientDocumentMetadata: TRANSIENT_DOCUMENT_METADATA,
    }),
    kernel,
    tracker,
    registerCellNameStatusBar(),
    registerCommands(),
    registerSqlLanguageFeatures(kernel),
    results,
    registerConflictedFile(),
    watchDiskChanges(tracker, registry),
  );
  // Branch and merge reach the sync server through the collaboration sessions (created below).
  context.subscriptions.push(registerHistory(context, registry, () => collabManager));
  // Live collaboration: sync sessions, embedded server, status bar, share/join.
  const collab = (collabManager = new CollabManager(context, registry, tracker, userName, identity.ready));
  return { registry, kernel, tracker, collab, identity, results };
}

/** Flushes and stops the embedded sync server before the extension host exits. */
export async function deactivate(): Promise<void> {
  await collabManager?.dispose();
}
