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


def show_source(obj: Any) -> Any:
    """Syntax-highlighted source of ``obj`` for a notebook cell.

    Returns an ``IPython.display.Code`` object (shown when it is the cell's
    last expression); outside IPython, returns the plain source text.
    """
    text = source(obj)
    try:
        from IPython.display import Code
    except ImportError:  # pragma: no cover - IPython is present with Jupyter
        return text
    return Code(text, language="python")
