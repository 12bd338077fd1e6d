"""2-D convolution (cross-correlation) in NHWC layout, forward and backward.

Two implementations with one interface:

* :func:`conv2d_forward_naive` / :func:`conv2d_backward_naive` -- plain loops
  that read like the equations of the book. Slow, and meant to be trusted.
* :func:`conv2d_forward` / :func:`conv2d_backward` -- the fast path: an
  *im2col* copy followed by one matrix product, and a backward made of matrix
  products as well (see chapter 7 of the book).

Both take and return the same arrays and the same cache, so the tests can hold
one against the other. Like every framework, the operation is a
cross-correlation: the kernel is *not* flipped::

    out[n, i, j, f] = b[f] + sum_{p, q, c} xp[n, i*sh + p*dh, j*sw + q*dw, c] * w[p, q, c, f]

where ``xp`` is the zero-padded input, ``(sh, sw)`` the stride and
``(dh, dw)`` the dilation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._checks import as_numeric_array, as_pair, check_ndim, float_dtype
from .arithmetic import Pads, conv_output_size, resolve_padding

__all__ = [
    "Conv2DCache",
    "conv2d_forward",
    "conv2d_backward",
    "conv2d_forward_naive",
    "conv2d_backward_naive",
    "im2col",
    "col2im",
]


@dataclass(frozen=True)
class Conv2DCache:
    """What the forward pass keeps for the backward pass.

    Attributes
    ----------
    x_padded : ndarray, shape (N, H + top + bottom, W + left + right, C)
        The zero-padded input (the input itself when there is no padding).
    w : ndarray, shape (KH, KW, C, F)
        The filters.
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
        The im2col matrix saved by the fast forward, shape
        ``(N * OH * OW, KH * KW * C)``; ``None`` after the naive forward.
        It may be a non-contiguous view (see :func:`im2col`).
    cols_with_ones : ndarray or None
        Only after the fast forward of a layer with a bias: ``cols`` with a
        last column of ones appended, shape ``(N * OH * OW, KH * KW * C + 1)``
        (``cols`` is a view of its first columns). The forward multiplies it
        by the weights stacked on the bias; the backward gets ``dw`` and
        ``db`` from one product with it. ``None`` otherwise.
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


# --------------------------------------------------------------------------
# Argument handling shared by both paths
# --------------------------------------------------------------------------


def _prepare(
    x: Any, w: Any, b: Any, stride: Any, padding: Any, dilation: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, Conv2DCache]:
    """Validate the arguments, cast to the compute dtype, pad the input.

    Returns ``(x_padded, w, b_flat, cache)``; the cache has no ``cols`` yet.
    """
    x = as_numeric_array("x", x)
    w = as_numeric_array("w", w)
    check_ndim("x", x, 4, "(N, H, W, C)")
    check_ndim("w", w, 4, "(KH, KW, C, F)")
    n, h, wd, c = x.shape
    kh, kw, wc, f = w.shape
    if wc != c:
        raise ValueError(
            f"x has {c} channels (shape {x.shape}) but w expects {wc} "
            f"(shape {w.shape}, layout (KH, KW, C, F))"
        )
    if min(x.shape) == 0 or min(w.shape) == 0:
        raise ValueError(f"x {x.shape} and w {w.shape} must not have empty axes")

    arrays = [x, w]
    b_shape = None
    if b is not None:
        b = as_numeric_array("b", b)
        b_shape = b.shape
        if b.shape not in ((f,), (1, 1, 1, f)):
            raise ValueError(
                f"b must have shape ({f},) or (1, 1, 1, {f}) to match the {f} filters "
                f"of w {w.shape}, got {b.shape}"
            )
        arrays.append(b)

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

    dtype = float_dtype(*arrays)
    x = x.astype(dtype, copy=False)
    w = w.astype(dtype, copy=False)
    b_flat = None if b is None else b.astype(dtype, copy=False).reshape(f)

    (top, bottom), (left, right) = pads
    if top or bottom or left or right:
        x_padded = np.zeros((n, h + top + bottom, wd + left + right, c), dtype=dtype)
        x_padded[:, top : top + h, left : left + wd, :] = x
    else:
        x_padded = x

    cache = Conv2DCache(
        x_padded=x_padded,
        w=w,
        b_shape=b_shape,
        x_shape=(n, h, wd, c),
        out_shape=(n, oh, ow, f),
        stride=stride,
        dilation=dilation,
        pads=pads,
    )
    return x_padded, w, b_flat, cache


