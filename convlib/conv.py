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

from dataclasses import dataclass
from typing import Any

import numpy as np

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
        ``cols @ w.reshape(-1, F)`` is the convolution. For one input channel
        the transposed layout ``(KH * KW, N * OH * OW)`` is filled instead
        (every copy is then one contiguous block) and a transposed view is
        returned.
    """
    n, oh, ow, _ = cache.out_shape
    kh, kw, c, _ = cache.w.shape
    m, k = n * oh * ow, kh * kw * c
    if c == 1:
        cols_t = np.empty((kh, kw, n, oh, ow), dtype=x_padded.dtype)
        for p in range(kh):
            for q in range(kw):
                rows, cls = _window(cache, p, q)
                cols_t[p, q] = x_padded[:, rows, cls, 0]
        return cols_t.reshape(k, m).T
    cols = np.empty((n, oh, ow, kh, kw, c), dtype=x_padded.dtype)
    for p in range(kh):
        for q in range(kw):
            rows, cls = _window(cache, p, q)
            cols[:, :, :, p, q, :] = x_padded[:, rows, cls, :]
    return cols.reshape(m, k)


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
    dcols = dcols.reshape(n, oh, ow, kh, kw, c)
    dxp = np.zeros(cache.x_padded.shape, dtype=dcols.dtype)
    for p in range(kh):
        for q in range(kw):
            rows, cls = _window(cache, p, q)
            dxp[:, rows, cls, :] += dcols[:, :, :, p, q, :]
    return _crop(dxp, cache)


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
    f = w.shape[3]
    cols = im2col(xp, cache)
    out = cols @ w.reshape(-1, f)
    if b is not None:
        out += b
    cache = Conv2DCache(**{**cache.__dict__, "cols": cols})
    return out.reshape(cache.out_shape), cache


def conv2d_backward(
    dout: Any, cache: Conv2DCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Convolution backward pass, fast path.

    With ``cols`` the im2col matrix and ``dy = dout.reshape(-1, F)``:
    ``dw = cols.T @ dy``, ``db = sum(dy, axis=0)``, and ``dx`` is
    ``col2im(dy @ w2d.T)``, computed one kernel tap at a time
    (``dy @ w[p, q].T`` added into a strided slice) so the large ``dcols``
    matrix is never built.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, F)
    cache : Conv2DCache
        From :func:`conv2d_forward` (or :func:`conv2d_forward_naive`).

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    dw : ndarray, shape (KH, KW, C, F)
    db : ndarray, shape of the ``b`` given to the forward, or None
    """
    dout = _check_dout(dout, cache)
    n, oh, ow, f = cache.out_shape
    kh, kw, c, _ = cache.w.shape
    cols = cache.cols if cache.cols is not None else im2col(cache.x_padded, cache)
    dy = dout.reshape(-1, f)
    dw = (cols.T @ dy).reshape(cache.w.shape)
    db = _bias_grad(dout, cache)

    dxp = np.zeros(cache.x_padded.shape, dtype=dy.dtype)
    w = cache.w.astype(dy.dtype, copy=False)
    for p in range(kh):
        for q in range(kw):
            rows, cls = _window(cache, p, q)
            dxp[:, rows, cls, :] += (dy @ w[p, q].T).reshape(n, oh, ow, c)
    return _crop(dxp, cache), dw.astype(dy.dtype, copy=False), db
