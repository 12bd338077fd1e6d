"""Diagrams of the convolution forward pass, drawn from the numbers themselves.

The figures of the book's convolution chapters come from here:

* :func:`conv_window_figure` -- input, kernel and output side by side, the
  window of one output pixel highlighted, the output computed by
  :func:`convlib.conv2d_forward` (1-D inputs are drawn as one row).
* :func:`conv_geometry_figure` and :func:`padding_modes_figure` -- number-free
  diagrams of padding, stride and dilation in the manner of Dumoulin & Visin.
* :func:`sliding_window_animation` -- the window sliding over the input
  while the output fills in (embed it with
  :func:`convlib.plotting.primitives.animation_html`).
* :func:`receptive_field` -- which padded-input rows and columns one output
  pixel reads; the diagrams and the tests share it.

The building block :func:`~convlib.plotting.primitives.draw_array` and
:func:`~convlib.plotting.feature_maps.feature_maps_figure` live in their own
modules; they are importable from here too, as before.

Every function returns its :class:`matplotlib.figure.Figure` already closed in
pyplot: it is never shown twice and never piles up in pyplot's list of open
figures. Display it by making it the last expression of a notebook cell (or
with ``IPython.display.display(fig)``) and save it with ``fig.savefig``;
``plt.show()`` will not show it.

Array conventions are convlib's: a single-channel image is ``(H, W)``, a
kernel ``(KH, KW)``, a stack of feature maps channels-last ``(H, W, F)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from .. import windows
from .._checks import as_int, as_numeric_array, as_pair
from ..arithmetic import conv_output_size, resolve_padding
from ..conv import conv2d_forward
from .feature_maps import feature_maps_figure  # noqa: F401  (importable from here, as in 0.1)
from .primitives import (
    INPUT_CMAP,
    KERNEL_CMAP,
    OUTPUT_CMAP,
    Formatter,
    animation_html,  # noqa: F401  (importable from here, as in 0.1)
    as_grid,
    draw_array,
    formatter as _formatter,
    highlight_patches as _highlight_patches,
    new_figure as _new_figure,
    text_color,
)

__all__ = [
    "GEOMETRY_COLORS",
    "receptive_field",
    "conv_window_figure",
    "conv_geometry_figure",
    "padding_modes_figure",
    "sliding_window_animation",
]


#: Cell colours of :func:`conv_geometry_figure` and :func:`padding_modes_figure`.
GEOMETRY_COLORS = {
    "input": "#cfe2f3",
    "padding": "white",
    "window": "#3d85c6",
    "output": "#d9ead3",
    "current": "#6aa84f",
}


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def receptive_field(
    out_pos: tuple[int, int],
    kernel_hw: tuple[int, int] | int,
    stride: tuple[int, int] | int = 1,
    dilation: tuple[int, int] | int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the *padded* input read by one output pixel.

    Output pixel ``(i, j)`` multiplies kernel tap ``(p, q)`` with the padded
    input at row ``i * sh + p * dh`` and column ``j * sw + q * dw``: the
    slices of :func:`convlib.windows.receptive_field`, as index arrays.

    Parameters
    ----------
    out_pos : (int, int)
        Output pixel ``(i, j)``.
    kernel_hw : int or (int, int)
        Kernel size ``(KH, KW)``.
    stride, dilation : int or (int, int)
        ``(sh, sw)`` and ``(dh, dw)``.

    Returns
    -------
    rows : ndarray of int, shape (KH,)
    cols : ndarray of int, shape (KW,)
        The window is every ``(rows[p], cols[q])``; ``np.ix_(rows, cols)``
        indexes it.

    Examples
    --------
    >>> rows, cols = receptive_field((1, 2), 3, stride=2, dilation=1)
    >>> rows.tolist(), cols.tolist()
    ([2, 3, 4], [4, 5, 6])
    >>> receptive_field((0, 0), 3, dilation=2)[1].tolist()
    [0, 2, 4]
    """
    i, j = as_pair("out_pos", out_pos, 0)
    kernel_hw = as_pair("kernel_hw", kernel_hw, 1)
    rows, cols = windows.receptive_field(i, j, kernel_hw, stride, dilation)
    return np.arange(rows.start, rows.stop, rows.step), np.arange(cols.start, cols.stop, cols.step)


