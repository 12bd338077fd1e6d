"""Tests of the tuned tier's parameter-gradient path (issue 12).

:func:`convlib.fast.conv.conv2d_param_grads_fast` must give exactly the
``dw`` and ``db`` of the full backward passes, for a cache from any tier,
over random shapes, strides, paddings and dilations; the layers'
``backward_params`` and :meth:`convlib.Sequential.backward_params` must
leave the same gradients as ``backward``; and :func:`convlib.fit` must train
exactly as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import convlib
from convlib import (
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_im2col,
    conv2d_forward_naive,
)
from convlib.fast.conv import conv2d_param_grads_fast
from convlib.layers import Conv2D, Dense, Flatten, ReLU
from convlib.model import Sequential, build_capstone


@st.composite
def conv_cases(draw: Any) -> dict[str, Any]:
    n, c, f = (
        draw(st.integers(1, 3)),
        draw(st.sampled_from([1, 2, 3, 5, 8])),
        draw(st.integers(1, 4)),
    )
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pad = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    kh = draw(st.integers(1, (h + 2 * pad[0] - 1) // dilation[0] + 1))
    kw = draw(st.integers(1, (w + 2 * pad[1] - 1) // dilation[1] + 1))
    bias = draw(st.sampled_from(["flat", "4d", None]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, c))
    wt = rng.standard_normal((kh, kw, c, f))
    b = None if bias is None else rng.standard_normal((f,) if bias == "flat" else (1, 1, 1, f))
    return {"x": x, "w": wt, "b": b, "stride": stride, "padding": pad, "dilation": dilation}


@settings(max_examples=150, deadline=None)
@given(case=conv_cases())
def test_param_grads_match_every_backward(case: dict[str, Any]) -> None:
    x, w, b = case.pop("x"), case.pop("w"), case.pop("b")
    out, naive_cache = conv2d_forward_naive(x, w, b, **case)
    dout = np.random.default_rng(0).standard_normal(out.shape)
    _, dw_ref, db_ref = conv2d_backward_naive(dout, naive_cache)
    for forward in (conv2d_forward_naive, conv2d_forward_im2col, conv2d_forward):
        _, cache = forward(x, w, b, **case)
        dw, db = conv2d_param_grads_fast(dout, cache)
        _, dw_full, db_full = conv2d_backward(dout, cache)
        np.testing.assert_allclose(dw, dw_ref, rtol=1e-10, atol=1e-10)
        np.testing.assert_array_equal(dw, dw_full)  # the same products: bit for bit
        if b is None:
            assert db is None and db_full is None
        else:
            assert db is not None and db.shape == b.shape
            np.testing.assert_allclose(db, db_ref, rtol=1e-10, atol=1e-10)
            np.testing.assert_array_equal(db, db_full)


def test_param_grads_check_their_arguments() -> None:
    x = np.ones((1, 4, 4, 1))
    _, cache = conv2d_forward(x, np.ones((3, 3, 1, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="dout"):
        conv2d_param_grads_fast(np.ones((1, 3, 3, 2)), cache)
    with pytest.raises(TypeError, match="cache"):
        conv2d_param_grads_fast(np.ones((1, 2, 2, 2)), object())


def _net(seed: int) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential(
        [
            Conv2D(2, 3, 3, stride=2, padding=1, rng=rng, dtype=np.float64),
            ReLU(dtype=np.float64),
            Flatten(dtype=np.float64),
            Dense(3 * 4 * 4, 5, rng=rng, dtype=np.float64),
        ]
    )


@pytest.mark.parametrize("first", ["conv", "dense"])
def test_backward_params_leaves_the_same_gradients(first: str) -> None:
    rng = np.random.default_rng(1)
    if first == "conv":
        x = rng.standard_normal((4, 7, 8, 2))
        nets = [_net(3), _net(3)]
    else:
        x = rng.standard_normal((4, 6))
        nets = [
            Sequential([Dense(6, 5, rng=np.random.default_rng(2), dtype=np.float64)])
            for _ in range(2)
        ]
    dout = rng.standard_normal((4, 5))
    for net in nets:
        net.forward(x)
    assert nets[0].backward(dout).shape == x.shape
    assert nets[1].backward_params(dout) is None
    for p, q in zip(nets[0].parameters(), nets[1].parameters()):
        assert p.name == q.name
        np.testing.assert_array_equal(p.grad, q.grad)
    # the cache is consumed like backward's
    with pytest.raises(RuntimeError, match="called before forward"):
        nets[1].layers[0].backward_params(np.zeros((4, 3, 4, 4)) if first == "conv" else dout)


def test_conv_layer_backward_params_skips_the_input_gradient(monkeypatch: Any) -> None:
    """The first convolution's dx is never computed (the point of the path)."""
    layer = Conv2D(1, 4, 3, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((2, 6, 6, 1)).astype(np.float32)
    out = layer.forward(x)

    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the full backward pass ran")

    monkeypatch.setattr("convlib.layers.trainable.conv2d_backward", fail)
    layer.backward_params(np.ones_like(out))
    assert np.isfinite(layer.grads["w"]).all() and np.isfinite(layer.grads["b"]).all()


def test_fit_trains_exactly_as_with_backward(monkeypatch: Any) -> None:
    """fit uses backward_params; the trained weights equal those of the full backward."""
    x, y = convlib.datasets.synthetic_digits(64, seed=0)
    x = convlib.datasets.prepare_images(x)
    y = y.astype(np.int64)
    results = []
    for use_params_path in (True, False):
        if not use_params_path:
            monkeypatch.setattr(Sequential, "backward_params", Sequential.backward)
        model = build_capstone(0)
        opt = convlib.optim.Adam(model.parameters(), lr=1e-3)
        convlib.fit(model, x, y, opt, epochs=1, batch_size=32, progress=False)
        results.append(model.state())
    for key in results[0]:
        np.testing.assert_array_equal(results[0][key], results[1][key], err_msg=key)
