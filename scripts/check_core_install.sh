#!/usr/bin/env bash
# The core install: `pip install convlib` (no extras) in a fresh virtual
# environment gets NumPy, tqdm, threadpoolctl and pooch (for downloads) only
# -- no matplotlib, no IPython -- and trains a small model from the command line.
#
#   bash scripts/check_core_install.sh [PYTHON]     (make test-core)
#
# PYTHON (default: $PYTHON, else python3) creates the environment. The
# package is installed from a copy of this working tree (pyproject.toml,
# README.md, LICENSE, convlib/), not in editable mode, so the check sees what
# a wheel would hold and leaves no build/ or *.egg-info behind. The only
# download is from the package index (pip's cache makes it cheap); the
# training runs on generated images, so no data set is needed.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${1:-${PYTHON:-python3}}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/convlib-core.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
# Nothing from the caller's environment may put another convlib (e.g. the
# repository itself) on the path of the fresh environment.
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV

fail() { echo "core install check FAILED: $*" >&2; exit 1; }

echo "--- fresh environment in $TMP/venv ($("$PYTHON" --version 2>&1))"
"$PYTHON" -m venv "$TMP/venv"
VPY="$TMP/venv/bin/python"

mkdir "$TMP/src"
cp -R "$REPO/pyproject.toml" "$REPO/README.md" "$REPO/LICENSE" "$REPO/convlib" "$TMP/src/"
find "$TMP/src" -name __pycache__ -type d -prune -exec rm -rf {} +

echo "--- pip install <copy of the repository>  (no extras)"
"$VPY" -m pip install --quiet --disable-pip-version-check --no-input "$TMP/src"

# Run from an empty folder, so that `import convlib` can only find the installed copy.
mkdir "$TMP/run" && cd "$TMP/run"

echo "--- installed distributions"
"$VPY" -m pip list --format=freeze --disable-pip-version-check | sed 's/^/    /'

"$VPY" - <<'EOF' || fail "the core environment holds a book-only package or the wrong convlib"
import importlib.util
import os
import sys

import convlib

here = os.path.dirname(convlib.__file__)
assert here.startswith(sys.prefix), f"convlib imported from {here}, not from the fresh environment"
present = [m for m in ("matplotlib", "IPython") if importlib.util.find_spec(m) is not None]
assert not present, f"installed without extras, yet importable: {present}"
print(f"    convlib {convlib.__version__} from {here}; matplotlib and IPython are not installed")
EOF

echo "--- python -m convlib.train --model lenet --synthetic --limit 512 --epochs 1 --no-progress"
OUT="$("$VPY" -m convlib.train --model lenet --synthetic --limit 512 --epochs 1 --no-progress)" \
  || fail "python -m convlib.train exited with status $?"
echo "$OUT" | sed 's/^/    /'
LAST="$(echo "$OUT" | tail -n 1)"
[[ "$LAST" =~ ^test\ accuracy\ ([0-9]+\.[0-9][0-9])%\ \|\ training\ time\ [0-9]+\.[0-9]\ s$ ]] \
  || fail "unexpected last line: $LAST"
ACC="${BASH_REMATCH[1]}"
# Generated bars are easy: far above the 10% of guessing after one epoch.
awk -v a="$ACC" 'BEGIN { exit !(a > 30) }' || fail "test accuracy $ACC% after one epoch (expected > 30%)"
echo "core install check passed: installed without extras, trained to $ACC%"
