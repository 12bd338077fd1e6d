"""Tests of convlib.plotting.precision_diagrams: the figures draw the numbers given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.patches import StepPatch

from convlib.plotting.precision_diagrams import (
    plot_loss_scaling_run,
    plot_magnitudes,
    plot_variance_errors,
)
from convlib.precision import FORMATS


def test_magnitudes_histograms_are_the_data_and_lines_the_limits() -> None:
    rng = np.random.default_rng(0)
    a = 10.0 ** rng.uniform(-9, 2, 500)
    b = np.concatenate([10.0 ** rng.uniform(-3, 0, 200), np.zeros(7), [np.inf]])
    fig = plot_magnitudes({"a": a, "b": b}, bins=40)
    ax = fig.axes[0]
    steps = [p for p in ax.patches if isinstance(p, StepPatch)]
    assert [s.get_label() for s in steps] == ["a", "b"]
    values, edges = steps[0].get_data().values, steps[0].get_data().edges
    expected, _ = np.histogram(np.log10(a), bins=edges)
    np.testing.assert_allclose(values, expected / a.size)
    values_b = steps[1].get_data().values
    assert np.isclose(values_b.sum(), 1.0)  # zeros and inf left out, 200 values drawn
    xs = sorted(line.get_xdata()[0] for line in ax.lines)
    limits = []
    for f in ("float16", "bfloat16"):
        form = FORMATS[f]
        limits += [np.log10(form.smallest_subnormal / 2), np.log10(form.tiny), np.log10(form.max)]
    np.testing.assert_allclose(xs, sorted(limits))
    lo, hi = ax.get_xlim()
    assert lo <= np.log10(FORMATS["float16"].smallest_subnormal / 2) and hi >= np.log10(65504)
    labels = [line.get_label() for line in ax.lines]
    assert sum("off the axis" in t for t in labels) == 3  # bfloat16's limits, 1e-38 and beyond
    assert all("off the axis" not in t for t in labels if t.startswith("float16"))


def test_magnitudes_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="values is empty"):
        plot_magnitudes({})
    with pytest.raises(ValueError, match="no finite non-zero"):
        plot_magnitudes({"z": np.zeros(3)})
    with pytest.raises(ValueError, match="fmt must be one of"):
        plot_magnitudes({"a": np.ones(3)}, formats=("float8",))


def test_variance_errors_draws_the_errors_given() -> None:
    means = np.array([1.0, 10.0, 100.0])
    errors = {"one-pass": np.array([1e-7, 1e-5, np.inf]), "two-pass": np.array([0.0, 1e-8, 1e-7])}
    fig = plot_variance_errors(means, errors)
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines[:2]] == ["one-pass", "two-pass"]
    np.testing.assert_array_equal(lines[0].get_xdata(), means)
    np.testing.assert_array_equal(lines[0].get_ydata()[:2], [1e-7, 1e-5])
    assert np.isnan(lines[0].get_ydata()[2])  # the overflow is left out
    assert lines[1].get_ydata()[0] > 0  # a zero error sits on the floor of the log axis
    with pytest.raises(ValueError, match="shape"):
        plot_variance_errors(means, {"x": np.ones(2)})
    with pytest.raises(ValueError, match="positive"):
        plot_variance_errors(-means, errors)


def test_loss_scaling_run_draws_counts_and_scale() -> None:
    under = {"no scaling": np.array([3, 5, 9]), "scaled": np.array([0, 0, 1])}
    fig = plot_loss_scaling_run(under, np.array([8.0, 4.0, 4.0]))
    assert len(fig.axes) == 2
    lines = fig.axes[0].get_lines()
    np.testing.assert_array_equal(lines[0].get_ydata(), [3, 5, 9])
    np.testing.assert_array_equal(fig.axes[1].get_lines()[0].get_ydata(), [3.0, 2.0, 2.0])
    assert len(plot_loss_scaling_run(under).axes) == 1
    with pytest.raises(ValueError, match="positive"):
        plot_loss_scaling_run(under, np.array([0.0, 1.0, 1.0]))