# Input * kernel = output, with numbers
# --------------------------------------------------------------------------


def _prepare_window(x: Any, w: Any, stride: Any, padding: Any, dilation: Any) -> dict[str, Any]:
    """Shared set-up of the window figure and the animation.

    Returns a dict with the 2-D ``x``, ``w``, padded ``xp``, ``pads``,
    ``stride``, ``dilation``, ``out`` (from :func:`convlib.conv2d_forward`)
    and ``one_d`` (whether the input was 1-D).
    """
    x_arr = as_numeric_array("x", x)
    w_arr = as_numeric_array("w", w)
    if x_arr.ndim != w_arr.ndim or x_arr.ndim not in (1, 2):
        raise ValueError(
            f"x and w must both be 1-D (W,), (KW,) or both 2-D (H, W), (KH, KW); "
            f"got x {x_arr.shape} and w {w_arr.shape}"
        )
    one_d = x_arr.ndim == 1
    x2, w2 = as_grid("x", x_arr), as_grid("w", w_arr)
    if one_d:
        # 1-D arguments act on the width only.
        stride = (1, as_int("stride", stride, 1))
        dilation = (1, as_int("dilation", dilation, 1))
        if not isinstance(padding, str):
            lo, hi = as_pair("padding", padding, 0)
            padding = ((0, 0), (lo, hi))
    stride_p = as_pair("stride", stride, 1)
    dilation_p = as_pair("dilation", dilation, 1)
    pads = resolve_padding(padding, x2.shape, w2.shape, stride_p, dilation_p)
    out, _ = conv2d_forward(
        x2[None, :, :, None],
        w2[:, :, None, None],
        None,
        stride=stride_p,
        padding=pads,
        dilation=dilation_p,
    )
    xp = np.pad(x2, pads)
    return dict(
        x=x2,
        w=w2,
        xp=xp,
        pads=pads,
        stride=stride_p,
        dilation=dilation_p,
        out=out[0, :, :, 0],
        one_d=one_d,
    )


def _out_pos(pos: Any, out_shape: tuple[int, int], one_d: bool) -> tuple[int, int]:
    if one_d and not isinstance(pos, (tuple, list, np.ndarray)):
        pos = (0, pos)
    i, j = as_pair("out_pos", pos, 0)
    if i >= out_shape[0] or j >= out_shape[1]:
        raise ValueError(f"out_pos {(i, j)} is outside the output of shape {out_shape}")
    return i, j


def _sum_text(
    setup: dict[str, Any], pos: tuple[int, int], fmt_fn: Callable[[float], str], max_terms: int
) -> str:
    """``out[i, j] = a*b + ... = value`` for the figure's caption line."""
    rows, cols = receptive_field(pos, setup["w"].shape, setup["stride"], setup["dilation"])
    patch = setup["xp"][np.ix_(rows, cols)]
    w = setup["w"]
    value = fmt_fn(setup["out"][pos])
    name = f"out[{pos[1]}]" if setup["one_d"] else f"out[{pos[0]}, {pos[1]}]"
    if w.size > max_terms:
        return f"{name} = {value}"

    def paren(v: float) -> str:
        return f"({fmt_fn(v)})" if v < 0 else fmt_fn(v)

    terms = " + ".join(f"{paren(a)}·{paren(b)}" for a, b in zip(patch.ravel(), w.ravel()))
    return f"{name} = {terms} = {value}"


