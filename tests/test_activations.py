"""Tests of the element-wise activations: values, derivatives, stability, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convlib import check_gradients
from convlib.activations import (
    ActivationCache,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)

PAIRS = [
    pytest.param(relu_forward, relu_backward, id="relu"),
    pytest.param(leaky_relu_forward, leaky_relu_backward, id="leaky_relu"),
    pytest.param(sigmoid_forward, sigmoid_backward, id="sigmoid"),
    pytest.param(tanh_forward, tanh_backward, id="tanh"),
]


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal values pushed at least 0.1 away from the ReLU kink at 0."""
    x = rng.normal(size=shape)
    return x + 0.1 * np.sign(x)


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------


def test_relu_values_and_gradient_at_zero():
    x = np.array([[-2.0, -0.0, 0.0, 1e-300, 3.0]])
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 0.0, 1e-300, 3.0]])
    assert not np.signbit(out).any()  # no -0.0 from negative inputs
    # The derivative at 0 is taken as 0.
    np.testing.assert_array_equal(relu_backward(np.full((1, 5), 7.0), cache), [[0, 0, 0, 7, 7]])


@pytest.mark.parametrize("alpha", [0.01, 0.2, 0.0, 1.5, -0.3])
def test_leaky_relu_values_and_gradient_at_zero(alpha):
    x = np.array([-2.0, 0.0, 3.0])
    out, cache = leaky_relu_forward(x, alpha=alpha)
    np.testing.assert_array_equal(out, [-2.0 * alpha, 0.0, 3.0])
    # At 0 the slope of the negative side, alpha.
    np.testing.assert_array_equal(
        leaky_relu_backward(np.full(3, 2.0), cache), [2 * alpha, 2 * alpha, 2.0]
    )


def test_leaky_relu_default_alpha():
    out, _ = leaky_relu_forward(np.array([-100.0]))
    np.testing.assert_allclose(out, [-1.0])


def test_sigmoid_values():
    x = np.linspace(-30, 30, 61)
    out, _ = sigmoid_forward(x)
    np.testing.assert_allclose(out, [1 / (1 + math.exp(-v)) for v in x], rtol=1e-14)
    np.testing.assert_allclose(out + sigmoid_forward(-x)[0], 1.0, rtol=1e-15)


def test_tanh_values():
    x = np.linspace(-5, 5, 41)
    out, _ = tanh_forward(x)
    np.testing.assert_allclose(out, [math.tanh(v) for v in x], rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_is_stable_for_huge_inputs(dtype):
    x = np.array([-1e4, -800.0, -100.0, 0.0, 100.0, 800.0, 1e4, np.finfo(dtype).max], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, cache = sigmoid_forward(x)
        dx = sigmoid_backward(np.ones_like(x), cache)
    assert np.isfinite(out).all() and np.isfinite(dx).all()
    assert out[0] == 0.0 and out[3] == 0.5 and out[-1] == 1.0
    assert ((out >= 0) & (out <= 1)).all()


def test_sigmoid_left_tail_keeps_relative_precision():
    # sigmoid(x) ~ exp(x) for very negative x; 1 - sigmoid(-x) would give 0.
    x = np.array([-40.0, -300.0, -700.0])
    out, _ = sigmoid_forward(x)
    np.testing.assert_allclose(out, np.exp(x) / (1 + np.exp(x)), rtol=1e-14)
    assert (out > 0).all()


def test_tanh_is_stable_for_huge_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out, cache = tanh_forward(np.array([-1e6, 1e6]))
        dx = tanh_backward(np.ones(2), cache)
    np.testing.assert_array_equal(out, [-1.0, 1.0])
    np.testing.assert_array_equal(dx, [0.0, 0.0])


# --------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 4, 4, 3)])
@pytest.mark.parametrize("forward, backward", PAIRS)
def test_gradient_check(forward, backward, shape):
    x = away_from_zero(np.random.default_rng(0), shape)
    report = check_gradients(forward, backward, {"x": x})
    assert report.max_rel_error["x"] < 1e-7


def test_leaky_relu_gradient_check_with_alpha():
    x = away_from_zero(np.random.default_rng(1), (4, 6))
    report = check_gradients(leaky_relu_forward, leaky_relu_backward, {"x": x}, alpha=0.3)
    assert report.max_rel_error["x"] < 1e-7


def test_sigmoid_and_tanh_derivatives_by_formula():
    x = np.linspace(-4, 4, 17)
    s = 1 / (1 + np.exp(-x))
    _, cs = sigmoid_forward(x)
    np.testing.assert_allclose(sigmoid_backward(np.ones_like(x), cs), s * (1 - s), rtol=1e-13)
    _, ct = tanh_forward(x)
    np.testing.assert_allclose(tanh_backward(np.ones_like(x), ct), 1 / np.cosh(x) ** 2, rtol=1e-12)


# --------------------------------------------------------------------------
# Shapes and dtypes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("forward, backward", PAIRS)
def test_float32_stays_float32(forward, backward):
    x = np.random.default_rng(2).normal(size=(2, 3, 3, 4)).astype(np.float32)
    out, cache = forward(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    dx = backward(np.ones_like(out), cache)
    assert dx.dtype == np.float32 and dx.shape == x.shape


@pytest.mark.parametrize("forward, backward", PAIRS)
def test_integer_input_becomes_float64(forward, backward):
    out, cache = forward(np.array([[-2, 0, 3]]))
    assert out.dtype == np.float64
    assert backward(np.array([[1, 1, 1]]), cache).dtype == np.float64


@pytest.mark.parametrize("forward, backward", PAIRS)
def test_forward_does_not_modify_input(forward, backward):
    x = np.random.default_rng(3).normal(size=(4, 5))
    before = x.copy()
    out, cache = forward(x)
    out *= 2
    backward(np.ones_like(x), cache)
    np.testing.assert_array_equal(x, before)


# --------------------------------------------------------------------------
# Bad arguments
# --------------------------------------------------------------------------


@pytest.mark.parametrize("forward, backward", PAIRS)
def test_bad_dout_shape(forward, backward):
    _, cache = forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"dout has shape \(3, 2\) .* \(2, 3\)"):
        backward(np.zeros((3, 2)), cache)


@pytest.mark.parametrize("forward, backward", PAIRS)
def test_bad_cache(forward, backward):
    with pytest.raises(TypeError, match="cache must be the ActivationCache"):
        backward(np.zeros(3), np.zeros(3))


def test_cache_from_another_activation_is_refused():
    _, cache = sigmoid_forward(np.zeros(3))
    assert isinstance(cache, ActivationCache)
    with pytest.raises(
        TypeError, match="returned by relu_forward, got an ActivationCache from sigmoid"
    ):
        relu_backward(np.zeros(3), cache)


@pytest.mark.parametrize("forward, backward", PAIRS)
def test_non_numeric_input(forward, backward):
    with pytest.raises(TypeError, match="x must hold real numbers"):
        forward(np.array(["a", "b"]))


@pytest.mark.parametrize(
    "alpha, error, match",
    [
        ("0.1", TypeError, "alpha must be a real number"),
        (True, TypeError, "alpha"),
        (float("nan"), ValueError, "alpha must be a finite number"),
    ],
)
def test_bad_alpha(alpha, error, match):
    with pytest.raises(error, match=match):
        leaky_relu_forward(np.zeros(3), alpha=alpha)
