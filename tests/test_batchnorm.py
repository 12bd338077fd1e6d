"""Tests of batch normalization: both modes, running statistics, both tiers.

References used:

* the formulas written out here with NumPy (float64), independent of every
  tier;
* centered-difference gradients (float64, :func:`convlib.check_gradients`)
  for every forward/backward pair, on fixed cases and on random shapes;
* each tier against the others over random shapes (Hypothesis): 2-D and
  4-D inputs, training and evaluation mode, float32 and float64, every
  backward with every forward's cache.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from convlib import check_gradients
from convlib.batchnorm import (
    BatchNormCache,
    batchnorm_backward,
    batchnorm_backward_compact,
    batchnorm_backward_graph,
    batchnorm_forward,
    batchnorm_forward_broadcast,
)
from convlib.fast import batchnorm_backward_fast, batchnorm_forward_fast

#: The forward passes by name; "tuned" is what the BatchNorm layer calls (it
#: runs convlib.fast.batchnorm_forward_fast).
FORWARDS = {"tuned": batchnorm_forward, "broadcast": batchnorm_forward_broadcast}
#: The backward passes by name; each accepts the cache of every forward.
BACKWARDS = {
    "tuned": batchnorm_backward,
    "compact": batchnorm_backward_compact,
    "graph": batchnorm_backward_graph,
}
FORWARD_PARAMS = [pytest.param(f, id=name) for name, f in FORWARDS.items()]
BACKWARD_PARAMS = [pytest.param(b, id=name) for name, b in BACKWARDS.items()]
PAIRS = [
    pytest.param(f, b, id=f"{fname}-{bname}")
    for fname, f in FORWARDS.items()
    for bname, b in BACKWARDS.items()
]
SHAPES = [pytest.param((8, 5), id="dense"), pytest.param((3, 4, 5, 6), id="conv")]


def make(shape, seed=0, dtype=np.float64):
    """x with a per-feature offset and scale, gamma, beta, running stats."""
    rng = np.random.default_rng(seed)
    c = shape[-1]
    x = rng.normal(size=shape) * rng.uniform(0.5, 3, size=c) + rng.normal(size=c) * 4
    gamma, beta = rng.uniform(0.5, 2, size=c), rng.normal(size=c)
    stats = rng.normal(size=c), rng.uniform(0.5, 2, size=c)
    return tuple(a.astype(dtype) for a in (x, gamma, beta, *stats))


def reference_forward(x, gamma, beta, rm, rv, training, momentum, eps):
    """The module docstring's formulas in float64: (out, new running mean, new running var)."""
    flat = x.astype(np.float64).reshape(-1, x.shape[-1])  # one row per value of each feature
    if training:
        mu, var = flat.mean(axis=0), flat.var(axis=0)
        m = flat.shape[0]
        rm = momentum * rm + (1 - momentum) * mu
        rv = momentum * rv + (1 - momentum) * var * m / (m - 1)
    else:
        mu, var = rm.astype(np.float64), rv.astype(np.float64)
    out = gamma.astype(np.float64) * (flat - mu) / np.sqrt(var + eps) + beta
    return out.reshape(x.shape), rm, rv


# --------------------------------------------------------------------------
# Forward
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_training_output_is_normalized_per_feature(forward, shape):
    x, gamma, beta, rm, rv = make(shape)
    out, _ = forward(x, gamma, beta, rm, rv, training=True, eps=0.0)
    axes = tuple(range(len(shape) - 1))
    np.testing.assert_allclose(out.mean(axis=axes), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=axes), gamma, rtol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_training_matches_formula(forward, shape):
    x, gamma, beta, rm, rv = make(shape, seed=1)
    eps = 1e-3
    out, _ = forward(x, gamma, beta, rm, rv, eps=eps)
    flat = x.reshape(-1, shape[-1])  # one row per value of each feature
    expected = gamma * (flat - flat.mean(axis=0)) / np.sqrt(flat.var(axis=0) + eps) + beta
    np.testing.assert_allclose(out.reshape(-1, shape[-1]), expected, rtol=1e-12)


