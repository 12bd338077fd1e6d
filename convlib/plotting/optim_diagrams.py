"""Figures for the optimizers (chapter 11).

Every curve drawn here is computed by convlib's own optimizers
(:mod:`convlib.optim`), so a picture can only be as right as the code it
illustrates:

* :class:`Surface`, :func:`quadratic_surface` and :func:`rosenbrock_surface`
  -- two-dimensional loss functions with their exact gradients: an
  ill-conditioned quadratic bowl and Rosenbrock's curved valley.
* :func:`run_optimizer` -- hands a single two-element parameter and its
  gradient to any optimizer (``SGD``, ``Adam``, or one written by the
  reader) and records the path it takes: a :class:`Trajectory`.
* :func:`trajectories_figure` -- the paths on a contour plot of the surface,
  next to the loss against the step.
* :func:`adam_bias_factors` and :func:`adam_bias_figure` -- how far Adam's
  moment estimates start below the truth, and the size of the steps with
  and without the bias correction.
* :func:`schedules_figure` -- learning-rate schedules against the step.
* :func:`moving_average` and :func:`loss_curves_figure` -- training-loss
  curves of several optimizers, side by side.
* :func:`lr_sweep_figure` -- final loss against the learning rate, one line
  per optimizer.

Every figure function returns its :class:`matplotlib.figure.Figure` already
closed in pyplot: show it as the last expression of a notebook cell; it is
never shown twice and never accumulates in pyplot's list of open figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .._checks import as_int, as_numeric_array
from ..optim import Adam
from ._figures import new_figure as _new_figure

__all__ = [
    "Surface",
    "quadratic_surface",
    "rosenbrock_surface",
    "Trajectory",
    "run_optimizer",
    "trajectories_figure",
    "adam_bias_factors",
    "adam_bias_figure",
    "schedules_figure",
    "moving_average",
    "loss_curves_figure",
    "lr_sweep_figure",
]

#: Colours of the optimizers, in the order they are usually listed.
COLORS = ("#1f4e79", "#c55a11", "#2e7d32", "#7030a0", "#b8860b", "#7f7f7f")


def _color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def _points(name: str, p: Any) -> np.ndarray:
    """``p`` as a float64 array whose last axis has length 2."""
    arr = np.asarray(as_numeric_array(name, p), dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (..., 2) (points (x, y)), got shape {arr.shape}")
    return arr


def _pair(name: str, value: Any) -> tuple[float, float]:
    """A pair of finite floats ``(lo, hi)`` with ``lo < hi``."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair of numbers (low, high), got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be finite with low < high, got {value!r}")
    return lo, hi


def _nonempty(name: str, mapping: Any) -> Mapping[str, Any]:
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{name} must be a mapping from labels to data, got {type(mapping).__name__}")
    if not mapping:
        raise ValueError(f"{name} is empty: give at least one entry")
    return mapping


# --------------------------------------------------------------------------
# Loss surfaces
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Surface:
    """A loss function of two parameters, with its gradient.

    Attributes
    ----------
    name : str
        Shown as the title of the contour plot.
    value : callable
        ``value(p)``: ``p`` of shape ``(..., 2)`` -> loss, shape ``(...)``.
    grad : callable
        ``grad(p)``: ``p`` of shape ``(..., 2)`` -> gradient, shape ``(..., 2)``.
    minimum : (float, float)
        Where the loss is smallest.
    xlim, ylim : (float, float)
        The window drawn by :func:`trajectories_figure`.
    """

    name: str
    value: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    minimum: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]

    def __call__(self, p: Any) -> np.ndarray:
        """The loss at ``p`` (shape ``(..., 2)``); same as :attr:`value`."""
        return self.value(p)


