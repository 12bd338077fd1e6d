"""2-D max and average pooling in NHWC layout, forward and backward.

A pooling layer slides a ``PH x PW`` window over every channel separately,
with stride ``(SH, SW)``, and keeps one number per window: the largest
(max pooling) or the mean (average pooling). For output pixel ``(i, j)`` the
window covers rows ``i * SH - top ... i * SH - top + PH - 1`` and columns
``j * SW - left ... j * SW - left + PW - 1`` of the input, where ``top`` and
``left`` are the padding before the first row and column. The output size
follows the convolution formula, ``OH = (H + top + bottom - PH) // SH + 1``.

Two rules matter at the borders and at ties, and every framework has to pick
one:

* **Padding never wins and never counts.** Max pooling pads with ``-inf``,
  so a padded pixel is never the maximum (padding with zeros would turn the
  max of an all-negative window into 0). Average pooling divides each window
  by the number of *real* input pixels it covers, not by ``PH * PW``. That is
  Keras' ``padding="same"`` and PyTorch's ``count_include_pad=False``. Each
  side's padding must be smaller than the window, or a window could hold
  nothing but padding.
* **Ties go to the first maximum.** When several pixels of a window share the
  maximum, the whole gradient of that window goes to the first of them in
  row-major order within the window (top row first, left to right), the one
  ``np.argmax`` of the flattened window picks. The gradient is not split.
* **NaN wins, as in PyTorch.** A window holding a NaN outputs NaN, and its
  whole gradient goes to the *last* NaN of the window in row-major order:
  PyTorch's max pooling replaces its running maximum by every NaN it meets
  (``val > max or isnan(val)``), so the last one stays. Every tier follows
  that rule, so that a NaN shows up where it came from instead of being
  dropped, and the tiers agree with each other and with PyTorch.

Where windows overlap (stride smaller than the window) a pixel receives the
sum of the gradients of every window that picked it; pixels that no window
covers (a stride that does not tile the input drops the last rows or
columns) receive zero gradient.

Three tiers share one cache type, :class:`Pool2DCache`:

* **loops** -- :func:`maxpool2d_forward_naive`, :func:`avgpool2d_forward_naive`
  and their backwards loop over images and output pixels, as the book
  writes them;
* **windows** -- :func:`maxpool2d_forward_windows`,
  :func:`avgpool2d_forward_windows` and their backwards reduce a view of all
  windows (:func:`convlib.windows.window_view`) and send gradients back with
  one addition per window offset: the readable vectorised tier;
* **tuned** -- :func:`maxpool2d_forward`, :func:`avgpool2d_forward` and their
  backwards, the functions the layers call, run :mod:`convlib.fast.pooling`
  (stride phases, whole-pixel copies).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ._checks import (
    as_numeric_or_complex_array,
    as_pair,
    check_cache,
    check_dout,
    check_memory,
    check_ndim,
    check_window_padding,
    float_dtype,
)
from .arithmetic import Pads, conv_output_size, resolve_padding
from .windows import WindowGeometry, crop_spatial, pad_spatial, tap_slices, window_view

__all__ = [
    "Pool2DCache",
    "maxpool2d_forward",
    "maxpool2d_backward",
    "maxpool2d_forward_naive",
    "maxpool2d_backward_naive",
    "maxpool2d_forward_windows",
    "maxpool2d_backward_windows",
    "avgpool2d_forward",
    "avgpool2d_backward",
    "avgpool2d_forward_naive",
    "avgpool2d_backward_naive",
    "avgpool2d_forward_windows",
    "avgpool2d_backward_windows",
]


@dataclass(frozen=True)
class Pool2DCache:
    """What a pooling forward pass keeps for its backward pass (every tier).

    Unlike the caches of convolution and dense layers, it holds no reference
    to the input ``x`` (only shapes, ``argmax`` or ``counts``): ``x`` may be
    modified after the forward pass without changing the gradients.

    Attributes
    ----------
    mode : {"max", "avg"}
        Which pooling produced the cache.
    x_shape : tuple
        ``(N, H, W, C)``, the input's shape.
    out_shape : tuple
        ``(N, OH, OW, C)``.
    pool_size, stride : tuple of int
        ``(PH, PW)`` and ``(SH, SW)``.
    pads : tuple
        ``((top, bottom), (left, right))``.
    dtype : numpy.dtype
        Floating-point dtype of the forward computation.
    argmax : ndarray of int, shape (N, OH, OW, C), or None
        Max pooling only: position of each window's (first) maximum inside
        the window -- of its last NaN if it holds any -- ``p * PW + q`` for
        window row ``p`` and column ``q`` (rows and columns counted in the
        padded input).
    counts : ndarray, shape (OH, OW, C), or None
        Average pooling only: number of real (non-padding) input pixels in
        each window (the same for every channel).
    """

    mode: str
    x_shape: tuple[int, int, int, int]
    out_shape: tuple[int, int, int, int]
    pool_size: tuple[int, int]
    stride: tuple[int, int]
    pads: Pads
    dtype: np.dtype
    argmax: np.ndarray | None = None
    counts: np.ndarray | None = None

    @property
    def geometry(self) -> WindowGeometry:
        """Where the windows lie (see :mod:`convlib.windows`; dilation is 1)."""
        return WindowGeometry(
            self.x_shape, self.pads, self.pool_size, self.stride, (1, 1), self.out_shape[1:3]
        )


# --------------------------------------------------------------------------
# Argument handling shared by every tier
# --------------------------------------------------------------------------


def _prepare(
    x: Any, pool_size: Any, stride: Any, padding: Any, mode: str, tier: str = "fast"
) -> tuple[np.ndarray, Pool2DCache]:
    """Validate the arguments and cast ``x`` to the compute dtype.

    Before allocating anything, the bytes of the arrays the forward pass of
    ``tier`` (``"naive"``, ``"windows"`` or ``"fast"``) creates -- output,
    argmax, padded input, the phase copies of the tuned tier or the copy of
    all windows of the window tier -- are checked against the memory limit
    (:mod:`convlib.memory`).

    Returns ``(x, cache)``; the cache has neither ``argmax`` nor ``counts``.
    """
    # Max and argmax order complex numbers by real part: complex-step input passes.
    x = as_numeric_or_complex_array("x", x)
    check_ndim("x", x, 4, "(N, H, W, C)")
    if min(x.shape) == 0:
        raise ValueError(f"x must not have empty axes, got shape {x.shape}")
    n, h, w, c = x.shape
    pool = as_pair("pool_size", pool_size, 1)
    step = pool if stride is None else as_pair("stride", stride, 1)
    check_window_padding("padding", padding, pool)
    pads = resolve_padding(padding, (h, w), pool, step)
    for name, size, (lo, hi), k in (
        ("rows", h, pads[0], pool[0]),
        ("columns", w, pads[1], pool[1]),
    ):
        if k > size + lo + hi:
            raise ValueError(
                f"pool_size {pool} does not fit the input: its {k} {name} exceed the "
                f"{size + lo + hi} {name} of x {x.shape} padded by {pads}"
            )
    oh = conv_output_size(h, pool[0], step[0], pads[0])
    ow = conv_output_size(w, pool[1], step[1], pads[1])
    dtype = float_dtype(x)
    big: list[tuple[str, tuple[int, ...], Any]] = [("output", (n, oh, ow, c), dtype)]
    if mode == "max":
        big.append(("argmax", (n, oh, ow, c), np.uint8 if pool[0] * pool[1] <= 256 else np.intp))
    if x.dtype != dtype:
        big.append((f"x cast to {dtype}", x.shape, dtype))
    padded = (n, h + sum(pads[0]), w + sum(pads[1]), c)
    if tier != "naive" and padded != x.shape:
        big.append(("padded input", padded, dtype))
    if tier == "fast" and step != (1, 1):
        big.append(("stride-phase copies", padded, dtype))
    if tier == "windows" and mode == "max":
        big.append(("copy of all windows", (n, oh, ow, pool[0] * pool[1], c), dtype))
    name = f"{mode}pool2d_forward" + ("" if tier == "fast" else f"_{tier}")
    check_memory(name, big, f"x {x.shape} with pool_size {pool}, stride {step}, padding {pads}")
    cache = Pool2DCache(
        mode=mode,
        x_shape=(n, h, w, c),
        out_shape=(n, oh, ow, c),
        pool_size=pool,
        stride=step,
        pads=pads,
        dtype=dtype,
    )
    return x.astype(dtype, copy=False), cache


def _check_backward(dout: Any, cache: Any, mode: str) -> np.ndarray:
    """Check a backward pass's arguments; return ``dout`` in the dtype it computes in."""
    name = "maxpool2d" if mode == "max" else "avgpool2d"
    check_cache(cache, Pool2DCache, f"a {name} forward pass")
    if cache.mode != mode:
        raise TypeError(
            f"cache must be the Pool2DCache returned by a {name} forward pass, "
            f"got a Pool2DCache from {cache.mode} pooling"
        )
    return check_dout(dout, cache.out_shape, cache.dtype, layout="(N, OH, OW, C)")


