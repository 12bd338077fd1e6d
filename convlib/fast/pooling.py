"""Tuned max and average pooling: stride phases and whole-pixel copies.

Same arguments, results and cache (:class:`convlib.pooling.Pool2DCache`) as
the loops and the window tier of :mod:`convlib.pooling`;
:func:`convlib.maxpool2d_forward` and the other pooling functions the layers
call run these.

* Forward: :func:`convlib.fast.phases.phase_window_views` gives the pixels at
  each window offset as an ``(N, OH, OW, C)`` array -- with a stride, slices
  of one contiguous copy per stride phase, moved as whole pixels. A running
  maximum (or sum) over the ``PH * PW`` offsets then never loops over pixels,
  and never materialises the ``PH * PW`` times larger array of all windows
  that :func:`convlib.pooling.maxpool2d_forward_windows` reduces.
* Backward: :func:`convlib.fast.phases.phase_scatter`, the scatter that
  convolution's ``dx`` uses as well. For the book's usual 2x2 windows with
  stride 2 each phase is read by one offset, so the backward pass is four
  whole-pixel copies with no accumulation and no zero-fill.

Whole-pixel copies (each pixel's ``C`` channels moved as one item) were
several times faster than copying the same strided slices number by number
for the pooling layers of the book's networks (measured in an earlier run).

Max pooling, forward and backward, splits its images over the compute
threads when the caller opts in (:mod:`convlib.fast.threads`); every image
is computed by the same operations, so the results do not depend on the
thread count.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..pooling import Pool2DCache, _check_backward, _index_dtype, _prepare, _real_counts
from ..windows import _pad_spatial
from .phases import _phase_scatter, _phase_window_views
from .threads import run_batch_chunks

__all__ = [
    "maxpool2d_forward_fast",
    "maxpool2d_backward_fast",
    "avgpool2d_forward_fast",
    "avgpool2d_backward_fast",
]


def maxpool2d_forward_fast(
    x: Any, pool_size: Any, stride: Any = None, padding: Any = 0
) -> tuple[np.ndarray, Pool2DCache]:
    """Max pooling forward pass, tuned: a running maximum over the window offsets.

    Same arguments, results and cache as
    :func:`convlib.pooling.maxpool2d_forward_naive`. Going through the
    ``PH * PW`` offsets in row-major order, only a *strictly* larger value
    replaces the running maximum, which is what makes the first maximum win
    ties. ``np.maximum`` propagates NaN; when the output holds any (one
    ``min`` over the output tells), the windows whose output is NaN get the
    position of their last NaN instead (PyTorch's rule, see
    :mod:`convlib.pooling`). Inputs without NaN pay only that ``min``.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
    pool_size : int or (int, int)
    stride : int or (int, int), optional
        Default: ``pool_size``.
    padding : {"valid", "same"}, int, (int, int) or ((int, int), (int, int))

    Returns
    -------
    out : ndarray, shape (N, OH, OW, C)
    cache : Pool2DCache
    """
    x, cache = _prepare(x, pool_size, stride, padding, "max")
    out = np.empty(cache.out_shape, dtype=x.dtype)
    argmax: np.ndarray = np.zeros(cache.out_shape, dtype=_index_dtype(cache))

    def rows(r: slice) -> None:
        """Images ``r``: every output element depends on its own image only."""
        views = _phase_window_views(_pad_spatial(x[r], cache.pads, -np.inf), cache.geometry)
        o, a = out[r], argmax[r]
        o[...] = views[0]
        better = np.empty(o.shape, dtype=bool)
        for k in range(1, len(views)):  # offsets in row-major order
            np.greater(views[k], o, out=better)  # strict: a later equal value does not win
            np.maximum(o, views[k], out=o)
            # The winner's offset is the last k at which the running maximum
            # strictly grew, i.e. the largest such k.
            np.maximum(a, better * a.dtype.type(k), out=a)
        if np.isnan(o.min()):  # min propagates NaN: true iff some window held one
            nan_out = np.isnan(o)
            for k, view in enumerate(views):  # in row-major order: the last NaN stays
                a[nan_out & np.isnan(view)] = k

    # Split over the compute threads (convlib.runtime.compute_threads; one by default).
    run_batch_chunks(rows, x.shape[0], x.size)
    return out, replace(cache, argmax=argmax)


def maxpool2d_backward_fast(dout: Any, cache: Pool2DCache) -> np.ndarray:
    """Max pooling backward pass, tuned.

    Offset ``k = p * PW + q`` passes ``(argmax == k) * dout`` back through
    :func:`convlib.fast.phases.phase_scatter`.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, C)
    cache : Pool2DCache
        From any maxpool2d forward pass.

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    """
    dout = _check_backward(dout, cache, "max")
    argmax, pw, geometry = cache.argmax, cache.pool_size[1], cache.geometry
    assert argmax is not None  # every max-pooling cache holds it (checked above)
    dx = np.empty(geometry.x_shape, dtype=dout.dtype)

    def rows(r: slice) -> None:
        """Images ``r`` of ``dx`` from images ``r`` of ``dout``."""
        a, d = argmax[r], dout[r]
        part = replace(geometry, x_shape=(a.shape[0], *geometry.x_shape[1:]))
        _phase_scatter(lambda p, q: (a == p * pw + q) * d, part, dout.dtype, out=dx[r])

    # Split over the compute threads (convlib.runtime.compute_threads; one by default).
    run_batch_chunks(rows, dout.shape[0], dx.size)
    return dx


def avgpool2d_forward_fast(
    x: Any, pool_size: Any, stride: Any = None, padding: Any = 0
) -> tuple[np.ndarray, Pool2DCache]:
    """Average pooling forward pass, tuned: a running sum over the window offsets.

    Same arguments, results and cache as
    :func:`convlib.pooling.avgpool2d_forward_naive`.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
    pool_size : int or (int, int)
    stride : int or (int, int), optional
        Default: ``pool_size``.
    padding : {"valid", "same"}, int, (int, int) or ((int, int), (int, int))

    Returns
    -------
    out : ndarray, shape (N, OH, OW, C)
    cache : Pool2DCache
    """
    x, cache = _prepare(x, pool_size, stride, padding, "avg")
    counts = _real_counts(cache)
    views = _phase_window_views(_pad_spatial(x, cache.pads, 0.0), cache.geometry)
    out = views[0].copy()
    for view in views[1:]:
        out += view
    out /= counts
    return out, replace(cache, counts=counts)


def avgpool2d_backward_fast(dout: Any, cache: Pool2DCache) -> np.ndarray:
    """Average pooling backward pass, tuned.

    Every offset passes ``dout / counts`` back through
    :func:`convlib.fast.phases.phase_scatter`.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, C)
    cache : Pool2DCache
        From any avgpool2d forward pass.

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    """
    dout = _check_backward(dout, cache, "avg")
    assert cache.counts is not None  # every average-pooling cache holds them (checked above)
    g = dout / cache.counts.astype(dout.dtype, copy=False)
    return _phase_scatter(lambda p, q: g, cache.geometry, dout.dtype)