def quadratic_surface(
    curvatures: tuple[float, float] = (1.0, 20.0),
    xlim: tuple[float, float] = (-11.0, 11.0),
    ylim: tuple[float, float] = (-4.0, 4.0),
) -> Surface:
    """The bowl ``f(x, y) = (a x**2 + b y**2) / 2``.

    Its Hessian is ``diag(a, b)``: with ``b >> a`` the bowl is a long narrow
    valley along ``x`` (condition number ``b / a``), where plain gradient
    descent zig-zags across and crawls along.

    Parameters
    ----------
    curvatures : (float, float)
        ``(a, b)``, both > 0.
    xlim, ylim : (float, float)
        Window for the contour plot.

    Returns
    -------
    Surface
        Minimum 0 at ``(0, 0)``.

    Examples
    --------
    >>> s = quadratic_surface((1.0, 20.0))
    >>> float(s.value([1.0, 1.0])), s.grad([1.0, 1.0]).tolist()
    (10.5, [1.0, 20.0])
    """
    a, b = (float(c) for c in curvatures)
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"curvatures must be two finite positive numbers, got {curvatures!r}")
    xlim, ylim = _pair("xlim", xlim), _pair("ylim", ylim)

    def value(p: Any) -> np.ndarray:
        p = _points("p", p)
        return 0.5 * (a * p[..., 0] ** 2 + b * p[..., 1] ** 2)

    def grad(p: Any) -> np.ndarray:
        p = _points("p", p)
        return p * np.array([a, b])

    return Surface(f"quadratic, curvatures {a:g} and {b:g}", value, grad, (0.0, 0.0), xlim, ylim)


def rosenbrock_surface(
    a: float = 1.0,
    b: float = 100.0,
    xlim: tuple[float, float] = (-2.0, 2.0),
    ylim: tuple[float, float] = (-1.0, 3.0),
) -> Surface:
    """Rosenbrock's function ``f(x, y) = (a - x)**2 + b (y - x**2)**2``.

    A curved, flat-bottomed valley along the parabola ``y = x**2``, steep
    across and nearly flat along, with its minimum 0 at ``(a, a**2)``.

    Parameters
    ----------
    a, b : float
        ``b > 0`` sets how steep the valley walls are.
    xlim, ylim : (float, float)
        Window for the contour plot.

    Returns
    -------
    Surface

    Examples
    --------
    >>> s = rosenbrock_surface()
    >>> float(s.value([1.0, 1.0])), s.grad([0.0, 0.0]).tolist()
    (0.0, [-2.0, 0.0])
    """
    a, b = float(a), float(b)
    if not (math.isfinite(a) and math.isfinite(b) and b > 0):
        raise ValueError(f"a must be finite and b finite and > 0, got a={a}, b={b}")
    xlim, ylim = _pair("xlim", xlim), _pair("ylim", ylim)

    def value(p: Any) -> np.ndarray:
        p = _points("p", p)
        x, y = p[..., 0], p[..., 1]
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(p: Any) -> np.ndarray:
        p = _points("p", p)
        x, y = p[..., 0], p[..., 1]
        r = y - x**2
        return np.stack([-2.0 * (a - x) - 4.0 * b * x * r, 2.0 * b * r], axis=-1)

    return Surface(f"Rosenbrock, a = {a:g}, b = {b:g}", value, grad, (a, a * a), xlim, ylim)


# --------------------------------------------------------------------------
# Running an optimizer on a surface
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Trajectory:
    """The path of one optimizer on a :class:`Surface`.

    Attributes
    ----------
    path : ndarray, shape (steps + 1, 2)
        The parameters before the first step and after every step (fewer
        rows if the run diverged).
    losses : ndarray, shape (steps + 1,)
        The exact loss at every point of ``path``.
    lrs : ndarray, shape (steps,)
        The learning rate the optimizer reports (``optimizer.lr``) after each
        step (NaN if it has no ``lr`` attribute).
    diverged : bool
        True if the parameters overflowed or became NaN; ``path`` stops at
        the last finite point.
    """

    path: np.ndarray
    losses: np.ndarray
    lrs: np.ndarray
    diverged: bool = False

    @property
    def steps(self) -> int:
        """Number of steps taken (rows of ``path`` minus one)."""
        return len(self.path) - 1

    def first_below(self, threshold: float) -> int | None:
        """The first step after which the loss is at most ``threshold`` (None: never).

        Parameters
        ----------
        threshold : float

        Returns
        -------
        int or None
            ``k`` such that ``losses[k] <= threshold`` and no earlier entry is.
        """
        hits = np.flatnonzero(self.losses <= threshold)
        return int(hits[0]) if hits.size else None


