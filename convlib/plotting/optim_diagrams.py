"""Figures for the optimizers: Adam's bias correction, schedules, training curves.

Every curve drawn here is computed by convlib's own optimizers
(:mod:`convlib.optim`), so a picture can only be as right as the code it
illustrates:

* :func:`adam_bias_factors` and :func:`adam_bias_figure` -- how far Adam's
  moment estimates start below the truth, and the size of the steps with
  and without the bias correction.
* :func:`schedules_figure` -- learning-rate schedules against the step.
* :func:`moving_average` and :func:`loss_curves_figure` -- training-loss
  curves of several optimizers, side by side.
* :func:`lr_sweep_figure` -- final loss against the learning rate, one line
  per optimizer.

The loss surfaces and the optimizers' paths on them (``Surface``,
``quadratic_surface``, ``rosenbrock_surface``, ``Trajectory``,
``run_optimizer``, ``trajectories_figure``) moved to
:mod:`convlib.plotting.loss_surfaces`; importing them from here still works
for one release, with a ``DeprecationWarning``.

Every figure function returns its :class:`matplotlib.figure.Figure` already
closed in pyplot: show it as the last expression of a notebook cell; it is
never shown twice and never accumulates in pyplot's list of open figures.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .._checks import as_int, as_numeric_array, as_real, check_nonempty_mapping
from ..optim import Adam
from .primitives import SERIES_COLORS, new_figure as _new_figure, series_color as _color

__all__ = [
    "adam_bias_factors",
    "adam_bias_figure",
    "schedules_figure",
    "moving_average",
    "loss_curves_figure",
    "lr_sweep_figure",
]

#: Colours of the optimizers, in the order they are usually listed.
COLORS = SERIES_COLORS

#: Names that moved to :mod:`convlib.plotting.loss_surfaces`.
_MOVED_TO_LOSS_SURFACES = frozenset(
    {
        "Surface",
        "quadratic_surface",
        "rosenbrock_surface",
        "Trajectory",
        "run_optimizer",
        "trajectories_figure",
    }
)


def __getattr__(name: str) -> Any:
    # Deprecation shim (one release): the old home of the loss-surface names.
    if name in _MOVED_TO_LOSS_SURFACES:
        warnings.warn(
            f"convlib.plotting.optim_diagrams.{name} moved to convlib.plotting.loss_surfaces.{name}; "
            f"import it from there (the old path will be removed in the next release)",
            DeprecationWarning,
            stacklevel=2,
        )
        from . import loss_surfaces

        return getattr(loss_surfaces, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------
# Adam's bias correction
# --------------------------------------------------------------------------


def adam_bias_factors(
    beta1: float = 0.9, beta2: float = 0.999, steps: int = 3000
) -> dict[str, np.ndarray]:
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
    beta1 = as_real("beta1", beta1, low=0, high=1, high_open=True)
    beta2 = as_real("beta2", beta2, low=0, high=1, high_open=True)
    steps = as_int("steps", steps, 1)
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
    ax1.semilogx(
        t,
        f["m"],
        color=_color(0),
        lw=1.8,
        gid="m",
        label=rf"$m_t / g$ (approaches $1-\beta_1^t$, $\beta_1$ = {beta1:g})",
    )
    ax1.semilogx(
        t,
        f["sqrt_v"],
        color=_color(1),
        lw=1.8,
        gid="sqrt_v",
        label=rf"$\sqrt{{v_t}} / |g|$ ($\sqrt{{1-\beta_2^t}}$, $\beta_2$ = {beta2:g})",
    )
    ax1.axhline(1.0, color="0.5", lw=0.8, ls="--")
    ax1.set_ylim(0, 1.1)
    ax1.set_xlabel("step $t$")
    ax1.set_title("moment estimates started at 0, constant gradient", fontsize=10)
    ax1.legend(fontsize=8, loc="lower right")
    ax2.semilogx(
        t,
        f["uncorrected_step"],
        color=_color(3),
        lw=1.8,
        gid="uncorrected_step",
        label=r"without correction: $m_t / \sqrt{v_t}$",
    )
    ax2.semilogx(
        t,
        f["adam_step"],
        color=_color(2),
        lw=1.8,
        gid="adam_step",
        label=r"convlib's Adam: $\hat m_t / \sqrt{\hat v_t}$",
    )
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
    schedules = check_nonempty_mapping("schedules", schedules)
    steps = as_int("steps", steps, 1)
    fig = _new_figure(figsize=(7.0, 3.2), dpi=100)
    ax = fig.subplots()
    t = np.arange(steps)
    for i, (label, sched) in enumerate(schedules.items()):
        if not callable(sched):
            raise TypeError(f"schedules[{label!r}] must be callable(t) -> lr")
        ax.plot(
            t,
            [float(sched(int(k))) for k in t],
            color=_color(i),
            lw=1.8,
            label=label,
            gid="schedule",
        )
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
    curves = check_nonempty_mapping("curves", curves)
    smooth = as_int("smooth", smooth, 1)
    data = {}
    for label, values in curves.items():
        arr = np.asarray(as_numeric_array(f"curves[{label!r}]", values), dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(
                f"curves[{label!r}] must be a non-empty 1-D array, got shape {arr.shape}"
            )
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
    sweeps = check_nonempty_mapping("sweeps", sweeps)
    fig = _new_figure(figsize=(6.4, 3.4), dpi=100)
    ax = fig.subplots()
    finite_max = 0.0
    parsed = {}
    for label, pair in sweeps.items():
        try:
            lrs_in, losses_in = pair
        except (TypeError, ValueError):
            raise TypeError(f"sweeps[{label!r}] must be a pair (lrs, losses)") from None
        lrs = np.asarray(as_numeric_array(f"sweeps[{label!r}] lrs", lrs_in), dtype=np.float64)
        losses = np.asarray(
            as_numeric_array(f"sweeps[{label!r}] losses", losses_in), dtype=np.float64
        )
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
        ax.semilogx(
            lrs[ok], losses[ok], color=_color(i), marker="o", lw=1.6, label=label, gid="sweep"
        )
        if (~ok).any():
            ax.plot(
                lrs[~ok],
                np.full((~ok).sum(), top),
                color=_color(i),
                marker="x",
                markersize=8,
                linestyle="none",
                gid="diverged",
            )
        if chosen and label in chosen:
            lr = float(chosen[label])
            j = int(np.argmin(np.abs(np.log(lrs / lr))))
            if np.isfinite(losses[j]):
                ax.plot(
                    [lrs[j]],
                    [losses[j]],
                    marker="o",
                    markersize=13,
                    markerfacecolor="none",
                    markeredgecolor=_color(i),
                    linestyle="none",
                    gid="chosen",
                )
    ax.set_xlabel("learning rate")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, top * 1.05)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
