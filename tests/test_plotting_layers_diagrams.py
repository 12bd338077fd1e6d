"""Tests for convlib.plotting.layers_diagrams: the figures draw what convlib computes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import ConnectionPatch

from convlib.gradcheck import numerical_gradient
from convlib.losses import softmax
from convlib.plotting.layers_diagrams import (
    ACTIVATIONS,
    activation_values,
    activations_figure,
    loss_saturation_figure,
    pool_windows,
    pooling_figure,
    saturation_curves,
    softmax_gradient_figure,
    softmax_jacobian,
)
from convlib.pooling import maxpool2d_forward


def _lines(ax, gid):
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


def _patches(ax, gid):
    return [p for p in ax.patches if p.get_gid() == gid]


def _cell(p):
    """(row, col) of a unit-square patch drawn on a grid centred on integers."""
    return (round(p.get_y() + 0.5), round(p.get_x() + 0.5))


# --------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------

_DEFINITIONS = {
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.1 * x), lambda x: np.where(x > 0, 1.0, 0.1)),
    "sigmoid": (
        lambda x: 1 / (1 + np.exp(-x)),
        lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2,
    ),
    "tanh": (np.tanh, lambda x: 1 / np.cosh(x) ** 2),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_values_match_the_textbook_formulas(name):
    x = np.linspace(-5, 5, 41)  # contains 0
    y, dy = activation_values(name, x, alpha=0.1)
    f, df = _DEFINITIONS[name]
    np.testing.assert_allclose(y, f(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dy, df(x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_derivative_is_the_slope_away_from_kinks(name):
    x = np.array([-2.3, -0.7, 0.4, 1.9])
    _, dy = activation_values(name, x, alpha=0.1)
    num = numerical_gradient(lambda v: activation_values(name, v, alpha=0.1)[0], x.copy())
    np.testing.assert_allclose(dy, num, rtol=1e-7)


def test_activation_values_rejects_unknown_names():
    with pytest.raises(ValueError, match="name must be one of"):
        activation_values("softplus", [1.0])


def test_activations_figure_draws_convlib_values():
    fig = activations_figure(num=101, alpha=0.1)
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert len(axes) == len(ACTIVATIONS)
    for ax, name in zip(axes, ACTIVATIONS):
        (f_line,) = _lines(ax, "f")
        x = f_line.get_xdata()
        assert len(x) == 101
        y, dy = activation_values(name, x, alpha=0.1)
        np.testing.assert_array_equal(f_line.get_ydata(), y)
        df_lines = _lines(ax, "df")
        marks = _lines(ax, "df0")
        if name in ("relu", "leaky_relu"):
            assert len(df_lines) == 2 and len(marks) == 1
            xs = np.concatenate([ln.get_xdata() for ln in df_lines])
            assert 0.0 not in xs and len(xs) == 100  # the kink itself is only the marker
            np.testing.assert_array_equal(
                np.concatenate([ln.get_ydata() for ln in df_lines]), dy[x != 0]
            )
            expected_at_0 = 0.0 if name == "relu" else 0.1
            assert marks[0].get_xdata()[0] == 0.0 and marks[0].get_ydata()[0] == expected_at_0
        else:
            assert len(df_lines) == 1 and not marks
            np.testing.assert_array_equal(df_lines[0].get_ydata(), dy)


def test_activations_figure_subset_and_bad_range():
    assert len(activations_figure(["tanh"], num=11).axes) == 1
    with pytest.raises(ValueError, match="contain 0"):
        activations_figure(x_range=(1.0, 3.0))
    with pytest.raises(ValueError, match="unknown activation"):
        activations_figure(["relu", "gelu"])


# --------------------------------------------------------------------------
# Softmax
# --------------------------------------------------------------------------


def test_softmax_jacobian_matches_finite_differences():
    z = np.array([0.3, -1.2, 2.0, 0.5])
    jac = softmax_jacobian(softmax(z))
    num = np.empty((4, 4))
    for j in range(4):
        e = np.zeros(4)
        e[j] = 1e-6
        num[:, j] = (softmax(z + e) - softmax(z - e)) / 2e-6
    np.testing.assert_allclose(jac, num, atol=1e-9)
    np.testing.assert_allclose(jac.sum(axis=0), 0, atol=1e-15)
    np.testing.assert_allclose(jac, jac.T)


def test_softmax_gradient_figure_draws_p_jacobian_and_gradient():
    z = np.array([2.0, 1.0, 0.1, -1.0])
    fig = softmax_gradient_figure(z, 1)
    ax_p, ax_j, ax_g = fig.axes
    p = softmax(z)
    heights = [b.get_height() for b in _patches(ax_p, "p")]
    np.testing.assert_allclose(heights, p, rtol=1e-12)
    np.testing.assert_allclose(ax_j.images[0].get_array(), softmax_jacobian(p))
    grads = [b.get_height() for b in _patches(ax_g, "dlogits")]
    y = np.array([0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(grads, p - y, rtol=1e-12, atol=1e-15)
    # the true class is the one bar drawn in a different colour
    colors = [tuple(b.get_facecolor()) for b in _patches(ax_p, "p")]
    assert len(set(colors)) == 2 and colors.count(colors[1]) == 1


def test_softmax_gradient_figure_rejects_bad_label():
    with pytest.raises(ValueError, match="label must lie in"):
        softmax_gradient_figure([0.0, 1.0], 2)


def test_saturation_curves_are_the_derivatives_of_the_losses():
    t = np.array([-6.0, -1.0, 0.0, 2.5])
    c = saturation_curves(t, num_classes=4)
    h = 1e-5
    plus, minus = saturation_curves(t + h, 4), saturation_curves(t - h, 4)
    for loss in ("ce", "mse"):
        np.testing.assert_allclose(
            c["d" + loss], (plus[loss] - minus[loss]) / (2 * h), rtol=1e-6, atol=1e-10
        )
    # closed forms: CE = -log p, dCE/dt = p - 1
    np.testing.assert_allclose(c["ce"], -np.log(c["p"]), rtol=1e-12)
    np.testing.assert_allclose(c["dce"], c["p"] - 1, rtol=1e-12)


def test_saturation_squared_error_gradient_vanishes_when_confidently_wrong():
    c = saturation_curves(np.array([-12.0]))
    assert c["dce"][0] < -0.99
    assert abs(c["dmse"][0]) < 1e-4


def test_loss_saturation_figure_draws_the_curves():
    fig = loss_saturation_figure((-4.0, 4.0), num=9, num_classes=3)
    ax_l, ax_g = fig.axes
    c = saturation_curves(np.linspace(-4.0, 4.0, 9), 3)
    for ax, keys in ((ax_l, ("ce", "mse")), (ax_g, ("dce", "dmse"))):
        for key in keys:
            (line,) = _lines(ax, key)
            np.testing.assert_array_equal(line.get_xdata(), c["t"])
            np.testing.assert_array_equal(line.get_ydata(), c[key])


# --------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------

X44 = np.array([[1, 3, 2, 0], [4, 3, 1, 2], [0, -1, -5, -6], [-2, 7, -7, -8]], dtype=float)


def _brute_force_winners(x, k, s, pads=((0, 0), (0, 0))):
    """First maximum (row-major) of every window, in unpadded coordinates."""
    (top, bottom), (left, right) = pads
    xp = np.pad(x, pads, constant_values=-np.inf)
    oh = (xp.shape[0] - k) // s + 1
    ow = (xp.shape[1] - k) // s + 1
    winners = []
    for i in range(oh):
        for j in range(ow):
            win = xp[i * s : i * s + k, j * s : j * s + k]
            p, q = divmod(int(np.argmax(win)), k)
            winners.append((i * s + p - top, j * s + q - left))
    return winners


def test_pool_windows_give_the_first_maximum():
    x = X44.copy()
    x[0, 0] = 4.0  # a tie with x[1, 0] in the first window: the first one wins
    _, cache = maxpool2d_forward(x[None, :, :, None], 2)
    wins = pool_windows(cache)
    assert [w.out for w in wins] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert (
        [w.winner for w in wins]
        == _brute_force_winners(x, 2, 2)
        == [(0, 0), (0, 2), (3, 1), (2, 2)]
    )
    assert wins[3].rows == (2, 4) and wins[3].cols == (2, 4)


def test_pool_windows_rejects_batches():
    _, cache = maxpool2d_forward(np.zeros((2, 4, 4, 1)), 2)
    with pytest.raises(ValueError, match="single-channel"):
        pool_windows(cache)


@pytest.mark.parametrize(
    "stride, padding, pads",
    [(2, 0, ((0, 0), (0, 0))), (1, 0, ((0, 0), (0, 0))), (2, 1, ((1, 1), (1, 1)))],
)
def test_max_pooling_figure_routes_every_gradient_to_its_winner(stride, padding, pads):
    rng = np.random.default_rng(0)
    x = rng.permutation(16).reshape(4, 4).astype(float) - 8.0
    out_ref, cache = maxpool2d_forward(x[None, :, :, None], 2, stride, padding)
    out = out_ref[0, :, :, 0]
    dout = np.arange(1.0, out.size + 1).reshape(out.shape)
    fig = pooling_figure(x, 2, stride, padding, dout=dout)
    ax_x, ax_o, ax_d, ax_dx = fig.axes
    top, left = pads[0][0], pads[1][0]
    # panels hold the arrays
    xp = np.asarray(ax_x.images[0].get_array().filled(np.nan))
    np.testing.assert_array_equal(xp[top : top + 4, left : left + 4], x)
    assert np.isnan(xp).sum() == xp.size - 16
    np.testing.assert_array_equal(ax_o.images[0].get_array(), out)
    np.testing.assert_array_equal(ax_d.images[0].get_array(), dout)
    # dx drawn is the gradient of sum(dout * maxpool(x)): built by hand from the winners
    winners = _brute_force_winners(x, 2, stride, pads)
    expected = np.zeros_like(x)
    for (r, c), g in zip(winners, dout.ravel()):
        expected[r, c] += g
    np.testing.assert_array_equal(ax_dx.images[0].get_array(), expected)
    # one window outline per output pixel, one winner tint each, one arrow each
    assert len(_patches(ax_x, "window")) == out.size
    tinted = sorted(_cell(p) for p in _patches(ax_x, "winner"))
    assert tinted == sorted((r + top, c + left) for r, c in winners)
    routes = [a for a in fig.artists if isinstance(a, ConnectionPatch) and a.get_gid() == "route"]
    assert len(routes) == out.size
    ends = [(round(a.xy2[1]), round(a.xy2[0])) for a in routes]
    starts = [(round(a.xy1[1]), round(a.xy1[0])) for a in routes]
    assert ends == winners
    assert starts == [(i, j) for i in range(out.shape[0]) for j in range(out.shape[1])]


def test_avg_pooling_figure_draws_the_backward_without_arrows():
    x = np.arange(9.0).reshape(3, 3)
    fig = pooling_figure(x, 2, 2, "same", mode="avg", dout=np.ones((2, 2)))
    ax_x, ax_o, ax_d, ax_dx = fig.axes
    # windows hold 4, 2, 2 and 1 real pixels: padding is not counted
    np.testing.assert_allclose(ax_o.images[0].get_array(), [[2.0, 3.5], [6.5, 8.0]])
    np.testing.assert_allclose(
        ax_dx.images[0].get_array(), [[0.25, 0.25, 0.5], [0.25, 0.25, 0.5], [0.5, 0.5, 1.0]]
    )
    assert not fig.artists
    assert not _patches(ax_x, "winner")
    assert len(_patches(ax_dx, "window")) == 4


def test_pooling_figure_forward_only_has_two_panels():
    fig = pooling_figure(X44, 2)
    assert len(fig.axes) == 2
    assert "max pooling" in fig._suptitle.get_text()


def test_pooling_figure_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        pooling_figure(X44, 2, mode="min")
    with pytest.raises(ValueError, match="dout must have the output's shape"):
        pooling_figure(X44, 2, dout=np.ones((3, 3)))
    with pytest.raises(ValueError, match="2-D"):
        pooling_figure(np.ones((1, 4, 4, 1)), 2)


def test_softmax_figures_write_the_books_notation():
    # the prediction is y-hat and the label tau (p is padding, y a layer's output)
    from convlib.plotting.layers_diagrams import loss_saturation_figure, softmax_gradient_figure

    fig = softmax_gradient_figure([2.0, 1.0, 0.1, -1.0], label=1)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == r"$\hat y = \mathrm{softmax}(z)$"
    assert r"\hat y_k / \partial z_{k'}" in titles[1]
    assert titles[2] == r"$\partial L / \partial z = \hat y - \tau$"
    assert (fig.axes[1].get_xlabel(), fig.axes[1].get_ylabel()) == ("$k'$", "$k$")
    fig = loss_saturation_figure((-8.0, 8.0), num_classes=3)
    labels = [ln.get_label() for ax in fig.axes for ln in ax.get_lines() if ln.get_gid()]
    assert r"squared error of $\hat y$" in labels and not any("$p$" in s for s in labels)