def run_optimizer(
    surface: Surface,
    make_optimizer: Callable[[list[tuple[str, np.ndarray, np.ndarray]]], Any],
    start: Any,
    steps: int,
    *,
    noise: float = 0.0,
    seed: int = 0,
) -> Trajectory:
    """Minimise ``surface`` from ``start`` with an optimizer, recording the path.

    The parameter is one float64 array ``p`` of shape ``(2,)`` with a gradient
    array ``g``; the optimizer is built once as
    ``make_optimizer([("p", p, g)])``. Each step writes the gradient at the
    current point into ``g`` (in place, as a layer's backward pass does) and
    calls ``optimizer.step()``, which must update ``p`` in place.

    Parameters
    ----------
    surface : Surface
    make_optimizer : callable
        E.g. ``lambda params: SGD(params, lr=0.05, momentum=0.9)``.
    start : array_like, shape (2,)
    steps : int
        Number of steps, >= 0.
    noise : float
        Standard deviation of Gaussian noise added to every gradient
        coordinate (0: exact gradients), standing in for minibatch noise.
    seed : int
        Seeds the noise.

    Returns
    -------
    Trajectory
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a Surface (e.g. quadratic_surface()), got {type(surface).__name__}")
    if not callable(make_optimizer):
        raise TypeError("make_optimizer must be callable(params) -> optimizer")
    p = _points("start", start).copy()
    if p.shape != (2,):
        raise ValueError(f"start must have shape (2,), got {p.shape}")
    steps = as_int("steps", steps, 0)
    noise = float(noise)
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be finite and >= 0, got {noise}")
    rng = np.random.default_rng(as_int("seed", seed, 0))
    g = np.zeros(2)
    optimizer = make_optimizer([("p", p, g)])
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"make_optimizer returned {type(optimizer).__name__}, which has no step() method")
    path, lrs = [p.copy()], []
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            g[...] = surface.grad(p)
            if noise:
                g += noise * rng.standard_normal(2)
            optimizer.step()
            if not np.all(np.isfinite(p)) or not np.isfinite(surface.value(p)):
                diverged = True
                break
            path.append(p.copy())
            lrs.append(float(getattr(optimizer, "lr", np.nan)))
    arr = np.array(path)
    return Trajectory(arr, np.asarray(surface.value(arr)), np.array(lrs), diverged)


def _contour(ax: Any, surface: Surface, levels: int) -> None:
    """Log-spaced contour lines of ``surface`` over its window."""
    xs = np.linspace(*surface.xlim, 240)
    ys = np.linspace(*surface.ylim, 200)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    z = surface.value(grid)
    top = float(z.max())
    bottom = max(float(z.min()), top * 1e-6)
    lv = np.geomspace(bottom if bottom > 0 else top * 1e-6, top, levels)
    ax.contour(xs, ys, z, levels=lv, colors="0.7", linewidths=0.7)
    ax.plot(*surface.minimum, marker="*", color="black", markersize=12, linestyle="none", gid="minimum")


def trajectories_figure(
    surface: Surface,
    trajectories: Mapping[str, Trajectory],
    *,
    show_losses: bool = True,
    levels: int = 18,
    title: str | None = None,
    marker_every: int = 1,
) -> Figure:
    """The paths of several optimizers on a contour plot of ``surface``.

    Parameters
    ----------
    surface : Surface
    trajectories : mapping of str to Trajectory
        Label (shown in the legend) -> what :func:`run_optimizer` returned.
    show_losses : bool
        Add a second panel: the loss against the step, log scale.
    levels : int
        Number of contour lines (log-spaced).
    title : str, optional
        Default: the surface's name.
    marker_every : int
        Put a dot on every ``marker_every``-th point of each path.

    Returns
    -------
    Figure
        One or two axes. Each path is a line with ``gid="path"`` whose data
        are the trajectory's points; each loss curve a line with
        ``gid="loss"``.
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a Surface, got {type(surface).__name__}")
    trajectories = _nonempty("trajectories", trajectories)
    levels = as_int("levels", levels, 2)
    marker_every = as_int("marker_every", marker_every, 1)
    fig = _new_figure(figsize=(10.5, 4.0) if show_losses else (6.0, 4.2), dpi=100)
    if show_losses:
        ax, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1]})
    else:
        ax, ax_loss = fig.subplots(), None
    _contour(ax, surface, levels)
    for i, (label, tr) in enumerate(trajectories.items()):
        if not isinstance(tr, Trajectory):
            raise TypeError(f"trajectories[{label!r}] must be a Trajectory, got {type(tr).__name__}")
        tag = f"{label} (diverged)" if tr.diverged else label
        ax.plot(
            tr.path[:, 0], tr.path[:, 1], color=_color(i), lw=1.4, marker="o", markersize=2.5,
            markevery=marker_every, label=tag, gid="path",
        )
        if ax_loss is not None:
            ax_loss.semilogy(np.arange(len(tr.losses)), np.maximum(tr.losses, 1e-300),
                             color=_color(i), lw=1.4, label=tag, gid="loss")
    first = next(iter(trajectories.values()))
    ax.plot(*first.path[0], marker="s", color="black", markersize=6, linestyle="none", gid="start")
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.set_title(surface.name if title is None else title, fontsize=10)
    ax.legend(fontsize=8, loc="best")
    if ax_loss is not None:
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("loss")
        ax_loss.set_title("loss against step", fontsize=10)
        ax_loss.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------