def _check_dout(dout: Any, cache: Any) -> np.ndarray:
    """Validate the upstream gradient against the cache's output shape."""
    if not isinstance(cache, Conv2DCache):
        raise TypeError(
            f"cache must be the Conv2DCache returned by a conv2d forward, "
            f"got {type(cache).__name__}"
        )
    dout = as_numeric_array("dout", dout)
    if dout.shape != cache.out_shape:
        raise ValueError(
            f"dout has shape {dout.shape} but the forward output had shape "
            f"{cache.out_shape} (N, OH, OW, F)"
        )
    # Float gradients follow NumPy promotion with the weights; integer ones
    # take the weights' dtype.
    dtype = np.result_type(dout, cache.w) if dout.dtype.kind == "f" else cache.w.dtype
    return dout.astype(dtype, copy=False)


def _window(cache: Conv2DCache, p: int, q: int) -> tuple[slice, slice]:
    """Rows and columns of the padded input that kernel tap ``(p, q)`` reads.

    Output pixel ``(i, j)`` multiplies ``w[p, q]`` with the padded input at
    row ``i * sh + p * dh`` and column ``j * sw + q * dw``; over all outputs
    these rows form one strided slice.
    """
    (sh, sw), (dh, dw) = cache.stride, cache.dilation
    _, oh, ow, _ = cache.out_shape
    r0, c0 = p * dh, q * dw
    return slice(r0, r0 + sh * (oh - 1) + 1, sh), slice(c0, c0 + sw * (ow - 1) + 1, sw)


def _crop(dx_padded: np.ndarray, cache: Conv2DCache) -> np.ndarray:
    """Drop the padding from the gradient of the padded input.

    Uses explicit end indices: ``a[p:-p]`` would be empty when ``p == 0``.
    """
    (top, _), (left, _) = cache.pads
    _, h, w, _ = cache.x_shape
    return dx_padded[:, top : top + h, left : left + w, :]


def _bias_grad(dout: np.ndarray, cache: Conv2DCache) -> np.ndarray | None:
    if cache.b_shape is None:
        return None
    f = cache.out_shape[3]
    db = dout.reshape(-1, f).sum(axis=0)
    return db.reshape(cache.b_shape)


# --------------------------------------------------------------------------
# Reference implementation: loops that mirror the math
# --------------------------------------------------------------------------


def conv2d_forward_naive(
    x: Any, w: Any, b: Any, stride: Any = 1, padding: Any = "valid", dilation: Any = 1
) -> tuple[np.ndarray, Conv2DCache]:
    """Convolution forward pass with explicit loops (the reference).

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
        Input batch, channels last.
    w : array_like, shape (KH, KW, C, F)
        ``F`` filters, each spanning all ``C`` input channels.
    b : array_like, shape (F,) or (1, 1, 1, F), or None
        One bias per filter.
    stride : int or (int, int)
        Step between neighbouring windows, ``(sh, sw)``.
    padding : {"valid", "same", "full"}, int, (int, int) or ((int, int), (int, int))
        Zero padding; see :func:`convlib.arithmetic.resolve_padding`.
    dilation : int or (int, int)
        Spacing between kernel taps, ``(dh, dw)``.

    Returns
    -------
    out : ndarray, shape (N, OH, OW, F)
        ``OH = (H + top + bottom - (dh * (KH - 1) + 1)) // sh + 1``, same for ``OW``.
    cache : Conv2DCache
        What :func:`conv2d_backward_naive` (or :func:`conv2d_backward`) needs.
    """
    xp, w, b, cache = _prepare(x, w, b, stride, padding, dilation)
    n, oh, ow, f = cache.out_shape
    kh, kw = w.shape[:2]
    (sh, sw), (dh, dw) = cache.stride, cache.dilation
    out = np.zeros(cache.out_shape, dtype=w.dtype)
    for i in range(n):
        for r in range(oh):
            for s in range(ow):
                # The receptive field of output pixel (r, s): KH x KW x C values.
                patch = xp[i, r * sh : r * sh + dh * (kh - 1) + 1 : dh,
                              s * sw : s * sw + dw * (kw - 1) + 1 : dw, :]
                for k in range(f):
                    out[i, r, s, k] = np.sum(patch * w[:, :, :, k])
                    if b is not None:
                        out[i, r, s, k] += b[k]
    return out, cache


