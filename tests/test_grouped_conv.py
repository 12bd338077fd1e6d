"""Tests of grouped and depthwise convolution (``groups=``) in every tier.

The references, independent of :mod:`convlib.grouping`:

* the *ungrouped* convolution with the grouped weights embedded, written
  here, into a ``(KH, KW, C, F)`` array that is zero wherever a filter does
  not read a channel (:func:`embed`): its output is the grouped output, its
  ``dx`` the grouped ``dx``, and the grouped ``dw`` is its ``dw`` read at the
  embedded entries;
* PyTorch's ``torch.nn.functional.conv2d(..., groups=G)`` when torch imports;
* centered differences (float64) and the adjoint identity
  (:func:`convlib.check_adjoint`) in ``x`` and in ``w``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import convlib
from convlib import (
    Conv2D,
    Conv2DCache,
    check_adjoint,
    check_gradients,
    complex_step_gradient,
    conv2d_backward,
    conv2d_backward_im2col,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_im2col,
    conv2d_forward_naive,
    conv_cost,
    conv_output_size,
)
from convlib.fast import (
    GroupedConv2DCache,
    conv2d_backward_fast,
    conv2d_backward_grouped_fast,
    conv2d_forward_fast,
    conv2d_forward_grouped_fast,
    threads as fast_threads,
)
from convlib.grouping import group_channels, ungroup_channels, ungrouped_weights

Forward = Callable[..., tuple[np.ndarray, Conv2DCache]]
Backward = Callable[..., tuple[np.ndarray, np.ndarray, Any]]

TIERS: dict[str, tuple[Forward, Backward]] = {
    "fast": (conv2d_forward, conv2d_backward),
    "fast-direct": (conv2d_forward_fast, conv2d_backward_fast),
    "grouped-fast": (conv2d_forward_grouped_fast, conv2d_backward_grouped_fast),
    "im2col": (conv2d_forward_im2col, conv2d_backward_im2col),
    "naive": (conv2d_forward_naive, conv2d_backward_naive),
}
PATHS = [pytest.param(fwd, bwd, id=name) for name, (fwd, bwd) in TIERS.items()]


def embed(w: np.ndarray, groups: int) -> np.ndarray:
    """``(KH, KW, C, F)`` weights: filter ``f`` keeps its taps on its group's channels."""
    kh, kw, cg, f = w.shape
    fg = f // groups
    full = np.zeros((kh, kw, cg * groups, f), dtype=w.dtype)
    for k in range(f):
        g = k // fg
        full[:, :, g * cg : (g + 1) * cg, k] = w[:, :, :, k]
    return full