# Adam's bias correction
# --------------------------------------------------------------------------


def adam_bias_factors(beta1: float = 0.9, beta2: float = 0.999, steps: int = 3000) -> dict[str, np.ndarray]:
    """Adam's moment estimates for a constant gradient, with and without correction.

    With the same gradient ``g`` at every step, the moving averages
    ``m <- beta1 m + (1 - beta1) g`` and ``v <- beta2 v + (1 - beta2) g**2``
    started at zero are ``m_t = (1 - beta1**t) g`` and
    ``v_t = (1 - beta2**t) g**2``: too small by those factors. Here the
    recursions are run (not the closed forms), and the step of convlib's
    :class:`~convlib.optim.Adam`, which corrects the bias, is measured.

    Parameters
    ----------
    beta1, beta2 : float
        In ``[0, 1)``.
    steps : int
        Number of steps ``t = 1 .. steps``.

    Returns
    -------
    dict of str to ndarray, each of shape (steps,)
        ``"t"``: 1 .. steps; ``"m"``: ``m_t / g``; ``"sqrt_v"``:
        ``sqrt(v_t) / |g|``; ``"uncorrected_step"``: ``m_t / sqrt(v_t)``,
        the step in units of the learning rate without the correction;
        ``"adam_step"``: the step of convlib's Adam in units of the
        learning rate.
    """
    for name, b in (("beta1", beta1), ("beta2", beta2)):
        if not (isinstance(b, (int, float, np.floating)) and 0 <= float(b) < 1):
            raise ValueError(f"{name} must be a number in [0, 1), got {b!r}")
    steps = as_int("steps", steps, 1)
    beta1, beta2 = float(beta1), float(beta2)
    m = v = 0.0
    ms, vs = np.empty(steps), np.empty(steps)
    for k in range(steps):
        m = beta1 * m + (1 - beta1) * 1.0
        v = beta2 * v + (1 - beta2) * 1.0
        ms[k], vs[k] = m, v
    lr = 1e-3
    p, g = np.zeros(1), np.ones(1)
    adam = Adam([(p, g)], lr=lr, betas=(beta1, beta2), eps=1e-12)
    moves = np.empty(steps)
    for k in range(steps):
        before = p[0]
        adam.step()
        moves[k] = (before - p[0]) / lr
    return {
        "t": np.arange(1, steps + 1),
        "m": ms,
        "sqrt_v": np.sqrt(vs),
        "uncorrected_step": ms / np.sqrt(vs),
        "adam_step": moves,
    }


