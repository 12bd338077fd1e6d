"""Inverted dropout, forward and backward.

In training, each element of ``x`` is zeroed with probability ``p`` and the
survivors are multiplied by ``1 / (1 - p)``, so the expected value of every
output element equals its input: ``E[out] = (1 - p) * x / (1 - p) = x``.
``p`` is the probability of *dropping* an element, as PyTorch's ``p`` (Keras
calls it ``rate``); the book writes it ``q`` in formulas, where ``p`` is
padding, and writes the random mask of zeros and ones ``xi``.
Because the scaling happens during training ("inverted" dropout), evaluation
needs no correction at all: the layer is the identity there.

With the mask fixed, the forward pass is linear in ``x``,
``out = x * mask / (1 - p)`` element by element, so its Jacobian is diagonal
and the backward pass routes the gradient through the same mask with the
same scale: ``dx = dout * mask / (1 - p)``. A gradient check must therefore
reuse the mask of the forward pass (draw it from a generator with the same
seed every time).

The random mask comes from a ``numpy.random.Generator`` the caller passes in,
so a run is reproducible from its seed (``np.random.default_rng(seed)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import (
    as_bool,
    as_numeric_array,
    as_numeric_or_complex_array,
    as_real,
    check_cache,
    check_dout,
    float_dtype,
)

__all__ = ["DropoutCache", "dropout_forward", "dropout_backward"]


@dataclass(frozen=True)
class DropoutCache:
    """What :func:`dropout_forward` keeps for :func:`dropout_backward`.

    Attributes
    ----------
    scaled_mask : ndarray, shape of x, or None
        ``keep / (1 - p)``: 0 for dropped elements, ``1 / (1 - p)`` for kept
        ones. ``None`` when the forward was the identity (evaluation mode or
        ``p == 0``).
    shape : tuple of int
        Shape of ``x``.
    dtype : numpy.dtype
        Floating-point dtype of the forward computation.
    p : float
        Drop probability.
    training : bool
    """

    scaled_mask: np.ndarray | None
    shape: tuple[int, ...]
    dtype: np.dtype
    p: float
    training: bool


def _check_p(p: Any) -> float:
    """The drop probability: a real number in ``[0, 1)`` (shared with the Dropout layer).

    ``p = 1`` would drop everything and divide by ``1 - p = 0``.
    """
    return as_real("p", p, low=0.0, high=1.0, high_open=True)


def _check_scale(p: float, dtype: np.dtype) -> np.floating:
    """The survivors' scale ``1 / (1 - p)`` in ``dtype``, refusing ``p`` for which it overflows.

    In float16 (largest value 65504) ``p`` above ``1 - 1/65504 = 0.99998`` would
    make the scale infinite and every dropped element ``0 * inf = NaN``.
    The scale is computed in float64 and only then rounded to ``dtype``.
    """
    dtype = np.dtype(dtype)
    scale = 1.0 / (1.0 - p)
    largest = float(np.finfo(dtype).max)
    if scale > largest:
        raise ValueError(
            f"p={p!r} is too close to 1 for {dtype}: the scale 1 / (1 - p) = {scale:.6g} "
            f"exceeds the largest {dtype} ({largest:g}), so the output would be inf and NaN; "
            f"use p <= {1 - 1 / largest:.8g} or a wider dtype"
        )
    return dtype.type(scale)


def dropout_forward(
    x: Any, p: float, rng: np.random.Generator, training: bool = True
) -> tuple[np.ndarray, DropoutCache]:
    """Inverted dropout: drop each element with probability ``p``, rescale the rest.

    Parameters
    ----------
    x : array_like, any shape
    p : float in [0, 1)
        Probability of *dropping* an element (not of keeping it).
    rng : numpy.random.Generator
        Source of the random mask, e.g. ``np.random.default_rng(0)``. It is
        required in evaluation mode too (and then left untouched), so that a
        wrong argument is caught whatever the mode.
    training : bool
        Apply dropout (True) or be the identity (False).

    Returns
    -------
    out : ndarray, shape of x
        Floating point (integers become float64). In evaluation mode or with
        ``p == 0`` this is ``x`` itself (no copy) when ``x`` already is a
        float array.
    cache : DropoutCache

    Raises
    ------
    TypeError
        ``rng`` not a ``numpy.random.Generator``; ``p`` not a real number.
    ValueError
        ``p`` outside ``[0, 1)``, or so close to 1 that ``1 / (1 - p)``
        overflows the dtype (float16: ``p > 0.99998``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones((2, 4))
    >>> out, cache = dropout_forward(x, 0.5, np.random.default_rng(0))
    >>> sorted(set(out.ravel().tolist()))  # dropped -> 0, kept -> 1 / (1 - 0.5)
    [0.0, 2.0]
    >>> dropout_forward(x, 0.5, np.random.default_rng(0), training=False)[0] is x
    True
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    p = _check_p(p)
    training = as_bool("training", training)
    # Evaluation mode is the identity: complex-step input passes. Training draws
    # a fresh mask on every call, which the complex step cannot differentiate.
    x = (as_numeric_array if training else as_numeric_or_complex_array)("x", x)
    dtype = float_dtype(x)
    x = x.astype(dtype, copy=False)
    if not training or p == 0.0:
        return x, DropoutCache(None, x.shape, dtype, p, training)
    scale = _check_scale(p, dtype)
    # float32 uniforms are enough to compare with p, and twice as fast to draw.
    keep = rng.random(x.shape, dtype=np.float32) >= p
    scaled_mask = keep * scale
    return x * scaled_mask, DropoutCache(scaled_mask, x.shape, dtype, p, True)


def dropout_backward(dout: Any, cache: DropoutCache) -> np.ndarray:
    """Gradient of :func:`dropout_forward`: ``dout * keep / (1 - p)``.

    Parameters
    ----------
    dout : array_like, shape of x
        Gradient of the loss with respect to the output.
    cache : DropoutCache
        From :func:`dropout_forward`.

    Returns
    -------
    dx : ndarray, shape of x
        ``dout`` unchanged (as floats) when the forward was the identity.
    """
    check_cache(cache, DropoutCache, "dropout_forward")
    dout = check_dout(dout, cache.shape, cache.dtype)
    if cache.scaled_mask is None:
        return dout
    return dout * cache.scaled_mask
