"""Tests for convlib.plotting.resnet_diagrams: each figure draws exactly the data it is given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from convlib import History, OneCycleLR
from convlib.plotting.resnet_diagrams import (
    accuracy_curves_figure,
    gradient_norms_figure,
    learning_rate_figure,
)


def test_learning_rate_figure_draws_each_schedule():
    s = OneCycleLR(0.01, 40)
    rates = {"one-cycle": [s(t) for t in range(40)], "constant": [0.005] * 40}
    before = len(plt.get_fignums())
    fig = learning_rate_figure(rates, steps_per_epoch=10)
    assert isinstance(fig, Figure) and len(plt.get_fignums()) == before
    ax = fig.axes[0]
    curves = [line for line in ax.lines if line.get_gid() and line.get_gid().startswith("rate")]
    for line, values in zip(curves, rates.values()):
        np.testing.assert_array_equal(line.get_ydata(), values)
        np.testing.assert_array_equal(line.get_xdata(), np.arange(40))
    assert len([line for line in ax.lines if line.get_gid() == "epoch"]) == 3  # at 10, 20, 30


def test_gradient_norms_figure_one_panel_per_setting():
    panels = {
        "6 layers": {"residual": [0.1, 0.2, 0.3], "plain": [0.2, 0.2, 0.4]},
        "18 layers": {"residual": [1.0, 2.0, 3.0, 4.0], "plain": [9.0, 3.0, 1.0, 0.5]},
    }
    fig = gradient_norms_figure(panels, layer_labels={"6 layers": ["a", "b", "c"]})
    assert len(fig.axes) == 2
    for ax, curves in zip(fig.axes, panels.values()):
        assert ax.get_yscale() == "log"
        for line, values in zip(ax.lines, curves.values()):
            np.testing.assert_array_equal(line.get_ydata(), values)
            np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(values) + 1))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b", "c"]


def test_accuracy_curves_figure_draws_percentages():
    h1 = History(val_acc=[0.8, 0.9])
    h2 = History(val_acc=[0.7, 0.85])
    fig = accuracy_curves_figure({"residual": h1, "plain": h2})
    lines = fig.axes[0].lines
    np.testing.assert_allclose(lines[0].get_ydata(), [80, 90])
    np.testing.assert_allclose(lines[1].get_ydata(), [70, 85])


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: learning_rate_figure({}), TypeError, "rates must be a non-empty mapping"),
        (lambda: learning_rate_figure({"a": [1.0]}), ValueError, "at least 2 numbers"),
        (lambda: learning_rate_figure({"a": [1.0, np.nan]}), ValueError, "NaN"),
        (
            lambda: gradient_norms_figure({"p": {"a": [1.0, 0.0]}}),
            ValueError,
            "must be positive",
        ),
        (lambda: gradient_norms_figure([1]), TypeError, "panels must be a non-empty mapping"),
        (lambda: accuracy_curves_figure({"a": [0.9]}), TypeError, "must be a History"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
