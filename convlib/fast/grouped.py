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
are many and tiny (a depthwise convolution of many channels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..conv import Conv2DCache, _check_backward, _prepare
from ..grouping import _backward_per_group, _forward_per_group
from .conv import conv2d_backward_fast, conv2d_forward_fast

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
) -> tuple[np.ndarray, GroupedConv2DCache]:
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
    cache : GroupedConv2DCache
        ``cols`` is ``None`` (each group's cache holds its own); it keeps
        ``w`` and, without padding, ``x`` themselves, not copies (see
        :mod:`convlib`).
    """
    xp, w, b, cache = _prepare(
        x, w, b, stride, padding, dilation, call="conv2d_forward_fast", groups=groups
    )
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
    caches = cache.group_caches if isinstance(cache, GroupedConv2DCache) else None
    return _backward_per_group(conv2d_backward_fast, dout, cache, caches or None)