def _window_bounds(cache: Pool2DCache, i: int, j: int) -> tuple[int, int, int, int]:
    """Rows ``r0:r1`` and columns ``c0:c1`` of the *real* input in window ``(i, j)``."""
    (ph, pw), (sh, sw) = cache.pool_size, cache.stride
    (top, _), (left, _) = cache.pads
    _, h, w, _ = cache.x_shape
    r, s = i * sh - top, j * sw - left
    return max(r, 0), min(r + ph, h), max(s, 0), min(s + pw, w)


def _real_counts(cache: Pool2DCache) -> np.ndarray:
    """Number of real input pixels in every window, shape ``(OH, OW, C)``."""
    (ph, pw), (sh, sw) = cache.pool_size, cache.stride
    (top, _), (left, _) = cache.pads
    _, h, w, _ = cache.x_shape
    _, oh, ow, _ = cache.out_shape
    r = np.arange(oh) * sh - top
    s = np.arange(ow) * sw - left
    rows = np.minimum(r + ph, h) - np.maximum(r, 0)
    cols = np.minimum(s + pw, w) - np.maximum(s, 0)
    counts = (rows[:, None] * cols[None, :]).astype(cache.dtype)
    # Repeated over the channels so that dividing an (N, OH, OW, C) array by it
    # runs over long contiguous rows (a trailing axis of length 1 would not).
    return np.repeat(counts[:, :, None], cache.out_shape[3], axis=2)


