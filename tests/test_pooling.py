"""Tests of max and average pooling in their three tiers: loops, windows, tuned.

References used:

* small examples worked out by hand (ties, padding, overlap, dropped rows);
* a definition-level reference written here with ``sliding_window_view``
  (:func:`reference_pool`), independent of both implementations;
* centered-difference gradients (float64, :func:`convlib.check_gradients`);
* each tier against the others over random configurations (Hypothesis),
  every backward with every forward's cache.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from convlib import check_gradients, resolve_padding
from convlib.pooling import (
    Pool2DCache,
    avgpool2d_backward,
    avgpool2d_backward_naive,
    avgpool2d_backward_windows,
    avgpool2d_forward,
    avgpool2d_forward_naive,
    avgpool2d_forward_windows,
    maxpool2d_backward,
    maxpool2d_backward_naive,
    maxpool2d_backward_windows,
    maxpool2d_forward,
    maxpool2d_forward_naive,
    maxpool2d_forward_windows,
)

#: The three tiers of each pooling, (forward, backward) by name; "fast" is what
#: the layers call (it runs the tuned tier in convlib.fast).
MAX_TIERS = {
    "fast": (maxpool2d_forward, maxpool2d_backward),
    "windows": (maxpool2d_forward_windows, maxpool2d_backward_windows),
    "naive": (maxpool2d_forward_naive, maxpool2d_backward_naive),
}
AVG_TIERS = {
    "fast": (avgpool2d_forward, avgpool2d_backward),
    "windows": (avgpool2d_forward_windows, avgpool2d_backward_windows),
    "naive": (avgpool2d_forward_naive, avgpool2d_backward_naive),
}
MAX_PATHS = [pytest.param(f, b, id=name) for name, (f, b) in MAX_TIERS.items()]
AVG_PATHS = [pytest.param(f, b, id=name) for name, (f, b) in AVG_TIERS.items()]
ALL_PATHS = [pytest.param(f, b, id=f"max-{name}") for name, (f, b) in MAX_TIERS.items()] + [
    pytest.param(f, b, id=f"avg-{name}") for name, (f, b) in AVG_TIERS.items()
]


def reference_pool(x: np.ndarray, pool, stride, padding, mode: str) -> np.ndarray:
    """Pooling from the definition: pad with NaN, take nanmax / nanmean of each window."""
    ph, pw = (pool, pool) if isinstance(pool, int) else pool
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    (top, bottom), (left, right) = resolve_padding(padding, x.shape[1:3], (ph, pw), (sh, sw))
    xp = np.pad(
        x.astype(np.float64),
        ((0, 0), (top, bottom), (left, right), (0, 0)),
        constant_values=np.nan,
    )
    windows = sliding_window_view(xp, (ph, pw), axis=(1, 2))[:, ::sh, ::sw]
    reduce = np.nanmax if mode == "max" else np.nanmean
    return reduce(windows, axis=(-2, -1))


def distinct_values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values at least 0.05 apart, positive and negative: no ties, no kinks."""
    size = int(np.prod(shape))
    return (rng.permutation(size) - size / 2).reshape(shape) * 0.05 + rng.uniform(0, 0.01)


# --------------------------------------------------------------------------
# Worked examples
# --------------------------------------------------------------------------

X4 = np.array(
    [
        [1.0, 3.0, 2.0, 0.0],
        [4.0, 3.0, 1.0, 2.0],
        [0.0, -1.0, -5.0, -6.0],
        [-2.0, 7.0, -7.0, -8.0],
    ]
).reshape(1, 4, 4, 1)


@pytest.mark.parametrize("forward, backward", MAX_PATHS)
def test_maxpool_hand_example(forward, backward):
    out, cache = forward(X4, 2)
    np.testing.assert_array_equal(out[0, :, :, 0], [[4.0, 2.0], [7.0, -5.0]])
    dout = np.array([[10.0, 20.0], [30.0, 40.0]]).reshape(1, 2, 2, 1)
    dx = backward(dout, cache)
    expected = np.zeros((4, 4))
    expected[1, 0] = 10.0  # the 4
    expected[0, 2] = 20.0  # the first of the two 2s (row-major)
    expected[3, 1] = 30.0  # the 7
    expected[2, 2] = 40.0  # -5, the largest of four negatives
    np.testing.assert_array_equal(dx[0, :, :, 0], expected)


