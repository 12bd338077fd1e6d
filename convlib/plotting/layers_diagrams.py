"""Figures for the activations, the softmax loss and pooling (chapters 8 and 9).

Every number drawn here comes out of convlib's own layers, so a picture can
only be as right as the code it illustrates:

* :func:`activation_values` -- an activation and its derivative on a grid,
  from convlib's ``*_forward`` and ``*_backward`` (with ``dout = 1``);
  :func:`activations_figure` draws them, one panel per activation, with the
  value the backward pass uses at a kink marked.
* :func:`softmax_jacobian` and :func:`softmax_gradient_figure` -- the
  probabilities of one row of logits, the Jacobian
  ``diag(p) - p p^T`` of the softmax, and the gradient ``p - y`` that
  :func:`convlib.losses.softmax_cross_entropy` returns.
* :func:`saturation_curves` and :func:`loss_saturation_figure` -- cross-entropy
  and mean squared error on the softmax output, and their gradients, as the
  logit of the true class moves from very wrong to very right.
* :func:`pool_windows` and :func:`pooling_figure` -- the windows of a pooling
  layer on a single-channel input, the output, and (given an upstream
  gradient) the input gradient from convlib's backward pass, with an arrow
  from every output pixel to the input pixel its gradient goes to.

Every figure function returns its :class:`matplotlib.figure.Figure` already
closed in pyplot: show it as the last expression of a notebook cell; it is
never shown twice and never accumulates in pyplot's list of open figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import ConnectionPatch, Rectangle

from .._checks import as_int, as_numeric_array, check_ndim
from ..activations import (
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from ..losses import mse_loss, softmax, softmax_cross_entropy
from ..pooling import (
    Pool2DCache,
    avgpool2d_backward,
    avgpool2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)
from .primitives import (
    GRAD_CMAP,
    draw_array,
    new_figure as _new_figure,
    symmetric_limit as _symmetric_limit,
)

__all__ = [
    "ACTIVATIONS",
    "activation_values",
    "activations_figure",
    "softmax_jacobian",
    "softmax_gradient_figure",
    "saturation_curves",
    "loss_saturation_figure",
    "PoolWindow",
    "pool_windows",
    "pooling_figure",
]

#: The activations :func:`activation_values` knows, in the order they are drawn.
ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh")
_TITLES = {"relu": "ReLU", "leaky_relu": "leaky ReLU", "sigmoid": "sigmoid", "tanh": "tanh"}
#: Activations with a kink at 0, where the backward pass has to pick a slope.
_KINKED = ("relu", "leaky_relu")
_F_COLOR = "#1f4e79"
_DF_COLOR = "#c55a11"
_TRUE_COLOR = "#2e7d32"
_OTHER_COLOR = "#7f7f7f"


# --------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------


def activation_values(name: str, x: Any, alpha: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """An activation and its derivative, computed by convlib's layers.

    Parameters
    ----------
    name : {"relu", "leaky_relu", "sigmoid", "tanh"}
        Which activation.
    x : array_like, any shape
        Where to evaluate.
    alpha : float
        Negative slope of the leaky ReLU (ignored by the others).

    Returns
    -------
    y : ndarray, shape of x
        ``f(x)`` from ``<name>_forward``.
    dydx : ndarray, shape of x
        ``f'(x)``: ``<name>_backward`` with an upstream gradient of ones (at a
        kink, the slope the backward pass uses there).

    Examples
    --------
    >>> y, dy = activation_values("relu", [-1.0, 0.0, 2.0])
    >>> y.tolist(), dy.tolist()
    ([0.0, 0.0, 2.0], [0.0, 0.0, 1.0])
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"name must be one of {ACTIVATIONS}, got {name!r}")
    x = as_numeric_array("x", x).astype(np.float64)
    if name == "relu":
        y, cache = relu_forward(x)
        return y, relu_backward(np.ones_like(y), cache)
    if name == "leaky_relu":
        y, cache = leaky_relu_forward(x, alpha)
        return y, leaky_relu_backward(np.ones_like(y), cache)
    if name == "sigmoid":
        y, cache = sigmoid_forward(x)
        return y, sigmoid_backward(np.ones_like(y), cache)
    y, cache = tanh_forward(x)
    return y, tanh_backward(np.ones_like(y), cache)