@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_conv_input_uses_statistics_over_n_h_w(forward):
    # Channel 1 is constant over each image but differs between images: the
    # statistics must run over N, H and W together, not per image or pixel.
    x = np.zeros((2, 3, 3, 2))
    x[0, :, :, 1], x[1, :, :, 1] = 1.0, 3.0
    x[..., 0] = np.arange(18.0).reshape(2, 3, 3)
    rm, rv = np.zeros(2), np.ones(2)
    out, _ = forward(x, np.ones(2), np.zeros(2), rm, rv, eps=0.0, momentum=0.0)
    np.testing.assert_allclose(out[0, :, :, 1], -1.0)
    np.testing.assert_allclose(out[1, :, :, 1], 1.0)
    np.testing.assert_allclose(rm, [8.5, 2.0])
    np.testing.assert_allclose(rv, [np.arange(18.0).var(ddof=1), 18 / 17])


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_running_statistics_update_in_place(forward, shape):
    x, gamma, beta, rm, rv = make(shape, seed=2)
    rm0, rv0 = rm.copy(), rv.copy()
    ids = id(rm), id(rv)
    forward(x, gamma, beta, rm, rv, training=True, momentum=0.8)
    flat = x.reshape(-1, shape[-1])
    # momentum is the weight of the old value; the variance is the unbiased one.
    np.testing.assert_allclose(rm, 0.8 * rm0 + 0.2 * flat.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(rv, 0.8 * rv0 + 0.2 * flat.var(axis=0, ddof=1), rtol=1e-13)
    assert (id(rm), id(rv)) == ids


@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_momentum_extremes(forward):
    x, gamma, beta, rm, rv = make((10, 3), seed=3)
    before = rm.copy(), rv.copy()
    forward(x, gamma, beta, rm, rv, momentum=1.0)
    np.testing.assert_array_equal(rm, before[0])
    np.testing.assert_array_equal(rv, before[1])
    forward(x, gamma, beta, rm, rv, momentum=0.0)
    np.testing.assert_allclose(rm, x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(rv, x.var(axis=0, ddof=1), rtol=1e-14)


@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_running_statistics_converge_to_data_statistics(forward):
    rng = np.random.default_rng(4)
    rm, rv = np.zeros(2), np.ones(2)
    for _ in range(200):
        x = rng.normal(loc=[3.0, -1.0], scale=[2.0, 0.5], size=(64, 2))
        forward(x, np.ones(2), np.zeros(2), rm, rv)
    np.testing.assert_allclose(rm, [3.0, -1.0], atol=0.15)
    np.testing.assert_allclose(rv, [4.0, 0.25], rtol=0.15)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_eval_mode_uses_running_statistics_and_keeps_them(forward, shape):
    x, gamma, beta, rm, rv = make(shape, seed=5)
    rm0, rv0 = rm.copy(), rv.copy()
    out, _ = forward(x, gamma, beta, rm, rv, training=False, eps=1e-5)
    np.testing.assert_array_equal(rm, rm0)
    np.testing.assert_array_equal(rv, rv0)
    np.testing.assert_allclose(out, gamma * (x - rm) / np.sqrt(rv + 1e-5) + beta, rtol=1e-12)


@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_eval_mode_works_on_a_single_example(forward):
    x, gamma, beta, rm, rv = make((1, 4), seed=6)
    out, _ = forward(x, gamma, beta, rm, rv, training=False)
    assert out.shape == (1, 4)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_the_functions_the_layer_calls_run_the_tuned_tier(training):
    # batchnorm_forward / batchnorm_backward are the fast functions, bit for bit.
    x, gamma, beta, rm, rv = make((4, 3, 3, 5), seed=16)
    rm2, rv2 = rm.copy(), rv.copy()
    out, cache = batchnorm_forward(x, gamma, beta, rm, rv, training=training)
    out_f, cache_f = batchnorm_forward_fast(x, gamma, beta, rm2, rv2, training=training)
    np.testing.assert_array_equal(out, out_f)
    np.testing.assert_array_equal(rv, rv2)
    dout = np.random.default_rng(17).normal(size=x.shape)
    for g, g_f in zip(batchnorm_backward(dout, cache), batchnorm_backward_fast(dout, cache_f)):
        np.testing.assert_array_equal(g, g_f)


# --------------------------------------------------------------------------
# Backward
# --------------------------------------------------------------------------


def _check(forward, backward, shape, training, seed):
    x, gamma, beta, rm, rv = make(shape, seed)

    def fwd(x, gamma, beta):
        # Fresh copies: the check calls forward many times, and training mode
        # updates the running statistics in place.
        return forward(x, gamma, beta, rm.copy(), rv.copy(), training=training)

    # dout from its own stream: drawn from make's generator, it could be an
    # affine function of x, whose gradient through batch norm is exactly 0.
    dout = np.random.default_rng([seed, 1]).normal(size=shape)
    return check_gradients(fwd, backward, {"x": x, "gamma": gamma, "beta": beta}, dout=dout)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("forward, backward", PAIRS)
def test_gradient_check(forward, backward, shape, training):
    report = _check(forward, backward, shape, training, seed=7)
    assert max(report.max_rel_error.values()) < 1e-7


@st.composite
def small_cases(draw):
    """A float64 case small enough for finite differences: (shape, training, seed)."""
    if draw(st.booleans()):
        shape = (draw(st.integers(1, 6)), draw(st.integers(1, 4)))
    else:
        shape = (*(draw(st.integers(1, 3)) for _ in range(3)), draw(st.integers(1, 3)))
    m = int(np.prod(shape[:-1]))
    # Training with m = 2 makes xhat = +-1 whatever x is, so dx is only the
    # tiny eps term and a relative error means nothing there; that case has
    # its own test below.
    training = draw(st.booleans()) if m >= 3 else False
    return shape, training, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=30, deadline=None)
@given(small_cases())
def test_readable_tier_gradient_check_on_random_shapes(case):
    shape, training, seed = case
    for backward in (batchnorm_backward_compact, batchnorm_backward_graph):
        report = _check(batchnorm_forward_broadcast, backward, shape, training, seed)
        assert max(report.max_rel_error.values()) < 1e-7


@pytest.mark.parametrize("forward, backward", PAIRS)
def test_two_values_per_feature_have_no_input_gradient(forward, backward):
    # With m = 2 and eps = 0, xhat = (-1, 1) for any two distinct values, so
    # the output does not depend on x at all.
    x = np.array([[1.0, -4.0], [3.0, 2.5]])
    _, cache = forward(x, np.array([1.5, 0.5]), np.zeros(2), np.zeros(2), np.ones(2), eps=0.0)
    np.testing.assert_array_equal(np.abs(cache.xhat), 1.0)
    dx, dgamma, dbeta = backward(np.array([[5.0, 1.0], [-2.0, 3.0]]), cache)
    np.testing.assert_allclose(dx, 0.0, atol=1e-15)
    np.testing.assert_allclose(dbeta, [3.0, 4.0])
    np.testing.assert_allclose(dgamma, [-7.0, 2.0])


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", [(16, 7), (4, 6, 5, 3), (2, 9)])
def test_compact_and_graph_backward_agree(shape, training):
    x, gamma, beta, rm, rv = make(shape, seed=8)
    _, cache = batchnorm_forward_broadcast(x, gamma, beta, rm, rv, training=training)
    dout = np.random.default_rng(9).normal(size=shape)
    for a, b in zip(batchnorm_backward_compact(dout, cache), batchnorm_backward_graph(dout, cache)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backward", BACKWARD_PARAMS)
def test_training_backward_matches_textbook_formula(backward):
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
    dx, dgamma, dbeta = backward(dout, cache)
    np.testing.assert_allclose(dx, expected, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(dgamma, (dout * xhat).sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(dbeta, dout.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("forward, backward", PAIRS)
def test_training_dx_sums_to_zero_per_feature(forward, backward):
    # The output does not change when x is shifted per feature, so dx is
    # orthogonal to constants: sum over the batch is 0.
    x, gamma, beta, rm, rv = make((2, 3, 3, 4), seed=12)
    _, cache = forward(x, gamma, beta, rm, rv)
    dx, _, _ = backward(np.random.default_rng(13).normal(size=x.shape), cache)
    np.testing.assert_allclose(dx.sum(axis=(0, 1, 2)), 0.0, atol=1e-12)


# --------------------------------------------------------------------------
# All tiers agree over random shapes, modes and dtypes
# --------------------------------------------------------------------------

#: Relative tolerance between tiers and against the float64 formulas: the
#: tiers sum in different orders, so float32 results differ by rounding.
TOL = {np.float32: 1e-4, np.float64: 1e-12}


def _close(actual, expected, dtype, what):
    """``actual`` equals ``expected`` to the tolerance of ``dtype``, relative to its scale."""
    tol = TOL[dtype]
    scale = float(np.max(np.abs(expected))) + 1.0
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale, err_msg=what)


@st.composite
def tier_cases(draw):
    """(shape, dtype, training, momentum, eps, seed) for 2-D or 4-D input."""
    if draw(st.booleans()):
        shape = (draw(st.integers(1, 40)), draw(st.integers(1, 9)))
    else:
        shape = (
            draw(st.integers(1, 4)),
            draw(st.integers(1, 6)),
            draw(st.integers(1, 6)),
            draw(st.integers(1, 9)),
        )
    m = int(np.prod(shape[:-1]))
    training = draw(st.booleans()) if m >= 2 else False
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    momentum = draw(st.sampled_from([0.0, 0.1, 0.9, 1.0]))
    eps = draw(st.sampled_from([1e-5, 1e-3, 0.1]))
    return shape, dtype, training, momentum, eps, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=150, deadline=None)
@given(tier_cases())
def test_tiers_agree(case):
    shape, dtype, training, momentum, eps, seed = case
    x, gamma, beta, rm0, rv0 = make(shape, seed, dtype)
    out_ref, rm_ref, rv_ref = reference_forward(x, gamma, beta, rm0, rv0, training, momentum, eps)

    outs, caches = {}, {}
    for name, forward in FORWARDS.items():
        rm, rv = rm0.copy(), rv0.copy()
        outs[name], caches[name] = forward(
            x, gamma, beta, rm, rv, training=training, momentum=momentum, eps=eps
        )
        assert outs[name].dtype == dtype and outs[name].shape == shape
        _close(outs[name], out_ref, dtype, f"{name} forward")
        _close(rm, rm_ref, dtype, f"{name} running_mean")
        _close(rv, rv_ref, dtype, f"{name} running_var")
        assert rm.dtype == rv.dtype == dtype
    # One cache type: same fields, same values up to rounding.
    a, b = caches["tuned"], caches["broadcast"]
    assert type(a) is type(b) is BatchNormCache
    assert (a.training, a.m) == (b.training, b.m) == (training, x.size // shape[-1])
    for field in ("xc", "xhat", "gamma", "std", "inv"):
        assert getattr(a, field).dtype == getattr(b, field).dtype == dtype, field
        _close(getattr(a, field), getattr(b, field), dtype, f"cache.{field}")

    # Every backward with every forward's cache, against compact on the
    # readable forward's cache.
    dout = np.random.default_rng([seed, 1]).normal(size=shape).astype(dtype)
    expected = batchnorm_backward_compact(dout, caches["broadcast"])
    for bname, backward in BACKWARDS.items():
        for cname, cache in caches.items():
            grads = backward(dout, cache)
            for gname, g, e in zip(("dx", "dgamma", "dbeta"), grads, expected):
                assert g.dtype == dtype and g.shape == e.shape
                _close(g, e, dtype, f"{gname}: {bname} backward, {cname} cache")


# --------------------------------------------------------------------------
# Dtypes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_float32_stays_float32(forward, training):
    x, gamma, beta, rm, rv = make((4, 3, 3, 2), seed=14)
    f32 = [a.astype(np.float32) for a in (x, gamma, beta)]
    rm32, rv32 = rm.astype(np.float32), rv.astype(np.float32)
    out, cache = forward(*f32, rm32, rv32, training=training)
    assert out.dtype == np.float32 and rm32.dtype == np.float32
    for backward in BACKWARDS.values():
        grads = backward(np.ones(out.shape, dtype=np.float32), cache)
        assert all(g.dtype == np.float32 for g in grads)
        # A float64 upstream gradient gives float64 gradients (NumPy promotion).
        grads = backward(np.ones(out.shape), cache)
        assert all(g.dtype == np.float64 for g in grads)


@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_integer_input_becomes_float64(forward):
    out, _ = forward(
        np.arange(6).reshape(3, 2), np.ones(2, int), np.zeros(2, int), np.zeros(2), np.ones(2)
    )
    assert out.dtype == np.float64


@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_non_contiguous_input(forward):
    x, gamma, beta, rm, rv = make((6, 5, 4, 3), seed=18)
    x_view = x[:, ::2, ::-1]  # strided and reversed
    out, cache = forward(x_view, gamma, beta, rm.copy(), rv.copy())
    out_c, cache_c = forward(np.ascontiguousarray(x_view), gamma, beta, rm.copy(), rv.copy())
    np.testing.assert_allclose(out, out_c, rtol=1e-13, atol=1e-13)
    dout = np.random.default_rng(19).normal(size=out.shape)[:, :, ::-1]
    for backward in BACKWARDS.values():
        for g, g_c in zip(backward(dout, cache), backward(np.ascontiguousarray(dout), cache_c)):
            np.testing.assert_allclose(g, g_c, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------
# Bad arguments: every tier refuses the same input with the same message
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
@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_bad_arguments(forward, changes, error, match):
    with pytest.raises(error, match=match):
        forward(**_args(**changes))


@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_numpy_scalars_are_accepted(forward):
    out, _ = forward(
        **_args(momentum=np.float32(0.9), eps=np.float64(1e-3), training=np.bool_(True))
    )
    out_py, _ = forward(**_args(momentum=0.9, eps=1e-3, training=True))
    np.testing.assert_allclose(out, out_py, rtol=1e-12)


@pytest.mark.parametrize("forward", FORWARD_PARAMS)
def test_read_only_running_stats_refused_in_training_only(forward):
    rm = np.zeros(3)
    rm.flags.writeable = False
    with pytest.raises(ValueError, match="running_mean must be writable"):
        forward(**_args(running_mean=rm))
    forward(**_args(running_mean=rm), training=False)


@pytest.mark.parametrize("backward", BACKWARD_PARAMS)
def test_bad_dout_and_cache(backward):
    _, cache = batchnorm_forward(**_args())
    assert isinstance(cache, BatchNormCache)
    with pytest.raises(ValueError, match=r"dout has shape \(3, 4\) .* \(4, 3\)"):
        backward(np.zeros((3, 4)), cache)
    with pytest.raises(
        TypeError, match="cache must be the BatchNormCache returned by batchnorm_forward"
    ):
        backward(np.zeros((4, 3)), {"xhat": None})


# -- a non-finite batch never reaches the running statistics (issue 10) -----


@pytest.mark.parametrize(
    "forward", [*FORWARD_PARAMS, pytest.param(batchnorm_forward_fast, id="fast")]
)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_nan_batch_is_refused_and_leaves_the_running_statistics(forward, shape, dtype):
    from convlib.errors import NonFiniteError

    x, gamma, beta, rm, rv = make(shape, dtype=dtype)
    x[(0,) * (len(shape) - 1) + (2,)] = np.nan
    rm0, rv0 = rm.copy(), rv.copy()
    with pytest.raises(NonFiniteError, match=rf"1 of {shape[-1]} features.*feature 2.*not updated"):
        forward(x, gamma, beta, rm, rv, training=True)
    np.testing.assert_array_equal(rm, rm0)
    np.testing.assert_array_equal(rv, rv0)


def test_an_infinite_batch_is_refused_by_the_layer_and_its_statistics_stay_finite():
    from convlib.errors import NonFiniteError
    from convlib.layers import BatchNorm

    layer = BatchNorm(3)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    layer.forward(x)
    before = {k: v.copy() for k, v in layer.buffers.items()}
    x[1, 0] = np.inf
    with np.errstate(invalid="ignore"), pytest.raises(NonFiniteError, match="feature 0"):
        layer.forward(x)
    for k, v in layer.buffers.items():
        np.testing.assert_array_equal(v, before[k])
    layer.eval()  # evaluation mode keeps the statistics and still runs
    assert np.isnan(layer.forward(np.full((1, 3), np.nan, np.float32))).all()


def test_module_docstring_gives_keras_default_momentum_099():
    # Issue 9: Keras' BatchNormalization defaults to momentum=0.99, not 0.9;
    # convlib's 0.9 is PyTorch's momentum=0.1 (which weighs the new value).
    import re

    import convlib.batchnorm as bn

    doc = " ".join(bn.__doc__.split())
    assert "default is 0.99" in doc
    assert not re.search(r"Keras' convention, default 0\.9\b", doc)
