"""Loss surfaces of two parameters, and the paths optimizers take on them.

Every path drawn here is computed by running a real optimizer (convlib's
:class:`~convlib.optim.SGD` and :class:`~convlib.optim.Adam`, or one the
reader writes) on a surface whose gradient is known exactly, so a picture
can only be as right as the code it illustrates:

* :class:`Surface`, :func:`quadratic_surface` and :func:`rosenbrock_surface`
  -- two-dimensional loss functions with their exact gradients: an
  ill-conditioned quadratic bowl and Rosenbrock's curved valley.
* :func:`run_optimizer` -- hands a single two-element parameter and its
  gradient to any optimizer and records the path it takes: a
  :class:`Trajectory`.
* :func:`trajectories_figure` -- the paths on a contour plot of the surface,
  next to the loss against the step.

The figure function returns its :class:`matplotlib.figure.Figure` already
closed in pyplot: show it as the last expression of a notebook cell; it is
never shown twice and never accumulates in pyplot's list of open figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .._checks import as_int, as_numeric_array, as_real, check_nonempty_mapping
from .primitives import new_figure as _new_figure, series_color as _color

__all__ = [
    "Surface",
    "quadratic_surface",
    "rosenbrock_surface",
    "Trajectory",
    "run_optimizer",
    "trajectories_figure",
]


def _points(name: str, p: Any) -> np.ndarray:
    """``p`` as a float64 array whose last axis has length 2."""
    arr = np.asarray(as_numeric_array(name, p), dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(
            f"{name} must have shape (..., 2) (points (theta_1, theta_2)), got shape {arr.shape}"
        )
    return arr


def _coef(c: float) -> str:
    """``c`` as a coefficient in a mathtext formula (``""`` for 1)."""
    return "" if c == 1 else rf"{c:g}\,"


def _pair(name: str, value: Any) -> tuple[float, float]:
    """A pair of finite floats ``(lo, hi)`` with ``lo < hi``."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair of numbers (low, high), got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be finite with low < high, got {value!r}")
    return lo, hi


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
    """The bowl ``L(theta) = (lambda_1 theta_1**2 + lambda_2 theta_2**2) / 2``.

    The parameters are ``theta = (theta_1, theta_2)``, the first drawn along
    the horizontal axis. The Hessian is ``diag(lambda_1, lambda_2)``: with
    ``lambda_2 >> lambda_1`` the bowl is a long narrow valley along
    ``theta_1`` (condition number ``kappa = lambda_2 / lambda_1``), where
    plain gradient descent zig-zags across and crawls along.

    Parameters
    ----------
    curvatures : (float, float)
        ``(lambda_1, lambda_2)``, both > 0.
    xlim, ylim : (float, float)
        Window for the contour plot.

    Returns
    -------
    Surface
        Minimum 0 at ``(0, 0)``; its name (the contour plot's title) is the
        formula with the curvatures' values.

    Examples
    --------
    >>> s = quadratic_surface((1.0, 20.0))
    >>> float(s.value([1.0, 1.0])), s.grad([1.0, 1.0]).tolist()
    (10.5, [1.0, 20.0])
    """
    try:
        lam1, lam2 = curvatures
    except (TypeError, ValueError):
        raise TypeError(
            f"curvatures must be a pair (lambda_1, lambda_2), got {curvatures!r}"
        ) from None
    lam1 = as_real("curvatures[0]", lam1, low=0, low_open=True)
    lam2 = as_real("curvatures[1]", lam2, low=0, low_open=True)
    xlim, ylim = _pair("xlim", xlim), _pair("ylim", ylim)

    def value(p: Any) -> np.ndarray:
        p = _points("p", p)
        return 0.5 * (lam1 * p[..., 0] ** 2 + lam2 * p[..., 1] ** 2)

    def grad(p: Any) -> np.ndarray:
        p = _points("p", p)
        return p * np.array([lam1, lam2])

    name = rf"bowl $\frac{{1}}{{2}}\,({_coef(lam1)}\theta_1^2 + {_coef(lam2)}\theta_2^2)$"
    return Surface(name, value, grad, (0.0, 0.0), xlim, ylim)


