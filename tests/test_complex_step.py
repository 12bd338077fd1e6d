"""Tests of convlib.complex_step_gradient and of the opt-in complex path of convlib._checks.

The complex step must agree with convlib's analytic backward passes to
rounding (far closer than centred differences can), catch a deliberately
wrong backward, and refuse -- with a message saying why -- every function
that would drop the imaginary part.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import convlib
from convlib import (
    complex_step_gradient,
    conv2d_backward,
    conv2d_forward,
    numerical_gradient,
    rel_error,
)
from convlib._checks import as_numeric_or_complex_array, complex_step_inputs, float_dtype

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 6, 5, 3))
W = RNG.standard_normal((3, 3, 3, 4))
B = RNG.standard_normal(4)


def _dout(shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(1).standard_normal(shape)


# --------------------------------------------------------------------------
# agreement with analytic gradients, to rounding
# --------------------------------------------------------------------------

LAYERS = {
    "relu": (convlib.relu_forward, convlib.relu_backward, {}),
    "leaky_relu": (convlib.leaky_relu_forward, convlib.leaky_relu_backward, {"alpha": 0.1}),
    "tanh": (convlib.tanh_forward, convlib.tanh_backward, {}),
    "conv x": (
        lambda v, **k: conv2d_forward(v, W, B, **k),
        lambda d, c: conv2d_backward(d, c)[0],
        {"stride": 2, "padding": "same"},
    ),
    "conv_im2col x": (
        lambda v, **k: convlib.conv2d_forward_im2col(v, W, B, **k),
        lambda d, c: convlib.conv2d_backward_im2col(d, c)[0],
        {"padding": 1, "dilation": 2},
    ),
    "conv_naive x": (
        lambda v, **k: convlib.conv2d_forward_naive(v, W, B, **k),
        lambda d, c: convlib.conv2d_backward_naive(d, c)[0],
        {"stride": (1, 2)},
    ),
    "maxpool": (convlib.maxpool2d_forward, convlib.maxpool2d_backward, {"pool_size": 2}),
    "maxpool_windows": (
        convlib.maxpool2d_forward_windows,
        convlib.maxpool2d_backward_windows,
        {"pool_size": 3, "stride": 2, "padding": "same"},
    ),
    "maxpool_naive": (
        convlib.maxpool2d_forward_naive,
        convlib.maxpool2d_backward_naive,
        {"pool_size": 2, "stride": 1},
    ),
    "avgpool": (
        convlib.avgpool2d_forward,
        convlib.avgpool2d_backward,
        {"pool_size": 2, "padding": "same"},
    ),
    "flatten": (convlib.flatten_forward, convlib.flatten_backward, {}),
    "batchnorm eval": (
        lambda v: convlib.batchnorm_forward(
            v, np.full(3, 1.5), np.full(3, 0.2), np.full(3, 0.1), np.full(3, 2.0), training=False
        ),
        lambda d, c: convlib.batchnorm_backward(d, c)[0],
        {},
    ),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_complex_step_matches_the_analytic_backward(name: str) -> None:
    forward, backward, options = LAYERS[name]
    out, cache = forward(X, **options)
    dout = _dout(out.shape)
    analytic = backward(dout, cache)
    cs = complex_step_gradient(lambda v: forward(v, **options)[0], X, dout)
    assert cs.shape == X.shape and cs.dtype == X.dtype
    # rounding of float64 sums, not the 1e-8 of centred differences
    assert rel_error(cs, analytic) < 1e-12


def test_dense_in_x_and_w() -> None:
    x, w = X[:, 0, 0, :], W[0, 0]
    out, cache = convlib.dense_forward(x, w, B)
    dout = _dout(out.shape)
    dx, dw, _ = convlib.dense_backward(dout, cache)
    assert (
        rel_error(complex_step_gradient(lambda v: convlib.dense_forward(v, w, B)[0], x, dout), dx)
        < 1e-13
    )
    assert (
        rel_error(complex_step_gradient(lambda v: convlib.dense_forward(x, v, B)[0], w, dout), dw)
        < 1e-13
    )


def test_log_softmax_gives_the_cross_entropy_gradient() -> None:
    z, labels = X[:, 0, 0, :], np.array([0, 2])
    _, dz = convlib.softmax_cross_entropy(z, labels)
    cs = complex_step_gradient(lambda v: -convlib.log_softmax(v)[[0, 1], labels].mean(), z)
    assert rel_error(cs, dz) < 1e-14
    assert (
        rel_error(
            complex_step_gradient(convlib.softmax, z, _dout(z.shape)),
            numerical_gradient(convlib.softmax, z.copy(), _dout(z.shape)),
        )
        < 1e-7
    )


def test_a_whole_network_in_eval_mode_matches_its_backward() -> None:
    """The capstone (conv, batch norm, ReLU, pooling, dropout, dense) in evaluation mode."""
    model = convlib.build_capstone(dtype=np.float64).eval()
    x = np.random.default_rng(2).standard_normal((1, 28, 28, 1))
    patch = (slice(None), slice(13, 15), slice(13, 15), slice(None))

    def logit(v: np.ndarray) -> np.ndarray:
        full = x.astype(v.dtype)
        full[patch] = v
        return model.forward(full)[:, 3]

    cs = complex_step_gradient(logit, x[patch].copy())
    model.forward(x)
    dout = np.zeros((1, 10))
    dout[0, 3] = 1.0
    assert rel_error(cs, model.backward(dout)[patch]) < 1e-12


def test_complex_step_beats_centred_differences() -> None:
    """Exact to rounding where the centred difference loses digits, for any tiny h."""
    x = np.array([10.0, 20.0])
    exact = np.exp(x)
    assert rel_error(complex_step_gradient(np.exp, x), exact) < 1e-15  # a few ulps
    assert rel_error(complex_step_gradient(np.exp, x, h=1e-100), exact) < 1e-15
    assert rel_error(numerical_gradient(np.exp, x.copy()), exact) > 1e-12


def test_complex_step_agrees_with_numerical_gradient() -> None:
    def f(v: np.ndarray) -> Any:
        out, _ = convlib.tanh_forward(conv2d_forward(v, W, None, padding="same")[0])
        return out

    dout = _dout((2, 6, 5, 4))
    assert (
        rel_error(complex_step_gradient(f, X, dout), numerical_gradient(f, X.copy(), dout)) < 1e-7
    )


def test_relu_at_the_kink_takes_the_right_slope() -> None:
    """np.maximum orders complex numbers by real part, then imaginary: at 0 the step goes right."""
    x = np.array([-1.0, 0.0, 2.0])
    g = complex_step_gradient(lambda v: convlib.relu_forward(v)[0], x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0])


def test_a_float32_x_gets_a_complex64_step_and_a_float32_gradient() -> None:
    seen = []

    def f(v: np.ndarray) -> np.ndarray:
        seen.append(v.dtype)
        return v**2

    g = complex_step_gradient(f, np.array([1.5, -2.0], dtype=np.float32))
    assert g.dtype == np.float32 and set(seen) == {np.dtype(np.complex64)}
    np.testing.assert_allclose(g, [3.0, -4.0], rtol=1e-6)


# --------------------------------------------------------------------------
# a deliberately wrong backward is caught
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bug",
    [
        lambda dx: dx[:, ::-1],  # rows flipped
        lambda dx: 2 * dx,  # a factor of 2
        lambda dx: dx + 1e-9 * (np.arange(dx.size) == 3).reshape(dx.shape),  # tiny, one entry
    ],
)
def test_a_wrong_backward_disagrees(bug: Any) -> None:
    out, cache = conv2d_forward(X, W, B, stride=2)
    dout = _dout(out.shape)
    right = conv2d_backward(dout, cache)[0]
    cs = complex_step_gradient(lambda v: conv2d_forward(v, W, B, stride=2)[0], X, dout)
    assert rel_error(cs, right) < 1e-13
    assert rel_error(cs, bug(right)) > 1e-11


# --------------------------------------------------------------------------
# the opt-in complex path: who refuses, and how
# --------------------------------------------------------------------------


def test_complex_input_is_refused_outside_complex_step_gradient() -> None:
    with pytest.raises(TypeError, match=r"accepted only inside convlib\.complex_step_gradient"):
        convlib.relu_forward(X + 0j)
    with pytest.raises(TypeError, match="accepted only inside"):
        conv2d_forward(X + 0j, W, B)
    with pytest.raises(TypeError, match="must hold real numbers"):
        convlib.sigmoid_forward(X + 0j)


@pytest.mark.parametrize(
    "call",
    [
        lambda v: convlib.sigmoid_forward(v)[0],  # np.abs inside
        lambda v: convlib.batchnorm_forward(
            v, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), training=True
        )[0],
        lambda v: convlib.dropout_forward(v, 0.5, np.random.default_rng(0), training=True)[0],
        lambda v: convlib.softmax_cross_entropy(v[:, 0, 0, :], np.array([0, 1]))[0],
        lambda v: convlib.mse_loss(v, np.zeros_like(X))[0],
    ],
)
def test_layers_that_cannot_support_it_refuse_inside_complex_step(call: Any) -> None:
    with pytest.raises(TypeError, match="does not support the complex-step derivative"):
        complex_step_gradient(call, X[:1, :2, :2])


def test_a_training_mode_model_refuses() -> None:
    model = convlib.build_capstone(dtype=np.float64)  # training mode: batch norm refuses
    x = np.random.default_rng(2).standard_normal((2, 28, 28, 1))
    with pytest.raises(TypeError, match="does not support the complex-step derivative"):
        complex_step_gradient(lambda v: model.forward(x + 0 * v.sum())[:, 0], np.zeros(1))


def test_an_f_returning_a_real_dtype_is_reported() -> None:
    with pytest.raises(TypeError, match=r"f returned dtype float64 for complex input"):
        complex_step_gradient(lambda v: np.abs(v) ** 2, X[0, 0])
    with pytest.raises(TypeError, match=r"returned dtype float64"):
        complex_step_gradient(lambda v: v.real * 2, X[0, 0])


def test_an_f_that_casts_to_real_is_reported_not_zero() -> None:
    with pytest.raises(TypeError, match="dropped the imaginary part"):
        complex_step_gradient(lambda v: v.astype(np.float64) ** 2 + 0j, X[0, 0])


def test_an_f_complex_at_real_x_is_refused() -> None:
    with pytest.raises(ValueError, match="nonzero imaginary part at the real x"):
        complex_step_gradient(lambda v: v + 1j, X[0, 0])


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="x must be a real floating-point"):
        complex_step_gradient(np.sin, np.arange(3))
    with pytest.raises(TypeError, match="x must be a real floating-point"):
        complex_step_gradient(np.sin, np.ones(3) + 0j)
    with pytest.raises(TypeError, match="f must be callable"):
        complex_step_gradient(None, np.ones(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="h must be"):
        complex_step_gradient(np.sin, np.ones(3), h=0.0)
    with pytest.raises(ValueError, match=r"dout has shape \(2,\)"):
        complex_step_gradient(np.sin, np.ones(3), np.ones(2))

    def in_place(v: np.ndarray) -> np.ndarray:
        v *= 2
        return v

    with pytest.raises(ValueError, match="modified its argument in place"):
        complex_step_gradient(in_place, np.ones(3))


def test_x_is_left_unchanged() -> None:
    x = X.copy()
    complex_step_gradient(lambda v: convlib.relu_forward(v)[0], x)
    np.testing.assert_array_equal(x, X)


def test_the_shared_check_opts_in_only_inside_the_context() -> None:
    z = np.ones(2, dtype=np.complex128)
    with pytest.raises(TypeError, match="accepted only inside"):
        as_numeric_or_complex_array("x", z)
    with complex_step_inputs():
        assert as_numeric_or_complex_array("x", z) is z
        assert float_dtype(z) == np.complex128  # never cast to float64
    with pytest.raises(TypeError):
        as_numeric_or_complex_array("x", z)  # closed again
    assert as_numeric_or_complex_array("x", [1, 2]).dtype.kind == "i"  # real input as before