def activations_figure(
    names: Sequence[str] = ACTIVATIONS,
    *,
    x_range: tuple[float, float] = (-4.0, 4.0),
    num: int = 401,
    alpha: float = 0.1,
    dpi: float = 100,
) -> Figure:
    """Each activation (solid) and its derivative (dashed), one panel each.

    The values come from :func:`activation_values`. For the activations with
    a kink at 0 (ReLU, leaky ReLU) the derivative is drawn on each side of
    the kink separately, and a dot marks the value the backward pass uses at
    exactly 0.

    Parameters
    ----------
    names : sequence of str
        Activations to draw (see :data:`ACTIVATIONS`).
    x_range : (float, float)
        Interval of the horizontal axis; must contain 0.
    num : int
        Number of grid points (at least 3).
    alpha : float
        Negative slope of the leaky ReLU (large enough to be seen: 0.1).
    dpi : float
        Figure resolution.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per name. Each holds a line ``gid="f"`` (the function on the
        whole grid), one or two lines ``gid="df"`` (the derivative; two for a
        kinked activation, left and right of 0, without 0 itself) and, for a
        kinked activation, a marker line ``gid="df0"`` at ``(0, f'(0))``.
    """
    names = list(names)
    if not names:
        raise ValueError("names must list at least one activation")
    for n in names:
        if n not in ACTIVATIONS:
            raise ValueError(f"unknown activation {n!r} in names; choose from {ACTIVATIONS}")
    lo, hi = (float(v) for v in x_range)
    if not lo < 0 < hi:
        raise ValueError(f"x_range must contain 0 strictly inside, got {x_range}")
    num = as_int("num", num, 3)
    x = np.linspace(lo, hi, num)
    fig = _new_figure(figsize=(2.6 * len(names), 2.6), dpi=dpi)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        y, dy = activation_values(name, x, alpha)
        ax.axhline(0, color="0.8", lw=0.8, zorder=0)
        ax.axvline(0, color="0.8", lw=0.8, zorder=0)
        ax.plot(x, y, color=_F_COLOR, lw=2, label="$f(x)$", gid="f")
        if name in _KINKED:
            for side in (x < 0, x > 0):
                ax.plot(
                    x[side],
                    dy[side],
                    color=_DF_COLOR,
                    lw=2,
                    ls="--",
                    gid="df",
                    label="$f'(x)$" if side[0] else None,
                )
            _, d0 = activation_values(name, np.zeros(1), alpha)
            ax.plot(
                [0.0], d0, "o", color=_DF_COLOR, ms=6, gid="df0", label=f"backward at 0: {d0[0]:g}"
            )
        else:
            ax.plot(x, dy, color=_DF_COLOR, lw=2, ls="--", label="$f'(x)$", gid="df")
        title = _TITLES[name] + (f" ($\\alpha$ = {alpha:g})" if name == "leaky_relu" else "")
        ax.set_title(title, fontsize=10)
        ax.set_xlim(lo, hi)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=7, loc="upper left", frameon=False)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------
# Softmax and its losses
# --------------------------------------------------------------------------


def softmax_jacobian(p: Any) -> np.ndarray:
    """The Jacobian of the softmax at the probabilities ``p``: ``diag(p) - p p^T``.

    Entry ``(i, j)`` is ``d p_i / d z_j = p_i (delta_ij - p_j)``.

    Parameters
    ----------
    p : array_like, shape (K,)
        Softmax probabilities of one row of logits.

    Returns
    -------
    ndarray, shape (K, K)
        Symmetric; every row and every column sums to 0.
    """
    p = as_numeric_array("p", p).astype(np.float64)
    check_ndim("p", p, 1, "(K,)")
    if p.size == 0:
        raise ValueError("p must not be empty")
    return np.diag(p) - np.outer(p, p)


