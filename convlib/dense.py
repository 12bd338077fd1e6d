"""Fully connected (dense, affine) layer and flatten, forward and backward.

A dense layer maps each row of ``x`` to ``x @ w + b``. With ``N`` examples
of ``D`` features and ``M`` outputs::

    out = x @ w + b            # (N, D) @ (D, M) + (M,) -> (N, M)

    dx  = dout @ w.T           # (N, M) @ (M, D) -> (N, D)
    dw  = x.T @ dout           # (D, N) @ (N, M) -> (D, M)
    db  = dout.sum(axis=0)     # (M,)

Each gradient has the shape of what it differentiates, which is a quick way
to remember where the transposes go. ``flatten_forward`` turns the
``(N, H, W, C)`` feature maps of a convolutional network into the
``(N, H * W * C)`` rows a dense layer takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import (
    as_numeric_or_complex_array,
    check_cache,
    check_dout,
    check_ndim,
    float_dtype,
)

__all__ = [
    "DenseCache",
    "FlattenCache",
    "dense_forward",
    "dense_backward",
    "flatten_forward",
    "flatten_backward",
]


@dataclass(frozen=True)
class DenseCache:
    """What :func:`dense_forward` keeps for :func:`dense_backward`.

    Attributes
    ----------
    x : ndarray, shape (N, D)
        The input, in the compute dtype: the caller's array itself when it
        already had that dtype (a reference, not a copy).
    w : ndarray, shape (D, M)
        The weights, in the compute dtype (likewise a reference).
    has_bias : bool
        Whether the forward had a bias (``db`` is ``None`` otherwise).
    """

    x: np.ndarray
    w: np.ndarray
    has_bias: bool


@dataclass(frozen=True)
class FlattenCache:
    """What :func:`flatten_forward` keeps: the input's shape and dtype.

    Attributes
    ----------
    x_shape : tuple of int
        ``(N, ...)``.
    dtype : numpy.dtype
    """

    x_shape: tuple[int, ...]
    dtype: np.dtype


def dense_forward(x: Any, w: Any, b: Any = None) -> tuple[np.ndarray, DenseCache]:
    """Affine map of every row: ``out = x @ w + b``.

    Parameters
    ----------
    x : array_like, shape (N, D)
        ``N`` examples of ``D`` features (flatten feature maps first, see
        :func:`flatten_forward`).
    w : array_like, shape (D, M)
        Weights.
    b : array_like, shape (M,), or None
        Biases; ``None`` for a layer without bias.

    Returns
    -------
    out : ndarray, shape (N, M)
        In the promoted floating-point dtype of the inputs.
    cache : DenseCache

    Notes
    -----
    The cache keeps ``x`` and ``w`` themselves, not copies (caches hold
    references, see :mod:`convlib`): modifying either in place before
    :func:`dense_backward` silently changes the gradients (``dw = x.T @ dout``
    reads ``x`` then). Pass ``x.copy()`` if ``x`` must change before.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0]])
    >>> w = np.array([[1.0, 0.0, -1.0], [0.5, 1.0, 2.0]])
    >>> out, cache = dense_forward(x, w, np.array([0.0, 0.0, 1.0]))
    >>> out
    array([[2., 2., 4.]])
    """
    x = as_numeric_or_complex_array("x", x)  # a product: complex-step input passes
    w = as_numeric_or_complex_array("w", w)
    if x.ndim != 2:
        raise ValueError(
            f"x must be 2-D with shape (N, D), got shape {x.shape} ({x.ndim}-D); "
            f"flatten feature maps first with flatten_forward"
        )
    check_ndim("w", w, 2, "(D, M)")
    if x.shape[1] != w.shape[0]:
        raise ValueError(
            f"x has {x.shape[1]} features (shape {x.shape}, layout (N, D)) but w expects "
            f"{w.shape[0]} (shape {w.shape}, layout (D, M))"
        )
    arrays = [x, w]
    if b is not None:
        b = as_numeric_or_complex_array("b", b)
        if b.shape != (w.shape[1],):
            raise ValueError(
                f"b must have shape ({w.shape[1]},) to match the {w.shape[1]} outputs "
                f"of w {w.shape}, got {b.shape}"
            )
        arrays.append(b)
    dtype = float_dtype(*arrays)
    x = x.astype(dtype, copy=False)
    w = w.astype(dtype, copy=False)
    out = x @ w
    if b is not None:
        out += b.astype(dtype, copy=False)
    return out, DenseCache(x=x, w=w, has_bias=b is not None)


def dense_backward(
    dout: Any, cache: DenseCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`dense_forward`.

    Parameters
    ----------
    dout : array_like, shape (N, M)
        Gradient of the loss with respect to the layer's output.
    cache : DenseCache
        From :func:`dense_forward`.

    Returns
    -------
    dx : ndarray, shape (N, D)
        ``dout @ w.T``.
    dw : ndarray, shape (D, M)
        ``x.T @ dout``: summed over the batch, not averaged (the loss's
        gradient already carries the ``1 / N``).
    db : ndarray, shape (M,), or None
        ``dout.sum(axis=0)``; ``None`` when the forward had no bias.
    """
    check_cache(cache, DenseCache, "dense_forward")
    n, m = cache.x.shape[0], cache.w.shape[1]
    dout = check_dout(dout, (n, m), cache.w.dtype, layout="(N, M)")
    dtype = dout.dtype
    x = cache.x.astype(dtype, copy=False)
    w = cache.w.astype(dtype, copy=False)
    dx = dout @ w.T
    dw = x.T @ dout
    db = dout.sum(axis=0) if cache.has_bias else None
    return dx, dw, db


def flatten_forward(x: Any) -> tuple[np.ndarray, FlattenCache]:
    """Flatten every example into one row: ``(N, d1, d2, ...) -> (N, d1 * d2 * ...)``.

    NHWC feature maps become rows ordered ``(h, w, c)``, channel fastest.
    Integer input becomes float64; float input is returned as a view when
    its memory layout allows.

    Parameters
    ----------
    x : array_like, shape (N, ...)
        At least 1-D; a 1-D ``x`` of shape ``(N,)`` becomes ``(N, 1)``.

    Returns
    -------
    out : ndarray, shape (N, prod(x.shape[1:]))
    cache : FlattenCache

    Examples
    --------
    >>> import numpy as np
    >>> out, cache = flatten_forward(np.zeros((2, 3, 3, 4)))
    >>> out.shape
    (2, 36)
    >>> flatten_backward(out, cache).shape
    (2, 3, 3, 4)
    """
    x = as_numeric_or_complex_array("x", x)
    if x.ndim < 1:
        raise ValueError(
            f"x must have a batch axis, shape (N, ...), got a scalar of shape {x.shape}"
        )
    dtype = float_dtype(x)
    x = x.astype(dtype, copy=False)
    out = x.reshape(x.shape[0], math.prod(x.shape[1:]))
    return out, FlattenCache(x_shape=x.shape, dtype=dtype)


def flatten_backward(dout: Any, cache: FlattenCache) -> np.ndarray:
    """Gradient of :func:`flatten_forward`: reshape ``dout`` back to ``x``'s shape.

    Parameters
    ----------
    dout : array_like, shape (N, prod(x.shape[1:]))
    cache : FlattenCache
        From :func:`flatten_forward`.

    Returns
    -------
    dx : ndarray, shape of x
    """
    check_cache(cache, FlattenCache, "flatten_forward")
    shape = cache.x_shape
    expected = (shape[0], math.prod(shape[1:]))
    dout = check_dout(dout, expected, cache.dtype, layout=f"(the flattened x of shape {shape})")
    return dout.reshape(shape)
