"""Tests of the dense (affine) layer and of flatten."""

from __future__ import annotations

import numpy as np
import pytest

from convlib import check_gradients
from convlib.dense import (
    DenseCache,
    FlattenCache,
    dense_backward,
    dense_forward,
    flatten_backward,
    flatten_forward,
)


def test_dense_hand_example():
    x = np.array([[1.0, 2.0], [0.0, -1.0]])
    w = np.array([[1.0, 0.0, -1.0], [0.5, 1.0, 2.0]])
    b = np.array([0.0, 0.0, 1.0])
    out, cache = dense_forward(x, w, b)
    np.testing.assert_array_equal(out, [[2.0, 2.0, 4.0], [-0.5, -1.0, -1.0]])
    dout = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    dx, dw, db = dense_backward(dout, cache)
    # dx row n = sum_m dout[n, m] w[:, m]; dw[d, m] = sum_n x[n, d] dout[n, m].
    np.testing.assert_array_equal(dx, [[1.0, 0.5], [-1.0, 2.0]])
    np.testing.assert_array_equal(dw, [[1.0, 0.0, 0.0], [2.0, 0.0, -1.0]])
    np.testing.assert_array_equal(db, [1.0, 0.0, 1.0])


def test_dense_matches_per_example_loop():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    out, _ = dense_forward(x, w, b)
    for n in range(5):
        np.testing.assert_allclose(out[n], [x[n] @ w[:, m] + b[m] for m in range(3)], rtol=1e-13)


def test_dense_gradient_check():
    rng = np.random.default_rng(1)
    report = check_gradients(
        dense_forward,
        dense_backward,
        {"x": rng.normal(size=(6, 5)), "w": rng.normal(size=(5, 4)), "b": rng.normal(size=4)},
    )
    assert max(report.max_rel_error.values()) < 1e-7
    assert set(report.max_rel_error) == {"x", "w", "b"}


def test_dense_without_bias():
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    out, cache = dense_forward(x, w, None)
    np.testing.assert_allclose(out, x @ w)
    dx, dw, db = dense_backward(np.ones((3, 2)), cache)
    assert db is None
    report = check_gradients(
        lambda x, w: dense_forward(x, w), lambda d, c: dense_backward(d, c)[:2], {"x": x, "w": w}
    )
    assert max(report.max_rel_error.values()) < 1e-7


def test_dense_dtypes():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4)).astype(np.float32)
    w = rng.normal(size=(4, 2)).astype(np.float32)
    out, cache = dense_forward(x, w, np.zeros(2, dtype=np.float32))
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in dense_backward(np.ones((3, 2), np.float32), cache))
    out, cache = dense_forward(np.ones((2, 2), dtype=int), np.ones((2, 2), dtype=int), None)
    assert out.dtype == np.float64
    assert dense_backward(np.ones((2, 2), dtype=int), cache)[0].dtype == np.float64


def test_flatten_round_trip_and_order():
    x = np.arange(2 * 3 * 3 * 4, dtype=float).reshape(2, 3, 3, 4)
    out, cache = flatten_forward(x)
    assert out.shape == (2, 36)
    # NHWC order: channel fastest, then column, then row.
    np.testing.assert_array_equal(out[1], x[1].ravel())
    assert out[0, 5] == x[0, 0, 1, 1]
    dx = flatten_backward(out, cache)
    np.testing.assert_array_equal(dx, x)


def test_flatten_gradient_check():
    x = np.random.default_rng(4).normal(size=(2, 3, 2, 2))
    report = check_gradients(flatten_forward, flatten_backward, {"x": x})
    assert report.max_rel_error["x"] < 1e-7


@pytest.mark.parametrize(
    "shape, flat", [((5,), (5, 1)), ((5, 3), (5, 3)), ((2, 3, 4), (2, 12)), ((0, 3, 2), (0, 6))]
)
def test_flatten_shapes(shape, flat):
    out, cache = flatten_forward(np.zeros(shape))
    assert out.shape == flat
    assert flatten_backward(np.zeros(flat), cache).shape == shape


def test_flatten_dtypes():
    out, cache = flatten_forward(np.zeros((2, 2, 2), dtype=np.float32))
    assert out.dtype == np.float32
    assert flatten_backward(np.zeros((2, 4), dtype=np.float32), cache).dtype == np.float32
    out, cache = flatten_forward(np.zeros((2, 2, 2), dtype=np.int64))
    assert out.dtype == np.float64


# --------------------------------------------------------------------------
# Bad arguments
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, w, b, error, match",
    [
        (
            np.zeros((2, 3, 4)),
            np.zeros((12, 2)),
            None,
            ValueError,
            r"x must be 2-D .* flatten_forward",
        ),
        (np.zeros((2, 3)), np.zeros((4, 2)), None, ValueError, r"x has 3 features .* w expects 4"),
        (np.zeros((2, 3)), np.zeros(3), None, ValueError, r"w must be 2-D"),
        (np.zeros((2, 3)), np.zeros((3, 2)), np.zeros(3), ValueError, r"b must have shape \(2,\)"),
        (np.zeros((2, 3)), np.zeros((3, 2)), np.zeros((1, 2)), ValueError, r"b must have shape"),
        (np.array([["a"]]), np.zeros((1, 2)), None, TypeError, r"x must hold real numbers"),
        (np.zeros((2, 3)), "w", None, TypeError, r"w must hold real numbers"),
    ],
)
def test_dense_bad_arguments(x, w, b, error, match):
    with pytest.raises(error, match=match):
        dense_forward(x, w, b)


def test_dense_bad_dout_and_cache():
    _, cache = dense_forward(np.zeros((2, 3)), np.zeros((3, 4)), np.zeros(4))
    assert isinstance(cache, DenseCache)
    with pytest.raises(ValueError, match=r"dout has shape \(2, 3\) .* \(2, 4\)"):
        dense_backward(np.zeros((2, 3)), cache)
    with pytest.raises(TypeError, match="cache must be the DenseCache"):
        dense_backward(np.zeros((2, 4)), (np.zeros((2, 3)), np.zeros((3, 4))))


def test_flatten_bad_arguments():
    with pytest.raises(ValueError, match="x must have a batch axis"):
        flatten_forward(np.float64(3.0))
    _, cache = flatten_forward(np.zeros((2, 3, 4)))
    assert isinstance(cache, FlattenCache)
    with pytest.raises(ValueError, match=r"dout has shape \(2, 3, 4\) .* \(2, 12\)"):
        flatten_backward(np.zeros((2, 3, 4)), cache)
    with pytest.raises(TypeError, match="cache must be the FlattenCache"):
        flatten_backward(np.zeros((2, 12)), (2, 3, 4))
