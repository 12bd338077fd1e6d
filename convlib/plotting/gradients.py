"""Figures for the chain rule and for gradient checking (chapters 1 and 2).

* :func:`plot_computational_graph` draws a small computational graph with the
  forward value written above each edge and the backward gradient below it.
* :func:`finite_difference_errors` measures how far a finite-difference
  derivative lands from the true one, for a range of step sizes, in a given
  floating-point type; :func:`plot_step_size_errors` draws those errors on
  log-log axes (the V-shaped curve: truncation error on the right, rounding
  error on the left).
* :func:`plot_kink` shows why a centered difference straddling a kink (ReLU
  at 0) estimates the wrong slope.

Every function returns the ``Figure`` it made; the numbers drawn are the
numbers passed in (or computed here), so the tests can compare them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch

from .._checks import as_numeric_array

__all__ = [
    "plot_computational_graph",
    "finite_difference_errors",
    "plot_step_size_errors",
    "plot_kink",
]

_VALUE_COLOR = "#1f6f3f"  # forward values: dark green
_GRAD_COLOR = "#b2182b"  # backward gradients: dark red
_NODE_RADIUS = 0.32


def _fmt(v: float | None) -> str:
    """Short text for a number on an edge (``""`` for ``None``)."""
    if v is None:
        return ""
    return f"{float(v):.6g}"


def plot_computational_graph(
    nodes: Mapping[str, tuple[float, float, str]],
    edges: Sequence[tuple[str, str, float | None, float | None]],
    *,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Draw a computational graph with forward values and backward gradients.

    Each node is a circle with a short label (a variable name such as ``x``,
    or an operation such as ``+``). Each edge is an arrow in the direction of
    the forward pass; the value that travels along it in the forward pass is
    written above the arrow (green) and the gradient of the loss with respect
    to that value, which travels the other way in the backward pass, below it
    (red).

    Parameters
    ----------
    nodes : mapping of str to (float, float, str)
        ``name -> (x position, y position, label)``; positions are in data
        units (a spacing of about 1.5 between nodes reads well).
    edges : sequence of (str, str, float or None, float or None)
        ``(source name, target name, forward value, gradient)``. ``None``
        leaves that annotation out.
    title : str, optional
    figsize : (float, float), optional
        Default: from the extent of the node positions.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; one ``Circle`` patch per node, one ``FancyArrowPatch`` per
        edge, one text per node label and one per annotation.

    Raises
    ------
    ValueError
        If ``nodes`` is empty or an edge names a node that does not exist.
    """
    if len(nodes) == 0:
        raise ValueError("nodes must not be empty")
    for k, edge in enumerate(edges):
        if len(edge) != 4:
            raise ValueError(f"edges[{k}] must be (source, target, value, gradient), got {edge!r}")
        for end in edge[:2]:
            if end not in nodes:
                raise ValueError(f"edges[{k}] refers to node {end!r}, not among {sorted(nodes)}")
    xs = np.array([float(p[0]) for p in nodes.values()])
    ys = np.array([float(p[1]) for p in nodes.values()])
    pad = 0.8
    x0, x1 = xs.min() - pad, xs.max() + pad
    y0, y1 = ys.min() - pad, ys.max() + pad
    if figsize is None:
        figsize = (max(4.0, 1.2 * (x1 - x0)), max(2.0, 1.2 * (y1 - y0)))
    fig, ax = plt.subplots(figsize=figsize, dpi=100)

    for x, y, label in nodes.values():
        ax.add_patch(
            Circle((x, y), _NODE_RADIUS, facecolor="#f3f3f3", edgecolor="black", lw=1.2, zorder=2)
        )
        ax.text(x, y, label, ha="center", va="center", fontsize=13, zorder=3)

    for src, dst, value, grad in edges:
        xa, ya = nodes[src][0], nodes[src][1]
        xb, yb = nodes[dst][0], nodes[dst][1]
        dx, dy = xb - xa, yb - ya
        length = float(np.hypot(dx, dy)) or 1.0
        ux, uy = dx / length, dy / length
        # the arrow runs from circle edge to circle edge
        arrow = FancyArrowPatch(
            (xa + _NODE_RADIUS * ux, ya + _NODE_RADIUS * uy),
            (xb - _NODE_RADIUS * ux, yb - _NODE_RADIUS * uy),
            arrowstyle="-|>",
            mutation_scale=14,
            lw=1.2,
            color="0.25",
            shrinkA=0,
            shrinkB=0,
            zorder=1,
        )
        ax.add_patch(arrow)
        # unit normal of the edge, pointing "up" (or left for vertical edges)
        nx, ny = -uy, ux
        if ny < 0 or (ny == 0 and nx > 0):
            nx, ny = -nx, -ny
        mx, my = (xa + xb) / 2, (ya + yb) / 2
        off = 0.17
        if value is not None:
            ax.text(
                mx + off * nx,
                my + off * ny,
                _fmt(value),
                color=_VALUE_COLOR,
                ha="center",
                va="center",
                fontsize=11,
                fontweight="bold",
            )
        if grad is not None:
            ax.text(
                mx - off * nx,
                my - off * ny,
                _fmt(grad),
                color=_GRAD_COLOR,
                ha="center",
                va="center",
                fontsize=11,
            )

    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    fig.text(0.01, 0.01, "forward value (above)", color=_VALUE_COLOR, fontsize=9, ha="left")
    fig.text(0.99, 0.01, "gradient of the loss (below)", color=_GRAD_COLOR, fontsize=9, ha="right")
    fig.tight_layout()
    return fig


