"""Diagrams of the convolution backward pass, drawn from the numbers themselves.

The figures of the book's backward-pass chapters (4 and 5) come from here:

* :func:`touch_pairs` -- which input each output of a 1-D cross-correlation
  reads, and through which kernel tap; the graph and the tests share it.
* :func:`touch_graph_figure` -- the "who touches whom" bipartite graph of a
  1-D cross-correlation: every output joined to the inputs it reads, each
  edge coloured by its weight, and (optionally) the same edges run backwards,
  carrying ``dy`` to ``dx``. Values come from :func:`convlib.conv2d_forward`
  and :func:`convlib.conv2d_backward`.
* :func:`full_correlation_figure` -- ``dx`` as a *full* correlation: ``dy``
  padded with ``K - 1`` zeros, the kernel rotated by 180 degrees, and the
  ``dx`` that convlib's backward pass returns, one window highlighted.
* :func:`gradient_reach_figure` -- small multiples of one-hot upstream
  gradients and the input gradients they produce.
* The scatter loop of the naive backward pass, run one output pixel at a
  time, and its animation live in :mod:`convlib.plotting.backward_animation`
  (importable from here too, as in 0.1).

Every figure function returns its :class:`matplotlib.figure.Figure` already
closed in pyplot (it is shown once, as a cell's last expression, and never
piles up in pyplot's list of open figures). The grids are drawn with
:func:`convlib.plotting.conv_diagrams.draw_array`, so they look like the
forward-pass diagrams. Gradients are signed, so they use a diverging colour
map centred on zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from .._checks import as_int, as_numeric_array, as_pair, check_ndim
from ..conv import conv2d_backward, conv2d_forward
from .conv_diagrams import receptive_field
from .primitives import (
    GRAD_CMAP,
    KERNEL_CMAP,
    Formatter,
    draw_array,
    formatter as _formatter,
    new_figure as _new_figure,
    symmetric_limit as _symmetric_limit,
)

__all__ = [
    "touch_pairs",
    "touch_graph_figure",
    "full_correlation_figure",
    "gradient_reach_figure",
]


#: Colour map of input values in the animation.
VALUE_CMAP = "Blues"
_TAP_CMAP = "tab10"
_FORWARD_COLOR = "#1f6f3f"
_BACKWARD_COLOR = "#b2182b"


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _vector(name: str, value: Any) -> np.ndarray:
    arr = as_numeric_array(name, value)
    check_ndim(name, arr, 1, "(length,)")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    return arr.astype(np.float64)


def _matrix(name: str, value: Any, layout: str = "(H, W)") -> np.ndarray:
    arr = as_numeric_array(name, value)
    check_ndim(name, arr, 2, layout)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    return arr.astype(np.float64)


def _grid(name: str, value: Any) -> tuple[np.ndarray, bool]:
    """A 1-D or 2-D array as a 2-D float grid, and whether it was 1-D."""
    arr = as_numeric_array(name, value)
    if arr.ndim == 1:
        return _vector(name, arr)[None, :], True
    return _matrix(name, arr, "(H, W) or (W,)"), False


def _row_layout(
    shapes: Sequence[tuple[int, int]],
    symbols: Sequence[str],
    cell: float,
    dpi: float,
    caption: bool,
) -> tuple[Figure, list[Axes]]:
    """Equally-scaled Axes in a row, one per grid shape, symbols in the gaps.

    ``symbols[k]`` is written between grid ``k`` and grid ``k + 1`` (``""``
    for none).
    """
    margin, gap, top = 0.2, 0.6, 0.45
    bottom = 0.55 if caption else 0.2
    width = 2 * margin + gap * (len(shapes) - 1) + cell * sum(s[1] for s in shapes)
    band = cell * max(s[0] for s in shapes)
    height = top + band + bottom
    fig = _new_figure(figsize=(width, height), dpi=dpi)
    axes = []
    x = margin
    mid = (bottom + band / 2) / height
    for k, (hgt, wid) in enumerate(shapes):
        y = bottom + (band - cell * hgt) / 2
        axes.append(fig.add_axes((x / width, y / height, cell * wid / width, cell * hgt / height)))
        x += cell * wid
        if k < len(shapes) - 1:
            if k < len(symbols) and symbols[k]:
                fig.text(
                    (x + gap / 2) / width, mid, symbols[k], ha="center", va="center", fontsize=20
                )
            x += gap
    return fig, axes


# --------------------------------------------------------------------------
# 1-D: who touches whom
# --------------------------------------------------------------------------


def touch_pairs(length: int, kernel_size: int) -> list[tuple[int, int, int]]:
    """Every ``(i, j, k)`` such that output ``i`` reads input ``j`` through tap ``k``.

    For a 1-D cross-correlation with stride 1 and no padding,
    ``y[i] = b + sum_k w[k] * x[i + k]``, so ``j = i + k``.

    Parameters
    ----------
    length : int
        Length ``L`` of the input ``x``.
    kernel_size : int
        Length ``K`` of the kernel ``w`` (at most ``L``).

    Returns
    -------
    list of (int, int, int)
        ``(L - K + 1) * K`` triples ``(i, j, k)``, ordered by ``i`` then ``k``.

    Examples
    --------
    >>> touch_pairs(4, 2)
    [(0, 0, 0), (0, 1, 1), (1, 1, 0), (1, 2, 1), (2, 2, 0), (2, 3, 1)]
    """
    length = as_int("length", length, 1)
    kernel_size = as_int("kernel_size", kernel_size, 1)
    if kernel_size > length:
        raise ValueError(f"kernel_size {kernel_size} is larger than length {length}")
    return [(i, i + k, k) for i in range(length - kernel_size + 1) for k in range(kernel_size)]


def _tap_colors(k: int) -> list[tuple[float, float, float, float]]:
    cmap = colormaps[_TAP_CMAP]
    return [cmap(t % 10) for t in range(k)]


def touch_graph_figure(
    x: Any,
    w: Any,
    b: float = 0.0,
    dy: Any = None,
    *,
    fmt: Formatter = "{:g}",
    node_spacing: float = 1.0,
    dpi: float = 100,
) -> Figure:
    """Which inputs each output of a 1-D correlation touches, and the way back.

    The top row of each panel holds the inputs ``x_i'``, the bottom row the
    outputs ``y_i``, each output centred under the window it reads. An edge
    joins ``x_{i+u}`` and ``y_i`` for every tap ``u``; it is coloured by ``u``
    and labelled ``w_u`` near the output. The first panel (forward) points the
    edges down, from inputs to outputs, and writes the values of ``x`` and
    ``y``. With ``dy`` a second panel (backward) runs the *same* edges upward:
    each output sends ``dy_i * w_u`` to the input at the other end, and each
    input node shows the sum it receives, ``dx_i'``.

    ``y`` comes from :func:`convlib.conv2d_forward` and ``dx`` from
    :func:`convlib.conv2d_backward`, applied to ``x`` as a ``(1, 1, L, 1)``
    array.

    Parameters
    ----------
    x : array_like, shape (L,)
        Input.
    w : array_like, shape (K,)
        Kernel, ``K <= L``.
    b : float
        Bias.
    dy : array_like, shape (L - K + 1,), optional
        Upstream gradient; adds the backward panel.
    fmt : str or callable
        Number format of the node values.
    node_spacing : float
        Inches between neighbouring input nodes (meant for ``L`` up to ~8).
    dpi : float
        Figure resolution.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes (forward) or two (forward, backward). Each holds
        ``(L - K + 1) * K`` :class:`~matplotlib.patches.FancyArrowPatch`
        edges with ``gid="edge-k"`` for tap ``k``, node texts with gids
        ``"x"``, ``"y"`` (forward) or ``"dy"``, ``"dx"`` (backward), in index
        order, each reading ``"<name> = <value>"``.
    """
    xv = _vector("x", x)
    wv = _vector("w", w)
    length, k_size = xv.size, wv.size
    pairs = touch_pairs(length, k_size)
    n_out = length - k_size + 1
    b = float(b)
    fmt_fn = _formatter(fmt)

    out, cache = conv2d_forward(xv[None, None, :, None], wv[None, :, None, None], np.array([b]))
    y = out[0, 0, :, 0]
    panels: list[tuple[str, np.ndarray, np.ndarray]] = [("forward", xv, y)]
    if dy is not None:
        dyv = _vector("dy", dy)
        if dyv.size != n_out:
            raise ValueError(
                f"dy must have one entry per output, shape ({n_out},) for x of length "
                f"{length} and w of length {k_size}; got shape {dyv.shape}"
            )
        dx = conv2d_backward(dyv[None, None, :, None], cache)[0][0, 0, :, 0]
        panels.append(("backward", dx, dyv))

    colors = _tap_colors(k_size)
    width = node_spacing * (length + 0.4) + 1.5
    fig = _new_figure(figsize=(width, 2.2 * len(panels)), dpi=dpi)
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    x_out = np.arange(n_out) + (k_size - 1) / 2  # outputs centred under their windows
    box = dict(boxstyle="round,pad=0.3", linewidth=1.0)

    for ax, (kind, top_vals, bottom_vals) in zip(axes, panels):
        forward = kind == "forward"
        for i, j, k in pairs:
            top, bottom = (float(j), 1.0), (float(x_out[i]), 0.0)
            start, end = (top, bottom) if forward else (bottom, top)
            ax.add_patch(
                FancyArrowPatch(
                    start,
                    end,
                    arrowstyle="-|>",
                    mutation_scale=11,
                    color=colors[k],
                    linewidth=1.6,
                    shrinkA=11,
                    shrinkB=11,
                    gid=f"edge-{k}",
                    zorder=1,
                )
            )
            # label near the output end, where the edges of one output fan out
            t = 0.3
            lx, ly = bottom[0] + t * (top[0] - bottom[0]), t
            ax.text(
                lx,
                ly,
                f"$w_{{{k}}}$",
                color=colors[k],
                fontsize=8,
                ha="center",
                va="center",
                gid="edge-label",
                zorder=2,
                bbox=dict(boxstyle="round,pad=0.1", facecolor="white", edgecolor="none"),
            )
        top_name, bottom_name = ("x", "y") if forward else ("dx", "dy")
        color = _FORWARD_COLOR if forward else _BACKWARD_COLOR
        for j, v in enumerate(top_vals):
            ax.text(
                j,
                1.0,
                f"{top_name}$_{{{j}}}$ = {fmt_fn(v)}",
                ha="center",
                va="center",
                fontsize=9,
                gid=top_name,
                zorder=3,
                bbox=dict(box, facecolor="#eef3fb", edgecolor=color),
            )
        for i, v in enumerate(bottom_vals):
            ax.text(
                x_out[i],
                0.0,
                f"{bottom_name}$_{{{i}}}$ = {fmt_fn(v)}",
                ha="center",
                va="center",
                fontsize=9,
                gid=bottom_name,
                zorder=3,
                bbox=dict(box, facecolor="#eef7ee", edgecolor=color),
            )
        if forward:
            title = r"forward: $y_i = b + \sum_u w_u\, x_{i+u}$" + f"  (b = {fmt_fn(b)})"
        else:
            title = r"backward, same edges reversed: $\mathrm{d}x_{i'} = \sum_u \mathrm{d}y_{i'-u}\, w_u$"
        ax.set_title(title, fontsize=10, color=color)
        ax.set_xlim(-0.6, length - 0.4)
        ax.set_ylim(-0.3, 1.3)
        ax.set_axis_off()

    handles = [
        Line2D([], [], color=colors[k], linewidth=2, label=f"$w_{{{k}}}$ = {fmt_fn(wv[k])}")
        for k in range(k_size)
    ]
    fig.legend(
        handles=handles,
        loc="center right",
        fontsize=9,
        frameon=False,
        title="kernel",
        title_fontsize=9,
    )
    fig.subplots_adjust(
        left=0.02,
        right=1 - 1.4 / width,
        top=0.88 if len(panels) == 1 else 0.92,
        bottom=0.04,
        hspace=0.35,
    )
    return fig


# --------------------------------------------------------------------------
# dx as a full correlation with the flipped kernel
# --------------------------------------------------------------------------


def full_correlation_figure(
    dy: Any,
    w: Any,
    pos: Any = (0, 0),
    *,
    fmt: Formatter = "{:g}",
    max_sum_terms: int = 9,
    cell: float = 0.36,
    dpi: float = 100,
) -> Figure:
    """``dx`` as a full correlation of ``dy`` with the kernel rotated by 180 degrees.

    Three grids: ``dy`` with ``K - 1`` zeros on every side (hatched), the
    kernel rotated (reversed, in 1-D), and ``dx``. The window of the padded
    ``dy`` that ``dx[pos]`` reads is highlighted, and a caption writes out the
    sum of products. The ``dx`` drawn is the one :func:`convlib.conv2d_backward`
    returns (stride 1, no padding), so the figure shows the formula and the
    library agreeing -- or not.

    Parameters
    ----------
    dy : array_like, shape (OH, OW) or (OW,)
        Upstream gradient of one single-channel output.
    w : array_like, shape (KH, KW) or (KW,)
        The kernel of the forward pass (not flipped); same number of
        dimensions as ``dy``.
    pos : (int, int), or int for 1-D
        Pixel of ``dx`` (shape ``(OH + KH - 1, OW + KW - 1)``) to explain.
    fmt : str or callable
        Number format.
    max_sum_terms : int
        Write only the value in the caption when the kernel has more taps.
    cell : float
        Side of one cell in inches.
    dpi : float
        Figure resolution.

    Returns
    -------
    matplotlib.figure.Figure
        Three Axes: padded ``dy`` (window cells have ``gid="highlight"``),
        rotated kernel, ``dx`` (``pos`` highlighted); each holds one image of
        its array. The last figure text is the caption.
    """
    dy2, one_d = _grid("dy", dy)
    w2, w_one_d = _grid("w", w)
    if one_d != w_one_d:
        raise ValueError(
            f"dy and w must both be 1-D or both 2-D, got dy {np.shape(dy)} and w {np.shape(w)}"
        )
    kh, kw = w2.shape
    oh, ow = dy2.shape
    h, wd = oh + kh - 1, ow + kw - 1
    if one_d and not isinstance(pos, (tuple, list, np.ndarray)):
        pos = (0, pos)
    r, s = as_pair("pos", pos, 0)
    if r >= h or s >= wd:
        raise ValueError(f"pos {(r, s)} is outside dx, of shape {(h, wd) if not one_d else (wd,)}")
    fmt_fn = _formatter(fmt)

    # The input values do not enter dx: any x of the right shape will do.
    _, cache = conv2d_forward(np.zeros((1, h, wd, 1)), w2[:, :, None, None], None)
    dx = conv2d_backward(dy2[None, :, :, None], cache)[0][0, :, :, 0]
    pads = ((kh - 1, kh - 1), (kw - 1, kw - 1))
    dyp = np.pad(dy2, pads)
    w_rot = w2[::-1, ::-1]

    fig, (ax_d, ax_w, ax_x) = _row_layout(
        [dyp.shape, w_rot.shape, dx.shape], ["⊛", "="], cell, dpi, caption=True
    )
    lim = _symmetric_limit(dyp, dx)
    window = [(r + p, s + q) for p in range(kh) for q in range(kw)]
    draw_array(
        ax_d,
        dyp,
        highlight=window,
        pad=pads,
        fmt=fmt_fn,
        cmap=GRAD_CMAP,
        vmin=-lim,
        vmax=lim,
        title="dy, zero-padded",
    )
    draw_array(
        ax_w, w_rot, fmt=fmt_fn, cmap=KERNEL_CMAP, title="w reversed" if one_d else "w rotated 180°"
    )
    draw_array(
        ax_x, dx, highlight=[(r, s)], fmt=fmt_fn, cmap=GRAD_CMAP, vmin=-lim, vmax=lim, title="dx"
    )

    name = f"dx[{s}]" if one_d else f"dx[{r}, {s}]"
    value = fmt_fn(dx[r, s])
    if w2.size <= as_int("max_sum_terms", max_sum_terms, 0):
        patch = dyp[r : r + kh, s : s + kw]

        def paren(v: float) -> str:
            return f"({fmt_fn(v)})" if v < 0 else fmt_fn(v)

        terms = " + ".join(f"{paren(a)}·{paren(c)}" for a, c in zip(patch.ravel(), w_rot.ravel()))
        text = f"{name} = {terms} = {value}"
    else:
        text = f"{name} = {value}"
    fig.text(0.5, 0.2 / fig.get_figheight(), text, ha="center", va="bottom", fontsize=9)
    return fig


# --------------------------------------------------------------------------
# Where one output's gradient goes
# --------------------------------------------------------------------------


def _one_hot_position(name: str, d: np.ndarray) -> tuple[int, int]:
    nz = np.argwhere(d != 0)
    if len(nz) != 1:
        raise ValueError(
            f"{name} must be one-hot (exactly one nonzero entry), got {len(nz)} nonzero entries"
        )
    return int(nz[0][0]), int(nz[0][1])


def gradient_reach_figure(
    douts: Sequence[Any],
    dxs: Sequence[Any],
    kernel_hw: Any,
    *,
    titles: Sequence[str] | None = None,
    annotate: bool = True,
    fmt: Formatter = "{:.2g}",
    cell: float = 0.3,
    dpi: float = 100,
) -> Figure:
    """Small multiples: one-hot upstream gradients and the input gradients they give.

    Column ``m`` shows ``douts[m]`` (top, its one nonzero pixel highlighted)
    and ``dxs[m]`` (bottom) with the ``KH x KW`` window that this output pixel
    read in the forward pass outlined. If the backward pass is right, ``dx``
    is nonzero exactly inside the outline.

    Parameters
    ----------
    douts : sequence of array_like, each shape (OH, OW)
        One-hot upstream gradients of one output channel.
    dxs : sequence of array_like, each shape (H, W)
        The matching input gradients (one input channel), e.g. from
        :func:`convlib.conv2d_backward`.
    kernel_hw : int or (int, int)
        Kernel size ``(KH, KW)`` (stride 1, no padding).
    titles : sequence of str, optional
        One title per column.
    annotate : bool
        Write the values of ``dx`` in its cells.
    fmt : str or callable
        Number format.
    cell : float
        Side of one cell in inches.
    dpi : float
        Figure resolution.

    Returns
    -------
    matplotlib.figure.Figure
        ``2 * len(douts)`` Axes, ordered dout_0, dx_0, dout_1, dx_1, ...; each
        holds one image of its array; window cells are patches with
        ``gid="highlight"``.
    """
    if len(douts) != len(dxs) or len(douts) == 0:
        raise ValueError(
            f"douts and dxs must be non-empty and of equal length, got {len(douts)} and {len(dxs)}"
        )
    kh, kw = as_pair("kernel_hw", kernel_hw, 1)
    d_list = [_matrix(f"douts[{m}]", d, "(OH, OW)") for m, d in enumerate(douts)]
    x_list = [_matrix(f"dxs[{m}]", d, "(H, W)") for m, d in enumerate(dxs)]
    for m, (d, g) in enumerate(zip(d_list, x_list)):
        if g.shape != (d.shape[0] + kh - 1, d.shape[1] + kw - 1):
            raise ValueError(
                f"dxs[{m}] has shape {g.shape}, but douts[{m}] {d.shape} and a "
                f"{kh}x{kw} kernel (stride 1, no padding) need ({d.shape[0] + kh - 1}, "
                f"{d.shape[1] + kw - 1})"
            )
    if titles is not None and len(titles) != len(d_list):
        raise ValueError(f"give one title per column: {len(d_list)} columns, {len(titles)} titles")
    fmt_fn = _formatter(fmt)

    oh, ow = d_list[0].shape
    h, wd = x_list[0].shape
    margin, gap, top, mid, bottom = 0.15, 0.35, 0.55, 0.45, 0.15
    col_w = cell * max(ow, wd)
    width = 2 * margin + len(d_list) * col_w + (len(d_list) - 1) * gap
    height = top + cell * oh + mid + cell * h + bottom
    fig = _new_figure(figsize=(width, height), dpi=dpi)
    lim = _symmetric_limit(*x_list)
    for m, (d, g) in enumerate(zip(d_list, x_list)):
        i, j = _one_hot_position(f"douts[{m}]", d)
        x0 = margin + m * (col_w + gap)
        ax_d = fig.add_axes(
            (
                (x0 + (col_w - cell * d.shape[1]) / 2) / width,
                (bottom + cell * h + mid) / height,
                cell * d.shape[1] / width,
                cell * d.shape[0] / height,
            )
        )
        ax_x = fig.add_axes(
            (
                (x0 + (col_w - cell * g.shape[1]) / 2) / width,
                bottom / height,
                cell * g.shape[1] / width,
                cell * g.shape[0] / height,
            )
        )
        dlim = _symmetric_limit(d)
        draw_array(
            ax_d,
            d,
            highlight=[(i, j)],
            annotate=True,
            fmt="{:g}",
            cmap=GRAD_CMAP,
            vmin=-dlim,
            vmax=dlim,
            fontsize=7,
            title=(titles[m] + "\n" if titles is not None else "") + "dout",
        )
        rows, cols = receptive_field((i, j), (kh, kw))
        draw_array(
            ax_x,
            g,
            highlight=[(r, c) for r in rows for c in cols],
            annotate=annotate,
            fmt=fmt_fn,
            cmap=GRAD_CMAP,
            vmin=-lim,
            vmax=lim,
            fontsize=6,
            title="dx",
        )
    return fig


_MOVED = frozenset(
    {"BackwardStep", "backward_accumulation_steps", "backward_accumulation_animation"}
)


def __getattr__(name: str) -> Any:
    # The animation moved to its own module; the old import path still works.
    if name in _MOVED:
        from . import backward_animation

        return getattr(backward_animation, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
