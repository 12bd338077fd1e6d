"""Window geometry shared by convolution and pooling, in every tier.

A layer that slides a ``KH x KW`` window (a convolution kernel, a pooling
window) over the padded input ``xp`` with stride ``(sh, sw)`` and dilation
``(dh, dw)`` reads, for output pixel ``(i, j)`` and window tap ``(u, v)``, the
padded pixel::

    xp[n, i*sh + u*dh, j*sw + v*dw, c]

Everything in this module follows from that one formula:

* :func:`pad_spatial` and :func:`crop_spatial` -- pad the two spatial axes,
  and cut the padding off a gradient again.
* :func:`window_output_hw` -- how many windows fit, ``(OH, OW)``.
* :func:`window_view` -- every window of every image at once, as a read-only
  view of shape ``(N, OH, OW, KH, KW, C)`` (nothing is copied).
* :func:`tap_slices` -- for one tap ``(u, v)`` (its arguments ``p, q``), the
  rows and columns that all output pixels read: one strided slice of the
  padded input.
* :func:`receptive_field` -- for one output pixel ``(i, j)``, the rows and
  columns of its window.
* :func:`tap_phases` -- the taps grouped by *stride phase*: the padded rows
  ``q * sh + a`` with the same ``a`` form phase ``a``, and tap row ``u`` reads
  consecutive rows of one phase. The tuned tier (:mod:`convlib.fast`)
  scatters gradients phase by phase.
* :class:`WindowGeometry` -- the numbers above bundled for one layer call;
  the caches of convolution and pooling hand it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._checks import as_int, as_numeric_array, as_pads, as_pair, as_real, check_ndim
from .arithmetic import Pads

__all__ = [
    "WindowGeometry",
    "TapPhase",
    "pad_spatial",
    "crop_spatial",
    "window_output_hw",
    "window_view",
    "tap_slices",
    "receptive_field",
    "tap_phases",
]


def pad_spatial(x: Any, pads: Any, value: float = 0.0) -> np.ndarray:
    """Pad the two spatial axes of an NHWC array with a constant.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
    pads : ((top, bottom), (left, right))
        Rows and columns to add on each side, ints >= 0 (from
        :func:`convlib.arithmetic.resolve_padding`).
    value : float
        What the padding holds: 0 for convolution and average pooling,
        ``-inf`` for max pooling (a padded pixel must never be the maximum).
        Not NaN; an infinity only for floating-point ``x``.

    Returns
    -------
    ndarray, shape (N, H + top + bottom, W + left + right, C)
        A new array of ``x``'s dtype, or ``x`` itself when ``pads`` is all
        zeros.

    Raises
    ------
    TypeError
        If ``x`` is not numeric, ``pads`` is not two pairs of ints (a padding
        word such as ``"same"`` must be resolved first) or ``value`` is not a
        real number.
    ValueError
        If ``x`` is not 4-D, an entry of ``pads`` is negative, ``value`` is
        NaN, or infinite for an integer ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> pad_spatial(np.ones((1, 2, 2, 1)), ((1, 0), (0, 2))).shape
    (1, 3, 4, 1)
    """
    x = as_numeric_array("x", x)
    check_ndim("x", x, 4, "(N, H, W, C)")
    pads = as_pads("pads", pads)
    value = as_real("value", value, finite=False)
    if x.dtype.kind != "f" and not np.isfinite(value):
        raise ValueError(
            f"value {value} cannot be stored in x of dtype {x.dtype}: pad a floating-point x"
        )
    return _pad_spatial(x, pads, value)


def _pad_spatial(x: np.ndarray, pads: Pads, value: float) -> np.ndarray:
    """:func:`pad_spatial` without argument checks, for the tiers (arguments already valid)."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    n, h, w, c = x.shape
    shape = (n, h + top + bottom, w + left + right, c)
    # np.zeros gets pages that are already zero from the operating system,
    # so zero padding costs no extra pass over the memory.
    xp = np.zeros(shape, dtype=x.dtype) if value == 0 else np.full(shape, value, dtype=x.dtype)
    xp[:, top : top + h, left : left + w, :] = x
    return xp