def _bars(ax: Axes, values: np.ndarray, label: int, title: str, gid: str) -> None:
    k = values.size
    colors = [_TRUE_COLOR if i == label else _OTHER_COLOR for i in range(k)]
    ax.bar(np.arange(k), values, color=colors, gid=gid)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(np.arange(k))
    ax.set_xlabel("class", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.set_title(title, fontsize=10)


def softmax_gradient_figure(logits: Any, label: int, *, dpi: float = 100) -> Figure:
    """Probabilities, softmax Jacobian and cross-entropy gradient of one example.

    Parameters
    ----------
    logits : array_like, shape (K,)
        One row of logits.
    label : int
        The true class, in ``[0, K)``.
    dpi : float
        Figure resolution.

    Returns
    -------
    matplotlib.figure.Figure
        Three Axes: bars of ``p = softmax(logits)`` (``gid="p"``, the true
        class in green; titled with the book's y-hat); the Jacobian ``diag(p) - p p^T`` as an annotated
        grid (one image); bars of ``dlogits = p - onehot(label)``
        (``gid="dlogits"``) from :func:`convlib.losses.softmax_cross_entropy`.
    """
    z = as_numeric_array("logits", logits).astype(np.float64)
    check_ndim("logits", z, 1, "(K,)")
    k = z.size
    label = as_int("label", label, 0)
    if label >= k:
        raise ValueError(f"label must lie in [0, {k}) for {k} logits, got {label}")
    p = softmax(z)
    jac = softmax_jacobian(p)
    _, dlogits = softmax_cross_entropy(z[None, :], np.array([label]))
    fig = _new_figure(figsize=(3.0 + 0.45 * k + 5.2, 2.8), dpi=dpi)
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.0, 1.1, 1.0]})
    _bars(axes[0], p, label, "$\\hat y = \\mathrm{softmax}(z)$", "p")
    axes[0].set_ylim(0, 1)
    lim = _symmetric_limit(jac)
    draw_array(
        axes[1],
        jac,
        fmt="{:.2f}",
        cmap=GRAD_CMAP,
        vmin=-lim,
        vmax=lim,
        title=r"$\partial \hat y_k / \partial z_{k'} = \mathrm{diag}(\hat y) - \hat y\,\hat y^{\top}$",
        fontsize=7 if k > 4 else 8,
    )
    axes[1].set_axis_on()
    axes[1].set_xticks(np.arange(k))
    axes[1].set_yticks(np.arange(k))
    axes[1].tick_params(labelsize=8, length=0)
    axes[1].set_xlabel("$k'$", fontsize=8)
    axes[1].set_ylabel("$k$", fontsize=8)
    for spine in axes[1].spines.values():
        spine.set_visible(False)
    _bars(axes[2], dlogits[0], label, "$\\partial L / \\partial z = \\hat y - \\tau$", "dlogits")
    axes[2].set_ylim(-1, 1)
    fig.tight_layout()
    return fig


def saturation_curves(t: Any, num_classes: int = 3) -> dict[str, np.ndarray]:
    """Cross-entropy and squared error of a softmax, as the true logit varies.

    Example ``m`` has logits ``(t[m], 0, ..., 0)`` and true class 0, so
    ``t`` very negative is a confident wrong answer and ``t`` very positive a
    confident right one. Both losses are computed by convlib on one example
    at a time:

    * ``ce``: :func:`convlib.losses.softmax_cross_entropy`, and its gradient
      with respect to ``t``;
    * ``mse``: :func:`convlib.losses.mse_loss` of ``softmax(z)`` against the
      one-hot target, and its gradient with respect to ``t``, carried back
      through the softmax with the Jacobian ``diag(p) - p p^T``.

    Parameters
    ----------
    t : array_like, shape (M,)
        Values of the true class's logit.
    num_classes : int
        Number of classes ``K`` (at least 2).

    Returns
    -------
    dict of str to ndarray, each shape (M,)
        ``"t"``, ``"p"`` (probability of the true class), ``"ce"``,
        ``"dce"``, ``"mse"``, ``"dmse"``.
    """
    t = as_numeric_array("t", t).astype(np.float64)
    check_ndim("t", t, 1, "(M,)")
    k = as_int("num_classes", num_classes, 2)
    target = np.zeros(k)
    target[0] = 1.0
    keys = ("p", "ce", "dce", "mse", "dmse")
    res = {key: np.empty_like(t) for key in keys}
    for m, tm in enumerate(t):
        z = np.zeros(k)
        z[0] = tm
        ce, dz = softmax_cross_entropy(z[None, :], np.array([0]))
        p = softmax(z)
        mse, dp = mse_loss(p, target)
        dz_mse = softmax_jacobian(p).T @ dp
        for key, v in zip(keys, (p[0], ce, dz[0, 0], mse, dz_mse[0])):
            res[key][m] = v
    res["t"] = t
    return res


