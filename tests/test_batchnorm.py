"""Tests of batch normalization: both modes, running statistics, both backwards."""

from __future__ import annotations

import numpy as np
import pytest

from convlib import check_gradients
from convlib.batchnorm import (
    BatchNormCache,
    batchnorm_backward,
    batchnorm_backward_graph,
    batchnorm_forward,
)

BACKWARDS = [
    pytest.param(batchnorm_backward, id="compact"),
    pytest.param(batchnorm_backward_graph, id="graph"),
]
SHAPES = [pytest.param((8, 5), id="dense"), pytest.param((3, 4, 5, 6), id="conv")]


def make(shape, seed=0):
    """x with a per-feature offset and scale, gamma, beta, running stats."""
    rng = np.random.default_rng(seed)
    c = shape[-1]
    x = rng.normal(size=shape) * rng.uniform(0.5, 3, size=c) + rng.normal(size=c) * 4
    gamma, beta = rng.uniform(0.5, 2, size=c), rng.normal(size=c)
    return x, gamma, beta, rng.normal(size=c), rng.uniform(0.5, 2, size=c)


# --------------------------------------------------------------------------
# Forward
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_training_output_is_normalized_per_feature(shape):
    x, gamma, beta, rm, rv = make(shape)
    out, _ = batchnorm_forward(x, gamma, beta, rm, rv, training=True, eps=0.0)
    axes = tuple(range(len(shape) - 1))
    np.testing.assert_allclose(out.mean(axis=axes), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=axes), gamma, rtol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_training_matches_formula(shape):
    x, gamma, beta, rm, rv = make(shape, seed=1)
    eps = 1e-3
    out, _ = batchnorm_forward(x, gamma, beta, rm, rv, eps=eps)
    flat = x.reshape(-1, shape[-1])  # one row per value of each feature
    expected = gamma * (flat - flat.mean(axis=0)) / np.sqrt(flat.var(axis=0) + eps) + beta
    np.testing.assert_allclose(out.reshape(-1, shape[-1]), expected, rtol=1e-12)


def test_conv_input_uses_statistics_over_n_h_w():
    # Channel 1 is constant over each image but differs between images: the
    # statistics must run over N, H and W together, not per image or pixel.
    x = np.zeros((2, 3, 3, 2))
    x[0, :, :, 1], x[1, :, :, 1] = 1.0, 3.0
    x[..., 0] = np.arange(18.0).reshape(2, 3, 3)
    rm, rv = np.zeros(2), np.ones(2)
    out, _ = batchnorm_forward(x, np.ones(2), np.zeros(2), rm, rv, eps=0.0, momentum=0.0)
    np.testing.assert_allclose(out[0, :, :, 1], -1.0)
    np.testing.assert_allclose(out[1, :, :, 1], 1.0)
    np.testing.assert_allclose(rm, [8.5, 2.0])
    np.testing.assert_allclose(rv, [np.arange(18.0).var(ddof=1), 18 / 17])


