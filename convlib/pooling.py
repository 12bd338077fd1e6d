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
  Keras' ``padding="same"`` and PyTorch's ``count_include_pad=False``.
* **Ties go to the first maximum.** When several pixels of a window share the
  maximum, the whole gradient of that window goes to the first of them in
  row-major order within the window (top row first, left to right), the one
  ``np.argmax`` of the flattened window picks. The gradient is not split.

Where windows overlap (stride smaller than the window) a pixel receives the
sum of the gradients of every window that picked it; pixels that no window
covers (a stride that does not tile the input drops the last rows or
columns) receive zero gradient.

Two implementations share one cache type:

* :func:`maxpool2d_forward_naive`, :func:`avgpool2d_forward_naive` and their
  backwards loop over images and output pixels, as the book writes them;
* :func:`maxpool2d_forward`, :func:`avgpool2d_forward` and their backwards
  are vectorized: one NumPy operation per window offset ``(p, q)``, never a
  Python loop over pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

import numpy as np

from ._checks import as_numeric_array, as_pair, check_ndim, float_dtype
from .arithmetic import Pads, conv_output_size, resolve_padding

__all__ = [
    "Pool2DCache",
    "maxpool2d_forward",
    "maxpool2d_backward",
    "maxpool2d_forward_naive",
    "maxpool2d_backward_naive",
    "avgpool2d_forward",
    "avgpool2d_backward",
    "avgpool2d_forward_naive",
    "avgpool2d_backward_naive",
]


@dataclass(frozen=True)
class Pool2DCache:
    """What a pooling forward pass keeps for its backward pass.

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
        the window, ``p * PW + q`` for window row ``p`` and column ``q``
        (rows and columns counted in the padded input).
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


# --------------------------------------------------------------------------
# Argument handling shared by every path
# --------------------------------------------------------------------------


def _prepare(
    x: Any, pool_size: Any, stride: Any, padding: Any, mode: str
) -> tuple[np.ndarray, Pool2DCache]:
    """Validate the arguments and cast ``x`` to the compute dtype.

    Returns ``(x, cache)``; the cache has neither ``argmax`` nor ``counts``.
    """
    x = as_numeric_array("x", x)
    check_ndim("x", x, 4, "(N, H, W, C)")
    if min(x.shape) == 0:
        raise ValueError(f"x must not have empty axes, got shape {x.shape}")
    n, h, w, c = x.shape
    pool = as_pair("pool_size", pool_size, 1)
    step = pool if stride is None else as_pair("stride", stride, 1)
    pads = resolve_padding(padding, (h, w), pool, step)
    for name, size, (lo, hi), k in (("rows", h, pads[0], pool[0]), ("columns", w, pads[1], pool[1])):
        if lo >= k or hi >= k:
            raise ValueError(
                f"padding {pads} is too large for pool_size {pool}: the padding of the "
                f"{name}, {lo} before and {hi} after, must be smaller than the window's "
                f"{k} {name}, or a window could hold nothing but padding"
            )
        if k > size + lo + hi:
            raise ValueError(
                f"pool_size {pool} does not fit the input: its {k} {name} exceed the "
                f"{size + lo + hi} {name} of x {x.shape} padded by {pads}"
            )
    oh = conv_output_size(h, pool[0], step[0], pads[0])
    ow = conv_output_size(w, pool[1], step[1], pads[1])
    dtype = float_dtype(x)
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


def _check_dout(dout: Any, cache: Any, mode: str) -> np.ndarray:
    """Validate the upstream gradient against the cache; return it as floats."""
    name = "maxpool2d" if mode == "max" else "avgpool2d"
    if not isinstance(cache, Pool2DCache) or cache.mode != mode:
        got = (
            f"a Pool2DCache from {cache.mode} pooling"
            if isinstance(cache, Pool2DCache)
            else type(cache).__name__
        )
        raise TypeError(f"cache must be the Pool2DCache returned by a {name} forward, got {got}")
    dout = as_numeric_array("dout", dout)
    if dout.shape != cache.out_shape:
        raise ValueError(
            f"dout has shape {dout.shape} but the forward output had shape "
            f"{cache.out_shape} (N, OH, OW, C)"
        )
    dtype = np.result_type(dout, cache.dtype) if dout.dtype.kind == "f" else cache.dtype
    return dout.astype(dtype, copy=False)


def _pad(x: np.ndarray, pads: Pads, value: float) -> np.ndarray:
    """Pad the two spatial axes with ``value`` (returns ``x`` when no padding)."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    n, h, w, c = x.shape
    xp = np.full((n, h + top + bottom, w + left + right, c), value, dtype=x.dtype)
    xp[:, top : top + h, left : left + w, :] = x
    return xp


