"""Transposed 2-D convolution in NHWC layout, forward and backward.

A convolution with filters ``w`` of shape ``(KH, KW, C_out, C_in)`` maps an
image with ``C_out`` channels to one with ``C_in`` channels; it is linear in
its input, and its backward pass carries a gradient back along the adjoint
(the transpose) of that linear map. The *transposed convolution* is that
adjoint used as a layer of its own: its forward pass is exactly the
convolution's ``dx``, its backward pass the convolution's forward (for
``dx``) and the convolution's ``dw`` with the roles of input and upstream
gradient swapped. It upsamples: a stride-2 convolution halves the image, its
transpose doubles it. With ``xo`` the full (uncropped) output::

    xo[n, i*sh + u*dh, j*sw + v*dw, c] += x[n, i, j, f] * w[u, v, c, f]
    out = xo[:, top : top + OH, left : left + OW, :] + b

Conventions are PyTorch's ``ConvTranspose2d``: ``padding`` crops the full
output (it is the padding of the convolution being transposed),
``output_padding`` adds rows and columns at the bottom and right; the sizes
are :func:`convlib.arithmetic.conv_transpose_output_size`. ``padding`` also
takes convlib's other forms, ``"same"`` and ``((top, bottom), (left,
right))`` (see :func:`convlib.arithmetic.resolve_transpose_padding`), so
that the transposed convolution is the adjoint of *any* convlib convolution.

Two tiers, one interface and one cache type,
:class:`ConvTranspose2DCache`:

* **loops** -- :func:`conv_transpose2d_forward_naive` /
  :func:`conv_transpose2d_backward_naive`: every input pixel scatters one
  kernel-sized patch; read like the formula above.
* **fast** -- :func:`conv_transpose2d_forward` /
  :func:`conv_transpose2d_backward`: one small matrix product per kernel tap
  added by :func:`convlib.fast.phase_scatter` (the tuned convolution's
  ``dx``), and :func:`convlib.conv2d_forward` for the backward.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import (
    as_numeric_array,
    as_pair,
    check_cache,
    check_conv_operands,
    check_dout,
    check_memory,
    check_ndim,
)
from .arithmetic import Pads, resolve_transpose_padding
from .conv import _cast, conv2d_forward, im2col
from .fast.phases import phase_scatter
from .windows import WindowGeometry, crop_spatial, pad_spatial

__all__ = [
    "ConvTranspose2DCache",
    "conv_transpose2d_forward",
    "conv_transpose2d_backward",
    "conv_transpose2d_forward_naive",
    "conv_transpose2d_backward_naive",
]


@dataclass(frozen=True)
class ConvTranspose2DCache:
    """What the forward pass keeps for the backward pass (both tiers).

    Attributes
    ----------
    x : ndarray, shape (N, H, W, C_in)
        The input (the caller's array itself when it had the compute dtype).
    w : ndarray, shape (KH, KW, C_out, C_in)
        The filters, laid out as those of the convolution being transposed.
    b_shape : tuple or None
        Shape in which the bias was given, ``(C_out,)`` or ``(1, 1, 1, C_out)``;
        ``None`` without a bias.
    out_shape : tuple
        ``(N, OH, OW, C_out)``.
    stride, dilation, output_padding : tuple of int
        ``(sh, sw)``, ``(dh, dw)`` and ``(op_h, op_w)``.
    pads : tuple
        ``((top, bottom), (left, right))``, cropped from the full output.
    """

    x: np.ndarray
    w: np.ndarray
    b_shape: tuple[int, ...] | None
    out_shape: tuple[int, int, int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    output_padding: tuple[int, int]
    pads: Pads

    @property
    def geometry(self) -> WindowGeometry:
        """The windows of the convolution being transposed.

        That convolution reads the transposed output (``x_shape`` is
        ``out_shape``), padded by ``pads``, and its ``(H, W)`` windows are the
        transposed input's pixels (see :mod:`convlib.windows`).
        """
        return WindowGeometry(
            self.out_shape,
            self.pads,
            (self.w.shape[0], self.w.shape[1]),
            self.stride,
            self.dilation,
            (self.x.shape[1], self.x.shape[2]),
        )


def _prepare(
    x: Any,
    w: Any,
    b: Any,
    stride: Any,
    padding: Any,
    output_padding: Any,
    dilation: Any,
    *,
    call: str,
) -> tuple[np.ndarray | None, ConvTranspose2DCache]:
    """Validate the arguments and cast to the compute dtype.

    Returns ``(b_flat, cache)``; the cache holds the cast ``x`` and ``w``.
    """
    x = as_numeric_array("x", x)
    w = as_numeric_array("w", w)
    check_ndim("x", x, 4, "(N, H, W, C_in)")
    check_ndim("w", w, 4, "(KH, KW, C_out, C_in)")
    n, h, wd, c_in = x.shape
    kh, kw, c_out, wc = w.shape
    if wc != c_in:
        raise ValueError(
            f"x has {c_in} channels (shape {x.shape}) but w expects {wc} "
            f"(shape {w.shape}, layout (KH, KW, C_out, C_in): the last axis is the "
            f"transposed convolution's input channels)"
        )
    what = f"output channels of w {w.shape} (KH, KW, C_out, C_in)"
    b, dtype = check_conv_operands(x, w, b, c_out, what)
    b_shape = None if b is None else b.shape
    stride = as_pair("stride", stride, 1)
    dilation = as_pair("dilation", dilation, 1)
    try:
        pads, (oh, ow) = resolve_transpose_padding(
            padding, (h, wd), (kh, kw), stride, dilation, output_padding
        )
    except ValueError as exc:
        raise ValueError(f"{exc} (x {x.shape}, w {w.shape})") from None
    op = as_pair("output_padding", output_padding, 0)  # checked by resolve_transpose_padding
    full = (n, oh + sum(pads[0]), ow + sum(pads[1]), c_out)
    check_memory(
        call,
        [("output", (n, oh, ow, c_out), dtype), ("uncropped output", full, dtype)],
        f"x {x.shape} and w {w.shape} with stride {stride}, padding {pads}",
    )
    x, w, b_flat = _cast(dtype, x, w, b)
    cache = ConvTranspose2DCache(
        x=x,
        w=w,
        b_shape=b_shape,
        out_shape=(n, oh, ow, c_out),
        stride=stride,
        dilation=dilation,
        output_padding=op,
        pads=pads,
    )
    return b_flat, cache


def _check_backward(dout: Any, cache: Any) -> np.ndarray:
    check_cache(cache, ConvTranspose2DCache, "a conv_transpose2d forward pass")
    return check_dout(dout, cache.out_shape, cache.w.dtype, layout="(N, OH, OW, C_out)")


# --------------------------------------------------------------------------
# Loops that mirror the math (the reference)
# --------------------------------------------------------------------------


def conv_transpose2d_forward_naive(
    x: Any,
    w: Any,
    b: Any,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
) -> tuple[np.ndarray, ConvTranspose2DCache]:
    """Transposed convolution forward pass with explicit loops (the reference).

    Each input pixel ``x[n, i, j, :]`` scatters the patch
    ``sum_f x[n, i, j, f] * w[:, :, :, f]`` onto the full output at rows
    ``i*sh + u*dh`` and columns ``j*sw + v*dw``; the padding is cropped, the
    bias added.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C_in)
    w : array_like, shape (KH, KW, C_out, C_in)
        The filters of the convolution from ``C_out`` to ``C_in`` channels
        that this layer transposes.
    b : array_like, shape (C_out,) or (1, 1, 1, C_out), or None
    stride : int or (int, int)
    padding : int, (int, int), ((int, int), (int, int)) or {"valid", "same", "full"}
        Cropped from the full output; see
        :func:`convlib.arithmetic.resolve_transpose_padding`.
    output_padding : int or (int, int)
        Rows and columns added at the bottom and right, ``< max(stride, dilation)``.
    dilation : int or (int, int)

    Returns
    -------
    out : ndarray, shape (N, OH, OW, C_out)
        ``OH = (H - 1) * sh - (top + bottom) + dh * (KH - 1) + op_h + 1``;
        with ``padding="same"``, ``OH = (H - 1) * sh + 1 + op_h``.
    cache : ConvTranspose2DCache
        Keeps ``x`` and ``w`` themselves (when they had the compute dtype):
        do not modify them in place before the backward pass.
    """
    b, cache = _prepare(
        x, w, b, stride, padding, output_padding, dilation, call="conv_transpose2d_forward_naive"
    )
    x, w = cache.x, cache.w
    n_images, h, wd, c_in = x.shape
    kh, kw = w.shape[:2]
    (sh, sw), (dh, dw) = cache.stride, cache.dilation
    geometry = cache.geometry
    out_full = np.zeros(geometry.padded_shape, dtype=w.dtype)
    for n in range(n_images):
        for i in range(h):
            for j in range(wd):
                # The output rows and columns that input pixel (i, j) reaches.
                rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
                cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
                for f in range(c_in):
                    out_full[n, rows, cols, :] += x[n, i, j, f] * w[:, :, :, f]
    out = crop_spatial(out_full, cache.pads, cache.out_shape[1:3])
    if b is not None:
        out = out + b
    return out, cache


def conv_transpose2d_backward_naive(
    dout: Any, cache: ConvTranspose2DCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Transposed convolution backward pass with explicit loops (the reference).

    Input pixel ``(i, j)`` reached the output patch at rows ``i*sh + u*dh``
    and columns ``j*sw + v*dw`` (of the padded ``dout``): its gradient is that
    patch of ``dout`` dotted with each filter -- a convolution of ``dout`` --
    and the filter gradient collects the patch, scaled by the input pixel.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, C_out)
    cache : ConvTranspose2DCache
        From either conv_transpose2d forward pass.

    Returns
    -------
    dx : ndarray, shape (N, H, W, C_in)
    dw : ndarray, shape (KH, KW, C_out, C_in)
    db : ndarray, shape of the ``b`` given to the forward, or None
    """
    dout = _check_backward(dout, cache)
    x, w = cache.x, cache.w
    n_images, h, wd, c_in = x.shape
    kh, kw = w.shape[:2]
    (sh, sw), (dh, dw) = cache.stride, cache.dilation
    # The output padding may leave fewer rows below than the crop: pad to the full size.
    doutp = np.zeros(cache.geometry.padded_shape, dtype=dout.dtype)
    (top, _), (left, _) = cache.pads
    doutp[:, top : top + dout.shape[1], left : left + dout.shape[2], :] = dout
    dx = np.zeros(x.shape, dtype=dout.dtype)
    dw_ = np.zeros(w.shape, dtype=dout.dtype)
    for n in range(n_images):
        for i in range(h):
            for j in range(wd):
                rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
                cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
                patch = doutp[n, rows, cols, :]  # (KH, KW, C_out)
                for f in range(c_in):
                    dx[n, i, j, f] = np.sum(patch * w[:, :, :, f])
                    dw_[:, :, :, f] += x[n, i, j, f] * patch
    db = None if cache.b_shape is None else dout.sum(axis=(0, 1, 2)).reshape(cache.b_shape)
    return dx, dw_, db


