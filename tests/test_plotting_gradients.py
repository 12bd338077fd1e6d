"""Tests of convlib.plotting.gradients: the figures draw the numbers computed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Circle, FancyArrowPatch

from convlib.plotting.gradients import (
    finite_difference_errors,
    plot_computational_graph,
    plot_kink,
    plot_step_size_errors,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------
# computational graph
# --------------------------------------------------------------------------

NODES = {
    "x": (0.0, 1.0, "x"),
    "y": (0.0, -1.0, "y"),
    "w": (1.5, -1.5, "w"),
    "add": (1.5, 0.0, "+"),
    "mul": (3.0, -0.5, "×"),
    "z": (4.5, -0.5, "z"),
}


def _graph_numbers(x: float, y: float, w: float, dz: float):
    q = x + y
    z = q * w
    dq, dw = dz * w, dz * q
    return [
        ("x", "add", x, dq),
        ("y", "add", y, dq),
        ("add", "mul", q, dq),
        ("w", "mul", w, dw),
        ("mul", "z", z, dz),
    ]


def test_graph_draws_one_circle_per_node_and_one_arrow_per_edge():
    edges = _graph_numbers(3.0, -1.0, -2.0, 2.0)
    fig = plot_computational_graph(NODES, edges, title="z = (x + y) w")
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(circles) == len(NODES)
    assert len(arrows) == len(edges)
    centers = sorted(tuple(np.round(c.center, 9)) for c in circles)
    assert centers == sorted((p[0], p[1]) for p in NODES.values())
    assert ax.get_title() == "z = (x + y) w"


def test_graph_annotations_are_the_values_and_gradients_passed():
    x, y, w, dz = 1.25, -3.5, 0.75, -1.5
    edges = _graph_numbers(x, y, w, dz)
    fig = plot_computational_graph(NODES, edges)
    ax = fig.axes[0]
    labels = {t.get_text() for t in ax.texts}
    assert {p[2] for p in NODES.values()} <= labels
    green = [float(t.get_text()) for t in ax.texts if t.get_fontweight() == "bold"]
    red = [
        float(t.get_text())
        for t in ax.texts
        if t.get_fontweight() != "bold" and t.get_text() not in {p[2] for p in NODES.values()}
    ]
    assert sorted(green) == pytest.approx(sorted(e[2] for e in edges))
    assert sorted(red) == pytest.approx(sorted(e[3] for e in edges))


def test_graph_value_above_gradient_below_a_horizontal_edge():
    nodes = {"a": (0.0, 0.0, "a"), "b": (2.0, 0.0, "b")}
    fig = plot_computational_graph(nodes, [("a", "b", 7.0, -2.0)])
    ax = fig.axes[0]
    by_text = {t.get_text(): t.get_position() for t in ax.texts}
    assert by_text["7"][1] > 0 > by_text["-2"][1]
    assert by_text["7"][0] == pytest.approx(1.0)


def test_graph_none_leaves_annotation_out():
    nodes = {"a": (0.0, 0.0, "a"), "b": (2.0, 0.0, "b")}
    fig = plot_computational_graph(nodes, [("a", "b", 5.0, None)])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sorted(texts) == ["5", "a", "b"]


def test_graph_rejects_unknown_node_and_bad_edges():
    with pytest.raises(ValueError, match="'q'"):
        plot_computational_graph(NODES, [("x", "q", 1.0, 1.0)])
    with pytest.raises(ValueError, match="edges\\[0\\]"):
        plot_computational_graph(NODES, [("x", "add", 1.0)])
    with pytest.raises(ValueError, match="empty"):
        plot_computational_graph({}, [])


# --------------------------------------------------------------------------
# finite-difference errors and the V curve
# --------------------------------------------------------------------------


def test_errors_match_a_direct_computation():
    x = np.array([0.3, 1.1, 2.0])
    steps = np.array([1e-1, 1e-3])
    err_c = finite_difference_errors(np.sin, np.cos, x, steps, scheme="centered")
    err_f = finite_difference_errors(np.sin, np.cos, x, steps, scheme="forward")
    for k, h in enumerate(steps):
        c = (np.sin(x + h) - np.sin(x - h)) / (2 * h)
        f = (np.sin(x + h) - np.sin(x)) / h
        assert err_c[k] == pytest.approx(np.mean(np.abs(c - np.cos(x))), rel=1e-12)
        assert err_f[k] == pytest.approx(np.mean(np.abs(f - np.cos(x))), rel=1e-12)


def test_truncation_orders_one_and_two():
    # large steps: truncation dominates; forward error ~ h, centered ~ h**2
    x = np.linspace(0.5, 1.5, 16)
    steps = np.array([1e-2, 1e-3])
    ef = finite_difference_errors(np.sin, np.cos, x, steps, scheme="forward")
    ec = finite_difference_errors(np.sin, np.cos, x, steps, scheme="centered")
    assert ef[0] / ef[1] == pytest.approx(10, rel=0.05)
    assert ec[0] / ec[1] == pytest.approx(100, rel=0.05)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scheme, power", [("forward", 1 / 2), ("centered", 1 / 3)])
def test_best_step_is_near_the_predicted_power_of_eps(dtype, scheme, power):
    x = np.linspace(0.5, 1.5, 32)
    steps = np.logspace(-14 if dtype is np.float64 else -8, 0, 57)
    err = finite_difference_errors(np.sin, np.cos, x, steps, dtype=dtype, scheme=scheme)
    best = steps[np.argmin(err)]
    predicted = np.finfo(dtype).eps ** power
    assert abs(np.log10(best / predicted)) < 1.0


def test_float32_is_worse_than_float64_at_its_best():
    x = np.linspace(0.5, 1.5, 16)
    steps = np.logspace(-12, 0, 49)
    e32 = finite_difference_errors(np.sin, np.cos, x, steps, dtype=np.float32)
    e64 = finite_difference_errors(np.sin, np.cos, x, steps, dtype=np.float64)
    assert e32.min() > 1e3 * e64.min()


def test_errors_reject_bad_arguments():
    with pytest.raises(ValueError, match="scheme"):
        finite_difference_errors(np.sin, np.cos, [1.0], [1e-3], scheme="backward")
    with pytest.raises(ValueError, match="positive"):
        finite_difference_errors(np.sin, np.cos, [1.0], [1e-3, 0.0])
    with pytest.raises(ValueError, match="x"):
        finite_difference_errors(np.sin, np.cos, [], [1e-3])
    with pytest.raises(TypeError, match="dtype"):
        finite_difference_errors(np.sin, np.cos, [1.0], [1e-3], dtype=np.int32)


def test_step_size_plot_draws_the_errors_given():
    steps = np.logspace(-6, 0, 13)
    errors = {"a": steps**2 + 1e-9 / steps, "b": steps + 1e-12 / steps}
    optima = {"opt a": 1e-3, "opt b": 1e-6}
    fig = plot_step_size_errors(steps, errors, optima=optima, title="V")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    solid = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    dots = [ln for ln in ax.lines if ln.get_marker() == "o"]
    dotted = [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    assert len(solid) == 2 and len(dots) == 2 and len(dotted) == 2
    for line, (label, err) in zip(solid, errors.items()):
        assert line.get_label() == label
        np.testing.assert_array_equal(line.get_xdata(), steps)
        np.testing.assert_allclose(line.get_ydata(), err)
    for dot, err in zip(dots, errors.values()):
        k = int(np.argmin(err))
        assert dot.get_xdata()[0] == steps[k] and dot.get_ydata()[0] == err[k]
    assert sorted(ln.get_xdata()[0] for ln in dotted) == [1e-6, 1e-3]


def test_step_size_plot_skips_exact_zeros_and_checks_lengths():
    steps = np.array([1e-3, 1e-2, 1e-1])
    fig = plot_step_size_errors(steps, {"a": [0.0, 1e-4, 1e-2]})
    y = fig.axes[0].lines[0].get_ydata()
    assert np.isnan(y[0]) and y[1] == 1e-4
    with pytest.raises(ValueError, match="shape"):
        plot_step_size_errors(steps, {"a": [1.0, 2.0]})


# --------------------------------------------------------------------------
# kink
# --------------------------------------------------------------------------


def _relu(t):
    return np.maximum(t, 0.0)


def _drelu(t):
    return (np.asarray(t) > 0).astype(np.float64)


def test_kink_secant_slope_is_the_centered_difference():
    x0, h = 2e-6, 1e-5
    fig = plot_kink(_relu, _drelu, x0, h, title="ReLU")
    ax = fig.axes[0]
    assert ax.get_title() == "ReLU"
    f_line, secant, tangent = ax.lines[:3]
    t, s = secant.get_xdata(), secant.get_ydata()
    slope = (s[-1] - s[0]) / (t[-1] - t[0])
    assert slope == pytest.approx((x0 + h) / (2 * h))  # (relu(x0+h) - 0) / 2h
    t, s = tangent.get_xdata(), tangent.get_ydata()
    assert (s[-1] - s[0]) / (t[-1] - t[0]) == pytest.approx(1.0)
    np.testing.assert_allclose(f_line.get_ydata(), _relu(f_line.get_xdata()))
    pts = ax.collections[0].get_offsets()
    np.testing.assert_allclose(np.asarray(pts)[:, 0], [x0 - h, x0 + h])


def test_kink_away_from_the_kink_secant_equals_tangent():
    fig = plot_kink(_relu, _drelu, 1.0, 1e-3)
    secant, tangent = fig.axes[0].lines[1:3]
    np.testing.assert_allclose(secant.get_ydata(), tangent.get_ydata(), atol=1e-12)


def test_kink_rejects_bad_step():
    with pytest.raises(ValueError, match="h"):
        plot_kink(_relu, _drelu, 0.0, 0.0)
    with pytest.raises(ValueError, match="xlim"):
        plot_kink(_relu, _drelu, 0.0, 1e-3, xlim=(1.0, -1.0))