def _padded_shape(cache: Pool2DCache) -> tuple[int, int, int, int]:
    n, h, w, c = cache.x_shape
    (top, bottom), (left, right) = cache.pads
    return (n, h + top + bottom, w + left + right, c)


def _crop(dxp: np.ndarray, cache: Pool2DCache) -> np.ndarray:
    """Drop the padding from the gradient of the padded input."""
    (top, _), (left, _) = cache.pads
    _, h, w, _ = cache.x_shape
    if dxp.shape[1:3] == (h, w):
        return dxp
    return dxp[:, top : top + h, left : left + w, :]


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


# The fast paths never loop over pixels. They group the window offsets
# (p, q) by *phase*: with stride (SH, SW), offset p reads padded rows
# p, p + SH, p + 2 SH, ..., so offsets p and p + SH read the same sub-grid of
# rows (those congruent to p modulo SH), shifted by one window. Each phase's
# sub-grid is copied once into a contiguous array, and every offset of that
# phase is then a shifted slice of it whose rows are contiguous runs of
# OW * C numbers -- fast for NumPy. With stride 1 there is a single phase
# and no copy at all.
#
# The copies move whole pixels: each pixel's C channels are viewed as one
# opaque item of C * itemsize bytes. With few channels (8 float32 are 32
# bytes) NumPy spends far more time stepping through a strided slice than
# copying it, and moving pixels instead of numbers is several times faster.


def _pixels(a: np.ndarray) -> np.ndarray:
    """View a float array of shape ``(..., C)`` as ``(...)`` opaque pixel items.

    The result shares memory with ``a`` (``a`` is copied first only when its
    channel axis is not contiguous), so assigning into it writes into ``a``.
    """
    c = a.shape[-1]
    if c > 1 and a.strides[-1] != a.itemsize:
        a = np.ascontiguousarray(a)
    return a.view(np.dtype((np.void, c * a.itemsize)))[..., 0]


def _floats(v: np.ndarray, dtype: np.dtype, c: int) -> np.ndarray:
    """Inverse of :func:`_pixels` for a contiguous array of pixel items."""
    return v.view(dtype).reshape(v.shape + (c,))


def _phases(cache: Pool2DCache):
    """Yield ``(rows, cols, offsets)`` for every phase of the window offsets.

    ``rows`` and ``cols`` are strided slices of the padded input (its
    sub-grid for this phase); ``offsets`` lists ``(k, u, v)``: window offset
    ``k = p * PW + q`` reads the sub-grid at ``[u : u + OH, v : v + OW]``.
    Phases never share a pixel. Rows or columns that belong to no phase
    (stride larger than the window) are read by no window.
    """
    (ph, pw), (sh, sw) = cache.pool_size, cache.stride
    _, oh, ow, _ = cache.out_shape
    for a in range(min(sh, ph)):
        n_u = len(range(a, ph, sh))
        rows = slice(a, a + sh * (oh + n_u - 2) + 1, sh)
        for b in range(min(sw, pw)):
            n_v = len(range(b, pw, sw))
            cols = slice(b, b + sw * (ow + n_v - 2) + 1, sw)
            offsets = [
                ((a + sh * u) * pw + b + sw * v, u, v) for u in range(n_u) for v in range(n_v)
            ]
            yield rows, cols, offsets


def _window_views(xp: np.ndarray, cache: Pool2DCache) -> list[np.ndarray]:
    """The pixels at every window offset, each of shape ``(N, OH, OW, C)``.

    Parameters
    ----------
    xp : ndarray, shape (N, Hp, Wp, C)
        The padded input.

    Returns
    -------
    list of ndarray
        Entry ``k = p * PW + q`` holds ``xp[n, i * SH + p, j * SW + q, c]``
        at ``[n, i, j, c]``: a slice of ``xp`` (stride 1) or of a contiguous
        copy of one phase's sub-grid.
    """
    _, oh, ow, c = cache.out_shape
    ph, pw = cache.pool_size
    views: list[np.ndarray] = [xp] * (ph * pw)
    for rows, cols, offsets in _phases(cache):
        if cache.stride == (1, 1):
            sub = xp
        else:
            sub = _floats(np.ascontiguousarray(_pixels(xp)[:, rows, cols]), xp.dtype, c)
        for k, u, v in offsets:
            views[k] = sub[:, u : u + oh, v : v + ow, :]
    return views