@pytest.mark.parametrize("forward, backward", AVG_PATHS)
def test_avgpool_hand_example(forward, backward):
    out, cache = forward(X4, 2)
    np.testing.assert_allclose(out[0, :, :, 0], [[11 / 4, 5 / 4], [4 / 4, -26 / 4]])
    dout = np.array([[4.0, 8.0], [12.0, 16.0]]).reshape(1, 2, 2, 1)
    dx = backward(dout, cache)
    expected = np.repeat(np.repeat([[1.0, 2.0], [3.0, 4.0]], 2, axis=0), 2, axis=1)
    np.testing.assert_allclose(dx[0, :, :, 0], expected)


@pytest.mark.parametrize("forward, backward", MAX_PATHS)
def test_maxpool_ties_send_gradient_to_first_maximum_only(forward, backward):
    # Every window is constant: all four pixels tie. The first in row-major
    # order, the top-left one, takes the whole gradient; nothing is split.
    x = np.ones((2, 4, 6, 3))
    out, cache = forward(x, 2)
    dout = np.random.default_rng(0).normal(size=out.shape)
    dx = backward(dout, cache)
    np.testing.assert_array_equal(dx[:, ::2, ::2, :], dout)
    assert np.count_nonzero(dx) == dout.size
    np.testing.assert_array_equal(cache.argmax, 0)


@pytest.mark.parametrize("forward, backward", MAX_PATHS)
def test_maxpool_tie_rule_is_row_major(forward, backward):
    # In a 2x2 window, a tie between (0, 1) and (1, 0) goes to (0, 1): the
    # top row comes first. A tie between (1, 0) and (1, 1) goes to (1, 0).
    x = np.array([[0.0, 5.0, 1.0, 1.0], [5.0, 2.0, 7.0, 7.0]]).reshape(1, 2, 4, 1)
    out, cache = forward(x, 2)
    np.testing.assert_array_equal(out.ravel(), [5.0, 7.0])
    np.testing.assert_array_equal(cache.argmax.ravel(), [1, 2])
    dx = backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 1, 0, 0], [0, 0, 1, 0]])


@pytest.mark.parametrize("forward, backward", MAX_PATHS)
def test_maxpool_overlapping_windows_add_up(forward, backward):
    # 3x3 windows with stride 1 on a 5x5 input: the centre pixel, the global
    # maximum, lies in all nine windows and receives the sum of their gradients.
    x = -np.arange(25.0).reshape(1, 5, 5, 1) / 25
    x[0, 2, 2, 0] = 10.0
    out, cache = forward(x, 3, stride=1)
    assert out.shape == (1, 3, 3, 1)
    np.testing.assert_array_equal(out, 10.0)
    dout = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    dx = backward(dout, cache)
    expected = np.zeros((1, 5, 5, 1))
    expected[0, 2, 2, 0] = dout.sum()
    np.testing.assert_array_equal(dx, expected)


@pytest.mark.parametrize("forward, backward", MAX_PATHS)
@pytest.mark.parametrize("padding", [1, "same", ((1, 0), (0, 1))])
def test_maxpool_padding_is_minus_infinity(forward, backward, padding):
    # All-negative input: zero padding would make border windows return 0.
    rng = np.random.default_rng(3)
    x = -1.0 - distinct_values(rng, (2, 5, 5, 2)) ** 2
    out, cache = forward(x, 3, stride=2, padding=padding)
    assert (out < 0).all()
    np.testing.assert_array_equal(out, reference_pool(x, 3, 2, padding, "max"))
    # The gradient goes to real pixels only: its total is conserved.
    dout = rng.normal(size=out.shape)
    dx = backward(dout, cache)
    np.testing.assert_allclose(dx.sum(axis=(1, 2)), dout.sum(axis=(1, 2)))


