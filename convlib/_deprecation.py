"""Thin shims that keep old import paths working, with a ``DeprecationWarning``, for one release."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

#: The release that removes the old paths.
REMOVED_IN = "0.3"


def moved_names(old_module: str, moves: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) for names that moved elsewhere.

    Parameters
    ----------
    old_module : str
        The module that used to define the names, e.g. ``"convlib.training"``.
    moves : mapping of str to str
        Name -> the module that defines it now, e.g. ``{"fit": "convlib.loop"}``.

    Returns
    -------
    callable
        ``__getattr__(name)``: for a moved name, warns with a
        ``DeprecationWarning`` that names the new home (and the top-level
        ``convlib.<name>`` when that exists) and returns the object; for any
        other name raises ``AttributeError``.
    """

    def __getattr__(name: str) -> Any:
        home = moves.get(name)
        if home is None:
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        convlib = importlib.import_module("convlib")
        new = f"convlib.{name}" if getattr(convlib, name, None) is value else f"{home}.{name}"
        warnings.warn(
            f"{old_module}.{name} has moved: import it as {new}. "
            f"The old path {old_module}.{name} will be removed in convlib {REMOVED_IN}.",
            DeprecationWarning,
            stacklevel=2,
        )
        return value

    return __getattr__
