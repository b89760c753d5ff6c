// "SQLRoom: Merge Conflicted Notebook": a `.sqlroom` file that git merged as
// text (conflict markers in it) holds two complete notebooks, one per side.
// Both are parsed and merged through their Loro histories, the file is
// written once, merged, and opened again.
import * as vscode from 'vscode';
import { serializeSqlroomFile } from '../server/shared/sqlroomFile';
import { parseConflictedFile } from '../server/shared/sqlroomMerge';

export const MERGE_CONFLICTED_COMMAND = 'sqlroom.mergeConflictedFile';

export function registerConflictedFile(): vscode.Disposable {
  return vscode.commands.registerCommand(MERGE_CONFLICTED_COMMAND, async (arg?: vscode.Uri) => {
    const uri = arg instanceof vscode.Uri ? arg : activeTabUri() ?? (await pickFile());
    if (!uri) return undefined;
    try {
      const merged = parseConflictedFile(await vscode.workspace.fs.readFile(uri));
      if (merged.sides === 1) {
        void vscode.window.showInformationMessage(`${vscode.workspace.asRelativePath(uri)} has no conflict markers: nothing to merge.`);
        return false;
      }
      await vscode.workspace.fs.writeFile(uri, serializeSqlroomFile(merged.notebook, merged.docId, merged.server !== undefined ? { server: merged.server } : undefined));
      // The editor that showed the error is replaced by the merged notebook.
      for (const group of vscode.window.tabGroups.all) {
        for (const tab of group.tabs) if (tabUri(tab)?.toString() === uri.toString()) await vscode.window.tabGroups.close(tab);
      }
      await vscode.window.showNotebookDocument(await vscode.workspace.openNotebookDocument(uri));
      void vscode.window.showInformationMessage(`Merged both sides of ${vscode.workspace.asRelativePath(uri)} (${merged.notebook.cellIds().length} cells). Stage it with git add when you are happy with it.`);
      return true;
    } catch (e) {
      void vscode.window.showErrorMessage(`SQLRoom: cannot merge ${vscode.workspace.asRelativePath(uri)}: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  });
}

function tabUri(tab: vscode.Tab): vscode.Uri | undefined {
  const input = tab.input;
  if (input instanceof vscode.TabInputNotebook || input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom) return input.uri;
  return undefined;
}

function activeTabUri(): vscode.Uri | undefined {
  const uri = tabUri(vscode.window.tabGroups.activeTabGroup.activeTab ?? ({} as vscode.Tab));
  return uri && uri.path.endsWith('.sqlroom') ? uri : undefined;
}

async function pickFile(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({ title: 'Notebook with conflict markers', filters: { 'SQLRoom notebook': ['sqlroom'] }, canSelectMany: false });
  return picked?.[0];
}