def _scatter(part: Callable[[int], np.ndarray], dtype: np.dtype, cache: Pool2DCache) -> np.ndarray:
    """Adjoint of :func:`_window_views`: add each offset's gradient onto its pixels.

    Parameters
    ----------
    part : callable
        ``part(k)`` returns the gradient flowing to window offset ``k``,
        shape ``(N, OH, OW, C)``.
    dtype : numpy.dtype
        Dtype of the result.

    Returns
    -------
    ndarray, shape (N, H, W, C)
        Pixels shared by overlapping windows receive the sum of their
        contributions; padding is cropped; pixels no window covers get 0.
    """
    n, oh, ow, c = cache.out_shape
    dxp = np.zeros(_padded_shape(cache), dtype=dtype)
    for rows, cols, offsets in _phases(cache):
        if cache.stride == (1, 1):
            acc = dxp[:, rows, cols, :]  # a view: accumulate in place
        elif len(offsets) == 1:
            # Windows of this phase do not overlap: one plain (pixel) copy.
            _pixels(dxp)[:, rows, cols] = _pixels(np.asarray(part(offsets[0][0]), dtype=dtype))
            continue
        else:
            n_u, n_v = offsets[-1][1] + 1, offsets[-1][2] + 1
            acc = np.zeros((n, oh + n_u - 1, ow + n_v - 1, c), dtype=dtype)
        for k, u, v in offsets:
            acc[:, u : u + oh, v : v + ow, :] += part(k)
        if cache.stride != (1, 1):
            _pixels(dxp)[:, rows, cols] = _pixels(acc)
    return _crop(dxp, cache)


def _index_dtype(cache: Pool2DCache) -> type:
    ph, pw = cache.pool_size
    return np.uint8 if ph * pw <= 256 else np.intp


# --------------------------------------------------------------------------
# Max pooling
# --------------------------------------------------------------------------


def maxpool2d_forward_naive(
    x: Any, pool_size: Any, stride: Any = None, padding: Any = 0
) -> tuple[np.ndarray, Pool2DCache]:
    """Max pooling forward pass with explicit loops (the reference).

    Each window is clipped to the real input (padding is never looked at)
    and its maximum taken per channel; ``np.argmax`` of the flattened window
    records the first maximum in row-major order.

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
    x, cache = _prepare(x, pool_size, stride, padding, "max")
    n, oh, ow, c = cache.out_shape
    (top, _), (left, _) = cache.pads
    (sh, sw), pw = cache.stride, cache.pool_size[1]
    out = np.empty(cache.out_shape, dtype=cache.dtype)
    argmax = np.empty(cache.out_shape, dtype=_index_dtype(cache))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                r0, r1, c0, c1 = _window_bounds(cache, i, j)
                window = x[b, r0:r1, c0:c1, :].reshape(-1, c)  # row-major pixels x C
                k = np.argmax(window, axis=0)  # first maximum of each channel
                out[b, i, j, :] = window[k, np.arange(c)]
                # Position of the winner in the padded window, p * PW + q.
                p = r0 + k // (c1 - c0) - (i * sh - top)
                q = c0 + k % (c1 - c0) - (j * sw - left)
                argmax[b, i, j, :] = p * pw + q
    return out, Pool2DCache(**{**cache.__dict__, "argmax": argmax})


def maxpool2d_backward_naive(dout: Any, cache: Pool2DCache) -> np.ndarray:
    """Max pooling backward pass with explicit loops (the reference).

    Each window's upstream gradient goes, whole, to the input pixel that was
    its maximum (the first one in row-major order on ties).

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, C)
        Gradient of the loss with respect to the pooled output.
    cache : Pool2DCache
        From :func:`maxpool2d_forward_naive` or :func:`maxpool2d_forward`.

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
        Sums over overlapping windows; zero for pixels that were never a
        window's maximum.
    """
    dout = _check_dout(dout, cache, "max")
    n, oh, ow, c = cache.out_shape
    (sh, sw), pw = cache.stride, cache.pool_size[1]
    dxp = np.zeros(_padded_shape(cache), dtype=dout.dtype)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    p, q = divmod(int(cache.argmax[b, i, j, ch]), pw)
                    dxp[b, i * sh + p, j * sw + q, ch] += dout[b, i, j, ch]
    return _crop(dxp, cache)


def maxpool2d_forward(
    x: Any, pool_size: Any, stride: Any = None, padding: Any = 0
) -> tuple[np.ndarray, Pool2DCache]:
    """Max pooling forward pass, vectorized.

    Same arguments, results and cache as :func:`maxpool2d_forward_naive`.
    The input is padded with ``-inf``. For each window offset ``(p, q)``,
    the pixels at that offset of every window form one array of shape
    ``(N, OH, OW, C)`` (a strided slice of the padded input); going through
    the ``PH * PW`` offsets in row-major order, a running maximum keeps the
    larger value. Only a *strictly* larger value replaces the current one,
    which is what makes the first maximum win ties. Inputs are assumed free
    of NaN.

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
    x, cache = _prepare(x, pool_size, stride, padding, "max")
    views = _window_views(_pad(x, cache.pads, -np.inf), cache)
    out = views[0].copy()
    argmax = np.zeros(cache.out_shape, dtype=_index_dtype(cache))
    better = np.empty(cache.out_shape, dtype=bool)
    for k in range(1, len(views)):  # offsets in row-major order
        np.greater(views[k], out, out=better)  # strict: a later equal value does not win
        np.maximum(out, views[k], out=out)
        # The winner's offset is the last k at which the running maximum
        # strictly grew, i.e. the largest such k.
        np.maximum(argmax, better * argmax.dtype.type(k), out=argmax)
    return out, Pool2DCache(**{**cache.__dict__, "argmax": argmax})


