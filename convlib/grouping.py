"""Grouped convolution's bookkeeping: which channels and filters form each group.

A convolution with ``groups = G`` (Krizhevsky et al. 2012; PyTorch's
``groups``) splits the ``C`` input channels and the ``F`` filters into ``G``
consecutive groups of ``Cg = C // G`` channels and ``Fg = F // G`` filters:
filter ``f`` belongs to group ``g = f // Fg`` and reads only channels
``g * Cg, ..., (g + 1) * Cg - 1``. Its weights ``w`` have shape
``(KH, KW, Cg, F)``.

In the im2col form of chapter 7 the grouped convolution is ``G`` ordinary
ones side by side: with ``cols_g`` the columns of ``cols`` that read group
``g``'s channels and ``W_g`` the weight matrix of group ``g``'s filters,
``Y_g = cols_g @ W_g``. :func:`group_channels` splits a matrix's last axis
into its groups (a stack of ``G`` matrices, for one batched ``matmul``),
:func:`ungroup_channels` puts them back. :func:`ungrouped_weights` gives the
ordinary convolution that computes the same output: zero wherever a filter
does not read a channel, so that its weight matrix is block-diagonal (in
channel-major row order).

The loops and the tuned tier run a grouped convolution as ``G`` ungrouped
ones, each on its group's channel slice of the padded input; the private
helpers at the end of this module do that slicing once for both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import as_int, as_numeric_or_complex_array, check_ndim
from .windows import crop_spatial

if TYPE_CHECKING:
    from .conv import Conv2DCache

__all__ = ["group_channels", "ungroup_channels", "ungrouped_weights"]


def group_channels(a: Any, groups: Any, taps: Any = 1) -> np.ndarray:
    """Split the last axis of a matrix into ``groups`` consecutive channel groups.

    Parameters
    ----------
    a : array_like, shape (M, taps * C)
        A matrix whose columns are ordered ``(tap, channel)``: ``cols`` of
        :func:`convlib.im2col` (``taps = KH * KW``), an upstream gradient
        ``dY`` of shape ``(M, F)`` or a weight matrix ``w.reshape(-1, F)``
        (``taps = 1``).
    groups : int
        ``G``; must divide ``C``.
    taps : int
        Number of column blocks of ``C`` channels.

    Returns
    -------
    ndarray, shape (G, M, taps * C // G)
        Entry ``g`` holds the columns of ``a`` whose channel is in group
        ``g``, still in ``(tap, channel)`` order (a copy unless ``G = 1`` or
        ``taps = 1`` allow a view).

    Examples
    --------
    >>> a = np.arange(8).reshape(2, 4)          # M = 2 rows, 4 channels
    >>> group_channels(a, 2)[1]                 # channels 2 and 3
    array([[2, 3],
           [6, 7]])
    """
    a = as_numeric_or_complex_array("a", a)
    check_ndim("a", a, 2, "(M, taps * C)")
    groups, taps = as_int("groups", groups, 1), as_int("taps", taps, 1)
    m, k = a.shape
    if k % (taps * groups):
        raise ValueError(
            f"a has {k} columns (shape {a.shape}), not taps * C with taps={taps} "
            f"and C divisible by groups={groups}"
        )
    cg = k // (taps * groups)
    return a.reshape(m, taps, groups, cg).transpose(2, 0, 1, 3).reshape(groups, m, taps * cg)


def ungroup_channels(a_groups: Any, taps: Any = 1) -> np.ndarray:
    """Put the groups of :func:`group_channels` back side by side (its inverse).

    Parameters
    ----------
    a_groups : array_like, shape (G, M, taps * Cg)
        One matrix per group, columns in ``(tap, channel)`` order.
    taps : int
        Number of column blocks.

    Returns
    -------
    ndarray, shape (M, taps * G * Cg)
        Columns in ``(tap, channel)`` order, channel ``g * Cg + c`` coming from
        column ``(tap, c)`` of group ``g``.

    Examples
    --------
    >>> a = np.arange(12.0).reshape(3, 4)
    >>> bool(np.array_equal(ungroup_channels(group_channels(a, 2)), a))
    True
    """
    a_groups = as_numeric_or_complex_array("a_groups", a_groups)
    check_ndim("a_groups", a_groups, 3, "(G, M, taps * Cg)")
    taps = as_int("taps", taps, 1)
    groups, m, k = a_groups.shape
    if k % taps:
        raise ValueError(
            f"a_groups has {k} columns per group (shape {a_groups.shape}), "
            f"not a multiple of taps={taps}"
        )
    cg = k // taps
    return (
        a_groups.reshape(groups, m, taps, cg).transpose(1, 2, 0, 3).reshape(m, taps * groups * cg)
    )


def ungrouped_weights(w: Any, groups: Any) -> np.ndarray:
    """The weights of the ordinary convolution that equals a grouped one.

    Parameters
    ----------
    w : array_like, shape (KH, KW, C // G, F)
        Weights of a convolution with ``groups = G``.
    groups : int
        ``G``; must divide ``F``.

    Returns
    -------
    ndarray, shape (KH, KW, C, F)
        ``w`` where filter ``f`` (group ``g = f // (F // G)``) meets a
        channel of group ``g``, zero elsewhere: ``conv2d_forward(x, W, b)``
        equals ``conv2d_forward(x, w, b, groups=G)``. Its weight matrix
        ``W.transpose(2, 0, 1, 3).reshape(-1, F)`` (rows in channel-major
        ``(c, u, v)`` order) is block-diagonal, ``G`` blocks of
        ``(KH * KW * C // G) x (F // G)``.

    Examples
    --------
    >>> ungrouped_weights(np.ones((1, 1, 1, 2)), 2)[0, 0]   # depthwise, C = F = 2
    array([[1., 0.],
           [0., 1.]])
    """
    w = as_numeric_or_complex_array("w", w)
    check_ndim("w", w, 4, "(KH, KW, C // groups, F)")
    groups = as_int("groups", groups, 1)
    kh, kw, cg, f = w.shape
    if f % groups:
        raise ValueError(
            f"groups={groups} must divide the filters F={f} (w {w.shape}, "
            f"layout (KH, KW, C // groups, F))"
        )
    fg = f // groups
    full = np.zeros((kh, kw, cg * groups, f), dtype=w.dtype)
    for g in range(groups):
        full[:, :, g * cg : (g + 1) * cg, g * fg : (g + 1) * fg] = w[:, :, :, g * fg : (g + 1) * fg]
    return full


# --------------------------------------------------------------------------
# One ungrouped convolution per group (the loops and the tuned tier use them)
# --------------------------------------------------------------------------


def _group_slices(cache: Conv2DCache, g: int) -> tuple[slice, slice]:
    """The input channels and the filters of group ``g``."""
    cg, f = cache.w.shape[2:]
    fg = f // cache.groups
    return slice(g * cg, (g + 1) * cg), slice(g * fg, (g + 1) * fg)


def _group_cache(cache: Conv2DCache, g: int) -> Conv2DCache:
    """The cache of group ``g`` alone: an ungrouped convolution of its padded channels.

    Its input is the channel slice of ``cache.x_padded`` (a view) with no
    padding, so its ``dx`` is group ``g``'s slice of the padded ``dx``.
    """
    from .conv import Conv2DCache  # imported here: convlib.conv builds on this module

    chans, filters = _group_slices(cache, g)
    xp, w = cache.x_padded[..., chans], cache.w[..., filters]
    return Conv2DCache(
        x_padded=xp,
        w=w,
        b_shape=None if cache.b_shape is None else (w.shape[3],),
        x_shape=(xp.shape[0], xp.shape[1], xp.shape[2], xp.shape[3]),
        out_shape=(*cache.out_shape[:3], w.shape[3]),
        stride=cache.stride,
        dilation=cache.dilation,
        pads=((0, 0), (0, 0)),
    )


def _forward_per_group(
    forward: Any, x_padded: np.ndarray, w: np.ndarray, b: np.ndarray | None, cache: Conv2DCache
) -> tuple[np.ndarray, list[Conv2DCache]]:
    """Run an ungrouped ``forward`` once per group; return the output and each group's cache."""
    out = np.empty(cache.out_shape, dtype=w.dtype)
    caches = []
    for g in range(cache.groups):
        chans, filters = _group_slices(cache, g)
        b_g = None if b is None else b[filters]
        out_g, cache_g = forward(
            x_padded[..., chans], w[..., filters], b_g, cache.stride, 0, cache.dilation
        )
        out[..., filters] = out_g
        caches.append(cache_g)
    return out, caches


def _backward_per_group(
    backward: Any, dout: np.ndarray, cache: Conv2DCache, caches: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Run an ungrouped ``backward`` once per group and assemble ``dx``, ``dw``, ``db``.

    ``caches`` are the groups' own caches (from :func:`_forward_per_group`);
    by default they are cut out of ``cache`` by :func:`_group_cache`.
    """
    dxp = np.empty(cache.x_padded.shape, dtype=dout.dtype)
    dw = np.empty(cache.w.shape, dtype=dout.dtype)
    db = None if cache.b_shape is None else np.empty(cache.w.shape[3], dtype=dout.dtype)
    for g in range(cache.groups):
        chans, filters = _group_slices(cache, g)
        cache_g = _group_cache(cache, g) if caches is None else caches[g]
        dx_g, dw_g, db_g = backward(dout[..., filters], cache_g)
        dxp[..., chans], dw[..., filters] = dx_g, dw_g
        if db is not None:
            db[filters] = db_g
    db = None if db is None else db.reshape(cache.b_shape)
    return crop_spatial(dxp, cache.pads, cache.x_shape[1:3]), dw, db