def _index_dtype(cache: Pool2DCache) -> type:
    ph, pw = cache.pool_size
    return np.uint8 if ph * pw <= 256 else np.intp


# --------------------------------------------------------------------------
# Loops (the reference)
# --------------------------------------------------------------------------


def maxpool2d_forward_naive(
    x: Any, pool_size: Any, stride: Any = None, padding: Any = 0
) -> tuple[np.ndarray, Pool2DCache]:
    """Max pooling forward pass with explicit loops (the reference).

    Each window is clipped to the real input (padding is never looked at)
    and its maximum taken per channel; ``np.argmax`` of the flattened window
    records the first maximum in row-major order. A window with a NaN
    outputs NaN and records its last NaN (PyTorch's rule).

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
        Input batch, channels last.
    pool_size : int or (int, int)
        Window size ``(PH, PW)``.
    stride : int or (int, int), optional
        Step between windows ``(SH, SW)``; default: ``pool_size``
        (non-overlapping windows).
    padding : {"valid", "same"}, int, (int, int) or ((int, int), (int, int))
        See :func:`convlib.arithmetic.resolve_padding`. Each side's padding
        must be smaller than the window.

    Returns
    -------
    out : ndarray, shape (N, OH, OW, C)
        ``OH = (H + top + bottom - PH) // SH + 1``, likewise ``OW``.
    cache : Pool2DCache
        Holds the argmax of every window.
    """
    x, cache = _prepare(x, pool_size, stride, padding, "max", "naive")
    n, oh, ow, c = cache.out_shape
    (top, _), (left, _) = cache.pads
    (sh, sw), pw = cache.stride, cache.pool_size[1]
    out = np.empty(cache.out_shape, dtype=cache.dtype)
    argmax: np.ndarray = np.empty(cache.out_shape, dtype=_index_dtype(cache))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                r0, r1, c0, c1 = _window_bounds(cache, i, j)
                window = x[b, r0:r1, c0:c1, :].reshape(-1, c)  # row-major pixels x C
                k = np.argmax(window, axis=0)  # first maximum of each channel
                nan = np.isnan(window)
                if nan.any():  # NaN wins: the last NaN of the window (PyTorch's rule)
                    last = len(window) - 1 - np.argmax(nan[::-1], axis=0)
                    k = np.where(nan.any(axis=0), last, k)
                out[b, i, j, :] = window[k, np.arange(c)]
                # Position of the winner in the padded window, p * PW + q.
                p = r0 + k // (c1 - c0) - (i * sh - top)
                q = c0 + k % (c1 - c0) - (j * sw - left)
                argmax[b, i, j, :] = p * pw + q
    return out, replace(cache, argmax=argmax)


