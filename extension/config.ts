// Typed access to the `sqlroom.*` settings (contributes.configuration in package.json).
import * as vscode from 'vscode';

export interface SqlroomSettings {
  /** ':memory:' or a DuckDB file; relative paths resolve against the notebook's folder. */
  database: string;
  maxResultRows: number;
  extensionDirectory: string | undefined;
  /** sqlroom.userName as set ('' when not: extension/userIdentity.ts finds the name then). */
  userName: string;
  /** Save each cell's last output with the notebook (and show it on reopen). */
  keepResults: boolean;
  /** Largest kept output per cell, in bytes of JSON. */
  keptResultMaxBytes: number;
}

export function readSettings(scope?: vscode.ConfigurationScope): SqlroomSettings {
  const c = vscode.workspace.getConfiguration('sqlroom', scope);
  const extensionDirectory = c.get<string>('extensionDirectory', '').trim();
  return {
    database: c.get<string>('database', ':memory:').trim() || ':memory:',
    maxResultRows: Math.max(1, Math.floor(c.get<number>('maxResultRows', 10_000))),
    extensionDirectory: extensionDirectory === '' ? undefined : extensionDirectory,
    userName: c.get<string>('userName', '').trim(),
    keepResults: c.get<boolean>('keepResults', true),
    keptResultMaxBytes: Math.max(0, Math.floor(c.get<number>('keptResultMaxBytes', 262_144))),
  };
}
