"""mypy checks convlib/ the same way everywhere: make typecheck, right after lint in make test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
tomllib = pytest.importorskip("tomllib")  # Python >= 3.11


def _pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def test_make_test_type_checks_right_after_lint():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    stages = re.search(r"for t in ([\w -]+); do", makefile)
    assert stages is not None and stages.group(1).split()[:2] == ["lint", "typecheck"]
    target = re.search(r"^typecheck: .*\n\t(.*)$", makefile, re.M)
    assert target is not None and target.group(1).rstrip(")").endswith("$(BIN)/mypy")
    assert "make typecheck" in makefile  # in the help text


def test_mypy_is_pinned_and_in_the_test_extra():
    pin = re.search(
        r"^mypy==(\d+)\.(\d+)\.\d+$", (ROOT / "requirements.txt").read_text(encoding="utf-8"), re.M
    )
    assert pin is not None
    test_extra = _pyproject()["project"]["optional-dependencies"]["test"]
    assert f"mypy>={pin.group(1)}.{pin.group(2)}" in test_extra


def test_mypy_checks_convlib_as_the_oldest_supported_python():
    project = _pyproject()
    mypy = project["tool"]["mypy"]
    assert mypy["files"] == ["convlib"]
    oldest = re.fullmatch(r">=(\d+)\.(\d+)", project["project"]["requires-python"])
    assert oldest is not None and mypy["python_version"] == f"{oldest[1]}.{oldest[2]}"
    assert mypy["disallow_untyped_defs"] and mypy["warn_unused_ignores"]
    assert "ignore-without-code" in mypy["enable_error_code"]


def test_every_type_ignore_names_its_code_and_says_why():
    # A bare "# type: ignore" would hide any error; each one names the error
    # it hides, and a comment on the line or just above says why.
    bad = []
    for path in sorted((ROOT / "convlib").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if "# type: ignore" not in line:
                continue
            where = f"{path.relative_to(ROOT)}:{i + 1}"
            if not re.search(r"# type: ignore\[[\w-]+(, [\w-]+)*\]", line):
                bad.append(f"{where}: no error code")
            after = line.split("# type: ignore", 1)[1].split("]", 1)[-1]
            before = lines[i - 1].strip() if i else ""
            if "#" not in after and not before.startswith("#"):
                bad.append(f"{where}: no reason given")
    assert not bad, bad