@pytest.mark.parametrize("forward, backward", MAX_PATHS)
def test_maxpool_constant_negative_input_with_padding(forward, backward):
    # Ties everywhere and padding: the winner is the first *real* pixel.
    x = np.full((1, 3, 3, 1), -2.0)
    out, cache = forward(x, 2, stride=2, padding=((1, 0), (1, 0)))
    np.testing.assert_array_equal(out[0, :, :, 0], [[-2.0, -2.0], [-2.0, -2.0]])
    dx = backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


@pytest.mark.parametrize("forward, backward", AVG_PATHS)
def test_avgpool_padding_is_not_counted(forward, backward):
    # A constant input stays constant: border windows divide by their number
    # of real pixels, not by the window size.
    x = np.full((1, 5, 5, 2), 3.0)
    out, cache = forward(x, 3, stride=2, padding=1)
    np.testing.assert_allclose(out, 3.0)
    # The top-left window covers 2 x 2 real pixels; each gets 1/4 of its gradient.
    dout = np.zeros(out.shape)
    dout[0, 0, 0, :] = 1.0
    dx = backward(dout, cache)
    expected = np.zeros((5, 5))
    expected[:2, :2] = 0.25
    np.testing.assert_allclose(dx[0, :, :, 0], expected)
    np.testing.assert_allclose(cache.counts[:, :, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


@pytest.mark.parametrize("forward, backward", ALL_PATHS)
def test_stride_that_does_not_tile_drops_last_rows(forward, backward):
    # 2x2 windows with stride 2 on a 5x7 input: row 4 and column 6 belong to
    # no window, so they get no gradient.
    rng = np.random.default_rng(4)
    x = distinct_values(rng, (2, 5, 7, 3))
    out, cache = forward(x, 2)
    assert out.shape == (2, 2, 3, 3)
    dx = backward(rng.normal(size=out.shape), cache)
    assert dx.shape == x.shape
    np.testing.assert_array_equal(dx[:, 4, :, :], 0.0)
    np.testing.assert_array_equal(dx[:, :, 6, :], 0.0)
    assert np.count_nonzero(dx[:, :4, :6, :]) > 0


@pytest.mark.parametrize("forward, backward", ALL_PATHS)
def test_stride_defaults_to_pool_size(forward, backward):
    x = distinct_values(np.random.default_rng(5), (1, 7, 8, 2))
    out_default, _ = forward(x, (3, 2))
    out_explicit, _ = forward(x, (3, 2), stride=(3, 2))
    assert out_default.shape == (1, 2, 4, 2)
    np.testing.assert_array_equal(out_default, out_explicit)


# --------------------------------------------------------------------------
# Against the definition-level reference and numerical gradients
# --------------------------------------------------------------------------

CONFIGS = [
    pytest.param((2, 6, 6, 3), 2, None, 0, id="tiling"),
    pytest.param((2, 5, 7, 2), 2, None, "valid", id="non-tiling"),
    pytest.param((1, 6, 5, 2), 3, 1, 1, id="overlap-stride1-pad1"),
    pytest.param((2, 7, 7, 2), 3, 2, 0, id="overlap-stride2"),
    pytest.param((1, 5, 6, 2), (2, 3), (1, 2), "same", id="rect-same"),
    pytest.param((1, 6, 6, 1), 2, 3, ((1, 0), (0, 1)), id="gaps-asym-pad"),
]


@pytest.mark.parametrize("shape, pool, stride, padding", CONFIGS)
@pytest.mark.parametrize("forward, backward", ALL_PATHS)
def test_forward_matches_reference(forward, backward, shape, pool, stride, padding):
    x = distinct_values(np.random.default_rng(6), shape)
    out, _ = forward(x, pool, stride, padding)
    mode = "max" if "max" in forward.__name__ else "avg"
    ref = reference_pool(x, pool, stride if stride is not None else pool, padding, mode)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape, pool, stride, padding", CONFIGS)
@pytest.mark.parametrize("forward, backward", ALL_PATHS)
def test_gradient_check(forward, backward, shape, pool, stride, padding):
    # Values 0.05 apart: a +-1e-5 step never changes which pixel is a maximum.
    x = distinct_values(np.random.default_rng(7), shape)
    report = check_gradients(
        forward, backward, {"x": x}, pool_size=pool, stride=stride, padding=padding
    )
    assert report.max_rel_error["x"] < 1e-7


# --------------------------------------------------------------------------
# All tiers agree over random configurations
# --------------------------------------------------------------------------


@st.composite
def pool_configs(draw):
    ph, pw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 7)),
        draw(st.integers(1, 7)),
        draw(st.integers(1, 3)),
    )
    padding = draw(
        st.one_of(
            st.sampled_from(["valid", "same"]),
            st.integers(0, min(ph, pw) - 1),
            st.tuples(st.integers(0, ph - 1), st.integers(0, pw - 1)),
            st.tuples(
                st.tuples(st.integers(0, ph - 1), st.integers(0, ph - 1)),
                st.tuples(st.integers(0, pw - 1), st.integers(0, pw - 1)),
            ),
        )
    )
    (top, bottom), (left, right) = resolve_padding(padding, shape[1:3], (ph, pw), (sh, sw))
    assume(ph <= shape[1] + top + bottom and pw <= shape[2] + left + right)
    ties = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    return shape, (ph, pw), (sh, sw), padding, ties, seed