def _window_layout(
    setup: dict[str, Any], cell: float, caption: bool, dpi: float
) -> tuple[Figure, list[Axes]]:
    """Three equally-scaled Axes (padded input, kernel, output) on a new Figure."""
    shapes = [setup["xp"].shape, setup["w"].shape, setup["out"].shape]
    margin, gap, top, bottom = 0.2, 0.7, 0.45, 0.55 if caption else 0.2
    width = 2 * margin + 2 * gap + cell * sum(s[1] for s in shapes)
    band = cell * max(s[0] for s in shapes)
    height = top + band + bottom
    fig = _new_figure(figsize=(width, height), dpi=dpi)
    axes = []
    x = margin
    for hgt, wid in shapes:
        y = bottom + (band - cell * hgt) / 2
        axes.append(fig.add_axes((x / width, y / height, cell * wid / width, cell * hgt / height)))
        x += cell * wid + gap
    mid = (bottom + band / 2) / height
    for k, symbol in enumerate(("⊛", "=")):
        x_sym = margin + cell * sum(s[1] for s in shapes[: k + 1]) + gap * (k + 0.5)
        fig.text(x_sym / width, mid, symbol, ha="center", va="center", fontsize=22)
    return fig, axes


def _window_titles(setup: dict[str, Any]) -> list[str]:
    (t, b), (l, r) = setup["pads"]
    x_title = "input"
    if t or b or l or r:
        x_title += " (zero-padded)"
    return [x_title, "kernel", "output"]


def conv_window_figure(
    x: Any,
    w: Any,
    out_pos: Any = (0, 0),
    *,
    stride: Any = 1,
    padding: Any = "valid",
    dilation: Any = 1,
    annotate: bool = True,
    show_sum: bool = True,
    max_sum_terms: int = 9,
    fmt: Formatter = "{:g}",
    cell: float = 0.38,
    dpi: float = 100,
) -> Figure:
    """Input, kernel and output side by side, one output pixel's window highlighted.

    The output is computed by :func:`convlib.conv2d_forward` (a
    cross-correlation: the kernel is not flipped), so the picture shows what
    the library computes.

    Parameters
    ----------
    x : array_like, shape (H, W) or (W,)
        One single-channel input (1-D: one row).
    w : array_like, shape (KH, KW) or (KW,)
        The kernel; same number of dimensions as ``x``.
    out_pos : (int, int), or int for 1-D input
        Output pixel whose window is highlighted.
    stride, dilation : int or (int, int)
        As in :func:`convlib.conv2d_forward` (for 1-D input, ints acting
        along the width).
    padding : str, int or tuple
        As in :func:`convlib.conv2d_forward`; for 1-D input an int ``p`` or
        a pair ``(left, right)`` pads the width only. The padded input is
        drawn, with its padding hatched.
    annotate : bool
        Write the numbers in the cells.
    show_sum : bool
        Add a caption ``out[i, j] = x·w + ... = value`` (just the value when
        the kernel has more than ``max_sum_terms`` taps).
    max_sum_terms : int
        See ``show_sum``.
    fmt : str or callable
        Number format for cells and caption.
    cell : float
        Side of one cell in inches (every panel uses the same scale).
    dpi : float
        Figure resolution.

    Returns
    -------
    matplotlib.figure.Figure
        Three Axes: padded input (window highlighted), kernel, output
        (``out_pos`` highlighted); each holds one image of its array.
    """
    setup = _prepare_window(x, w, stride, padding, dilation)
    pos = _out_pos(out_pos, setup["out"].shape, setup["one_d"])
    fmt_fn = _formatter(fmt)
    fig, (ax_x, ax_w, ax_o) = _window_layout(setup, cell, show_sum, dpi)
    rows, cols = receptive_field(pos, setup["w"].shape, setup["stride"], setup["dilation"])
    window = [(r, c) for r in rows for c in cols]
    titles = _window_titles(setup)
    draw_array(
        ax_x,
        setup["xp"],
        highlight=window,
        pad=setup["pads"],
        annotate=annotate,
        fmt=fmt_fn,
        cmap=INPUT_CMAP,
        title=titles[0],
    )
    draw_array(ax_w, setup["w"], annotate=annotate, fmt=fmt_fn, cmap=KERNEL_CMAP, title=titles[1])
    draw_array(
        ax_o,
        setup["out"],
        highlight=[pos],
        annotate=annotate,
        fmt=fmt_fn,
        cmap=OUTPUT_CMAP,
        title=titles[2],
    )
    if show_sum:
        fig.text(
            0.5,
            0.2 / fig.get_figheight(),
            _sum_text(setup, pos, fmt_fn, max_sum_terms),
            ha="center",
            va="bottom",
            fontsize=9,
        )
    return fig


