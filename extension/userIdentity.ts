// Your name as collaborators see it (extension/core/userName.ts picks it):
// sqlroom.userName, else git's user.name, else the account signed in to VS
// Code (GitHub or Microsoft, asked silently: no sign-in prompt), else the
// name you gave when asked once (kept in globalState). Until one is known the
// OS login name stands in; the question is a notification, so it never takes
// the focus from what you are typing.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { cleanUserName, gitUserName, pickUserName, type NameSources } from './core/userName';

const ASKED_KEY = 'sqlroom.askedUserName';
const OFFERED_KEY = 'sqlroom.offeredUserName';
export const SET_USER_NAME_COMMAND = 'sqlroom.setUserName';

export class UserIdentity implements vscode.Disposable {
  private sources: NameSources = {};
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<string>();
  readonly onDidChange = this.changed.event;
  /** Resolves once git and the accounts have been asked. */
  readonly ready: Promise<void>;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.sources = { setting: this.setting(), asked: context.globalState.get<string>(ASKED_KEY) };
    this.subscriptions.push(
      this.changed,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('sqlroom.userName')) this.update({ setting: this.setting() });
      }),
      vscode.commands.registerCommand(SET_USER_NAME_COMMAND, () => this.ask()),
    );
    this.ready = this.lookUp();
  }

  /** The name to record now. */
  get name(): string {
    return pickUserName(this.sources)?.name ?? fallbackName();
  }

  /** Where the name comes from (tests, the tooltip). */
  get source(): string {
    return pickUserName(this.sources)?.from ?? 'os';
  }

  /** Asks for a name (the command; also offered once when nothing else is known). */
  async ask(): Promise<string | undefined> {
    const answer = await vscode.window.showInputBox({
      title: 'SQLRoom: your name',
      prompt: 'The name collaborators see on your changes and in presence (kept for this VS Code; sqlroom.userName overrides it).',
      value: this.sources.asked ?? this.name,
      ignoreFocusOut: true,
      validateInput: (v) => (cleanUserName(v) ? undefined : 'Give 1-128 printable characters (not "anonymous").'),
    });
    const name = cleanUserName(answer);
    if (!name) return undefined;
    await this.context.globalState.update(ASKED_KEY, name);
    this.update({ asked: name });
    return name;
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }

  private setting(): string | undefined {
    return vscode.workspace.getConfiguration('sqlroom').get<string>('userName', '');
  }

  private update(patch: NameSources): void {
    const before = this.name;
    this.sources = { ...this.sources, ...patch };
    if (this.name !== before) this.changed.fire(this.name);
  }

  private async lookUp(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
    this.update({ git: await gitUserName(folder) });
    if (!this.sources.git) this.update({ account: await accountName() });
    if (!pickUserName(this.sources) && !this.context.globalState.get<boolean>(OFFERED_KEY)) {
      await this.context.globalState.update(OFFERED_KEY, true); // asked once, not on every start
      void vscode.window
        .showInformationMessage(`SQLRoom: collaborators will see you as "${this.name}". Neither sqlroom.userName nor git's user.name is set.`, 'Set Name…')
        .then((choice) => (choice ? this.ask() : undefined));
    }
  }
}

/** The signed-in account's label, asked silently (never a sign-in prompt). */
async function accountName(): Promise<string | undefined> {
  for (const provider of ['github', 'microsoft']) {
    try {
      const session = await Promise.race([
        vscode.authentication.getSession(provider, [], { silent: true }),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000)),
      ]);
      const name = cleanUserName(session?.account.label);
      if (name) return name;
    } catch {
      /* provider not available here (code-server without it) */
    }
  }
  return undefined;
}

/** The OS login name, or "guest" when even that is empty (containers). Never "anonymous". */
function fallbackName(): string {
  let user = '';
  try {
    user = os.userInfo().username;
  } catch {
    /* no passwd entry */
  }
  return cleanUserName(process.env.USER) ?? cleanUserName(process.env.USERNAME) ?? cleanUserName(user) ?? 'guest';
}