def unembed(dw_full: np.ndarray, groups: int) -> np.ndarray:
    """Read the embedded entries back: the inverse of :func:`embed` on its image."""
    kh, kw, c, f = dw_full.shape
    cg, fg = c // groups, f // groups
    return np.stack(
        [dw_full[:, :, (k // fg) * cg : (k // fg + 1) * cg, k] for k in range(f)], axis=-1
    )


@dataclass
class Config:
    n: int
    h: int
    w: int
    groups: int
    cg: int  # channels per group
    fg: int  # filters per group
    kh: int
    kw: int
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: Any
    bias: bool
    seed: int

    @property
    def kwargs(self) -> dict[str, Any]:
        return {
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
        }

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        rng = np.random.default_rng(self.seed)
        x = rng.standard_normal((self.n, self.h, self.w, self.groups * self.cg))
        w = rng.standard_normal((self.kh, self.kw, self.cg, self.groups * self.fg))
        b = rng.standard_normal(self.groups * self.fg) if self.bias else None
        return x, w, b


@st.composite
def configs(draw: Any, max_groups: int = 4, max_hw: int = 7) -> Config:
    """Valid grouped convolutions; kernels small enough to fit the padded input."""
    padding = draw(
        st.sampled_from(["valid", "same", "full", 1, (0, 2), ((1, 0), (2, 1)), ((0, 1), (0, 0))])
    )
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    h, w = draw(st.integers(1, max_hw)), draw(st.integers(1, max_hw))
    pads = convlib.resolve_padding(padding, (h, w), (1, 1), stride, dilation)

    def kernel(size: int, pad: tuple[int, int], d: int) -> int:
        if padding in ("same", "full"):
            return draw(st.integers(1, 3))
        largest = (size + sum(pad) - 1) // d + 1
        return draw(st.integers(1, min(largest, 4)))

    return Config(
        n=draw(st.integers(1, 2)),
        h=h,
        w=w,
        groups=draw(st.integers(1, max_groups)),
        cg=draw(st.integers(1, 3)),
        fg=draw(st.integers(1, 3)),
        kh=kernel(h, pads[0], dilation[0]),
        kw=kernel(w, pads[1], dilation[1]),
        stride=stride,
        dilation=dilation,
        padding=padding,
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def reference(cfg: Config, x: np.ndarray, w: np.ndarray, b: Any, dout: np.ndarray) -> tuple:
    """Output and gradients from the ungrouped convolution with embedded weights."""
    options = {k: v for k, v in cfg.kwargs.items() if k != "groups"}
    out, cache = conv2d_forward_im2col(x, embed(w, cfg.groups), b, **options)
    dx, dw_full, db = conv2d_backward_im2col(dout, cache)
    return out, dx, unembed(dw_full, cfg.groups), db


# --------------------------------------------------------------------------
# Every tier against the reference and against each other
# --------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(cfg=configs(), data=st.data())
def test_every_tier_matches_the_embedded_reference(cfg: Config, data: Any) -> None:
    x, w, b = cfg.arrays()
    name = data.draw(st.sampled_from(sorted(TIERS)))
    forward, _ = TIERS[name]
    out, cache = forward(x, w, b, **cfg.kwargs)
    assert cache.groups == cfg.groups and cache.w.shape == w.shape
    dout = np.random.default_rng(cfg.seed + 1).standard_normal(out.shape)
    ref = reference(cfg, x, w, b, dout)
    np.testing.assert_allclose(out, ref[0], rtol=1e-10, atol=1e-10)
    # every backward accepts this forward's cache
    for back_name, (_, backward) in TIERS.items():
        dx, dw, db = backward(dout, cache)
        for got, want, what in zip((dx, dw, db), ref[1:], ("dx", "dw", "db")):
            if want is None:
                assert got is None, f"{back_name} {what}"
            else:
                np.testing.assert_allclose(
                    got, want, rtol=1e-10, atol=1e-10, err_msg=f"{name} -> {back_name}: {what}"
                )


@pytest.mark.parametrize("forward, backward", PATHS)
def test_float32_stays_float32(forward: Forward, backward: Backward) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 5, 6)).astype(np.float32)
    w = rng.standard_normal((3, 3, 2, 6)).astype(np.float32)
    b = np.zeros(6, np.float32)
    out, cache = forward(x, w, b, padding="same", groups=3)
    dx, dw, db = backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == dw.dtype == db.dtype == np.float32
    expected = conv2d_forward_naive(x.astype(np.float64), w.astype(np.float64), b, 1, "same", 1, 3)
    np.testing.assert_allclose(out, expected[0], rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------
# Numerical checks: centered differences, adjoint, complex step
# --------------------------------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(cfg=configs(max_groups=3, max_hw=5), data=st.data())
def test_gradients_match_centered_differences(cfg: Config, data: Any) -> None:
    x, w, b = cfg.arrays()
    forward, backward = TIERS[data.draw(st.sampled_from(["fast", "im2col", "naive"]))]
    inputs = {"x": x, "w": w, "b": b}
    report = check_gradients(forward, backward, inputs, seed=cfg.seed, **cfg.kwargs)
    assert set(report.max_rel_error) == ({"x", "w", "b"} if cfg.bias else {"x", "w"})
    assert max(report.max_rel_error.values()) < 1e-7, str(report)


@pytest.mark.parametrize("forward, backward", PATHS)
@pytest.mark.parametrize(
    "options",
    [
        {"groups": 2},
        {"groups": 3, "stride": 2, "padding": "same"},
        {"groups": 6, "dilation": (2, 1), "padding": ((1, 0), (0, 2))},
    ],
    ids=["g2", "g3-stride2-same", "depthwise-dilated"],
)
def test_adjoint_in_x_and_in_w(forward: Forward, backward: Backward, options: dict) -> None:
    """Without a bias the convolution is linear in x and in w: <L(v), y> = <v, L^T(y)>."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 7, 6, 6))
    w = rng.standard_normal((3, 2, 6 // options["groups"], 12))
    report = check_adjoint(forward, backward, {"x": x, "w": w, "b": None}, **options)
    assert [r.name for r in report.results] == ["x", "w"]
    assert report.max_rel_diff < 1e-13, str(report)


def test_adjoint_test_catches_a_group_mixup() -> None:
    """The adjoint check fails for a backward that sends dx to the wrong group."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 5, 5, 4)), rng.standard_normal((3, 3, 2, 4))

    def swapped_backward(dout: np.ndarray, cache: Conv2DCache) -> tuple:
        dx, dw, db = conv2d_backward(dout, cache)
        return dx[..., [2, 3, 0, 1]], dw, db

    report = check_adjoint(
        conv2d_forward, swapped_backward, {"x": x, "w": w, "b": None},
        wrt=["x"], groups=2, raise_on_failure=False,
    )  # fmt: skip
    assert not report.passed


@pytest.mark.parametrize("forward, backward", PATHS)
def test_complex_step_passes_through(forward: Forward, backward: Backward) -> None:
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((1, 5, 4, 4)), rng.standard_normal((2, 2, 2, 4))
    out, cache = forward(x, w, None, groups=2, padding="same")
    dout = rng.standard_normal(out.shape)
    exact = complex_step_gradient(
        lambda v: forward(v, w, None, groups=2, padding="same")[0], x, dout
    )
    np.testing.assert_allclose(backward(dout, cache)[0], exact, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------
# Against PyTorch
# --------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(cfg=configs())
def test_against_torch(cfg: Config) -> None:
    torch = pytest.importorskip("torch")
    x, w, b = cfg.arrays()
    out, cache = conv2d_forward(x, w, b, **cfg.kwargs)
    dout = np.random.default_rng(cfg.seed).standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)

    (top, bottom), (left, right) = cache.pads
    xt = torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)
    # contiguous copies: torch's slow_conv2d refuses a strided weight in backward
    wt = torch.tensor(np.ascontiguousarray(w.transpose(3, 2, 0, 1)), requires_grad=True)
    bt = None if b is None else torch.tensor(b, requires_grad=True)
    xpad = torch.nn.functional.pad(xt, (left, right, top, bottom))
    yt = torch.nn.functional.conv2d(
        xpad, wt, bt, stride=cfg.stride, dilation=cfg.dilation, groups=cfg.groups
    )
    yt.backward(torch.tensor(np.ascontiguousarray(dout.transpose(0, 3, 1, 2))))
    np.testing.assert_allclose(out, yt.detach().numpy().transpose(0, 2, 3, 1), atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), atol=1e-10)
    np.testing.assert_allclose(dw, wt.grad.numpy().transpose(2, 3, 1, 0), atol=1e-10)
    if b is not None:
        np.testing.assert_allclose(db, bt.grad.numpy(), atol=1e-10)


# --------------------------------------------------------------------------
# What groups mean
# --------------------------------------------------------------------------


@pytest.mark.parametrize("multiplier", [1, 2])
def test_depthwise_is_one_filter_per_channel(multiplier: int) -> None:
    """groups = C: output channel f is channel f // multiplier filtered on its own."""
    rng = np.random.default_rng(7)
    c = 3
    x = rng.standard_normal((2, 6, 5, c))
    w = rng.standard_normal((3, 3, 1, c * multiplier))
    out, _ = conv2d_forward(x, w, None, padding="same", groups=c)
    for f in range(c * multiplier):
        channel = x[..., f // multiplier : f // multiplier + 1]
        alone, _ = conv2d_forward_naive(channel, w[..., f : f + 1], None, padding="same")
        np.testing.assert_allclose(out[..., f], alone[..., 0], atol=1e-12)


@pytest.mark.parametrize("forward, backward", PATHS)
def test_gradient_of_a_group_involves_only_that_group(forward: Forward, backward: Backward) -> None:
    """An upstream gradient on group g's filters reaches only group g's channels and filters."""
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((2, 6, 6, 6)), rng.standard_normal((3, 3, 2, 9))
    out, cache = forward(x, w, np.zeros(9), stride=2, padding="same", groups=3)
    for g in range(3):
        dout = np.zeros_like(out)
        dout[..., 3 * g : 3 * g + 3] = rng.standard_normal(out[..., :3].shape)
        dx, dw, db = backward(dout, cache)
        others_c = [c for c in range(6) if c // 2 != g]
        others_f = [f for f in range(9) if f // 3 != g]
        assert np.all(dx[..., others_c] == 0) and np.all(dw[..., others_f] == 0)
        assert np.all(db[others_f] == 0)
        assert np.any(dx[..., 2 * g : 2 * g + 2] != 0) and np.any(dw[..., 3 * g : 3 * g + 3] != 0)


def test_ungrouped_weights_give_the_same_convolution() -> None:
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((1, 5, 6, 6)), rng.standard_normal((2, 3, 3, 4)), np.ones(4)
    grouped, _ = conv2d_forward(x, w, b, groups=2, padding=1)
    full, _ = conv2d_forward(x, ungrouped_weights(w, 2), b, padding=1)
    np.testing.assert_allclose(grouped, full, atol=1e-12)
    np.testing.assert_array_equal(ungrouped_weights(w, 2), embed(w, 2))
    # block-diagonal in channel-major row order: 2 blocks of (KH*KW*C/G) x (F/G)
    wcol = ungrouped_weights(w, 2).transpose(2, 0, 1, 3).reshape(-1, 4)
    assert np.all(wcol[:18, 2:] == 0) and np.all(wcol[18:, :2] == 0)


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 4),
    taps=st.integers(1, 4),
    groups=st.integers(1, 4),
    cg=st.integers(1, 3),
)
def test_group_channels_splits_by_channel_and_inverts(m: int, taps: int, groups: int, cg: int):
    a = np.arange(m * taps * groups * cg, dtype=float).reshape(m, taps * groups * cg)
    parts = group_channels(a, groups, taps)
    assert parts.shape == (groups, m, taps * cg)
    for g in range(groups):
        for t in range(taps):
            cols = slice(t * groups * cg + g * cg, t * groups * cg + (g + 1) * cg)
            np.testing.assert_array_equal(parts[g][:, t * cg : (t + 1) * cg], a[:, cols])
    np.testing.assert_array_equal(ungroup_channels(parts, taps), a)


def test_groups_one_is_the_ungrouped_fast_path() -> None:
    """groups=1 (any integer type) gives exactly the ungrouped tuned results and cache."""
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 6, 6, 4)), rng.standard_normal((3, 3, 4, 5)), np.ones(5)
    plain, cache = conv2d_forward(x, w, b, 1, "same")
    assert type(cache) is Conv2DCache and cache.groups == 1 and cache.cols is not None
    for one in (1, np.int64(1)):
        out, c1 = conv2d_forward(x, w, b, 1, "same", 1, one)
        np.testing.assert_array_equal(out, plain)
        assert type(c1) is Conv2DCache and c1.cols is not None
        for got, want in zip(
            conv2d_backward(np.ones_like(out), c1), conv2d_backward(np.ones_like(out), cache)
        ):
            np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("multiplier", [1, 3])