def maxpool2d_backward(dout: Any, cache: Pool2DCache) -> np.ndarray:
    """Max pooling backward pass, vectorized.

    For each window offset ``k = p * PW + q``, the windows whose maximum sat
    at that offset (``argmax == k``) pass their gradient to the pixels at that
    offset -- the same strided slice the forward read; overlapping windows
    add up.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, C)
    cache : Pool2DCache
        From :func:`maxpool2d_forward` or :func:`maxpool2d_forward_naive`.

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    """
    dout = _check_dout(dout, cache, "max")
    argmax = cache.argmax
    return _scatter(lambda k: (argmax == k) * dout, dout.dtype, cache)


# --------------------------------------------------------------------------
# Average pooling
# --------------------------------------------------------------------------


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
    x, cache = _prepare(x, pool_size, stride, padding, "avg")
    n, oh, ow, c = cache.out_shape
    out = np.empty(cache.out_shape, dtype=cache.dtype)
    counts = np.empty((oh, ow, c), dtype=cache.dtype)
    for i in range(oh):
        for j in range(ow):
            r0, r1, c0, c1 = _window_bounds(cache, i, j)
            counts[i, j, :] = (r1 - r0) * (c1 - c0)
            for b in range(n):
                out[b, i, j, :] = x[b, r0:r1, c0:c1, :].mean(axis=(0, 1))
    return out, Pool2DCache(**{**cache.__dict__, "counts": counts})


def avgpool2d_backward_naive(dout: Any, cache: Pool2DCache) -> np.ndarray:
    """Average pooling backward pass with explicit loops (the reference).

    Every real pixel of a window receives the window's gradient divided by
    the number of real pixels in it.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, C)
    cache : Pool2DCache
        From :func:`avgpool2d_forward_naive` or :func:`avgpool2d_forward`.

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    """
    dout = _check_dout(dout, cache, "avg")
    n, oh, ow, c = cache.out_shape
    dx = np.zeros(cache.x_shape, dtype=dout.dtype)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                r0, r1, c0, c1 = _window_bounds(cache, i, j)
                dx[b, r0:r1, c0:c1, :] += dout[b, i, j, :] / ((r1 - r0) * (c1 - c0))
    return dx


def avgpool2d_forward(
    x: Any, pool_size: Any, stride: Any = None, padding: Any = 0
) -> tuple[np.ndarray, Pool2DCache]:
    """Average pooling forward pass, vectorized.

    Same arguments, results and cache as :func:`avgpool2d_forward_naive`.
    The input is padded with zeros, the ``PH * PW`` arrays of pixels at each
    window offset (strided slices of the padded input) are summed, and each
    window's sum is divided by the number of real input pixels it covers.

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
    x, cache = _prepare(x, pool_size, stride, padding, "avg")
    counts = _real_counts(cache)
    views = _window_views(_pad(x, cache.pads, 0.0), cache)
    out = views[0].copy()
    for view in views[1:]:
        out += view
    out /= counts
    return out, Pool2DCache(**{**cache.__dict__, "counts": counts})


def avgpool2d_backward(dout: Any, cache: Pool2DCache) -> np.ndarray:
    """Average pooling backward pass, vectorized.

    ``dout / counts`` is added onto the pixels at each of the ``PH * PW``
    window offsets; the gradient of the padding is cropped away at the end.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, C)
    cache : Pool2DCache
        From :func:`avgpool2d_forward` or :func:`avgpool2d_forward_naive`.

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    """
    dout = _check_dout(dout, cache, "avg")
    g = dout / cache.counts.astype(dout.dtype, copy=False)
    return _scatter(lambda k: g, dout.dtype, cache)
