"""Tests for convlib.plotting.optim_diagrams: the figures draw what convlib's optimizers compute."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from convlib.gradcheck import numerical_gradient, rel_error  # noqa: E402
from convlib.optim import SGD, Adam, CosineLR, StepLR  # noqa: E402
from convlib.plotting.optim_diagrams import (  # noqa: E402
    Surface,
    Trajectory,
    adam_bias_factors,
    adam_bias_figure,
    loss_curves_figure,
    lr_sweep_figure,
    moving_average,
    quadratic_surface,
    rosenbrock_surface,
    run_optimizer,
    schedules_figure,
    trajectories_figure,
)


def _lines(ax, gid):
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


# --------------------------------------------------------------------------
# Surfaces
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "surface",
    [
        quadratic_surface((1.0, 20.0)),
        quadratic_surface((3.0, 0.5)),
        rosenbrock_surface(),
        rosenbrock_surface(2.0, 10.0),
    ],
    ids=["quad", "quad2", "rosen", "rosen2"],
)
def test_surface_gradients_match_centered_differences(surface):
    rng = np.random.default_rng(0)
    for _ in range(5):
        p = rng.uniform(-2, 2, size=2)
        num = numerical_gradient(lambda q: surface.value(q), p)
        assert rel_error(surface.grad(p), num) < 1e-7


def test_surfaces_broadcast_over_points_and_have_their_minimum_where_claimed():
    rng = np.random.default_rng(1)
    for s in (quadratic_surface((2.0, 7.0)), rosenbrock_surface(1.5, 30.0)):
        pts = rng.uniform(-2, 2, size=(4, 3, 2))
        vals = s.value(pts)
        assert vals.shape == (4, 3)
        assert s.grad(pts).shape == (4, 3, 2)
        assert np.allclose(vals[1, 2], s.value(pts[1, 2]))
        assert s(pts[0, 0]) == s.value(pts[0, 0])
        assert s.value(np.array(s.minimum)) == pytest.approx(0.0, abs=1e-12)
        assert np.allclose(s.grad(np.array(s.minimum)), 0.0, atol=1e-12)
        assert np.all(vals >= 0)


def test_quadratic_formula():
    s = quadratic_surface((3.0, 5.0))
    assert s.value([2.0, -1.0]) == pytest.approx(0.5 * (3 * 4 + 5 * 1))


@pytest.mark.parametrize(
    "make, exc",
    [
        (lambda: quadratic_surface((1.0, 0.0)), ValueError),
        (lambda: quadratic_surface((1.0, 2.0), xlim=(1.0, -1.0)), ValueError),
        (lambda: quadratic_surface((1.0, 2.0), xlim="ab"), TypeError),
        (lambda: rosenbrock_surface(b=-1.0), ValueError),
        (lambda: quadratic_surface().value(np.zeros(3)), ValueError),
        (lambda: rosenbrock_surface().grad(np.array(["a", "b"])), TypeError),
    ],
)
def test_surfaces_reject_bad_input(make, exc):
    with pytest.raises(exc):
        make()


# --------------------------------------------------------------------------
# run_optimizer
# --------------------------------------------------------------------------


def test_run_optimizer_with_sgd_follows_the_closed_form_on_a_quadratic():
    a, b, lr = 1.0, 20.0, 0.09
    s = quadratic_surface((a, b))
    start = np.array([-10.0, 2.5])
    tr = run_optimizer(s, lambda params: SGD(params, lr=lr), start, 30)
    t = np.arange(31)[:, None]
    expected = start * (1 - lr * np.array([a, b])) ** t  # each coordinate shrinks geometrically
    assert isinstance(tr, Trajectory)
    assert tr.path.shape == (31, 2) and tr.steps == 30
    assert rel_error(tr.path, expected) < 1e-12
    assert np.allclose(tr.losses, s.value(expected))
    assert np.all(tr.lrs == lr)
    assert not tr.diverged


def test_run_optimizer_does_not_touch_start_and_records_the_schedule():
    s = rosenbrock_surface()
    start = np.array([-1.2, 1.0])
    sched = StepLR(1e-3, step_size=4, gamma=0.5)
    tr = run_optimizer(s, lambda params: SGD(params, lr=1e-3, schedule=sched), start, 10)
    assert np.array_equal(start, [-1.2, 1.0])
    assert np.array_equal(tr.path[0], start)
    assert np.allclose(tr.lrs, [sched(t) for t in range(10)])


def test_run_optimizer_noise_is_seeded_and_changes_the_path():
    s = quadratic_surface()
    make = lambda params: SGD(params, lr=0.05)  # noqa: E731
    a = run_optimizer(s, make, (-5.0, 1.0), 20, noise=1.0, seed=3)
    b = run_optimizer(s, make, (-5.0, 1.0), 20, noise=1.0, seed=3)
    c = run_optimizer(s, make, (-5.0, 1.0), 20, noise=1.0, seed=4)
    exact = run_optimizer(s, make, (-5.0, 1.0), 20)
    assert np.array_equal(a.path, b.path)
    assert not np.allclose(a.path, c.path)
    assert not np.allclose(a.path, exact.path)


def test_run_optimizer_stops_on_divergence_without_warnings():
    s = quadratic_surface((1.0, 20.0))
    with np.errstate(all="raise"):
        tr = run_optimizer(s, lambda params: SGD(params, lr=1.0), (1.0, 1.0), 2000)
    assert tr.diverged
    assert len(tr.path) < 2001
    assert np.all(np.isfinite(tr.path)) and np.all(np.isfinite(tr.losses))
    assert tr.first_below(0.0) is None


def test_first_below():
    tr = Trajectory(np.zeros((4, 2)), np.array([5.0, 2.0, 0.5, 0.1]), np.zeros(3))
    assert tr.first_below(1.0) == 2
    assert tr.first_below(5.0) == 0
    assert tr.first_below(0.01) is None


def test_run_optimizer_accepts_a_hand_written_optimizer():
    class HalfStep:
        def __init__(self, params):
            (_, self.p, self.g), = params

        def step(self):
            self.p -= 0.5 * self.g

    s = quadratic_surface((1.0, 1.0))
    tr = run_optimizer(s, HalfStep, (4.0, -2.0), 3)
    assert np.allclose(tr.path[-1], np.array([4.0, -2.0]) * 0.5**3)
    assert np.all(np.isnan(tr.lrs))


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(surface="quad"), TypeError),
        (dict(make_optimizer=3), TypeError),
        (dict(make_optimizer=lambda params: object()), TypeError),
        (dict(start=(1.0, 2.0, 3.0)), ValueError),
        (dict(steps=-1), ValueError),
        (dict(steps=2.5), TypeError),
        (dict(noise=-1.0), ValueError),
    ],
)
def test_run_optimizer_rejects_bad_input(kwargs, exc):
    args = dict(surface=quadratic_surface(), make_optimizer=lambda p: SGD(p, lr=0.1), start=(1.0, 1.0), steps=3)
    args.update(kwargs)
    with pytest.raises(exc):
        run_optimizer(**args)


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


def test_trajectories_figure_draws_the_paths_and_losses():
    s = quadratic_surface()
    trs = {
        "SGD": run_optimizer(s, lambda p: SGD(p, lr=0.09), (-10.0, 2.5), 25),
        "momentum": run_optimizer(s, lambda p: SGD(p, lr=0.03, momentum=0.7), (-10.0, 2.5), 25),
        "Adam": run_optimizer(s, lambda p: Adam(p, lr=0.5), (-10.0, 2.5), 25),
    }
    fig = trajectories_figure(s, trs)
    assert isinstance(fig, Figure)
    ax, ax_loss = fig.axes
    paths, losses = _lines(ax, "path"), _lines(ax_loss, "loss")
    assert len(paths) == len(losses) == 3
    for line, tr in zip(paths, trs.values()):
        assert np.allclose(line.get_xydata(), tr.path)
    for line, tr in zip(losses, trs.values()):
        assert np.allclose(line.get_ydata(), tr.losses)
    (star,) = _lines(ax, "minimum")
    assert np.allclose(star.get_xydata(), [s.minimum])
    assert len(ax.collections) >= 1  # the contour lines
    assert ax_loss.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(trs)


def test_trajectories_figure_single_panel_and_diverged_label():
    s = quadratic_surface()
    tr = run_optimizer(s, lambda p: SGD(p, lr=1.0), (1.0, 1.0), 500)
    fig = trajectories_figure(s, {"too big": tr}, show_losses=False, title="T")
    assert len(fig.axes) == 1
    assert fig.axes[0].get_title() == "T"
    assert "diverged" in fig.axes[0].get_legend().get_texts()[0].get_text()


def test_trajectories_figure_rejects_bad_input():
    s = quadratic_surface()
    with pytest.raises(ValueError):
        trajectories_figure(s, {})
    with pytest.raises(TypeError):
        trajectories_figure(s, {"x": np.zeros((3, 2))})
    with pytest.raises(TypeError):
        trajectories_figure("surface", {})


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
    curves = {k: np.exp(-np.arange(50) / s) + 0.1 * rng.random(50) for k, s in (("a", 10), ("b", 20), ("c", 40))}
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


def test_surface_is_a_frozen_dataclass_usable_by_hand():
    s = Surface(
        "line",
        lambda p: np.asarray(p)[..., 0] ** 2,
        lambda p: np.asarray(p) * [2.0, 0.0],
        (0.0, 0.0),
        (-1, 1),
        (-1, 1),
    )
    tr = run_optimizer(s, lambda p: SGD(p, lr=0.25), (1.0, 0.5), 2)
    assert np.allclose(tr.path[-1], [0.25, 0.5])
