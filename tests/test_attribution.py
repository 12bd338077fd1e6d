"""Input gradients (convlib.attribution) against finite differences on small float64 networks."""

from __future__ import annotations

import numpy as np
import pytest

from convlib import numerical_gradient, prepare_images, rel_error, softmax_cross_entropy
from convlib.attribution import (
    fgsm,
    prepared_pixel_range,
    score_gradient,
    smoothgrad,
    unit_gradient,
    unit_receptive_field,
)
from convlib.layers import (
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPool2D,
    ReLU,
)
from convlib.model import Sequential, build_lenet

F64 = np.float64


def small_net(seed: int = 0) -> Sequential:
    """conv, ReLU, max pool, batch norm (non-trivial running statistics), dense: 10 x 10 x 2 in."""
    rng = np.random.default_rng(seed)
    net = Sequential(
        [
            Conv2D(2, 3, 3, rng=rng, dtype=F64),
            ReLU(dtype=F64),
            MaxPool2D(2, dtype=F64),
            BatchNorm(3, dtype=F64),
            Flatten(dtype=F64),
            Dense(4 * 4 * 3, 8, rng=rng, dtype=F64),
            ReLU(dtype=F64),
            Dropout(0.5, rng=rng, dtype=F64),
            Dense(8, 4, rng=rng, dtype=F64),
        ]
    )
    bn = net[3]
    bn.buffers["running_mean"][...] = rng.standard_normal(3) * 0.1
    bn.buffers["running_var"][...] = rng.uniform(0.5, 2.0, 3)
    bn.params["gamma"][...] = rng.uniform(0.5, 1.5, 3)
    return net


def batch(n: int = 3, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 10, 10, 2))


def eval_scores(net: Sequential, classes: np.ndarray):
    def f(x: np.ndarray) -> np.ndarray:
        net.eval()
        try:
            return net.forward(x)[np.arange(len(x)), classes]
        finally:
            net.train()

    return f


# ---------------------------------------------------------------- score_gradient
def test_score_gradient_matches_finite_differences():
    net, x = small_net(), batch()
    classes = np.array([0, 3, 1])
    dx = score_gradient(net, x, classes)
    assert dx.shape == x.shape and dx.dtype == F64
    numeric = numerical_gradient(eval_scores(net, classes), x.copy())
    assert rel_error(dx, numeric) < 1e-7
    assert np.abs(dx).max() > 1e-3  # not a vanishing gradient


def test_score_gradient_rows_are_per_example_and_int_class_means_all():
    net, x = small_net(), batch()
    together = score_gradient(net, x, 2)
    alone = np.concatenate([score_gradient(net, x[n : n + 1], 2) for n in range(len(x))])
    np.testing.assert_allclose(together, alone, rtol=1e-12, atol=1e-14)


def test_score_gradient_restores_the_mode_and_uses_evaluation_mode():
    net, x = small_net(), batch()
    net.train()
    first = score_gradient(net, x, 1)
    assert net.training
    # dropout in training mode would make two calls differ; evaluation mode does not
    np.testing.assert_array_equal(first, score_gradient(net, x, 1))
    net.eval()
    score_gradient(net, x, 1)
    assert not net.training


