"""pytest plugin for the chapters: each notebook's execution time against its budget.

``pytest --nbval-lax book/*.ipynb`` (``make test-notebooks``) loads this file.
It sums the time nbval spends in each notebook's cells (set-up, call and
tear-down of every cell) and, at the end of the run, prints one table:
chapter, seconds, budget, and whether the chapter stayed under it. The
budgets, in seconds, are kept in ``book/_budgets.yml``.

A chapter over its budget (or without one) gets a warning line, not a
failure: the budgets are twice what a chapter takes on the project's 2-core
machine when it is quiet, and the same machine shared with other jobs ran the
chapters three to four times slower, so a hard limit would fail on timing
noise. nbval's per-cell timeout still stops a chapter that hangs. The same numbers are
written to ``_build/notebook-times.json`` for comparison between runs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

BOOK = Path(__file__).resolve().parent
BUDGETS = BOOK / "_budgets.yml"
TIMES_FILE = BOOK.parent / "_build" / "notebook-times.json"

_seconds: defaultdict[str, float] = defaultdict(float)


def load_budgets(path: Path = BUDGETS) -> dict[str, float]:
    """The per-chapter budgets, ``{"01_chain_rule.ipynb": seconds, ...}``."""
    import yaml  # installed with jupyter-book; imported here so the unit tests can skip it

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    budgets = data.get("budgets")
    if not isinstance(budgets, dict):
        raise ValueError(f"{path}: needs a mapping 'budgets: {{notebook: seconds}}'")
    for name, seconds in budgets.items():
        if not str(name).endswith(".ipynb"):
            raise ValueError(f"{path}: budget key {name!r} is not a notebook file name")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            raise ValueError(f"{path}: budget of {name} must be a positive number, got {seconds!r}")
    return {str(name): float(seconds) for name, seconds in budgets.items()}


def budget_table(
    seconds: dict[str, float], budgets: dict[str, float]
) -> tuple[list[str], list[str]]:
    """``(table lines, warning lines)`` for the measured ``seconds`` per notebook."""
    width = max([len("chapter"), *(len(name) for name in seconds)])
    lines = [f"{'chapter':<{width}}  {'seconds':>7}  {'budget':>6}  status"]
    warnings = []
    for name in sorted(seconds):
        took, budget = seconds[name], budgets.get(name)
        if budget is None:
            status = "NO BUDGET"
            warnings.append(f"WARNING: {name} has no budget in book/_budgets.yml ({took:.0f} s)")
        elif took > budget:
            status = "OVER"
            warnings.append(
                f"WARNING: {name} took {took:.0f} s, over its budget of {budget:.0f} s "
                "(book/_budgets.yml)"
            )
        else:
            status = "under"
        shown = "-" if budget is None else f"{budget:.0f}"
        lines.append(f"{name:<{width}}  {took:7.1f}  {shown:>6}  {status}")
    lines.append(f"{'total':<{width}}  {sum(seconds.values()):7.1f}")
    return lines, warnings


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _seconds[Path(path).name] += report.duration


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _seconds:
        return
    budgets = load_budgets()
    lines, warnings = budget_table(dict(_seconds), budgets)
    terminalreporter.section("notebook execution time (nbval) against budget")
    for line in lines + warnings:
        terminalreporter.write_line(line)
    try:
        TIMES_FILE.parent.mkdir(exist_ok=True)
        TIMES_FILE.write_text(json.dumps(dict(sorted(_seconds.items())), indent=1) + "\n")
    except OSError as error:  # a read-only checkout still gets the table
        terminalreporter.write_line(f"(could not write {TIMES_FILE}: {error})")
