"""Drawing primitives shared by every figure module of :mod:`convlib.plotting`.

Generic pieces, in the manner of d2l's plotting helpers: a figure that pyplot
does not keep (:func:`new_figure`), number formats (:func:`formatter`), the
colour conventions, a 2-D array drawn as a grid of labelled cells
(:func:`draw_array`), a colour-scale limit centred on zero
(:func:`symmetric_limit`) and an offline HTML player for animations
(:func:`animation_html`). The figure modules (``conv_diagrams``,
``backward_diagrams``, ...) are built from these.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from .._checks import as_int, as_numeric_array, as_pair, check_ndim
from ..arithmetic import Pads

__all__ = [
    "Formatter",
    "GRAD_CMAP",
    "INPUT_CMAP",
    "KERNEL_CMAP",
    "OUTPUT_CMAP",
    "WINDOW_COLOR",
    "SERIES_COLORS",
    "series_color",
    "new_figure",
    "formatter",
    "symmetric_limit",
    "text_color",
    "as_grid",
    "draw_array",
    "animation_html",
]

#: A number format: a format string such as ``"{:g}"`` or a callable.
Formatter = str | Callable[[float], str]

#: Colour map of gradients (signed: blue negative, white zero, red positive).
GRAD_CMAP = "RdBu_r"


def new_figure(**kwargs: Any) -> Figure:
    """A pyplot figure, closed at once: pyplot will not show it again or keep it.

    Creating it through pyplot activates the notebook's inline backend, so the
    returned Figure displays as a cell's last expression.
    """
    fig = plt.figure(**kwargs)
    plt.close(fig)
    return fig


def formatter(fmt: Formatter) -> Callable[[float], str]:
    """Turn a format string or callable into a callable ``value -> str``."""
    if callable(fmt):
        return fmt
    if isinstance(fmt, str):
        return lambda v: fmt.format(v)
    raise TypeError(f"fmt must be a format string such as '{{:g}}' or a callable, got {fmt!r}")


def symmetric_limit(*arrays: np.ndarray) -> float:
    """Largest finite ``|value|`` over the arrays (1.0 if there is none), for a
    colour scale centred on zero."""
    m = max(
        (float(np.max(np.abs(a[np.isfinite(a)]))) if np.isfinite(a).any() else 0.0 for a in arrays),
        default=0.0,
    )
    return m if m > 0 else 1.0


#: Colours shared by all diagrams (input, kernel/window, output).
INPUT_CMAP = "Blues"
KERNEL_CMAP = "Oranges"
OUTPUT_CMAP = "Greens"
WINDOW_COLOR = "tab:orange"

#: Colours of the curves of several runs (optimizers, learning rates), in order.
SERIES_COLORS = ("#1f4e79", "#c55a11", "#2e7d32", "#7030a0", "#b8860b", "#7f7f7f")


def series_color(i: int) -> str:
    """The ``i``-th colour of :data:`SERIES_COLORS`, starting again after the last."""
    return SERIES_COLORS[i % len(SERIES_COLORS)]


def text_color(rgba: tuple[float, float, float, float]) -> str:
    """Black on light cells, white on dark ones (relative luminance)."""
    r, g, b, _ = rgba
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "white"


# --------------------------------------------------------------------------
# A 2-D array as a grid of labelled cells
# --------------------------------------------------------------------------


def as_grid(name: str, values: Any) -> np.ndarray:
    """``values`` as a float 2-D array; a 1-D array becomes one row ``(1, W)``."""
    arr = as_numeric_array(name, values)
    if arr.ndim == 1:
        arr = arr[None, :]
    check_ndim(name, arr, 2, "(H, W) or (W,)")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    return arr.astype(np.float64)


def _as_pads(name: str, pad: Any) -> Pads:
    """``p``, ``(p_h, p_w)`` or ``((top, bottom), (left, right))`` as nested pairs."""
    if (
        isinstance(pad, (tuple, list))
        and len(pad) == 2
        and all(isinstance(p, (tuple, list)) for p in pad)
    ):
        return (as_pair(f"{name}[0]", pad[0], 0), as_pair(f"{name}[1]", pad[1], 0))
    ph, pw = as_pair(name, pad, 0)
    return ((ph, ph), (pw, pw))


def _highlight_mask(highlight: Any, shape: tuple[int, int]) -> np.ndarray:
    """Boolean mask of ``shape`` from a mask or from an iterable of ``(row, col)``."""
    mask = np.zeros(shape, dtype=bool)
    if highlight is None:
        return mask
    arr = np.asarray(highlight)
    if arr.dtype == bool:
        if arr.shape != shape:
            raise ValueError(
                f"highlight mask has shape {arr.shape}, expected the array's shape {shape}"
            )
        return arr.copy()
    cells = arr.reshape(-1, 2) if arr.size else np.zeros((0, 2), dtype=int)
    if arr.size and (arr.ndim != 2 or arr.shape[1] != 2):
        raise ValueError(
            f"highlight must be a boolean mask of shape {shape} or a sequence of "
            f"(row, col) pairs, got an array of shape {arr.shape}"
        )
    for r, c in cells:
        r, c = as_int("highlight row", r, 0), as_int("highlight column", c, 0)
        if r >= shape[0] or c >= shape[1]:
            raise ValueError(f"highlight cell ({r}, {c}) is outside an array of shape {shape}")
        mask[r, c] = True
    return mask


def highlight_patches(ax: Axes) -> list[Rectangle]:
    """The cell outlines :func:`draw_array` drew on ``ax`` (``gid="highlight"``), in order."""
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() == "highlight"]


def draw_array(
    ax: Axes,
    values: Any,
    *,
    highlight: Any = None,
    pad: Any = 0,
    annotate: bool = True,
    fmt: Formatter = "{:g}",
    cmap: str = INPUT_CMAP,
    vmin: float | None = None,
    vmax: float | None = None,
    highlight_color: str = WINDOW_COLOR,
    title: str | None = None,
    fontsize: float = 9.0,
) -> AxesImage:
    """Draw a 2-D array as a grid of cells, one number per cell.

    Cell ``(r, c)`` is the unit square centred on ``x = c, y = r`` (image
    coordinates, row 0 at the top), so patches can be added on top later.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    values : array_like, shape (H, W) or (W,)
        The numbers; a 1-D array is drawn as one row. ``NaN`` cells are left
        blank (no colour, no number) -- e.g. outputs not computed yet.
    highlight : bool array of shape (H, W), or iterable of (row, col), optional
        Cells to outline and tint with ``highlight_color`` (one
        :class:`~matplotlib.patches.Rectangle` per cell, ``gid="highlight"``),
        so a dilated window with gaps is drawn correctly.
    pad : int, (int, int) or ((int, int), (int, int))
        How many outer rows/columns of ``values`` are zero padding,
        ``((top, bottom), (left, right))``. They are hatched grey (one
        band-shaped Rectangle per non-empty side, ``gid="padding"``) and their
        numbers greyed.
    annotate : bool
        Write each value in its cell.
    fmt : str or callable
        Number format, e.g. ``"{:g}"``, ``"{:.2f}"``, or ``lambda v: ...``.
    cmap : str
        Colour map of the cells.
    vmin, vmax : float, optional
        Colour limits; default the finite data's minimum and maximum.
    highlight_color : str
        Colour of highlighted cells.
    title : str, optional
        Axes title.
    fontsize : float
        Size of the numbers.

    Returns
    -------
    matplotlib.image.AxesImage
        The image of the cells; ``get_array()`` holds ``values`` (masked where
        ``NaN``).
    """
    arr = as_grid("values", values)
    h, w = arr.shape
    (top, bottom), (left, right) = _as_pads("pad", pad)
    if top + bottom > h or left + right > w:
        raise ValueError(
            f"pad {((top, bottom), (left, right))} is larger than the array's shape {arr.shape}"
        )
    mask = _highlight_mask(highlight, (h, w))
    fmt_fn = formatter(fmt)
    finite = np.isfinite(arr)
    if vmin is not None:
        lo = float(vmin)
    else:
        lo = float(np.min(arr[finite])) if finite.any() else 0.0
    if vmax is not None:
        hi = float(vmax)
    else:
        hi = float(np.max(arr[finite])) if finite.any() else 1.0
    if hi <= lo:
        hi = lo + 1.0

    im = ax.imshow(np.ma.masked_invalid(arr), cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    # Cell borders as two line collections (cheaper to draw than tick grids).
    ax.vlines(np.arange(-0.5, w), -0.5, h - 0.5, colors="0.35", linewidths=0.8, zorder=2)
    ax.hlines(np.arange(-0.5, h), -0.5, w - 0.5, colors="0.35", linewidths=0.8, zorder=2)
    ax.set_axis_off()
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)

    pad_kw: dict[str, Any] = dict(
        facecolor="0.93", edgecolor="0.6", hatch="///", linewidth=0.0, gid="padding"
    )
    bands = [
        (-0.5, -0.5, w, top),  # (x, y, width, height)
        (-0.5, h - bottom - 0.5, w, bottom),
        (-0.5, top - 0.5, left, h - top - bottom),
        (w - right - 0.5, top - 0.5, right, h - top - bottom),
    ]
    for x0, y0, bw, bh in bands:
        if bw > 0 and bh > 0:
            ax.add_patch(Rectangle((x0, y0), bw, bh, zorder=1, **pad_kw))

    face = to_rgba(highlight_color, 0.25)
    for r, c in zip(*np.nonzero(mask)):
        ax.add_patch(
            Rectangle(
                (c - 0.5, r - 0.5),
                1,
                1,
                facecolor=face,
                edgecolor=highlight_color,
                linewidth=2.5,
                zorder=3,
                gid="highlight",
            )
        )

    if annotate:
        cm = colormaps[cmap]
        in_pad = np.zeros((h, w), dtype=bool)
        in_pad[:top], in_pad[h - bottom :], in_pad[:, :left], in_pad[:, w - right :] = (
            True,
            True,
            True,
            True,
        )
        for r in range(h):
            for c in range(w):
                if not finite[r, c]:
                    continue
                v = arr[r, c]
                color = "0.45" if in_pad[r, c] else text_color(cm((v - lo) / (hi - lo)))
                ax.text(
                    c,
                    r,
                    fmt_fn(v),
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color=color,
                    zorder=4,
                )
    if title is not None:
        ax.set_title(title, fontsize=fontsize + 1)
    return im


# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# Animations in a page that must work offline
# --------------------------------------------------------------------------


class AnimationPlayer:
    """An animation for a notebook: a player in HTML, a still frame elsewhere.

    Jupyter and the HTML book show :attr:`data`, matplotlib's JavaScript
    player with its frames inline (no network needed). Outputs that cannot
    run JavaScript -- the PDF edition, a static notebook viewer -- show the
    last frame as a PNG image (:meth:`_repr_png_`).

    Attributes
    ----------
    data : str
        The player's HTML.
    still : bytes
        The last frame, PNG-encoded.
    """

    def __init__(self, html: str, still: bytes) -> None:
        self.data = html
        self.still = still

    def __repr__(self) -> str:
        return f"<AnimationPlayer: {len(self.data)} characters of HTML>"

    def _repr_html_(self) -> str:
        return self.data

    def _repr_png_(self) -> bytes:
        return self.still


def animation_html(anim: FuncAnimation, *, default_mode: str = "once") -> AnimationPlayer:
    """Embed an animation in a notebook as JavaScript + inline PNG frames.

    Parameters
    ----------
    anim : matplotlib.animation.FuncAnimation
        E.g. from :func:`sliding_window_animation`.
    default_mode : {"once", "loop", "reflect"}
        What the player does when it reaches the last frame.

    Returns
    -------
    AnimationPlayer
        Display it as a cell's last expression; ``.data`` is the HTML text,
        and its last frame is the still image that the PDF edition shows.
    """
    if not isinstance(anim, FuncAnimation):
        raise TypeError(f"anim must be a matplotlib FuncAnimation, got {type(anim).__name__}")
    html = _offline_player(anim.to_jshtml(default_mode=default_mode))
    frames = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)", html)
    if not frames:
        raise ValueError("the animation has no frames to show")
    still = base64.b64decode(frames[-1].replace("\\\n", "").replace("\\", ""))
    return AnimationPlayer(html, still)


# matplotlib's player loads Font Awesome 4 from a CDN for its button icons;
# the book must work offline, so the icons become plain characters.
_PLAYER_ICONS = {
    "fa-minus": "\u2212",  # slower
    "fa-fast-backward": "|\u25c0\u25c0",  # first frame
    "fa-step-backward": "|\u25c0",  # previous frame
    "fa-play fa-flip-horizontal": "\u25c0",  # play backwards
    "fa-pause": "||",
    "fa-play": "\u25b6",
    "fa-step-forward": "\u25b6|",  # next frame
    "fa-fast-forward": "\u25b6\u25b6|",  # last frame
    "fa-plus": "+",  # faster
}


def _offline_player(html: str) -> str:
    """Drop matplotlib's Font Awesome link and draw its buttons as text."""
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
    return re.sub(r'<i class="fa ([^"]*)"></i>', lambda m: _PLAYER_ICONS.get(m.group(1), "?"), html)
