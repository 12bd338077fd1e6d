"""Checks of scalar and shape arguments: integers, pairs, real hyper-parameters, flags, shapes."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def as_int(name: str, value: Any, minimum: int) -> int:
    """Return ``value`` as a Python int no smaller than ``minimum``.

    Python ints, NumPy integers (``np.int64(3)``) and 0-d integer arrays
    (``np.array(3)``) are accepted alike; booleans, floats (even ``2.0``),
    strings and ``None`` give a ``TypeError``.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
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
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]  # a 0-d array is one number, as for as_int
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an int or a pair (vertical, horizontal), got {value!r}"
            )
        return (
            as_int(f"{name}[0]", value[0], minimum),
            as_int(f"{name}[1]", value[1], minimum),
        )
    v = as_int(name, value, minimum)
    return (v, v)


def as_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
) -> float:
    """Return a real scalar hyper-parameter as a Python float, range-checked.

    Python numbers, NumPy scalars (``np.float32(0.9)``, ``np.int64(3)``) and
    0-d real arrays are accepted alike; booleans, complex numbers, strings and
    arrays with more than one element are refused.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    value : real scalar
    low, high : float, optional
        Bounds of the accepted interval (``None``: unbounded on that side).
    low_open, high_open : bool
        Whether the bound itself is excluded.
    finite : bool
        Refuse NaN and infinities.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If it is not finite (when ``finite``) or lies outside the interval;
        the message prints the interval and ``value`` as a plain number.

    Examples
    --------
    >>> import numpy as np
    >>> as_real("momentum", np.float32(0.5), low=0, high=1, high_open=True)
    0.5
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    try:
        v = float(value)
    except OverflowError:  # a Python int beyond float range, e.g. 10**400
        digits = len(str(abs(math.trunc(value))))
        raise ValueError(
            f"{name} must be a finite number, got {'a negative' if value < 0 else 'an'} integer "
            f"of {digits} digits, beyond the range of floating point"
        ) from None
    if np.isnan(v) or (finite and not np.isfinite(v)):
        raise ValueError(f"{name} must be a finite number, got {v}")
    below = low is not None and (v < low or (low_open and v == low))
    above = high is not None and (v > high or (high_open and v == high))
    if below or above:
        lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
        raise ValueError(f"{name} must be in {lo}, {hi}, got {v:g}")
    return v


def as_bool(name: str, value: Any) -> bool:
    """Return a flag (``True``/``False`` or a NumPy bool) as a Python bool.

    Anything else (``"yes"``, ``1``, ``None``) gives a ``TypeError`` naming
    the argument, rather than being read by its truth value.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def as_shape(name: str, value: Any) -> tuple[int, ...]:
    """Return a shape argument (a tuple or list of positive ints) as a tuple.

    Python and NumPy integers are accepted alike; a string, a bare number or
    entries that are not integers give a ``TypeError`` (not the
    ``invalid literal for int()`` of ``int("a")``), entries below 1 a
    ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> as_shape("input_shape", [28, np.int64(28), 1])
    (28, 28, 1)
    """
    return as_array_shape(name, value, 1)


def as_array_shape(name: str, value: Any, minimum: int = 0) -> tuple[int, ...]:
    """:func:`as_shape` with a chosen smallest size: the shape of an array to allocate.

    NumPy allows empty axes (``np.empty((0, 3))``), so the default
    ``minimum`` is 0; a negative size is a ``ValueError`` naming the argument
    and the whole shape (NumPy's ``negative dimensions are not allowed``
    names neither).

    Examples
    --------
    >>> as_array_shape("shape", (np.int64(0), 3))
    (0, 3)
    """
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{name} must be a tuple of ints, got {value!r} ({type(value).__name__})")
    for i, s in enumerate(value):
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, numbers.Integral):
            raise TypeError(f"{name} must be a tuple of ints, got {value!r} ({name}[{i}] = {s!r})")
    shape = tuple(int(s) for s in value)
    if min(shape, default=minimum) < minimum:
        raise ValueError(f"{name} must hold sizes >= {minimum}, got {shape}")
    return shape
