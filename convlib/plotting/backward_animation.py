"""The naive backward loop of a convolution, one output pixel at a time, animated.

:func:`backward_accumulation_steps` runs the scatter loop of the naive
backward pass and records ``dx`` and ``dw`` after every output pixel;
:func:`backward_accumulation_animation` shows them filling in (embed it with
:func:`convlib.plotting.primitives.animation_html`). The last step equals
what :func:`convlib.conv2d_backward` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.animation import FuncAnimation

from .._checks import as_int
from .backward_diagrams import VALUE_CMAP, _matrix, _row_layout
from .primitives import (
    GRAD_CMAP,
    KERNEL_CMAP,
    Formatter,
    draw_array,
    formatter as _formatter,
    highlight_patches as _highlight_patches,
    symmetric_limit as _symmetric_limit,
    text_color,
)

__all__ = ["BackwardStep", "backward_accumulation_steps", "backward_accumulation_animation"]


# --------------------------------------------------------------------------
# The naive backward loop, one output pixel at a time
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class BackwardStep:
    """The state of the scatter loop after visiting one output pixel.

    Attributes
    ----------
    pos : (int, int)
        Output pixel ``(i, j)`` just visited.
    g : float
        Its upstream gradient ``dout[i, j]``.
    dx : ndarray, shape (H, W)
        Input gradient accumulated so far.
    dw : ndarray, shape (KH, KW)
        Kernel gradient accumulated so far.
    touched : ndarray of bool, shape (H, W)
        Input pixels that have received a contribution so far.
    """

    pos: tuple[int, int]
    g: float
    dx: np.ndarray
    dw: np.ndarray
    touched: np.ndarray


def backward_accumulation_steps(dout: Any, x: Any, w: Any) -> list[BackwardStep]:
    """Run the backward scatter loop of a single-channel 2-D correlation, step by step.

    The loop is the one of :func:`convlib.conv2d_backward_naive` (stride 1, no
    padding, one image, one channel, one filter)::

        for i, j in output pixels, row by row:
            dw += dout[i, j] * x[i:i+KH, j:j+KW]
            dx[i:i+KH, j:j+KW] += dout[i, j] * w

    and a snapshot is taken after every output pixel.

    Parameters
    ----------
    dout : array_like, shape (OH, OW)
        Upstream gradient.
    x : array_like, shape (H, W)
        Input of the forward pass.
    w : array_like, shape (KH, KW)
        Kernel; ``OH = H - KH + 1`` and ``OW = W - KW + 1``.

    Returns
    -------
    list of BackwardStep
        ``OH * OW`` snapshots; the last one holds the complete ``dx`` and ``dw``.
    """
    d = _matrix("dout", dout, "(OH, OW)")
    xa = _matrix("x", x, "(H, W)")
    wa = _matrix("w", w, "(KH, KW)")
    kh, kw = wa.shape
    h, wd = xa.shape
    if kh > h or kw > wd:
        raise ValueError(f"kernel w {wa.shape} is larger than the input x {xa.shape}")
    if d.shape != (h - kh + 1, wd - kw + 1):
        raise ValueError(
            f"dout has shape {d.shape}, but x {xa.shape} and w {wa.shape} give an output of "
            f"shape {(h - kh + 1, wd - kw + 1)} (stride 1, no padding)"
        )
    dx = np.zeros_like(xa)
    dw = np.zeros_like(wa)
    touched = np.zeros(xa.shape, dtype=bool)
    steps = []
    for i in range(d.shape[0]):
        for j in range(d.shape[1]):
            g = d[i, j]
            dw += g * xa[i : i + kh, j : j + kw]
            dx[i : i + kh, j : j + kw] += g * wa
            touched[i : i + kh, j : j + kw] = True
            steps.append(BackwardStep((i, j), float(g), dx.copy(), dw.copy(), touched.copy()))
    return steps


def backward_accumulation_animation(
    dout: Any,
    x: Any,
    w: Any,
    *,
    show_dw: bool = False,
    max_frames: int = 30,
    interval: int = 700,
    fmt: Formatter = "{:g}",
    cell: float = 0.3,
    dpi: float = 72,
) -> FuncAnimation:
    """``dx`` and ``dw`` filling in as the naive backward loop visits the output.

    Three grids: ``dout`` (the current pixel highlighted), ``w`` and ``dx``
    so far (the current window highlighted; cells no output has reached yet
    are blank); with ``show_dw`` two more, ``x`` (the same window) and ``dw``
    so far. Frame ``k`` is the state after the ``k``-th step of
    :func:`backward_accumulation_steps`, and a caption names the updates of
    that step.

    Parameters
    ----------
    dout : array_like, shape (OH, OW)
    x : array_like, shape (H, W)
    w : array_like, shape (KH, KW)
        As in :func:`backward_accumulation_steps`.
    show_dw : bool
        Also draw ``x`` and the kernel gradient ``dw`` (a wider figure and
        heavier frames).
    max_frames : int
        Refuse (``ValueError``) to make more frames than this: every frame is
        an embedded image.
    interval : int
        Milliseconds between frames.
    fmt : str or callable
        Number format (small integers keep the cells readable).
    cell, dpi : float
        Cell side in inches and resolution.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        ``OH * OW`` frames; convert with
        :func:`convlib.plotting.conv_diagrams.animation_html`. Its figure's
        Axes are ``dout, w, dx`` (then ``x, dw`` with ``show_dw``); after
        rendering, it shows the last frame: the complete gradients.
    """
    steps = backward_accumulation_steps(dout, x, w)
    max_frames = as_int("max_frames", max_frames, 1)
    if len(steps) > max_frames:
        raise ValueError(
            f"the animation would have {len(steps)} frames (one per output pixel); "
            f"max_frames is {max_frames}: use a smaller input"
        )
    d = np.asarray(dout, dtype=np.float64)
    xa = np.asarray(x, dtype=np.float64)
    wa = np.asarray(w, dtype=np.float64)
    kh, kw = wa.shape
    fmt_fn = _formatter(fmt)

    shapes = [d.shape, wa.shape, xa.shape] + ([xa.shape, wa.shape] if show_dw else [])
    fig, axes = _row_layout(shapes, [""] * (len(shapes) - 1), cell, dpi, True)
    ax_d, ax_w, ax_dx = axes[:3]
    dlim = _symmetric_limit(d)
    draw_array(
        ax_d, d, highlight=[(0, 0)], fmt=fmt_fn, cmap=GRAD_CMAP, vmin=-dlim, vmax=dlim, title="dout"
    )
    draw_array(ax_w, wa, fmt=fmt_fn, cmap=KERNEL_CMAP, title="w")
    window = [(r, c) for r in range(kh) for c in range(kw)]
    lim_dx = _symmetric_limit(*(s.dx for s in steps))
    im_dx = draw_array(
        ax_dx,
        np.full(xa.shape, np.nan),
        highlight=window,
        annotate=False,
        cmap=GRAD_CMAP,
        vmin=-lim_dx,
        vmax=lim_dx,
        title="dx so far",
    )
    cm = colormaps[GRAD_CMAP]
    dx_texts = {
        (r, c): ax_dx.text(c, r, "", ha="center", va="center", fontsize=9, zorder=4)
        for r in range(xa.shape[0])
        for c in range(xa.shape[1])
    }
    (d_patch,) = _highlight_patches(ax_d)
    window_patches = _highlight_patches(ax_dx)
    dw_texts: dict[tuple[int, int], Any] = {}
    im_dw = None
    lim_dw = 1.0
    if show_dw:
        ax_x, ax_dw = axes[3:]
        draw_array(ax_x, xa, highlight=window, fmt=fmt_fn, cmap=VALUE_CMAP, title="x")
        window_patches += _highlight_patches(ax_x)
        lim_dw = _symmetric_limit(*(s.dw for s in steps))
        im_dw = draw_array(
            ax_dw,
            np.full(wa.shape, np.nan),
            annotate=False,
            cmap=GRAD_CMAP,
            vmin=-lim_dw,
            vmax=lim_dw,
            title="dw so far",
        )
        dw_texts = {
            (r, c): ax_dw.text(c, r, "", ha="center", va="center", fontsize=9, zorder=4)
            for r in range(kh)
            for c in range(kw)
        }
    caption = fig.text(0.5, 0.2 / fig.get_figheight(), "", ha="center", va="bottom", fontsize=9)

    def paren(v: float) -> str:
        return f"({fmt_fn(v)})" if v < 0 else fmt_fn(v)

    def set_texts(texts: dict, values: np.ndarray, shown: np.ndarray, lim: float) -> None:
        for (r, c), t in texts.items():
            if shown[r, c]:
                v = values[r, c]
                t.set_text(fmt_fn(v))
                t.set_color(text_color(cm((v + lim) / (2 * lim))))
            else:
                t.set_text("")

    def update(k: int) -> list[Any]:
        st = steps[k]
        i, j = st.pos
        d_patch.set_xy((j - 0.5, i - 0.5))
        for n, patch in enumerate(window_patches):
            p, q = window[n % len(window)]
            patch.set_xy((j + q - 0.5, i + p - 0.5))
        im_dx.set_data(np.ma.masked_array(st.dx, mask=~st.touched))
        set_texts(dx_texts, st.dx, st.touched, lim_dx)
        win = f"[{i}:{i + kh}, {j}:{j + kw}]"
        text = (
            f"step {k + 1}/{len(steps)}:  dout[{i}, {j}] = {fmt_fn(st.g)},   "
            f"dx{win} += {paren(st.g)}·w"
        )
        changed = [d_patch, *window_patches, im_dx, caption, *dx_texts.values()]
        if im_dw is not None:
            im_dw.set_data(st.dw)
            set_texts(dw_texts, st.dw, np.ones(st.dw.shape, dtype=bool), lim_dw)
            text += f",   dw += {paren(st.g)}·x{win}"
            changed += [im_dw, *dw_texts.values()]
        caption.set_text(text)
        return changed

    update(0)
    return FuncAnimation(fig, update, frames=len(steps), interval=interval, blit=False)
