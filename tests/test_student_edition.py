"""The student edition (scripts/student_edition.py): solutions out, stubs and graders in."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import re
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "student_edition.py"


def _load_script() -> ModuleType:
    # scripts/ is not a package: load the file as a module by its path.
    spec = importlib.util.spec_from_file_location("student_edition", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


se = _load_script()
CHECKERS = se._checker_names()

EXERCISE = """## Exercises

```{exercise}
:label: chX-ex-softmax

Implement `my_softmax(logits, labels)`.
```

```{solution-start} chX-ex-softmax
:class: dropdown
```

The answer is in the code below.
"""

SOLUTION_CODE = """import numpy as np
from convlib.exercises import check_softmax_cross_entropy

def my_softmax(logits, labels, *, axis=-1):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    n = len(labels)
    loss = -np.log(p[np.arange(n), labels]).mean()
    d = p.copy()
    d[np.arange(n), labels] -= 1
    return loss, d / n

def wrong(logits, labels):
    return 0.0, logits

try:
    check_softmax_cross_entropy(wrong)
except Exception:
    pass
check_softmax_cross_entropy(my_softmax)
"""

AFTER = """```{solution-end}
```

```{exercise}
:label: chX-ex-next

A question without code.
```
"""


def _notebook(*cells: tuple[str, str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(make(source))
    return nb


def _chapter() -> nbformat.NotebookNode:
    return _notebook(
        ("code", "x = 1"),
        ("markdown", EXERCISE),
        ("code", SOLUTION_CODE),
        ("markdown", AFTER),
    )


def test_solution_removed_and_stub_added() -> None:
    student, stubs = se.student_notebook(_chapter(), "chX.ipynb", CHECKERS)
    sources = [c.source for c in student.cells]
    text = "\n".join(sources)
    assert "solution-start" not in text and "solution-end" not in text
    assert "The answer is in the code below" not in text
    assert "logits.max(axis=1" not in text  # the solution's code is gone
    assert "Implement `my_softmax(logits, labels)`." in text  # the exercise stays
    assert "A question without code." in text  # text after the solution's end stays
    # one stub: the graded function, not the wrong variant graded inside `try`
    assert [(s.label, s.function, s.checker) for s in stubs] == [
        ("chX-ex-softmax", "my_softmax", "check_softmax_cross_entropy")
    ]
    assert stubs[0].signature == "logits, labels, *, axis=-1"
    kinds = [(c.cell_type, tuple(c.metadata.get("tags", []))) for c in student.cells]
    assert kinds == [
        ("code", ()),
        ("markdown", ()),
        ("code", ("student-stub",)),
        ("code", ("student-check",)),
        ("markdown", ()),
    ]
    assert "def my_softmax(logits, labels, *, axis=-1):" in sources[2]
    assert "check_softmax_cross_entropy(my_softmax)" in sources[3]
    nbformat.validate(student)


def test_original_notebook_is_not_modified() -> None:
    nb = _chapter()
    before = nbformat.writes(nb)
    se.student_notebook(nb, "chX.ipynb", CHECKERS)
    assert nbformat.writes(nb) == before


def test_stub_and_grader_run_and_report_without_stopping_the_notebook() -> None:
    student, _ = se.student_notebook(_chapter(), "chX.ipynb", CHECKERS)
    namespace: dict[str, object] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for cell in student.cells:
            if cell.cell_type == "code":
                exec(cell.source, namespace)
    assert "my_softmax" in printed.getvalue()
    assert "NotImplementedError" in printed.getvalue() or "not written yet" in printed.getvalue()


def test_filled_in_stub_is_graded() -> None:
    student, _ = se.student_notebook(_chapter(), "chX.ipynb", CHECKERS)
    stub = next(c for c in student.cells if "student-stub" in c.metadata.get("tags", []))
    check = next(c for c in student.cells if "student-check" in c.metadata.get("tags", []))
    namespace: dict[str, object] = {}
    exec(SOLUTION_CODE.replace("check_softmax_cross_entropy(my_softmax)", ""), namespace)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(check.source, namespace)
    assert "not written yet" not in printed.getvalue()
    assert "passed" in printed.getvalue().lower()
    assert "raise NotImplementedError" in stub.source


def test_a_later_cell_that_needs_a_solution_is_refused() -> None:
    nb = _chapter()
    nb.cells.append(nbformat.v4.new_code_cell("loss, _ = my_softmax(z, y)"))
    with pytest.raises(se.StudentEditionError, match="my_softmax"):
        se.student_notebook(nb, "chX.ipynb", CHECKERS)


def test_a_name_redefined_outside_the_solution_is_fine() -> None:
    nb = _chapter()
    nb.cells.append(nbformat.v4.new_code_cell("def wrong(a, b):\n    return a\n\nwrong(1, 2)"))
    se.student_notebook(nb, "chX.ipynb", CHECKERS)


def test_an_unclosed_solution_is_refused() -> None:
    nb = _notebook(("markdown", EXERCISE), ("code", SOLUTION_CODE))
    with pytest.raises(se.StudentEditionError, match="no \\{solution-end\\}"):
        se.student_notebook(nb, "chX.ipynb", CHECKERS)


def test_the_book_becomes_a_student_edition(tmp_path: Path) -> None:
    stubs = se.build_source(ROOT, tmp_path, None)
    toc_notebooks = sorted(
        p.relative_to(ROOT).with_suffix("").as_posix() for p in (ROOT / "book").glob("*.ipynb")
    )
    assert sorted(stubs) == toc_notebooks
    graded = {(s.label, s.function, s.checker) for found in stubs.values() for s in found}
    # the book's implement-it-yourself exercises that have a checker
    for expected in [
        ("ch05-ex-implement", "conv_backward", "check_conv_backward"),
        ("ch08-ex-softmax-ce", "my_softmax_cross_entropy", "check_softmax_cross_entropy"),
        ("ch09-ex-maxpool-forward", "my_maxpool_forward", "check_maxpool_forward"),
        ("ch09-ex-maxpool-backward", "my_maxpool_backward", "check_maxpool_backward"),
        ("ch10-ex-compact", "bn_backward", "check_batchnorm_backward"),
        ("ch11-ex-adam-step", "adam_step", "check_adam_step"),
    ]:
        assert expected in graded
    for name in stubs:
        source = json.loads((ROOT / f"{name}.ipynb").read_text(encoding="utf-8"))
        student = json.loads((tmp_path / "src" / f"{name}.ipynb").read_text(encoding="utf-8"))
        text = "".join("".join(c["source"]) for c in student["cells"])
        assert "{solution-start}" not in text and "{solution-end}" not in text
        n_solutions = "".join("".join(c["source"]) for c in source["cells"]).count(
            "{solution-start}"
        )
        n_exercises = text.count("{exercise}") + text.count("{exercise-start}")
        assert n_exercises >= n_solutions  # every exercise is still there
    config = (tmp_path / "src" / "_config.yml").read_text(encoding="utf-8")
    assert "execute_notebooks: 'off'" in config or 'execute_notebooks: "off"' in config
    assert "(student edition)" in config
    with zipfile.ZipFile(tmp_path / se.ZIP_NAME) as archive:
        names = archive.namelist()
        assert "convlib-book-student/README.txt" in names
        nb09 = json.loads(archive.read("convlib-book-student/09_pooling.ipynb"))
    assert all(c.get("outputs", []) == [] for c in nb09["cells"])
    # chapter 10's exercise holds a cell of its own that defines bn_backward and
    # expects the grader to reject it: the generated stub replaces it
    nb10 = json.loads(
        (tmp_path / "src" / "book" / "10_batchnorm.ipynb").read_text(encoding="utf-8")
    )
    defining = [c for c in nb10["cells"] if "def bn_backward(" in "".join(c["source"])]
    assert len(defining) == 1 and "student-stub" in defining[0]["metadata"]["tags"]
    # ... in its place, inside the exercise, where the text announces the signature
    before = "".join(nb10["cells"][nb10["cells"].index(defining[0]) - 1]["source"])
    assert ":label: ch10-ex-compact" in before
    assert any("student-stub" in c["metadata"].get("tags", []) for c in nb09["cells"])


def test_a_student_notebook_runs_from_top_to_bottom(tmp_path: Path) -> None:
    pytest.importorskip("nbclient")
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "book" / "09_pooling.ipynb", as_version=4)
    student, stubs = se.student_notebook(nb, "09_pooling.ipynb", CHECKERS)
    assert stubs
    client = NotebookClient(
        student, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError if any cell fails
    graded = [c for c in student.cells if "student-check" in c.metadata.get("tags", [])]
    assert len(graded) == len(stubs)
    for cell in graded:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert "NotImplementedError" in text or "not written yet" in text


EXERCISE_WITH_OWN_CELL = """```{exercise-start}
:label: chX-ex-own

Write `my_softmax` with the signature
"""

OWN_CELL = """def my_softmax(logits, labels):
    raise NotImplementedError

try:
    check_softmax_cross_entropy(my_softmax)
except Exception:
    pass
"""

AFTER_OWN_CELL = """and grade it with `check_softmax_cross_entropy`.

```{exercise-end}
```

```{solution-start} chX-ex-own
:class: dropdown
```
"""

SOLUTION_END = """```{solution-end}
```
"""


def _chapter_with_own_cell(*before: str) -> nbformat.NotebookNode:
    return _notebook(
        *[("code", source) for source in before],
        ("markdown", EXERCISE_WITH_OWN_CELL),
        ("code", OWN_CELL),
        ("markdown", AFTER_OWN_CELL),
        ("code", SOLUTION_CODE),
        ("markdown", SOLUTION_END),
    )


def test_the_stub_takes_the_place_of_the_exercises_own_cell() -> None:
    # The exercise's text announces the signature just before its own cell:
    # the stub goes there, and the grading cell where the solution was.
    student, stubs = se.student_notebook(_chapter_with_own_cell(), "chX.ipynb", CHECKERS)
    assert [s.function for s in stubs] == ["my_softmax"]
    kinds = [(c.cell_type, tuple(c.metadata.get("tags", []))) for c in student.cells]
    assert kinds == [
        ("markdown", ()),
        ("code", ("student-stub",)),
        ("markdown", ()),
        ("code", ("student-check",)),
    ]
    assert student.cells[0].source.endswith("with the signature")
    assert "def my_softmax(logits, labels, *, axis=-1):" in student.cells[1].source
    assert sum("def my_softmax" in c.source for c in student.cells) == 1


def test_a_cell_before_the_exercise_that_defines_the_graded_name_is_kept() -> None:
    # Only the exercise's own cells give way to the stub, not the chapter's text.
    before = "def my_softmax(z):\n    return z\n\nresult = my_softmax(3)"
    student, _ = se.student_notebook(_chapter_with_own_cell(before), "chX.ipynb", CHECKERS)
    assert student.cells[0].source == before


def test_a_name_that_only_the_replaced_exercise_cell_defined_is_refused() -> None:
    nb = _chapter_with_own_cell()
    nb.cells[1].source = OWN_CELL + "\nSHAPE = (4, 3)\n"
    nb.cells.append(nbformat.v4.new_code_cell("print(SHAPE)"))
    with pytest.raises(se.StudentEditionError, match="SHAPE"):
        se.student_notebook(nb, "chX.ipynb", CHECKERS)


def test_no_student_chapter_says_that_its_solutions_run_on_the_page() -> None:
    """What stays in the student edition must be true there: it shows no solution.

    Chapter 12's exercise introduction used to say that the solutions "run here".
    """
    claims = re.compile(
        r"solutions?\s+(runs?|are\s+run|execute)\s+(here|on\s+this\s+page|below)"
        r"|(see|in)\s+the\s+solutions?\s+below",
        re.IGNORECASE,
    )
    found = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        student, _ = se.student_notebook(nb, path.stem, CHECKERS)
        for i, cell in enumerate(student.cells):
            if cell.cell_type == "markdown":
                found += [(path.name, i, m.group(0)) for m in claims.finditer(cell.source)]
    assert not found, found
