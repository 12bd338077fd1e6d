"""Transposed convolution (issue 13, section 1): every tier against the others.

* naive loops vs the fast path, over strides, every padding form,
  output_padding, dilation and shapes (Hypothesis);
* centered-difference gradients (:func:`convlib.check_gradients`, float64);
* the adjoint identity with ``conv2d`` (:func:`convlib.check_adjoint`), and
  the forward pass equal to ``conv2d_backward``'s ``dx`` for any convlib
  convolution, stride-2 ``"same"`` included;
* PyTorch's ``ConvTranspose2d`` (skipped when torch does not import);
* the output-size arithmetic and the layer ``ConvTranspose2D``.

Bad inputs are rows of ``test_bad_inputs.py`` / ``test_bad_inputs_training.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import convlib
from convlib import (
    ConvTranspose2D,
    check_adjoint,
    check_gradients,
    conv2d_backward,
    conv2d_forward,
    conv2d_forward_naive,
    conv_output_size,
    conv_transpose2d_backward,
    conv_transpose2d_backward_naive,
    conv_transpose2d_forward,
    conv_transpose2d_forward_naive,
    conv_transpose_output_size,
    resolve_padding,
    resolve_transpose_padding,
)

TIERS = {
    "naive": (conv_transpose2d_forward_naive, conv_transpose2d_backward_naive),
    "fast": (conv_transpose2d_forward, conv_transpose2d_backward),
}


@dataclass(frozen=True)
class Config:
    x_shape: tuple[int, int, int, int]
    w_shape: tuple[int, int, int, int]
    kwargs: dict[str, Any]
    bias: bool
    seed: int

    def arrays(self, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        rng = np.random.default_rng(self.seed)
        x = rng.standard_normal(self.x_shape).astype(dtype)
        w = rng.standard_normal(self.w_shape).astype(dtype)
        b = rng.standard_normal(self.w_shape[2]).astype(dtype) if self.bias else None
        return x, w, b


@st.composite
def configs(draw: Any, max_hw: int = 5, max_k: int = 4, max_c: int = 3) -> Config:
    """A valid transposed convolution: shapes, stride, padding form, output_padding, dilation."""
    n = draw(st.integers(1, 2))
    h, w = draw(st.integers(1, max_hw)), draw(st.integers(1, max_hw))
    kh, kw = draw(st.integers(1, max_k)), draw(st.integers(1, max_k))
    c_in, c_out = draw(st.integers(1, max_c)), draw(st.integers(1, max_c))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    form = draw(st.sampled_from(["int", "pair", "nested", "valid", "same", "full"]))
    if form == "int":
        padding: Any = draw(st.integers(0, 2))
    elif form == "pair":
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    elif form == "nested":
        padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    else:
        padding = form
    bound = stride if form == "same" else tuple(max(s, d) for s, d in zip(stride, dilation))
    op = (draw(st.integers(0, bound[0] - 1)), draw(st.integers(0, bound[1] - 1)))
    kwargs = {"stride": stride, "padding": padding, "output_padding": op, "dilation": dilation}
    try:
        resolve_transpose_padding(padding, (h, w), (kh, kw), stride, dilation, op)
    except ValueError:
        assume(False)  # the padding crops the whole output
    return Config(
        (n, h, w, c_in),
        (kh, kw, c_out, c_in),
        kwargs,
        draw(st.booleans()),
        draw(st.integers(0, 999)),
    )


# --------------------------------------------------------------------------- tiers agree


@settings(max_examples=150, deadline=None)
@given(cfg=configs())
def test_fast_matches_naive(cfg: Config) -> None:
    x, w, b = cfg.arrays()
    out_n, cache_n = conv_transpose2d_forward_naive(x, w, b, **cfg.kwargs)
    out_f, cache_f = conv_transpose2d_forward(x, w, b, **cfg.kwargs)
    assert out_f.shape == out_n.shape == cache_n.out_shape
    np.testing.assert_allclose(out_f, out_n, rtol=1e-10, atol=1e-10)
    dout = np.random.default_rng(cfg.seed + 1).standard_normal(out_n.shape)
    for g_n, g_f in zip(
        conv_transpose2d_backward_naive(dout, cache_n), conv_transpose2d_backward(dout, cache_f)
    ):
        if g_n is None:
            assert g_f is None and not cfg.bias
        else:
            np.testing.assert_allclose(g_f, g_n, rtol=1e-10, atol=1e-10)
    # Either backward accepts either forward's cache.
    np.testing.assert_allclose(
        conv_transpose2d_backward(dout, cache_n)[0],
        conv_transpose2d_backward_naive(dout, cache_f)[0],
    )


@settings(max_examples=100, deadline=None)
@given(cfg=configs())
def test_output_size_formula(cfg: Config) -> None:
    """Shape = (H - 1) s - (top + bottom) + d (k - 1) + op + 1, and a convolution maps it back."""
    x, w, b = cfg.arrays()
    out, cache = conv_transpose2d_forward(x, w, b, **cfg.kwargs)
    kw = cfg.kwargs
    s, d, op = kw["stride"], kw["dilation"], kw["output_padding"]
    for axis in range(2):
        k, n = cfg.w_shape[axis], cfg.x_shape[1 + axis]
        if kw["padding"] == "same":  # the padding follows from the output size
            assert out.shape[1 + axis] == (n - 1) * s[axis] + 1 + op[axis]
        else:
            expected = (n - 1) * s[axis] - sum(cache.pads[axis]) + d[axis] * (k - 1) + op[axis] + 1
            assert out.shape[1 + axis] == expected
            assert out.shape[1 + axis] == conv_transpose_output_size(
                n, k, s[axis], cache.pads[axis], d[axis], op[axis]
            )
        if op[axis] < s[axis]:  # the convolution with the same arguments maps it back to n
            assert conv_output_size(out.shape[1 + axis], k, s[axis], cache.pads[axis], d[axis]) == n
    if kw["padding"] == "same":
        assert cache.pads == resolve_padding("same", out.shape[1:3], cfg.w_shape[:2], s, d)


def test_float32_stays_float32() -> None:
    cfg = Config((2, 3, 4, 2), (3, 3, 5, 2), {"stride": 2, "padding": 1}, True, 0)
    x, w, b = cfg.arrays(np.float32)
    for forward, backward in TIERS.values():
        out, cache = forward(x, w, b, **cfg.kwargs)
        assert out.dtype == np.float32
        assert all(g.dtype == np.float32 for g in backward(np.ones_like(out), cache))


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("tier", list(TIERS))
@settings(max_examples=30, deadline=None)
@given(cfg=configs(max_hw=4, max_k=3, max_c=2))
def test_centered_differences(tier: str, cfg: Config) -> None:
    forward, backward = TIERS[tier]
    x, w, b = cfg.arrays()
    report = check_gradients(
        forward, backward, {"x": x, "w": w, "b": b}, seed=cfg.seed, **cfg.kwargs
    )
    expected = {"x", "w", "b"} if cfg.bias else {"x", "w"}
    assert report.passed and set(report.max_rel_error) == expected


@settings(max_examples=60, deadline=None)
@given(cfg=configs(), tier=st.sampled_from(list(TIERS)))
def test_adjoint_identity_in_x_and_w(cfg: Config, tier: str) -> None:
    """<T(x), y> = <x, T^T(y)> in x and in w: the backward is the forward's adjoint."""
    forward, backward = TIERS[tier]
    x, w, b = cfg.arrays()
    report = check_adjoint(
        forward, backward, {"x": x, "w": w, "b": b}, wrt=["x", "w"], **cfg.kwargs
    )
    assert set(report.rel_diff) == {"x", "w"}