# --------------------------------------------------------------------------
# The functions the layer calls: the convolution's own passes, reused
# --------------------------------------------------------------------------


def conv_transpose2d_forward(
    x: Any,
    w: Any,
    b: Any,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
) -> tuple[np.ndarray, ConvTranspose2DCache]:
    """Transposed convolution forward pass: the convolution's ``dx``, tuned.

    Same arguments, results and cache as :func:`conv_transpose2d_forward_naive`.
    For each kernel tap ``(u, v)`` one product ``x @ w[u, v].T`` gives what
    every input pixel sends through that tap, and
    :func:`convlib.fast.phase_scatter` adds the taps onto the output and
    crops the padding -- exactly the tuned convolution's ``dx`` computation.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C_in)
    w : array_like, shape (KH, KW, C_out, C_in)
    b : array_like, shape (C_out,) or (1, 1, 1, C_out), or None
    stride : int or (int, int)
    padding : int, (int, int), ((int, int), (int, int)) or {"valid", "same", "full"}
    output_padding : int or (int, int)
    dilation : int or (int, int)

    Returns
    -------
    out : ndarray, shape (N, OH, OW, C_out)
    cache : ConvTranspose2DCache

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones((1, 7, 7, 8))
    >>> w = np.ones((4, 4, 3, 8))  # (KH, KW, C_out, C_in)
    >>> out, cache = conv_transpose2d_forward(x, w, None, stride=2, padding=1)
    >>> out.shape
    (1, 14, 14, 3)
    """
    b, cache = _prepare(
        x, w, b, stride, padding, output_padding, dilation, call="conv_transpose2d_forward"
    )
    x, w = cache.x, cache.w
    n, h, wd, c_in = x.shape
    c_out = w.shape[2]
    x2 = x.reshape(-1, c_in)  # (N*H*W, C_in)
    tap = np.empty((n * h * wd, c_out), dtype=w.dtype)  # reused by every tap

    def tap_grad(p: int, q: int) -> np.ndarray:
        return np.matmul(x2, w[p, q].T, out=tap).reshape(n, h, wd, c_out)

    out = phase_scatter(tap_grad, cache.geometry, w.dtype)
    if b is not None:
        out += b
    return out, cache


