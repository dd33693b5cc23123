#!/usr/bin/env bash
# Makes sure the real-browser tests of the web UI can run: Debian's Chromium at /usr/bin/chromium,
# Node.js with npm, and web/tests/node_modules installed from package-lock.json (playwright-core,
# which drives the system Chromium and downloads no browser, and axe-core). Installs with apt-get and
# `npm ci` only what is missing or stale; quiet when everything is there. Needs root (or sudo)
# only when it has something to install with apt.
set -euo pipefail
# shellcheck source=deploy/scripts/apt.sh
source "$(dirname "$0")/apt.sh"
cd "$(dirname "$0")/../.."

# --- Node.js and npm
if ! command -v node >/dev/null 2>&1; then
  echo "installing nodejs and npm..."
  apt_install nodejs npm
elif ! command -v npm >/dev/null 2>&1; then
  echo "installing npm..."
  apt_install npm
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "the browser tests need Node.js 20 or newer (node --test --test-concurrency); found $(node --version 2>/dev/null || echo none)." >&2
  echo "install a newer nodejs package (Debian 13, or NodeSource's repository on Debian 12) and run this again" >&2
  exit 1
fi

# --- Chromium (Debian's package; playwright-core launches it by path)
if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium..."
  apt_install chromium
fi

# --- The test project's packages, exactly as locked
tests=web/tests
stamp="$tests/node_modules/.package-lock.json"
if [ ! -d "$tests/node_modules" ] || [ ! -f "$stamp" ] \
  || [ "$tests/package-lock.json" -nt "$stamp" ] || [ "$tests/package.json" -nt "$stamp" ]; then
  echo "installing the browser tests' npm packages (npm ci)..."
  (cd "$tests" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