def rosenbrock_surface(
    a: float = 1.0,
    b: float = 100.0,
    xlim: tuple[float, float] = (-2.0, 2.0),
    ylim: tuple[float, float] = (-1.0, 3.0),
) -> Surface:
    """Rosenbrock's function ``L(theta) = (a - theta_1)**2 + b (theta_2 - theta_1**2)**2``.

    A curved, flat-bottomed valley along the parabola ``theta_2 = theta_1**2``,
    steep across and nearly flat along, with its minimum 0 at ``(a, a**2)``.

    Parameters
    ----------
    a, b : float
        The function's two constants (Rosenbrock's names for them);
        ``b > 0`` sets how steep the valley walls are.
    xlim, ylim : (float, float)
        Window for the contour plot.

    Returns
    -------
    Surface
        Its name (the contour plot's title) is the formula with the numbers
        ``a`` and ``b`` written in, e.g.
        ``(1 - theta_1)**2 + 100 (theta_2 - theta_1**2)**2``.

    Examples
    --------
    >>> s = rosenbrock_surface()
    >>> float(s.value([1.0, 1.0])), s.grad([0.0, 0.0]).tolist()
    (0.0, [-2.0, 0.0])
    """
    a = as_real("a", a)
    b = as_real("b", b, low=0, low_open=True)
    xlim, ylim = _pair("xlim", xlim), _pair("ylim", ylim)

    def value(p: Any) -> np.ndarray:
        p = _points("p", p)
        t1, t2 = p[..., 0], p[..., 1]
        return (a - t1) ** 2 + b * (t2 - t1**2) ** 2

    def grad(p: Any) -> np.ndarray:
        p = _points("p", p)
        t1, t2 = p[..., 0], p[..., 1]
        r = t2 - t1**2
        return np.stack([-2.0 * (a - t1) - 4.0 * b * t1 * r, 2.0 * b * r], axis=-1)

    name = rf"Rosenbrock $({a:g} - \theta_1)^2 + {_coef(b)}(\theta_2 - \theta_1^2)^2$"
    return Surface(name, value, grad, (a, a * a), xlim, ylim)


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
        raise TypeError(
            f"surface must be a Surface (e.g. quadratic_surface()), got {type(surface).__name__}"
        )
    if not callable(make_optimizer):
        raise TypeError("make_optimizer must be callable(params) -> optimizer")
    p = _points("start", start).copy()
    if p.shape != (2,):
        raise ValueError(f"start must have shape (2,), got {p.shape}")
    steps = as_int("steps", steps, 0)
    noise = as_real("noise", noise, low=0)
    rng = np.random.default_rng(as_int("seed", seed, 0))
    g = np.zeros(2)
    optimizer = make_optimizer([("p", p, g)])
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(
            f"make_optimizer returned {type(optimizer).__name__}, which has no step() method"
        )
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
    ax.plot(
        *surface.minimum, marker="*", color="black", markersize=12, linestyle="none", gid="minimum"
    )


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
        Default: the surface's name (its formula). The axes are labelled
        with the parameters' names, ``theta_1`` across and ``theta_2`` up.
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
    trajectories = check_nonempty_mapping("trajectories", trajectories)
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
            raise TypeError(
                f"trajectories[{label!r}] must be a Trajectory, got {type(tr).__name__}"
            )
        tag = f"{label} (diverged)" if tr.diverged else label
        ax.plot(
            tr.path[:, 0],
            tr.path[:, 1],
            color=_color(i),
            lw=1.4,
            marker="o",
            markersize=2.5,
            markevery=marker_every,
            label=tag,
            gid="path",
        )
        if ax_loss is not None:
            ax_loss.semilogy(
                np.arange(len(tr.losses)),
                np.maximum(tr.losses, 1e-300),
                color=_color(i),
                lw=1.4,
                label=tag,
                gid="loss",
            )
    first = next(iter(trajectories.values()))
    ax.plot(*first.path[0], marker="s", color="black", markersize=6, linestyle="none", gid="start")
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")
    ax.set_title(surface.name if title is None else title, fontsize=10)
    ax.legend(fontsize=8, loc="best")
    if ax_loss is not None:
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("loss")
        ax_loss.set_title("loss against step", fontsize=10)
        ax_loss.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return fig