def conv_transpose2d_backward(
    dout: Any, cache: ConvTranspose2DCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Transposed convolution backward pass: the convolution's forward and ``dw``.

    ``dx`` is the convolution of ``dout`` with ``w`` (same stride, padding and
    dilation, no bias) by :func:`convlib.conv2d_forward`; ``dw`` is that
    convolution's filter gradient with ``x`` as its upstream gradient,
    ``cols.T @ x`` from the same im2col matrix; ``db`` sums ``dout``.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, C_out)
    cache : ConvTranspose2DCache
        From either conv_transpose2d forward pass.

    Returns
    -------
    dx : ndarray, shape (N, H, W, C_in)
    dw : ndarray, shape (KH, KW, C_out, C_in)
    db : ndarray, shape of the ``b`` given to the forward, or None
    """
    dout = _check_backward(dout, cache)
    x, w = cache.x, cache.w
    n, h, wd, c_in = x.shape
    kh, kw, c_out, _ = w.shape
    dx, conv_cache = conv2d_forward(
        dout, w.astype(dout.dtype, copy=False), None, cache.stride, cache.pads, cache.dilation
    )
    # With output_padding >= stride (dilation > stride) the convolution has
    # more windows than x has pixels; the extra ones met no input pixel.
    oh2, ow2 = dx.shape[1:3]
    x = x.astype(dout.dtype, copy=False)
    if (oh2, ow2) != (h, wd):
        x = pad_spatial(x, ((0, oh2 - h), (0, ow2 - wd)))
        dx = np.ascontiguousarray(dx[:, :h, :wd, :])
    cols = conv_cache.cols
    if cols is None:
        cols = im2col(conv_cache.x_padded, (kh, kw), cache.stride, cache.dilation)
    dw = (cols.T @ x.reshape(-1, c_in)).reshape(w.shape)
    db = None if cache.b_shape is None else dout.sum(axis=(0, 1, 2)).reshape(cache.b_shape)
    return dx, dw, db