def crop_spatial(x_padded: Any, pads: Any, hw: Any) -> np.ndarray:
    """Cut the padding off an NHWC array: the inverse of :func:`pad_spatial`.

    The backward pass of padding: the gradient of the padded input, cropped,
    is the gradient of the input (the padding's own gradient is discarded).

    Parameters
    ----------
    x_padded : array_like, shape (N, H + top + bottom, W + left + right, C)
    pads : ((top, bottom), (left, right))
        Ints >= 0.
    hw : (int, int)
        ``(H, W)``, the unpadded size.

    Returns
    -------
    ndarray, shape (N, H, W, C)
        A view of ``x_padded``. The slices end at ``top + H`` and
        ``left + W`` -- not at ``-bottom``, which would give an empty array
        when ``bottom == 0``.

    Raises
    ------
    TypeError, ValueError
        As :func:`pad_spatial` for ``x_padded`` and ``pads``; a
        ``ValueError`` naming ``hw``, ``pads`` and the shape of ``x_padded``
        when ``top + H + bottom`` or ``left + W + right`` is not the size of
        ``x_padded`` (the crop would silently cut the wrong pixels).

    Examples
    --------
    >>> import numpy as np
    >>> crop_spatial(np.zeros((1, 5, 6, 2)), ((1, 1), (2, 0)), (3, 4)).shape
    (1, 3, 4, 2)
    """
    x_padded = as_numeric_array("x_padded", x_padded)
    check_ndim("x_padded", x_padded, 4, "(N, Hp, Wp, C)")
    pads = as_pads("pads", pads)
    hw = as_pair("hw", hw, 1)
    (top, bottom), (left, right) = pads
    if (top + hw[0] + bottom, left + hw[1] + right) != x_padded.shape[1:3]:
        raise ValueError(
            f"hw {hw} with pads {pads} describes a padded size of "
            f"{(top + hw[0] + bottom, left + hw[1] + right)}, but x_padded has shape "
            f"{x_padded.shape}: hw must be the unpadded (H, W) of the array that was padded"
        )
    return _crop_spatial(x_padded, pads, hw)


def _crop_spatial(x_padded: np.ndarray, pads: Pads, hw: tuple[int, int]) -> np.ndarray:
    """:func:`crop_spatial` without argument checks, for the tiers (arguments already valid)."""
    (top, _), (left, _) = pads
    h, w = hw
    return x_padded[:, top : top + h, left : left + w, :]


def window_output_hw(
    padded_hw: Any, kernel_size: Any, stride: Any = 1, dilation: Any = 1
) -> tuple[int, int]:
    """Number of window positions ``(OH, OW)`` in a padded input.

    ``OH = (Hp - (dh * (KH - 1) + 1)) // sh + 1``, likewise ``OW``.

    Parameters
    ----------
    padded_hw : (int, int)
        ``(Hp, Wp)``, the size of the padded input.
    kernel_size, stride, dilation : int or (int, int)

    Returns
    -------
    (int, int)
        ``(OH, OW)``, both >= 1.

    Raises
    ------
    TypeError
        If an argument is not an int or a pair of ints.
    ValueError
        If a size is below 1, or the (dilated) window is larger than the
        padded input; the message names ``kernel_size``, ``dilation`` and
        ``padded_hw``.

    Examples
    --------
    >>> window_output_hw((28, 28), 3, stride=2)
    (13, 13)
    """
    hp, wp = as_pair("padded_hw", padded_hw, 1)
    kh, kw = as_pair("kernel_size", kernel_size, 1)
    sh, sw = as_pair("stride", stride, 1)
    dh, dw = as_pair("dilation", dilation, 1)
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    if span[0] > hp or span[1] > wp:
        raise ValueError(
            f"window of kernel_size {(kh, kw)} with dilation {(dh, dw)} spans {span} "
            f"pixels and does not fit padded_hw {(hp, wp)}"
        )
    return (hp - span[0]) // sh + 1, (wp - span[1]) // sw + 1


def _strided_windows(
    x_padded: np.ndarray,
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_hw: tuple[int, int],
) -> np.ndarray:
    """:func:`window_view` without argument checks (all arguments already valid)."""
    n, _, _, c = x_padded.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel_size, stride, dilation, out_hw
    s0, s1, s2, s3 = x_padded.strides
    return as_strided(
        x_padded,
        shape=(n, oh, ow, kh, kw, c),
        strides=(s0, sh * s1, sw * s2, dh * s1, dw * s2, s3),
        writeable=False,
    )