def finite_difference_errors(
    f: Callable[[np.ndarray], np.ndarray],
    df: Callable[[np.ndarray], np.ndarray],
    x: Any,
    steps: Any,
    *,
    dtype: Any = np.float64,
    scheme: str = "centered",
) -> np.ndarray:
    """Mean absolute error of a finite-difference derivative, per step size.

    For every step ``h`` in ``steps``, the derivative of the element-wise
    function ``f`` is estimated at every point of ``x``, with all arithmetic
    in ``dtype``::

        forward:   (f(x + h) - f(x)) / h
        centered:  (f(x + h) - f(x - h)) / (2 h)

    and compared (in float64) with the exact derivative ``df(x)``.

    Parameters
    ----------
    f : callable
        Element-wise function that keeps the dtype of its argument (a NumPy
        ufunc such as ``np.sin``).
    df : callable
        Its exact derivative, evaluated in float64.
    x : array_like, shape (P,)
        Points at which to differentiate; the error is averaged over them,
        which smooths the jagged rounding error without moving the curve.
    steps : array_like, shape (S,)
        Positive step sizes.
    dtype : numpy float dtype
        ``np.float32`` or ``np.float64``: the precision of the arithmetic.
    scheme : {"centered", "forward"}

    Returns
    -------
    ndarray, shape (S,)
        ``mean_p |estimate_p(h) - df(x_p)|`` for each step ``h``.

    Raises
    ------
    ValueError
        For an unknown scheme, an empty ``x`` or a step that is not positive.
    TypeError
        If ``dtype`` is not a floating-point type.
    """
    if scheme not in ("centered", "forward"):
        raise ValueError(f"scheme must be 'centered' or 'forward', got {scheme!r}")
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"dtype must be a floating-point type, got {dt}")
    x = as_numeric_array("x", x).astype(np.float64).ravel()
    steps = as_numeric_array("steps", steps).astype(np.float64).ravel()
    if x.size == 0:
        raise ValueError("x must hold at least one point")
    if steps.size == 0 or not np.all(steps > 0):
        raise ValueError(f"steps must be positive, got {steps}")
    exact = np.asarray(df(x), dtype=np.float64)
    xt = x.astype(dt)
    errors = np.empty(steps.size)
    for k, h in enumerate(steps):
        ht = dt.type(h)
        if scheme == "forward":
            est = (f(xt + ht) - f(xt)) / ht
        else:
            est = (f(xt + ht) - f(xt - ht)) / (dt.type(2) * ht)
        errors[k] = np.mean(np.abs(np.asarray(est, dtype=np.float64) - exact))
    return errors


