#!/usr/bin/env bash
# Makes sure a Chromium for the dashboard's browser tests exists, installing
# Debian's package when it is missing and this is root on Debian (no browser
# download: playwright-core drives the system Chromium). Prints the browser's
# path on its last line, or one line that says how to get one and exits 1.
# Usage: tools/scripts/ensure-chromium.sh [path]   (default $CHROMIUM_PATH or /usr/bin/chromium)
set -uo pipefail
browser=${1:-${CHROMIUM_PATH:-/usr/bin/chromium}}
if [ -x "$browser" ]; then echo "$browser"; exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "no Chromium at $browser: install one (Debian: sudo apt-get install chromium) or point CHROMIUM_PATH at a Chromium or Chrome binary" >&2
  exit 1
fi
echo "no Chromium at $browser: installing Debian's chromium (apt-get, about a minute)" >&2
if ! bash "$(dirname "$0")/apt-install.sh" chromium >&2; then
  echo "installing Debian's chromium failed: run apt-get install chromium as root, or set CHROMIUM_PATH" >&2
  exit 1
fi
[ -x "$browser" ] || { echo "Debian's chromium is installed but $browser is missing: set CHROMIUM_PATH" >&2; exit 1; }
echo "$browser"