def window_view(x_padded: Any, kernel_size: Any, stride: Any = 1, dilation: Any = 1) -> np.ndarray:
    """Every window of every image, as a read-only view of the padded input.

    Element ``[n, i, j, u, v, c]`` (image ``n``, output pixel ``(i, j)``, kernel
    tap ``(u, v)``, channel ``c``) is ``x_padded[n, i*sh + u*dh, j*sw + v*dw, c]``.
    That address is linear in each of the six indices, so with byte strides
    ``x_padded.strides == (B0, B1, B2, B3)`` the view simply has the strides
    ``(B0, sh*B1, sw*B2, dh*B1, dw*B2, B3)``: no data is copied.

    Parameters
    ----------
    x_padded : array_like, shape (N, Hp, Wp, C)
        The (already padded) input.
    kernel_size : int or (int, int)
        ``(KH, KW)``.
    stride, dilation : int or (int, int)

    Returns
    -------
    ndarray, shape (N, OH, OW, KH, KW, C)
        Read-only: the windows overlap, so writing through the view would
        change several windows at once.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> v = window_view(x, 2, stride=2)
    >>> v.shape
    (1, 2, 2, 2, 2, 1)
    >>> v[0, 1, 0, :, :, 0]  # the window of output pixel (1, 0)
    array([[ 8.,  9.],
           [12., 13.]])
    """
    x_padded, kernel, step, dil, out_hw = _checked_windows_args(
        x_padded, kernel_size, stride, dilation
    )
    return _strided_windows(x_padded, kernel, step, dil, out_hw)