def adam_bias_figure(beta1: float = 0.9, beta2: float = 0.999, steps: int = 3000) -> Figure:
    """Why Adam corrects its moment estimates, for a constant gradient.

    Left: ``m_t / g`` and ``sqrt(v_t) / |g|`` (both start near 0 and creep
    up to 1, ``sqrt(v)`` much more slowly). Right: the step in units of the
    learning rate, without the correction (their ratio, far above 1 early
    on) and as convlib's Adam takes it (1 from the first step).

    Parameters
    ----------
    beta1, beta2 : float
    steps : int

    Returns
    -------
    Figure
        Two axes, log-scaled step axis; lines with gids ``"m"``,
        ``"sqrt_v"``, ``"uncorrected_step"`` and ``"adam_step"`` whose
        y-data are those of :func:`adam_bias_factors`.
    """
    f = adam_bias_factors(beta1, beta2, steps)
    fig = _new_figure(figsize=(10.0, 3.6), dpi=100)
    ax1, ax2 = fig.subplots(1, 2)
    t = f["t"]
    ax1.semilogx(t, f["m"], color=_color(0), lw=1.8, gid="m",
                 label=rf"$m_t / g$ (approaches $1-\beta_1^t$, $\beta_1$ = {beta1:g})")
    ax1.semilogx(t, f["sqrt_v"], color=_color(1), lw=1.8, gid="sqrt_v",
                 label=rf"$\sqrt{{v_t}} / |g|$ ($\sqrt{{1-\beta_2^t}}$, $\beta_2$ = {beta2:g})")
    ax1.axhline(1.0, color="0.5", lw=0.8, ls="--")
    ax1.set_ylim(0, 1.1)
    ax1.set_xlabel("step $t$")
    ax1.set_title("moment estimates started at 0, constant gradient", fontsize=10)
    ax1.legend(fontsize=8, loc="lower right")
    ax2.semilogx(t, f["uncorrected_step"], color=_color(3), lw=1.8, gid="uncorrected_step",
                 label=r"without correction: $m_t / \sqrt{v_t}$")
    ax2.semilogx(t, f["adam_step"], color=_color(2), lw=1.8, gid="adam_step",
                 label=r"convlib's Adam: $\hat m_t / \sqrt{\hat v_t}$")
    ax2.set_ylim(0, max(1.2, 1.1 * float(f["uncorrected_step"].max())))
    ax2.set_xlabel("step $t$")
    ax2.set_ylabel("step size / learning rate")
    ax2.set_title("size of the step", fontsize=10)
    ax2.legend(fontsize=8, loc="upper right")
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------
# Learning-rate schedules
# --------------------------------------------------------------------------


def schedules_figure(schedules: Mapping[str, Callable[[int], float]], steps: int) -> Figure:
    """Learning rate against the step for a few schedules.

    Parameters
    ----------
    schedules : mapping of str to callable
        Label -> ``schedule(t) -> lr`` (e.g. :class:`convlib.optim.CosineLR`).
    steps : int
        Steps ``t = 0 .. steps - 1`` are drawn.

    Returns
    -------
    Figure
        One axes; a line per schedule with ``gid="schedule"``, x-data
        ``0 .. steps - 1`` and y-data ``schedule(t)``.
    """
    schedules = _nonempty("schedules", schedules)
    steps = as_int("steps", steps, 1)
    fig = _new_figure(figsize=(7.0, 3.2), dpi=100)
    ax = fig.subplots()
    t = np.arange(steps)
    for i, (label, sched) in enumerate(schedules.items()):
        if not callable(sched):
            raise TypeError(f"schedules[{label!r}] must be callable(t) -> lr")
        ax.plot(t, [float(sched(int(k))) for k in t], color=_color(i), lw=1.8, label=label, gid="schedule")
    ax.set_xlabel("step $t$")
    ax.set_ylabel("learning rate")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------
# Training curves
# --------------------------------------------------------------------------


