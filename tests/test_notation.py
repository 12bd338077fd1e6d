"""The book's one notation: every symbol its chapters use is in the preface's table.

The preface (``book/00_preface.md``, section "Notation") promises one table
of every symbol the book uses, one meaning each. This test reads the
symbols out of that table and out of the mathematics of every chapter
(the ``$...$`` and ``$$...$$`` spans of the notebooks' Markdown cells and of
the ``.md`` pages) and
fails when a chapter writes a symbol the table does not list, or when the
table lists one twice. It cannot tell what a symbol *means* where it is
used -- that is for a reader -- but it stops a new letter from slipping in
unlisted, and it keeps the letters the book retired (``P``, ``\\star`` for
correlation, ...) out.

A *symbol* here is a Greek letter (``\\alpha`` ... ``\\Omega``), a Latin
letter, or one of the book's multi-letter names (``KH``, ``KW``, ``OH``,
``OW``). Text inside ``\\text{}``, ``\\mathrm{}`` and ``\\operatorname{}`` is
words or a differential's d, not a symbol, and LaTeX commands such as
``\\log`` or ``\\max`` are operators. Run this file as a script to print
every symbol with the chapters that use it.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
PREFACE = BOOK / "00_preface.md"

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta",
    "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi",
    "varpi", "rho", "varrho", "sigma", "varsigma", "tau", "upsilon", "phi",
    "varphi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon",
    "Phi", "Psi", "Omega", "ell",
}  # fmt: skip

#: Symbols that are operators or marks rather than letters, counted like letters
#: because the notation fixes their meaning (``\star`` is retired: the book
#: writes cross-correlation as ``\circledast``).
MARKS = {"circledast", "star", "odot"}

#: Multi-letter names, matched before single letters.
NAMES = ("KH", "KW", "OH", "OW")

_WORDS = re.compile(
    r"\\(?:text|mathrm|operatorname|mathsf|textsf|texttt|mbox|label|tag)\s*"
    r"\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}"
)
_ENV = re.compile(r"\\(?:begin|end)\s*\{[^}]*\}")
_BLACKBOARD = re.compile(r"\\mathbb\s*\{?\s*([A-Z])\s*\}?")
_TOKEN = re.compile(r"\\([A-Za-z]+)|(" + "|".join(NAMES) + r")|([A-Za-z])")


def math_spans(markdown: str) -> list[str]:
    """The ``$$...$$`` and ``$...$`` spans of a Markdown text, code spans skipped."""
    parts = re.split(r"(```.*?```|`[^`\n]*`)", markdown, flags=re.S)
    text = "".join(p for k, p in enumerate(parts) if k % 2 == 0)
    spans = re.findall(r"\$\$(.+?)\$\$", text, flags=re.S)
    text = re.sub(r"\$\$(.+?)\$\$", " ", text, flags=re.S)
    spans += re.findall(r"\$([^$]+?)\$", text)
    return spans


def symbols(math: str) -> set[str]:
    """The symbols of one span of LaTeX mathematics (see the module docstring)."""
    math = _ENV.sub(" ", _WORDS.sub(" ", math))
    math = _BLACKBOARD.sub(r" \\mathbb\1 ", math)
    found = set()
    for command, name, letter in _TOKEN.findall(math):
        if command:
            if command in GREEK or command in MARKS or command.startswith("mathbb"):
                found.add("\\" + command)
        else:
            found.add(name or letter)
    return found


def _markdown_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def _pages() -> dict[str, list[str]]:
    """Page stem -> its Markdown texts: the notebooks' Markdown cells and the
    ``.md`` pages (the preface without its notation section, which names the
    retired symbols)."""
    pages = {path.stem: _markdown_cells(path) for path in sorted(BOOK.glob("*.ipynb"))}
    for path in sorted(BOOK.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if path == PREFACE:
            start, end = _notation_section(text)
            text = text[:start] + text[end:]
        pages[path.stem] = [text]
    return pages


def chapter_symbols() -> dict[str, set[str]]:
    """symbol -> the pages (notebook or Markdown stems) whose mathematics uses it."""
    used: dict[str, set[str]] = defaultdict(set)
    for stem, texts in _pages().items():
        for text in texts:
            for span in math_spans(text):
                for sym in symbols(span):
                    used[sym].add(stem)
    return dict(used)


def _notation_section(text: str) -> tuple[int, int]:
    start = text.index("(preface-notation)=")
    end = re.compile(r"^\(preface-[a-z-]+\)=", re.M).search(text, start + 1)
    assert end is not None, "the notation section must be followed by another section"
    return start, end.start()


def notation_table() -> list[tuple[set[str], str]]:
    """The rows of the preface's notation table: (symbols of the first column, the row)."""
    text = PREFACE.read_text(encoding="utf-8")
    start, end = _notation_section(text)
    rows = []
    for line in text[start:end].splitlines():
        if not line.startswith("| $"):
            continue
        first = line.split("|")[1]
        syms = set()
        for span in math_spans(first):
            syms |= symbols(span)
        rows.append((syms, line))
    return rows


