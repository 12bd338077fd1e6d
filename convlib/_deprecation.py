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


class _Unset:
    """The default of a deprecated argument: tells "not passed" from any value."""

    def __repr__(self) -> str:
        return "<unset>"


#: Default of a renamed argument's old name (see :func:`renamed_argument`).
UNSET: Any = _Unset()


class MarkedDefault(float):
    """A float default that ``is`` tells apart from the same number passed explicitly.

    The new name of a renamed argument keeps a plain number as its default in
    the signature (``h: float = 1e-05``), while :func:`renamed_argument` can
    still see whether the caller passed it together with the old name.
    """


def renamed_argument(
    call: str, old: str, new: str, old_value: Any, new_value: Any, stacklevel: int = 3
) -> Any:
    """Resolve an argument renamed from ``old`` to ``new``, warning when the old name is used.

    Parameters
    ----------
    call : str
        The function, for the messages, e.g. ``"numerical_gradient"``.
    old, new : str
        The argument's old and new names, e.g. ``"eps"`` and ``"h"``.
    old_value : object
        What the caller passed as ``old``; :data:`UNSET` when not passed.
    new_value : object
        What the caller passed as ``new``; :data:`UNSET` or a
        :class:`MarkedDefault` (the signature's own default object) when not
        passed.
    stacklevel : int
        Of the warning: 3 points at the caller of the function that calls
        this one.

    Returns
    -------
    object
        The value to use: ``old_value`` if only the old name was given (with
        a ``DeprecationWarning`` naming the new one), else ``new_value``
        (possibly the default).

    Raises
    ------
    TypeError
        If both names were given.
    """
    if old_value is UNSET:
        return new_value
    if new_value is not UNSET and not isinstance(new_value, MarkedDefault):
        raise TypeError(
            f"{call}() got both {new}={new_value!r} and its deprecated old name "
            f"{old}={old_value!r}: pass only {new}"
        )
    warnings.warn(
        f"{call}({old}=...) is deprecated: the argument is now called {new}, pass "
        f"{new}={old_value!r}. The old name {old} will be removed in convlib {REMOVED_IN}.",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
    return old_value