def test_depthwise_tuned_path_needs_no_groups_caches(multiplier: int) -> None:
    """C // groups = 1 takes the tap-by-tap path: a plain cache, results of the other tiers."""
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((2, 7, 6, 5)), rng.standard_normal((3, 2, 1, 5 * multiplier))
    b = rng.standard_normal(5 * multiplier)
    options = {"stride": (2, 1), "padding": "same", "dilation": (1, 2), "groups": 5}
    out, cache = conv2d_forward(x, w, b, **options)
    assert type(cache) is Conv2DCache and cache.cols is None and cache.groups == 5
    ref, ref_cache = conv2d_forward_im2col(x, w, b, **options)
    np.testing.assert_allclose(out, ref, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    for got, want in zip(conv2d_backward(dout, cache), conv2d_backward_im2col(dout, ref_cache)):
        np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("n_threads", [2, 3])
@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize("batch", [1, 5])
def test_depthwise_split_over_compute_threads_is_bit_identical(
    monkeypatch: pytest.MonkeyPatch, n_threads: int, multiplier: int, batch: int
) -> None:
    """The depthwise path's chunks (issue 12) run the one-thread operations: same bits."""
    monkeypatch.setattr(fast_threads, "MIN_PARALLEL_ELEMENTS", 0)
    calls: list[int] = []
    real = fast_threads._run_chunk

    def spy(fn, rows):  # type: ignore[no-untyped-def]
        calls.append(threading.get_ident())
        return real(fn, rows)

    monkeypatch.setattr(fast_threads, "_run_chunk", spy)
    rng = np.random.default_rng(batch)
    x, w = rng.standard_normal((batch, 8, 7, 4)), rng.standard_normal((3, 3, 1, 4 * multiplier))
    b = rng.standard_normal(4 * multiplier)
    options = {"stride": (2, 1), "padding": "same", "dilation": (1, 2), "groups": 4}
    out1, cache1 = conv2d_forward(x, w, b, **options)
    dout = rng.standard_normal(out1.shape)
    grads1 = conv2d_backward(dout, cache1)
    assert calls == []
    with convlib.compute_threads(n_threads):
        out2, cache2 = conv2d_forward(x, w, b, **options)
        grads2 = conv2d_backward(dout, cache2)
    if batch > 1:
        assert len(set(calls)) >= 2  # a worker computed chunks
    else:
        assert calls == []
    np.testing.assert_array_equal(out2, out1, strict=True)
    for g1, g2 in zip(grads1, grads2, strict=True):
        np.testing.assert_array_equal(g2, g1, strict=True)


def test_grouped_split_over_compute_threads_matches_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A grouped convolution splits inside each group's ungrouped call: dW bit-identical."""
    monkeypatch.setattr(fast_threads, "MIN_PARALLEL_MACS", 0)
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((5, 7, 7, 6)), rng.standard_normal((3, 3, 3, 4))
    b = rng.standard_normal(4)
    dout = rng.standard_normal((5, 7, 7, 4))
    results = []
    for n_threads in (1, 2):
        with convlib.blas_threads(1), convlib.compute_threads(n_threads):
            out, cache = conv2d_forward(x, w, b, padding="same", groups=2)
            results.append([out, *conv2d_backward(dout, cache)])
    (o1, dx1, dw1, db1), (o2, dx2, dw2, db2) = results
    np.testing.assert_allclose(o2, o1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx2, dx1, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(dw2, dw1)
    np.testing.assert_array_equal(db2, db1)


def test_tuned_cache_keeps_each_groups_im2col() -> None:
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((1, 5, 5, 4)), rng.standard_normal((3, 3, 2, 4))
    _, cache = conv2d_forward(x, w, np.zeros(4), groups=2)
    assert isinstance(cache, GroupedConv2DCache) and len(cache.group_caches) == 2
    assert all(c.cols is not None and c.w.shape == (3, 3, 2, 2) for c in cache.group_caches)
    # the groups read views of the input, not copies
    assert all(np.shares_memory(c.x_padded, x) for c in cache.group_caches)


# --------------------------------------------------------------------------
# The layer and the cost
# --------------------------------------------------------------------------


def test_conv2d_layer_with_groups() -> None:
    layer = Conv2D(6, 4, 3, padding="same", groups=2, rng=0, dtype=np.float64)
    assert layer.params["w"].shape == (3, 3, 3, 4)
    assert "groups=2" in repr(layer)
    assert layer.num_params() == conv_cost(6, 4, 3, 5, groups=2).params == 3 * 3 * 3 * 4 + 4
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 6))
    out = layer.forward(x)
    expected, cache = conv2d_forward_naive(x, layer.params["w"], layer.params["b"], 1, "same", 1, 2)
    np.testing.assert_allclose(out, expected, atol=1e-12)
    dout = np.ones_like(out)
    dx = layer.backward(dout)
    dx_ref, dw_ref, db_ref = conv2d_backward_naive(dout, cache)
    np.testing.assert_allclose(dx, dx_ref, atol=1e-12)
    np.testing.assert_allclose(layer.grads["w"], dw_ref, atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], db_ref, atol=1e-12)
    # He initialisation with the grouped fan-in KH * KW * C / G = 27
    big = Conv2D(64, 64, 3, groups=4, rng=0, dtype=np.float64).params["w"]
    assert abs(big.std() - np.sqrt(2 / (9 * 16))) < 0.02 * np.sqrt(2 / (9 * 16))


