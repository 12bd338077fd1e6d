"""Stride phases: the tuned tier's one scatter and one gather.

With stride ``(sh, sw)``, tap ``p`` of a window reads the padded rows
``p*dh, p*dh + sh, p*dh + 2 sh, ...``: every ``sh``-th row, a strided slice.
Split the padded rows into ``sh`` *phases*, ``row = u * sh + a``; then tap
``p`` reads *consecutive* positions ``u = u0, u0 + 1, ...`` of the single
phase ``a = (p*dh) % sh`` (``u0 = (p*dh) // sh``), and columns likewise (see
:func:`convlib.windows.tap_phases`). Working phase by phase turns every
strided slice into a block of consecutive rows and columns, which NumPy
processes much faster.

* :func:`phase_scatter` -- the backward direction, shared by convolution
  (``dx``: tuned col2im) and both poolings: add each tap's gradient onto the
  pixels it read, phase by phase, and interleave the phases into the
  (cropped) input gradient once at the end.
* :func:`phase_window_views` -- the forward direction for pooling: every
  tap's pixels as an ``(N, OH, OW, C)`` array, read from one contiguous copy
  per phase.

Copies between phase layout and image layout move whole pixels: each pixel's
``C`` channels are viewed as one opaque item of ``C * itemsize`` bytes
(:func:`pixel_view`). With few channels (8 float32 are 32 bytes) NumPy spends
far more time stepping through a strided slice than copying it, and moving
pixels instead of numbers was several times faster for the pooling layers of
the book's networks (measured in an earlier run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._checks import (
    as_bool,
    as_dtype,
    as_numeric_array,
    check_callable,
    check_instance,
    check_ndim,
)
from ..windows import WindowGeometry, _crop_spatial
from .workspace import _scratch

__all__ = ["pixel_view", "phase_scatter", "phase_window_views"]

_GEOMETRY_HINT = "(the cache.geometry of a convolution or pooling forward pass)"


def pixel_view(a: np.ndarray) -> np.ndarray:
    """View a float array of shape ``(..., C)`` as ``(...)`` opaque pixel items.

    The result shares memory with ``a`` (``a`` is copied first only when its
    channel axis is not contiguous), so assigning into it writes into ``a``.
    """
    c = a.shape[-1]
    if c > 1 and a.strides[-1] != a.itemsize:
        a = np.ascontiguousarray(a)
    return a.view(np.dtype((np.void, c * a.itemsize)))[..., 0]


def _float_view(v: np.ndarray, dtype: np.dtype, c: int) -> np.ndarray:
    """Inverse of :func:`pixel_view` for a contiguous array of pixel items."""
    return v.view(dtype).reshape((*v.shape, c))


def _copy_shifted(target: np.ndarray, grad: np.ndarray, du: int, dv: int) -> None:
    """``target[:, t, s] = grad[:, t - du, s - dv]`` where defined, zero elsewhere.

    ``target`` is one phase of the input gradient, ``(N, ny, nx, C)``; ``grad``
    the gradient of the one tap that reads this phase, ``(N, OH, OW, C)``,
    starting ``(du, dv)`` positions after the target's first one.
    """
    _, ny, nx, _ = target.shape
    _, oh, ow, _ = grad.shape
    t0, t1 = max(0, du), min(ny, oh + du)
    s0, s1 = max(0, dv), min(nx, ow + dv)
    if (t0, t1, s0, s1) != (0, ny, 0, nx):
        target[...] = 0  # part of the phase is read by no window (a border)
    if t0 < t1 and s0 < s1:
        pixel_view(target)[:, t0:t1, s0:s1] = pixel_view(
            grad[:, t0 - du : t1 - du, s0 - dv : s1 - dv]
        )


def phase_scatter(
    tap_grad: Callable[[int, int], np.ndarray],
    geometry: WindowGeometry,
    dtype: Any,
    *,
    channel_major: bool = False,
) -> np.ndarray:
    """Add every tap's gradient onto the input pixels it read; crop the padding.

    The adjoint of reading the windows: convolution's ``dx`` (its col2im) and
    the pooling backward passes both end here.

    Parameters
    ----------
    tap_grad : callable
        ``tap_grad(p, q)`` returns the gradient that reaches the padded input
        through window tap ``(p, q)``: shape ``(N, OH, OW, C)``, or
        ``(C, N, OH, OW)`` when ``channel_major``. It is consumed before the
        next call, so it may return the same buffer every time.
    geometry : WindowGeometry
        Shapes, padding, kernel size, stride and dilation of the layer.
    dtype : numpy dtype
        Dtype of the result, floating point.
    channel_major : bool
        Whether ``tap_grad`` returns channel-major blocks.

    Returns
    -------
    ndarray, shape (N, H, W, C)
        The gradient of the unpadded input. Pixels that several windows read
        receive the sum of their contributions (added in row-major tap
        order); pixels that no window reads receive zero.

    Raises
    ------
    TypeError
        If ``tap_grad`` is not callable, ``geometry`` not a
        :class:`~convlib.windows.WindowGeometry`, ``dtype`` not a
        floating-point dtype or ``channel_major`` not a bool. (The blocks
        ``tap_grad`` returns are not checked: this is the tuned tier's inner
        loop.)

    Notes
    -----
    With stride 1 in image layout there is one phase: the taps are added
    straight into the zero-initialised padded gradient, whose cropped view is
    the result. Otherwise each phase ``(a, b)`` is filled on its own and
    copied into ``dx[:, y0::sh, x0::sw]`` (``y0``, ``x0``: its first unpadded
    row and column):

    * a phase that no tap reads is set to zero;
    * a phase that one tap reads (windows that do not overlap: pooling 2x2
      with stride 2, the book's common case) is copied straight from that
      tap's gradient;
    * otherwise its taps are summed in an accumulator from the workspace,
      which is then copied out once.
    """
    check_callable("tap_grad", tap_grad)
    check_instance("geometry", geometry, WindowGeometry, _GEOMETRY_HINT)
    dtype = as_dtype("dtype", dtype, "f")
    channel_major = as_bool("channel_major", channel_major)
    return _phase_scatter(tap_grad, geometry, dtype, channel_major=channel_major)


def _phase_scatter(
    tap_grad: Callable[[int, int], np.ndarray],
    geometry: WindowGeometry,
    dtype: np.dtype,
    *,
    channel_major: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`phase_scatter` without argument checks: what the tuned tier calls.

    ``out``: an array of shape ``geometry.x_shape`` and dtype ``dtype`` to
    write the result into (then returned), e.g. one batch chunk's rows of a
    larger gradient (:mod:`convlib.fast.threads`).
    """
    n, h, w, c = geometry.x_shape
    (top, _), (left, _) = geometry.pads
    _, hp, wp, _ = geometry.padded_shape
    oh, ow = geometry.out_hw
    sh, sw = geometry.stride
    phases = geometry.phases

    if sh == sw == 1 and not channel_major:
        dxp = np.zeros(geometry.padded_shape, dtype=dtype)
        for p, q, u0, v0 in phases[0].taps:
            dxp[:, u0 : u0 + oh, v0 : v0 + ow, :] += tap_grad(p, q)
        cropped = _crop_spatial(dxp, geometry.pads, (h, w))
        if out is None:
            return cropped
        out[...] = cropped
        return out

    hq, wq = -(-hp // sh), -(-wp // sw)  # positions per phase, rounded up
    taps_of = {(ph.row_phase, ph.col_phase): ph.taps for ph in phases}
    dx = np.empty(geometry.x_shape, dtype=dtype) if out is None else out
    for a in range(sh):
        # Unpadded row y is padded row top + y = u * sh + a: phase a starts at
        # unpadded row y0, which is position u_first of the phase.
        y0 = (a - top) % sh
        ny, u_first = len(range(y0, h, sh)), (top + y0) // sh
        for b in range(sw):
            x0 = (b - left) % sw
            nx, v_first = len(range(x0, w, sw)), (left + x0) // sw
            if ny == 0 or nx == 0:
                continue
            target = dx[:, y0::sh, x0::sw, :]
            taps = taps_of.get((a, b), ())
            if not taps:
                target[...] = 0
            elif len(taps) == 1 and not channel_major:
                p, q, u0, v0 = taps[0]
                grad = np.asarray(tap_grad(p, q), dtype=dtype)
                _copy_shifted(target, grad, u0 - u_first, v0 - v_first)
            elif channel_major:
                acc = _scratch("phase_acc", (c, n, hq, wq), dtype)
                acc.fill(0)
                for p, q, u0, v0 in taps:
                    acc[:, :, u0 : u0 + oh, v0 : v0 + ow] += tap_grad(p, q)
                src = acc[:, :, u_first : u_first + ny, v_first : v_first + nx]
                target[...] = src.transpose(1, 2, 3, 0)
            else:
                acc = _scratch("phase_acc", (n, hq, wq, c), dtype)
                acc.fill(0)
                for p, q, u0, v0 in taps:
                    acc[:, u0 : u0 + oh, v0 : v0 + ow, :] += tap_grad(p, q)
                src = acc[:, u_first : u_first + ny, v_first : v_first + nx, :]
                pixel_view(target)[...] = pixel_view(src)
    return dx


def phase_window_views(x_padded: Any, geometry: WindowGeometry) -> list[np.ndarray]:
    """The pixels at every window tap, each as an ``(N, OH, OW, C)`` array.

    Parameters
    ----------
    x_padded : array_like, shape (N, Hp, Wp, C)
        The padded input, of shape ``geometry.padded_shape``.
    geometry : WindowGeometry

    Returns
    -------
    list of ndarray
        Entry ``p * KW + q`` holds ``x_padded[n, i*sh + p*dh, j*sw + q*dw, c]``
        at ``[n, i, j, c]``. With stride 1 it is a slice of ``x_padded``;
        otherwise a slice of a contiguous copy of the rows and columns of one
        stride phase, so that its rows are contiguous runs of ``OW * C``
        numbers (stepping through the strided slice itself is slow).

    Raises
    ------
    TypeError
        If ``geometry`` is not a :class:`~convlib.windows.WindowGeometry` or
        ``x_padded`` is not numeric.
    ValueError
        If ``x_padded`` does not have the shape ``geometry.padded_shape``.
    """
    check_instance("geometry", geometry, WindowGeometry, _GEOMETRY_HINT)
    x_padded = as_numeric_array("x_padded", x_padded)
    check_ndim("x_padded", x_padded, 4, "(N, Hp, Wp, C)")
    if x_padded.shape != geometry.padded_shape:
        raise ValueError(
            f"x_padded has shape {x_padded.shape} but geometry describes a padded input of "
            f"shape {geometry.padded_shape}"
        )
    return _phase_window_views(x_padded, geometry)


def _phase_window_views(x_padded: np.ndarray, geometry: WindowGeometry) -> list[np.ndarray]:
    """:func:`phase_window_views` without argument checks: what the tuned tier calls."""
    oh, ow = geometry.out_hw
    kh, kw = geometry.kernel_size
    c = x_padded.shape[3]
    sh, sw = geometry.stride
    views: list[np.ndarray] = [x_padded] * (kh * kw)
    for phase in geometry.phases:
        if (sh, sw) == (1, 1):
            sub, u_lo, v_lo = x_padded, 0, 0
        else:
            a, b = phase.row_phase, phase.col_phase
            u_lo = min(t[2] for t in phase.taps)
            v_lo = min(t[3] for t in phase.taps)
            u_hi = max(t[2] for t in phase.taps) + oh
            v_hi = max(t[3] for t in phase.taps) + ow
            rows = slice(a + sh * u_lo, a + sh * (u_hi - 1) + 1, sh)
            cols = slice(b + sw * v_lo, b + sw * (v_hi - 1) + 1, sw)
            copy = np.ascontiguousarray(pixel_view(x_padded)[:, rows, cols])
            sub = _float_view(copy, x_padded.dtype, c)
        for p, q, u0, v0 in phase.taps:
            u, v = u0 - u_lo, v0 - v_lo
            views[p * kw + q] = sub[:, u : u + oh, v : v + ow, :]
    return views
