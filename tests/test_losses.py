"""Tests of softmax, log-softmax, softmax cross-entropy and MSE."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from convlib import numerical_gradient, rel_error
from convlib.errors import NonFiniteError
from convlib.losses import log_softmax, mse_loss, softmax, softmax_cross_entropy

# --------------------------------------------------------------------------
# softmax and log_softmax
# --------------------------------------------------------------------------


def test_softmax_matches_definition_on_moderate_logits():
    z = np.random.default_rng(0).normal(size=(4, 5)) * 3
    e = np.exp(z)
    np.testing.assert_allclose(softmax(z), e / e.sum(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(log_softmax(z), np.log(e / e.sum(axis=1, keepdims=True)), rtol=1e-13)


def test_softmax_rows_sum_to_one_and_shift_invariance():
    z = np.random.default_rng(1).normal(size=(3, 7))
    p = softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(softmax(z + 1234.5), p, rtol=1e-12)
    np.testing.assert_allclose(softmax(z[0]), p[0], rtol=1e-15)  # 1-D: a single row


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_huge_logits(dtype):
    z = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4], [-1e4, -1e4 + np.log(3.0), -3e4]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = softmax(z)
        logp = log_softmax(z)
    assert p.dtype == dtype and logp.dtype == dtype
    np.testing.assert_allclose(p[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(p[1], [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(p[2], [0.25, 0.75, 0.0], rtol=1e-3 if dtype == np.float32 else 1e-9)
    np.testing.assert_allclose(logp[0], [0.0, -1e4, -2e4])
    assert np.isfinite(logp).all()


def test_softmax_bad_input():
    with pytest.raises(ValueError, match="logits must have a non-empty last axis"):
        softmax(np.float64(1.0))
    with pytest.raises(ValueError, match="logits must have a non-empty last axis"):
        log_softmax(np.zeros((2, 0)))
    with pytest.raises(TypeError, match="logits must hold real numbers"):
        softmax(np.array(["a"]))


# --------------------------------------------------------------------------
# softmax_cross_entropy
# --------------------------------------------------------------------------


def test_cross_entropy_hand_example():
    logits = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    labels = np.array([2, 0])
    loss, dlogits = softmax_cross_entropy(logits, labels)
    s = math.e + math.e**2 + math.e**3
    p0 = [math.e / s, math.e**2 / s, math.e**3 / s]
    expected_loss = (-math.log(p0[2]) + math.log(3.0)) / 2
    assert loss == pytest.approx(expected_loss, rel=1e-14)
    expected_grad = np.array([[p0[0], p0[1], p0[2] - 1], [1 / 3 - 1, 1 / 3, 1 / 3]]) / 2
    np.testing.assert_allclose(dlogits, expected_grad, rtol=1e-13)
    assert isinstance(loss, float)


def test_cross_entropy_gradient_check():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(6, 4)) * 2
    labels = rng.integers(0, 4, size=6)
    _, dlogits = softmax_cross_entropy(logits, labels)
    num = numerical_gradient(lambda z: softmax_cross_entropy(z, labels)[0], logits)
    assert rel_error(dlogits, num) < 1e-7


def test_cross_entropy_gradient_rows_sum_to_zero():
    rng = np.random.default_rng(3)
    _, d = softmax_cross_entropy(rng.normal(size=(5, 3)), rng.integers(0, 3, size=5))
    np.testing.assert_allclose(d.sum(axis=1), 0.0, atol=1e-16)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_huge_logits(dtype):
    # Wrong class ahead by 1e4: the loss is 1e4 (plus log(1 + e^-1e4) = 0).
    logits = np.array([[0.0, 1e4], [1e4, 0.0]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dlogits = softmax_cross_entropy(logits, np.array([0, 0]))
    assert np.isfinite(loss)
    assert loss == pytest.approx(1e4 / 2)
    assert dlogits.dtype == dtype
    np.testing.assert_allclose(dlogits, [[-0.5, 0.5], [0.0, 0.0]], atol=1e-7)


def test_cross_entropy_huge_logits_equal_shifted_moderate_ones():
    # Shifting every logit of a row by 1e4 changes neither loss nor gradient.
    rng = np.random.default_rng(4)
    z = rng.normal(size=(8, 10))
    labels = rng.integers(0, 10, size=8)
    loss, d = softmax_cross_entropy(z, labels)
    loss_big, d_big = softmax_cross_entropy(z + 1e4, labels)
    assert loss_big == pytest.approx(loss, rel=1e-9)
    np.testing.assert_allclose(d_big, d, rtol=1e-8, atol=1e-15)
    # And the gradient of the shifted problem checks out numerically.
    big = z * 50 + 1e4
    _, d_big = softmax_cross_entropy(big, labels)
    num = numerical_gradient(lambda v: softmax_cross_entropy(v, labels)[0], big, h=1e-4)
    assert rel_error(d_big, num) < 1e-6  # float64 rounding of losses ~1e2 limits this check


def test_cross_entropy_dtypes():
    loss, d = softmax_cross_entropy(
        np.zeros((2, 3), dtype=np.float32), np.array([0, 1], dtype=np.uint8)
    )
    assert d.dtype == np.float32
    assert loss == pytest.approx(math.log(3.0), rel=1e-6)
    loss, d = softmax_cross_entropy(np.zeros((2, 3), dtype=int), [0, 2])
    assert d.dtype == np.float64


@pytest.mark.parametrize(
    "logits, labels, error, match",
    [
        (
            np.zeros((2, 3)),
            np.array([0.0, 1.0]),
            TypeError,
            r"labels must be integer class indices",
        ),
        (np.zeros((2, 3)), np.array([True, False]), TypeError, r"labels must be integer"),
        (np.zeros((2, 3)), np.array([0, 1, 2]), ValueError, r"labels must have shape \(2,\)"),
        (np.zeros((2, 3)), np.array([[0, 1]]), ValueError, r"labels must have shape \(2,\)"),
        (np.zeros((2, 3)), np.array([0, 3]), ValueError, r"labels must lie in \[0, 3\).*\[3\]"),
        (np.zeros((2, 3)), np.array([-1, 0]), ValueError, r"labels must lie in \[0, 3\).*\[-1\]"),
        (np.zeros(3), np.array([0]), ValueError, r"logits must be 2-D"),
        (np.zeros((2, 3, 1)), np.array([0, 0]), ValueError, r"logits must be 2-D"),
        (np.zeros((0, 3)), np.zeros(0, dtype=int), ValueError, r"at least one example"),
    ],
)
def test_cross_entropy_bad_arguments(logits, labels, error, match):
    with pytest.raises(error, match=match):
        softmax_cross_entropy(logits, labels)


# --------------------------------------------------------------------------
# mse_loss
# --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_names_the_first_row_with_a_non_finite_logit(bad, dtype):
    logits = np.zeros((5, 3), dtype=dtype)
    labels = np.array([0, 1, 2, 0, 1])
    logits[3, 0] = bad  # row 3's true class is 0: its term is never finite
    logits[4, 1] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        with pytest.raises(
            NonFiniteError,
            match=r"logits must be finite, but row 3 of logits \(5, 3\) holds .*column 0; 2 of 5 rows",
        ):
            softmax_cross_entropy(logits, labels)


def test_cross_entropy_non_finite_error_is_a_value_error():
    with pytest.raises(ValueError, match="logits"):
        softmax_cross_entropy(np.full((2, 2), np.nan), np.array([0, 1]))


def test_cross_entropy_accepts_minus_inf_on_a_wrong_class():
    # -inf masks a class out (probability 0): the loss stays finite, and is that of the other classes.
    masked = np.array([[0.0, 1.0, -np.inf], [2.0, -np.inf, 0.5]])
    labels = np.array([1, 0])
    loss, dlogits = softmax_cross_entropy(masked, labels)
    ref, _ = softmax_cross_entropy(np.array([[0.0, 1.0], [2.0, 0.5]]), labels)  # the classes left
    assert loss == pytest.approx(ref)
    assert dlogits[0, 2] == 0 and dlogits[1, 1] == 0


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e308), (np.float32, 3e38)])
def test_cross_entropy_overflow_of_finite_logits_is_named(dtype, big):
    logits = np.array([[0.0, 1.0], [big, -big]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(
            NonFiniteError,
            match=r"the loss overflows: row 1 of logits \(2, 2\) is finite.*true class 1",
        ):
            softmax_cross_entropy(logits, np.array([0, 1]))


def test_mse_hand_example():
    loss, d = mse_loss(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [5.0, 4.0]]))
    assert loss == pytest.approx((0 + 4 + 4 + 0) / 4)
    np.testing.assert_allclose(d, [[0.0, 1.0], [-1.0, 0.0]])  # 2 * diff / 4


def test_mse_gradient_check():
    rng = np.random.default_rng(5)
    pred, target = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 2))
    _, d = mse_loss(pred, target)
    num = numerical_gradient(lambda p: mse_loss(p, target)[0], pred)
    assert rel_error(d, num) < 1e-7


def test_mse_dtypes():
    loss, d = mse_loss(np.ones(3, dtype=np.float32), np.zeros(3, dtype=np.float32))
    assert d.dtype == np.float32 and isinstance(loss, float)
    _, d = mse_loss(np.ones(3, dtype=int), np.zeros(3, dtype=int))
    assert d.dtype == np.float64


def test_mse_bad_arguments():
    with pytest.raises(
        ValueError, match=r"pred and target must have the same shape, got \(3,\) and \(3, 1\)"
    ):
        mse_loss(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="pred must not be empty"):
        mse_loss(np.zeros(0), np.zeros(0))
    with pytest.raises(TypeError, match="target must hold real numbers"):
        mse_loss(np.zeros(1), np.array(["a"]))
