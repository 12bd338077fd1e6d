"""Checks of array arguments: numeric data, dtypes, ranks, matching shapes, finiteness, memory.

Also the opt-in complex path used by the complex-step derivative
(:func:`complex_step_inputs`, :func:`as_numeric_or_complex_array`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

_NUMERIC_KINDS = "biuf"  # bool, signed int, unsigned int, floating point


# True only inside complex_step_inputs() (see as_numeric_or_complex_array).
_COMPLEX_STEP: ContextVar[bool] = ContextVar("convlib_complex_step", default=False)


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
        why = ""
        if arr.dtype.kind == "c" and _COMPLEX_STEP.get():
            why = (  # inside complex_step_gradient: this function is not on the opt-in path
                ": this function does not support the complex-step derivative (it is not "
                "complex-analytic, or returns real numbers); check it with numerical_gradient"
            )
        raise TypeError(
            f"{name} must hold real numbers, got dtype {arr.dtype} (shape {arr.shape}){why}"
        )
    return arr


def as_numeric_or_complex_array(name: str, value: Any) -> np.ndarray:
    """:func:`as_numeric_array`, but complex arrays pass inside :func:`complex_step_inputs`.

    The opt-in path for the functions that are complex-analytic in NumPy
    (sums, products, ``exp``, ``tanh``, and ``maximum``/``argmax``, which
    order complex numbers by real part first): only they call this, so the
    complex-step derivative passes through them exactly. Outside
    :func:`complex_step_inputs` a complex array is refused as by
    :func:`as_numeric_array`, naming the way in; functions that call
    :func:`as_numeric_array` refuse it always. Keep the dtype with
    :func:`float_dtype`, which leaves complex dtypes complex.

    Raises
    ------
    TypeError
        If ``value`` is not numeric, or complex outside :func:`complex_step_inputs`.
    """
    if isinstance(value, np.ndarray) and value.dtype.kind == "c":
        if _COMPLEX_STEP.get():
            return value
        raise TypeError(
            f"{name} must hold real numbers, got dtype {value.dtype} (shape {value.shape}); "
            f"complex input is accepted only inside convlib.complex_step_gradient"
        )
    return as_numeric_array(name, value)


@contextmanager
def complex_step_inputs() -> Iterator[None]:
    """Open the opt-in complex path of :func:`as_numeric_or_complex_array` (complex-step derivative).

    Entered by :func:`convlib.gradcheck.complex_step_gradient` around its calls
    of ``f``; per thread and per task (a :class:`contextvars.ContextVar`).
    """
    token = _COMPLEX_STEP.set(True)
    try:
        yield
    finally:
        _COMPLEX_STEP.reset(token)


def float_dtype(*arrays: np.ndarray) -> np.dtype:
    """The dtype computations run in: NumPy promotion, integers -> float64.

    A complex dtype (only from :func:`as_numeric_or_complex_array`) stays
    complex: casting to float would drop the imaginary part.
    """
    dtype = np.result_type(*arrays)
    if dtype.kind not in "fc":
        return np.dtype(np.float64)
    return dtype


_KIND_WORDS = {
    "b": "bool",
    "i": "signed integer",
    "u": "unsigned integer",
    "f": "floating-point",
    "c": "complex",
}


def as_dtype(name: str, value: Any, kinds: str = "biufc") -> np.dtype:
    """Return a dtype argument as a :class:`numpy.dtype` of one of the given kinds.

    ``np.float32``, ``"float32"`` and ``np.dtype("f4")`` are accepted alike;
    anything NumPy cannot read as a dtype (``"abc"``, ``3``), or a dtype of
    another kind (``kinds="f"`` and ``np.int32``), gives a ``TypeError``
    naming the argument.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    value : dtype-like
    kinds : str
        Accepted :attr:`numpy.dtype.kind` letters (``"f"``: floating point).

    Examples
    --------
    >>> as_dtype("dtype", "float32", "f")
    dtype('float32')
    """
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if value is None or dtype is None or dtype.kind not in tuple(kinds):
        allowed = " or ".join(_KIND_WORDS.get(k, k) for k in kinds)
        raise TypeError(f"{name} must be a {allowed} NumPy dtype, got {value!r}")
    return dtype


def check_ndim(name: str, arr: np.ndarray, ndim: int, layout: str) -> None:
    """Raise ``ValueError`` unless ``arr.ndim == ndim``.

    ``layout`` describes the expected axes, e.g. ``"(N, H, W, C)"``.
    """
    if arr.ndim != ndim:
        raise ValueError(
            f"{name} must be {ndim}-D with shape {layout}, got shape {arr.shape} ({arr.ndim}-D)"
        )


def as_matching_arrays(**arrays: Any) -> tuple[np.ndarray, ...]:
    """Return the keyword arguments as numeric arrays of one common shape.

    The first argument sets the shape; every other one must have exactly
    that shape (no broadcasting), e.g. a parameter, its gradient and an
    optimizer's state arrays.

    Parameters
    ----------
    **arrays : array_like
        ``name=value`` pairs, in order; the names appear in messages.

    Returns
    -------
    tuple of ndarray
        The arrays, in the order given (no copies of ndarrays).

    Raises
    ------
    TypeError
        If a value is not numeric (see :func:`as_numeric_array`).
    ValueError
        If a shape differs from the first argument's; the message names
        both arguments and their shapes.

    Examples
    --------
    >>> p, g = as_matching_arrays(param=np.zeros(3), grad=[1, 2, 3])
    >>> g.shape
    (3,)
    """
    names = list(arrays)
    out = tuple(as_numeric_array(name, value) for name, value in arrays.items())
    for name, arr in zip(names[1:], out[1:]):
        if arr.shape != out[0].shape:
            raise ValueError(
                f"{name} has shape {arr.shape} but {names[0]} has shape {out[0].shape}: "
                f"they must have the same shape"
            )
    return out


def first_non_finite(arr: np.ndarray) -> tuple[int, ...] | None:
    """Index of the first NaN or infinity of ``arr`` (C order), or ``None`` if it has none.

    Integer and boolean arrays are always finite. The common case, an array
    that is all finite, costs one float64 sum and no full-size temporary: a
    sum is finite only if every term is (NaN and infinities propagate), and
    only a non-finite sum (a bad value, or a float64 overflow) is looked at
    element by element.

    Parameters
    ----------
    arr : ndarray, any shape

    Returns
    -------
    tuple of int or None
        ``arr[index]`` is the first non-finite value.

    Examples
    --------
    >>> first_non_finite(np.array([[1.0, 2.0], [np.nan, np.inf]]))
    (1, 0)
    >>> first_non_finite(np.ones(3)) is None
    True
    """
    if arr.dtype.kind not in "fc" or arr.size == 0:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(arr.sum(dtype=np.result_type(arr.dtype, np.float64))):
            return None
    bad = ~np.isfinite(arr)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), arr.shape))


def check_memory(call: str, arrays: list[tuple[str, tuple[int, ...], Any]], inputs: str) -> None:
    """Refuse a call whose large arrays would not fit in :func:`convlib.memory.memory_limit`.

    Computed from shapes only, before anything is allocated: ``O(1)``.

    Parameters
    ----------
    call : str
        The function, for the message, e.g. ``"conv2d_forward"``.
    arrays : list of (str, tuple of int, dtype)
        The arrays the call is about to create: what each is, its shape and
        its dtype (or item size in bytes).
    inputs : str
        The arguments' shapes, for the message, e.g. ``"x (N, H, W, C) ..."``.

    Raises
    ------
    convlib.memory.MemoryLimitError
        If the arrays together need more bytes than the limit; the message
        names every array, its shape and GiB, and how to change the limit.
    """
    from ..memory import MemoryLimitError, memory_limit

    limit = memory_limit()
    if limit is None:
        return
    sizes = [
        (
            what,
            tuple(shape),
            math.prod(shape) * (dt if isinstance(dt, int) else np.dtype(dt).itemsize),
        )
        for what, shape, dt in arrays
    ]
    total = sum(nbytes for _, _, nbytes in sizes)
    if total <= limit:
        return
    gib = 2.0**30
    parts = ", ".join(f"{what} {shape} {nbytes / gib:.2f} GiB" for what, shape, nbytes in sizes)
    raise MemoryLimitError(
        f"{call} would need about {total / gib:.1f} GiB for {inputs} ({parts}), more than "
        f"the memory limit of {limit / gib:.1f} GiB: use a smaller batch or smaller shapes, "
        f"or change the limit with convlib.set_memory_limit(nbytes)"
    )


def check_conv_operands(
    x: np.ndarray,
    w: np.ndarray,
    b: Any,
    channels: int,
    what: str,
    *,
    complex_ok: bool = False,
) -> tuple[np.ndarray | None, np.dtype]:
    """Refuse empty axes and a bias of the wrong shape; return the bias and the compute dtype.

    The rule of the convolution and the transposed convolution, once ``x``
    and ``w`` are 4-D arrays whose channels match.

    Parameters
    ----------
    x : ndarray, shape (N, H, W, C)
    w : ndarray, 4-D
        The filters.
    b : array_like, shape (channels,) or (1, 1, 1, channels), or None
    channels : int
        The output channels, one bias each.
    what : str
        What the channels are, for the message, e.g. ``"filters of w (3, 3, 1, 8)"``.
    complex_ok : bool
        Read ``b`` with :func:`as_numeric_or_complex_array` (else :func:`as_numeric_array`).

    Returns
    -------
    b : ndarray or None
        ``b`` as an array, not cast yet.
    dtype : numpy.dtype
        The compute dtype of ``x``, ``w`` and ``b`` (:func:`float_dtype`).

    Raises
    ------
    ValueError
        If an axis of ``x`` or ``w`` is empty, or ``b`` has another shape;
        the message names the shapes.
    """
    if min(x.shape) == 0 or min(w.shape) == 0:
        raise ValueError(f"x {x.shape} and w {w.shape} must not have empty axes")
    if b is None:
        return None, float_dtype(x, w)
    b = (as_numeric_or_complex_array if complex_ok else as_numeric_array)("b", b)
    if b.shape not in ((channels,), (1, 1, 1, channels)):
        raise ValueError(
            f"b must have shape ({channels},) or (1, 1, 1, {channels}) to match the "
            f"{channels} {what}, got {b.shape}"
        )
    return b, float_dtype(x, w, b)