def moving_average(values: Any, window: int) -> np.ndarray:
    """Trailing mean: entry ``i`` is the mean of ``values[max(0, i - window + 1) : i + 1]``.

    Parameters
    ----------
    values : array_like, shape (n,)
    window : int
        >= 1; the first ``window - 1`` entries average fewer values.

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> moving_average([1.0, 3.0, 5.0, 7.0], 2).tolist()
    [1.0, 2.0, 4.0, 6.0]
    """
    x = np.asarray(as_numeric_array("values", values), dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {x.shape}")
    window = as_int("window", window, 1)
    c = np.concatenate([[0.0], np.cumsum(x)])
    i = np.arange(1, len(x) + 1)
    lo = np.maximum(i - window, 0)
    return (c[i] - c[lo]) / (i - lo)


def loss_curves_figure(
    curves: Mapping[str, Any],
    *,
    smooth: int = 10,
    xlabel: str = "step",
    ylabel: str = "training loss (minibatch)",
) -> Figure:
    """Loss curves of several runs, one panel each, side by side.

    Each panel shows its run's raw per-step losses (faint), their moving
    average (bold), and the moving averages of the other runs in grey for
    comparison. The panels share their axes.

    Parameters
    ----------
    curves : mapping of str to array_like, shape (n,)
        Label -> losses, one per step.
    smooth : int
        Window of :func:`moving_average`.
    xlabel, ylabel : str

    Returns
    -------
    Figure
        One axes per run; in each, a line with ``gid="raw"`` (the losses),
        one with ``gid="smooth"`` (their moving average) and lines with
        ``gid="others"``.
    """
    curves = _nonempty("curves", curves)
    smooth = as_int("smooth", smooth, 1)
    data = {}
    for label, values in curves.items():
        arr = np.asarray(as_numeric_array(f"curves[{label!r}]", values), dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"curves[{label!r}] must be a non-empty 1-D array, got shape {arr.shape}")
        data[label] = arr
    smoothed = {k: moving_average(v, smooth) for k, v in data.items()}
    n = len(data)
    fig = _new_figure(figsize=(min(2.7 * n, 11.0), 3.2), dpi=100)
    axes = np.atleast_1d(fig.subplots(1, n, sharex=True, sharey=True))
    for i, (ax, (label, arr)) in enumerate(zip(axes, data.items())):
        for other, sm in smoothed.items():
            if other != label:
                ax.plot(np.arange(len(sm)), sm, color="0.75", lw=1.0, gid="others")
        ax.plot(np.arange(len(arr)), arr, color=_color(i), lw=0.6, alpha=0.35, gid="raw")
        ax.plot(np.arange(len(arr)), smoothed[label], color=_color(i), lw=2.0, gid="smooth")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel(ylabel)
    fig.tight_layout()
    return fig


def lr_sweep_figure(
    sweeps: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    chosen: Mapping[str, float] | None = None,
    ylabel: str = "final training loss",
) -> Figure:
    """Final loss against the learning rate, one line per optimizer.

    Parameters
    ----------
    sweeps : mapping of str to (lrs, losses)
        Label -> learning rates tried and the loss each reached (NaN or
        inf for a run that diverged: drawn as a cross at the top).
    chosen : mapping of str to float, optional
        Label -> the learning rate used elsewhere; ringed.
    ylabel : str

    Returns
    -------
    Figure
        One axes, log-scaled x; a line per optimizer with ``gid="sweep"``
        (its finite points), crosses with ``gid="diverged"``, rings with
        ``gid="chosen"``.
    """
    sweeps = _nonempty("sweeps", sweeps)
    fig = _new_figure(figsize=(6.4, 3.4), dpi=100)
    ax = fig.subplots()
    finite_max = 0.0
    parsed = {}
    for label, pair in sweeps.items():
        try:
            lrs, losses = pair
        except (TypeError, ValueError):
            raise TypeError(f"sweeps[{label!r}] must be a pair (lrs, losses)") from None
        lrs = np.asarray(as_numeric_array(f"sweeps[{label!r}] lrs", lrs), dtype=np.float64)
        losses = np.asarray(as_numeric_array(f"sweeps[{label!r}] losses", losses), dtype=np.float64)
        if lrs.ndim != 1 or lrs.shape != losses.shape or lrs.size == 0:
            raise ValueError(
                f"sweeps[{label!r}]: lrs and losses must be 1-D of the same length, "
                f"got shapes {lrs.shape} and {losses.shape}"
            )
        if np.any(lrs <= 0):
            raise ValueError(f"sweeps[{label!r}]: learning rates must be > 0")
        parsed[label] = (lrs, losses)
        ok = np.isfinite(losses)
        if ok.any():
            finite_max = max(finite_max, float(losses[ok].max()))
    top = 1.1 * finite_max if finite_max > 0 else 1.0
    for i, (label, (lrs, losses)) in enumerate(parsed.items()):
        ok = np.isfinite(losses)
        ax.semilogx(lrs[ok], losses[ok], color=_color(i), marker="o", lw=1.6, label=label, gid="sweep")
        if (~ok).any():
            ax.plot(lrs[~ok], np.full((~ok).sum(), top), color=_color(i), marker="x",
                    markersize=8, linestyle="none", gid="diverged")
        if chosen and label in chosen:
            lr = float(chosen[label])
            j = int(np.argmin(np.abs(np.log(lrs / lr))))
            if np.isfinite(losses[j]):
                ax.plot([lrs[j]], [losses[j]], marker="o", markersize=13, markerfacecolor="none",
                        markeredgecolor=_color(i), linestyle="none", gid="chosen")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, top * 1.05)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
