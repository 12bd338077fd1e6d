"""The Colab/Binder setup cell: every notebook starts with the one generated from _config.yml.

scripts/notebook_setup_cell.py writes the cell; these tests check that every
chapter holds the current cell, that the cell follows ``_config.yml``, that it
does nothing where convlib is importable, and what it does where convlib is
missing (install from the configured URL, or stop with a clear message while
the URL is the placeholder). The install itself, in a fresh virtual
environment, is scripts/check_setup_cell.sh (make test-setup-cell).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "notebook_setup_cell.py"
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebook_setup_cell", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_config(path: Path, url: str, branch: str = "main", placeholder: bool = False) -> Path:
    config = {"title": "t", "repository": {"url": url, "branch": branch}}
    config["repository"]["url_is_placeholder"] = placeholder
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def run_cell(source: str, monkeypatch: pytest.MonkeyPatch, *, importable: bool) -> list[Any]:
    """Execute the cell's code with convlib (not) importable; return the subprocess calls."""
    calls: list[Any] = []
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "convlib" and not importable:
            return None
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    exec(compile(source, "<setup cell>", "exec"), {})
    return calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_starts_with_the_current_setup_cell(tool, path):
    cell = tool.setup_cell(tool.cell_source(*tool.read_repository()))
    status, _ = tool.notebook_status(path, cell)
    assert status == "ok", f"{path.name}: setup cell {status}; run python scripts/{SCRIPT.name}"
    first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
    assert first == cell
    assert "remove-cell" in first["metadata"]["tags"]  # hidden in the rendered book
    assert first["outputs"] == [] and first["execution_count"] is None


def test_the_book_has_notebooks():
    assert len(NOTEBOOKS) >= 10


def test_cell_follows_the_config(tool, tmp_path, monkeypatch):
    config = write_config(tmp_path / "_config.yml", "https://example.org/me/convlib/", "v1.2")
    source = tool.cell_source(*tool.read_repository(config))
    assert '"git+https://example.org/me/convlib@v1.2"' in source
    monkeypatch.delenv(tool.ENV_VAR, raising=False)
    (call,) = run_cell(source, monkeypatch, importable=False)
    args, kwargs = call
    assert args[0] == [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "convlib[book] @ git+https://example.org/me/convlib@v1.2",
    ]
    assert kwargs == {"check": True}


def test_environment_variable_overrides_the_url(tool, tmp_path, monkeypatch):
    for placeholder in (False, True):
        config = write_config(
            tmp_path / "_config.yml", "https://example.org/x", placeholder=placeholder
        )
        source = tool.cell_source(*tool.read_repository(config))
        monkeypatch.setenv(tool.ENV_VAR, "file:///tmp/convlib-0.2.0-py3-none-any.whl")
        (call,) = run_cell(source, monkeypatch, importable=False)
        assert call[0][0][-1] == "convlib[book] @ file:///tmp/convlib-0.2.0-py3-none-any.whl"


def test_placeholder_url_stops_with_what_to_set(tool, tmp_path, monkeypatch):
    config = write_config(
        tmp_path / "_config.yml", "https://github.com/convlib/convlib", placeholder=True
    )
    source = tool.cell_source(*tool.read_repository(config))
    monkeypatch.delenv(tool.ENV_VAR, raising=False)
    with pytest.raises(RuntimeError) as excinfo:
        run_cell(source, monkeypatch, importable=False)
    message = str(excinfo.value)
    for needle in (
        "placeholder https://github.com/convlib/convlib",
        "_config.yml",
        "repository.url",
        "url_is_placeholder: false",
        "notebook_setup_cell.py",
        tool.ENV_VAR,
    ):
        assert needle in message
    # nothing was installed before the error
    calls: list[Any] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    with pytest.raises(RuntimeError):
        exec(compile(source, "<setup cell>", "exec"), {})
    assert calls == []


@pytest.mark.parametrize("placeholder", [False, True])
def test_cell_does_nothing_where_convlib_is_importable(tool, tmp_path, monkeypatch, placeholder):
    config = write_config(
        tmp_path / "_config.yml", "https://example.org/x", placeholder=placeholder
    )
    source = tool.cell_source(*tool.read_repository(config))
    monkeypatch.delenv(tool.ENV_VAR, raising=False)
    assert run_cell(source, monkeypatch, importable=True) == []


def test_cell_imports_neither_convlib_nor_numpy():
    """Chapters set OPENBLAS_NUM_THREADS before NumPy loads: the cell must not load it first."""
    code = (
        "import json, subprocess, sys\n"
        f"nb = json.load(open({str(NOTEBOOKS[0])!r}, encoding='utf-8'))\n"
        "subprocess.run = None  # any install attempt fails\n"
        "exec(''.join(nb['cells'][0]['source']), {})\n"
        "print(json.dumps(sorted(m for m in ('numpy', 'convlib') if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert json.loads(done.stdout) == []


def test_write_is_idempotent_and_check_reports_stale_cells(tool, tmp_path, capsys):
    notebook = tmp_path / "nb.ipynb"
    original = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    others = original["cells"][1:]
    notebook.write_text(tool.dumps({**original, "cells": others}), encoding="utf-8")
    assert tool.main(["--check", str(notebook)]) == 1
    assert "setup cell missing" in capsys.readouterr().out

    assert tool.main([str(notebook)]) == 0
    written = notebook.read_text(encoding="utf-8")
    assert json.loads(written)["cells"][1:] == others
    assert tool.main(["--check", str(notebook)]) == 0
    assert tool.main([str(notebook)]) == 0
    assert notebook.read_text(encoding="utf-8") == written  # unchanged by a second run

    # an edited (stale) cell, moved away from the top, is replaced and moved back
    cells = json.loads(written)["cells"]
    cells[0]["source"] = ["print('old')\n"]
    notebook.write_text(tool.dumps({**original, "cells": [*cells[1:3], cells[0], *cells[3:]]}))
    assert tool.main(["--check", str(notebook)]) == 1
    assert "setup cell stale" in capsys.readouterr().out
    assert tool.main([str(notebook)]) == 0
    assert notebook.read_text(encoding="utf-8") == written


@pytest.mark.parametrize(
    "repository, error",
    [
        ({"url": "http://example.org/x"}, ValueError),
        ({"branch": "main"}, ValueError),
        ({"url": "https://example.org/x", "branch": "a b"}, ValueError),
        ({"url": "https://example.org/x", "url_is_placeholder": "yes"}, TypeError),
    ],
)
def test_bad_config_is_refused(tool, tmp_path, repository, error):
    config = tmp_path / "_config.yml"
    config.write_text(yaml.safe_dump({"repository": repository}), encoding="utf-8")
    with pytest.raises(error, match="repository"):
        tool.read_repository(config)


def test_binder_installs_convlib_so_the_cell_does_nothing_there():
    """repo2docker installs requirements.txt, then runs postBuild, which installs convlib."""
    assert (ROOT / "requirements.txt").is_file()
    post_build = (ROOT / "postBuild").read_text(encoding="utf-8")
    commands = [line.split() for line in post_build.splitlines() if line.startswith("pip ")]
    assert any(cmd[:2] == ["pip", "install"] and cmd[-1] == "." for cmd in commands)


def test_every_cell_of_every_notebook_has_an_id() -> None:
    """nbformat 4.5 wants an id on every cell (tools warn now and will refuse later)."""
    for path in sorted((Path(__file__).resolve().parents[1] / "book").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        missing = [i for i, cell in enumerate(nb["cells"]) if "id" not in cell]
        assert not missing, f"{path.name}: cells {missing} have no id"
