"""Make the student edition of the book: every solution removed, a stub to fill in
and a grading cell for every exercise that has a checker.

    python scripts/student_edition.py [--cache _build/.jupyter_cache] [--out _build/student]

(``make student`` runs it after the book build, then builds the result strictly.)

The student edition is built from the notebooks the regular build has already
executed: each chapter's source notebook is matched in the book's jupyter-cache,
whose outputs (figures, printed results, glued values) are merged back in, so
nothing is executed again. Then, in every notebook:

- every solution, the Markdown and code cells between a ``{solution-start}``
  fence and its ``{solution-end}`` fence, is removed (text around the fences in
  the same cell is kept, e.g. the next exercise's statement);
- an exercise whose solution grades a function it defines with a checker of
  :mod:`convlib.exercises` (a call such as ``check_maxpool_forward(my_maxpool_forward)``
  that is not inside a ``try``, where the solution shows a wrong variant failing)
  gets two new cells where the solution was: a stub with the same signature that
  raises ``NotImplementedError``, and a cell that grades it and prints the
  checker's verdict without stopping the notebook (a code cell of the exercise
  itself that defines the same function, as chapter 10's does, is replaced by
  the stub, where the exercise's text announces the signature; cells before the
  exercise are kept);
- the notebook must stay runnable from top to bottom: a kept cell after a
  removed solution must not use a name that only the solution defined (the
  script stops with the chapter, the cell and the names, rather than write a
  notebook that fails).

It writes a Jupyter Book source tree to ``<out>/src`` (``_config.yml`` with
execution turned off and the title marked, the same ``_toc.yml``, every other
file of ``book/`` copied), and a zip of the student notebooks without outputs,
``<out>/convlib-book-student-notebooks.zip``, which the build also copies into
the student site. The regular book is not touched.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import copy
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
ZIP_NAME = "convlib-book-student-notebooks.zip"

# A MyST directive fence around a solution's start or end, with its options:
#   ```{solution-start} ch09-ex-maxpool-forward
#   :class: dropdown
#   ```
_FENCE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{solution-(?P<kind>start|end)\}(?P<arg>[^\n]*)\n"
    r"(?:(?!(?P=fence))[^\n]*\n)*?(?P=fence)[ \t]*(?:\n|\Z)",
    re.MULTILINE,
)


_ZIP_README = """The chapters of "Backpropagation through a CNN, from scratch", student edition.

The solutions are removed. Where an exercise asks you to implement a function,
a cell holds a stub that raises NotImplementedError: replace its body with your
code, then run the next cell, which grades it with convlib.exercises and says
which case fails and why. Every notebook runs from top to bottom as it is.

Install convlib with its book extra first (in a clone of the book's
repository: pip install -e ".[book]"); the notebooks download MNIST and
Fashion-MNIST on first use.
"""


class StudentEditionError(RuntimeError):
    """The book cannot be turned into a runnable student edition as it is."""


@dataclass
class Stub:
    """An exercise's function for the student to write, and its checker."""

    label: str
    function: str
    signature: str
    checker: str


@dataclass
class Solution:
    """One removed solution: its label, its code, and where it was."""

    label: str
    code: list[str] = field(default_factory=list)
    position: int = 0  # index in the output cell list where it was removed


def _checker_names() -> set[str]:
    import convlib.exercises

    return {name for name in convlib.exercises.__all__ if name.startswith("check_")}


def _parse(source: str) -> ast.Module:
    # IPython magics and shell escapes are not Python.
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def _calls_outside_try(tree: ast.AST) -> list[ast.Call]:
    """Calls in ``tree`` that are not inside the body of a ``try`` statement."""
    found: list[ast.Call] = []

    def visit(node: ast.AST, in_try: bool) -> None:
        if isinstance(node, ast.Call) and not in_try:
            found.append(node)
        if isinstance(node, ast.Try):
            for child in node.body:
                visit(child, True)
            for part in (*node.handlers, *node.orelse, *node.finalbody):
                visit(part, in_try)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, in_try)

    visit(tree, False)
    return found


