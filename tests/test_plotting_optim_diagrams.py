"""Tests for convlib.plotting.optim_diagrams: the figures draw what convlib's optimizers compute."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from convlib.optim import CosineLR, StepLR
from convlib.plotting import loss_surfaces, optim_diagrams
from convlib.plotting.optim_diagrams import (
    adam_bias_factors,
    adam_bias_figure,
    loss_curves_figure,
    lr_sweep_figure,
    moving_average,
    schedules_figure,
)


def _lines(ax, gid):
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


def test_adam_bias_factors_match_the_closed_forms_and_convlib_adam():
    b1, b2 = 0.9, 0.999
    f = adam_bias_factors(b1, b2, 500)
    t = f["t"]
    assert t[0] == 1 and len(t) == 500
    assert np.allclose(f["m"], 1 - b1**t)
    assert np.allclose(f["sqrt_v"], np.sqrt(1 - b2**t))
    assert f["uncorrected_step"][0] == pytest.approx((1 - b1) / np.sqrt(1 - b2))
    # convlib's Adam corrects the bias: every step is the learning rate
    assert np.allclose(f["adam_step"], 1.0, rtol=1e-6)


def test_adam_bias_factors_with_other_betas_and_bad_input():
    f = adam_bias_factors(0.5, 0.9, 20)
    assert np.allclose(f["uncorrected_step"], (1 - 0.5 ** f["t"]) / np.sqrt(1 - 0.9 ** f["t"]))
    with pytest.raises(ValueError):
        adam_bias_factors(1.0, 0.9, 10)
    with pytest.raises(ValueError):
        adam_bias_factors(0.9, 0.9, 0)


def test_adam_bias_figure_draws_the_factors():
    fig = adam_bias_figure(0.9, 0.99, 300)
    f = adam_bias_factors(0.9, 0.99, 300)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    ax1, ax2 = fig.axes
    for ax, gid in ((ax1, "m"), (ax1, "sqrt_v"), (ax2, "uncorrected_step"), (ax2, "adam_step")):
        (line,) = _lines(ax, gid)
        assert np.allclose(line.get_xdata(), f["t"])
        assert np.allclose(line.get_ydata(), f[gid])
    assert ax1.get_xscale() == "log"


def test_schedules_figure_draws_the_schedules():
    scheds = {"step": StepLR(0.1, 30, 0.5), "cosine": CosineLR(0.1, 100, warmup=10)}
    fig = schedules_figure(scheds, 120)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    lines = _lines(fig.axes[0], "schedule")
    assert len(lines) == 2
    for line, s in zip(lines, scheds.values()):
        assert np.array_equal(line.get_xdata(), np.arange(120))
        assert np.allclose(line.get_ydata(), [s(t) for t in range(120)])
    with pytest.raises(ValueError):
        schedules_figure({}, 10)
    with pytest.raises(TypeError):
        schedules_figure({"x": 0.1}, 10)
    with pytest.raises(ValueError):
        schedules_figure(scheds, 0)


def test_moving_average_matches_a_direct_computation():
    rng = np.random.default_rng(5)
    x = rng.standard_normal(37)
    for w in (1, 4, 10, 50):
        expected = [x[max(0, i - w + 1) : i + 1].mean() for i in range(len(x))]
        assert np.allclose(moving_average(x, w), expected)
    with pytest.raises(ValueError):
        moving_average(np.zeros((2, 2)), 3)
    with pytest.raises(ValueError):
        moving_average(x, 0)


def test_loss_curves_figure_one_panel_per_run():
    rng = np.random.default_rng(2)
    curves = {
        k: np.exp(-np.arange(50) / s) + 0.1 * rng.random(50)
        for k, s in (("a", 10), ("b", 20), ("c", 40))
    }
    fig = loss_curves_figure(curves, smooth=5)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    for ax, (label, y) in zip(fig.axes, curves.items()):
        assert ax.get_title() == label
        (raw,) = _lines(ax, "raw")
        (sm,) = _lines(ax, "smooth")
        assert np.allclose(raw.get_ydata(), y)
        assert np.allclose(sm.get_ydata(), moving_average(y, 5))
        assert len(_lines(ax, "others")) == 2
    with pytest.raises(ValueError):
        loss_curves_figure({"a": []})
    with pytest.raises(TypeError):
        loss_curves_figure([1.0, 2.0])


def test_lr_sweep_figure_marks_diverged_and_chosen_runs():
    sweeps = {"SGD": ([0.01, 0.1, 1.0], [0.8, 0.4, np.nan]), "Adam": ([1e-3, 1e-2], [0.5, 0.3])}
    fig = lr_sweep_figure(sweeps, chosen={"SGD": 0.1, "Adam": 1e-2})
    (ax,) = fig.axes
    sgd, adam = _lines(ax, "sweep")
    assert np.allclose(sgd.get_xdata(), [0.01, 0.1]) and np.allclose(sgd.get_ydata(), [0.8, 0.4])
    assert np.allclose(adam.get_ydata(), [0.5, 0.3])
    (cross,) = _lines(ax, "diverged")
    assert np.allclose(cross.get_xdata(), [1.0])
    rings = _lines(ax, "chosen")
    assert [tuple(r.get_xydata()[0]) for r in rings] == [(0.1, 0.4), (1e-2, 0.3)]
    assert ax.get_xscale() == "log"
    with pytest.raises(ValueError):
        lr_sweep_figure({"a": ([0.1, 0.2], [1.0])})
    with pytest.raises(ValueError):
        lr_sweep_figure({"a": ([0.0], [1.0])})
    with pytest.raises(TypeError):
        lr_sweep_figure({"a": 0.1})


# --------------------------------------------------------------------------
# The old home of the loss-surface names
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Surface",
        "quadratic_surface",
        "rosenbrock_surface",
        "Trajectory",
        "run_optimizer",
        "trajectories_figure",
    ],
)
def test_moved_names_still_import_from_optim_diagrams_with_a_deprecation_warning(name):
    with pytest.warns(DeprecationWarning, match=f"convlib.plotting.loss_surfaces.{name}"):
        obj = getattr(optim_diagrams, name)
    new = getattr(loss_surfaces, name)
    # by module and name: pytest's doctest collection may import a module file twice
    assert (
        (obj.__module__, obj.__qualname__)
        == (new.__module__, new.__qualname__)
        == ("convlib.plotting.loss_surfaces", name)
    )


def test_the_figures_of_optim_diagrams_import_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from convlib.plotting.optim_diagrams import adam_bias_figure as f  # noqa: F401
    with pytest.raises(AttributeError, match="no_such_name"):
        optim_diagrams.no_such_name  # noqa: B018