def conv2d_backward_naive(
    dout: Any, cache: Conv2DCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Convolution backward pass with explicit loops (the reference).

    Every output pixel ``out[i, r, s, k]`` was a dot product of one patch of
    the padded input with filter ``k``; its upstream gradient flows back to
    the filter (scaled by the patch), to the patch (scaled by the filter) and
    to the bias.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, F)
        Gradient of the loss with respect to the forward output.
    cache : Conv2DCache
        From :func:`conv2d_forward_naive` or :func:`conv2d_forward`.

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    dw : ndarray, shape (KH, KW, C, F)
    db : ndarray, shape of the ``b`` given to the forward, or None
    """
    dout = _check_dout(dout, cache)
    xp, w = cache.x_padded, cache.w
    n, oh, ow, f = cache.out_shape
    kh, kw = w.shape[:2]
    (sh, sw), (dh, dw) = cache.stride, cache.dilation
    dxp = np.zeros(xp.shape, dtype=dout.dtype)
    dw_ = np.zeros(w.shape, dtype=dout.dtype)
    for i in range(n):
        for r in range(oh):
            for s in range(ow):
                rows = slice(r * sh, r * sh + dh * (kh - 1) + 1, dh)
                cols = slice(s * sw, s * sw + dw * (kw - 1) + 1, dw)
                patch = xp[i, rows, cols, :]
                for k in range(f):
                    g = dout[i, r, s, k]
                    dw_[:, :, :, k] += g * patch
                    dxp[i, rows, cols, :] += g * w[:, :, :, k]
    return _crop(dxp, cache), dw_, _bias_grad(dout, cache)


# --------------------------------------------------------------------------
# Fast path: im2col + GEMM
# --------------------------------------------------------------------------
#
# How the fast path spends its time, and why it is written this way (timings
# in benchmarks/bench_conv.py; see benchmarks/README.md):
#
# * im2col is ONE copy from a strided view of the padded input (no data is
#   read twice by Python-level loops). Its column order (kh, kw, c) is the
#   memory order of w, so w.reshape(K, F) is the right-hand matrix as is.
# * Two memory layouts of the same matrix. With few input channels the
#   copied runs of the row layout (M, K) would be only KW * C numbers long,
#   so the transposed, "channel-major" layout (K, M) is filled instead: its
#   runs are image rows. With more channels the row layout wins.
# * The bias is folded into the matrix products: the buffer gets one extra
#   row (or column) of ones and the weight matrix one extra row holding b.
#   A separate broadcast ``out += b`` or ``dout.sum(axis=0)`` costs as much
#   as the GEMM itself when F is small.
# * dx adds one small GEMM per kernel tap into a strided slice of the padded
#   gradient (no scatter with np.add.at, which is several times slower). For
#   strides > 1 the padded gradient is accumulated as stride "phases" so each
#   addition touches contiguous runs, then interleaved once at the end.
# * Temporaries that die inside a call (the transposed input, dcols, the
#   per-tap product, the phase accumulator) live in a per-thread workspace
#   reused across calls (_scratch): a fresh multi-megabyte array costs a page
#   fault per 4 KiB page, which dominated the small layers.

#: Inputs with at most this many channels use the channel-major im2col layout.
_CHANNEL_MAJOR_MAX_C = 4

#: Per-thread workspace for the fast path's temporaries (see :func:`_scratch`).
_WORKSPACE = threading.local()


def _scratch(name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised array for a temporary that never leaves the function.

    The memory is kept per thread under ``name`` and handed out again by the
    next call (grown when a larger array is asked for), so repeated calls do
    not allocate it afresh. Freshly allocated multi-megabyte arrays are
    expensive: glibc gives freed large blocks back to the operating system,
    and every 4 KiB page then costs a page fault when it is touched again
    (about 2.5 us each on the 2-core benchmark machine -- more than the
    arithmetic of a small layer). Only arrays that are dead when the fast
    path returns may live here: never an output, never a cache entry.
    The workspace holds at most one array per name, as large as the largest
    layer asked for; it is freed when its thread ends.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    buf = getattr(_WORKSPACE, name, None)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(nbytes, dtype=np.uint8)
        setattr(_WORKSPACE, name, buf)
    return buf[:nbytes].view(dtype).reshape(shape)


def _channel_major(c: int) -> bool:
    """Whether inputs with ``c`` channels use the transposed im2col layout."""
    return c <= _CHANNEL_MAJOR_MAX_C


def _windows(x_padded: np.ndarray, cache: Conv2DCache, channel_major: bool) -> np.ndarray:
    """Read-only strided view of every receptive field of the padded input.

    Element ``[n, i, j, p, q, c]`` of the row-layout view (shape
    ``(N, OH, OW, KH, KW, C)``) and element ``[p, q, c, n, i, j]`` of the
    channel-major view (shape ``(KH, KW, C, N, OH, OW)``) are both
    ``x_padded[n, i*sh + p*dh, j*sw + q*dw, c]``. Nothing is copied: the view
    only has other strides than ``x_padded``.
    """
    n, oh, ow, _ = cache.out_shape
    kh, kw, c, _ = cache.w.shape
    (sh, sw), (dh, dw) = cache.stride, cache.dilation
    s0, s1, s2, s3 = x_padded.strides
    if channel_major:
        shape = (kh, kw, c, n, oh, ow)
        strides = (dh * s1, dw * s2, s3, s0, sh * s1, sw * s2)
    else:
        shape = (n, oh, ow, kh, kw, c)
        strides = (s0, sh * s1, sw * s2, dh * s1, dw * s2, s3)
    return as_strided(x_padded, shape=shape, strides=strides, writeable=False)


#: Row stride of the row-layout im2col buffer is rounded up to a multiple of
#: this many elements: an odd stride (K + 1 with the bias column) slowed the
#: dw product down by ~10 %.
_ROW_ALIGN = 16


def _im2col(x_padded: np.ndarray, cache: Conv2DCache, ones: bool) -> np.ndarray:
    """Fill the im2col matrix, with an optional last column of ones.

    Returns
    -------
    ndarray, shape (M, K) or (M, K + 1)
        ``M = N * OH * OW``, ``K = KH * KW * C``; column ``K`` (if ``ones``)
        holds ones, which multiply the bias. With few channels
        (``C <= _CHANNEL_MAJOR_MAX_C``) this is a transposed view of a
        C-contiguous ``(K + 1, M)`` buffer, otherwise a view of the first
        columns of an ``(M, L)`` buffer, ``L >= K + 1``.
    """
    n, oh, ow, _ = cache.out_shape
    kh, kw, c, _ = cache.w.shape
    m, k = n * oh * ow, kh * kw * c
    width = k + 1 if ones else k
    if _channel_major(c):
        buf = np.empty((width, m), dtype=x_padded.dtype)
        if ones:
            buf[k] = 1
        if c > 1:
            # Channels first in memory, so that each copied run is an image row.
            xt = _scratch("x_chw", (c, *x_padded.shape[:3]), x_padded.dtype)
            xt[...] = x_padded.transpose(3, 0, 1, 2)
            x_padded = xt.transpose(1, 2, 3, 0)
        buf[:k].reshape(kh, kw, c, n, oh, ow)[...] = _windows(x_padded, cache, True)
        return buf.T
    row = -(-width // _ROW_ALIGN) * _ROW_ALIGN
    buf = np.empty((m, row), dtype=x_padded.dtype)
    if ones:
        buf[:, k] = 1
    buf.reshape(n, oh, ow, row)[..., :k].reshape(n, oh, ow, kh, kw, c)[...] = _windows(
        x_padded, cache, False
    )
    return buf[:, :width]


def _accumulate_taps(
    tap_grad: Callable[[int, int], np.ndarray],
    cache: Conv2DCache,
    channel_major: bool,
    dtype: np.dtype,
) -> np.ndarray:
    """Add every kernel tap's gradient onto the input pixels it read.

    Parameters
    ----------
    tap_grad : callable
        ``tap_grad(p, q)`` returns the gradient reaching the input through
        kernel tap ``(p, q)``: shape ``(N, OH, OW, C)``, or ``(C, N, OH, OW)``
        when ``channel_major``.
    cache : Conv2DCache
    channel_major : bool
    dtype : numpy dtype of the result.

    Returns
    -------
    ndarray, shape (N, H, W, C)
        The gradient of the unpadded input.

    Notes
    -----
    Tap ``(p, q)`` read padded row ``i*sh + p*dh`` for output row ``i``. With
    the rows split into ``sh`` phases (``row = u*sh + a``) those rows are the
    consecutive rows ``u = i + (p*dh) // sh`` of phase ``a = (p*dh) % sh``;
    columns likewise. Accumulating phase by phase makes every addition a
    block of consecutive rows and columns; the phases are interleaved (and
    the padding cropped) by one strided copy per phase at the end. For
    stride 1 in the row layout there is one phase in NHWC order, and the
    accumulator itself, cropped, is the result.
    """
    n, oh, ow, _ = cache.out_shape
    kh, kw, c, _ = cache.w.shape
    _, hp, wp, _ = cache.x_padded.shape
    (sh, sw), (dh, dw) = cache.stride, cache.dilation
    hq, wq = -(-hp // sh), -(-wp // sw)
    # The accumulator is the result itself (a cropped view of it) only for
    # the row layout with stride 1; otherwise it is copied out at the end
    # and can live in the workspace.
    in_place = not channel_major and sh == sw == 1
    shape = (sh, sw, c, n, hq, wq) if channel_major else (sh, sw, n, hq, wq, c)
    if in_place:
        acc = np.zeros(shape, dtype=dtype)
    else:
        acc = _scratch("dx_acc", shape, dtype)
        acc.fill(0)
    for p in range(kh):
        u0, a = divmod(p * dh, sh)
        for q in range(kw):
            v0, b = divmod(q * dw, sw)
            if channel_major:
                acc[a, b, :, :, u0 : u0 + oh, v0 : v0 + ow] += tap_grad(p, q)
            else:
                acc[a, b, :, u0 : u0 + oh, v0 : v0 + ow, :] += tap_grad(p, q)
    if in_place:
        return _crop(acc.reshape(n, hp, wp, c), cache)
    # Copy the phases out, cropping the padding: unpadded pixel (y, x) is
    # padded row top + y = u*sh + a and column left + x = v*sw + b.
    (top, _), (left, _) = cache.pads
    _, h, w, _ = cache.x_shape
    dx = np.empty(cache.x_shape, dtype=dtype)
    for a in range(sh):
        y0 = (a - top) % sh  # first unpadded row in phase a
        u0 = (top + y0) // sh
        for b in range(sw):
            x0 = (b - left) % sw
            v0 = (left + x0) // sw
            ny, nx = len(range(y0, h, sh)), len(range(x0, w, sw))
            if channel_major:
                src = acc[a, b, :, :, u0 : u0 + ny, v0 : v0 + nx].transpose(1, 2, 3, 0)
            else:
                src = acc[a, b, :, u0 : u0 + ny, v0 : v0 + nx, :]
            dx[:, y0::sh, x0::sw, :] = src
    return dx


def im2col(x_padded: np.ndarray, cache: Conv2DCache) -> np.ndarray:
    """Copy every receptive field of the padded input into one row.

    Parameters
    ----------
    x_padded : ndarray, shape (N, Hp, Wp, C)
    cache : Conv2DCache
        Supplies kernel size, stride, dilation and output shape.

    Returns
    -------
    ndarray, shape (N * OH * OW, KH * KW * C)
        Row ``(n, i, j)`` holds the patch of output pixel ``(i, j)`` of image
        ``n``, in ``(kh, kw, c)`` order -- the memory order of ``w``, so that
        ``cols @ w.reshape(-1, F)`` is the convolution. The whole matrix is
        filled by one copy from a strided view of ``x_padded``. For inputs
        with few channels (``C <= 4``) the transposed layout
        ``(KH * KW * C, N * OH * OW)`` is filled instead (its copied runs are
        whole image rows) and a transposed view of it is returned.
    """
    return _im2col(x_padded, cache, ones=False)


def col2im(dcols: np.ndarray, cache: Conv2DCache) -> np.ndarray:
    """Adjoint of :func:`im2col`: add each row back onto the pixels it came from.

    Parameters
    ----------
    dcols : ndarray, shape (N * OH * OW, KH * KW * C)
    cache : Conv2DCache

    Returns
    -------
    ndarray, shape (N, H, W, C)
        The sum, cropped to the unpadded input. Pixels that several windows
        share receive the sum of their contributions; pixels no window reads
        (a stride that does not tile the input) receive zero.
    """
    n, oh, ow, _ = cache.out_shape
    kh, kw, c, _ = cache.w.shape
    dcols = np.asarray(dcols)
    if _channel_major(c):
        d6t = dcols.T.reshape(kh, kw, c, n, oh, ow)
        return _accumulate_taps(lambda p, q: d6t[p, q], cache, True, dcols.dtype)
    d6 = dcols.reshape(n, oh, ow, kh, kw, c)
    return _accumulate_taps(lambda p, q: d6[:, :, :, p, q, :], cache, False, dcols.dtype)


def conv2d_forward(
    x: Any, w: Any, b: Any, stride: Any = 1, padding: Any = "valid", dilation: Any = 1
) -> tuple[np.ndarray, Conv2DCache]:
    """Convolution forward pass, fast path (im2col + one matrix product).

    Same arguments, results and cache as :func:`conv2d_forward_naive`.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
    w : array_like, shape (KH, KW, C, F)
    b : array_like, shape (F,) or (1, 1, 1, F), or None
    stride : int or (int, int)
    padding : {"valid", "same", "full"}, int, (int, int) or ((int, int), (int, int))
    dilation : int or (int, int)

    Returns
    -------
    out : ndarray, shape (N, OH, OW, F)
    cache : Conv2DCache
        Holds the im2col matrix, shape ``(N * OH * OW, KH * KW * C)``.

    Notes
    -----
    With a bias, the im2col buffer gets an extra row (or column) of ones and
    the weight matrix an extra row holding ``b``, so a single product
    ``[cols | 1] @ [[w2d], [b]]`` computes ``cols @ w2d + b``.

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
    xp, w, b, cache = _prepare(x, w, b, stride, padding, dilation)
    kh, kw, c, f = w.shape
    k = kh * kw * c
    mat = _im2col(xp, cache, ones=b is not None)
    wmat = w.reshape(k, f)
    if b is not None:
        wmat = np.concatenate([wmat, b.reshape(1, f)])
    out = mat @ wmat
    cache = replace(cache, cols=mat[:, :k], cols_with_ones=mat if b is not None else None)
    return out.reshape(cache.out_shape), cache


