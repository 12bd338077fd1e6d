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

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_chromium: no Chromium/Chrome found and no apt-get to install one;" \
       "install Chromium or Chrome and set CHROMIUM=/path/to/it" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "install_chromium: no Chromium/Chrome found; run as root or with passwordless sudo:" \
       "apt-get install chromium" >&2
  exit 1
fi

echo "install_chromium: installing Debian's chromium with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq >&2
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >&2

if find_browser; then exit 0; fi
echo "install_chromium: chromium was installed but does not run (chromium --version failed)" >&2
exit 1