# --------------------------------------------------------------------------- adjoint of conv2d


@st.composite
def conv_configs(draw: Any) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Any convlib convolution: input, filters, stride, padding (every form), dilation."""
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["valid", "same", "full", 1, (0, 2), ((0, 1), (2, 0))]))
    pads = resolve_padding(padding, (h, w), (kh, kw), stride, dilation)
    assume(
        all(n + sum(p) >= d * (k - 1) + 1 for n, p, d, k in zip((h, w), pads, dilation, (kh, kw)))
    )
    rng = np.random.default_rng(draw(st.integers(0, 999)))
    x = rng.standard_normal((2, h, w, draw(st.integers(1, 3))))
    filters = rng.standard_normal((kh, kw, x.shape[3], draw(st.integers(1, 3))))
    return x, filters, {"stride": stride, "padding": padding, "dilation": dilation}


@settings(max_examples=150, deadline=None)
@given(case=conv_configs(), tier=st.sampled_from(list(TIERS)))
def test_forward_is_the_convolutions_dx(case: Any, tier: str) -> None:
    """For any convlib convolution, the transposed forward of dout is conv2d_backward's dx."""
    x, w, kw = case
    y, cache = conv2d_forward(x, w, None, **kw)
    dout = np.random.default_rng(1).standard_normal(y.shape)
    dx = conv2d_backward(dout, cache)[0]
    k_eff = [d * (k - 1) + 1 for d, k in zip(cache.dilation, w.shape[:2])]
    # The remainder of the convolution's floor division: rows its windows never reach.
    dropped = [
        (n + sum(p) - k) % s for n, p, k, s in zip(x.shape[1:3], cache.pads, k_eff, cache.stride)
    ]
    if kw["padding"] == "same":
        op = tuple((n - 1) % s for n, s in zip(x.shape[1:3], cache.stride))
        args = {**kw, "output_padding": op}
    else:
        args = {**kw, "padding": cache.pads, "output_padding": tuple(dropped)}
    out, t_cache = TIERS[tier][0](dout, w, None, **args)
    assert out.shape == x.shape
    assert t_cache.pads == cache.pads
    np.testing.assert_allclose(out, dx, rtol=1e-10, atol=1e-10)
    # the dot-product test between the convolution and its transpose
    forward = TIERS[tier][0]
    check_adjoint(
        lambda v: (conv2d_forward(v, w, None, **kw)[0], None),
        lambda d, _: forward(d, w, None, **args)[0],
        [x],
    )
    # and its backward's dx is the convolution's forward
    back = TIERS[tier][1](x, t_cache)[0]
    np.testing.assert_allclose(
        back, conv2d_forward_naive(x, w, None, **kw)[0], rtol=1e-10, atol=1e-10
    )