def _random_input(shape, ties, seed):
    rng = np.random.default_rng(seed)
    if ties:  # few distinct values: many ties, including negative ones
        return rng.integers(-2, 2, size=shape).astype(np.float64), rng
    return rng.normal(size=shape), rng


@settings(max_examples=150, deadline=None)
@given(pool_configs())
def test_maxpool_tiers_agree(config):
    shape, pool, stride, padding, ties, seed = config
    x, rng = _random_input(shape, ties, seed)
    outs, caches = {}, {}
    for name, (forward, _) in MAX_TIERS.items():
        outs[name], caches[name] = forward(x, pool, stride, padding)
    for name in MAX_TIERS:
        np.testing.assert_array_equal(outs[name], outs["naive"], err_msg=name)
        np.testing.assert_array_equal(caches[name].argmax, caches["naive"].argmax, err_msg=name)
        assert caches[name].argmax.dtype == caches["naive"].argmax.dtype
    np.testing.assert_array_equal(outs["naive"], reference_pool(x, pool, stride, padding, "max"))
    dout = rng.normal(size=outs["naive"].shape)
    dx_n = maxpool2d_backward_naive(dout, caches["naive"])
    # Each window's gradient lands on exactly one real pixel.
    np.testing.assert_allclose(dx_n.sum(), dout.sum())
    for bname, (_, backward) in MAX_TIERS.items():
        for cname, cache in caches.items():
            np.testing.assert_allclose(
                backward(dout, cache),
                dx_n,
                rtol=1e-12,
                atol=1e-12,
                err_msg=f"{bname} backward, {cname} cache",
            )


@settings(max_examples=100, deadline=None)
@given(pool_configs())
def test_avgpool_tiers_agree(config):
    shape, pool, stride, padding, ties, seed = config
    x, rng = _random_input(shape, ties, seed)
    outs, caches = {}, {}
    for name, (forward, _) in AVG_TIERS.items():
        outs[name], caches[name] = forward(x, pool, stride, padding)
    ref = reference_pool(x, pool, stride, padding, "avg")
    for name in AVG_TIERS:
        np.testing.assert_allclose(outs[name], ref, rtol=1e-12, atol=1e-12, err_msg=name)
        np.testing.assert_array_equal(caches[name].counts, caches["naive"].counts, err_msg=name)
    dout = rng.normal(size=outs["naive"].shape)
    dx_n = avgpool2d_backward_naive(dout, caches["naive"])
    # Each window hands out exactly its gradient to its real pixels.
    np.testing.assert_allclose(dx_n.sum(), dout.sum())
    for bname, (_, backward) in AVG_TIERS.items():
        for cname, cache in caches.items():
            np.testing.assert_allclose(
                backward(dout, cache),
                dx_n,
                rtol=1e-12,
                atol=1e-12,
                err_msg=f"{bname} backward, {cname} cache",
            )


@pytest.mark.parametrize("forward, backward", ALL_PATHS)
@settings(max_examples=40, deadline=None)
@given(pool_configs())
def test_backward_is_the_adjoint_of_the_linearised_forward(forward, backward, config):
    # With the argmax fixed, max pooling is linear in x (it copies the winners);
    # average pooling is linear anyway. <pool(x), y> == <x, backward(y)>.
    shape, pool, stride, padding, _, seed = config
    x, rng = _random_input(shape, False, seed)
    out, cache = forward(x, pool, stride, padding)
    y = rng.normal(size=out.shape)
    dx = backward(y, cache)
    lhs, rhs = float(np.sum(out * y)), float(np.sum(x * dx))
    assert abs(lhs - rhs) <= 1e-12 * (float(np.sum(np.abs(out * y))) + 1e-300)


# --------------------------------------------------------------------------
# Dtypes and memory layout
# --------------------------------------------------------------------------


@pytest.mark.parametrize("forward, backward", ALL_PATHS)
def test_float32_stays_float32(forward, backward):
    x = np.random.default_rng(8).normal(size=(2, 6, 6, 3)).astype(np.float32)
    out, cache = forward(x, 2, padding="same")
    assert out.dtype == np.float32
    dx = backward(np.ones(out.shape, dtype=np.float32), cache)
    assert dx.dtype == np.float32


@pytest.mark.parametrize("forward, backward", ALL_PATHS)
def test_integer_input_becomes_float64(forward, backward):
    x = np.arange(32).reshape(1, 4, 4, 2)
    out, cache = forward(x, 2)
    assert out.dtype == np.float64
    assert backward(np.ones(out.shape, dtype=int), cache).dtype == np.float64


@pytest.mark.parametrize("forward, backward", ALL_PATHS)
def test_non_contiguous_input(forward, backward):
    # A transposed view (channels not contiguous) gives the same result.
    rng = np.random.default_rng(9)
    x = distinct_values(rng, (3, 6, 6, 2))
    xt = np.ascontiguousarray(x.transpose(3, 1, 2, 0)).transpose(3, 1, 2, 0)
    assert not xt.flags.c_contiguous
    out, cache = forward(x, 3, stride=2, padding=1)
    out_t, cache_t = forward(xt, 3, stride=2, padding=1)
    # Equal up to the order of summation in the averages.
    np.testing.assert_allclose(out_t, out, rtol=1e-13)
    dout = rng.normal(size=out.shape)
    dout_f = np.asfortranarray(dout)  # channels not contiguous either
    np.testing.assert_allclose(backward(dout_f, cache_t), backward(dout, cache), rtol=1e-13)


def test_forward_does_not_modify_input():
    x = distinct_values(np.random.default_rng(10), (1, 5, 5, 2))
    before = x.copy()
    for fwd, _ in [*MAX_TIERS.values(), *AVG_TIERS.values()]:
        out, cache = fwd(x, 3, stride=1, padding=1)
        out += 1.0
    np.testing.assert_array_equal(x, before)


# --------------------------------------------------------------------------
# Bad arguments
# --------------------------------------------------------------------------

X = np.zeros((2, 6, 6, 3))


