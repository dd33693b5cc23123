#!/usr/bin/env bash
# Installs the pinned buf (https://buf.build), which checks that the protos stay compatible on
# the wire with the last release (deploy/scripts/check-protos.sh), and prints the binary's path.
# The official release binary comes from npm (@bufbuild/buf and its per-platform package),
# installed once per version into $MYACCOUNT_TOOLS_DIR (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/myaccount-tools). The one place the version is pinned. Needs npm.
set -euo pipefail

BUF_VERSION="1.75.0"

TOOLS="${MYACCOUNT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/myaccount-tools}"
dir="$TOOLS/buf-$BUF_VERSION"
binary="$dir/node_modules/.bin/buf"
# A directory counts only with its .ok marker: an interrupted install is redone.
if [ ! -f "$dir/.ok" ]; then
  echo "installing buf $BUF_VERSION from npm (@bufbuild/buf)..." >&2
  rm -rf "$dir" && mkdir -p "$dir"
  log="$dir/npm.log"
  if ! npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts \
    "@bufbuild/buf@$BUF_VERSION" >"$log" 2>&1; then
    cat "$log" >&2
    echo "ensure-buf: npm install @bufbuild/buf@$BUF_VERSION failed" >&2
    exit 1
  fi
  got=$("$binary" --version 2>/dev/null || true)
  if [ "$got" != "$BUF_VERSION" ]; then
    echo "ensure-buf: $binary is not buf $BUF_VERSION: '$got'" >&2
    exit 1
  fi
  touch "$dir/.ok"
fi
echo "$binary"