def test_stride_2_same_with_extra_bottom_right_pixel() -> None:
    """28 -> 14 by a stride-2 'same' 3x3 convolution pads (0, 1); the transpose goes 14 -> 28."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 28, 28, 2)), rng.standard_normal((3, 3, 2, 4))
    y, cache = conv2d_forward(x, w, None, stride=2, padding="same")
    assert y.shape == (1, 14, 14, 4) and cache.pads == ((0, 1), (0, 1))
    out, t_cache = conv_transpose2d_forward(y, w, None, stride=2, padding="same", output_padding=1)
    assert out.shape == x.shape and t_cache.pads == ((0, 1), (0, 1))
    np.testing.assert_allclose(out, conv2d_backward(y, cache)[0], rtol=1e-12)
    # The adjoint identity between the two layers themselves.
    report = check_adjoint(
        lambda v: (conv2d_forward(v, w, None, stride=2, padding="same")[0], None),
        lambda d, _: conv_transpose2d_forward(
            d, w, None, stride=2, padding="same", output_padding=1
        )[0],
        [x],
    )
    assert report.max_rel_diff < 1e-13
    # Without output_padding the output is one row and column short: 27 = 13 * 2 + 1.
    assert conv_transpose2d_forward(y, w, None, stride=2, padding="same")[0].shape == (1, 27, 27, 2)


# --------------------------------------------------------------------------- PyTorch


@settings(max_examples=60, deadline=None)
@given(cfg=configs(max_hw=5, max_k=4, max_c=3))
def test_matches_pytorch(cfg: Config) -> None:
    torch = pytest.importorskip("torch")
    padding = cfg.kwargs["padding"]
    assume(isinstance(padding, int) or (isinstance(padding, tuple) and isinstance(padding[0], int)))
    x, w, b = cfg.arrays()
    out, cache = conv_transpose2d_forward(x, w, b, **cfg.kwargs)
    xt = torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)
    wt = torch.tensor(np.ascontiguousarray(w.transpose(3, 2, 0, 1)), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True) if b is not None else None
    ref = torch.nn.functional.conv_transpose2d(
        xt,
        wt,
        bt,
        stride=cfg.kwargs["stride"],
        padding=padding,
        output_padding=cfg.kwargs["output_padding"],
        dilation=cfg.kwargs["dilation"],
    )
    np.testing.assert_allclose(
        out, ref.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-10
    )
    dout = np.random.default_rng(cfg.seed).standard_normal(out.shape)
    ref.backward(torch.tensor(np.ascontiguousarray(dout.transpose(0, 3, 1, 2))))
    dx, dw, db = conv_transpose2d_backward(dout, cache)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, wt.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-10, atol=1e-10)
    if bt is not None:
        np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------- a hand example


def test_hand_example_stride_2() -> None:
    """1-D by hand: x = [1, 2], kernel [1, 10, 100], stride 2 -> [1, 10, 102, 20, 200]."""
    x = np.array([1.0, 2.0]).reshape(1, 1, 2, 1)
    w = np.array([1.0, 10.0, 100.0]).reshape(1, 3, 1, 1)
    out = conv_transpose2d_forward(x, w, None, stride=2)[0].ravel()
    np.testing.assert_array_equal(out, [1, 10, 102, 20, 200])
    # padding 1 crops one from each end; output_padding 1 adds a zero at the end
    out = conv_transpose2d_forward(x, w, None, stride=2, padding=(0, 1), output_padding=(0, 1))[
        0
    ].ravel()
    np.testing.assert_array_equal(out, [10, 102, 20, 200])
    out = conv_transpose2d_forward(x, w, None, stride=2, output_padding=(0, 1))[0].ravel()
    np.testing.assert_array_equal(out, [1, 10, 102, 20, 200, 0])


def test_arithmetic_examples() -> None:
    assert conv_transpose_output_size(7, 4, stride=2, pad=1) == 14
    assert conv_transpose_output_size(14, 4, stride=2, pad=1) == 28
    assert conv_transpose_output_size(3, 3, stride=1, pad=(0, 0), dilation=2) == 7
    assert conv_transpose_output_size(5, 3, stride=3, dilation=4, output_padding=3) == 24
    assert resolve_transpose_padding("same", (14, 13), (3, 3), (2, 2), output_padding=(1, 0)) == (
        ((0, 1), (1, 1)),
        (28, 25),
    )
    assert resolve_transpose_padding("full", (5, 5), (3, 3)) == (((2, 2), (2, 2)), (3, 3))


# --------------------------------------------------------------------------- the layer


def test_layer_wraps_the_functions() -> None:
    layer = ConvTranspose2D(3, 2, 4, stride=2, padding=1, rng=0, dtype=np.float64)
    assert layer.params["w"].shape == (4, 4, 2, 3) and layer.params["b"].shape == (2,)
    x = np.random.default_rng(1).standard_normal((2, 5, 5, 3))
    out = layer.forward(x)
    assert out.shape == (2, 10, 10, 2) and layer.output_shape((5, 5, 3)) == (10, 10, 2)
    ref, cache = conv_transpose2d_forward(x, layer.params["w"], layer.params["b"], 2, 1)
    np.testing.assert_array_equal(out, ref)
    dout = np.random.default_rng(2).standard_normal(out.shape)
    dx = layer.backward(dout)
    dx_ref, dw_ref, db_ref = conv_transpose2d_backward(dout, cache)
    np.testing.assert_array_equal(dx, dx_ref)
    np.testing.assert_array_equal(layer.grads["w"], dw_ref)
    np.testing.assert_array_equal(layer.grads["b"], db_ref)
    assert layer.num_params() == 4 * 4 * 2 * 3 + 2
    assert "stride=(2, 2)" in repr(layer) and "padding=1" in repr(layer)


def _decoder(seed: int) -> convlib.Sequential:
    return convlib.Sequential(
        [
            ConvTranspose2D(
                4, 3, 3, stride=2, padding="same", output_padding=1, rng=seed, dtype=np.float64
            ),
            convlib.ReLU(),
            ConvTranspose2D(
                3, 1, 4, stride=2, padding=1, bias=False, rng=seed + 1, dtype=np.float64
            ),
        ]
    )


def test_layer_same_and_output_padding_in_a_model(tmp_path: Any) -> None:
    """A decoder 7 -> 14 -> 28 in a Sequential: shapes, summary, save and load."""
    model = _decoder(0)
    x = np.random.default_rng(0).standard_normal((2, 7, 7, 4))
    out = model.forward(x)
    assert out.shape == (2, 28, 28, 1)
    assert model.layers[0].output_shape((7, 7, 4)) == (14, 14, 3)
    assert "output_padding=(1, 1)" in repr(model.layers[0]) and "bias=False" in repr(
        model.layers[2]
    )
    summary = model.summary((7, 7, 4))
    assert [row[1] for row in summary.rows] == [(14, 14, 3), (14, 14, 3), (28, 28, 1)]
    assert summary.total_params == 3 * 3 * 3 * 4 + 3 + 4 * 4 * 1 * 3
    # save, then load into a model with other weights: the same outputs come back
    path = model.save(tmp_path / "decoder")
    other = _decoder(5)
    assert not np.allclose(other.forward(x), out)
    np.testing.assert_array_equal(other.load(path).forward(x), out)


def test_layer_gradients_by_centered_differences() -> None:
    layer = ConvTranspose2D(
        2, 3, 3, stride=2, padding=(1, 0), output_padding=1, rng=0, dtype=np.float64
    )
    x = np.random.default_rng(3).standard_normal((1, 3, 2, 2))

    def forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> Any:
        layer.params["w"][...] = w
        layer.params["b"][...] = b
        return layer.forward(x), None

    def backward(dout: np.ndarray, _: Any) -> Any:
        dx = layer.backward(dout)
        return dx, layer.grads["w"].copy(), layer.grads["b"].copy()

    w0, b0 = layer.params["w"].copy(), np.random.default_rng(4).standard_normal(3)
    check_gradients(forward, backward, {"x": x, "w": w0, "b": b0})