class Linear:
    """A model that is not a Sequential: scores x @ a, no eval/train methods."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x @ self.a

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout @ self.a.T


def test_score_gradient_of_any_model_with_forward_and_backward():
    a = np.random.default_rng(0).standard_normal((5, 3))
    dx = score_gradient(Linear(a), np.ones((2, 5)), [2, 0])
    np.testing.assert_array_equal(dx, np.stack([a[:, 2], a[:, 0]]))


# ---------------------------------------------------------------- smoothgrad
def test_smoothgrad_is_the_mean_of_finite_difference_gradients_at_the_noisy_points():
    net, x = small_net(), batch(2)
    classes = np.array([1, 2])
    got = smoothgrad(net, x, classes, samples=3, noise=0.1, rng=7)
    gen = np.random.default_rng(7)
    scale = 0.1 * (x.reshape(2, -1).max(axis=1) - x.reshape(2, -1).min(axis=1))
    expected = np.zeros_like(x)
    for _ in range(3):
        noisy = x + scale[:, None, None, None] * gen.standard_normal(x.shape)
        expected += numerical_gradient(eval_scores(net, classes), noisy) / 3
    assert rel_error(got, expected) < 1e-7
    assert rel_error(got, score_gradient(net, x, classes)) > 1e-3  # the noise changed it


def test_smoothgrad_is_seeded_and_noise_zero_is_the_plain_gradient():
    net, x = small_net(), batch(2)
    np.testing.assert_array_equal(smoothgrad(net, x, 0, rng=3), smoothgrad(net, x, 0, rng=3))
    assert not np.array_equal(smoothgrad(net, x, 0, rng=3), smoothgrad(net, x, 0, rng=4))
    np.testing.assert_allclose(
        smoothgrad(net, x, 0, samples=2, noise=0.0), score_gradient(net, x, 0), rtol=1e-12
    )


# ---------------------------------------------------------------- unit_gradient
def test_unit_gradient_matches_finite_differences():
    net, x = small_net(), batch(2)
    unit = (1, 2, 1)  # a unit of the max pooling's output, 4 x 4 x 3

    def f(xx: np.ndarray) -> np.ndarray:
        out = xx
        for lay in net.layers[:3]:
            out = lay.forward(out)
        return out[(slice(None), *unit)]

    dx = unit_gradient(net, x, 2, unit)
    assert dx.shape == x.shape and np.abs(dx).max() > 1e-3
    assert rel_error(dx, numerical_gradient(f, x.copy())) < 1e-7
    np.testing.assert_array_equal(unit_gradient(net, x, -7, unit), dx)  # negative index


def test_unit_gradient_of_a_convolution_is_its_filter_in_its_window():
    net, x = small_net(), batch(2)
    dx = unit_gradient(net, x, 0, (3, 5, 1))
    w = net[0].params["w"][..., 1]  # (3, 3, 2): the filter of unit f = 1
    np.testing.assert_array_equal(dx[:, 3:6, 5:8, :], np.broadcast_to(w, (2, 3, 3, 2)))
    dx[:, 3:6, 5:8, :] = 0
    assert not dx.any()  # zero outside the 3 x 3 window


def test_unit_gradient_stays_inside_the_theoretical_receptive_field():
    net = build_lenet(seed=0, dtype=F64)
    x = np.random.default_rng(0).standard_normal((40, 28, 28, 1))
    g = np.abs(unit_gradient(net, x, 3, (5, 6, 0))).mean(axis=0)[..., 0]
    rows, cols = unit_receptive_field(net, 3, 5, 6, (28, 28, 1))
    assert (rows, cols) == (slice(10, 18), slice(12, 20))
    inside = np.zeros_like(g, bool)
    inside[rows, cols] = True
    assert not g[~inside].any()
    assert (g[inside] > 0).all()  # over 40 inputs every pixel of the field is reached


def test_unit_receptive_field_with_padding_stride_and_dilation_is_the_support():
    # no ReLU, average pooling: every weight is reached, so the support is the field
    rng = np.random.default_rng(0)
    net = Sequential(
        [
            Conv2D(1, 2, 3, stride=2, padding="same", rng=rng, dtype=F64),
            AvgPool2D(2, stride=1, dtype=F64),
            Conv2D(2, 1, 3, dilation=2, rng=rng, dtype=F64),
        ]
    )
    x = rng.standard_normal((1, 21, 21, 1))
    out_hw = net.forward(x).shape[1:3]
    for i, j in [(0, 0), (out_hw[0] - 1, 2), (3, out_hw[1] - 1)]:
        g = unit_gradient(net, x, 2, (i, j, 0))[0, ..., 0]
        rows, cols = unit_receptive_field(net, 2, i, j, (21, 21, 1))
        support = np.argwhere(g != 0)
        assert (support[:, 0].min(), support[:, 0].max() + 1) == (rows.start, rows.stop)
        assert (support[:, 1].min(), support[:, 1].max() + 1) == (cols.start, cols.stop)
    # the corner unit of "same" padding: the field is clipped to the image
    assert unit_receptive_field(net, 0, 0, 0, (21, 21, 1)) == (slice(0, 2), slice(0, 2))


# ---------------------------------------------------------------- fgsm
def test_fgsm_step_is_eps_times_the_sign_of_the_loss_gradient():
    net = small_net()
    x = np.round(batch() * 8) / 8  # multiples of 1/8: x + 0.25 * sign is exact
    labels = np.array([0, 1, 3])
    x_adv = fgsm(net, x, labels, 0.25)
    np.testing.assert_array_equal(x_adv - x, 0.25 * np.sign(x_adv - x))

    def loss(xx: np.ndarray) -> np.ndarray:
        net.eval()
        try:
            z = net.forward(xx)
        finally:
            net.train()
        return np.array(softmax_cross_entropy(z, labels)[0] * len(xx))

    numeric = numerical_gradient(loss, x.copy())
    big = np.abs(numeric) > 1e-6
    assert big.mean() > 0.5
    np.testing.assert_array_equal(np.sign(x_adv - x)[big], np.sign(numeric[big]))
    assert loss(x_adv) > loss(x)
    np.testing.assert_array_equal(fgsm(net, x, labels, 0.0), x)


def test_fgsm_clips_to_the_valid_range():
    net, x = small_net(), np.clip(batch(), -0.5, 0.5)
    x_adv = fgsm(net, x, [0, 1, 2], 0.3, clip=(-0.6, 0.6))
    assert x_adv.min() >= -0.6 and x_adv.max() <= 0.6
    assert np.isclose(np.abs(x_adv - x).max(), 0.3)
    assert (np.abs(x_adv - x) < 0.3 - 1e-12).any()  # some moved less: clipped


def test_prepared_pixel_range_is_black_and_white_prepared():
    low, high = prepared_pixel_range()
    black_white = prepare_images(np.array([[[0, 255]]], dtype=np.uint8))
    np.testing.assert_allclose(black_white.ravel(), [low, high], rtol=1e-6)


# ---------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(
    ("call", "exc", "words"),
    [
        (lambda net, x: score_gradient(5, x, 0), TypeError, ("model", "forward")),
        (lambda net, x: score_gradient(net, x[0, 0, 0], 0), ValueError, ("x", "(2,)")),
        (lambda net, x: score_gradient(net, x, 4), ValueError, ("classes", "[0, 4)")),
        (lambda net, x: score_gradient(net, x, [0, 1]), ValueError, ("classes", "(3,)")),
        (lambda net, x: score_gradient(net, x, 1.0), TypeError, ("classes",)),
        (lambda net, x: score_gradient(net, "img", 1), TypeError, ("x",)),
        (lambda net, x: smoothgrad(net, x, 0, samples=0), ValueError, ("samples",)),
        (lambda net, x: smoothgrad(net, x, 0, noise=-1), ValueError, ("noise",)),
        (lambda net, x: smoothgrad(net, x, 0, rng="a"), TypeError, ("rng",)),
        (lambda net, x: unit_gradient(Linear(np.eye(2)), x, 0, (0,)), TypeError, ("model",)),
        (lambda net, x: unit_gradient(net, x, 9, (0, 0, 0)), ValueError, ("layer", "9")),
        (lambda net, x: unit_gradient(net, x, 1.5, (0, 0, 0)), TypeError, ("layer",)),
        (lambda net, x: unit_gradient(net, x, 0, (0, 0)), ValueError, ("unit", "(8, 8, 3)")),
        (lambda net, x: unit_gradient(net, x, 0, (8, 0, 0)), ValueError, ("unit",)),
        (lambda net, x: unit_gradient(net, x, 0, "0"), TypeError, ("unit",)),
        (lambda net, x: unit_receptive_field(net, 5, 0, 0, (10, 10, 2)), ValueError, ("Flatten",)),
        (
            lambda net, x: unit_receptive_field(net, 0, 8, 0, (10, 10, 2)),
            ValueError,
            ("(8, 8, 3)",),
        ),
        (lambda net, x: fgsm(net, x, [0, 1, 2], -0.1), ValueError, ("eps",)),
        (lambda net, x: fgsm(net, x, [0, 1, 2], 0.1, clip=(1, 0)), ValueError, ("clip",)),
        (lambda net, x: fgsm(net, x, [0, 1, 2], 0.1, clip="01"), TypeError, ("clip",)),
        (lambda net, x: fgsm(net, x, [0, 1], 0.1), ValueError, ("labels",)),
        (lambda net, x: prepared_pixel_range(std=0), ValueError, ("std",)),
    ],
)
def test_bad_inputs_are_refused_with_the_argument_named(call, exc, words):
    with pytest.raises(exc) as info:
        call(small_net(), batch())
    for word in words:
        assert word in str(info.value)