def plot_step_size_errors(
    steps: Any,
    errors: Mapping[str, Any],
    *,
    optima: Mapping[str, float] | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (7.0, 4.2),
) -> Figure:
    """Error of finite differences against the step size, on log-log axes.

    Parameters
    ----------
    steps : array_like, shape (S,)
        Step sizes (the x-axis).
    errors : mapping of str to array_like, each shape (S,)
        ``label -> errors``, one line per entry (e.g. from
        :func:`finite_difference_errors`). The minimum of each line is marked
        with a dot.
    optima : mapping of str to float, optional
        ``label -> step`` drawn as dotted vertical lines (the predicted best
        steps, such as ``eps ** (1/3)``).
    title : str, optional
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
        One axes with log scales; ``len(errors)`` solid lines, the same number
        of minimum markers, and one dotted line per entry of ``optima``.

    Raises
    ------
    ValueError
        If a line's length differs from ``len(steps)``.
    """
    steps = as_numeric_array("steps", steps).astype(np.float64).ravel()
    fig, ax = plt.subplots(figsize=figsize, dpi=100)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (label, err) in enumerate(errors.items()):
        err = as_numeric_array(f"errors[{label!r}]", err).astype(np.float64).ravel()
        if err.shape != steps.shape:
            raise ValueError(
                f"errors[{label!r}] has shape {err.shape} but steps has shape {steps.shape}"
            )
        color = colors[k % len(colors)]
        # a zero error (exact by luck) cannot be drawn on log axes
        shown = np.where(err > 0, err, np.nan)
        ax.plot(steps, shown, "-", color=color, lw=1.6, label=label)
        i = int(np.nanargmin(shown))
        ax.plot([steps[i]], [shown[i]], "o", color=color, ms=6, zorder=3)
    if optima:
        for label, h in optima.items():
            ax.axvline(float(h), color="0.4", ls=":", lw=1.2)
            ax.annotate(
                label,
                (float(h), 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(2, -4),
                textcoords="offset points",
                rotation=90,
                va="top",
                ha="left",
                fontsize=9,
                color="0.3",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("step size $h$")
    ax.set_ylabel("mean absolute error of $f'$")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_kink(
    f: Callable[[np.ndarray], np.ndarray],
    df: Callable[[np.ndarray], np.ndarray],
    x0: float,
    h: float,
    *,
    xlim: tuple[float, float] | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (5.0, 3.4),
) -> Figure:
    """A centered difference across a kink: secant versus true slope.

    Draws ``f`` near ``x0``, the two points ``x0 - h`` and ``x0 + h`` the
    centered difference evaluates, the secant through them (whose slope is
    the numerical derivative) and the tangent at ``x0`` with the analytic
    slope ``df(x0)``.

    Parameters
    ----------
    f : callable
        Scalar function of one variable, vectorized over arrays.
    df : callable
        Its derivative (the one a backward pass would return).
    x0 : float
        Point of differentiation.
    h : float
        Step of the centered difference, positive.
    xlim : (float, float), optional
        Range of the plot; default ``x0 +- 3 h``.
    title : str, optional
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
        One axes with three lines, in order: the function, the secant and
        the tangent; and one scatter of the two evaluation points.

    Raises
    ------
    ValueError
        If ``h`` is not positive or ``xlim`` is not increasing.
    """
    if not h > 0:
        raise ValueError(f"h must be positive, got {h}")
    if xlim is None:
        xlim = (x0 - 3 * h, x0 + 3 * h)
    if not xlim[0] < xlim[1]:
        raise ValueError(f"xlim must be increasing, got {xlim}")
    t = np.linspace(xlim[0], xlim[1], 401)
    fp, fm = float(f(np.asarray(x0 + h))), float(f(np.asarray(x0 - h)))
    f0 = float(f(np.asarray(x0)))
    secant = (fp - fm) / (2 * h)
    tangent = float(df(np.asarray(x0)))
    fig, ax = plt.subplots(figsize=figsize, dpi=100)
    ax.plot(t, f(t), color="black", lw=2, label="$f$")
    ax.plot(
        t,
        fm + secant * (t - (x0 - h)),
        "--",
        color=_GRAD_COLOR,
        lw=1.5,
        label=f"secant (numerical): slope {secant:.3g}",
    )
    ax.plot(
        t,
        f0 + tangent * (t - x0),
        ":",
        color=_VALUE_COLOR,
        lw=1.8,
        label=f"tangent (analytic): slope {tangent:.3g}",
    )
    ax.scatter([x0 - h, x0 + h], [fm, fp], color=_GRAD_COLOR, zorder=3)
    ax.axvline(x0, color="0.6", lw=0.8)
    ax.set_xlim(*xlim)
    ax.set_xlabel("$x$")
    ax.legend(fontsize=8, loc="upper left")
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig
