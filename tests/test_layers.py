"""Layer classes: shapes, gradients (float64, centered differences), modes, misuse."""

from __future__ import annotations

import numpy as np
import pytest

from convlib.gradcheck import numerical_gradient, rel_error
from convlib.layers import (
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Tanh,
    as_generator,
)

F64 = np.float64


def layer_cases():
    """(layer factory, per-example input shape) covering every class and a few options."""
    return [
        (lambda: Conv2D(2, 3, 3, dtype=F64), (7, 6, 2)),
        (lambda: Conv2D(2, 3, (3, 2), stride=2, padding="same", dtype=F64), (7, 6, 2)),
        (lambda: Conv2D(1, 2, 2, padding=1, dilation=2, bias=False, dtype=F64), (5, 5, 1)),
        (lambda: Dense(5, 4, dtype=F64), (5,)),
        (lambda: Dense(5, 4, bias=False, init="glorot", dtype=F64), (5,)),
        (lambda: MaxPool2D(2, dtype=F64), (6, 5, 3)),
        (lambda: MaxPool2D(3, stride=2, padding=1, dtype=F64), (7, 7, 2)),
        (lambda: AvgPool2D(2, dtype=F64), (6, 6, 2)),
        (lambda: AvgPool2D(3, stride=1, padding="same", dtype=F64), (4, 5, 2)),
        (lambda: ReLU(dtype=F64), (3, 4, 2)),
        (lambda: LeakyReLU(0.1, dtype=F64), (6,)),
        (lambda: Sigmoid(dtype=F64), (3, 3, 2)),
        (lambda: Tanh(dtype=F64), (5,)),
        (lambda: Flatten(dtype=F64), (3, 2, 4)),
        (lambda: BatchNorm(4, dtype=F64), (4,)),
        (lambda: BatchNorm(3, dtype=F64), (3, 2, 3)),
        (lambda: Dropout(0.3, rng=5, dtype=F64), (4, 3)),
    ]


CASES = layer_cases()
IDS = [f"{type(make()).__name__}-{i}" for i, (make, _) in enumerate(CASES)]


@pytest.mark.parametrize("make, shape", CASES, ids=IDS)
def test_output_shape_matches_forward(make, shape):
    layer = make()
    x = np.random.default_rng(0).standard_normal((3, *shape))
    out = layer.forward(x)
    assert out.shape == (3, *layer.output_shape(shape))
    assert out.dtype == F64


@pytest.mark.parametrize("make, shape", CASES, ids=IDS)
def test_gradients_match_centered_differences(make, shape):
    """dx and every parameter gradient, float64, against numerical_gradient."""
    layer = make()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, *shape))
    for key in layer.params:  # move parameters away from their special initial values
        layer.params[key][...] = rng.standard_normal(layer.params[key].shape)

    def run(_: np.ndarray) -> np.ndarray:
        if isinstance(layer, Dropout):
            layer.rng = np.random.default_rng(7)  # the same mask on every call
        return layer.forward(x)

    out = run(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    assert dx.shape == x.shape
    assert rel_error(dx, numerical_gradient(run, x, dout)) < 1e-7
    for key, value in layer.params.items():
        run(x)
        layer.backward(dout)
        analytic = layer.grads[key].copy()
        numeric = numerical_gradient(run, value, dout)
        assert rel_error(analytic, numeric) < 1e-7, key


def test_backward_writes_gradients_in_place():
    conv = Conv2D(1, 2, 3, rng=0)
    ids = {k: id(v) for k, v in conv.grads.items()}
    x = np.ones((2, 5, 5, 1), dtype=np.float32)
    conv.backward(np.ones_like(conv.forward(x)))
    assert {k: id(v) for k, v in conv.grads.items()} == ids
    # db = sum of dout over N, OH, OW = 2 * 3 * 3 per filter
    np.testing.assert_array_equal(conv.grads["b"], [18.0, 18.0])


def test_default_dtype_is_float32_and_inputs_are_cast():
    dense = Dense(3, 2)
    assert dense.params["w"].dtype == np.float32 and dense.params["b"].dtype == np.float32
    out = dense.forward(np.ones((4, 3), dtype=np.float64))
    assert out.dtype == np.float32
    assert dense.backward(np.ones((4, 2))).dtype == np.float32
    assert ReLU().forward(np.array([[1, -2]], dtype=np.int64)).dtype == np.float32


def test_seeded_initialisation():
    a, b = Conv2D(3, 4, 3, rng=1), Conv2D(3, 4, 3, rng=1)
    np.testing.assert_array_equal(a.params["w"], b.params["w"])
    assert not np.array_equal(a.params["w"], Conv2D(3, 4, 3, rng=2).params["w"])
    # a shared generator gives different weights to the layers that draw from it
    g = np.random.default_rng(0)
    c, d = Dense(4, 4, rng=g), Dense(4, 4, rng=g)
    assert not np.array_equal(c.params["w"], d.params["w"])
    np.testing.assert_array_equal(Dense(4, 4).params["w"], Dense(4, 4, rng=0).params["w"])


def test_he_and_glorot_scales():
    he = Conv2D(64, 128, 3, rng=0, dtype=F64).params["w"]  # fan_in = 576
    assert he.std() == pytest.approx(np.sqrt(2 / 576), rel=0.02)
    assert abs(he.mean()) < 0.003
    gl = Dense(300, 100, init="glorot", rng=0, dtype=F64).params["w"]
    limit = np.sqrt(6 / 400)
    assert gl.max() <= limit and gl.min() >= -limit
    assert gl.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)  # uniform on [-a, a]
    assert np.all(Conv2D(3, 5, 3).params["b"] == 0)


