#!/bin/sh
# Installs axe-core (the accessibility rules the browser tests run in each page) from the npm
# registry, at the version pinned in package-lock.json, into node_modules/. Nothing is fetched
# when the test run starts: this is the install step (`make browser`, called by `make test`).
# Re-runs `npm ci` only when package-lock.json differs from the one last installed.
set -e
cd "$(dirname "$0")/.."
stamp=node_modules/.dpghub-lock
if [ -f node_modules/axe-core/axe.min.js ] && cmp -s package-lock.json "$stamp"; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's npm for the browser tests' axe-core..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  else
    echo "npm is not installed and cannot be installed here (needs root and apt-get);" \
         "the accessibility tests will skip (and fail under CI=true)." >&2
    exit 0
  fi
fi
echo "Installing axe-core for the browser tests (npm ci)..."
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
