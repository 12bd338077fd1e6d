"""Tests of inverted dropout."""

from __future__ import annotations

import numpy as np
import pytest

from convlib import check_gradients
from convlib.dropout import DropoutCache, dropout_backward, dropout_forward
from convlib.layers import Dropout


def test_same_seed_same_mask_different_seed_different_mask():
    x = np.ones((8, 16))
    out_a, _ = dropout_forward(x, 0.5, np.random.default_rng(42))
    out_b, _ = dropout_forward(x, 0.5, np.random.default_rng(42))
    out_c, _ = dropout_forward(x, 0.5, np.random.default_rng(43))
    np.testing.assert_array_equal(out_a, out_b)
    assert not np.array_equal(out_a, out_c)


def test_successive_calls_draw_fresh_masks():
    rng = np.random.default_rng(0)
    x = np.ones((8, 16))
    out_1, _ = dropout_forward(x, 0.5, rng)
    out_2, _ = dropout_forward(x, 0.5, rng)
    assert not np.array_equal(out_1, out_2)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_inverted_scaling(p):
    rng = np.random.default_rng(1)
    x = rng.uniform(1, 2, size=(200, 500))
    out, _ = dropout_forward(x, p, rng)
    kept = out != 0
    # Survivors are scaled by 1 / (1 - p), the rest are exactly 0.
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-15)
    # About a fraction p is dropped (100 000 draws: the standard deviation
    # of the fraction is below 0.0016), and the mean is preserved.
    assert abs((~kept).mean() - p) < 0.01
    assert abs(out.mean() / x.mean() - 1) < 0.02


def test_backward_uses_the_same_mask_and_scale():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 6, 7))
    out, cache = dropout_forward(x, 0.3, rng)
    dout = rng.normal(size=x.shape)
    dx = dropout_backward(dout, cache)
    kept = out != 0
    np.testing.assert_allclose(dx[kept], dout[kept] / 0.7, rtol=1e-15)
    np.testing.assert_array_equal(dx[~kept], 0.0)


def test_gradient_check():
    x = np.random.default_rng(3).normal(size=(4, 3, 3, 2))

    def forward(x):  # the same mask on every call: a fresh generator, same seed
        return dropout_forward(x, 0.4, np.random.default_rng(7))

    report = check_gradients(forward, dropout_backward, {"x": x})
    assert report.max_rel_error["x"] < 1e-7


def test_eval_mode_is_identity_and_leaves_rng_alone():
    rng = np.random.default_rng(4)
    state = rng.bit_generator.state
    x = np.random.default_rng(5).normal(size=(3, 4))
    out, cache = dropout_forward(x, 0.5, rng, training=False)
    assert out is x
    assert rng.bit_generator.state == state
    dout = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


def test_p_zero_is_identity_in_training():
    x = np.random.default_rng(6).normal(size=(3, 4))
    out, cache = dropout_forward(x, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(out, x)
    assert cache.scaled_mask is None


def test_dtypes():
    x = np.ones((4, 4), dtype=np.float32)
    out, cache = dropout_forward(x, 0.5, np.random.default_rng(0))
    assert out.dtype == np.float32
    assert dropout_backward(np.ones((4, 4), np.float32), cache).dtype == np.float32
    out, cache = dropout_forward(np.ones((4, 4), dtype=int), 0.5, np.random.default_rng(0))
    assert out.dtype == np.float64
    out, cache = dropout_forward(
        np.ones((4, 4), dtype=int), 0.5, np.random.default_rng(0), training=False
    )
    assert out.dtype == np.float64
    assert dropout_backward(np.ones((4, 4), dtype=int), cache).dtype == np.float64


def test_forward_does_not_modify_input():
    x = np.ones((10, 10))
    dropout_forward(x, 0.5, np.random.default_rng(0))
    np.testing.assert_array_equal(x, 1.0)


# --------------------------------------------------------------------------
# Bad arguments
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rng", [None, 0, np.random.RandomState(0), np.random.default_rng(0).bit_generator]
)
@pytest.mark.parametrize("training", [True, False])
def test_rng_must_be_a_generator(rng, training):
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        dropout_forward(np.ones(3), 0.5, rng, training=training)


@pytest.mark.parametrize(
    "p, error",
    [
        (1.0, ValueError),
        (-0.1, ValueError),
        (1.5, ValueError),
        (float("nan"), ValueError),
        ("0.5", TypeError),
        (None, TypeError),
        (True, TypeError),
    ],
)
def test_bad_p(p, error):
    with pytest.raises(error, match=r"p.* must"):
        dropout_forward(np.ones(3), p, np.random.default_rng(0))


def test_bad_training_flag():
    with pytest.raises(TypeError, match="training must be a bool"):
        dropout_forward(np.ones(3), 0.5, np.random.default_rng(0), training="no")


def test_bad_dout_and_cache():
    _, cache = dropout_forward(np.ones((2, 3)), 0.5, np.random.default_rng(0))
    assert isinstance(cache, DropoutCache)
    with pytest.raises(
        ValueError, match=r"dout has shape \(3, 2\) but the forward output had shape \(2, 3\)"
    ):
        dropout_backward(np.ones((3, 2)), cache)
    with pytest.raises(TypeError, match="cache must be the DropoutCache"):
        dropout_backward(np.ones((2, 3)), np.ones((2, 3)))


# -- float16 with p close to 1 (issue 10) ---------------------------------------


@pytest.mark.parametrize("p", [0.99, 0.9999, 0.99998])
def test_float16_dropout_close_to_one_has_no_nan(p):
    x = np.ones((64, 64), np.float16)
    out, cache = dropout_forward(x, p, np.random.default_rng(0))
    assert out.dtype == np.float16 and not np.isnan(out).any()
    dx = dropout_backward(np.ones_like(x), cache)
    assert not np.isnan(dx).any()
    kept = out[out != 0]
    np.testing.assert_allclose(kept, 1 / (1 - p), rtol=1e-3)


@pytest.mark.parametrize("p", [0.99999, 0.9999999])
def test_float16_dropout_refuses_p_whose_scale_overflows(p):
    x = np.ones((4, 4), np.float16)
    with pytest.raises(ValueError, match=r"p=.*too close to 1 for float16.*65504"):
        dropout_forward(x, p, np.random.default_rng(0))
    with pytest.raises(ValueError, match="too close to 1 for float16"):
        Dropout(p, dtype=np.float16)
    # float32 has room for the same scale
    out, _ = dropout_forward(x.astype(np.float32), p, np.random.default_rng(0))
    assert not np.isnan(out).any()
    Dropout(p, dtype=np.float32)
