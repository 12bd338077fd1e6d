"""Layers that merge several arrays: element-wise sum and concatenation, forward and backward.

They are what a network needs beyond a stack: a *skip connection*
``y = x + F(x)`` adds two arrays, a multi-branch block concatenates its
branches' channels. With arrays ``x1, ..., xk`` of one shape::

    out = x1 + x2 + ... + xk          dx_i = dout          (for every i)

the sum passes its upstream gradient unchanged to every input. For
``(N, H, W, C_i)`` arrays concatenated along the last axis::

    out = concat(x1, ..., xk)         dx_i = dout[..., o_i : o_i + C_i]

with ``o_i = C_1 + ... + C_(i-1)``: each input gets back the slice of the
gradient that lies where its channels were put. Neither has parameters.
The layer objects :class:`convlib.layers.Add` and :class:`convlib.layers.Concat`
wrap these functions for :class:`convlib.graph.Graph`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import as_numeric_or_complex_array, check_cache, check_dout, float_dtype

__all__ = [
    "AddCache",
    "ConcatCache",
    "add_forward",
    "add_backward",
    "concat_forward",
    "concat_backward",
]


@dataclass(frozen=True)
class AddCache:
    """What :func:`add_forward` keeps for :func:`add_backward`.

    Attributes
    ----------
    shape : tuple of int
        The common shape of the inputs (and of the output).
    count : int
        The number of inputs ``k``.
    dtype : numpy.dtype
        The compute dtype.
    """

    shape: tuple[int, ...]
    count: int
    dtype: np.dtype


@dataclass(frozen=True)
class ConcatCache:
    """What :func:`concat_forward` keeps for :func:`concat_backward`.

    Attributes
    ----------
    shapes : tuple of tuple of int
        The shape of every input, in order.
    dtype : numpy.dtype
        The compute dtype.
    """

    shapes: tuple[tuple[int, ...], ...]
    dtype: np.dtype


def _as_inputs(xs: tuple[Any, ...], call: str) -> list[np.ndarray]:
    """The inputs as arrays; at least two of them."""
    if len(xs) < 2:
        raise ValueError(
            f"{call} takes at least two arrays (x1, x2, ...), got {len(xs)}: "
            "merging one array is not a merge"
        )
    return [as_numeric_or_complex_array(f"x{i + 1}", x) for i, x in enumerate(xs)]


def add_forward(*xs: Any) -> tuple[np.ndarray, AddCache]:
    """Element-wise sum of two or more arrays of the same shape: ``out = x1 + x2 + ...``.

    No broadcasting: every input must have the same shape (a skip connection
    whose branch changed the shape is a mistake this refuses).

    Parameters
    ----------
    *xs : array_like, each of the same shape (N, ...)
        At least two.

    Returns
    -------
    out : ndarray, shape of every x
        In the promoted floating-point dtype of the inputs (integers: float64).
    cache : AddCache

    Raises
    ------
    ValueError
        Fewer than two inputs, or inputs of different shapes (all shapes named).

    Examples
    --------
    >>> import numpy as np
    >>> out, cache = add_forward(np.ones((2, 3)), np.full((2, 3), 2.0))
    >>> out[0]
    array([3., 3., 3.])
    >>> [float(dx.sum()) for dx in add_backward(np.ones((2, 3)), cache)]
    [6.0, 6.0]
    """
    arrays = _as_inputs(xs, "add_forward")
    shapes = [a.shape for a in arrays]
    if any(s != shapes[0] for s in shapes):
        listed = ", ".join(f"x{i + 1} {s}" for i, s in enumerate(shapes))
        raise ValueError(f"add_forward needs inputs of one shape (no broadcasting), got {listed}")
    dtype = float_dtype(*arrays)
    out = arrays[0].astype(dtype, copy=True)
    for a in arrays[1:]:
        out += a
    return out, AddCache(shape=shapes[0], count=len(arrays), dtype=dtype)


def add_backward(dout: Any, cache: AddCache) -> tuple[np.ndarray, ...]:
    """Gradient of :func:`add_forward`: ``dout`` itself for every input.

    Each ``dx_i`` is a separate copy, so that changing one in place cannot
    change another.

    Parameters
    ----------
    dout : array_like, shape of the output
    cache : AddCache
        From :func:`add_forward`.

    Returns
    -------
    tuple of ndarray
        ``(dx1, ..., dxk)``, each of the output's shape.
    """
    check_cache(cache, AddCache, "add_forward")
    dout = check_dout(dout, cache.shape, cache.dtype)
    return tuple(dout.copy() for _ in range(cache.count))


def concat_forward(*xs: Any) -> tuple[np.ndarray, ConcatCache]:
    """Concatenate two or more arrays along their last axis (the channels in NHWC).

    Parameters
    ----------
    *xs : array_like, shapes (N, ..., C_i)
        At least two, with the same number of axes and equal sizes on every
        axis but the last (for images: equal N, H and W).

    Returns
    -------
    out : ndarray, shape (N, ..., C_1 + ... + C_k)
        In the promoted floating-point dtype of the inputs.
    cache : ConcatCache

    Raises
    ------
    ValueError
        Fewer than two inputs, a 0-d input, or inputs that differ in any axis
        but the last (all shapes named).

    Examples
    --------
    >>> import numpy as np
    >>> out, cache = concat_forward(np.zeros((2, 4, 4, 3)), np.ones((2, 4, 4, 5)))
    >>> out.shape
    (2, 4, 4, 8)
    >>> [dx.shape for dx in concat_backward(out, cache)]
    [(2, 4, 4, 3), (2, 4, 4, 5)]
    """
    arrays = _as_inputs(xs, "concat_forward")
    shapes = [a.shape for a in arrays]
    for i, s in enumerate(shapes):
        if len(s) < 1:
            raise ValueError(
                f"concat_forward: x{i + 1} is a scalar (shape ()), it has no channel axis"
            )
    if any(len(s) != len(shapes[0]) or s[:-1] != shapes[0][:-1] for s in shapes):
        listed = ", ".join(f"x{i + 1} {s}" for i, s in enumerate(shapes))
        raise ValueError(
            "concat_forward joins along the last axis and needs equal sizes on every other "
            f"axis (for images: equal N, H, W), got {listed}"
        )
    dtype = float_dtype(*arrays)
    out = np.concatenate([a.astype(dtype, copy=False) for a in arrays], axis=-1)
    return out, ConcatCache(shapes=tuple(shapes), dtype=dtype)


def concat_backward(dout: Any, cache: ConcatCache) -> tuple[np.ndarray, ...]:
    """Gradient of :func:`concat_forward`: the slice of ``dout`` where each input's channels went.

    Parameters
    ----------
    dout : array_like, shape (N, ..., C_1 + ... + C_k)
    cache : ConcatCache
        From :func:`concat_forward`.

    Returns
    -------
    tuple of ndarray
        ``(dx1, ..., dxk)``, ``dx_i`` of shape ``(N, ..., C_i)`` (copies, not views).
    """
    check_cache(cache, ConcatCache, "concat_forward")
    first = cache.shapes[0]
    total = sum(s[-1] for s in cache.shapes)
    dout = check_dout(dout, (*first[:-1], total), cache.dtype)
    ends = np.cumsum([s[-1] for s in cache.shapes])
    starts = ends - np.array([s[-1] for s in cache.shapes])
    return tuple(dout[..., int(a) : int(b)].copy() for a, b in zip(starts, ends))
