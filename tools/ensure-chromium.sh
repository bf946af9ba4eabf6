#!/bin/sh
# Installs Debian's Chromium for the browser tests when it is missing (as root, via apt-get).
# Without it the browser tests skip, and under CI=true they fail, saying why.
set -e
for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  [ -x "$candidate" ] && exit 0
done
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "chromium is not installed and cannot be installed here (needs root and apt-get);" \
       "browser tests will skip (and fail under CI=true)." >&2
fi