def find_stubs(solution: Solution, checkers: set[str]) -> list[Stub]:
    """The functions a solution defines and grades with a checker, in order.

    Parameters
    ----------
    solution : Solution
        A removed solution and its code cells.
    checkers : set of str
        Names of the checkers (``check_*`` of :mod:`convlib.exercises`).

    Returns
    -------
    list of Stub
        One per graded function, in the order of the grading calls.
    """
    tree = _parse("\n\n".join(solution.code))
    defs = {
        node.name: node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    stubs: list[Stub] = []
    for call in _calls_outside_try(tree):
        if not (isinstance(call.func, ast.Name) and call.func.id in checkers and call.args):
            continue
        graded = call.args[0]
        if not (isinstance(graded, ast.Name) and graded.id in defs):
            continue
        if any(stub.function == graded.id for stub in stubs):
            continue
        stubs.append(
            Stub(
                label=solution.label,
                function=graded.id,
                signature=ast.unparse(defs[graded.id].args),
                checker=call.func.id,
            )
        )
    return stubs


def _stub_cells(stub: Stub) -> tuple[Any, Any]:
    """The stub cell and the grading cell of one exercise."""
    stub_source = (
        f"# Exercise {stub.label}: write {stub.function} here, then run the next cell.\n"
        "import numpy as np\n"
        "\n"
        "\n"
        f"def {stub.function}({stub.signature}):\n"
        f'    raise NotImplementedError("{stub.function}: your code goes here")\n'
    )
    check_source = (
        f"from convlib.exercises import ExerciseFailure, {stub.checker}\n"
        "\n"
        "try:\n"
        f"    {stub.checker}({stub.function})\n"
        "except NotImplementedError:\n"
        f'    print("{stub.function} is not written yet: fill in the cell above, '
        'then run this cell again.")\n'
        "except ExerciseFailure as failure:\n"
        "    print(failure)\n"
    )
    return (
        nbformat.v4.new_code_cell(stub_source, metadata={"tags": ["student-stub"]}),
        nbformat.v4.new_code_cell(check_source, metadata={"tags": ["student-check"]}),
    )


def _split_markdown(text: str, inside: str | None) -> tuple[str, str | None, list[str]]:
    """Drop the parts of a Markdown cell that belong to a solution.

    Returns the kept text, the label of the solution still open at the end of
    the cell (or None), and the labels of the solutions that start in it.
    """
    kept: list[str] = []
    started: list[str] = []
    pos = 0
    for match in _FENCE.finditer(text):
        if inside is None:
            kept.append(text[pos : match.start()])
        if match["kind"] == "start":
            if inside is not None:
                raise StudentEditionError(
                    f"solution {match['arg'].strip()!r} starts inside {inside!r}"
                )
            inside = match["arg"].strip() or "?"
            started.append(inside)
        else:
            if inside is None:
                raise StudentEditionError("a {solution-end} without a {solution-start}")
            inside = None
        pos = match.end()
    if inside is None:
        kept.append(text[pos:])
    return "".join(kept), inside, started


def _defined_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _used_names(tree: ast.AST) -> set[str]:
    return {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }


def student_notebook(nb: Any, name: str, checkers: set[str]) -> tuple[Any, list[Stub]]:
    """The student version of one notebook.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The chapter, with or without outputs (not modified).
    name : str
        Its file name, for messages.
    checkers : set of str
        The checker names of :mod:`convlib.exercises`.

    Returns
    -------
    nbformat.NotebookNode
        The notebook without solutions, with stub and grading cells.
    list of Stub
        The exercises that got a stub.

    Raises
    ------
    StudentEditionError
        If a solution is not closed, or a kept cell uses a name that only a
        removed solution defined.
    """
    out = copy.deepcopy(nb)
    cells: list[Any] = []
    origin: dict[int, int] = {}  # id() of a kept code cell -> its index in nb.cells
    solutions: list[Solution] = []
    inside: str | None = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            text, still_open, started = _split_markdown(cell.source, inside)
            if text.strip():
                kept = copy.deepcopy(cell)
                kept.source = text.strip("\n")
                cells.append(kept)
            for label in started:
                solutions.append(Solution(label, position=len(cells)))
            inside = still_open
        elif inside is not None:
            if cell.cell_type == "code":
                solutions[-1].code.append(cell.source)
        else:
            kept = copy.deepcopy(cell)
            origin[id(kept)] = index
            cells.append(kept)
    if inside is not None:
        raise StudentEditionError(f"{name}: solution {inside!r} has no {{solution-end}}")

    stubs: list[Stub] = []
    dropped: dict[int, set[str]] = {}  # index in nb.cells -> the names its stub supplies
    starts = [0] + [solution.position for solution in solutions]
    for k in reversed(range(len(solutions))):  # edit from the end: positions stay valid
        solution = solutions[k]
        found = find_stubs(solution, checkers)
        stubs[:0] = found
        pairs = {stub.function: _stub_cells(stub) for stub in found}
        # The exercise itself: from the Markdown cell that holds its label (the
        # solution's argument) to the solution. It may hold a code cell of its
        # own that defines the function (an ``{exercise-start}`` block showing
        # the grader reject an unfinished stub): the generated stub takes that
        # cell's place, where the text announces the signature, so the student
        # fills in one cell. Cells before the exercise are never touched.
        first = solution.position
        for i in range(solution.position - 1, starts[k] - 1, -1):
            if cells[i].cell_type == "markdown" and re.search(
                rf"^:label:[ \t]*{re.escape(solution.label)}[ \t]*$", cells[i].source, re.M
            ):
                first = i + 1
                break
        region: list[Any] = []
        placed: set[str] = set()
        for cell in cells[first : solution.position]:
            defines = (
                set(pairs) & _defined_names(_parse(cell.source))
                if cell.cell_type == "code"
                else set()
            )
            if not defines:
                region.append(cell)
                continue
            if id(cell) in origin:
                dropped[origin[id(cell)]] = set(pairs)
            for function in pairs:  # in the order of the grading calls
                if function in defines and function not in placed:
                    region.append(pairs[function][0])
                    placed.add(function)
        region += [pairs[f][0] for f in pairs if f not in placed]  # the other stubs
        region += [pair[1] for pair in pairs.values()]  # the grading cells, where the solution was
        cells[first : solution.position] = region
    out.cells = cells
    for cell in out.cells:  # nbformat 4.5 wants an id on every cell
        cell.setdefault("id", nbformat.v4.new_code_cell().id)
    _check_runnable(nb, name, dropped)
    return out, stubs


def _check_runnable(nb: Any, name: str, dropped: dict[int, set[str]] | None = None) -> None:
    """Refuse a student notebook in which a kept cell needs a removed solution's name.

    Walks the original notebook in order: the names that solution cells define
    (and kept cells before them do not) are gone from the student notebook,
    or stand for a stub that raises ``NotImplementedError``; a kept cell after
    them that uses one would fail when the notebook is run from the top. So
    are the names of an exercise's own cell that a stub replaced (``dropped``:
    its index in ``nb.cells`` -> the names the stub defines in its place).
    """
    dropped = dropped or {}
    kept_defined: set[str] = set(dir(builtins))
    only_in_solutions: set[str] = set()
    inside = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            _, inside, _ = _split_markdown(cell.source, inside)
            continue
        if cell.cell_type != "code":
            continue
        tree = _parse(cell.source)
        if inside is not None or index in dropped:
            supplied = dropped.get(index, set())
            only_in_solutions |= _defined_names(tree) - kept_defined - supplied
            kept_defined |= supplied
            only_in_solutions -= supplied
            continue
        defined = _defined_names(tree)
        missing = sorted((_used_names(tree) & only_in_solutions) - defined)
        if missing:
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            raise StudentEditionError(
                f"{name}: the cell starting {first!r} uses {', '.join(missing)}, which only a "
                "solution defines; the student notebook would fail there. Define it outside "
                "the solution, or move the cell into the solution."
            )
        kept_defined |= defined
        only_in_solutions -= defined


def _without_outputs(nb: Any) -> Any:
    clean = copy.deepcopy(nb)
    for cell in clean.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return clean


def _toc_files(toc: dict[str, Any]) -> list[str]:
    files: list[str] = [toc["root"]]

    def walk(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))
            walk(entry.get("chapters", []))

    walk(toc.get("parts", []))
    walk(toc.get("chapters", []))
    return files


