"""The ruff checks run the same way everywhere: make lint, make test, pre-commit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
yaml = pytest.importorskip("yaml")
tomllib = pytest.importorskip("tomllib")  # Python >= 3.11


def test_make_test_runs_lint_first():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    stages = re.search(r"for t in ([\w -]+); do", makefile)
    assert stages is not None and stages.group(1).split()[0] == "lint"
    lint = re.search(r"^lint: .*\n\t(.*)$", makefile, re.M)
    assert lint is not None
    assert "ruff check ." in lint.group(1) and "ruff format --check ." in lint.group(1)


def test_pre_commit_hooks_are_local_and_run_the_lint_commands():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    (repo,) = config["repos"]
    assert repo["repo"] == "local"
    entries = {hook["entry"].removesuffix(" --force-exclude") for hook in repo["hooks"]}
    assert entries == {"ruff check", "ruff format --check"}
    assert {hook["language"] for hook in repo["hooks"]} == {"system"}


def test_ruff_is_pinned_and_in_the_test_extra():
    pin = re.search(
        r"^ruff==([\d.]+)$", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.M
    )
    assert pin is not None
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)
    assert f"ruff>={pin.group(1)}" in project["project"]["optional-dependencies"]["test"]
    assert project["tool"]["ruff"]["target-version"] == "py310"