def _checked_windows_args(
    x_padded: Any, kernel_size: Any, stride: Any, dilation: Any
) -> tuple[np.ndarray, tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Validate the arguments of :func:`window_view` and of the im2col functions.

    Returns ``(x_padded, kernel_size, stride, dilation, (OH, OW))`` with
    ``x_padded`` a 4-D numeric array and the others pairs of ints; raises
    ``TypeError``/``ValueError`` naming the argument (and, when the window
    does not fit, ``x_padded``'s shape).
    """
    x_padded = as_numeric_array("x_padded", x_padded)
    check_ndim("x_padded", x_padded, 4, "(N, Hp, Wp, C)")
    kernel = as_pair("kernel_size", kernel_size, 1)
    step = as_pair("stride", stride, 1)
    dil = as_pair("dilation", dilation, 1)
    try:
        out_hw = window_output_hw(x_padded.shape[1:3], kernel, step, dil)
    except ValueError as exc:
        raise ValueError(f"{exc}, the (H, W) of x_padded of shape {x_padded.shape}") from None
    return x_padded, kernel, step, dil, out_hw


def tap_slices(
    p: int, q: int, out_hw: Any, stride: Any = 1, dilation: Any = 1
) -> tuple[slice, slice]:
    """Rows and columns of the padded input that window tap ``(p, q)`` reads.

    Output pixel ``(i, j)`` reads row ``i*sh + p*dh`` and column
    ``j*sw + q*dw`` through tap ``(p, q)``; over all ``OH x OW`` outputs these
    form one strided slice each. ``xp[:, rows, cols, :]`` therefore has shape
    ``(N, OH, OW, C)``: tap ``(p, q)`` of every window, in output order.

    Parameters
    ----------
    p, q : int
        Tap position inside the window (kernel row and column), >= 0.
    out_hw : (int, int)
        ``(OH, OW)``, >= 1.
    stride, dilation : int or (int, int)

    Returns
    -------
    (slice, slice)

    Raises
    ------
    TypeError, ValueError
        If an argument is not an int (or pair of ints) or is below its
        smallest value (a negative tap would give slices with a negative
        start, which NumPy reads from the end).

    Examples
    --------
    >>> tap_slices(1, 2, (3, 4), stride=2)
    (slice(1, 6, 2), slice(2, 9, 2))
    """
    p, q = as_int("p", p, 0), as_int("q", q, 0)
    oh, ow = as_pair("out_hw", out_hw, 1)
    (sh, sw), (dh, dw) = as_pair("stride", stride, 1), as_pair("dilation", dilation, 1)
    r0, c0 = p * dh, q * dw
    return slice(r0, r0 + sh * (oh - 1) + 1, sh), slice(c0, c0 + sw * (ow - 1) + 1, sw)


def receptive_field(
    i: int, j: int, kernel_size: Any, stride: Any = 1, dilation: Any = 1
) -> tuple[slice, slice]:
    """Rows and columns of the padded input in the window of output pixel ``(i, j)``.

    ``xp[n, rows, cols, :]`` is that window, shape ``(KH, KW, C)``.

    Parameters
    ----------
    i, j : int
        Output pixel (row and column), >= 0.
    kernel_size, stride, dilation : int or (int, int)

    Returns
    -------
    (slice, slice)

    Raises
    ------
    TypeError, ValueError
        If an argument is not an int (or pair of ints) or is below its
        smallest value (a negative ``i`` would give slices with a negative
        start, which NumPy reads from the end).

    Examples
    --------
    >>> receptive_field(1, 0, 3, stride=2, dilation=(1, 2))
    (slice(2, 5, 1), slice(0, 5, 2))
    """
    i, j = as_int("i", i, 0), as_int("j", j, 0)
    (kh, kw) = as_pair("kernel_size", kernel_size, 1)
    (sh, sw), (dh, dw) = as_pair("stride", stride, 1), as_pair("dilation", dilation, 1)
    r0, c0 = i * sh, j * sw
    return slice(r0, r0 + dh * (kh - 1) + 1, dh), slice(c0, c0 + dw * (kw - 1) + 1, dw)


@dataclass(frozen=True)
class TapPhase:
    """The window taps that read one stride phase of the padded input.

    Split the padded rows by their remainder modulo the stride,
    ``row = q * sh + a``: phase ``a`` holds rows ``a, a + sh, a + 2 sh, ...``
    at positions ``q = 0, 1, 2, ...``. Tap row ``u`` of output row ``i`` reads
    row ``i * sh + u * dh``, which is position ``q = i + (u * dh) // sh`` of
    phase ``a = (u * dh) % sh``: over all output rows, *consecutive* positions
    of one phase. Columns likewise.

    Attributes
    ----------
    row_phase, col_phase : int
        ``a`` and ``b``, the phase of the rows and of the columns.
    taps : tuple of (u, v, row0, col0)
        Every kernel tap ``(u, v)`` of this phase, in row-major order, with the
        position ``(row0, col0)`` at which output pixel ``(0, 0)`` reads it:
        tap ``(u, v)`` of all outputs reads positions ``row0 : row0 + OH`` and
        ``col0 : col0 + OW`` of the phase.
    """

    row_phase: int
    col_phase: int
    taps: tuple[tuple[int, int, int, int], ...]


@lru_cache(maxsize=256)
def _tap_phases(
    kernel_size: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]
) -> tuple[TapPhase, ...]:
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    groups: dict[tuple[int, int], list[tuple[int, int, int, int]]] = {}
    for u in range(kh):
        row0, a = divmod(u * dh, sh)
        for v in range(kw):
            col0, b = divmod(v * dw, sw)
            groups.setdefault((a, b), []).append((u, v, row0, col0))
    return tuple(TapPhase(a, b, tuple(groups[a, b])) for a, b in sorted(groups))


def tap_phases(kernel_size: Any, stride: Any = 1, dilation: Any = 1) -> tuple[TapPhase, ...]:
    """Group the taps of a window by the stride phase they read.

    Parameters
    ----------
    kernel_size, stride, dilation : int or (int, int)

    Returns
    -------
    tuple of TapPhase
        One entry per phase ``(a, b)`` that some tap reads, in row-major
        order of ``(a, b)``; phases that no tap reads (a stride larger than
        the dilated window) are absent. With stride 1 there is one phase.

    Examples
    --------
    >>> [(ph.row_phase, ph.col_phase, ph.taps) for ph in tap_phases((3, 1), stride=2)]
    [(0, 0, ((0, 0, 0, 0), (2, 0, 1, 0))), (1, 0, ((1, 0, 0, 0),))]
    """
    return _tap_phases(
        as_pair("kernel_size", kernel_size, 1),
        as_pair("stride", stride, 1),
        as_pair("dilation", dilation, 1),
    )


@dataclass(frozen=True)
class WindowGeometry:
    """Where the windows of one layer call lie: shapes, padding, stride, dilation.

    Both :class:`convlib.conv.Conv2DCache` and
    :class:`convlib.pooling.Pool2DCache` give theirs as ``cache.geometry``.

    Attributes
    ----------
    x_shape : (N, H, W, C)
        The unpadded input.
    pads : ((top, bottom), (left, right))
    kernel_size, stride, dilation : (int, int)
        ``(KH, KW)``, ``(sh, sw)`` and ``(dh, dw)`` (pooling: dilation 1).
    out_hw : (int, int)
        ``(OH, OW)``.
    """

    x_shape: tuple[int, int, int, int]
    pads: Pads
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    out_hw: tuple[int, int]

    @cached_property
    def padded_shape(self) -> tuple[int, int, int, int]:
        """``(N, H + top + bottom, W + left + right, C)``."""
        n, h, w, c = self.x_shape
        (top, bottom), (left, right) = self.pads
        return (n, h + top + bottom, w + left + right, c)

    @cached_property
    def phases(self) -> tuple[TapPhase, ...]:
        """:func:`tap_phases` of this geometry."""
        return _tap_phases(self.kernel_size, self.stride, self.dilation)
