"""Figures of the book's chapters on strided/padded/dilated backward passes and speed.

Chapter 6 (stride, padding and dilation in the backward pass) and chapter 7
(making it fast) draw their pictures with these functions:

* :func:`dilate_grid` and :func:`dilated_dout_figure` -- the upstream
  gradient of a strided layer with ``stride - 1`` zeros inserted between its
  pixels, which turns the strided backward pass into a stride-1 one.
* :func:`coverage_counts` and :func:`coverage_figure` -- how many windows
  read each pixel of the padded input: the padding ring that the backward pass
  crops away, the pixels a stride that does not tile the input never visits,
  and the spread-out taps of a dilated kernel.
* :func:`im2col_rows` and :func:`im2col_figure` -- a tiny single-channel
  input next to its im2col matrix, each row's patch outlined in its colour.
* :func:`gemm_figure` -- the three matrix products of the im2col view of a
  convolution layer (forward, weight gradient, column gradient).
* :func:`speedup_figure` -- measured speed-ups of the fast path over the
  naive loops, as grouped bars on a logarithmic axis.

The ``*_counts``, ``dilate_grid`` and ``im2col_rows`` helpers compute with
plain loops, independently of :mod:`convlib.conv`, so the tests and the
chapters can hold the package against them. Every figure function returns its
:class:`matplotlib.figure.Figure` already closed in pyplot: display it as the
last expression of a notebook cell; it is never shown twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .._checks import as_int, as_numeric_array, as_pair, check_ndim
from ..arithmetic import Pads, conv_output_size, resolve_padding
from ..windows import tap_slices
from .primitives import draw_array, new_figure as _new_figure

__all__ = [
    "dilate_grid",
    "dilated_dout_figure",
    "coverage_counts",
    "coverage_figure",
    "im2col_rows",
    "im2col_figure",
    "gemm_figure",
    "speedup_figure",
]

#: Colours of highlighted rows/patches (one per highlighted item, cycled).
ROW_COLORS = ("tab:orange", "tab:green", "tab:purple", "tab:red", "tab:brown", "tab:pink")
#: Colour of input pixels that no window reads.
UNVISITED_COLOR = "tab:red"


def _grid(name: str, values: Any) -> np.ndarray:
    """``values`` as a float64 2-D array ``(H, W)``."""
    arr = as_numeric_array(name, values)
    check_ndim(name, arr, 2, "(H, W)")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    return arr.astype(np.float64)


# --------------------------------------------------------------------------
# Stride: dilating the upstream gradient
# --------------------------------------------------------------------------


def dilate_grid(d: Any, stride: Any, size: Any = None) -> np.ndarray:
    """Insert ``stride - 1`` zeros between neighbouring pixels of a 2-D array.

    Element ``(i, j)`` of ``d`` goes to ``(i * sh, j * sw)``; everything else
    is zero. This is the adjoint of taking every ``stride``-th pixel.

    Parameters
    ----------
    d : array_like, shape (OH, OW)
        The upstream gradient of one image and one channel.
    stride : int or (int, int)
        ``(sh, sw)``.
    size : int or (int, int), optional
        Shape of the result, at least ``((OH - 1) * sh + 1, (OW - 1) * sw + 1)``
        (the default); larger sizes add trailing zero rows/columns, e.g. the
        stride-1 output size ``H_padded - KH_eff + 1`` when the stride does
        not tile the input.

    Returns
    -------
    ndarray, shape ``size``, float64

    Raises
    ------
    ValueError
        If ``size`` is smaller than the dilated array.

    Examples
    --------
    >>> dilate_grid([[1, 2], [3, 4]], 2)
    array([[1., 0., 2.],
           [0., 0., 0.],
           [3., 0., 4.]])
    """
    arr = _grid("d", d)
    sh, sw = as_pair("stride", stride, 1)
    oh, ow = arr.shape
    need = ((oh - 1) * sh + 1, (ow - 1) * sw + 1)
    shape = need if size is None else as_pair("size", size, 1)
    if shape[0] < need[0] or shape[1] < need[1]:
        raise ValueError(
            f"size {shape} is too small for d of shape {arr.shape} dilated by stride "
            f"{(sh, sw)}: it needs at least {need}"
        )
    out = np.zeros(shape)
    for i in range(oh):
        for j in range(ow):
            out[i * sh, j * sw] = arr[i, j]
    return out


def dilated_dout_figure(dout: Any, stride: Any, size: Any = None, *, fmt: str = "{:g}") -> Figure:
    """``dout`` next to ``dout`` dilated by the stride.

    The inserted zeros are greyed; the original pixels keep their values and
    are outlined, so the reader can follow each one to its new place.

    Parameters
    ----------
    dout : array_like, shape (OH, OW)
        Upstream gradient of a strided layer (one image, one channel).
    stride : int or (int, int)
        The layer's stride ``(sh, sw)``.
    size : int or (int, int), optional
        Shape of the dilated array (see :func:`dilate_grid`).
    fmt : str
        Number format of the cells.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: ``dout`` and the dilated array (the image of the second
        holds :func:`dilate_grid` of the arguments).
    """
    arr = _grid("dout", dout)
    sh, sw = as_pair("stride", stride, 1)
    dil = dilate_grid(arr, (sh, sw), size)
    h, w = dil.shape
    fig = _new_figure(figsize=(2.2 + 0.42 * (arr.shape[1] + w), 0.6 + 0.42 * max(h, 3)), dpi=100)
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [arr.shape[1], w], "wspace": 0.25})
    lim = float(np.max(np.abs(arr))) or 1.0
    draw_array(
        ax1,
        arr,
        fmt=fmt,
        cmap="RdBu_r",
        vmin=-lim,
        vmax=lim,
        title=f"dout {arr.shape[0]}×{arr.shape[1]}",
    )
    kept = np.zeros(dil.shape, dtype=bool)
    kept[: (arr.shape[0] - 1) * sh + 1 : sh, : (arr.shape[1] - 1) * sw + 1 : sw] = True
    draw_array(
        ax2,
        dil,
        fmt=fmt,
        cmap="RdBu_r",
        vmin=-lim,
        vmax=lim,
        highlight=kept,
        highlight_color="black",
        title=f"dilated by stride {(sh, sw)}: {h}×{w}",
    )
    for t in ax2.texts:  # grey the inserted zeros
        x, y = t.get_position()
        if not kept[round(y), round(x)]:
            t.set_color("0.6")
    return fig


# --------------------------------------------------------------------------
# Coverage: which padded-input pixels the windows read
# --------------------------------------------------------------------------


def coverage_counts(
    h: int, w: int, kernel: Any, stride: Any = 1, padding: Any = 0, dilation: Any = 1
) -> tuple[np.ndarray, Pads]:
    """How many (window, tap) pairs read each pixel of the padded input.

    Computed with plain loops over output pixels and kernel taps. With an
    all-ones kernel and an all-ones upstream gradient, the gradient of the
    padded input equals these counts.

    Parameters
    ----------
    h, w : int
        Input height and width (unpadded).
    kernel : int or (int, int)
        ``(KH, KW)``.
    stride, dilation : int or (int, int)
        ``(sh, sw)`` and ``(dh, dw)``.
    padding : str, int or tuple
        Any padding :func:`convlib.resolve_padding` accepts.

    Returns
    -------
    counts : ndarray of int, shape (h + top + bottom, w + left + right)
    pads : tuple
        ``((top, bottom), (left, right))``.
    """
    h, w = as_int("h", h, 1), as_int("w", w, 1)
    kh, kw = as_pair("kernel", kernel, 1)
    sh, sw = as_pair("stride", stride, 1)
    dh, dw = as_pair("dilation", dilation, 1)
    pads = resolve_padding(padding, (h, w), (kh, kw), (sh, sw), (dh, dw))
    (top, bottom), (left, right) = pads
    oh = conv_output_size(h, kh, sh, (top, bottom), dh)
    ow = conv_output_size(w, kw, sw, (left, right), dw)
    counts = np.zeros((h + top + bottom, w + left + right), dtype=int)
    for p in range(kh):  # tap (p, q) of every window reads one strided slice
        for q in range(kw):
            counts[tap_slices(p, q, (oh, ow), (sh, sw), (dh, dw))] += 1
    return counts, pads


def coverage_figure(
    h: int,
    w: int,
    kernel: Any,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    *,
    title: str | None = None,
    ax: Any = None,
) -> Figure:
    """The padded input, each pixel labelled with how many windows read it.

    The padding ring is hatched (the backward pass crops it away), the real
    input is outlined in black, and input pixels that no window reads are
    outlined in red: their gradient is exactly zero.

    Parameters
    ----------
    h, w, kernel, stride, padding, dilation
        As in :func:`coverage_counts`.
    title : str, optional
        Axes title; by default the layer's settings.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (of an existing figure) instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The image of its (first) axes holds the counts; red rectangles have
        ``gid="unvisited"``, the input's outline ``gid="input"``.
    """
    counts, pads = coverage_counts(h, w, kernel, stride, padding, dilation)
    (top, bottom), (left, right) = pads
    hp, wp = counts.shape
    if ax is None:
        fig = _new_figure(figsize=(0.6 + 0.4 * wp, 0.7 + 0.4 * hp), dpi=100)
        ax = fig.subplots()
    else:
        fig = ax.figure
    if title is None:
        title = (
            f"{h}×{w} input, kernel {as_pair('kernel', kernel, 1)}, stride "
            f"{as_pair('stride', stride, 1)},\npads {pads}, dilation {as_pair('dilation', dilation, 1)}"
        )
    draw_array(
        ax,
        counts,
        pad=pads,
        fmt="{:g}",
        cmap="Purples",
        vmin=0,
        vmax=max(int(counts.max()), 1),
        title=title,
        fontsize=8,
    )
    ax.add_patch(
        Rectangle(
            (left - 0.5, top - 0.5),
            w,
            h,
            fill=False,
            edgecolor="black",
            linewidth=2.0,
            zorder=5,
            gid="input",
        )
    )
    inner = counts[top : top + h, left : left + w]
    for r, c in zip(*np.nonzero(inner == 0)):
        ax.add_patch(
            Rectangle(
                (left + c - 0.42, top + r - 0.42),
                0.84,
                0.84,
                fill=False,
                edgecolor=UNVISITED_COLOR,
                linewidth=2.0,
                zorder=6,
                gid="unvisited",
            )
        )
    return fig


# --------------------------------------------------------------------------
# im2col
# --------------------------------------------------------------------------


def im2col_rows(x: Any, kernel: Any, stride: Any = 1) -> np.ndarray:
    """The im2col matrix of one single-channel image, built with loops.

    Row ``i * OW + j`` holds the window of output pixel ``(i, j)`` read row by
    row: entry ``p * KW + q`` is ``x[i * sh + p, j * sw + q]`` (no padding, no
    dilation).

    Parameters
    ----------
    x : array_like, shape (H, W)
    kernel : int or (int, int)
        ``(KH, KW)``.
    stride : int or (int, int)

    Returns
    -------
    ndarray, shape (OH * OW, KH * KW), float64
    """
    arr = _grid("x", x)
    kh, kw = as_pair("kernel", kernel, 1)
    sh, sw = as_pair("stride", stride, 1)
    oh = conv_output_size(arr.shape[0], kh, sh)
    ow = conv_output_size(arr.shape[1], kw, sw)
    rows = np.empty((oh * ow, kh * kw))
    for i in range(oh):
        for j in range(ow):
            rows[i * ow + j] = arr[i * sh : i * sh + kh, j * sw : j * sw + kw].ravel()
    return rows


def im2col_figure(
    x: Any,
    kernel: Any,
    stride: Any = 1,
    *,
    highlight: Sequence[int] | None = None,
    fmt: str = "{:g}",
) -> Figure:
    """A tiny input and its im2col matrix, highlighted rows matched to their patches.

    Parameters
    ----------
    x : array_like, shape (H, W)
        One single-channel image (small: every value is written in its cell).
    kernel : int or (int, int)
        ``(KH, KW)``.
    stride : int or (int, int)
    highlight : sequence of int, optional
        Rows of the matrix to outline, each in its own colour, together with
        its patch in the input. Default: the first and the last row.
    fmt : str
        Number format.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the input (image holds ``x``) and the matrix (image holds
        :func:`im2col_rows`); the row labels name each row's output pixel.
        Highlight rectangles have ``gid="patch"`` (input) and ``gid="row"``
        (matrix).
    """
    arr = _grid("x", x)
    kh, kw = as_pair("kernel", kernel, 1)
    sh, sw = as_pair("stride", stride, 1)
    cols = im2col_rows(arr, (kh, kw), (sh, sw))
    ow = conv_output_size(arr.shape[1], kw, sw)
    m, k = cols.shape
    if highlight is None:
        highlight = [0, m - 1] if m > 1 else [0]
    rows = [as_int("highlight row", r, 0) for r in highlight]
    for r in rows:
        if r >= m:
            raise ValueError(f"highlight row {r} is outside the {m} rows of the im2col matrix")

    h, w = arr.shape
    fig = _new_figure(figsize=(1.6 + 0.42 * (w + k), 0.9 + 0.36 * max(m, h)), dpi=100)
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [w, k], "wspace": 0.45})
    lo, hi = float(arr.min()), float(arr.max())
    draw_array(ax1, arr, fmt=fmt, vmin=lo, vmax=hi, title=f"x, {h}×{w}")
    draw_array(ax2, cols, fmt=fmt, vmin=lo, vmax=hi, title=f"im2col(x): {m} rows × {k} columns")
    for n, r in enumerate(rows):
        color = ROW_COLORS[n % len(ROW_COLORS)]
        i, j = divmod(r, ow)
        ax1.add_patch(
            Rectangle(
                (j * sw - 0.45, i * sh - 0.45),
                kw - 0.1,
                kh - 0.1,
                fill=False,
                edgecolor=color,
                linewidth=2.5,
                zorder=5,
                gid="patch",
            )
        )
        ax2.add_patch(
            Rectangle(
                (-0.45, r - 0.45),
                k - 0.1,
                0.9,
                fill=False,
                edgecolor=color,
                linewidth=2.5,
                zorder=5,
                gid="row",
            )
        )
    # Label rows by output pixel and columns by kernel tap (ticks survive set_axis_off
    # only if the axis is on: switch it back on without spines).
    ax2.set_axis_on()
    for spine in ax2.spines.values():
        spine.set_visible(False)
    ax2.set_yticks(range(m), [f"({r // ow}, {r % ow})" for r in range(m)], fontsize=7)
    ax2.set_xticks(range(k), [f"{p},{q}" for p in range(kh) for q in range(kw)], fontsize=7)
    ax2.tick_params(length=0, labeltop=True, labelbottom=False)
    ax2.set_ylabel("output pixel (i, j)", fontsize=8)
    ax2.set_xlabel("kernel tap (u, v)", fontsize=8)
    return fig


# --------------------------------------------------------------------------
# The three GEMMs
# --------------------------------------------------------------------------


def _extent(v: int) -> float:
    """Drawn length of a matrix side of ``v`` entries (compressed: logarithmic)."""
    return 0.6 + 0.9 * np.log10(v)


def gemm_figure(m: int, k: int, f: int) -> Figure:
    """The three matrix products of a convolution layer in the im2col view.

    ``cols`` is ``(M, K)`` with ``M = N * OH * OW`` and ``K = KH * KW * C``;
    ``W`` is ``(K, F)``; ``Y`` and ``dY`` are ``(M, F)``. The panels show

    * forward: ``Y = cols @ W`` (plus the bias in every row),
    * weights: ``dW = cols.T @ dY``,
    * input: ``dcols = dY @ W.T`` (then col2im),

    with rectangles whose sides grow with the logarithm of the sizes and are
    labelled with the sizes themselves.

    Parameters
    ----------
    m, k, f : int
        ``M``, ``K`` and ``F``.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes, three labelled rectangles each (``gid`` = the matrix name).
    """
    m, k, f = as_int("m", m, 1), as_int("k", k, 1), as_int("f", f, 1)
    products = [
        ("forward", [("cols", m, k), ("W", k, f), ("Y", m, f)]),
        ("weight gradient", [("colsᵀ", k, m), ("dY", m, f), ("dW", k, f)]),
        ("input gradient", [("dY", m, f), ("Wᵀ", f, k), ("dcols", m, k)]),
    ]
    fig = _new_figure(figsize=(9.6, 2.6), dpi=100)
    axes = fig.subplots(1, 3, gridspec_kw={"wspace": 0.08})
    tall = max(_extent(v) for v in (m, k, f))
    for ax, (title, mats) in zip(axes, products):
        x0 = 0.0
        for n, (name, rows, cols) in enumerate(mats):
            hgt, wid = _extent(rows), _extent(cols)
            color = "#cfe2f3" if "cols" in name else ("#fce5cd" if "W" in name else "#d9ead3")
            ax.add_patch(
                Rectangle((x0, tall - hgt), wid, hgt, facecolor=color, edgecolor="0.3", gid=name)
            )
            ax.text(
                x0 + wid / 2,
                tall - hgt / 2,
                f"{name}\n{rows}×{cols}",
                ha="center",
                va="center",
                fontsize=8,
            )
            x0 += wid
            if n < 2:
                ax.text(
                    x0 + 0.2,
                    tall - 0.4,
                    "@" if n == 0 else "=",
                    ha="center",
                    va="center",
                    fontsize=12,
                )
                x0 += 0.4
        ax.set_xlim(-0.1, x0 + 0.1)
        ax.set_ylim(-0.1, tall + 0.1)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(title, fontsize=10)
    return fig


# --------------------------------------------------------------------------
# Speed-ups
# --------------------------------------------------------------------------


def speedup_figure(
    labels: Sequence[str],
    timings: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str = "fast path over naive loops",
) -> Figure:
    """Grouped bars of ``naive / fast`` time ratios on a logarithmic axis.

    Parameters
    ----------
    labels : sequence of str
        One label per benchmark shape (the groups).
    timings : mapping of str to (naive, fast)
        For each measured quantity (e.g. ``"forward"``), the naive and the
        fast times in seconds, one per label.
    title : str
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; bar ``n`` of series ``s`` has height
        ``naive[n] / fast[n]`` and is annotated with it.

    Raises
    ------
    ValueError
        If a series does not have one time per label, or a time is not positive.
    """
    labels = [str(s) for s in labels]
    if not labels:
        raise ValueError("labels must not be empty")
    if not timings:
        raise ValueError("timings must hold at least one series")
    ratios = {}
    for name, pair in timings.items():
        if len(pair) != 2:
            raise ValueError(f"timings[{name!r}] must be a pair (naive, fast)")
        naive = np.asarray(as_numeric_array(f"timings[{name!r}] naive", pair[0]), dtype=float)
        fast = np.asarray(as_numeric_array(f"timings[{name!r}] fast", pair[1]), dtype=float)
        if naive.shape != (len(labels),) or fast.shape != (len(labels),):
            raise ValueError(
                f"timings[{name!r}] needs {len(labels)} naive and {len(labels)} fast times, "
                f"got shapes {naive.shape} and {fast.shape}"
            )
        if np.any(naive <= 0) or np.any(fast <= 0):
            raise ValueError(f"timings[{name!r}] must be positive seconds")
        ratios[name] = naive / fast
    fig = _new_figure(figsize=(1.8 + 1.3 * len(labels), 3.2), dpi=100)
    ax = fig.subplots()
    width = 0.8 / len(ratios)
    cmap = colormaps["tab10"]
    centers = np.arange(len(labels))
    for s, (name, r) in enumerate(ratios.items()):
        pos = centers - 0.4 + width * (s + 0.5)
        bars = ax.bar(pos, r, width, label=name, color=cmap(s))
        for bar, v in zip(bars, r):
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                v * 1.08,
                f"×{v:.0f}",
                ha="center",
                va="bottom",
                fontsize=7,
            )
    ax.set_yscale("log")
    top = max(float(r.max()) for r in ratios.values())
    bottom = min(1.0, min(float(r.min()) for r in ratios.values()) / 2)
    ax.set_ylim(bottom, top * 3)
    ax.set_xticks(centers, labels, fontsize=8)
    ax.set_ylabel("speed-up (naive time / fast time)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(axis="y", which="major", alpha=0.3)
    fig.tight_layout()
    return fig
