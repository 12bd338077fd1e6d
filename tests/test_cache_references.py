"""Caches hold references, not copies: the documented rule, tested.

The package docstring of :mod:`convlib` states the rule once; the forward
passes that keep their inputs say so in their docstrings. These tests hold
the code to the documentation both ways: a cache that is documented to keep
the caller's array does keep it (so modifying it before the backward pass
does change the gradient, which is why the documentation warns), a copy
taken by the caller is the documented remedy, and pooling caches, documented
to keep no input, keep none.
"""

from __future__ import annotations

import numpy as np
import pytest

import convlib
from convlib import (
    avgpool2d_backward,
    avgpool2d_forward,
    conv2d_backward,
    conv2d_backward_im2col,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_im2col,
    conv2d_forward_naive,
    dense_backward,
    dense_forward,
    maxpool2d_backward,
    maxpool2d_backward_naive,
    maxpool2d_backward_windows,
    maxpool2d_forward,
    maxpool2d_forward_naive,
    maxpool2d_forward_windows,
)
from convlib.fast import conv2d_forward_fast


def test_the_package_docstring_states_the_rule_once():
    doc = convlib.__doc__
    assert doc.count("Caches hold references, not copies") == 1
    assert "x.copy()" in doc


@pytest.mark.parametrize(
    "forward",
    [
        dense_forward,
        conv2d_forward,
        conv2d_forward_fast,
        conv2d_forward_im2col,
        conv2d_forward_naive,
    ],
)
def test_forwards_that_keep_their_inputs_say_so(forward):
    doc = " ".join(forward.__doc__.split())
    assert "not copies" in doc and "in place before" in doc and "references" in doc


def test_dense_cache_keeps_the_callers_arrays():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    _, cache = dense_forward(x, w)
    assert cache.x is x and cache.w is w


def test_dense_modifying_x_before_backward_changes_dw_and_a_copy_does_not():
    rng = np.random.default_rng(1)
    x, w, dout = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    want = x.T @ dout
    _, cache = dense_forward(x, w)
    x *= 2.0  # in place, before the backward pass: what the documentation warns about
    np.testing.assert_allclose(dense_backward(dout, cache)[1], 2.0 * want)
    x /= 2.0
    _, cache = dense_forward(x.copy(), w)  # the documented remedy
    x *= 2.0
    np.testing.assert_allclose(dense_backward(dout, cache)[1], want)


def test_dense_cache_of_a_cast_input_is_a_copy():
    x = np.ones((2, 3), dtype=np.int64)
    _, cache = dense_forward(x, np.ones((3, 2)))
    assert not np.shares_memory(cache.x, x)


@pytest.mark.parametrize("forward", [conv2d_forward, conv2d_forward_im2col, conv2d_forward_naive])
def test_conv_cache_keeps_w_and_unpadded_x(forward):
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(2, 5, 5, 3)), rng.normal(size=(3, 3, 3, 4))
    _, cache = forward(x, w, None)
    assert cache.w is w and cache.x_padded is x
    _, cache = forward(x, w, None, padding=1)
    assert cache.w is w and not np.shares_memory(cache.x_padded, x)


@pytest.mark.parametrize(
    ("forward", "backward"),
    [
        (conv2d_forward_naive, conv2d_backward_naive),
        (conv2d_forward_im2col, conv2d_backward_im2col),
        (conv2d_forward, conv2d_backward),
    ],
)
def test_conv_modifying_w_before_backward_changes_dx(forward, backward):
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(2, 5, 5, 3)), rng.normal(size=(3, 3, 3, 4))
    out, cache = forward(x, w, None)
    dout = rng.normal(size=out.shape)
    want = backward(dout, forward(x, w.copy(), None)[1])[0]
    w *= 3.0
    np.testing.assert_allclose(backward(dout, cache)[0], 3.0 * want)


@pytest.mark.parametrize(
    ("forward", "backward"),
    [
        (maxpool2d_forward, maxpool2d_backward),
        (maxpool2d_forward_windows, maxpool2d_backward_windows),
        (maxpool2d_forward_naive, maxpool2d_backward_naive),
        (avgpool2d_forward, avgpool2d_backward),
    ],
)
def test_pooling_caches_keep_no_input(forward, backward):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 4, 4, 3))
    out, cache = forward(x, 2)
    for value in vars(cache).values():
        assert not (isinstance(value, np.ndarray) and np.shares_memory(value, x))
    dout = rng.normal(size=out.shape)
    want = backward(dout, forward(x.copy(), 2)[1])
    x[...] = rng.normal(size=x.shape)  # changing x after the forward pass does not matter
    np.testing.assert_array_equal(backward(dout, cache), want)
