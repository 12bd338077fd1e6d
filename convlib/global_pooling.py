"""Global average pooling: one number per channel, the mean over the whole image.

A residual network ends its convolutional part with feature maps of shape
``(N, H, W, C)`` and classifies from their per-channel means::

    out[n, c] = (1 / (H W)) * sum_{i, j} x[n, i, j, c]          # (N, H, W, C) -> (N, C)

Every input position contributes ``1 / (H W)`` of itself, so the backward
pass spreads each output gradient evenly over the map it averaged::

    dx[n, i, j, c] = dout[n, c] / (H W)                          # (N, C) -> (N, H, W, C)

Unlike :func:`convlib.dense.flatten_forward` followed by a dense layer, the
classifier after it has ``C`` inputs whatever the image size, and the
prediction does not depend on *where* a feature was found. It is average
pooling (:func:`convlib.pooling.avgpool2d_forward`) with one window the size
of the whole image, without the spatial axes of size 1.
"""

from __future__ import annotations

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

__all__ = ["GlobalAvgPoolCache", "global_avgpool_forward", "global_avgpool_backward"]


@dataclass(frozen=True)
class GlobalAvgPoolCache:
    """What :func:`global_avgpool_forward` keeps for :func:`global_avgpool_backward`.

    Attributes
    ----------
    x_shape : tuple of int
        ``(N, H, W, C)``, the shape of the input.
    dtype : numpy.dtype
        The compute dtype.
    """

    x_shape: tuple[int, int, int, int]
    dtype: np.dtype


def global_avgpool_forward(x: Any) -> tuple[np.ndarray, GlobalAvgPoolCache]:
    """Mean of every channel over the whole image: ``(N, H, W, C) -> (N, C)``.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
        NHWC feature maps, ``H, W >= 1``. Integer input is computed in float64.

    Returns
    -------
    out : ndarray, shape (N, C)
        ``out[n, c] = x[n, :, :, c].mean()``.
    cache : GlobalAvgPoolCache

    Raises
    ------
    TypeError
        If ``x`` is not numeric.
    ValueError
        If ``x`` is not 4-D or has an empty image (``H == 0`` or ``W == 0``).

    Examples
    --------
    >>> x = np.arange(8.0).reshape(1, 2, 2, 2)   # channel 0: 0, 2, 4, 6; channel 1: 1, 3, 5, 7
    >>> out, cache = global_avgpool_forward(x)
    >>> out
    array([[3., 4.]])
    """
    x = as_numeric_or_complex_array("x", x)
    check_ndim("x", x, 4, "(N, H, W, C)")
    n, h, w, c = x.shape
    if h == 0 or w == 0:
        raise ValueError(
            f"x must hold images of at least 1 x 1 pixels to average over, got shape {x.shape} "
            "(N, H, W, C)"
        )
    dtype = float_dtype(x)
    x = x.astype(dtype, copy=False)
    out = x.mean(axis=(1, 2), dtype=dtype)
    return out, GlobalAvgPoolCache(x_shape=(n, h, w, c), dtype=dtype)


def global_avgpool_backward(dout: Any, cache: GlobalAvgPoolCache) -> np.ndarray:
    """Gradient of :func:`global_avgpool_forward`: ``dout / (H W)`` at every pixel.

    Parameters
    ----------
    dout : array_like, shape (N, C)
        Gradient of the loss with respect to the forward output.
    cache : GlobalAvgPoolCache
        From :func:`global_avgpool_forward`.

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
        A new (writable) array.

    Raises
    ------
    TypeError
        If ``cache`` is not a :class:`GlobalAvgPoolCache` or ``dout`` is not numeric.
    ValueError
        If ``dout`` does not have the shape ``(N, C)`` of the forward output.

    Examples
    --------
    >>> _, cache = global_avgpool_forward(np.zeros((1, 2, 2, 1)))
    >>> global_avgpool_backward(np.array([[4.0]]), cache)[0, :, :, 0]
    array([[1., 1.],
           [1., 1.]])
    """
    check_cache(cache, GlobalAvgPoolCache, "global_avgpool_forward")
    n, h, w, c = cache.x_shape
    dout = check_dout(dout, (n, c), cache.dtype, layout="(N, C)")
    scaled = dout * dout.dtype.type(1.0 / (h * w))
    return np.broadcast_to(scaled[:, np.newaxis, np.newaxis, :], cache.x_shape).copy()
