"""Execution cost: each notebook's time against its budget, and no third execution.

book/conftest.py (loaded by ``pytest --nbval-lax book/*.ipynb``) prints the
budget table; book/_budgets.yml holds the budgets. The Makefile runs nbval and
the strict build side by side (make test-execute), each executing every
notebook once.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p.name for p in (ROOT / "book").glob("*.ipynb"))
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def plugin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("book_conftest", ROOT / "book" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recipe(target: str) -> str:
    """The recipe lines of a Makefile target."""
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", MAKEFILE, re.M)
    assert match is not None, f"no target {target} in the Makefile"
    return match.group(1)


def test_every_notebook_has_a_budget_and_every_budget_a_notebook(plugin):
    budgets = plugin.load_budgets()
    assert sorted(budgets) == NOTEBOOKS


def test_table_marks_chapters_over_budget_and_without_one(plugin):
    lines, warnings = plugin.budget_table(
        {"b.ipynb": 12.0, "a.ipynb": 3.25, "new.ipynb": 1.0}, {"a.ipynb": 10, "b.ipynb": 10}
    )
    assert lines[0].split() == ["chapter", "seconds", "budget", "status"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows["a.ipynb"] == ["3.2", "10", "under"]
    assert rows["b.ipynb"] == ["12.0", "10", "OVER"]
    assert rows["new.ipynb"] == ["1.0", "-", "NO", "BUDGET"]
    assert rows["total"] == ["16.2"]
    assert [line.split()[0] for line in lines[1:4]] == ["a.ipynb", "b.ipynb", "new.ipynb"]
    assert len(warnings) == 2
    assert "b.ipynb took 12 s, over its budget of 10 s" in warnings[0]
    assert "new.ipynb has no budget" in warnings[1]
    assert all(w.startswith("WARNING: ") for w in warnings)


def test_table_under_budget_has_no_warning(plugin):
    lines, warnings = plugin.budget_table({"a.ipynb": 10.0}, {"a.ipynb": 10})
    assert warnings == [] and lines[1].split()[-1] == "under"


@pytest.mark.parametrize(
    "text",
    [
        "other: 1\n",
        "budgets:\n  a.ipynb: 0\n",
        "budgets:\n  a.ipynb: fast\n",
        "budgets:\n  a.ipynb: true\n",
        "budgets:\n  a.md: 10\n",
    ],
)
def test_bad_budget_file_is_refused(plugin, tmp_path, text):
    path = tmp_path / "_budgets.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"_budgets\.yml"):
        plugin.load_budgets(path)


def test_make_test_executes_each_notebook_at_most_twice():
    stages = re.search(r"for t in ([\w -]+); do", MAKEFILE)
    assert stages is not None
    stages = stages.group(1).split()
    # nbval and the strict build run only inside test-execute, side by side
    assert "test-execute" in stages
    assert "test-notebooks" not in stages and "test-book" not in stages
    executing = {"test-notebooks", "test-book", "book", "book-all"}
    for stage in stages:
        if stage != "test-execute":
            calls = re.findall(r"\$\(MAKE\)([^;&>|]*)", recipe(stage))
            targets = {word for call in calls for word in call.split()}
            assert not targets & executing, f"{stage} executes notebooks again"
    body = recipe("test-execute")
    assert body.count("test-notebooks") == 1 and body.count("test-book") == 1
    # both run in the background and both exit codes are checked
    assert len(re.findall(r"& \w+_pid=\$\$!", body)) == 2
    assert "[ $$nbval -eq 0 ] && [ $$book -eq 0 ]" in body


def test_make_test_runs_the_setup_cell_check():
    stages = re.search(r"for t in ([\w -]+); do", MAKEFILE)
    assert stages is not None and "test-setup-cell" in stages.group(1).split()
    assert "scripts/check_setup_cell.sh" in recipe("test-setup-cell")


def test_html_and_pdf_builds_share_one_execution_but_make_test_executes_afresh():
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["execute_notebooks"] == "cache"
    assert "cache" not in config["execute"]  # the default: _build/.jupyter_cache, beside the output
    # make book checks the cache against convlib's code; the strict build of
    # make test and make book-all start from an empty cache
    assert re.search(r"^book: .*jupyter-cache-key", MAKEFILE, re.M)
    for target in ("test-book", "book-all"):
        body = recipe(target)
        assert body.index("rm -rf $(JCACHE)") < body.index("build . $(JB_FLAGS)")
    key = re.search(r"^JCACHE_KEY = (.*)$", MAKEFILE, re.M)
    assert key is not None
    assert 'Path("convlib").rglob("*.py")' in key.group(1) and "requirements.txt" in key.group(1)
