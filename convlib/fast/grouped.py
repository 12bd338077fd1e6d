"""Tuned grouped convolution: the ungrouped tuned functions, once per group.

:func:`conv2d_forward_grouped_fast` and :func:`conv2d_backward_grouped_fast`
compute what :func:`convlib.conv2d_forward_im2col` and
:func:`convlib.conv2d_backward_im2col` compute with ``groups = G > 1``; the
tuned functions :func:`convlib.fast.conv2d_forward_fast` and
:func:`convlib.fast.conv2d_backward_fast` hand grouped calls to them.

Group ``g`` is an ordinary convolution of its ``C // G`` channels with its
``F // G`` filters, so each group runs the ungrouped tuned functions of
:mod:`convlib.fast.conv`, with all of their tricks. The input is padded once
for all groups (each group reads a channel slice of it, a view), and the
forward keeps every group's cache, so that the backward reuses each group's
im2col matrix, as the ungrouped tuned tier does. The cost is one Python
iteration per group, which is small next to the products unless the groups
are many and tiny.

That is the case of a depthwise convolution (one channel per group,
``C // G = 1``), which gets a path of its own: one multiply-add of strided
slices per kernel tap, with no im2col matrix and no loop over the groups
(:func:`_depthwise_forward`, :func:`_depthwise_backward`). Measured against
the loop over groups on 32 float32 images of 14 x 14 with a 3 x 3 kernel, one
BLAS thread, medians of 7 alternating runs at load average 13-14 (so only
the ratios mean anything): C = 32, forward 60 -> 23 ms, backward 54 -> 2 ms;
C = 64, forward 83 -> 14 ms, backward 196 -> 28 ms; C = 16 with two filters
per channel, forward 44 -> 1.3 ms, backward equal (39 ms).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import as_int
from ..conv import Conv2DCache, _check_backward, _prepare
from ..grouping import _backward_per_group, _forward_per_group
from ..windows import crop_spatial, tap_slices
from .conv import _batch_slices, conv2d_backward_fast, conv2d_forward_fast
from .threads import elementwise_thread_count, run_batch_chunks, run_chunks

__all__ = ["GroupedConv2DCache", "conv2d_forward_grouped_fast", "conv2d_backward_grouped_fast"]


@dataclass(frozen=True)
class GroupedConv2DCache(Conv2DCache):
    """A :class:`convlib.conv.Conv2DCache` that also keeps each group's own cache.

    Every conv2d backward accepts it (the readable tiers ignore the extra
    field); :func:`conv2d_backward_grouped_fast` reuses the groups' im2col
    matrices from it.

    Attributes
    ----------
    group_caches : tuple of Conv2DCache
        ``G`` caches, cache ``g`` from the ungrouped tuned forward of group
        ``g``: input the padded channels ``g * C // G, ..., (g + 1) * C // G - 1``
        (shape ``(N, Hp, Wp, C // G)``), filters ``w[..., g * F // G : (g + 1) * F // G]``.
    """

    group_caches: tuple[Conv2DCache, ...] = ()


def conv2d_forward_grouped_fast(
    x: Any,
    w: Any,
    b: Any,
    stride: Any = 1,
    padding: Any = "valid",
    dilation: Any = 1,
    groups: Any = 1,
) -> tuple[np.ndarray, Conv2DCache]:
    """Grouped convolution forward pass, tuned: one ungrouped tuned forward per group.

    Same arguments, results and cache contents as
    :func:`convlib.conv2d_forward_im2col` with ``groups``.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
    w : array_like, shape (KH, KW, C // groups, F)
    b : array_like, shape (F,) or (1, 1, 1, F), or None
    stride : int or (int, int)
    padding : {"valid", "same", "full"}, int, (int, int) or ((int, int), (int, int))
    dilation : int or (int, int)
    groups : int
        ``G``, dividing ``C`` and ``F``.

    Returns
    -------
    out : ndarray, shape (N, OH, OW, F)
    cache : GroupedConv2DCache or Conv2DCache
        ``cols`` is ``None`` (each group's cache holds its own; a depthwise
        convolution, ``C // groups = 1``, returns a plain ``Conv2DCache``
        with no groups' caches and no ``cols``); it keeps
        ``w`` and, without padding, ``x`` themselves, not copies (see
        :mod:`convlib`).
    """
    if as_int("groups", groups, 1) == 1:  # np.int64(1), say: the ungrouped tuned path
        return conv2d_forward_fast(x, w, b, stride, padding, dilation)
    xp, w, b, cache = _prepare(
        x, w, b, stride, padding, dilation, call="conv2d_forward_fast", groups=groups
    )
    if w.shape[2] == 1:  # depthwise: one channel per group, no loop over the groups
        return _depthwise_forward(xp, w, b, cache), cache
    out, caches = _forward_per_group(conv2d_forward_fast, xp, w, b, cache)
    fields = {name: getattr(cache, name) for name in cache.__dataclass_fields__}
    return out, GroupedConv2DCache(**fields, group_caches=tuple(caches))


def conv2d_backward_grouped_fast(
    dout: Any, cache: Conv2DCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Grouped convolution backward pass, tuned: one ungrouped tuned backward per group.

    Accepts the cache of any conv2d forward pass with ``groups``; with a
    :class:`GroupedConv2DCache` each group reuses its own im2col matrix,
    otherwise each group's cache is cut out of ``cache`` (its channel slice
    of ``cache.x_padded``, its filters) and the tuned backward rebuilds it.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, F)
    cache : Conv2DCache

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    dw : ndarray, shape (KH, KW, C // groups, F)
    db : ndarray, shape of the ``b`` given to the forward, or None
    """
    dout = _check_backward(dout, cache)
    if cache.w.shape[2] == 1:  # depthwise
        return _depthwise_backward(dout, cache)
    caches = cache.group_caches if isinstance(cache, GroupedConv2DCache) else None
    return _backward_per_group(conv2d_backward_fast, dout, cache, caches or None)


def _filter_inputs(x_padded: np.ndarray, filters: int) -> np.ndarray:
    """The padded input channel that each filter of a depthwise convolution reads.

    Filter ``f`` reads channel ``f // m`` (``m = F // C`` filters per
    channel); with ``m = 1`` that is ``x_padded`` itself, otherwise a copy.
    """
    m = filters // x_padded.shape[3]
    return x_padded if m == 1 else np.repeat(x_padded, m, axis=3)


def _depthwise_forward(
    x_padded: np.ndarray, w: np.ndarray, b: np.ndarray | None, cache: Conv2DCache
) -> np.ndarray:
    """Depthwise forward: ``out[..., f] = sum over taps of x_tap[..., f // m] * w[u, v, 0, f]``.

    Tap ``(u, v)`` of every window is one strided slice of the padded input
    (:func:`convlib.windows.tap_slices`), so the whole convolution is
    ``KH * KW`` element-wise multiply-adds of ``(N, OH, OW, F)`` arrays.
    With compute threads (:mod:`convlib.fast.threads`) each chunk of examples
    runs these same operations on its rows: bit-identical results (batch 128
    of 14 x 14 x 32, float32, load ~6, critical path: 5.89 -> 2.90 ms at two
    threads; ``benchmarks/README.md``).
    """
    kh, kw, _, f = w.shape
    out = np.empty(cache.out_shape, dtype=w.dtype)

    def chunk(r: slice) -> None:
        xf = _filter_inputs(x_padded[r], f)
        o = out[r]
        o[...] = 0
        for u in range(kh):
            for v in range(kw):
                rows, cols = tap_slices(u, v, cache.out_shape[1:3], cache.stride, cache.dilation)
                o += xf[:, rows, cols, :] * w[u, v, 0]
        if b is not None:
            o += b

    run_batch_chunks(chunk, out.shape[0], out.size)
    return out


def _depthwise_backward(
    dout: np.ndarray, cache: Conv2DCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Depthwise backward, tap by tap: ``dw[u, v, 0]`` and the tap's share of ``dx``.

    With compute threads, the workers compute ``dx`` in chunks of examples
    (the same element-wise operations on their rows: bit-identical) while the
    calling thread computes ``dw`` and ``db``, sums over the whole batch,
    exactly as with one thread (batch 128 of 14 x 14 x 32, float32, load ~6,
    critical path: 9.53 -> 6.36 ms at two threads; ``benchmarks/README.md``).
    """
    kh, kw, _, f = cache.w.shape
    n, hp, wp, c = cache.x_padded.shape
    w = cache.w.astype(dout.dtype, copy=False)
    dx = np.empty(cache.x_shape, dtype=dout.dtype)
    dw = np.empty(cache.w.shape, dtype=dout.dtype)
    taps = [
        (u, v, *tap_slices(u, v, cache.out_shape[1:3], cache.stride, cache.dilation))
        for u in range(kh)
        for v in range(kw)
    ]

    def weights() -> None:
        xf = _filter_inputs(cache.x_padded, f)
        for u, v, rows, cols in taps:
            dw[u, v, 0] = np.einsum("nijf,nijf->f", dout, xf[:, rows, cols, :])

    def chunk(r: slice) -> None:
        d = dout[r]
        dxf = np.zeros((d.shape[0], hp, wp, f), dtype=dout.dtype)
        for u, v, rows, cols in taps:
            dxf[:, rows, cols, :] += d * w[u, v, 0]
        # filters of one channel add their shares
        dxp = dxf if f == c else dxf.reshape(d.shape[0], hp, wp, c, f // c).sum(axis=4)
        dx[r] = crop_spatial(dxp, cache.pads, cache.x_shape[1:3])

    threads = elementwise_thread_count(n, n * hp * wp * f)
    if threads == 1:
        weights()
        chunk(slice(0, n))
    else:
        run_chunks(chunk, _batch_slices(n, threads), weights)
    db = None if cache.b_shape is None else dout.sum(axis=(0, 1, 2)).reshape(cache.b_shape)
    return dx, dw, db