def _executed(nb: Any, cache: Any, path: Path) -> Any:
    try:
        _, merged = cache.merge_match_into_notebook(nb)
    except KeyError:
        raise StudentEditionError(
            f"{path} has no executed copy in the book's jupyter-cache: build the book first "
            "(make book); the student edition reuses its outputs instead of executing again"
        ) from None
    return merged


def _config(root: Path) -> dict[str, Any]:
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    config["title"] = f"{config['title']} (student edition)"
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    return config


def _intro_note(text: str) -> str:
    note = (
        "\n```{admonition} Student edition\n"
        "This edition of the book has no solutions. Where an exercise asks you to\n"
        "implement a function, a cell holds a stub to fill in and the next one\n"
        "grades it with `convlib.exercises`. "
        f"{{download}}`Download the notebooks <{ZIP_NAME}>` to work through them.\n"
        "```\n"
    )
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("# "):
            return "".join(lines[: i + 1]) + note + "".join(lines[i + 1 :])
    return note + text


def build_source(root: Path, out: Path, cache_path: Path | None) -> dict[str, list[Stub]]:
    """Write the student edition's Jupyter Book source tree and notebook zip.

    Parameters
    ----------
    root : pathlib.Path
        The repository (``_config.yml``, ``_toc.yml``, ``book/``).
    out : pathlib.Path
        Output folder: ``out/src`` gets the book, ``out/<zip>`` the notebooks.
    cache_path : pathlib.Path or None
        The book's jupyter-cache; None writes notebooks without outputs
        (for tests that do not build).

    Returns
    -------
    dict
        Notebook path -> the stubs it got.
    """
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(
        root / "book", src / "book", ignore=shutil.ignore_patterns("*.ipynb", "__pycache__")
    )
    shutil.copy2(root / "_toc.yml", src / "_toc.yml")
    header = "# Generated by scripts/student_edition.py from the book's _config.yml: do not edit.\n"
    (src / "_config.yml").write_text(
        header + yaml.safe_dump(_config(root), sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    root_md = src / f"{toc['root']}.md"
    if root_md.exists():
        root_md.write_text(_intro_note(root_md.read_text(encoding="utf-8")), encoding="utf-8")

    cache = None
    if cache_path is not None:
        from jupyter_cache import get_cache

        if not (cache_path / "global.db").exists():
            raise StudentEditionError(
                f"no jupyter-cache at {cache_path}: build the book first (make book)"
            )
        cache = get_cache(cache_path)
    checkers = _checker_names()
    stubs: dict[str, list[Stub]] = {}
    out.mkdir(parents=True, exist_ok=True)
    zip_path = out / ZIP_NAME
    tmp_zip = zip_path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in _toc_files(toc):
            path = root / f"{name}.ipynb"
            if not path.exists():
                continue
            nb = nbformat.read(path, as_version=4)
            if cache is not None:
                nb = _executed(nb, cache, path)
            student, found = student_notebook(nb, path.name, checkers)
            stubs[name] = found
            nbformat.write(student, src / f"{name}.ipynb")
            archive.writestr(
                f"convlib-book-student/{path.name}",
                nbformat.writes(_without_outputs(student)) + "\n",
            )
        archive.writestr("convlib-book-student/README.txt", _ZIP_README)
    tmp_zip.replace(zip_path)
    shutil.copy2(zip_path, (src / f"{toc['root']}.md").parent / ZIP_NAME)  # for {download}
    return stubs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=ROOT / "_build" / ".jupyter_cache")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "student")
    args = parser.parse_args(argv)
    try:
        stubs = build_source(ROOT, args.out, args.cache)
    except StudentEditionError as exc:
        print(f"student edition: {exc}", file=sys.stderr)
        return 1
    n_stubs = sum(len(found) for found in stubs.values())
    print(f"student edition: {len(stubs)} notebooks, {n_stubs} exercises with a stub and a checker")
    for name, found in stubs.items():
        for stub in found:
            print(f"  {name}: {stub.label}: {stub.function}({stub.signature}) -> {stub.checker}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