@pytest.mark.parametrize("forward, backward", ALL_PATHS)
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(x=np.zeros((6, 6, 3))), ValueError, r"x must be 4-D"),
        (dict(x=np.zeros((0, 6, 6, 3))), ValueError, r"x must not have empty axes"),
        (dict(x=np.array([["a"]])), TypeError, r"x must hold real numbers"),
        (dict(pool_size=0), ValueError, r"pool_size must be >= 1"),
        (dict(pool_size=(2, 2, 2)), ValueError, r"pool_size must be an int or a pair"),
        (dict(pool_size=2.0), TypeError, r"pool_size must be an integer"),
        (dict(stride=0), ValueError, r"stride must be >= 1"),
        (dict(stride=(1, 0)), ValueError, r"stride\[1\] must be >= 1"),
        (dict(pool_size=7), ValueError, r"pool_size \(7, 7\) does not fit"),
        (dict(pool_size=(2, 7)), ValueError, r"pool_size \(2, 7\) does not fit .* columns"),
        (dict(padding=2), ValueError, r"padding .* too large for pool_size"),
        (dict(padding=((0, 0), (0, 2))), ValueError, r"padding .* too large"),
        (dict(padding="full3"), ValueError, r"padding must be one of"),
        (dict(padding=-1), ValueError, r"padding must be >= 0"),
    ],
)
def test_bad_forward_arguments(forward, backward, kwargs, error, match):
    args = dict(x=X, pool_size=2, stride=None, padding=0)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        forward(args["x"], args["pool_size"], args["stride"], args["padding"])


@pytest.mark.parametrize("forward, backward", ALL_PATHS)
def test_bad_dout_shape(forward, backward):
    out, cache = forward(X, 2)
    with pytest.raises(ValueError, match=r"dout has shape \(2, 3, 3, 2\) .* \(2, 3, 3, 3\)"):
        backward(np.zeros((2, 3, 3, 2)), cache)


@pytest.mark.parametrize("forward, backward", ALL_PATHS)
def test_bad_cache(forward, backward):
    out, cache = forward(X, 2)
    with pytest.raises(TypeError, match="cache must be the Pool2DCache"):
        backward(np.zeros(out.shape), {"argmax": None})
    # A cache from the other kind of pooling is refused too.
    other = avgpool2d_forward if cache.mode == "max" else maxpool2d_forward
    _, other_cache = other(X, 2)
    assert isinstance(other_cache, Pool2DCache)
    with pytest.raises(TypeError, match=f"from {other_cache.mode} pooling"):
        backward(np.zeros(out.shape), other_cache)


# --------------------------------------------------------------------------
# NaN in a window: propagated as PyTorch does, identically in every tier
# --------------------------------------------------------------------------


def torch_rule_pool(x, pool, stride, padding):
    """Max pooling by PyTorch's rule, as plain loops: output and argmax.

    PyTorch's kernel walks each window in row-major order and replaces its
    running maximum when ``val > max or isnan(val)``, starting from ``-inf``
    at the window's first real pixel: a window with a NaN outputs NaN and
    its gradient goes to its *last* NaN. ``argmax`` is ``p * PW + q`` in the
    padded window, like ``Pool2DCache.argmax``.
    """
    (ph, pw), (sh, sw) = pool, stride
    (top, bottom), (left, right) = resolve_padding(padding, x.shape[1:3], pool, stride)
    n, h, w, c = x.shape
    oh = (h + top + bottom - ph) // sh + 1
    ow = (w + left + right - pw) // sw + 1
    out = np.empty((n, oh, ow, c))
    argmax = np.empty((n, oh, ow, c), dtype=int)
    for b, i, j, ch in np.ndindex(n, oh, ow, c):
        best, where = -np.inf, None
        for p in range(ph):
            for q in range(pw):
                r, s = i * sh - top + p, j * sw - left + q
                if 0 <= r < h and 0 <= s < w:
                    v = x[b, r, s, ch]
                    if where is None or v > best or np.isnan(v):
                        best, where = v, p * pw + q
        out[b, i, j, ch], argmax[b, i, j, ch] = best, where
    return out, argmax


@pytest.mark.parametrize("forward, backward", MAX_PATHS)
def test_maxpool_nan_hand_example(forward, backward):
    # PyTorch: max_pool2d of this 2 x 4 image with 2 x 2 windows is [nan, nan],
    # and the gradient goes to the last NaN of each window.
    x = np.array([[1.0, np.nan, 3.0, np.nan], [np.nan, 2.0, 0.0, 5.0]]).reshape(1, 2, 4, 1)
    out, cache = forward(x, 2)
    assert np.isnan(out).all()
    dx = backward(np.array([10.0, 20.0]).reshape(1, 1, 2, 1), cache)
    expected = np.zeros((2, 4))
    expected[1, 0] = 10.0  # the second NaN of the first window
    expected[0, 3] = 20.0  # the only NaN of the second one, not the 5
    np.testing.assert_array_equal(dx[0, :, :, 0], expected)