def maxpool2d_backward_naive(dout: Any, cache: Pool2DCache) -> np.ndarray:
    """Max pooling backward pass with explicit loops (the reference).

    Each window's upstream gradient goes, whole, to the input pixel that was
    its maximum (the first one in row-major order on ties).

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, C)
        Gradient of the loss with respect to the pooled output.
    cache : Pool2DCache
        From any maxpool2d forward pass (every tier's cache works).

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
        Sums over overlapping windows; zero for pixels that were never a
        window's maximum.
    """
    dout = _check_backward(dout, cache, "max")
    argmax = cache.argmax
    assert argmax is not None  # every max-pooling cache holds it (checked above)
    n, oh, ow, c = cache.out_shape
    (sh, sw), pw = cache.stride, cache.pool_size[1]
    dxp = np.zeros(cache.geometry.padded_shape, dtype=dout.dtype)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    p, q = divmod(int(argmax[b, i, j, ch]), pw)
                    dxp[b, i * sh + p, j * sw + q, ch] += dout[b, i, j, ch]
    return crop_spatial(dxp, cache.pads, cache.x_shape[1:3])


def avgpool2d_forward_naive(
    x: Any, pool_size: Any, stride: Any = None, padding: Any = 0
) -> tuple[np.ndarray, Pool2DCache]:
    """Average pooling forward pass with explicit loops (the reference).

    Each window is clipped to the real input and averaged per channel, so a
    window that hangs over the border is divided by the number of real pixels
    it covers (padding is not counted).

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
    pool_size : int or (int, int)
        Window size ``(PH, PW)``.
    stride : int or (int, int), optional
        Default: ``pool_size``.
    padding : {"valid", "same"}, int, (int, int) or ((int, int), (int, int))
        Each side's padding must be smaller than the window.

    Returns
    -------
    out : ndarray, shape (N, OH, OW, C)
    cache : Pool2DCache
        Holds the number of real pixels of every window.
    """
    x, cache = _prepare(x, pool_size, stride, padding, "avg", "naive")
    n, oh, ow, c = cache.out_shape
    out = np.empty(cache.out_shape, dtype=cache.dtype)
    counts = np.empty((oh, ow, c), dtype=cache.dtype)
    for i in range(oh):
        for j in range(ow):
            r0, r1, c0, c1 = _window_bounds(cache, i, j)
            counts[i, j, :] = (r1 - r0) * (c1 - c0)
            for b in range(n):
                out[b, i, j, :] = x[b, r0:r1, c0:c1, :].mean(axis=(0, 1))
    return out, replace(cache, counts=counts)


