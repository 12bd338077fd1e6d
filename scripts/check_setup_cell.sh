#!/usr/bin/env bash
# The notebooks' Colab/Binder setup cell, run as on a fresh Colab runtime:
# in a new virtual environment without convlib, the cell's own code (taken
# from the notebooks, not retyped) installs convlib and its book extra from a
# wheel of this working tree, and `import convlib` then works in the same
# process. No notebook is executed.
#
#   bash scripts/check_setup_cell.sh [PYTHON]     (make test-setup-cell)
#
# Steps: (1) every notebook's first cell is the same setup cell
# (scripts/notebook_setup_cell.py --check compares it with _config.yml in the
# unit tests); (2) while _config.yml's URL is the placeholder, the cell stops
# with an error that names what to set, and installs nothing; (3) with
# CONVLIB_PIP_SOURCE pointing at the wheel it installs convlib[book], and
# convlib, then every module any chapter imports (found by parsing the code
# cells: matplotlib, IPython, myst_nb's glue, ...), import in the same
# process, convlib from the fresh environment; (4) run
# again, now that convlib is importable, it does nothing (its source points
# at a file that does not exist, so any install attempt would fail).
# The only downloads are from the package index (pip's cache makes them cheap).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${1:-${PYTHON:-python3}}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/convlib-setup-cell.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
# Nothing from the caller's environment may put another convlib (e.g. the
# repository itself) on the path of the fresh environment.
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV CONVLIB_PIP_SOURCE

fail() { echo "setup cell check FAILED: $*" >&2; exit 1; }

echo "--- the setup cell of every notebook in book/"
"$PYTHON" - "$REPO/book" "$TMP/cell.py" <<'EOF' || fail "the notebooks do not share one setup cell"
import json
import sys
from pathlib import Path

book, out = Path(sys.argv[1]), Path(sys.argv[2])
sources = {}
for path in sorted(book.glob("*.ipynb")):
    first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
    assert first.get("id") == "convlib-setup", f"{path.name}: first cell is not the setup cell"
    sources.setdefault("".join(first["source"]), []).append(path.name)
assert len(sources) == 1, f"different setup cells: {list(sources.values())}"
((source, names),) = sources.items()
out.write_text(source + "\n", encoding="utf-8")
print(f"    {len(names)} notebooks, one setup cell of {len(source.splitlines())} lines")
EOF

echo "--- fresh environment in $TMP/venv ($("$PYTHON" --version 2>&1))"
"$PYTHON" -m venv "$TMP/venv"
VPY="$TMP/venv/bin/python"
mkdir "$TMP/run"
cd "$TMP/run"  # an empty folder: `import convlib` can only find an installed copy
"$VPY" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("convlib") is not None)' \
  || fail "convlib is importable in the fresh environment before the cell ran"

if grep -q "url_is_placeholder" "$TMP/cell.py"; then
  echo "--- placeholder URL: the cell stops and says what to set"
  if "$VPY" "$TMP/cell.py" >"$TMP/placeholder.log" 2>&1; then
    fail "the cell ran without error although the repository URL is the placeholder"
  fi
  grep -q "RuntimeError: convlib is not installed here" "$TMP/placeholder.log" \
    && grep -q "_config.yml" "$TMP/placeholder.log" \
    || { cat "$TMP/placeholder.log" >&2; fail "unexpected error from the placeholder cell"; }
  "$VPY" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("convlib") is not None)' \
    || fail "the placeholder cell installed something"
  tail -n 1 "$TMP/placeholder.log" | cut -c1-100 | sed 's/$/.../; s/^/    /'
fi

echo "--- a wheel of the working tree"
mkdir "$TMP/src"
cp -R "$REPO/pyproject.toml" "$REPO/README.md" "$REPO/LICENSE" "$REPO/convlib" "$TMP/src/"
find "$TMP/src" -name __pycache__ -type d -prune -exec rm -rf {} +
"$VPY" -m pip wheel --quiet --disable-pip-version-check --no-input --no-deps -w "$TMP/wheel" "$TMP/src"
WHEEL="$(ls "$TMP"/wheel/convlib-*.whl)"
echo "    $(basename "$WHEEL")"

echo "--- the setup cell with CONVLIB_PIP_SOURCE=file://$WHEEL, then the chapters' imports"
CONVLIB_PIP_SOURCE="file://$WHEEL" PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 MPLBACKEND=Agg \
  "$VPY" - "$TMP/cell.py" "$REPO/book" <<'EOF' || fail "after the setup cell, a chapter's import fails"
import ast
import importlib
import json
import sys
from pathlib import Path

exec(compile(open(sys.argv[1], encoding="utf-8").read(), "setup cell", "exec"), {})
import convlib  # in the same process, as in the notebook's next cell

here = convlib.__file__
assert here.startswith(sys.prefix), f"convlib imported from {here}, not from the fresh environment"

# Every module a chapter imports (absolute imports in the code cells).
needed: dict[str, set[str]] = {}
for path in sorted(Path(sys.argv[2]).glob("*.ipynb")):
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        lines = "".join(cell["source"]).splitlines()
        code = "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                needed.setdefault(name, set()).add(path.name)
failed = []
for name in sorted(needed):
    try:
        importlib.import_module(name)
    except ImportError as error:
        failed.append(f"{name} ({', '.join(sorted(needed[name]))}): {error}")
assert not failed, "not importable after the setup cell:\n  " + "\n  ".join(failed)
versions = {m: sys.modules[m].__version__ for m in ("convlib", "matplotlib", "IPython")
            if m in sys.modules}
print(f"    {len(needed)} modules the chapters import, all importable; "
      f"{', '.join(f'{m} {v}' for m, v in versions.items())} in {sys.prefix}")
EOF


echo "--- the setup cell again: convlib is importable, so it installs nothing"
CONVLIB_PIP_SOURCE="file://$TMP/no-such-convlib.whl" "$VPY" "$TMP/cell.py" \
  || fail "the setup cell tried to install although convlib is importable"
echo "setup cell check passed: a fresh environment gets convlib from the cell, and the cell is a no-op once installed"
