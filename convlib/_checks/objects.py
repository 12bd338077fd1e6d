"""Checks of other arguments: paths, random generators, callables, instances, duck types, mappings."""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .scalars import as_int


def as_path(name: str, value: Any) -> Path:
    """Return a file or folder argument (a ``str`` or ``os.PathLike``) as a :class:`pathlib.Path`.

    Anything else -- an int, ``None``, bytes -- gives a ``TypeError`` naming
    the argument, rather than Python's ``expected str, bytes or
    os.PathLike object`` from deep inside :func:`open`.

    Examples
    --------
    >>> as_path("path", "data/labels.gz").name
    'labels.gz'
    """
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        if isinstance(text, str):
            return Path(text)
    raise TypeError(
        f"{name} must be a path (a str or os.PathLike), got {value!r} ({type(value).__name__})"
    )


def as_rng(name: str, value: Any) -> np.random.Generator:
    """Return a random generator argument: a ``numpy.random.Generator``, or an int seed (>= 0) for one.

    NumPy integers and 0-d integer arrays are seeds as Python ints are (see
    :func:`as_int`); a string, a float, a bool or ``None`` gives a
    ``TypeError`` naming the argument, a negative seed a ``ValueError``.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> as_rng("rng", rng) is rng
    True
    >>> int(as_rng("seed", np.int64(3)).integers(100)) == int(np.random.default_rng(3).integers(100))
    True
    """
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be a numpy.random.Generator or an int seed, got {value!r} ({type(value).__name__})"
        )
    return np.random.default_rng(as_int(name, value, 0))


def check_callable(name: str, value: Any) -> None:
    """Raise ``TypeError`` naming the argument unless ``value`` is callable (a function, a class, ...)."""
    if not callable(value):
        raise TypeError(
            f"{name} must be callable (a function), got {value!r} ({type(value).__name__})"
        )


def check_instance(name: str, value: Any, cls: type, hint: str = "") -> None:
    """Raise ``TypeError`` naming the argument and ``cls`` unless ``value`` is a ``cls``.

    ``hint`` says where such an object comes from, e.g.
    ``"(cache.geometry of a conv or pooling forward)"``.
    """
    if not isinstance(value, cls):
        extra = f" {hint}" if hint else ""
        article = "an" if cls.__name__[:1].lower() in "aeiou" else "a"
        raise TypeError(
            f"{name} must be {article} {cls.__name__}{extra}, got {type(value).__name__}"
        )


def check_methods(name: str, value: Any, methods: tuple[str, ...], example: str = "") -> None:
    """Raise ``TypeError`` naming the argument unless ``value`` has every method in ``methods``.

    For duck-typed arguments such as a model (``forward``, ``backward``):
    the message lists the methods that are missing, so ``model=5`` fails
    here and not deep inside the first call.

    Parameters
    ----------
    name : str
        Argument name used in the message.
    value : object
    methods : tuple of str
        Names of callables ``value`` must have.
    example : str
        What such an object is, e.g. ``"a convlib.Sequential"``.

    Examples
    --------
    >>> check_methods("model", [], ("append",))  # a list has append: nothing happens
    """
    missing = [m for m in methods if not callable(getattr(value, m, None))]
    if missing:
        like = f" (e.g. {example})" if example else ""
        raise TypeError(
            f"{name} must have {', '.join(methods)} method{'s' if len(methods) > 1 else ''}{like}, "
            f"got {type(value).__name__} {value!r:.60} (it has no {', '.join(missing)})"
        )


def check_nonempty_mapping(name: str, mapping: Any) -> Any:
    """Return ``mapping`` unless it is not a mapping or is empty.

    For arguments such as ``{label: data}`` that a figure draws one entry of
    per label.

    Raises
    ------
    TypeError
        If ``mapping`` is not a :class:`collections.abc.Mapping`.
    ValueError
        If it has no entries.
    """
    if not isinstance(mapping, Mapping):
        raise TypeError(
            f"{name} must be a mapping from labels to data, got {type(mapping).__name__}"
        )
    if not mapping:
        raise ValueError(f"{name} is empty: give at least one entry")
    return mapping
