#!/usr/bin/env bash
# Installs DuckDB extensions (ducklake, postgres_scanner, sqlite_scanner, httpfs) for
# offline use. `INSTALL ducklake` downloads from DuckDB's extension server,
# which these machines cannot reach; PyPI carries the same official binaries
# as wheels (one per extension, DuckDB version and platform). We download the
# wheel, take `<name>.duckdb_extension` out of it and place it where DuckDB's
# `extension_directory` lookup expects it:
#   $SQLROOM_EXTENSION_DIR/v<duckdb version>/<platform>/<name>.duckdb_extension
# Idempotent: extensions already present are skipped.
#
# Env:
#   SQLROOM_EXTENSION_DIR   target (default <repo>/.sqlroom-tools/duckdb-extensions)
#   SQLROOM_DUCKDB_VERSION  override the DuckDB version (default: the one that
#                           node_modules/@duckdb/node-api embeds)
#   SQLROOM_DUCKDB_EXTENSIONS  space-separated list (default below)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ext_dir="${SQLROOM_EXTENSION_DIR:-$here/.sqlroom-tools/duckdb-extensions}"
# postgres_scanner/sqlite_scanner are the canonical names DuckDB looks for when
# you `LOAD postgres` / `LOAD sqlite` (the shorter names are aliases). httpfs
# brings the OpenSSL crypto that DuckDB needs to WRITE encrypted files
# (sqlroom-server --encrypt / --encryption-key-file).
extensions="${SQLROOM_DUCKDB_EXTENSIONS:-ducklake postgres_scanner sqlite_scanner httpfs}"

die() { echo "install-duckdb-extensions: $*" >&2; exit 1; }

# The DuckDB version must match exactly: an extension built for another
# version refuses to load.
ver="${SQLROOM_DUCKDB_VERSION:-}"
if [ -z "$ver" ]; then
  ver=$(cd "$here" && node -e "process.stdout.write(require('@duckdb/node-api').version())" 2>/dev/null) ||
    die "cannot read the DuckDB version from @duckdb/node-api (run npm ci first, or set SQLROOM_DUCKDB_VERSION)"
fi
ver="${ver#v}"
[[ "$ver" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "unexpected DuckDB version '$ver'"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux_amd64 ;;
  Linux-aarch64) platform=linux_arm64 ;;
  Darwin-arm64) platform=osx_arm64 ;;
  Darwin-x86_64) platform=osx_amd64 ;;
  *) die "unsupported platform $(uname -s)-$(uname -m)" ;;
esac
target="$ext_dir/v$ver/$platform"
mkdir -p "$target"

if command -v python3 >/dev/null; then py=python3; elif command -v python >/dev/null; then py=python; else
  die "python3 with pip is needed to download the extension wheels"; fi
"$py" -m pip --version >/dev/null 2>&1 || die "$py has no pip (apt-get install python3-pip)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for name in $extensions; do
  file="$target/$name.duckdb_extension"
  if [ -s "$file" ]; then
    echo "$name: already installed ($file)"
    continue
  fi
  pkg="duckdb-extension-${name//_/-}"
  echo "$name: downloading $pkg==$ver"
  if ! "$py" -m pip download --no-deps --only-binary=:all: --disable-pip-version-check -q \
      -d "$tmp/$name" "$pkg==$ver" >"$tmp/$name.log" 2>&1; then
    cat "$tmp/$name.log" >&2
    die "pip could not download $pkg==$ver (no wheel for DuckDB $ver on this platform?)"
  fi
  whl=$(ls "$tmp/$name"/*.whl 2>/dev/null | head -1)
  [ -n "$whl" ] || die "no wheel downloaded for $pkg"
  # Extract with Python's zipfile (unzip may be missing); write to a temp name
  # and rename so a half-written file is never taken as installed.
  "$py" - "$whl" "$name.duckdb_extension" "$file.part" <<'PY' || die "wheel $whl holds no $name.duckdb_extension"
import sys, zipfile, shutil
whl, want, out = sys.argv[1:4]
with zipfile.ZipFile(whl) as z:
    hits = [n for n in z.namelist() if n.endswith('/' + want)]
    if not hits:
        sys.exit(1)
    with z.open(hits[0]) as src, open(out, 'wb') as dst:
        shutil.copyfileobj(src, dst)
PY
  mv "$file.part" "$file"
  echo "$name: installed $file"
done
echo "DuckDB $ver extensions in $target"
# Load check (skip with SQLROOM_SKIP_VERIFY=1, e.g. when node_modules is absent).
if [ -z "${SQLROOM_SKIP_VERIFY:-}" ]; then
  (cd "$here" && node scripts/verify-duckdb-extensions.mjs "$ext_dir") || die "installed, but the extensions do not load (see above)"
fi
echo "Use: SET extension_directory='$ext_dir' (node-api: DuckDBInstance.create(path, { extension_directory })); LOAD ducklake;"