def conv2d_backward(
    dout: Any, cache: Conv2DCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Convolution backward pass, fast path.

    With ``cols`` the im2col matrix, ``w2d = w.reshape(-1, F)`` and
    ``dy = dout.reshape(-1, F)``: ``dw = cols.T @ dy``, ``db = sum(dy, axis=0)``
    and ``dx = col2im(dy @ w2d.T)``.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, F)
    cache : Conv2DCache
        From :func:`conv2d_forward` (or :func:`conv2d_forward_naive`; the
        im2col matrix is then rebuilt).

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    dw : ndarray, shape (KH, KW, C, F)
    db : ndarray, shape of the ``b`` given to the forward, or None

    Notes
    -----
    ``db`` comes out of the same product as ``dw``: the forward's row of ones
    makes ``[cols | 1].T @ dy`` equal ``[[dw], [db]]``. ``dx`` is not built as
    the large ``dcols`` matrix: each kernel tap's share ``dy @ w[p, q].T``
    (or, for few channels, one row block of ``w2d @ dy.T``) is added straight
    into the padded input gradient.
    """
    dout = _check_dout(dout, cache)
    n, oh, ow, f = cache.out_shape
    kh, kw, c, _ = cache.w.shape
    k = kh * kw * c
    cm = _channel_major(c)
    dy = dout.reshape(-1, f)

    if cache.b_shape is not None and cache.cols_with_ones is not None:
        # [cols | 1].T @ dy stacks dw (first K rows) on top of db (last row).
        dwb = cache.cols_with_ones.T @ dy
        dw, db = dwb[:k], dwb[k].reshape(cache.b_shape)
    else:
        cols = cache.cols if cache.cols is not None else _im2col(cache.x_padded, cache, False)
        dw = cols.T @ dy
        db = None
        if cache.b_shape is not None:
            db = (np.ones(dy.shape[0], dtype=dy.dtype) @ dy).reshape(cache.b_shape)
    dw = dw.reshape(cache.w.shape).astype(dy.dtype, copy=False)

    wmat = cache.w.reshape(k, f).astype(dy.dtype, copy=False)
    if cm:
        dcols_t = np.matmul(wmat, dy.T, out=_scratch("dcols_t", (k, n * oh * ow), dy.dtype))
        dcols_t = dcols_t.reshape(kh, kw, c, n, oh, ow)
        dx = _accumulate_taps(lambda p, q: dcols_t[p, q], cache, True, dy.dtype)
    else:
        w4 = wmat.reshape(kh, kw, c, f)
        tap = _scratch("tap", (n * oh * ow, c), dy.dtype)  # reused by every tap

        def tap_grad(p: int, q: int) -> np.ndarray:
            return np.matmul(dy, w4[p, q].T, out=tap).reshape(n, oh, ow, c)

        dx = _accumulate_taps(tap_grad, cache, False, dy.dtype)
    return dx, dw, db
