#!/usr/bin/env bash
# Make sure a headless-capable Chromium or Chrome is installed for
# scripts/check_site.py, and print its path.
#
#   bash scripts/install_chromium.sh          # find one, or apt-get install chromium
#   CHROMIUM=/path/to/chrome bash scripts/install_chromium.sh
#   bash scripts/install_chromium.sh --find   # only look; exit 1 if none
#
# A browser already there (the one named by $CHROMIUM, or chromium,
# chromium-browser, google-chrome-stable, google-chrome on PATH) is used if it
# runs. Otherwise Debian's `chromium` package is installed with apt-get (as
# root, or through passwordless sudo). No browser is downloaded from anywhere
# else. Exit status 1 if no working browser can be had.
set -euo pipefail

works() {  # works CMD: CMD is on PATH and prints its version
  local path
  path="$(command -v "$1" 2>/dev/null)" || return 1
  "$path" --version >/dev/null 2>&1 || return 1
  echo "$path"
}

find_browser() {
  local name
  for name in ${CHROMIUM:+"$CHROMIUM"} chromium chromium-browser google-chrome-stable google-chrome; do
    if works "$name"; then return 0; fi
  done
  return 1
}

if find_browser; then exit 0; fi
if [ "${1:-}" = "--find" ]; then exit 1; fi

# shellcheck source=scripts/apt_install.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"
apt_install install_chromium chromium || exit 1

if find_browser; then exit 0; fi
echo "install_chromium: chromium was installed but does not run (chromium --version failed)" >&2
exit 1
