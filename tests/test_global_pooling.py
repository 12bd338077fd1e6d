"""Global average pooling: by hand, against average pooling with one whole-image window,
against centered differences, and as a layer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from convlib import check_gradients
from convlib.global_pooling import (
    GlobalAvgPoolCache,
    global_avgpool_backward,
    global_avgpool_forward,
)
from convlib.layers import GlobalAvgPool2D
from convlib.pooling import avgpool2d_backward, avgpool2d_forward


def test_forward_and_backward_by_hand():
    x = np.zeros((1, 2, 3, 2))
    x[0, :, :, 0] = [[1, 2, 3], [4, 5, 6]]  # mean 3.5
    x[0, :, :, 1] = -6.0
    out, cache = global_avgpool_forward(x)
    np.testing.assert_array_equal(out, [[3.5, -6.0]])
    dx = global_avgpool_backward(np.array([[6.0, 12.0]]), cache)
    np.testing.assert_array_equal(dx[0, :, :, 0], np.ones((2, 3)))  # 6 / (2 * 3)
    np.testing.assert_array_equal(dx[0, :, :, 1], np.full((2, 3), 2.0))
    assert isinstance(cache, GlobalAvgPoolCache) and cache.x_shape == (1, 2, 3, 2)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3),
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    c=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_equals_average_pooling_with_a_whole_image_window(n, h, w, c, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, c))
    dout = rng.standard_normal((n, c))
    out, cache = global_avgpool_forward(x)
    ref, ref_cache = avgpool2d_forward(x, (h, w))
    np.testing.assert_allclose(out, ref.reshape(n, c), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        global_avgpool_backward(dout, cache),
        avgpool2d_backward(dout.reshape(n, 1, 1, c), ref_cache),
        rtol=1e-12,
        atol=1e-12,
    )


def test_backward_matches_centered_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 5))
    dout = rng.standard_normal((2, 5))
    report = check_gradients(
        global_avgpool_forward, global_avgpool_backward, {"x": x}, dout=dout, tol=1e-8
    )
    assert report.passed and report.max_rel_error["x"] < 1e-8, report


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keeps_the_dtype_and_returns_new_arrays(dtype):
    x = np.ones((2, 3, 3, 4), dtype=dtype)
    out, cache = global_avgpool_forward(x)
    dx = global_avgpool_backward(np.ones((2, 4), dtype=dtype), cache)
    assert out.dtype == dx.dtype == dtype
    assert dx.flags.writeable and not np.shares_memory(dx, x)
    dx[0, 0, 0, 0] = 5.0  # a real array, not a broadcast view
    assert dx[1, 0, 0, 0] == pytest.approx(1 / 9)


def test_integer_input_is_computed_in_float64():
    out, _ = global_avgpool_forward(np.arange(4).reshape(1, 2, 2, 1))
    assert out.dtype == np.float64 and out[0, 0] == 1.5


def test_layer_wraps_the_functions():
    layer = GlobalAvgPool2D(dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((3, 4, 5, 2))
    np.testing.assert_array_equal(layer.forward(x), global_avgpool_forward(x)[0])
    dout = np.ones((3, 2))
    np.testing.assert_array_equal(
        layer.backward(dout), global_avgpool_backward(dout, global_avgpool_forward(x)[1])
    )
    assert layer.output_shape((4, 5, 2)) == (2,) and layer.num_params() == 0
    assert repr(layer) == "GlobalAvgPool2D(dtype=float64)"


def test_layer_is_translation_invariant_for_a_circular_shift():
    # The prediction does not depend on where a feature is: rolling the maps changes nothing.
    x = np.random.default_rng(1).standard_normal((2, 6, 6, 3))
    layer = GlobalAvgPool2D(dtype=np.float64)
    np.testing.assert_allclose(layer.forward(np.roll(x, (2, 3), axis=(1, 2))), layer.forward(x))