@pytest.mark.parametrize(
    "c, f, k, out_hw, groups",
    [(32, 64, 3, 28, 1), (32, 32, 3, 28, 32), (6, 9, (3, 1), (5, 4), 3), (4, 8, 2, 1, 2)],
)
def test_conv_cost_counts_products_of_the_convolution(c, f, k, out_hw, groups) -> None:
    """mult_adds = OH * OW * (nonzero taps of the equivalent ungrouped weights)."""
    kh, kw = (k, k) if isinstance(k, int) else k
    oh, ow = (out_hw, out_hw) if isinstance(out_hw, int) else out_hw
    w = np.ones((kh, kw, c // groups, f))
    cost = conv_cost(c, f, k, out_hw, groups=groups)
    assert cost.mult_adds == oh * ow * np.count_nonzero(ungrouped_weights(w, groups))
    assert cost.params == w.size + f
    assert conv_cost(c, f, k, out_hw, groups=groups, bias=False).params == w.size
    assert isinstance(cost.params, int) and isinstance(cost.mult_adds, int)


def test_conv_cost_of_a_separable_block() -> None:
    """Depthwise 3x3 then pointwise 1x1 against a full 3x3 convolution (C=32 -> F=64)."""
    full = conv_cost(32, 64, 3, 28, bias=False)
    depthwise = conv_cost(32, 32, 3, 28, groups=32, bias=False)
    pointwise = conv_cost(32, 64, 1, 28, bias=False)
    ratio = (depthwise.mult_adds + pointwise.mult_adds) / full.mult_adds
    assert ratio == pytest.approx(1 / 64 + 1 / 9)  # 1/F + 1/(KH*KW), Howard et al. 2017
    assert conv_output_size(28, 3, pad=(1, 1)) == 28