@pytest.mark.parametrize("forward, backward", MAX_PATHS)
def test_maxpool_nan_only_affects_its_own_windows(forward, backward):
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    x[0, 0, 0, 0] = np.nan
    out, cache = forward(x, 2)
    assert np.isnan(out[0, 0, 0, 0])
    np.testing.assert_array_equal(out[0, :, :, 0].ravel()[1:], [7.0, 13.0, 15.0])
    dx = backward(np.ones_like(out), cache)
    assert dx[0, 0, 0, 0] == 1.0 and dx[0, 1, 1, 0] == 0.0  # the NaN, not the 5


@st.composite
def nan_pool_configs(draw):
    shape, pool, stride, padding, ties, seed = draw(pool_configs())
    nan_fraction = draw(st.sampled_from([0.05, 0.3, 0.8, 1.0]))
    return shape, pool, stride, padding, ties, seed, nan_fraction


@settings(max_examples=150, deadline=None)
@given(nan_pool_configs())
def test_maxpool_tiers_agree_with_nan(config):
    shape, pool, stride, padding, ties, seed, nan_fraction = config
    x, rng = _random_input(shape, ties, seed)
    x[rng.random(shape) < nan_fraction] = np.nan
    ref_out, ref_argmax = torch_rule_pool(x, pool, stride, padding)
    caches = {}
    for name, (forward, _) in MAX_TIERS.items():
        out, caches[name] = forward(x, pool, stride, padding)
        np.testing.assert_array_equal(out, ref_out, err_msg=name)  # NaN where the reference has NaN
        np.testing.assert_array_equal(caches[name].argmax, ref_argmax, err_msg=name)
    dout = rng.normal(size=ref_out.shape)
    expected = maxpool2d_backward_naive(dout, caches["naive"])
    np.testing.assert_allclose(expected.sum(), dout.sum())  # every window's gradient lands
    for bname, (_, backward) in MAX_TIERS.items():
        for cname, cache in caches.items():
            np.testing.assert_allclose(
                backward(dout, cache),
                expected,
                rtol=1e-12,
                atol=1e-12,
                err_msg=f"{bname} backward, {cname} cache",
            )


def test_maxpool_nan_matches_torch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    rng = np.random.default_rng(2024)
    for trial in range(60):
        ph, pw = (int(k) for k in rng.integers(1, 4, size=2))
        sh, sw = (int(s) for s in rng.integers(1, 4, size=2))
        pad = int(rng.integers(0, min(ph, pw) // 2 + 1))  # torch: padding <= window / 2
        n, h, w, c = 2, int(rng.integers(max(ph, pw), 8)), int(rng.integers(max(ph, pw), 8)), 3
        x = rng.integers(-2, 3, size=(n, h, w, c)).astype(np.float64)  # ties as well
        x[rng.random(x.shape) < rng.choice([0.1, 0.5])] = np.nan
        for dtype in (np.float64, np.float32):
            xt = torch.tensor(x.transpose(0, 3, 1, 2).astype(dtype), requires_grad=True)
            yt = F.max_pool2d(xt, (ph, pw), stride=(sh, sw), padding=pad)
            dout = rng.normal(size=tuple(yt.shape)).astype(dtype)
            yt.backward(torch.tensor(dout))
            want_out = yt.detach().numpy().transpose(0, 2, 3, 1)
            want_dx = xt.grad.numpy().transpose(0, 2, 3, 1)
            for name, (forward, backward) in MAX_TIERS.items():
                out, cache = forward(x.astype(dtype), (ph, pw), (sh, sw), pad)
                msg = f"{name}, trial {trial}, {np.dtype(dtype).name}"
                np.testing.assert_array_equal(out, want_out, err_msg=msg)
                dx = backward(dout.transpose(0, 2, 3, 1), cache)
                np.testing.assert_allclose(dx, want_dx, rtol=1e-6, atol=1e-6, err_msg=msg)
