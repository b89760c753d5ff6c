// Registers the version history: the read-only sqlroom-version: file system,
// the history panel and the commands. Commands take optional arguments (so
// tests and other commands can call them directly) and otherwise ask:
//   sqlroom.showHistory      (notebook uri | docId)?      -> what the panel shows (versions, merges, branch labels)
//   sqlroom.openVersion      (docId, version)?            -> version uri string
//   sqlroom.openAtTime       (docId, unixSeconds)?        -> version opened
//   sqlroom.compareVersions  (docId, left, right|'current')?
//   sqlroom.restoreVersion   (docId, version, { confirm })? -> true when applied
//   sqlroom.createCheckpoint (docId, name)?               -> version named
//   sqlroom.branchFromVersion (docId, version, name)?     -> uri of the branch notebook opened
//   sqlroom.mergeBranch      (docId, from, into)?          -> the server's merge result
import * as vscode from 'vscode';
import { parseLocalDateTime, formatTime } from '../../media/history/format';
import { formatVersion, HistoryDag, historyInputFromLoro, shortVersion, type DagRow } from '../../server/shared/history';
import type { NotebookRegistry } from '../notebookRegistry';
import { HistoryPanel, type HistoryCommands } from './historyPanel';
import { HistoryService } from './historyService';
import { BranchService, type SyncSessions } from './branchService';
import { guardVersionNotebooks } from './readonlyGuard';
import { VersionFileSystem } from './versionFileSystem';
import { BlameDecorations } from './blameDecorations';
import { registerVersionBanner } from './versionBanner';
import { showActivity } from './activityPanel';
import { parseVersionUri, versionDocId, VERSION_SCHEME } from './versionUri';

const PICK_LIMIT = 300;