def test_the_scanner_reads_symbols_as_the_book_writes_them():
    assert symbols(r"\mathrm{d}y_{nk} = \hat y_{nk} - \tau_{nk}") == {"y", "n", "k", r"\tau"}
    assert symbols(r"OH = \lfloor (H + p_{\text{top}} - KH)/s_h \rfloor + 1") == {
        "OH", "H", "p", "KH", "s", "h",
    }  # fmt: skip
    assert symbols(r"\sigma_\varepsilon = \sqrt{\sigma^2 + \varepsilon}") == {
        r"\sigma", r"\varepsilon",
    }  # fmt: skip
    assert symbols(r"x \star w") == {"x", r"\star", "w"}
    assert symbols(r"\mathbb E[m_t] + \mathbb{E}[g] + \sum_\ell") == {
        r"\mathbbE",
        "m",
        "t",
        "g",
        r"\ell",
    }
    assert symbols(r"\operatorname{softmax}(z)_k \text{ with } P") == {"z", "k", "P"}
    assert math_spans("a `$x$` and $y$ and\n$$\nz\n$$") == ["\nz\n", "y"]


def test_the_table_gives_each_symbol_one_row():
    # a symbol is the whole first column of a row ($\hat y$ and $y$ are two
    # symbols); each may head one row only, and the table is not a stub
    firsts = [row.split("|")[1].strip() for _, row in notation_table()]
    twice = sorted({f for f in firsts if firsts.count(f) > 1})
    assert not twice, f"symbols with two rows in the notation table: {twice}"
    letters = [f for f in firsts if re.fullmatch(r"\$\\?[A-Za-z]+\$", f)]
    assert len(letters) > 25


def test_every_symbol_of_every_chapter_is_in_the_notation_table():
    listed = set().union(*(syms for syms, _ in notation_table()))
    missing = {
        sym: sorted(chapters) for sym, chapters in chapter_symbols().items() if sym not in listed
    }
    assert not missing, (
        "symbols used in the book's mathematics but missing from the notation table "
        f"of book/00_preface.md (add a row, or use the table's symbol): {missing}"
    )


@pytest.mark.parametrize("retired", ["P", r"\star"])
def test_retired_symbols_are_not_used(retired):
    assert retired not in chapter_symbols()


def test_epsilon_and_sigma_never_stand_alone():
    # epsilon is always eps_mach, eps_A or eps_adv (batch norm's constant is varepsilon);
    # sigma is a variance sigma^2 or the standard deviation sigma_eps, never alone
    bare_epsilon = re.compile(r"\\epsilon(?!_\{\\text\{(?:mach|A|adv)\}\})")
    bare_sigma = re.compile(r"\\sigma(?![_^A-Za-z])")
    found = sorted(
        {
            f"{stem}: {span.strip()[:60]!r}"
            for stem, texts in _pages().items()
            for text in texts
            for span in math_spans(text)
            if bare_epsilon.search(span) or bare_sigma.search(span)
        }
    )
    assert not found, f"a bare epsilon or sigma: {found}"


def test_kernel_and_output_sizes_are_written_kh_kw_oh_ow():
    # the table's KH, KW, OH, OW; K alone is the number of classes, O is O(.)
    subscripted = re.compile(r"\b[KO]_\{?[HW]\b")
    found = sorted(
        {
            path.stem
            for path in BOOK.glob("*.ipynb")
            for cell in _markdown_cells(path)
            for span in math_spans(cell)
            if subscripted.search(span)
        }
    )
    assert not found, f"K_H, K_W, O_H or O_W (write KH, KW, OH, OW) in {found}"


if __name__ == "__main__":  # pragma: no cover - an inventory for authors
    listed = set().union(*(syms for syms, _ in notation_table()))
    for sym, chapters in sorted(chapter_symbols().items()):
        flag = "" if sym in listed else "   <-- not in the table"
        print(f"{sym:14} {' '.join(sorted(c[:2] for c in chapters))}{flag}")
    sys.exit(0)
