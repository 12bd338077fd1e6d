# Sourced by scripts/install_chromium.sh and scripts/install_tex.sh.
#
#   apt_install WHO PACKAGE...
#
# Installs Debian (or Ubuntu) packages with apt-get, as root or through
# passwordless sudo, without recommended packages; apt-get's output goes to
# stderr. Returns 1 with a message that starts with WHO and names the
# packages when there is no apt-get or no way to become root.

apt_install() {
  local who="$1"
  shift
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$who: no apt-get here; install these packages (or their equivalents) yourself: $*" >&2
    return 1
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      echo "$who: run as root or with passwordless sudo: apt-get install $*" >&2
      return 1
    fi
  fi
  echo "$who: installing $* with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >&2
}