def test_batchnorm_train_and_eval_modes():
    bn = BatchNorm(2, momentum=0.5, dtype=F64)
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(50, 2))
    out = bn.forward(x)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)  # batch statistics
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-4)
    np.testing.assert_allclose(bn.buffers["running_mean"], 0.5 * x.mean(axis=0))
    running = {k: v.copy() for k, v in bn.buffers.items()}
    bn.eval()
    assert not bn.training
    out_eval = bn.forward(x)
    expected = (x - running["running_mean"]) / np.sqrt(running["running_var"] + bn.eps)
    np.testing.assert_allclose(out_eval, expected)
    for k in running:  # evaluation does not touch the running statistics
        np.testing.assert_array_equal(bn.buffers[k], running[k])
    assert bn.train() is bn and bn.training


def test_dropout_train_and_eval_modes():
    drop = Dropout(0.25, rng=0)
    x = np.ones((200, 50), dtype=np.float32)
    out = drop.forward(x)
    kept = out != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(out[kept], 1 / 0.75)
    dx = drop.backward(np.ones_like(out))
    np.testing.assert_array_equal(dx != 0, kept)  # the gradient flows where the input did
    drop.eval()
    np.testing.assert_array_equal(drop.forward(x), x)


def test_backward_before_forward_and_twice():
    relu = ReLU()
    with pytest.raises(RuntimeError, match="before forward"):
        relu.backward(np.ones((2, 3)))
    relu.forward(np.ones((2, 3)))
    relu.backward(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="before forward"):
        relu.backward(np.ones((2, 3)))


def test_failed_forward_leaves_no_stale_cache():
    dense = Dense(3, 2)
    dense.forward(np.ones((4, 3)))
    with pytest.raises(ValueError):
        dense.forward(np.ones((4, 5)))
    with pytest.raises(RuntimeError, match="before forward"):
        dense.backward(np.ones((4, 2)))


def test_wrong_input_shapes_give_clear_messages():
    conv = Conv2D(3, 8, 3)
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\).*\(2, 28, 28, 1\)"):
        conv.forward(np.zeros((2, 28, 28, 1)))
    with pytest.raises(ValueError, match=r"got shape \(28, 28, 3\)"):
        conv.forward(np.zeros((28, 28, 3)))
    with pytest.raises(ValueError, match=r"\(N, 400\).*\(2, 5, 5, 16\).*Flatten"):
        Dense(400, 10).forward(np.zeros((2, 5, 5, 16)))
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        BatchNorm(3).forward(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="input channels"):
        conv.output_shape((28, 28, 1))
    with pytest.raises(ValueError, match="kernel"):
        conv.output_shape((2, 2, 3))
    with pytest.raises(ValueError, match=r"\(H, W, C\)"):
        MaxPool2D(2).output_shape((4, 4))


def test_wrong_dout_shape_is_reported():
    dense = Dense(3, 2)
    dense.forward(np.ones((4, 3)))
    with pytest.raises(ValueError):
        dense.backward(np.ones((4, 3)))


@pytest.mark.parametrize(
    "make, exc, match",
    [
        (lambda: Conv2D(0, 3, 3), ValueError, "in_channels"),
        (lambda: Conv2D(1, 3, (3, 3, 3)), ValueError, "kernel_size"),
        (lambda: Conv2D(1, 3, 3, padding="half"), ValueError, "padding"),
        (lambda: Conv2D(1, 3, 3, init="xavier"), ValueError, "init"),
        (lambda: Conv2D(1, 3, 3, rng="seed"), TypeError, "rng"),
        (lambda: Dense(4, 2.5), TypeError, "out_features"),
        (lambda: Dense(4, 2, dtype=np.int32), TypeError, "dtype"),
        (lambda: Dropout(1.0), ValueError, "p must be"),
        (lambda: BatchNorm(4, momentum=1.5), ValueError, "momentum"),
        (lambda: MaxPool2D(0), ValueError, "pool_size"),
        (lambda: LeakyReLU("x"), TypeError, "alpha"),
        (lambda: Conv2D(1, 3, 3, bias="no"), TypeError, "bias must be a bool"),
        (lambda: Dense(4, 2, bias=1), TypeError, "bias must be a bool"),
        (lambda: ReLU().train("no"), TypeError, "mode must be a bool"),
        (lambda: BatchNorm(4).train(None), TypeError, "mode must be a bool"),
    ],
)
def test_bad_constructor_arguments(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_repr_and_param_counts():
    conv = Conv2D(1, 32, 3, padding="same", bias=False)
    assert repr(conv) == "Conv2D(1, 32, kernel_size=(3, 3), padding='same', bias=False)"
    assert conv.num_params() == 3 * 3 * 32
    assert repr(Dense(4, 2, dtype=F64)) == "Dense(4, 2, dtype=float64)"
    assert repr(ReLU()) == "ReLU()"
    assert BatchNorm(7).num_params() == 14 and MaxPool2D(2).num_params() == 0


def test_as_generator():
    g = np.random.default_rng(3)
    assert as_generator(g) is g
    assert as_generator(4).integers(100) == np.random.default_rng(4).integers(100)
    with pytest.raises(TypeError):
        as_generator(True)


def test_bias_flag_refused_before_drawing_weights():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="bias"):
        Dense(4, 2, bias="yes", rng=rng)
    # the shared generator was not advanced by the refused layer
    np.testing.assert_array_equal(Dense(4, 2, rng=rng).params["w"], Dense(4, 2, rng=0).params["w"])
    assert "b" not in Conv2D(1, 3, 3, bias=np.bool_(False)).params