# --------------------------------------------------------------------------
# Geometry without numbers: padding, stride, dilation
# --------------------------------------------------------------------------


def _geometry(
    input_hw: Any, kernel_hw: Any, stride: Any, padding: Any, dilation: Any
) -> dict[str, Any]:
    h, w = as_pair("input_hw", input_hw, 1)
    kh, kw = as_pair("kernel_hw", kernel_hw, 1)
    s = as_pair("stride", stride, 1)
    d = as_pair("dilation", dilation, 1)
    pads = resolve_padding(padding, (h, w), (kh, kw), s, d)
    oh = conv_output_size(h, kh, s[0], pads[0], d[0])
    ow = conv_output_size(w, kw, s[1], pads[1], d[1])
    return dict(hw=(h, w), khw=(kh, kw), stride=s, dilation=d, pads=pads, out_hw=(oh, ow))


def _draw_geometry(ax: Axes, geo: dict[str, Any], pos: tuple[int, int], title: str | None) -> None:
    """Padded input (window cells dark) and, to its right, the output (pixel dark).

    Each grid is one RGB image (colours from :data:`GEOMETRY_COLORS`) with its
    cell borders as line collections: a few artists per panel instead of one
    patch per cell, so that large diagrams stay quick to render.
    """
    (t, b), (l, r) = geo["pads"]
    h, w = geo["hw"]
    hp, wp = h + t + b, w + l + r
    oh, ow = geo["out_hw"]
    rows, cols = receptive_field(pos, geo["khw"], geo["stride"], geo["dilation"])
    is_pad = np.ones((hp, wp), dtype=bool)
    is_pad[t : t + h, l : l + w] = False
    in_window = np.zeros((hp, wp), dtype=bool)
    in_window[np.ix_(rows, cols)] = True
    rgb_in = np.empty((hp, wp, 3))
    rgb_in[:] = to_rgb(GEOMETRY_COLORS["input"])
    rgb_in[is_pad] = to_rgb(GEOMETRY_COLORS["padding"])
    rgb_in[in_window] = to_rgb(GEOMETRY_COLORS["window"])
    ax.imshow(rgb_in, extent=(0, wp, hp, 0), interpolation="nearest")
    # Borders: dashed and light everywhere, solid and dark around the real input.
    dashed: dict[str, Any] = dict(colors="0.6", linewidths=0.8, linestyles="--")
    ax.vlines(np.arange(wp + 1), 0, hp, **dashed)
    ax.hlines(np.arange(hp + 1), 0, wp, **dashed)
    solid: dict[str, Any] = dict(colors="0.25", linewidths=0.8)
    ax.vlines(np.arange(l, l + w + 1), t, t + h, **solid)
    ax.hlines(np.arange(t, t + h + 1), l, l + w, **solid)
    # A window cell on the padding reads a zero: hatch it.
    for rr, cc in zip(*np.nonzero(in_window & is_pad)):
        ax.add_patch(
            Rectangle(
                (cc, rr),
                1,
                1,
                facecolor="none",
                edgecolor="0.3",
                linewidth=0.0,
                hatch="////",
                gid="window-padding",
            )
        )

    x0, y0 = wp + 1.5, (hp - oh) / 2
    rgb_out = np.empty((oh, ow, 3))
    rgb_out[:] = to_rgb(GEOMETRY_COLORS["output"])
    rgb_out[pos] = to_rgb(GEOMETRY_COLORS["current"])
    ax.imshow(rgb_out, extent=(x0, x0 + ow, y0 + oh, y0), interpolation="nearest")
    ax.vlines(x0 + np.arange(ow + 1), y0, y0 + oh, **solid)
    ax.hlines(y0 + np.arange(oh + 1), x0, x0 + ow, **solid)
    ax.annotate(
        "",
        xy=(x0 - 0.2, hp / 2),
        xytext=(wp + 0.2, hp / 2),
        arrowprops=dict(arrowstyle="->", color="0.3"),
    )
    ax.set_xlim(-0.2, x0 + ow + 0.2)
    ax.set_ylim(max(hp, oh) + 0.2, -0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    if title is not None:
        ax.set_title(title, fontsize=9)


def _describe(geo: dict[str, Any], padding: Any) -> str:
    (h, w), (kh, kw), (oh, ow) = geo["hw"], geo["khw"], geo["out_hw"]
    (t, b), (l, r) = geo["pads"]
    parts = [f"{h}×{w} input", f"{kh}×{kw} kernel"]
    if isinstance(padding, str) and (t or b or l or r):
        parts.append(f"padding '{padding}' (top {t}, bottom {b}, left {l}, right {r})")
    elif isinstance(padding, str):
        parts.append(f"padding '{padding}'")
    elif t or b or l or r:
        parts.append(f"padding top {t}, bottom {b}, left {l}, right {r}")
    if geo["stride"] != (1, 1):
        parts.append("stride {}×{}".format(*geo["stride"]))
    if geo["dilation"] != (1, 1):
        parts.append("dilation {}×{}".format(*geo["dilation"]))
    return ", ".join(parts) + f" → {oh}×{ow} output"


def _default_positions(out_hw: tuple[int, int]) -> list[tuple[int, int]]:
    oh, ow = out_hw
    pos = [(0, 0), (0, min(1, ow - 1)), (oh - 1, ow - 1)]
    return list(dict.fromkeys(pos))


def conv_geometry_figure(
    input_hw: Any,
    kernel_hw: Any,
    *,
    stride: Any = 1,
    padding: Any = "valid",
    dilation: Any = 1,
    positions: Sequence[tuple[int, int]] | None = None,
    ncols: int | None = None,
    cell: float = 0.22,
    dpi: float = 100,
    title: str | None = None,
) -> Figure:
    """Where the kernel lands for a few output pixels: padding, stride and dilation.

    One panel per output pixel. Each shows the padded input (input cells
    blue, padding cells white with dashed edges, the cells the kernel reads
    dark blue -- with gaps when dilated) and, to its right, the output grid
    with that pixel dark green. Sizes come from
    :func:`convlib.arithmetic.resolve_padding` and
    :func:`convlib.arithmetic.conv_output_size`.

    Parameters
    ----------
    input_hw : int or (int, int)
        Input size ``(H, W)``.
    kernel_hw : int or (int, int)
        Kernel size ``(KH, KW)``.
    stride, padding, dilation
        As in :func:`convlib.conv2d_forward`.
    positions : sequence of (int, int), optional
        Output pixels to draw, one panel each. Default: the first pixel, its
        right neighbour and the last pixel.
    ncols : int, optional
        Panels per row; default all in one row.
    cell : float
        Side of one cell in inches.
    dpi : float
        Figure resolution.
    title : str, optional
        Figure title; default a description of the sizes, e.g.
        ``"5×5 input, 3×3 kernel, stride 2×2 → 2×2 output"``.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per position, holding two RGB images: ``images[0]`` the
        padded input, shape ``(H + top + bottom, W + left + right, 3)``, and
        ``images[1]`` the output, ``(OH, OW, 3)``, each cell coloured by its
        role with :data:`GEOMETRY_COLORS` (``"input"``, ``"padding"``,
        ``"window"`` -- the cells the kernel reads -- ``"output"``,
        ``"current"``). Window cells on the padding are also hatched
        (patches with ``gid="window-padding"``).
    """
    geo = _geometry(input_hw, kernel_hw, stride, padding, dilation)
    if positions is None:
        positions = _default_positions(geo["out_hw"])
    positions = [_out_pos(p, geo["out_hw"], False) for p in positions]
    if not positions:
        raise ValueError("positions must name at least one output pixel")
    n = len(positions)
    ncols = n if ncols is None else min(as_int("ncols", ncols, 1), n)
    nrows = -(-n // ncols)
    (t, b), (l, r) = geo["pads"]
    hp, wp = geo["hw"][0] + t + b, geo["hw"][1] + l + r
    panel_w = cell * (wp + 1.5 + geo["out_hw"][1] + 0.4) + 0.2
    panel_h = cell * (max(hp, geo["out_hw"][0]) + 0.4) + 0.35
    fig = _new_figure(
        figsize=(ncols * panel_w, nrows * panel_h + 0.4), dpi=dpi, layout="constrained"
    )
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        if k < n:
            i, j = positions[k]
            _draw_geometry(ax, geo, (i, j), f"out[{i}, {j}]")
        else:
            ax.remove()
    fig.suptitle(title if title is not None else _describe(geo, padding), fontsize=10)
    return fig


def padding_modes_figure(
    input_hw: Any,
    kernel_hw: Any,
    modes: Sequence[Any] = ("valid", "same", "full"),
    *,
    stride: Any = 1,
    dilation: Any = 1,
    cell: float = 0.22,
    dpi: float = 100,
) -> Figure:
    """One row per padding mode: the first and the last window of each.

    Parameters
    ----------
    input_hw, kernel_hw : int or (int, int)
        Input and kernel sizes.
    modes : sequence
        Padding arguments as accepted by :func:`convlib.conv2d_forward`
        (strings, ints or explicit pairs), one row each.
    stride, dilation : int or (int, int)
        Shared by every row.
    cell, dpi : float
        Cell side in inches, resolution.

    Returns
    -------
    matplotlib.figure.Figure
        ``len(modes)`` rows of two Axes (first and last output pixel); each
        row's left Axes is titled with the mode and the resulting sizes.
    """
    if len(modes) == 0:
        raise ValueError("modes must name at least one padding")
    geos = [_geometry(input_hw, kernel_hw, stride, m, dilation) for m in modes]
    wmax = max(g["hw"][1] + sum(g["pads"][1]) + 1.5 + g["out_hw"][1] + 0.4 for g in geos)
    heights = [max(g["hw"][0] + sum(g["pads"][0]), g["out_hw"][0]) + 0.4 for g in geos]
    fig = _new_figure(
        figsize=(2 * (cell * wmax + 0.2), cell * sum(heights) + 0.45 * len(modes)),
        dpi=dpi,
        layout="constrained",
    )
    axes = fig.subplots(len(modes), 2, squeeze=False, height_ratios=heights)
    for row, (mode, geo) in enumerate(zip(modes, geos)):
        oh, ow = geo["out_hw"]
        label = f"'{mode}'" if isinstance(mode, str) else f"padding={mode!r}"
        _draw_geometry(axes[row, 0], geo, (0, 0), f"{label}: out {oh}×{ow}, first window")
        _draw_geometry(axes[row, 1], geo, (oh - 1, ow - 1), "last window")
        for ax in axes[row]:  # same scale in every panel
            ax.set_xlim(-0.2, wmax - 0.2)
            ax.set_ylim(heights[row] - 0.2, -0.2)
    return fig


# --------------------------------------------------------------------------
# Animation
# --------------------------------------------------------------------------


def sliding_window_animation(
    x: Any,
    w: Any,
    *,
    stride: Any = 1,
    padding: Any = "valid",
    dilation: Any = 1,
    positions: Iterable[Any] | None = None,
    max_frames: int = 40,
    interval: int = 600,
    fmt: Formatter = "{:g}",
    cell: float = 0.32,
    dpi: float = 90,
    smooth_text: bool = False,
) -> FuncAnimation:
    """The window sliding over the input while the output fills in.

    Frame ``k`` highlights the window of the ``k``-th output pixel (row-major
    order), shows every output computed so far and, underneath, the sum of
    products for the current pixel. Outputs come from
    :func:`convlib.conv2d_forward`.

    Parameters
    ----------
    x : array_like, shape (H, W) or (W,)
        Single-channel input.
    w : array_like, shape (KH, KW) or (KW,)
        Kernel.
    stride, padding, dilation
        As in :func:`conv_window_figure`.
    positions : iterable of (int, int), optional
        Output pixels in frame order; default all of them, row by row.
    max_frames : int
        Refuse (``ValueError``) to make more frames than this: every frame is
        an embedded PNG, so long animations make heavy pages.
    interval : int
        Milliseconds between frames.
    fmt : str or callable
        Number format.
    cell, dpi : float
        Cell side in inches and resolution (keep both small for light HTML).
    smooth_text : bool
        Anti-alias the text. Off by default: crisp text makes PNG frames
        about 2.5 times smaller, which matters when every frame is embedded
        in the page.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Convert it with :func:`animation_html` (or ``to_jshtml()``).
    """
    setup = _prepare_window(x, w, stride, padding, dilation)
    out = setup["out"]
    oh, ow = out.shape
    if positions is None:
        frames = [(i, j) for i in range(oh) for j in range(ow)]
    else:
        frames = [_out_pos(p, out.shape, setup["one_d"]) for p in positions]
    max_frames = as_int("max_frames", max_frames, 1)
    if not frames or len(frames) > max_frames:
        raise ValueError(
            f"the animation would have {len(frames)} frames (output {oh}×{ow}); "
            f"max_frames is {max_frames}: use a smaller input, a larger stride or "
            f"pass fewer positions"
        )
    fmt_fn = _formatter(fmt)
    fig, (ax_x, ax_w, ax_o) = _window_layout(setup, cell, True, dpi)
    titles = _window_titles(setup)
    kh, kw = setup["w"].shape
    draw_array(
        ax_x,
        setup["xp"],
        highlight=[(r, c) for r in range(kh) for c in range(kw)],
        pad=setup["pads"],
        fmt=fmt_fn,
        cmap=INPUT_CMAP,
        title=titles[0],
    )
    draw_array(ax_w, setup["w"], fmt=fmt_fn, cmap=KERNEL_CMAP, title=titles[1])
    lo, hi = float(out.min()), float(out.max())
    im_o = draw_array(
        ax_o,
        np.full(out.shape, np.nan),
        highlight=[(0, 0)],
        fmt=fmt_fn,
        cmap=OUTPUT_CMAP,
        vmin=lo,
        vmax=hi,
        title=titles[2],
    )
    window_patches = _highlight_patches(ax_x)
    (out_patch,) = _highlight_patches(ax_o)
    cm = colormaps[OUTPUT_CMAP]
    out_texts = {}
    for i, j in set(frames):
        v = out[i, j]
        out_texts[i, j] = ax_o.text(
            j,
            i,
            fmt_fn(v),
            ha="center",
            va="center",
            fontsize=9,
            zorder=4,
            visible=False,
            color=text_color(cm((v - lo) / (hi - lo) if hi > lo else 0.0)),
        )
    caption = fig.text(0.5, 0.2 / fig.get_figheight(), "", ha="center", va="bottom", fontsize=9)
    if not smooth_text:
        for text in fig.findobj(Text):
            text.set_antialiased(False)

    def update(k: int) -> list[Any]:
        pos = frames[k]
        rows, cols = receptive_field(pos, (kh, kw), setup["stride"], setup["dilation"])
        for patch, (r, c) in zip(window_patches, [(r, c) for r in rows for c in cols]):
            patch.set_xy((c - 0.5, r - 0.5))
        out_patch.set_xy((pos[1] - 0.5, pos[0] - 0.5))
        shown = np.full(out.shape, np.nan)
        for p in frames[: k + 1]:
            shown[p] = out[p]
        im_o.set_data(np.ma.masked_invalid(shown))
        done = set(frames[: k + 1])
        for p, text in out_texts.items():
            text.set_visible(p in done)
        caption.set_text(_sum_text(setup, pos, fmt_fn, 9))
        return [*window_patches, out_patch, im_o, caption, *out_texts.values()]

    update(0)
    return FuncAnimation(fig, update, frames=len(frames), interval=interval, blit=False)
