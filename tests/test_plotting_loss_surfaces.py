"""Tests for convlib.plotting.loss_surfaces.

Exact surfaces, and the paths convlib's optimizers take on them.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from convlib.gradcheck import numerical_gradient, rel_error
from convlib.optim import SGD, Adam, StepLR
from convlib.plotting.loss_surfaces import (
    Surface,
    Trajectory,
    quadratic_surface,
    rosenbrock_surface,
    run_optimizer,
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
            ((_, self.p, self.g),) = params

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
    args = dict(
        surface=quadratic_surface(),
        make_optimizer=lambda p: SGD(p, lr=0.1),
        start=(1.0, 1.0),
        steps=3,
    )
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


def test_figure_axes_are_the_parameters_and_titles_give_the_formula_with_its_numbers():
    # the book's notation: the parameters are theta_1, theta_2 (x and y are a
    # layer's input and output), and a surface's title is its formula
    bowl, banana = quadratic_surface((1.0, 20.0)), rosenbrock_surface()
    assert bowl.name == r"bowl $\frac{1}{2}\,(\theta_1^2 + 20\,\theta_2^2)$"
    assert banana.name == r"Rosenbrock $(1 - \theta_1)^2 + 100\,(\theta_2 - \theta_1^2)^2$"
    assert "1.5 - \\theta_1" in rosenbrock_surface(1.5, 30.0).name
    assert "30\\,(\\theta_2" in rosenbrock_surface(1.5, 30.0).name
    assert "3\\,\\theta_1^2 + 0.5\\,\\theta_2^2" in quadratic_surface((3.0, 0.5)).name
    for s in (bowl, banana):
        tr = run_optimizer(s, lambda ps: SGD(ps, lr=1e-3), [-1.0, 1.0], 3)
        ax = trajectories_figure(s, {"SGD": tr}).axes[0]
        assert (ax.get_xlabel(), ax.get_ylabel()) == (r"$\theta_1$", r"$\theta_2$")
        assert ax.get_title() == s.name