def loss_saturation_figure(
    t_range: tuple[float, float] = (-8.0, 8.0),
    num: int = 161,
    num_classes: int = 3,
    *,
    dpi: float = 100,
) -> Figure:
    """Cross-entropy against squared error on a softmax, loss and gradient.

    Parameters
    ----------
    t_range : (float, float)
        Range of the true class's logit (the other logits are 0).
    num : int
        Number of points.
    num_classes : int
        Number of classes.
    dpi : float
        Figure resolution.

    Returns
    -------
    matplotlib.figure.Figure
        Two Axes: the losses (lines ``gid="ce"`` and ``gid="mse"``) and their
        derivatives with respect to the true logit (``gid="dce"`` and
        ``gid="dmse"``), from :func:`saturation_curves`.
    """
    lo, hi = (float(v) for v in t_range)
    if not lo < hi:
        raise ValueError(f"t_range must be increasing, got {t_range}")
    num = as_int("num", num, 2)
    c = saturation_curves(np.linspace(lo, hi, num), num_classes)
    fig = _new_figure(figsize=(7.6, 2.8), dpi=dpi)
    ax_l, ax_g = fig.subplots(1, 2)
    ax_l.plot(c["t"], c["ce"], color=_F_COLOR, lw=2, label="cross-entropy", gid="ce")
    ax_l.plot(
        c["t"], c["mse"], color=_DF_COLOR, lw=2, label="squared error of $\\hat y$", gid="mse"
    )
    ax_l.set_title("loss", fontsize=10)
    ax_g.plot(c["t"], c["dce"], color=_F_COLOR, lw=2, label="cross-entropy", gid="dce")
    ax_g.plot(
        c["t"], c["dmse"], color=_DF_COLOR, lw=2, label="squared error of $\\hat y$", gid="dmse"
    )
    ax_g.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax_g.set_title("gradient with respect to the true logit", fontsize=10)
    for ax in (ax_l, ax_g):
        ax.set_xlabel("logit of the true class (the others are 0)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolWindow:
    """One window of a pooling layer on a single-channel input.

    Attributes
    ----------
    out : (int, int)
        Output pixel ``(i, j)``.
    rows, cols : (int, int)
        Half-open ranges ``[start, stop)`` of the window in the *padded*
        input.
    winner : (int, int) or None
        Max pooling: the input pixel (unpadded coordinates) that was the
        window's maximum, as recorded in convlib's cache; ``None`` for
        average pooling.
    """

    out: tuple[int, int]
    rows: tuple[int, int]
    cols: tuple[int, int]
    winner: tuple[int, int] | None


def pool_windows(cache: Pool2DCache) -> list[PoolWindow]:
    """The windows of a pooling forward pass on one single-channel image.

    Parameters
    ----------
    cache : Pool2DCache
        From a convlib pooling forward pass on an input of shape
        ``(1, H, W, 1)``.

    Returns
    -------
    list of PoolWindow
        In row-major order of the output pixels.
    """
    if not isinstance(cache, Pool2DCache):
        raise TypeError(f"cache must be a Pool2DCache, got {type(cache).__name__}")
    n, _, _, c = cache.x_shape
    if n != 1 or c != 1:
        raise ValueError(
            f"pool_windows draws one single-channel image, got x of shape {cache.x_shape}"
        )
    _, oh, ow, _ = cache.out_shape
    (ph, pw), (sh, sw) = cache.pool_size, cache.stride
    (top, _), (left, _) = cache.pads
    windows = []
    for i in range(oh):
        for j in range(ow):
            winner = None
            if cache.mode == "max":
                assert cache.argmax is not None  # a max-pooling cache holds it
                p, q = divmod(int(cache.argmax[0, i, j, 0]), pw)
                winner = (i * sh + p - top, j * sw + q - left)
            windows.append(PoolWindow((i, j), (i * sh, i * sh + ph), (j * sw, j * sw + pw), winner))
    return windows


def _window_colors(n: int) -> list[tuple[float, float, float, float]]:
    cmap = colormaps["tab10"]
    return [cmap(k % 10) for k in range(n)]


def _outline(
    ax: Axes,
    r0: float,
    r1: float,
    c0: float,
    c1: float,
    color: Any,
    inset: float,
    gid: str,
    lw: float = 2.0,
) -> None:
    """Outline the cells of rows [r0, r1) and columns [c0, c1)."""
    ax.add_patch(
        Rectangle(
            (c0 - 0.5 + inset, r0 - 0.5 + inset),
            c1 - c0 - 2 * inset,
            r1 - r0 - 2 * inset,
            fill=False,
            edgecolor=color,
            linewidth=lw,
            zorder=5,
            gid=gid,
        )
    )


class _Limits(TypedDict):
    vmin: float
    vmax: float


def _pale_limits(a: np.ndarray) -> _Limits:
    """Colour limits that keep every finite value of ``a`` in the pale fifth of a map."""
    finite = a[np.isfinite(a)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    span = hi - lo if hi > lo else 1.0
    return {"vmin": lo, "vmax": hi + 4 * span}


def _fill_cell(ax: Axes, r: int, c: int, color: Any, gid: str) -> None:
    ax.add_patch(
        Rectangle(
            (c - 0.5, r - 0.5),
            1,
            1,
            facecolor=color,
            alpha=0.35,
            edgecolor="none",
            zorder=3,
            gid=gid,
        )
    )


def pooling_figure(
    x: Any,
    pool_size: Any,
    stride: Any = None,
    padding: Any = 0,
    *,
    mode: str = "max",
    dout: Any = None,
    fmt: str = "{:g}",
    cell: float = 0.42,
    dpi: float = 100,
) -> Figure:
    """A pooling layer on a small single-channel input, forward and backward.

    The output is computed by :func:`convlib.pooling.maxpool2d_forward` or
    :func:`~convlib.pooling.avgpool2d_forward`; with ``dout``, the input
    gradient by the matching backward pass.

    Parameters
    ----------
    x : array_like, shape (H, W)
        One single-channel input.
    pool_size, stride, padding
        As in :func:`convlib.pooling.maxpool2d_forward`.
    mode : {"max", "avg"}
        Which pooling.
    dout : array_like, shape (OH, OW), optional
        Upstream gradient. If given, two more panels show it and the input
        gradient ``dx``.
    fmt : str
        Number format of the cells.
    cell : float
        Side of one cell in inches.
    dpi : float
        Figure resolution.

    Returns
    -------
    matplotlib.figure.Figure
        Axes, left to right: the padded input (padding hatched and blank),
        every window outlined in its own colour (``gid="window"``) and, for
        max pooling, each window's maximum tinted (``gid="winner"``); the
        output, each pixel outlined in its window's colour
        (``gid="out_cell"``); with ``dout``: the upstream gradient (outlined
        the same way) and ``dx`` (in a blue-white-red map). For max pooling
        an arrow (a ``ConnectionPatch`` in ``fig.artists``, ``gid="route"``)
        runs from every pixel of ``dout`` to the pixel of ``dx`` that
        receives it; for average pooling the windows are outlined on ``dx``.
        Each panel holds one image whose data is the array drawn.
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    x = as_numeric_array("x", x).astype(np.float64)
    check_ndim("x", x, 2, "(H, W)")
    forward, backward = (
        (maxpool2d_forward, maxpool2d_backward)
        if mode == "max"
        else (avgpool2d_forward, avgpool2d_backward)
    )
    out4, cache = forward(x[None, :, :, None], pool_size, stride, padding)
    out = out4[0, :, :, 0]
    windows = pool_windows(cache)
    (top, bottom), (left, right) = cache.pads
    h, w = x.shape
    xp = np.full((h + top + bottom, w + left + right), np.nan)
    xp[top : top + h, left : left + w] = x

    shapes = [xp.shape, out.shape]
    dx = None
    if dout is not None:
        d = as_numeric_array("dout", dout).astype(np.float64)
        if d.shape != out.shape:
            raise ValueError(f"dout must have the output's shape {out.shape}, got {d.shape}")
        dx = backward(d[None, :, :, None], cache)[0, :, :, 0]
        shapes += [d.shape, dx.shape]

    gap = 0.7
    width = sum(s[1] for s in shapes) * cell + gap * (len(shapes) + 1)
    height = max(s[0] for s in shapes) * cell + 0.8
    fig = _new_figure(figsize=(width, height), dpi=dpi)
    axes = fig.subplots(1, len(shapes), gridspec_kw={"width_ratios": [s[1] for s in shapes]})
    colors = _window_colors(len(windows))
    n_overlap = (
        1 if cache.stride[0] >= cache.pool_size[0] and cache.stride[1] >= cache.pool_size[1] else 2
    )

    pad_word = "padded with -inf" if mode == "max" else "padding not counted"
    x_title = "input" + (f" ({pad_word})" if top + bottom + left + right else "")
    draw_array(axes[0], xp, pad=cache.pads, fmt=fmt, cmap="Blues", title=x_title, **_pale_limits(x))
    for win, col in zip(windows, colors):
        inset = 0.06 + 0.1 * ((win.out[0] + win.out[1]) % n_overlap)
        _outline(axes[0], *win.rows, *win.cols, col, inset, "window")
        if win.winner is not None:
            _fill_cell(axes[0], win.winner[0] + top, win.winner[1] + left, col, "winner")

    ph, pw = cache.pool_size
    sh, sw = cache.stride
    draw_array(axes[1], out, fmt=fmt, cmap="Greens", title="output", **_pale_limits(out))
    for win, col in zip(windows, colors):
        _outline(
            axes[1], win.out[0], win.out[0] + 1, win.out[1], win.out[1] + 1, col, 0.08, "out_cell"
        )
    what = "max" if mode == "max" else "average"
    step = f"{sh}" if sh == sw else f"({sh}, {sw})"
    fig.suptitle(f"{what} pooling, window {ph}×{pw}, stride {step}", fontsize=10)

    if dx is not None:
        draw_array(axes[2], d, fmt=fmt, cmap="Greys", title="dout", **_pale_limits(d))
        for win, col in zip(windows, colors):
            _outline(
                axes[2],
                win.out[0],
                win.out[0] + 1,
                win.out[1],
                win.out[1] + 1,
                col,
                0.08,
                "out_cell",
            )
        lim = _symmetric_limit(dx)
        draw_array(axes[3], dx, fmt=fmt, cmap=GRAD_CMAP, vmin=-lim, vmax=lim, title="dx")
        for win, col in zip(windows, colors):
            if win.winner is not None:
                con = ConnectionPatch(
                    xyA=(win.out[1], win.out[0]),
                    coordsA="data",
                    axesA=axes[2],
                    xyB=(win.winner[1], win.winner[0]),
                    coordsB="data",
                    axesB=axes[3],
                    arrowstyle="-|>",
                    color=col,
                    lw=1.4,
                    shrinkA=7,
                    shrinkB=7,
                    mutation_scale=10,
                    zorder=6,
                )
                con.set_gid("route")
                fig.add_artist(con)
            else:
                r0, r1 = max(win.rows[0] - top, 0), min(win.rows[1] - top, h)
                c0, c1 = max(win.cols[0] - left, 0), min(win.cols[1] - left, w)
                inset = 0.06 + 0.1 * ((win.out[0] + win.out[1]) % n_overlap)
                _outline(axes[3], r0, r1, c0, c1, col, inset, "window")
    fig.subplots_adjust(
        left=gap / width,
        right=1 - gap / width,
        bottom=0.1 / height,
        top=1 - 0.6 / height,
        wspace=gap / (cell * float(np.mean([s[1] for s in shapes]))),
    )
    return fig
