"""Write the Colab/Binder setup cell into every chapter of the book.

Every notebook in ``book/`` starts with one code cell that installs convlib
(with its ``book`` extra) when ``import convlib`` would fail -- on a fresh
Colab runtime -- and does nothing where convlib is installed (local runs,
Binder, CI, the book build). The cell is generated from ``_config.yml``
(``repository.url`` and ``repository.branch``), the one place where the
repository's address is configured, and is tagged ``remove-cell`` so the
rendered book does not show it.

While ``repository.url_is_placeholder`` is true in ``_config.yml``, the cell
installs nothing: it stops with an error that says what to set. The
environment variable ``CONVLIB_PIP_SOURCE`` (any pip requirement source: a
``git+https://...`` URL, a wheel file) overrides the configured address;
``scripts/check_setup_cell.sh`` uses it to test the cell against a wheel of
the working tree in a fresh virtual environment.

Usage::

    python scripts/notebook_setup_cell.py           # write or update the cell
    python scripts/notebook_setup_cell.py --check   # exit 1 if a cell is missing or stale
    python scripts/notebook_setup_cell.py --print   # print the cell's code

The script is idempotent: a notebook whose cell is already up to date is not
rewritten. Notebooks are written as they are stored (JSON, indent 1, UTF-8,
final newline), without outputs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
CELL_ID = "convlib-setup"
TAGS = ["remove-cell"]
ENV_VAR = "CONVLIB_PIP_SOURCE"


def read_repository(config_path: Path = CONFIG) -> tuple[str, str, bool]:
    """Return ``(url, branch, is_placeholder)`` from ``_config.yml``'s ``repository``."""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    repository = config.get("repository") or {}
    url = repository.get("url")
    branch = repository.get("branch", "main")
    placeholder = repository.get("url_is_placeholder", False)
    if not isinstance(url, str) or not url.startswith("https://"):
        raise ValueError(f"{config_path}: repository.url must be an https:// URL, got {url!r}")
    if not isinstance(branch, str) or not branch or any(c in branch for c in " @#"):
        raise ValueError(f"{config_path}: repository.branch must be a git ref, got {branch!r}")
    if not isinstance(placeholder, bool):
        raise TypeError(
            f"{config_path}: repository.url_is_placeholder must be true or false, "
            f"got {placeholder!r}"
        )
    return url.rstrip("/"), branch, placeholder


def cell_source(url: str, branch: str, placeholder: bool) -> str:
    """The setup cell's code for a repository ``url`` and ``branch``."""
    if placeholder:
        default = "None"
        missing = (
            "    if source is None:\n"
            "        raise RuntimeError(\n"
            '            "convlib is not installed here, and the book\'s repository URL is still "\n'
            f'            "the placeholder {url}. Set repository.url and "\n'
            '            "repository.branch in _config.yml, set repository.url_is_placeholder: "\n'
            '            "false, and run: python scripts/notebook_setup_cell.py. Or set the "\n'
            f'            "environment variable {ENV_VAR} to where pip can get convlib "\n'
            '            "(git+https://... or a wheel) and run this cell again."\n'
            "        )\n"
        )
    else:
        default = json.dumps(f"git+{url}@{branch}")
        missing = ""
    return (
        "# Setup for Colab and Binder: installs convlib and its book extra when they are\n"
        "# missing; does nothing where convlib is installed (local runs, CI, the build).\n"
        "# Written from _config.yml by scripts/notebook_setup_cell.py: edit those, not this.\n"
        "import importlib.util\n"
        "\n"
        'if importlib.util.find_spec("convlib") is None:\n'
        "    import os\n"
        "    import subprocess\n"
        "    import sys\n"
        "\n"
        f'    source = os.environ.get("{ENV_VAR}") or {default}\n'
        f"{missing}"
        "    subprocess.run(\n"
        '        [sys.executable, "-m", "pip", "install", "--quiet", f"convlib[book] @ {source}"],\n'
        "        check=True,\n"
        "    )\n"
        "    importlib.invalidate_caches()"
    )


def setup_cell(source: str) -> dict[str, Any]:
    """The notebook cell (nbformat 4.5) holding ``source``, without outputs."""
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": CELL_ID,
        "metadata": {"tags": list(TAGS)},
        "outputs": [],
        "source": source.splitlines(keepends=True),
    }


def dumps(notebook: dict[str, Any]) -> str:
    """A notebook as the repository stores it: JSON, indent 1, UTF-8, final newline."""
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def with_setup_cell(notebook: dict[str, Any], cell: dict[str, Any]) -> dict[str, Any]:
    """``notebook`` with ``cell`` as its first cell, replacing any older setup cell."""
    cells = [c for c in notebook["cells"] if c.get("id") != CELL_ID]
    return {**notebook, "cells": [cell, *cells]}


def notebook_status(path: Path, cell: dict[str, Any]) -> tuple[str, str]:
    """``(status, updated text)`` of one notebook: "ok", "missing" or "stale"."""
    text = path.read_text(encoding="utf-8")
    notebook = json.loads(text)
    if notebook.get("nbformat", 0) < 4 or (
        notebook.get("nbformat") == 4 and notebook.get("nbformat_minor", 0) < 5
    ):
        raise ValueError(
            f"{path}: needs nbformat >= 4.5 (cell ids), found "
            f"{notebook.get('nbformat')}.{notebook.get('nbformat_minor')}"
        )
    updated = dumps(with_setup_cell(notebook, cell))
    if updated == text:
        return "ok", text
    present = any(c.get("id") == CELL_ID for c in notebook["cells"])
    return ("stale" if present else "missing"), updated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="notebooks (default: every book/*.ipynb)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    mode.add_argument("--print", action="store_true", help="print the cell's code and exit")
    parser.add_argument("--config", type=Path, default=CONFIG, help="default: _config.yml")
    args = parser.parse_args(argv)

    source = cell_source(*read_repository(args.config))
    if args.print:
        print(source)
        return 0
    cell = setup_cell(source)
    paths = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    bad = 0
    for path in paths:
        shown = path.resolve().relative_to(ROOT) if path.resolve().is_relative_to(ROOT) else path
        status, updated = notebook_status(path, cell)
        if status == "ok":
            continue
        if args.check:
            bad += 1
            print(f"{shown}: setup cell {status} (run python scripts/notebook_setup_cell.py)")
        else:
            path.write_text(updated, encoding="utf-8")
            print(f"{shown}: setup cell {'added' if status == 'missing' else 'updated'}")
    if args.check:
        if bad:
            return 1
        print(f"{len(paths)} notebooks: setup cell up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
