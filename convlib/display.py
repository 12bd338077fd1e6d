"""Showing convlib's own source inside the book.

The chapters never copy code out of the package: they display it with
:func:`show_source`, so the book and the library cannot disagree.
"""

from __future__ import annotations

import inspect
from typing import Any


def source(obj: Any) -> str:
    """Return the source text of a function, class or module.

    Parameters
    ----------
    obj : function, class or module
        Anything :func:`inspect.getsource` accepts.

    Returns
    -------
    str
    """
    try:
        return inspect.getsource(obj)
    except (TypeError, OSError) as exc:
        raise TypeError(f"cannot show the source of {obj!r}: {exc}") from None


class SourceListing:
    """Python source that a notebook shows as highlighted code.

    Jupyter and the HTML book use :meth:`_repr_html_` (Pygments, as
    ``IPython.display.Code`` does); the PDF book uses :meth:`_repr_markdown_`,
    a fenced code block that Sphinx highlights in LaTeX. There is deliberately
    no ``_repr_latex_``: myst-nb typesets a ``text/latex`` output as display
    mathematics, which breaks a listing.

    Parameters
    ----------
    text : str
        The source code.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        from IPython.display import Code

        return Code(self.text, language="python")._repr_html_()

    def _repr_markdown_(self) -> str:
        fence = "`" * max(3, _longest_backtick_run(self.text) + 1)
        return f"{fence}python\n{self.text.rstrip()}\n{fence}\n"


def _longest_backtick_run(text: str) -> int:
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return longest


def show_source(obj: Any) -> Any:
    """Syntax-highlighted source of ``obj`` for a notebook cell.

    Parameters
    ----------
    obj : function, class or module
        Anything :func:`inspect.getsource` accepts.

    Returns
    -------
    SourceListing or str
        A :class:`SourceListing` (shown when it is the cell's last
        expression) when IPython is installed; otherwise the plain source
        text.
    """
    text = source(obj)
    try:
        import IPython.display  # noqa: F401
    except ImportError:  # pragma: no cover - IPython is present with Jupyter
        return text
    return SourceListing(text)
