"""2-D convolution (cross-correlation) in NHWC layout, forward and backward.

Three tiers with one interface -- the same arguments, the same results and
one cache type, :class:`Conv2DCache`, so that any backward pass accepts the
cache of any forward pass and the tests hold every tier against the others:

* **loops** -- :func:`conv2d_forward_naive` / :func:`conv2d_backward_naive`:
  read like the equations of the book. Slow, and meant to be trusted.
* **im2col** -- :func:`conv2d_forward_im2col` / :func:`conv2d_backward_im2col`,
  built from :func:`im2col` and :func:`col2im`: one matrix product forward,
  three backward, as chapter 7 derives them. The readable vectorised tier.
* **tuned** -- :func:`conv2d_forward` / :func:`conv2d_backward`, the functions
  every layer calls, run the tuned tier in :mod:`convlib.fast` (the same
  products, with faster memory layouts and a reused workspace).

Like every framework, the operation is a cross-correlation: the kernel is
*not* flipped::

    out[n, i, j, f] = b[f] + sum_{u, v, c} xp[n, i*sh + u*dh, j*sw + v*dw, c] * w[u, v, c, f]

where ``xp`` is the zero-padded input, ``(sh, sw)`` the stride and
``(dh, dw)`` the dilation (the window geometry is in :mod:`convlib.windows`).

Every tier takes ``groups=G`` (PyTorch's ``groups``): the ``C`` channels and
the ``F`` filters split into ``G`` consecutive groups, ``w`` has shape
``(KH, KW, C // G, F)``, and the filters of group ``g`` read only the
channels of group ``g`` (the sum over ``c`` above runs over those channels);
``G = C`` is a depthwise convolution. :mod:`convlib.grouping` holds the
bookkeeping.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ._checks import (
    as_int,
    as_numeric_array,
    as_numeric_or_complex_array,
    as_pair,
    check_cache,
    check_conv_operands,
    check_dout,
    check_groups,
    check_memory,
    check_ndim,
    float_dtype,
)
from .arithmetic import Pads, conv_output_size, resolve_padding
from .grouping import (
    _backward_per_group,
    _forward_per_group,
    group_channels,
    ungroup_channels,
)
from .windows import (
    WindowGeometry,
    _pad_spatial,
    crop_spatial,
    tap_slices,
    window_output_hw,
    window_view,
)

__all__ = [
    "Conv2DCache",
    "conv2d_forward",
    "conv2d_backward",
    "conv2d_forward_naive",
    "conv2d_backward_naive",
    "conv2d_forward_im2col",
    "conv2d_backward_im2col",
    "im2col",
    "col2im",
]


@dataclass(frozen=True)
class Conv2DCache:
    """What the forward pass keeps for the backward pass (every tier).

    Attributes
    ----------
    x_padded : ndarray, shape (N, H + top + bottom, W + left + right, C)
        The zero-padded input (the caller's input itself, not a copy, when
        there is no padding and it had the compute dtype).
    w : ndarray, shape (KH, KW, C // groups, F)
        The filters (the caller's array itself when it had the compute dtype).
    b_shape : tuple or None
        Shape in which the bias was given, ``(F,)`` or ``(1, 1, 1, F)``;
        ``None`` when the layer has no bias.
    x_shape : tuple
        ``(N, H, W, C)``, the unpadded input's shape.
    out_shape : tuple
        ``(N, OH, OW, F)``.
    stride, dilation : tuple of int
        ``(sh, sw)`` and ``(dh, dw)``.
    pads : tuple
        ``((top, bottom), (left, right))``.
    cols : ndarray or None
        The im2col matrix, shape ``(N * OH * OW, KH * KW * C)``, saved by
        :func:`conv2d_forward_im2col` and by the tuned forward (there it may
        be a non-contiguous view); ``None`` after the naive forward, and the
        backward passes that need it rebuild it.
    cols_with_ones : ndarray or None
        Only after the tuned forward of a layer with a bias: ``cols`` with a
        last column of ones appended, shape ``(N * OH * OW, KH * KW * C + 1)``
        (``cols`` is a view of its first columns). See
        :func:`convlib.fast.conv2d_forward_fast`. ``None`` otherwise.
    groups : int
        ``G``, the number of channel groups (1: an ordinary convolution).
    """

    x_padded: np.ndarray
    w: np.ndarray
    b_shape: tuple[int, ...] | None
    x_shape: tuple[int, int, int, int]
    out_shape: tuple[int, int, int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pads: Pads
    cols: np.ndarray | None = None
    cols_with_ones: np.ndarray | None = None
    groups: int = 1

    @property
    def geometry(self) -> WindowGeometry:
        """Where the layer's windows lie (see :mod:`convlib.windows`)."""
        return WindowGeometry(
            self.x_shape,
            self.pads,
            self.w.shape[:2],
            self.stride,
            self.dilation,
            self.out_shape[1:3],
        )


# --------------------------------------------------------------------------
# Argument handling shared by every tier
# --------------------------------------------------------------------------


def _prepare(
    x: Any,
    w: Any,
    b: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    *,
    call: str = "conv2d_forward",
    cols: bool = True,
    groups: Any = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, Conv2DCache]:
    """Validate the arguments, cast to the compute dtype, pad the input.

    Before allocating anything, the bytes of the arrays the forward pass
    creates -- the cast input, the padded input, the im2col matrix (when
    ``cols``: the im2col and tuned tiers) and the output -- are checked
    against the memory limit (:mod:`convlib.memory`); ``call`` names the
    function in the message.

    ``groups`` is checked by :func:`convlib._checks.check_groups` (``w`` of
    shape ``(KH, KW, C // groups, F)``).

    Returns ``(x_padded, w, b_flat, cache)``; the cache has no ``cols`` yet.
    """
    # Sums of products only: complex input passes, for the complex-step derivative.
    x = as_numeric_or_complex_array("x", x)
    w = as_numeric_or_complex_array("w", w)
    check_ndim("x", x, 4, "(N, H, W, C)")
    check_ndim("w", w, 4, "(KH, KW, C, F)")
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    groups = check_groups(groups, x.shape, w.shape)
    b, dtype = check_conv_operands(x, w, b, f, f"filters of w {w.shape}", complex_ok=True)
    b_shape = None if b is None else b.shape

    stride = as_pair("stride", stride, 1)
    dilation = as_pair("dilation", dilation, 1)
    pads = resolve_padding(padding, (h, wd), (kh, kw), stride, dilation)
    try:
        oh = conv_output_size(h, kh, stride[0], pads[0], dilation[0])
        ow = conv_output_size(wd, kw, stride[1], pads[1], dilation[1])
    except ValueError as exc:
        raise ValueError(
            f"kernel does not fit the input: x {x.shape}, w {w.shape}, "
            f"padding {pads}, dilation {dilation}: {exc}"
        ) from None

    hp, wp = h + sum(pads[0]), wd + sum(pads[1])
    big: list[tuple[str, tuple[int, ...], Any]] = [("output", (n, oh, ow, f), dtype)]
    if x.dtype != dtype:
        big.append((f"x cast to {dtype}", x.shape, dtype))
    if (hp, wp) != (h, wd):
        big.append(("padded input", (n, hp, wp, c), dtype))
    if cols:
        big.append(("im2col matrix", (n * oh * ow, kh * kw * c + (b is not None)), dtype))
    check_memory(call, big, f"x {x.shape} and w {w.shape} with padding {pads}, stride {stride}")
    x, w, b_flat = _cast(dtype, x, w, b)
    x_padded = _pad_spatial(x, pads, 0.0)  # arguments checked above
    cache = Conv2DCache(
        x_padded=x_padded,
        w=w,
        b_shape=b_shape,
        x_shape=(n, h, wd, c),
        out_shape=(n, oh, ow, f),
        stride=stride,
        dilation=dilation,
        pads=pads,
        groups=groups,
    )
    return x_padded, w, b_flat, cache


def _cast(
    dtype: np.dtype, x: np.ndarray, w: np.ndarray, b: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``x``, ``w`` and ``b`` in ``dtype`` (no copy when they have it); ``b`` flattened to 1-D."""
    b_flat = None if b is None else b.astype(dtype, copy=False).reshape(-1)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), b_flat


def _check_backward(dout: Any, cache: Any) -> np.ndarray:
    """Check a backward pass's arguments; return ``dout`` in the dtype it computes in."""
    check_cache(cache, Conv2DCache, "a conv2d forward pass")
    return check_dout(dout, cache.out_shape, cache.w.dtype, layout="(N, OH, OW, F)")


# --------------------------------------------------------------------------
# Loops that mirror the math (the reference)
# --------------------------------------------------------------------------


def conv2d_forward_naive(
    x: Any,
    w: Any,
    b: Any,
    stride: Any = 1,
    padding: Any = "valid",
    dilation: Any = 1,
    groups: Any = 1,
) -> tuple[np.ndarray, Conv2DCache]:
    """Convolution forward pass with explicit loops (the reference).

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
        Input batch, channels last.
    w : array_like, shape (KH, KW, C // groups, F)
        ``F`` filters, each spanning all ``C`` input channels (with
        ``groups > 1``, the ``C // groups`` channels of its group).
    b : array_like, shape (F,) or (1, 1, 1, F), or None
        One bias per filter.
    stride : int or (int, int)
        Step between neighbouring windows, ``(sh, sw)``.
    padding : {"valid", "same", "full"}, int, (int, int) or ((int, int), (int, int))
        Zero padding; see :func:`convlib.arithmetic.resolve_padding`.
    dilation : int or (int, int)
        Spacing between kernel taps, ``(dh, dw)``.
    groups : int
        ``G``, dividing ``C`` and ``F``: filter group ``g`` reads only channel
        group ``g`` (see :mod:`convlib.grouping`); the loops then run once
        per group, on its channels.

    Returns
    -------
    out : ndarray, shape (N, OH, OW, F)
        ``OH = (H + top + bottom - (dh * (KH - 1) + 1)) // sh + 1``, same for ``OW``.
    cache : Conv2DCache
        What :func:`conv2d_backward_naive` (or any other conv2d backward) needs.
        It keeps ``w`` and, without padding, ``x`` themselves, not copies:
        do not modify them in place before the backward pass (caches hold
        references, see :mod:`convlib`).
    """
    xp, w, b, cache = _prepare(
        x, w, b, stride, padding, dilation, call="conv2d_forward_naive", cols=False, groups=groups
    )
    if cache.groups > 1:  # grouped: these loops once per group, on its own channels
        return _forward_per_group(conv2d_forward_naive, xp, w, b, cache)[0], cache
    n, oh, ow, f = cache.out_shape
    kh, kw = w.shape[:2]
    (sh, sw), (dh, dw) = cache.stride, cache.dilation
    out = np.zeros(cache.out_shape, dtype=w.dtype)
    for i in range(n):
        for r in range(oh):
            for s in range(ow):
                # The receptive field of output pixel (r, s): KH x KW x C values.
                patch = xp[
                    i,
                    r * sh : r * sh + dh * (kh - 1) + 1 : dh,
                    s * sw : s * sw + dw * (kw - 1) + 1 : dw,
                    :,
                ]
                for k in range(f):
                    out[i, r, s, k] = np.sum(patch * w[:, :, :, k])
                    if b is not None:
                        out[i, r, s, k] += b[k]
    return out, cache


def conv2d_backward_naive(
    dout: Any, cache: Conv2DCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Convolution backward pass with explicit loops (the reference).

    Every output ``out[n, i, j, f]`` (image ``n``, output pixel ``(i, j)``,
    filter ``f``) was a dot product of one patch of the padded input with
    filter ``f``; its upstream gradient ``dout[n, i, j, f]`` flows back to
    the filter (scaled by the patch), to the patch (scaled by the filter) and
    to the bias.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, F)
        Gradient of the loss with respect to the forward output.
    cache : Conv2DCache
        From any conv2d forward pass (every tier's cache works).

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    dw : ndarray, shape (KH, KW, C // groups, F)
    db : ndarray, shape of the ``b`` given to the forward, or None
    """
    dout = _check_backward(dout, cache)
    if cache.groups > 1:  # grouped: these loops once per group, on its own channels
        return _backward_per_group(conv2d_backward_naive, dout, cache)
    xp, w = cache.x_padded, cache.w
    n_images, oh, ow, n_filters = cache.out_shape
    kh, kw = w.shape[:2]
    (sh, sw), (dh, dw) = cache.stride, cache.dilation
    dxp = np.zeros(xp.shape, dtype=dout.dtype)
    dw_ = np.zeros(w.shape, dtype=dout.dtype)
    for n in range(n_images):
        for i in range(oh):
            for j in range(ow):
                # The input rows i' and columns j' that output pixel (i, j) read.
                rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
                cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
                patch = xp[n, rows, cols, :]
                for f in range(n_filters):
                    dy = dout[n, i, j, f]  # one number of the upstream gradient
                    dw_[:, :, :, f] += dy * patch
                    dxp[n, rows, cols, :] += dy * w[:, :, :, f]
    # Every output pixel added its upstream gradient to the bias of its filter.
    db = None if cache.b_shape is None else dout.sum(axis=(0, 1, 2)).reshape(cache.b_shape)
    return crop_spatial(dxp, cache.pads, cache.x_shape[1:3]), dw_, db


# --------------------------------------------------------------------------
# im2col: the convolution as matrix products (the readable vectorised tier)
# --------------------------------------------------------------------------


def _deprecated_cache_call(name: str, new: str) -> None:
    warnings.warn(
        f"{name}(..., cache) is deprecated and will be removed in the next release; "
        f"call {new} instead",
        DeprecationWarning,
        stacklevel=3,
    )


def im2col(x_padded: Any, kernel_size: Any, stride: Any = 1, dilation: Any = 1) -> np.ndarray:
    """Copy the window of every output pixel into one row of a matrix.

    Parameters
    ----------
    x_padded : array_like, shape (N, Hp, Wp, C)
        The zero-padded input (``cache.x_padded``).
    kernel_size : int or (int, int)
        ``(KH, KW)``.
    stride, dilation : int or (int, int)

    Returns
    -------
    cols : ndarray, shape (N * OH * OW, KH * KW * C)
        Row ``(n, i, j)`` (row-major) holds the window of output pixel
        ``(i, j)`` of image ``n``, read in ``(u, v, c)`` order (kernel tap row,
        tap column, channel) -- the memory
        order of ``w``, so that ``cols @ w.reshape(-1, F)`` is the
        convolution. One reshape of :func:`convlib.windows.window_view`: the
        windows overlap, so this copies them (only a 1x1 window with stride 1
        gives a read-only view of ``x_padded`` instead).

    Notes
    -----
    ``im2col(x_padded, cache)``, the signature of earlier releases, still
    works for one release and warns (``DeprecationWarning``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> im2col(x, 2)  # four 2x2 windows, one per row
    array([[0., 1., 3., 4.],
           [1., 2., 4., 5.],
           [3., 4., 6., 7.],
           [4., 5., 7., 8.]])
    """
    if isinstance(kernel_size, Conv2DCache):
        _deprecated_cache_call("im2col", "im2col(x_padded, kernel_size, stride, dilation)")
        cache = kernel_size
        x_padded = as_numeric_array("x_padded", x_padded)
        if x_padded.shape != cache.x_padded.shape:
            raise ValueError(
                f"x_padded has shape {x_padded.shape} but the cache is of a convolution "
                f"whose padded input had shape {cache.x_padded.shape}: im2col(x_padded, "
                f"cache) needs the cache's own cache.x_padded (or an array of its shape)"
            )
        kernel_size, stride, dilation = cache.w.shape[:2], cache.stride, cache.dilation
    windows = window_view(x_padded, kernel_size, stride, dilation)  # (N, OH, OW, KH, KW, C)
    n, oh, ow, kh, kw, c = windows.shape
    check_memory(
        "im2col",
        [("im2col matrix", (n * oh * ow, kh * kw * c), windows.dtype)],
        f"{n} images of {oh} x {ow} windows of size {(kh, kw)} over {c} channels",
    )
    return windows.reshape(n * oh * ow, kh * kw * c)


def col2im(
    dcols: Any, x_padded_shape: Any, kernel_size: Any = None, stride: Any = 1, dilation: Any = 1
) -> np.ndarray:
    """Adjoint of :func:`im2col`: add each row back onto the pixels it was copied from.

    Parameters
    ----------
    dcols : array_like, shape (N * OH * OW, KH * KW * C)
        A gradient with respect to ``cols``.
    x_padded_shape : (N, Hp, Wp, C)
        Shape of the padded input that :func:`im2col` read.
    kernel_size : int or (int, int)
        ``(KH, KW)`` (required).
    stride, dilation : int or (int, int)

    Returns
    -------
    dx_padded : ndarray, shape (N, Hp, Wp, C)
        A pixel that several windows contain receives the sum of their
        entries; a pixel that no window reads receives zero. Crop the padding
        with :func:`convlib.windows.crop_spatial` to get ``dx``.

    Notes
    -----
    One addition per kernel tap ``(u, v)``: column block ``(u, v, :)`` of
    ``dcols``, reshaped to ``(N, OH, OW, C)``, is added onto the strided slice
    :func:`convlib.windows.tap_slices` that tap read. ``col2im(dcols, cache)``,
    the signature of earlier releases, still works for one release: it warns
    (``DeprecationWarning``) and returns the *cropped* gradient ``(N, H, W, C)``.
    """
    if isinstance(x_padded_shape, Conv2DCache):
        _deprecated_cache_call(
            "col2im", "col2im(dcols, x_padded_shape, kernel_size, stride, dilation)"
        )
        cache = x_padded_shape
        dx_padded = col2im(
            dcols, cache.x_padded.shape, cache.w.shape[:2], cache.stride, cache.dilation
        )
        return crop_spatial(dx_padded, cache.pads, cache.x_shape[1:3])
    if kernel_size is None:
        raise TypeError(
            "col2im() needs kernel_size: col2im(dcols, x_padded_shape, kernel_size, ...)"
        )
    dcols = as_numeric_array("dcols", dcols)
    check_ndim("dcols", dcols, 2, "(N * OH * OW, KH * KW * C)")
    if not (isinstance(x_padded_shape, (tuple, list)) and len(x_padded_shape) == 4):
        raise ValueError(f"x_padded_shape must be (N, Hp, Wp, C), got {x_padded_shape!r}")
    n, hp, wp, c = (as_int(f"x_padded_shape[{i}]", v, 1) for i, v in enumerate(x_padded_shape))
    kh, kw = as_pair("kernel_size", kernel_size, 1)
    stride, dilation = as_pair("stride", stride, 1), as_pair("dilation", dilation, 1)
    try:
        oh, ow = window_output_hw((hp, wp), (kh, kw), stride, dilation)
    except ValueError as exc:
        raise ValueError(
            f"window of kernel_size {(kh, kw)} with dilation {dilation} does not fit "
            f"x_padded_shape {(n, hp, wp, c)}: {exc}"
        ) from None
    if dcols.shape != (n * oh * ow, kh * kw * c):
        raise ValueError(
            f"dcols has shape {dcols.shape} but im2col of x_padded {(n, hp, wp, c)} with "
            f"kernel_size {(kh, kw)} has shape {(n * oh * ow, kh * kw * c)}"
        )
    check_memory(
        "col2im",
        [("dx_padded", (n, hp, wp, c), float_dtype(dcols))],
        f"x_padded_shape {(n, hp, wp, c)}",
    )
    dwindows = dcols.reshape(n, oh, ow, kh, kw, c)
    dx_padded = np.zeros((n, hp, wp, c), dtype=float_dtype(dcols))
    for u in range(kh):
        for v in range(kw):  # kernel tap (u, v): one strided slice of the padded input
            rows, cols = tap_slices(u, v, (oh, ow), stride, dilation)
            dx_padded[:, rows, cols, :] += dwindows[:, :, :, u, v, :]
    return dx_padded


def conv2d_forward_im2col(
    x: Any,
    w: Any,
    b: Any,
    stride: Any = 1,
    padding: Any = "valid",
    dilation: Any = 1,
    groups: Any = 1,
) -> tuple[np.ndarray, Conv2DCache]:
    """Convolution forward pass as one matrix product: ``Y = cols @ W + b``.

    Same arguments, results and cache as :func:`conv2d_forward_naive`. With
    ``groups = G > 1``, one product per group, ``Y_g = cols_g @ W_g``, batched
    (:func:`convlib.grouping.group_channels`).

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
    w : array_like, shape (KH, KW, C // groups, F)
    b : array_like, shape (F,) or (1, 1, 1, F), or None
    stride : int or (int, int)
    padding : {"valid", "same", "full"}, int, (int, int) or ((int, int), (int, int))
    dilation : int or (int, int)
    groups : int

    Returns
    -------
    out : ndarray, shape (N, OH, OW, F)
    cache : Conv2DCache
        Holds ``cols``, the im2col matrix, for the backward pass.
        It keeps ``w`` and, without padding, ``x`` themselves, not copies:
        do not modify them in place before the backward pass (caches hold
        references, see :mod:`convlib`).
    """
    x_padded, w, b, cache = _prepare(
        x, w, b, stride, padding, dilation, call="conv2d_forward_im2col", groups=groups
    )
    kh, kw, _, f = w.shape
    cols = im2col(x_padded, (kh, kw), cache.stride, cache.dilation)  # (N*OH*OW, KH*KW*C)
    if cache.groups == 1:
        out = cols @ w.reshape(-1, f)  # (N*OH*OW, F)
    else:  # Y_g = cols_g @ W_g for each group g: one batched product, (G, N*OH*OW, F/G)
        cols_g = group_channels(cols, cache.groups, kh * kw)
        out = ungroup_channels(cols_g @ group_channels(w.reshape(-1, f), cache.groups))
    if b is not None:
        out += b
    return out.reshape(cache.out_shape), replace(cache, cols=cols)


def conv2d_backward_im2col(
    dout: Any, cache: Conv2DCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Convolution backward pass as matrix products, then col2im.

    With ``dY = dout.reshape(-1, F)`` and ``W = w.reshape(-1, F)``::

        dW = cols.T @ dY        db = dY.sum(0)        dcols = dY @ W.T

    then :func:`col2im` adds ``dcols`` back onto the padded input and the
    padding is cropped. With ``groups > 1``, the same products once per
    group (``cols_g``, ``dY_g``, ``W_g``), batched.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, F)
    cache : Conv2DCache
        From any conv2d forward pass (``cols`` is rebuilt when the cache has
        none).

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    dw : ndarray, shape (KH, KW, C // groups, F)
    db : ndarray, shape of the ``b`` given to the forward, or None
    """
    dout = _check_backward(dout, cache)
    kh, kw, _, f = cache.w.shape
    cols = cache.cols
    if cols is None:
        cols = im2col(cache.x_padded, (kh, kw), cache.stride, cache.dilation)
    dY = dout.reshape(-1, f)  # (N*OH*OW, F)
    W = cache.w.reshape(-1, f)  # (KH*KW*C, F)

    if cache.groups == 1:
        dW = cols.T @ dY
        db = dY.sum(0)
        dcols = dY @ W.T
    else:  # the same three products for each group g, batched over the groups
        G = cache.groups
        cols_g, dY_g, W_g = (
            group_channels(cols, G, kh * kw),
            group_channels(dY, G),
            group_channels(W, G),
        )
        dW = ungroup_channels(cols_g.transpose(0, 2, 1) @ dY_g)
        db = dY.sum(0)
        dcols = ungroup_channels(dY_g @ W_g.transpose(0, 2, 1), kh * kw)
    dx_padded = col2im(dcols, cache.x_padded.shape, (kh, kw), cache.stride, cache.dilation)
    dx = crop_spatial(dx_padded, cache.pads, cache.x_shape[1:3])

    db = None if cache.b_shape is None else db.reshape(cache.b_shape)
    return dx, dW.reshape(cache.w.shape), db


# --------------------------------------------------------------------------
# The functions every layer calls: the tuned tier
# --------------------------------------------------------------------------


def conv2d_forward(
    x: Any,
    w: Any,
    b: Any,
    stride: Any = 1,
    padding: Any = "valid",
    dilation: Any = 1,
    groups: Any = 1,
) -> tuple[np.ndarray, Conv2DCache]:
    """Convolution forward pass, the fast one: runs :func:`convlib.fast.conv2d_forward_fast`.

    Same arguments, results and cache as :func:`conv2d_forward_im2col` and
    :func:`conv2d_forward_naive`; this is the function the layers call.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
    w : array_like, shape (KH, KW, C // groups, F)
    b : array_like, shape (F,) or (1, 1, 1, F), or None
    stride : int or (int, int)
    padding : {"valid", "same", "full"}, int, (int, int) or ((int, int), (int, int))
    dilation : int or (int, int)
    groups : int
        ``G``, dividing ``C`` and ``F``; see :func:`conv2d_forward_naive`.

    Returns
    -------
    out : ndarray, shape (N, OH, OW, F)
    cache : Conv2DCache
        It keeps ``w`` and, without padding, ``x`` themselves, not copies:
        do not modify them in place before the backward pass (caches hold
        references, see :mod:`convlib`).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(49.0).reshape(1, 7, 7, 1)
    >>> w = np.ones((3, 3, 1, 1))
    >>> out, cache = conv2d_forward(x, w, np.zeros(1))
    >>> out.shape
    (1, 5, 5, 1)
    >>> float(out[0, 0, 0, 0])  # 0+1+2 + 7+8+9 + 14+15+16
    72.0
    """
    # Imported here: the tuned tier builds on this module.
    from .fast.conv import conv2d_forward_fast

    return conv2d_forward_fast(x, w, b, stride, padding, dilation, groups)


def conv2d_backward(
    dout: Any, cache: Conv2DCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Convolution backward pass, the fast one: runs :func:`convlib.fast.conv2d_backward_fast`.

    Computes what :func:`conv2d_backward_im2col` computes, and accepts a
    cache from any conv2d forward pass.

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
    # Imported here: the tuned tier builds on this module.
    from .fast.conv import conv2d_backward_fast

    return conv2d_backward_fast(dout, cache)
