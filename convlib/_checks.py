"""Argument checking shared by every public function of convlib.

Each helper raises a ``TypeError`` or ``ValueError`` whose message names the
argument and, where it helps, the shapes involved, so a learner sees *what*
was wrong instead of a NumPy traceback from deep inside a layer.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

_NUMERIC_KINDS = "biuf"  # bool, signed int, unsigned int, floating point


def as_numeric_array(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as an ndarray, refusing non-numeric data.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    value : array_like
        Anything ``np.asarray`` accepts.

    Returns
    -------
    numpy.ndarray
        The array (no copy when ``value`` already is one).

    Raises
    ------
    TypeError
        If the dtype is not boolean, integer or real floating point.
    """
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists, etc.
        raise TypeError(f"{name} must be array-like of numbers: {exc}") from None
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(
            f"{name} must hold real numbers, got dtype {arr.dtype} "
            f"(shape {arr.shape})"
        )
    return arr


def float_dtype(*arrays: np.ndarray) -> np.dtype:
    """The dtype computations run in: NumPy promotion, integers -> float64."""
    dtype = np.result_type(*arrays)
    if dtype.kind != "f":
        return np.dtype(np.float64)
    return dtype


def check_ndim(name: str, arr: np.ndarray, ndim: int, layout: str) -> None:
    """Raise ``ValueError`` unless ``arr.ndim == ndim``.

    ``layout`` describes the expected axes, e.g. ``"(N, H, W, C)"``.
    """
    if arr.ndim != ndim:
        raise ValueError(
            f"{name} must be {ndim}-D with shape {layout}, "
            f"got shape {arr.shape} ({arr.ndim}-D)"
        )


def as_int(name: str, value: Any, minimum: int) -> int:
    """Return ``value`` as a Python int no smaller than ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def as_pair(name: str, value: Any, minimum: int) -> tuple[int, int]:
    """Accept ``k`` or ``(k_h, k_w)`` and return ``(k_h, k_w)`` as ints.

    Raises ``TypeError`` for non-integers and ``ValueError`` for values below
    ``minimum`` or sequences that do not have two entries.
    """
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an int or a pair (vertical, horizontal), "
                f"got {value!r}"
            )
        return (
            as_int(f"{name}[0]", value[0], minimum),
            as_int(f"{name}[1]", value[1], minimum),
        )
    v = as_int(name, value, minimum)
    return (v, v)