@pytest.mark.parametrize("shape", SHAPES)
def test_running_statistics_update_in_place(shape):
    x, gamma, beta, rm, rv = make(shape, seed=2)
    rm0, rv0 = rm.copy(), rv.copy()
    ids = id(rm), id(rv)
    batchnorm_forward(x, gamma, beta, rm, rv, training=True, momentum=0.8)
    flat = x.reshape(-1, shape[-1])
    # momentum is the weight of the old value; the variance is the unbiased one.
    np.testing.assert_allclose(rm, 0.8 * rm0 + 0.2 * flat.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(rv, 0.8 * rv0 + 0.2 * flat.var(axis=0, ddof=1), rtol=1e-13)
    assert (id(rm), id(rv)) == ids


def test_momentum_extremes():
    x, gamma, beta, rm, rv = make((10, 3), seed=3)
    before = rm.copy(), rv.copy()
    batchnorm_forward(x, gamma, beta, rm, rv, momentum=1.0)
    np.testing.assert_array_equal(rm, before[0])
    np.testing.assert_array_equal(rv, before[1])
    batchnorm_forward(x, gamma, beta, rm, rv, momentum=0.0)
    np.testing.assert_allclose(rm, x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(rv, x.var(axis=0, ddof=1), rtol=1e-14)


def test_running_statistics_converge_to_data_statistics():
    rng = np.random.default_rng(4)
    rm, rv = np.zeros(2), np.ones(2)
    for _ in range(200):
        x = rng.normal(loc=[3.0, -1.0], scale=[2.0, 0.5], size=(64, 2))
        batchnorm_forward(x, np.ones(2), np.zeros(2), rm, rv)
    np.testing.assert_allclose(rm, [3.0, -1.0], atol=0.15)
    np.testing.assert_allclose(rv, [4.0, 0.25], rtol=0.15)


@pytest.mark.parametrize("shape", SHAPES)
def test_eval_mode_uses_running_statistics_and_keeps_them(shape):
    x, gamma, beta, rm, rv = make(shape, seed=5)
    rm0, rv0 = rm.copy(), rv.copy()
    out, _ = batchnorm_forward(x, gamma, beta, rm, rv, training=False, eps=1e-5)
    np.testing.assert_array_equal(rm, rm0)
    np.testing.assert_array_equal(rv, rv0)
    np.testing.assert_allclose(out, gamma * (x - rm) / np.sqrt(rv + 1e-5) + beta, rtol=1e-12)


def test_eval_mode_works_on_a_single_example():
    x, gamma, beta, rm, rv = make((1, 4), seed=6)
    out, _ = batchnorm_forward(x, gamma, beta, rm, rv, training=False)
    assert out.shape == (1, 4)


# --------------------------------------------------------------------------
# Backward
# --------------------------------------------------------------------------


def _check(backward, shape, training, seed):
    x, gamma, beta, rm, rv = make(shape, seed)

    def forward(x, gamma, beta):
        # Fresh copies: the check calls forward many times, and training mode
        # updates the running statistics in place.
        return batchnorm_forward(x, gamma, beta, rm.copy(), rv.copy(), training=training)

    return check_gradients(forward, backward, {"x": x, "gamma": gamma, "beta": beta})


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("backward", BACKWARDS)
def test_gradient_check(backward, shape, training):
    report = _check(backward, shape, training, seed=7)
    assert max(report.max_rel_error.values()) < 1e-7


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", [(16, 7), (4, 6, 5, 3), (2, 9)])
def test_compact_and_graph_backward_agree(shape, training):
    x, gamma, beta, rm, rv = make(shape, seed=8)
    _, cache = batchnorm_forward(x, gamma, beta, rm, rv, training=training)
    dout = np.random.default_rng(9).normal(size=shape)
    for a, b in zip(batchnorm_backward(dout, cache), batchnorm_backward_graph(dout, cache)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_training_backward_matches_textbook_formula():
    # dx = (1/m) inv (m dxhat - sum(dxhat) - xhat sum(dxhat xhat)), written out here.
    x, gamma, beta, rm, rv = make((10, 4), seed=10)
    eps = 1e-5
    _, cache = batchnorm_forward(x, gamma, beta, rm, rv, eps=eps)
    dout = np.random.default_rng(11).normal(size=x.shape)
    m = x.shape[0]
    inv = 1 / np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) * inv
    dxhat = dout * gamma
    expected = inv / m * (m * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    np.testing.assert_allclose(dx, expected, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(dgamma, (dout * xhat).sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(dbeta, dout.sum(axis=0), rtol=1e-12)


def test_training_dx_sums_to_zero_per_feature():
    # The output does not change when x is shifted per feature, so dx is
    # orthogonal to constants: sum over the batch is 0.
    x, gamma, beta, rm, rv = make((2, 3, 3, 4), seed=12)
    _, cache = batchnorm_forward(x, gamma, beta, rm, rv)
    dx, _, _ = batchnorm_backward(np.random.default_rng(13).normal(size=x.shape), cache)
    np.testing.assert_allclose(dx.sum(axis=(0, 1, 2)), 0.0, atol=1e-12)


# --------------------------------------------------------------------------
# Dtypes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("training", [True, False])
def test_float32_stays_float32(training):
    x, gamma, beta, rm, rv = make((4, 3, 3, 2), seed=14)
    f32 = [a.astype(np.float32) for a in (x, gamma, beta)]
    rm32, rv32 = rm.astype(np.float32), rv.astype(np.float32)
    out, cache = batchnorm_forward(*f32, rm32, rv32, training=training)
    assert out.dtype == np.float32 and rm32.dtype == np.float32
    for backward in (batchnorm_backward, batchnorm_backward_graph):
        grads = backward(np.ones(out.shape, dtype=np.float32), cache)
        assert all(g.dtype == np.float32 for g in grads)


def test_integer_input_becomes_float64():
    out, _ = batchnorm_forward(np.arange(6).reshape(3, 2), np.ones(2, int), np.zeros(2, int), np.zeros(2), np.ones(2))
    assert out.dtype == np.float64


# --------------------------------------------------------------------------
# Bad arguments
# --------------------------------------------------------------------------


def _args(**changes):
    x, gamma, beta, rm, rv = make((4, 3), seed=15)
    args = dict(x=x, gamma=gamma, beta=beta, running_mean=rm, running_var=rv)
    args.update(changes)
    return args


@pytest.mark.parametrize(
    "changes, error, match",
    [
        (dict(x=np.zeros(3)), ValueError, r"x must be \(N, D\) or \(N, H, W, C\)"),
        (dict(x=np.zeros((0, 3))), ValueError, r"x must not have empty axes"),
        (dict(gamma=np.ones(4)), ValueError, r"gamma must have shape \(3,\)"),
        (dict(beta=np.zeros((1, 3))), ValueError, r"beta must have shape \(3,\)"),
        (dict(running_mean=[0.0, 0.0, 0.0]), TypeError, r"running_mean must be a NumPy array"),
        (dict(running_var=np.ones(3, dtype=int)), TypeError, r"running_var must be floating point"),
        (dict(running_var=np.ones(4)), ValueError, r"running_var must have shape \(3,\)"),
        (dict(momentum=1.5), ValueError, r"momentum must be in \[0, 1\], got 1.5"),
        (dict(momentum="0.9"), TypeError, r"momentum must be a real number"),
        (dict(eps=-1e-5), ValueError, r"eps must be in \[0, inf\), got -1e-05"),
        (dict(training="yes"), TypeError, r"training must be a bool"),
        (dict(x=np.zeros((1, 3))), ValueError, r"more than one value per feature"),
        (dict(x=np.zeros((1, 1, 1, 3))), ValueError, r"more than one value per feature"),
    ],
)
def test_bad_arguments(changes, error, match):
    with pytest.raises(error, match=match):
        batchnorm_forward(**_args(**changes))


def test_read_only_running_stats_refused_in_training_only():
    rm = np.zeros(3)
    rm.flags.writeable = False
    with pytest.raises(ValueError, match="running_mean must be writable"):
        batchnorm_forward(**_args(running_mean=rm))
    batchnorm_forward(**_args(running_mean=rm), training=False)


def test_bad_dout_and_cache():
    _, cache = batchnorm_forward(**_args())
    assert isinstance(cache, BatchNormCache)
    for backward in (batchnorm_backward, batchnorm_backward_graph):
        with pytest.raises(ValueError, match=r"dout has shape \(3, 4\) .* \(4, 3\)"):
            backward(np.zeros((3, 4)), cache)
        with pytest.raises(TypeError, match="cache must be the BatchNormCache"):
            backward(np.zeros((4, 3)), {"xhat": None})