def avgpool2d_backward_naive(dout: Any, cache: Pool2DCache) -> np.ndarray:
    """Average pooling backward pass with explicit loops (the reference).

    Every real pixel of a window receives the window's gradient divided by
    the number of real pixels in it.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, C)
    cache : Pool2DCache
        From any avgpool2d forward pass (every tier's cache works).

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    """
    dout = _check_backward(dout, cache, "avg")
    n, oh, ow, c = cache.out_shape
    dx = np.zeros(cache.x_shape, dtype=dout.dtype)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                r0, r1, c0, c1 = _window_bounds(cache, i, j)
                dx[b, r0:r1, c0:c1, :] += dout[b, i, j, :] / ((r1 - r0) * (c1 - c0))
    return dx


# --------------------------------------------------------------------------
# A view of all windows (the readable vectorised tier)
# --------------------------------------------------------------------------


def maxpool2d_forward_windows(
    x: Any, pool_size: Any, stride: Any = None, padding: Any = 0
) -> tuple[np.ndarray, Pool2DCache]:
    """Max pooling forward pass, vectorised: reduce a view of all windows.

    Same arguments, results and cache as :func:`maxpool2d_forward_naive`.
    The input is padded with ``-inf``; :func:`convlib.windows.window_view`
    gives every window, their pixels are listed in row-major order, and
    ``max`` and ``argmax`` (which returns the *first* maximum: the tie rule)
    reduce that list. ``max`` propagates NaN; where it did, ``argmax`` is
    replaced by the position of the window's last NaN (PyTorch's rule).

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
    x, cache = _prepare(x, pool_size, stride, padding, "max", "windows")
    n, oh, ow, c = cache.out_shape
    ph, pw = cache.pool_size
    windows = window_view(pad_spatial(x, cache.pads, -np.inf), cache.pool_size, cache.stride)
    pixels = windows.reshape(n, oh, ow, ph * pw, c)  # each window's pixels, row-major
    out = pixels.max(axis=3)
    argmax = pixels.argmax(axis=3).astype(_index_dtype(cache))  # p * PW + q of the first maximum
    nan_out = np.isnan(out)
    if nan_out.any():  # NaN wins: the last NaN of each such window (PyTorch's rule)
        last = ph * pw - 1 - np.isnan(pixels)[:, :, :, ::-1].argmax(axis=3)
        argmax = np.where(nan_out, last, argmax).astype(argmax.dtype)
    return out, replace(cache, argmax=argmax)


def maxpool2d_backward_windows(dout: Any, cache: Pool2DCache) -> np.ndarray:
    """Max pooling backward pass, vectorised: one addition per window offset.

    Offset ``(p, q)`` of every window is one strided slice of the padded
    input (:func:`convlib.windows.tap_slices`); the windows whose maximum sat
    there (``argmax == p * PW + q``) add their gradient onto it.

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
    ph, pw = cache.pool_size
    dx_padded = np.zeros(cache.geometry.padded_shape, dtype=dout.dtype)
    for p in range(ph):
        for q in range(pw):
            rows, cols = tap_slices(p, q, cache.out_shape[1:3], cache.stride)
            dx_padded[:, rows, cols, :] += np.where(cache.argmax == p * pw + q, dout, 0)
    return crop_spatial(dx_padded, cache.pads, cache.x_shape[1:3])