export function registerHistory(context: vscode.ExtensionContext, registry: NotebookRegistry, sessions: () => SyncSessions | undefined = () => undefined): vscode.Disposable {
  const service = new HistoryService(registry);
  const branches = new BranchService(service, sessions);

  const activeDocId = (arg?: unknown): string => {
    if (typeof arg === 'string' && arg !== '') return arg;
    if (arg instanceof vscode.Uri) {
      const nb = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === arg.toString());
      const id = nb && service.docIdOf(nb);
      if (id) return id;
    }
    const nb = vscode.window.activeNotebookEditor?.notebook;
    const id = nb && service.docIdOf(nb);
    if (!id) throw new Error('Open a SQLRoom notebook first.');
    return id;
  };

  const pickVersion = async (docId: string, placeHolder: string, withCurrent = false): Promise<string | undefined> => {
    const rows = HistoryDag.build(historyInputFromLoro(service.doc(docId).doc)).page(0, PICK_LIMIT).rows;
    type Item = vscode.QuickPickItem & { version: string };
    const items: Item[] = rows.map((r: DagRow) => ({
      label: r.checkpoint !== undefined ? `$(bookmark) ${r.checkpoint}` : r.message ?? (r.size > 1 ? `${r.size} edits` : 'Edit'),
      description: `${r.author} · ${formatTime(r.end)}`,
      detail: shortVersion(r.version),
      version: r.version,
    }));
    if (withCurrent) items.unshift({ label: '$(circle-filled) Current notebook', version: 'current' });
    const picked = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true });
    return picked?.version;
  };

  const commands: HistoryCommands = {
    open: async (docId, version) => {
      await service.openVersion(docId, version);
    },
    compare: (docId, left, right, labels) => service.compare(docId, left, right, labels),
    restore: async (docId, version, label, confirm) => {
      if (confirm) {
        const answer = await vscode.window.showWarningMessage(
          `Restore ${label ?? shortVersion(version)}?`,
          { modal: true, detail: 'The notebook becomes equal to that version as a new change. Nothing is lost: the current version stays in the history.' },
          'Restore',
        );
        if (answer !== 'Restore') return;
      }
      if (!(await service.restore(docId, version, label))) throw new Error('VS Code did not apply the restored cells to the notebook.');
    },
    checkpoint: async (docId, name) => {
      const value =
        name ??
        (await vscode.window.showInputBox({
          title: 'Create Checkpoint',
          prompt: 'A name for the current version of the notebook',
          validateInput: (v) => (v.trim() === '' ? 'Enter a name' : undefined),
        }));
      if (value === undefined) return undefined;
      const version = await service.checkpoint(docId, value);
      // Online, the server also writes a snapshot named by the checkpoint.
      await branches.serverCheckpoint(docId, value).catch((e: unknown) => {
        void vscode.window.showWarningMessage(`Checkpoint "${value}" is in the notebook history, but the sync server could not write its snapshot: ${e instanceof Error ? e.message : String(e)}`);
      });
      return version;
    },
    branch: async (docId, version, label) => {
      await branches.branch(docId, version, undefined, label);
    },
    merge: async (docId) => {
      await branches.merge(docId);
    },
    revert: async (docId, before, version, label, confirm) => {
      if (confirm) {
        const answer = await vscode.window.showWarningMessage(
          `Revert ${label}?`,
          { modal: true, detail: 'A new change undoes just this change; everything after it (yours and others\') stays.' },
          'Revert',
        );
        if (answer !== 'Revert') return;
      }
      if (!(await service.revert(docId, before, version, label))) void vscode.window.showInformationMessage('Nothing to revert: that change has no effect left on the notebook.');
    },
    branchHeads: (docId) => branches.heads(docId),
    openAtTime: async (docId, unixSeconds) => {
      let t = unixSeconds;
      if (t === undefined) {
        const input = await vscode.window.showInputBox({
          title: 'Open at Time',
          prompt: 'Local date and time (YYYY-MM-DD HH:MM); the notebook opens as it was then',
          value: formatTime(Math.floor(Date.now() / 1000)),
          validateInput: (v) => (parseLocalDateTime(v.trim().replace(' ', 'T')) === undefined ? 'Use YYYY-MM-DD HH:MM' : undefined),
        });
        if (input === undefined) return undefined;
        t = parseLocalDateTime(input.trim().replace(' ', 'T'));
        if (t === undefined) return undefined;
      }
      const version = service.versionAt(docId, t);
      if (version === '') {
        void vscode.window.showInformationMessage(`The notebook had no changes yet at ${formatTime(t)}.`);
        return undefined;
      }
      await service.openVersion(docId, version);
      return version;
    },
  };

  /** Runs a command body; shows a failure and rethrows it (so callers and tests see it). */
  const guarded =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        void vscode.window.showErrorMessage(`SQLRoom history: ${message}`);
        throw e;
      }
    };

  const blame = new BlameDecorations(registry);
  /** The version notebook a command is about: the argument (a uri) or the active editor. */
  const versionOf = (arg?: unknown): { docId: string; version: string } => {
    const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeNotebookEditor?.notebook.uri;
    if (!uri || uri.scheme !== VERSION_SCHEME) throw new Error('Open a version of a notebook first (from its history).');
    const ref = parseVersionUri(uri);
    return { docId: ref.docId, version: ref.version };
  };

  const disposables: vscode.Disposable[] = [
    blame,
    registerVersionBanner(service),
    vscode.commands.registerCommand(
      'sqlroom.toggleBlame',
      guarded(async (arg?: unknown) => {
        const nb = arg instanceof vscode.Uri ? vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === arg.toString()) : vscode.window.activeNotebookEditor?.notebook;
        if (!nb) throw new Error('Open a SQLRoom notebook first.');
        const on = blame.toggle(nb);
        // For tests and scripts: the blame shown, cell id -> [line, author, time].
        const lines = on ? blame.blameOf(nb) : undefined;
        return { on, cells: lines ? Object.fromEntries([...lines].map(([id, ls]) => [id, ls.map((l) => [l.line, l.author, l.timestamp])])) : {} };
      }),
    ),
    vscode.commands.registerCommand(
      'sqlroom.showActivity',
      guarded(async (arg?: unknown) => {
        const docId = activeDocId(arg);
        const data = await showActivity(context.extensionUri, service, docId, () => branches.analytics(docId));
        return { source: data.source, edits: data.edits.length, cells: data.cells.length };
      }),
    ),
    vscode.commands.registerCommand(
      'sqlroom.versionRestore',
      guarded(async (arg?: unknown) => {
        const { docId, version } = versionOf(arg);
        await commands.restore(docId, version, undefined, true);
      }),
    ),
    vscode.commands.registerCommand(
      'sqlroom.versionCompareWithCurrent',
      guarded(async (arg?: unknown) => {
        const { docId, version } = versionOf(arg);
        await commands.compare(docId, version, 'current');
      }),
    ),
    vscode.commands.registerCommand(
      'sqlroom.versionBranch',
      guarded(async (arg?: unknown) => {
        const { docId, version } = versionOf(arg);
        await commands.branch(docId, version);
      }),
    ),
    VersionFileSystem.register(registry),
    guardVersionNotebooks(),
    // A closed version's notebook model is not needed any more.
    vscode.workspace.onDidCloseNotebookDocument((nb) => {
      if (nb.uri.scheme === VERSION_SCHEME) registry.delete(versionDocId(parseVersionUri(nb.uri)));
    }),
    vscode.commands.registerCommand(
      'sqlroom.showHistory',
      guarded(async (arg?: unknown) => {
        return HistoryPanel.show(context.extensionUri, service, activeDocId(arg), commands).describe();
      }),
    ),
    vscode.commands.registerCommand(
      'sqlroom.openVersion',
      guarded(async (docIdArg?: string, versionArg?: string) => {
        const docId = activeDocId(docIdArg);
        const version = versionArg ?? (await pickVersion(docId, 'Version to open (read-only)'));
        if (version === undefined) return undefined;
        const editor = await service.openVersion(docId, version);
        return editor.notebook.uri.toString();
      }),
    ),
    vscode.commands.registerCommand(
      'sqlroom.openAtTime',
      guarded(async (docIdArg?: string, unixSeconds?: number) => {
        const docId = activeDocId(docIdArg);
        const version = await commands.openAtTime(docId, unixSeconds);
        if (version !== undefined) HistoryPanel.get(docId)?.reveal(version);
        return version;
      }),
    ),
    vscode.commands.registerCommand(
      'sqlroom.compareVersions',
      guarded(async (docIdArg?: string, leftArg?: string, rightArg?: string) => {
        const docId = activeDocId(docIdArg);
        const left = leftArg ?? (await pickVersion(docId, 'Older version (left side)'));
        if (left === undefined) return;
        const right = rightArg ?? (await pickVersion(docId, 'Compare with (right side)', true));
        if (right === undefined) return;
        await commands.compare(docId, left, right);
      }),
    ),
    vscode.commands.registerCommand(
      'sqlroom.restoreVersion',
      guarded(async (docIdArg?: string, versionArg?: string, opts?: { confirm?: boolean }) => {
        const docId = activeDocId(docIdArg);
        const version = versionArg ?? (await pickVersion(docId, 'Version to restore'));
        if (version === undefined) return false;
        const before = formatVersion(service.doc(docId).doc.frontiers());
        await commands.restore(docId, version, undefined, opts?.confirm ?? true);
        return formatVersion(service.doc(docId).doc.frontiers()) !== before;
      }),
    ),
    vscode.commands.registerCommand(
      'sqlroom.branchFromVersion',
      guarded(async (docIdArg?: string, versionArg?: string, name?: string) => {
        const docId = activeDocId(docIdArg);
        const version = versionArg ?? (await pickVersion(docId, 'Version to branch from'));
        if (version === undefined) return undefined;
        const editor = await branches.branch(docId, version, name);
        HistoryPanel.get(docId)?.refreshBranches();
        return editor?.notebook.uri.toString();
      }),
    ),
    vscode.commands.registerCommand(
      'sqlroom.mergeBranch',
      guarded(async (docIdArg?: string, from?: string, into?: string) => {
        const docId = activeDocId(docIdArg);
        const result = await branches.merge(docId, from, into);
        HistoryPanel.get(docId)?.refreshBranches();
        return result;
      }),
    ),
    vscode.commands.registerCommand(
      'sqlroom.revertChange',
      guarded(async (docIdArg?: string, rowId?: string, opts?: { confirm?: boolean }) => {
        const docId = activeDocId(docIdArg);
        const dag = HistoryDag.build(historyInputFromLoro(service.doc(docId).doc));
        const id = rowId ?? (await pickVersion(docId, 'Change to revert'));
        const row = id === undefined ? undefined : dag.row(id) ?? dag.page(0, dag.total).rows.find((r) => r.version === id);
        if (!row) return false;
        const before = row.parents.length > 1 ? dag.versionBefore(row.id, row.parents[0]) : dag.versionBefore(row.id);
        const was = formatVersion(service.doc(docId).doc.frontiers());
        await commands.revert(docId, before, row.version, row.message ?? `change of ${formatTime(row.end)} by ${row.author}`, opts?.confirm ?? true);
        return formatVersion(service.doc(docId).doc.frontiers()) !== was;
      }),
    ),
    vscode.commands.registerCommand(
      'sqlroom.createCheckpoint',
      guarded(async (docIdArg?: string, name?: string) => {
        const docId = activeDocId(docIdArg);
        return commands.checkpoint(docId, name);
      }),
    ),
  ];
  return vscode.Disposable.from(...disposables);
}