def avgpool2d_forward_windows(
    x: Any, pool_size: Any, stride: Any = None, padding: Any = 0
) -> tuple[np.ndarray, Pool2DCache]:
    """Average pooling forward pass, vectorised: sum a view of all windows.

    Same arguments, results and cache as :func:`avgpool2d_forward_naive`.
    The input is padded with zeros, each window of
    :func:`convlib.windows.window_view` is summed and divided by the number
    of real input pixels it covers.

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
    x, cache = _prepare(x, pool_size, stride, padding, "avg", "windows")
    windows = window_view(pad_spatial(x, cache.pads, 0.0), cache.pool_size, cache.stride)
    counts = _real_counts(cache)  # (OH, OW, C)
    out = windows.sum(axis=(3, 4)) / counts
    return out, replace(cache, counts=counts)


def avgpool2d_backward_windows(dout: Any, cache: Pool2DCache) -> np.ndarray:
    """Average pooling backward pass, vectorised: one addition per window offset.

    Every pixel of a window receives the window's gradient divided by its
    number of real pixels: ``dout / counts`` is added onto the strided slice
    of each offset ``(p, q)``, and the padding is cropped.

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
    g = dout / cache.counts
    ph, pw = cache.pool_size
    dx_padded = np.zeros(cache.geometry.padded_shape, dtype=dout.dtype)
    for p in range(ph):
        for q in range(pw):
            rows, cols = tap_slices(p, q, cache.out_shape[1:3], cache.stride)
            dx_padded[:, rows, cols, :] += g
    return crop_spatial(dx_padded, cache.pads, cache.x_shape[1:3])


# --------------------------------------------------------------------------
# The functions the layers call: the tuned tier
# --------------------------------------------------------------------------


def maxpool2d_forward(
    x: Any, pool_size: Any, stride: Any = None, padding: Any = 0
) -> tuple[np.ndarray, Pool2DCache]:
    """Max pooling forward pass, the fast one: runs :func:`convlib.fast.maxpool2d_forward_fast`.

    Same arguments, results and cache as :func:`maxpool2d_forward_naive`.

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

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1., 3., 2., 0.],
    ...               [4., 3., 1., 2.],
    ...               [0., -1., -5., -6.],
    ...               [-2., 7., -7., -8.]]).reshape(1, 4, 4, 1)
    >>> out, cache = maxpool2d_forward(x, 2)
    >>> out[0, :, :, 0]
    array([[ 4.,  2.],
           [ 7., -5.]])
    >>> maxpool2d_backward(np.ones_like(out), cache)[0, :, :, 0]
    array([[0., 0., 1., 0.],
           [1., 0., 0., 0.],
           [0., 0., 1., 0.],
           [0., 1., 0., 0.]])
    """
    # Imported here: the tuned tier builds on this module.
    from .fast.pooling import maxpool2d_forward_fast

    return maxpool2d_forward_fast(x, pool_size, stride, padding)


def maxpool2d_backward(dout: Any, cache: Pool2DCache) -> np.ndarray:
    """Max pooling backward pass, the fast one: runs :func:`convlib.fast.maxpool2d_backward_fast`.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, C)
    cache : Pool2DCache
        From any maxpool2d forward pass.

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    """
    from .fast.pooling import maxpool2d_backward_fast

    return maxpool2d_backward_fast(dout, cache)


def avgpool2d_forward(
    x: Any, pool_size: Any, stride: Any = None, padding: Any = 0
) -> tuple[np.ndarray, Pool2DCache]:
    """Average pooling forward pass, the fast one: runs :func:`convlib.fast.avgpool2d_forward_fast`.

    Same arguments, results and cache as :func:`avgpool2d_forward_naive`.

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

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> out, _ = avgpool2d_forward(x, 2, padding="same")  # pads one row and column after
    >>> out[0, :, :, 0]  # the border windows average 2 real pixels, the corner 1
    array([[2. , 3.5],
           [6.5, 8. ]])
    """
    from .fast.pooling import avgpool2d_forward_fast

    return avgpool2d_forward_fast(x, pool_size, stride, padding)


def avgpool2d_backward(dout: Any, cache: Pool2DCache) -> np.ndarray:
    """Average pooling backward pass, the fast one: runs :func:`convlib.fast.avgpool2d_backward_fast`.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, C)
    cache : Pool2DCache
        From any avgpool2d forward pass.

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    """
    from .fast.pooling import avgpool2d_backward_fast

    return avgpool2d_backward_fast(dout, cache)
