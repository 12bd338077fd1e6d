"""Tests of the 2-D convolution layer in its three tiers: loops, im2col, tuned.

Three independent references are used:

* a forward pass written here with ``sliding_window_view`` and ``einsum``
  (:func:`reference_forward`), and backward formulas written here with
  ``einsum`` and ``np.add.at`` (:func:`reference_backward`);
* centered-difference gradients (:func:`convlib.check_gradients`, float64);
* each tier against the others (every backward with every forward's cache),
  and the im2col pieces (:func:`convlib.im2col`, :func:`convlib.col2im`)
  and the convolution's ``dx`` against the adjoint (dot-product) identity.

Random configurations come from Hypothesis (see ``conftest.py`` for the
profiles); array values come from ``np.random.default_rng(seed)`` with a seed
drawn by Hypothesis.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import convlib
from convlib import (
    Conv2DCache,
    check_gradients,
    col2im,
    conv2d_backward,
    conv2d_backward_im2col,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_im2col,
    conv2d_forward_naive,
    im2col,
    same_padding,
)
from convlib.fast import conv as conv_module, im2col_fast, threads as fast_threads
from convlib.windows import crop_spatial

Forward = Callable[..., tuple[np.ndarray, Conv2DCache]]
Backward = Callable[..., tuple[np.ndarray, np.ndarray, Any]]

#: The three tiers: (forward, backward) by name. "fast" is what the layers call
#: (convlib.conv2d_forward runs the tuned tier in convlib.fast).
TIERS: dict[str, tuple[Forward, Backward]] = {
    "fast": (conv2d_forward, conv2d_backward),
    "im2col": (conv2d_forward_im2col, conv2d_backward_im2col),
    "naive": (conv2d_forward_naive, conv2d_backward_naive),
}
PATHS = [pytest.param(fwd, bwd, id=name) for name, (fwd, bwd) in TIERS.items()]
FORWARDS = [pytest.param(fwd, id=name) for name, (fwd, _) in TIERS.items()]
BACKWARDS = [pytest.param(bwd, id=name) for name, (_, bwd) in TIERS.items()]
#: The vectorised tiers (fast enough for larger sweeps than the loops).
VECTORISED = [p for p in PATHS if p.id != "naive"]


# --------------------------------------------------------------------------
# Independent reference, written from the definition
#   out[n, i, j, f] = b[f] + sum_{p,q,c} xp[n, i*sh + p*dh, j*sw + q*dw, c] w[p, q, c, f]
# --------------------------------------------------------------------------


def span(k: int, d: int) -> int:
    return d * (k - 1) + 1


def spec_pads(
    padding: Any,
    hw: tuple[int, int],
    khw: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> tuple:
    """``((top, bottom), (left, right))`` from the documented meaning of ``padding``.

    "same" is found by searching for the least total padding that gives
    ``ceil(n / s)`` outputs, with the odd pixel at the end.
    """
    if isinstance(padding, str):
        pads = []
        for n, k, s, d in zip(hw, khw, stride, dilation):
            e = span(k, d)
            if padding == "valid":
                pads.append((0, 0))
            elif padding == "full":
                pads.append((e - 1, e - 1))
            else:
                want = -(-n // s)
                total = next(
                    t for t in range(n + e + s) if n + t >= e and (n + t - e) // s + 1 == want
                )
                pads.append((total // 2, total - total // 2))
        return tuple(pads)
    if isinstance(padding, int):
        return ((padding, padding), (padding, padding))
    if isinstance(padding[0], int):
        return ((padding[0], padding[0]), (padding[1], padding[1]))
    return (tuple(padding[0]), tuple(padding[1]))


def windows(
    x: np.ndarray,
    khw: tuple[int, int],
    stride: tuple[int, int],
    pads: tuple,
    dilation: tuple[int, int],
) -> np.ndarray:
    """All receptive fields: shape ``(N, OH, OW, C, KH, KW)``."""
    (t, b), (l, r) = pads
    xp = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    (kh, kw), (sh, sw), (dh, dw) = khw, stride, dilation
    win = sliding_window_view(xp, (span(kh, dh), span(kw, dw)), axis=(1, 2))
    return win[:, ::sh, ::sw, :, ::dh, ::dw]


def reference_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: Any,
    stride: tuple[int, int],
    pads: tuple,
    dilation: tuple[int, int],
) -> np.ndarray:
    win = windows(x, w.shape[:2], stride, pads, dilation)
    out = np.einsum("nijcpq,pqcf->nijf", win, w)
    if b is not None:
        out = out + np.reshape(b, -1)
    return out


def reference_backward(
    dout: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    stride: tuple[int, int],
    pads: tuple,
    dilation: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dx by scattering every (output pixel, tap) contribution with ``np.add.at``."""
    kh, kw = w.shape[:2]
    (sh, sw), (dh, dw) = stride, dilation
    (t, b), (l, r) = pads
    n, oh, ow, _ = dout.shape
    dw_ = np.einsum("nijcpq,nijf->pqcf", windows(x, (kh, kw), stride, pads, dilation), dout)
    db = dout.sum(axis=(0, 1, 2))
    rows = np.arange(oh)[:, None] * sh + np.arange(kh)[None, :] * dh  # (OH, KH)
    cols = np.arange(ow)[:, None] * sw + np.arange(kw)[None, :] * dw  # (OW, KW)
    contrib = np.einsum("nijf,pqcf->nijpqc", dout, w)
    xp_shape = (n, x.shape[1] + t + b, x.shape[2] + l + r, x.shape[3])
    dxp = np.zeros(xp_shape)
    np.add.at(dxp, (slice(None), rows[:, None, :, None], cols[None, :, None, :]), contrib)
    dx = dxp[:, t : t + x.shape[1], l : l + x.shape[2], :]
    return dx, dw_, db


def read_mask(
    h: int,
    w: int,
    khw: tuple[int, int],
    stride: tuple[int, int],
    pads: tuple,
    dilation: tuple[int, int],
    out_hw: tuple[int, int],
) -> np.ndarray:
    """``(H, W)`` booleans: which input pixels some window tap reads."""
    (t, _), (l, _) = pads
    rows = {i * stride[0] + p * dilation[0] - t for i in range(out_hw[0]) for p in range(khw[0])}
    cols = {j * stride[1] + q * dilation[1] - l for j in range(out_hw[1]) for q in range(khw[1])}
    mask = np.zeros((h, w), dtype=bool)
    mask[
        np.ix_([r for r in sorted(rows) if 0 <= r < h], [c for c in sorted(cols) if 0 <= c < w])
    ] = True
    return mask


def assert_close(actual: Any, expected: Any, rtol: float, what: str = "") -> None:
    """Max abs difference at most ``rtol`` times the larger array's max magnitude."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(np.abs(actual).max(initial=0.0), np.abs(expected).max(initial=0.0))
    err = np.abs(actual.astype(np.float64) - expected.astype(np.float64)).max(initial=0.0)
    assert err <= rtol * scale, f"{what}: max abs difference {err:.3e}, scale {scale:.3e}"


# --------------------------------------------------------------------------
# Random configurations
# --------------------------------------------------------------------------


@dataclass
class Config:
    n: int
    h: int
    w: int
    c: int
    f: int
    kh: int
    kw: int
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: Any
    bias: str | None  # "flat" (F,), "4d" (1, 1, 1, F) or None
    seed: int
    scalars: bool = False  # pass stride / dilation as one int when both axes agree

    @property
    def kwargs(self) -> dict[str, Any]:
        def arg(pair: tuple[int, int]) -> Any:
            return pair[0] if self.scalars and pair[0] == pair[1] else pair

        return {"stride": arg(self.stride), "padding": self.padding, "dilation": arg(self.dilation)}

    @property
    def pads(self) -> tuple:
        return spec_pads(
            self.padding, (self.h, self.w), (self.kh, self.kw), self.stride, self.dilation
        )

    @property
    def out_hw(self) -> tuple[int, int]:
        (t, b), (l, r) = self.pads
        oh = (self.h + t + b - span(self.kh, self.dilation[0])) // self.stride[0] + 1
        ow = (self.w + l + r - span(self.kw, self.dilation[1])) // self.stride[1] + 1
        return oh, ow

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        """``x, w, b, dout`` in float64."""
        rng = np.random.default_rng(self.seed)
        x = rng.standard_normal((self.n, self.h, self.w, self.c))
        w = rng.standard_normal((self.kh, self.kw, self.c, self.f))
        b = None
        if self.bias == "flat":
            b = rng.standard_normal(self.f)
        elif self.bias == "4d":
            b = rng.standard_normal((1, 1, 1, self.f))
        dout = rng.standard_normal((self.n, *self.out_hw, self.f))
        return x, w, b, dout


PAD_FORMS = ("valid", "same", "full", "int", "pair", "nested")


@st.composite
def configs(
    draw: Any,
    max_n: int = 2,
    max_hw: int = 9,
    max_c: int = 3,
    max_f: int = 3,
    max_k: int = 5,
    max_stride: int = 4,
    max_dilation: int = 3,
    max_pad: int = 3,
    channels: tuple[int, ...] | None = None,
) -> Config:
    """A valid random configuration; ``channels`` overrides ``max_c`` with a list of choices."""
    n = draw(st.integers(1, max_n))
    h, w = draw(st.integers(1, max_hw)), draw(st.integers(1, max_hw))
    c = draw(st.sampled_from(channels)) if channels else draw(st.integers(1, max_c))
    f = draw(st.integers(1, max_f))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    form = draw(st.sampled_from(PAD_FORMS))
    pad = st.integers(0, max_pad)
    if form in ("valid", "same", "full"):
        padding: Any = form
        lo_hi = ((0, 0), (0, 0))
    elif form == "int":
        padding = draw(pad)
        lo_hi = ((padding, padding),) * 2
    elif form == "pair":
        padding = (draw(pad), draw(pad))
        lo_hi = ((padding[0],) * 2, (padding[1],) * 2)
    else:
        padding = ((draw(pad), draw(pad)), (draw(pad), draw(pad)))
        lo_hi = padding

    def kernel(size: int, lo: int, hi: int, d: int) -> int:
        if form in ("same", "full"):
            return draw(st.integers(1, max_k))
        largest = (size + lo + hi - 1) // d + 1  # the dilated kernel spans the padded input
        return draw(st.one_of(st.just(largest), st.integers(1, largest)))

    kh = kernel(h, *lo_hi[0], dilation[0])
    kw = kernel(w, *lo_hi[1], dilation[1])
    return Config(
        n=n,
        h=h,
        w=w,
        c=c,
        f=f,
        kh=kh,
        kw=kw,
        stride=stride,
        dilation=dilation,
        padding=padding,
        bias=draw(st.sampled_from(["flat", "4d", None])),
        seed=draw(st.integers(0, 2**32 - 1)),
        scalars=draw(st.booleans()),
    )


# Configurations that must be tried in every run, whatever Hypothesis draws.
EDGE_CASES = [
    # 1x1 kernel with "same" (the source article's empty-dx crop)
    Config(1, 5, 4, 2, 3, 1, 1, (1, 1), (1, 1), "same", "flat", 1),
    # even kernel with "same"
    Config(2, 6, 7, 1, 2, 2, 2, (1, 1), (1, 1), "same", "4d", 2),
    # stride 2, "same"
    Config(1, 8, 8, 3, 2, 3, 3, (2, 2), (1, 1), "same", "flat", 3),
    # kernel as large as the padded input, non-square
    Config(2, 4, 6, 2, 2, 6, 8, (1, 1), (1, 1), ((1, 1), (0, 2)), None, 4),
    # dilated kernel spanning the whole input
    Config(1, 7, 5, 1, 1, 3, 2, (1, 1), (3, 4), "valid", "flat", 5),
    # strides that do not tile, different per axis
    Config(1, 9, 8, 2, 1, 3, 2, (4, 3), (1, 1), "valid", "flat", 6),
    # 1x1 input, "full"
    Config(1, 1, 1, 1, 1, 3, 2, (1, 1), (2, 1), "full", "flat", 7),
]


def _with_edge_cases(test: Callable) -> Callable:
    for cfg in EDGE_CASES:
        test = example(cfg=cfg)(test)
    return test


# --------------------------------------------------------------------------
# Forward against the independent reference
# --------------------------------------------------------------------------


@pytest.mark.parametrize("forward", FORWARDS)
@settings(max_examples=150, deadline=None)
@_with_edge_cases
@given(cfg=configs())
def test_forward_matches_reference(forward: Forward, cfg: Config) -> None:
    x, w, b, _ = cfg.arrays()
    out, cache = forward(x, w, b, **cfg.kwargs)
    expected = reference_forward(x, w, b, cfg.stride, cfg.pads, cfg.dilation)
    assert out.shape == (cfg.n, *cfg.out_hw, cfg.f)
    assert out.dtype == np.float64
    assert_close(out, expected, 1e-12, "out")
    assert cache.pads == cfg.pads
    assert cache.out_shape == out.shape


# --------------------------------------------------------------------------
# Every tier against the loops (the bulk of the random configurations)
# --------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@_with_edge_cases
@given(cfg=configs())
def test_all_tiers_agree(cfg: Config) -> None:
    x, w, b, dout = cfg.arrays()
    originals = [a.copy() for a in (x, w, dout)] + ([] if b is None else [b.copy()])
    outs, caches = {}, {}
    for name, (forward, _) in TIERS.items():
        outs[name], caches[name] = forward(x, w, b, **cfg.kwargs)
        assert outs[name].shape == (cfg.n, *cfg.out_hw, cfg.f), name
    for name in TIERS:
        assert_close(outs[name], outs["naive"], 1e-10, f"out ({name})")

    expected = conv2d_backward_naive(dout, caches["naive"])
    # every backward accepts every forward's cache
    for bname, (_, backward) in TIERS.items():
        for cname, cache in caches.items():
            grads = backward(dout, cache)
            for gname, g, e in zip(("dx", "dw", "db"), grads, expected):
                what = f"{gname} ({bname} backward, {cname} cache)"
                if gname == "db" and b is None:
                    assert g is None, what
                else:
                    assert g.shape == e.shape, what
                    assert_close(g, e, 1e-10, what)

    # nothing was modified in place
    for before, after in zip(originals, [x, w, dout] + ([] if b is None else [b])):
        np.testing.assert_array_equal(before, after)


# Channel counts seen in real networks. A fast path may lay its buffers out
# differently for few and for many channels; both layouts must be exercised.
MANY_CHANNELS = (1, 2, 4, 8, 9, 12, 16, 32)


@pytest.mark.parametrize(("forward", "backward"), VECTORISED)
@settings(max_examples=60, deadline=None)
@given(cfg=configs(max_hw=5, max_k=3, channels=MANY_CHANNELS))
def test_vectorised_tiers_match_reference_many_channels(
    forward: Forward, backward: Backward, cfg: Config
) -> None:
    x, w, b, dout = cfg.arrays()
    out, cache = forward(x, w, b, **cfg.kwargs)
    assert_close(out, reference_forward(x, w, b, cfg.stride, cfg.pads, cfg.dilation), 1e-12, "out")
    dx, dw, db = backward(dout, cache)
    rdx, rdw, rdb = reference_backward(dout, x, w, cfg.stride, cfg.pads, cfg.dilation)
    assert_close(dx, rdx, 1e-12, "dx")
    assert_close(dw, rdw, 1e-12, "dw")
    if b is None:
        assert db is None
    else:
        assert db.shape == b.shape
        assert_close(db.reshape(-1), rdb, 1e-12, "db")
    # the other backwards accept this cache, whatever its layout
    for other in (conv2d_backward_naive, conv2d_backward_im2col, conv2d_backward):
        for name, g, go in zip(("dx", "dw", "db"), (dx, dw, db), other(dout, cache)):
            if g is not None:
                assert_close(g, go, 1e-10, f"{name} ({other.__name__}, {forward.__name__} cache)")


@contextmanager
def _split_convolutions(n_threads: int) -> Iterator[list[int]]:
    """Compute threads on, BLAS at one thread, every convolution split; yields the chunk counts."""
    counts: list[int] = []
    real = conv_module.run_chunks

    def spy(fn: Callable[[slice], None], chunks: list[slice], first: Any = None) -> None:
        counts.append(len(chunks))
        real(fn, chunks, first)

    with (
        convlib.blas_threads(1),
        convlib.compute_threads(n_threads),
        mock.patch.object(fast_threads, "MIN_PARALLEL_MACS", 0),
        mock.patch.object(conv_module, "run_chunks", spy),
    ):
        yield counts


@pytest.mark.parametrize("n_threads", [2, 3])
@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-12), (np.float32, 1e-5)])
@settings(max_examples=60, deadline=None)
@_with_edge_cases
@given(cfg=configs(max_n=5, max_hw=7, max_k=3, channels=MANY_CHANNELS))
def test_fast_tier_split_over_compute_threads(
    n_threads: int, dtype: type, tol: float, cfg: Config
) -> None:
    """The batch split (issue 12): dW, db bit-identical, out and dx equal up to rounding.

    The forward's rows and the input gradient's per-tap products are row
    blocks of the one-thread products; OpenBLAS computes a block's last rows
    with other kernel code than the same rows inside the whole product, so
    they can differ in the last bits (hence ``tol`` of the largest value:
    1e-12 in float64, 1e-5 in float32). The weight gradient stays one
    product: bit for bit.
    """
    x, w, b, dout = (None if a is None else a.astype(dtype) for a in cfg.arrays())
    with convlib.blas_threads(1):
        out1, cache1 = conv2d_forward(x, w, b, **cfg.kwargs)
        grads1 = conv2d_backward(dout, cache1)
        params1 = convlib.fast.conv2d_param_grads_fast(dout, cache1)
    with _split_convolutions(n_threads) as counts:
        out2, cache2 = conv2d_forward(x, w, b, **cfg.kwargs)
        grads2 = conv2d_backward(dout, cache2)
        params2 = convlib.fast.conv2d_param_grads_fast(dout, cache2)
        cross = conv2d_backward(dout, cache1)  # a one-thread cache, split backward
    # batch 1 is never split; otherwise forward and backward were
    assert counts == (
        []
        if cfg.n == 1
        else [min(n_threads, cfg.n), min(2 * n_threads, cfg.n), min(2 * n_threads, cfg.n)]
    )
    assert out2.dtype == out1.dtype == dtype
    assert_close(out2, out1, tol, "out")
    np.testing.assert_array_equal(cache2.cols, cache1.cols)  # the same im2col matrix
    for name, g1, g2, g3 in zip(("dx", "dw", "db"), grads1, grads2, cross):
        if g1 is None:
            assert g2 is None and g3 is None
        elif name == "dx":
            assert_close(g2, g1, tol, "dx")
            np.testing.assert_array_equal(g3, g2)  # the cache's layout does not matter
        else:
            np.testing.assert_array_equal(g2, g1, err_msg=name, strict=True)
    for p1, p2 in zip(params1, params2):
        np.testing.assert_array_equal(p2, p1, strict=True)


# --------------------------------------------------------------------------
# Backward against the independent reference
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("forward", "backward"), PATHS)
@settings(max_examples=100, deadline=None)
@_with_edge_cases
@given(cfg=configs(max_hw=7))
def test_backward_matches_reference(forward: Forward, backward: Backward, cfg: Config) -> None:
    x, w, b, dout = cfg.arrays()
    _, cache = forward(x, w, b, **cfg.kwargs)
    dx, dw, db = backward(dout, cache)
    rdx, rdw, rdb = reference_backward(dout, x, w, cfg.stride, cfg.pads, cfg.dilation)
    assert dx.shape == x.shape and dw.shape == w.shape
    assert_close(dx, rdx, 1e-12, "dx")
    assert_close(dw, rdw, 1e-12, "dw")
    if b is None:
        assert db is None
    else:
        assert db.shape == b.shape
        assert_close(db.reshape(-1), rdb, 1e-12, "db")


# --------------------------------------------------------------------------
# Numerical gradients (float64 centered differences), every tier
# --------------------------------------------------------------------------


def _gradcheck(forward: Forward, backward: Backward, cfg: Config) -> None:
    x, w, b, _ = cfg.arrays()
    inputs = {"x": x, "w": w, "b": b}
    report = check_gradients(forward, backward, inputs, seed=cfg.seed, **cfg.kwargs)
    expected = {"x", "w"} | ({"b"} if b is not None else set())
    assert set(report.max_rel_error) == expected
    assert max(report.max_rel_error.values()) < 1e-7, str(report)


@settings(max_examples=80, deadline=None)
@_with_edge_cases
@given(cfg=configs(max_hw=6, max_c=2, max_f=2, max_k=3))
def test_fast_gradients_numerically(cfg: Config) -> None:
    _gradcheck(conv2d_forward, conv2d_backward, cfg)


@settings(max_examples=50, deadline=None)
@_with_edge_cases
@given(cfg=configs(max_hw=6, max_c=2, max_f=2, max_k=3))
def test_im2col_gradients_numerically(cfg: Config) -> None:
    _gradcheck(conv2d_forward_im2col, conv2d_backward_im2col, cfg)


@pytest.mark.parametrize(("forward", "backward"), VECTORISED)
@pytest.mark.parametrize("c", [1, 12])
@pytest.mark.parametrize("padding", ["same", ((0, 1), (2, 0))])
def test_vectorised_gradients_numerically_wide_input(
    forward: Forward, backward: Backward, c: int, padding: Any
) -> None:
    cfg = Config(2, 4, 5, c, 2, 2, 3, (2, 1), (1, 2), padding, "flat", 20 + c)
    _gradcheck(forward, backward, cfg)


@settings(max_examples=25, deadline=None)
@example(cfg=EDGE_CASES[0])
@example(cfg=EDGE_CASES[2])
@example(cfg=EDGE_CASES[5])
@given(cfg=configs(max_n=1, max_hw=5, max_c=2, max_f=2, max_k=3, max_pad=2))
def test_naive_gradients_numerically(cfg: Config) -> None:
    _gradcheck(conv2d_forward_naive, conv2d_backward_naive, cfg)


# --------------------------------------------------------------------------
# "same" padding
# --------------------------------------------------------------------------


@pytest.mark.parametrize("forward", FORWARDS)
@settings(max_examples=100, deadline=None)
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    kh=st.integers(1, 5),
    kw=st.integers(1, 5),
    sh=st.integers(1, 4),
    sw=st.integers(1, 4),
    dh=st.integers(1, 3),
    dw=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_same_padding_output_size_and_alignment(
    forward: Forward,
    h: int,
    w: int,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    dh: int,
    dw: int,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, h, w, 2))
    k = rng.standard_normal((kh, kw, 2, 2))
    bias = rng.standard_normal(2)
    out, cache = forward(x, k, bias, stride=(sh, sw), padding="same", dilation=(dh, dw))
    assert out.shape == (1, math.ceil(h / sh), math.ceil(w / sw), 2)

    pads = (same_padding(h, kh, sh, dh), same_padding(w, kw, sw, dw))
    assert cache.pads == pads
    for before, after in pads:
        assert after - before in (0, 1)  # the odd pixel goes bottom / right
    # the same numbers as a "valid" convolution of the explicitly padded input
    (t, b), (l, r) = pads
    xp = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    out_valid, _ = forward(xp, k, bias, stride=(sh, sw), padding="valid", dilation=(dh, dw))
    np.testing.assert_array_equal(out, out_valid)


def test_same_padding_even_kernel_puts_extra_pixel_bottom_right() -> None:
    # A 2x2 kernel of ones on 3x3: with the zero row/column at the bottom/right,
    # out[i, j] = x[i, j] + x[i, j+1] + x[i+1, j] + x[i+1, j+1] (missing terms zero).
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    w = np.ones((2, 2, 1, 1))
    for forward, _ in TIERS.values():
        out, _ = forward(x, w, None, padding="same")
        expected = np.array([[12.0, 16.0, 9.0], [24.0, 28.0, 15.0], [15.0, 17.0, 9.0]])
        np.testing.assert_array_equal(out[0, :, :, 0], expected)


# --------------------------------------------------------------------------
# The source article's failure cases
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("forward", "backward"), PATHS)
def test_one_by_one_kernel_same_padding_gives_full_dx(forward: Forward, backward: Backward) -> None:
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 6, 5, 3))
    w = rng.standard_normal((1, 1, 3, 4))
    out, cache = forward(x, w, np.zeros(4), padding="same")
    assert cache.pads == ((0, 0), (0, 0))
    assert out.shape == (2, 6, 5, 4)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = backward(dout, cache)
    assert dx.shape == x.shape  # not empty, as a dx[:, p:-p] crop would make it
    # a 1x1 convolution is a matrix product over channels
    np.testing.assert_allclose(dx, dout @ w[0, 0].T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        dw[0, 0], np.einsum("nhwc,nhwf->cf", x, dout), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(db, dout.sum(axis=(0, 1, 2)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("forward", "backward"), PATHS)
def test_even_kernel_same_padding_keeps_28x28(forward: Forward, backward: Backward) -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 28, 28, 1))
    w = rng.standard_normal((2, 2, 1, 2))
    out, cache = forward(x, w, None, padding="same")
    assert out.shape == (1, 28, 28, 2)  # the article's symmetric padding gives 29x29
    assert cache.pads == ((0, 1), (0, 1))
    dx, dw, db = backward(rng.standard_normal(out.shape), cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db is None


@pytest.mark.parametrize(("forward", "backward"), PATHS)
def test_stride_two_same_padding_halves_28x28(forward: Forward, backward: Backward) -> None:
    rng = np.random.default_rng(12)
    x = rng.standard_normal((1, 28, 28, 1))
    w = rng.standard_normal((3, 3, 1, 2))
    out, cache = forward(x, w, np.zeros(2), stride=2, padding="same")
    assert out.shape == (1, 14, 14, 2)  # ceil(28 / 2), not 28
    assert cache.pads == ((0, 1), (0, 1))
    dx, _, _ = backward(rng.standard_normal(out.shape), cache)
    assert dx.shape == x.shape


def test_source_article_worked_example() -> None:
    # 7x7 input, 3x3 filter, "valid": 5x5 output; each output is a window sum.
    x = np.arange(49.0).reshape(1, 7, 7, 1)
    w = np.ones((3, 3, 1, 1))
    for forward, _ in TIERS.values():
        out, _ = forward(x, w, np.array([0.5]))
        assert out.shape == (1, 5, 5, 1)
        # window at (i, j) sums 9 values centred on x = 7 (i + 1) + (j + 1)
        i, j = np.meshgrid(np.arange(5), np.arange(5), indexing="ij")
        np.testing.assert_array_equal(out[0, :, :, 0], 9.0 * (7 * (i + 1) + (j + 1)) + 0.5)


def test_cross_correlation_does_not_flip_the_kernel() -> None:
    x = np.zeros((1, 3, 3, 1))
    x[0, 1, 1, 0] = 1.0  # a centred impulse
    w = np.arange(1.0, 10.0).reshape(3, 3, 1, 1)
    for forward, _ in TIERS.values():
        out, _ = forward(x, w, None, padding="same")
        # correlation with an impulse gives the kernel rotated by 180 degrees
        np.testing.assert_array_equal(out[0, :, :, 0], w[::-1, ::-1, 0, 0])


# --------------------------------------------------------------------------
# Strides that do not tile the input, dilation gaps
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("forward", "backward"), PATHS)
def test_non_tiling_stride_drops_last_rows(forward: Forward, backward: Backward) -> None:
    # 8x9 input, 3x3 kernel, stride 2: windows start at rows 0, 2, 4 (rows 0..6)
    # and columns 0, 2, 4, 6 (columns 0..8): row 7 is never read.
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 8, 9, 2))
    w = rng.standard_normal((3, 3, 2, 3))
    out, cache = forward(x, w, None, stride=2)
    assert out.shape == (2, 3, 4, 3)
    dx, _, _ = backward(rng.standard_normal(out.shape), cache)
    assert np.all(dx[:, 7] == 0.0)
    assert np.all(dx[:, :7] != 0.0)
    # stride (3, 2) on 8x9 with 2x2: rows 0..7 read except 2 and 5, column 8 dropped
    w2 = rng.standard_normal((2, 2, 2, 1))
    out, cache = forward(x, w2, None, stride=(3, 2))
    assert out.shape == (2, 3, 4, 1)
    dx, _, _ = backward(rng.standard_normal(out.shape), cache)
    assert np.all(dx[:, [2, 5]] == 0.0) and np.all(dx[:, :, 8] == 0.0)
    assert np.all(dx[:, [0, 1, 3, 4, 6, 7], :8] != 0.0)


@pytest.mark.parametrize(("forward", "backward"), PATHS)
@settings(max_examples=60, deadline=None)
@example(cfg=EDGE_CASES[5])
@given(cfg=configs(max_hw=9))
def test_unread_pixels_get_exactly_zero_gradient(
    forward: Forward, backward: Backward, cfg: Config
) -> None:
    x, w, b, dout = cfg.arrays()
    out, cache = forward(x, w, b, **cfg.kwargs)
    dx, _, _ = backward(dout, cache)
    mask = read_mask(cfg.h, cfg.w, (cfg.kh, cfg.kw), cfg.stride, cfg.pads, cfg.dilation, cfg.out_hw)
    assert np.all(dx[:, ~mask] == 0.0)
    # and the output does not depend on them at all
    x2 = x.copy()
    x2[:, ~mask] = 1e3
    out2, _ = forward(x2, w, b, **cfg.kwargs)
    np.testing.assert_array_equal(out, out2)


# --------------------------------------------------------------------------
# Kernel as large as the padded input, 1x1 kernels, batch of one
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("forward", "backward"), PATHS)
@pytest.mark.parametrize(
    ("hw", "khw", "padding", "dilation"),
    [
        ((5, 4), (5, 4), "valid", 1),
        ((3, 6), (5, 2), ((1, 1), (0, 0)), (1, 5)),
        ((4, 4), (3, 3), 1, 2),  # span 5 < 6: output 2x2
        ((2, 3), (4, 5), (1, 1), 1),
    ],
)
def test_large_kernels(
    forward: Forward, backward: Backward, hw: tuple, khw: tuple, padding: Any, dilation: Any
) -> None:
    rng = np.random.default_rng(14)
    x = rng.standard_normal((1, *hw, 2))
    w = rng.standard_normal((*khw, 2, 3))
    b = rng.standard_normal(3)
    out, cache = forward(x, w, b, padding=padding, dilation=dilation)
    d = (dilation, dilation) if isinstance(dilation, int) else dilation
    pads = spec_pads(padding, hw, khw, (1, 1), d)
    np.testing.assert_allclose(
        out, reference_forward(x, w, b, (1, 1), pads, d), rtol=1e-12, atol=1e-12
    )
    dout = rng.standard_normal(out.shape)
    for got, want in zip(backward(dout, cache), reference_backward(dout, x, w, (1, 1), pads, d)):
        np.testing.assert_allclose(np.reshape(got, want.shape), want, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------
# Memory layout of the arguments, reuse of the cache
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("forward", "backward"), PATHS)
@pytest.mark.parametrize("c", [1, 3, 12])
@pytest.mark.parametrize("padding", ["valid", "same", ((1, 0), (0, 2))])
def test_non_contiguous_and_read_only_arguments(
    forward: Forward, backward: Backward, c: int, padding: Any
) -> None:
    rng = np.random.default_rng(21)
    x_nchw = rng.standard_normal((2, c, 6, 7))
    x = x_nchw.transpose(0, 2, 3, 1)[:, ::-1]  # NCHW -> NHWC view, rows reversed
    x.flags.writeable = False
    w = rng.standard_normal((2, c, 3, 2)).transpose(2, 3, 1, 0)  # (F, C, KH, KW) -> (KH, KW, C, F)
    b = rng.standard_normal(4)[::2]
    assert not x.flags.c_contiguous and not w.flags.c_contiguous and not b.flags.c_contiguous
    kwargs = {"stride": (2, 1), "padding": padding, "dilation": (1, 2)}
    out, cache = forward(x, w, b, **kwargs)
    out_c, cache_c = forward(
        np.ascontiguousarray(x), np.ascontiguousarray(w), np.ascontiguousarray(b), **kwargs
    )
    assert_close(out, out_c, 1e-13, "out")
    dout = rng.standard_normal(
        out.shape[::-1]
    ).T  # a transposed (Fortran-ordered) upstream gradient
    for name, g, gc in zip(
        ("dx", "dw", "db"), backward(dout, cache), backward(np.ascontiguousarray(dout), cache_c)
    ):
        assert_close(g, gc, 1e-13, name)


@pytest.mark.parametrize(("forward", "backward"), PATHS)
@pytest.mark.parametrize("c", [2, 12])
def test_cache_can_be_reused(forward: Forward, backward: Backward, c: int) -> None:
    rng = np.random.default_rng(22)
    x = rng.standard_normal((2, 5, 6, c))
    w = rng.standard_normal((3, 2, c, 3))
    b = rng.standard_normal(3)
    out, cache = forward(x, w, b, padding="same", stride=(1, 2))
    dout = rng.standard_normal(out.shape)
    dout_before = dout.copy()
    first = [g.copy() for g in backward(dout, cache)]
    # a caller that edits the output or the gradients in place (an in-place
    # ReLU, an optimizer step) must not change what the cache remembers
    out[...] = 0.0
    for g in backward(dout, cache):
        g[...] = 123.0
    second = backward(dout, cache)
    for g1, g2 in zip(first, second):
        np.testing.assert_array_equal(g1, g2)
    np.testing.assert_array_equal(dout, dout_before)


# --------------------------------------------------------------------------
# Bias shapes
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("forward", "backward"), PATHS)
@pytest.mark.parametrize("b_shape", [(3,), (1, 1, 1, 3)])
def test_bias_gradient_has_the_bias_shape(
    forward: Forward, backward: Backward, b_shape: tuple
) -> None:
    rng = np.random.default_rng(15)
    x = rng.standard_normal((2, 5, 5, 2))
    w = rng.standard_normal((3, 3, 2, 3))
    b = rng.standard_normal(b_shape)
    out, cache = forward(x, w, b, padding="same")
    out_nob, _ = forward(x, w, None, padding="same")
    np.testing.assert_allclose(
        out - out_nob, np.broadcast_to(b.reshape(3), out.shape), rtol=1e-12, atol=1e-12
    )
    dout = rng.standard_normal(out.shape)
    _, _, db = backward(dout, cache)
    assert db.shape == b_shape
    np.testing.assert_allclose(db.reshape(3), dout.sum(axis=(0, 1, 2)), rtol=1e-12)


@pytest.mark.parametrize(("forward", "backward"), PATHS)
def test_no_bias_gives_db_none(forward: Forward, backward: Backward) -> None:
    rng = np.random.default_rng(16)
    x = rng.standard_normal((1, 4, 4, 1))
    w = rng.standard_normal((2, 2, 1, 2))
    out, cache = forward(x, w, None)
    dx, dw, db = backward(np.ones_like(out), cache)
    assert db is None
    assert dx.shape == x.shape and dw.shape == w.shape


@pytest.mark.parametrize(("forward", "backward"), PATHS)
def test_bias_given_as_list(forward: Forward, backward: Backward) -> None:
    x = np.ones((1, 3, 3, 1))
    w = np.ones((3, 3, 1, 2))
    out, cache = forward(x, w, [1.0, -1.0])
    np.testing.assert_array_equal(out[0, 0, 0], [10.0, 8.0])
    _, _, db = backward(np.ones_like(out), cache)
    assert db.shape == (2,)


# --------------------------------------------------------------------------
# dtypes
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("forward", "backward"), PATHS)
@pytest.mark.parametrize(
    ("x_dtype", "w_dtype", "b_dtype"),
    [
        (np.float32, np.float32, np.float32),
        (np.float64, np.float64, np.float64),
        (np.float32, np.float64, np.float32),
        (np.float64, np.float32, np.float32),
        (np.float32, np.float32, np.float64),
        (np.float16, np.float32, None),
    ],
)
def test_dtype_follows_numpy_promotion(
    forward: Forward, backward: Backward, x_dtype: type, w_dtype: type, b_dtype: type | None
) -> None:
    rng = np.random.default_rng(17)
    x = rng.standard_normal((2, 5, 4, 2)).astype(x_dtype)
    w = rng.standard_normal((3, 2, 2, 3)).astype(w_dtype)
    b = None if b_dtype is None else rng.standard_normal(3).astype(b_dtype)
    expected = np.result_type(*[a for a in (x, w, b) if a is not None])
    out, cache = forward(x, w, b, padding=1, stride=(1, 2))
    assert out.dtype == expected
    dout = rng.standard_normal(out.shape).astype(expected)
    dx, dw, db = backward(dout, cache)
    assert dx.dtype == expected and dw.dtype == expected
    if b is not None:
        assert db.dtype == expected
    # the values agree with a float64 computation to the precision of the dtype
    out64, cache64 = forward(
        x.astype(np.float64),
        w.astype(np.float64),
        None if b is None else b.astype(np.float64),
        padding=1,
        stride=(1, 2),
    )
    rtol = 10 * np.finfo(expected).eps * 2 * 3 * 2  # a few ulps per term of the sum
    assert_close(out, out64, rtol, "out")
    for name, g, g64 in zip(
        ("dx", "dw", "db"), (dx, dw, db), backward(dout.astype(np.float64), cache64)
    ):
        if g is not None:
            assert_close(g, g64, rtol, name)


@pytest.mark.parametrize(("forward", "backward"), PATHS)
@pytest.mark.parametrize("c", [2, 12])
def test_float32_stays_float32(forward: Forward, backward: Backward, c: int) -> None:
    rng = np.random.default_rng(18)
    x = rng.standard_normal((1, 4, 4, c), dtype=np.float32)
    w = rng.standard_normal((2, 2, c, 2), dtype=np.float32)
    b = rng.standard_normal((1, 1, 1, 2), dtype=np.float32)
    out, cache = forward(x, w, b, padding="same")
    assert out.dtype == np.float32
    assert cache.x_padded.dtype == np.float32 and cache.w.dtype == np.float32
    grads = backward(np.ones(out.shape, dtype=np.float32), cache)
    assert [g.dtype for g in grads] == [np.float32] * 3


@pytest.mark.parametrize(("forward", "backward"), PATHS)
def test_integer_inputs_compute_in_float64(forward: Forward, backward: Backward) -> None:
    rng = np.random.default_rng(19)
    x = rng.integers(-5, 5, size=(2, 5, 5, 2))
    w = rng.integers(-3, 3, size=(3, 3, 2, 2)).astype(np.int32)
    b = np.array([1, -2], dtype=np.int16)
    out, cache = forward(x, w, b, padding="same")
    assert out.dtype == np.float64
    expected = reference_forward(
        x.astype(float), w.astype(float), b.astype(float), (1, 1), ((1, 1), (1, 1)), (1, 1)
    )
    np.testing.assert_array_equal(out, expected)  # small integers: exact in float64
    dout = rng.integers(-2, 2, size=out.shape)
    dx, dw, db = backward(dout, cache)  # an integer dout computes in float64 too
    assert dx.dtype == dw.dtype == db.dtype == np.float64
    rdx, rdw, rdb = reference_backward(
        dout.astype(float), x.astype(float), w.astype(float), (1, 1), ((1, 1), (1, 1)), (1, 1)
    )
    np.testing.assert_array_equal(dx, rdx)
    np.testing.assert_array_equal(dw, rdw)
    np.testing.assert_array_equal(db, rdb)


@pytest.mark.parametrize(("forward", "backward"), PATHS)
def test_integer_x_with_float32_w_follows_numpy_promotion(
    forward: Forward, backward: Backward
) -> None:
    x = np.ones((1, 3, 3, 1), dtype=np.int64)
    w = np.ones((2, 2, 1, 1), dtype=np.float32)
    out, _ = forward(x, w, None)
    assert out.dtype == np.result_type(np.int64, np.float32)


# --------------------------------------------------------------------------
# im2col / col2im (the readable tier's pieces) and the adjoint identities
# --------------------------------------------------------------------------


def _im2col_args(
    cfg: Config,
) -> tuple[np.ndarray, tuple[int, int], tuple[int, int], tuple[int, int]]:
    x, _, _, _ = cfg.arrays()
    (t, b), (l, r) = cfg.pads
    xp = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    return xp, (cfg.kh, cfg.kw), cfg.stride, cfg.dilation


@settings(max_examples=80, deadline=None)
@given(cfg=st.one_of(configs(max_hw=7), configs(max_hw=5, max_k=3, channels=MANY_CHANNELS)))
def test_im2col_rows_are_the_receptive_fields(cfg: Config) -> None:
    x, _, _, _ = cfg.arrays()
    xp, kernel, stride, dilation = _im2col_args(cfg)
    cols = im2col(xp, kernel, stride, dilation)
    m = cfg.n * cfg.out_hw[0] * cfg.out_hw[1]
    assert cols.shape == (m, cfg.kh * cfg.kw * cfg.c)
    win = windows(x, (cfg.kh, cfg.kw), cfg.stride, cfg.pads, cfg.dilation)  # (N, OH, OW, C, KH, KW)
    np.testing.assert_array_equal(cols, win.transpose(0, 1, 2, 4, 5, 3).reshape(m, -1))
    # the tuned im2col has the same values, whatever its memory layout
    np.testing.assert_array_equal(convlib.fast.im2col_fast(xp, kernel, stride, dilation), cols)
    with_ones = convlib.fast.im2col_fast(xp, kernel, stride, dilation, ones=True)
    np.testing.assert_array_equal(with_ones[:, :-1], cols)
    np.testing.assert_array_equal(with_ones[:, -1], 1.0)


def _adjoint_gap(lhs: float, rhs: float, scale: float) -> float:
    return abs(lhs - rhs) / max(scale, 1e-300)


@settings(max_examples=80, deadline=None)
@given(cfg=st.one_of(configs(max_hw=7), configs(max_hw=5, max_k=3, channels=MANY_CHANNELS)))
def test_col2im_is_the_adjoint_of_im2col(cfg: Config) -> None:
    # <im2col(xp), D> == <xp, col2im(D)> for all xp and D: col2im is im2col's transpose,
    # i.e. its backward pass. Float64, random values: equal to rounding.
    xp, kernel, stride, dilation = _im2col_args(cfg)
    cols = im2col(xp, kernel, stride, dilation)
    dcols = np.random.default_rng(cfg.seed + 1).standard_normal(cols.shape)
    back = col2im(dcols, xp.shape, kernel, stride, dilation)
    assert back.shape == xp.shape and back.dtype == np.float64
    lhs, rhs = float(np.sum(cols * dcols)), float(np.sum(xp * back))
    scale = float(np.sum(np.abs(cols * dcols)))
    assert _adjoint_gap(lhs, rhs, scale) < 1e-12, (lhs, rhs)


@pytest.mark.parametrize(("forward", "backward"), PATHS)
@settings(max_examples=40, deadline=None)
@_with_edge_cases
@given(cfg=configs(max_hw=7))
def test_conv_dx_is_the_adjoint_of_the_convolution(
    forward: Forward, backward: Backward, cfg: Config
) -> None:
    # Without bias the convolution is linear in x: <conv(x), y> == <x, dx(y)>.
    x, w, _, _ = cfg.arrays()
    out, cache = forward(x, w, None, **cfg.kwargs)
    y = np.random.default_rng(cfg.seed + 2).standard_normal(out.shape)
    dx, _, _ = backward(y, cache)
    lhs, rhs = float(np.sum(out * y)), float(np.sum(x * dx))
    scale = float(np.sum(np.abs(out * y))) + float(np.sum(np.abs(x * dx)))
    assert _adjoint_gap(lhs, rhs, scale) < 1e-12, (lhs, rhs)


def test_col2im_counts_the_copies_of_each_pixel() -> None:
    # dcols of ones: each padded pixel receives the number of windows that read it.
    xp = np.zeros((1, 4, 5, 1))
    back = col2im(np.ones(im2col(xp, 2).shape), xp.shape, 2)
    expected = np.outer([1, 2, 2, 1], [1, 2, 2, 2, 1])
    np.testing.assert_array_equal(back[0, :, :, 0], expected)
    # stride 2, 2x2: the windows tile the first 4 columns and skip the last
    back = col2im(np.ones(im2col(xp, 2, stride=2).shape), xp.shape, 2, stride=2)
    np.testing.assert_array_equal(back[0, :, :, 0], np.outer([1, 1, 1, 1], [1, 1, 1, 1, 0]))


def test_im2col_of_a_one_by_one_window_is_the_input() -> None:
    xp = np.arange(24.0).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(im2col(xp, 1), xp.reshape(-1, 2))


def test_old_im2col_col2im_signatures_warn_and_keep_their_meaning() -> None:
    rng = np.random.default_rng(30)
    x = rng.standard_normal((2, 5, 6, 3))
    w = rng.standard_normal((3, 2, 3, 4))
    opts = {"stride": (2, 1), "padding": ((1, 0), (0, 2)), "dilation": (1, 2)}
    _, cache = conv2d_forward_naive(x, w, None, **opts)
    new_cols = im2col(cache.x_padded, (3, 2), (2, 1), (1, 2))
    with pytest.warns(
        DeprecationWarning, match=r"im2col\(x_padded, kernel_size, stride, dilation\)"
    ):
        old_cols = im2col(cache.x_padded, cache)
    np.testing.assert_array_equal(old_cols, new_cols)
    dcols = rng.standard_normal(new_cols.shape)
    new_dxp = col2im(dcols, cache.x_padded.shape, (3, 2), (2, 1), (1, 2))
    with pytest.warns(DeprecationWarning, match=r"col2im\(dcols, x_padded_shape, kernel_size"):
        old_dx = col2im(dcols, cache)
    # the old signature returned the gradient of the unpadded input
    assert old_dx.shape == x.shape
    np.testing.assert_array_equal(old_dx, crop_spatial(new_dxp, cache.pads, x.shape[1:3]))


@pytest.mark.parametrize(
    ("call", "exc", "pattern"),
    [
        (lambda: im2col(np.zeros((5, 5, 3)), 3), ValueError, r"x_padded.*4-D"),
        (lambda: im2col(np.zeros((1, 5, 5, 3), complex), 3), TypeError, r"x_padded"),
        (lambda: im2col(np.zeros((1, 5, 5, 3)), 0), ValueError, r"kernel_size"),
        (lambda: im2col(np.zeros((1, 5, 5, 3)), 2.5), TypeError, r"kernel_size"),
        (lambda: im2col(np.zeros((1, 5, 5, 3)), 3, stride=0), ValueError, r"stride"),
        (lambda: im2col(np.zeros((1, 5, 5, 3)), 3, dilation=(1, 0)), ValueError, r"dilation"),
        (lambda: im2col(np.zeros((1, 5, 5, 3)), 6), ValueError, r"kernel_size.*\(1, 5, 5, 3\)"),
        (lambda: im2col(np.zeros((1, 5, 5, 3)), 3, dilation=3), ValueError, r"dilation"),
        (lambda: col2im(np.zeros((9, 27)), (1, 5, 5, 3)), TypeError, r"kernel_size"),
        (lambda: col2im(np.zeros((9, 27)), (1, 5, 5), 3), ValueError, r"x_padded_shape"),
        (lambda: col2im(np.zeros((9, 27)), (1, 5, 0, 3), 3), ValueError, r"x_padded_shape\[2\]"),
        (lambda: col2im(np.zeros((9, 27)), (1, 5, 5, 3.0), 3), TypeError, r"x_padded_shape\[3\]"),
        (
            lambda: col2im(np.zeros((9, 26)), (1, 5, 5, 3), 3),
            ValueError,
            r"dcols.*\(9, 26\).*\(9, 27\)",
        ),
        (lambda: col2im(np.zeros((8, 27)), (1, 5, 5, 3), 3), ValueError, r"dcols"),
        (lambda: col2im(np.zeros(243), (1, 5, 5, 3), 3), ValueError, r"dcols.*2-D"),
        (lambda: col2im(np.full((9, 27), "a"), (1, 5, 5, 3), 3), TypeError, r"dcols"),
        (lambda: col2im(np.zeros((9, 27)), (1, 5, 5, 3), 6), ValueError, r"kernel"),
        (
            lambda: col2im(np.zeros((9, 27)), (1, 5, 5, 3), 6),
            ValueError,
            r"x_padded_shape \(1, 5, 5, 3\)",
        ),
        (lambda: col2im(np.zeros((9, 27)), (1, 5, 5, 3), 3, stride=0), ValueError, r"stride"),
        (lambda: col2im(np.zeros((9, 27)), (1, 5, 5, 3), 3, dilation=1.5), TypeError, r"dilation"),
        # the tuned im2col follows the same rules, with the same messages
        (lambda: im2col_fast(np.zeros((5, 5, 3)), 3), ValueError, r"x_padded.*4-D"),
        (lambda: im2col_fast([["a"]], 3), TypeError, r"x_padded"),
        (lambda: im2col_fast(np.zeros((1, 5, 5, 3)), (3, 0)), ValueError, r"kernel_size\[1\]"),
        (lambda: im2col_fast(np.zeros((1, 5, 5, 3)), 3, stride=-1), ValueError, r"stride"),
        (lambda: im2col_fast(np.zeros((1, 5, 5, 3)), 3, dilation="2"), TypeError, r"dilation"),
        (
            lambda: im2col_fast(np.zeros((1, 5, 5, 3)), 6),
            ValueError,
            r"kernel_size.*\(1, 5, 5, 3\)",
        ),
        (lambda: im2col_fast(np.zeros((1, 5, 5, 3)), 3, ones="yes"), TypeError, r"ones"),
    ],
)
def test_im2col_col2im_reject_bad_input(
    call: Callable[[], Any], exc: type[Exception], pattern: str
) -> None:
    with pytest.raises(exc, match=pattern):
        call()


@pytest.mark.parametrize(
    "x_shape", [(1, 4, 4, 3), (2, 10, 10, 5), (2, 10, 9, 3), (2, 10, 10, 3, 1)]
)
def test_old_im2col_signature_refuses_an_input_that_does_not_match_the_cache(
    x_shape: tuple,
) -> None:
    x = np.random.default_rng(31).standard_normal((2, 8, 8, 3))
    _, cache = conv2d_forward(x, np.ones((3, 3, 3, 4)), None, padding=1)
    assert cache.x_padded.shape == (2, 10, 10, 3)
    pattern = re.escape(f"x_padded has shape {x_shape}") + r".*" + re.escape("(2, 10, 10, 3)")
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=pattern):
        im2col(np.zeros(x_shape), cache)


def test_old_col2im_signature_refuses_dcols_that_do_not_match_the_cache() -> None:
    x = np.random.default_rng(32).standard_normal((2, 8, 8, 3))
    _, cache = conv2d_forward(x, np.ones((3, 3, 3, 4)), None, padding=1)
    with (
        pytest.warns(DeprecationWarning),
        pytest.raises(ValueError, match=r"dcols has shape \(100, 27\).*\(128, 27\)"),
    ):
        col2im(np.zeros((100, 27)), cache)


# --------------------------------------------------------------------------
# Bad input: ValueError / TypeError naming the argument, every tier
# --------------------------------------------------------------------------

GOOD_X = np.zeros((2, 5, 5, 3))
GOOD_W = np.zeros((3, 3, 3, 4))
GOOD_B = np.zeros(4)


@pytest.mark.parametrize("forward", FORWARDS)
@pytest.mark.parametrize(
    ("x", "w", "b", "kwargs", "exc", "pattern"),
    [
        # wrong number of dimensions
        (np.zeros((5, 5, 3)), GOOD_W, GOOD_B, {}, ValueError, r"\bx\b.*4-D"),
        (np.zeros((1, 2, 5, 5, 3)), GOOD_W, GOOD_B, {}, ValueError, r"\bx\b.*4-D"),
        (GOOD_X, np.zeros((3, 3, 3)), GOOD_B, {}, ValueError, r"\bw\b.*4-D"),
        (GOOD_X, np.zeros((1, 3, 3, 3, 4)), GOOD_B, {}, ValueError, r"\bw\b.*4-D"),
        # channels
        (GOOD_X, np.zeros((3, 3, 2, 4)), GOOD_B, {}, ValueError, r"channels"),
        (np.zeros((2, 5, 5, 4)), GOOD_W, GOOD_B, {}, ValueError, r"channels"),
        # empty axes
        (np.zeros((0, 5, 5, 3)), GOOD_W, GOOD_B, {}, ValueError, r"\bx\b"),
        (GOOD_X, np.zeros((3, 3, 3, 0)), None, {}, ValueError, r"\bw\b"),
        # bias
        (GOOD_X, GOOD_W, np.zeros(3), {}, ValueError, r"\bb\b"),
        (GOOD_X, GOOD_W, np.zeros(5), {}, ValueError, r"\bb\b"),
        (GOOD_X, GOOD_W, np.zeros((1, 4)), {}, ValueError, r"\bb\b"),
        (GOOD_X, GOOD_W, np.zeros((4, 1)), {}, ValueError, r"\bb\b"),
        (GOOD_X, GOOD_W, np.zeros((1, 1, 4)), {}, ValueError, r"\bb\b"),
        (GOOD_X, GOOD_W, 0.0, {}, ValueError, r"\bb\b"),
        # stride
        (GOOD_X, GOOD_W, GOOD_B, {"stride": 0}, ValueError, r"stride"),
        (GOOD_X, GOOD_W, GOOD_B, {"stride": -1}, ValueError, r"stride"),
        (GOOD_X, GOOD_W, GOOD_B, {"stride": (1, 0)}, ValueError, r"stride"),
        (GOOD_X, GOOD_W, GOOD_B, {"stride": (1, 2, 3)}, ValueError, r"stride"),
        (GOOD_X, GOOD_W, GOOD_B, {"stride": 1.5}, TypeError, r"stride"),
        (GOOD_X, GOOD_W, GOOD_B, {"stride": 2.0}, TypeError, r"stride"),
        (GOOD_X, GOOD_W, GOOD_B, {"stride": (1, 2.0)}, TypeError, r"stride"),
        (GOOD_X, GOOD_W, GOOD_B, {"stride": "2"}, TypeError, r"stride"),
        (GOOD_X, GOOD_W, GOOD_B, {"stride": None}, TypeError, r"stride"),
        # dilation
        (GOOD_X, GOOD_W, GOOD_B, {"dilation": 0}, ValueError, r"dilation"),
        (GOOD_X, GOOD_W, GOOD_B, {"dilation": (0, 1)}, ValueError, r"dilation"),
        (GOOD_X, GOOD_W, GOOD_B, {"dilation": (1,)}, ValueError, r"dilation"),
        (GOOD_X, GOOD_W, GOOD_B, {"dilation": 1.0}, TypeError, r"dilation"),
        (GOOD_X, GOOD_W, GOOD_B, {"dilation": True}, TypeError, r"dilation"),
        # padding
        (GOOD_X, GOOD_W, GOOD_B, {"padding": -1}, ValueError, r"padding"),
        (GOOD_X, GOOD_W, GOOD_B, {"padding": (0, -1)}, ValueError, r"padding"),
        (GOOD_X, GOOD_W, GOOD_B, {"padding": ((0, 0), (-1, 0))}, ValueError, r"padding"),
        (GOOD_X, GOOD_W, GOOD_B, {"padding": "sane"}, ValueError, r"padding"),
        (GOOD_X, GOOD_W, GOOD_B, {"padding": (1, 2, 3)}, ValueError, r"padding"),
        (GOOD_X, GOOD_W, GOOD_B, {"padding": ((1, 2), (3,))}, ValueError, r"padding"),
        (GOOD_X, GOOD_W, GOOD_B, {"padding": ((1, 2), 3)}, TypeError, r"padding"),
        (GOOD_X, GOOD_W, GOOD_B, {"padding": 1.0}, TypeError, r"padding"),
        (GOOD_X, GOOD_W, GOOD_B, {"padding": None}, TypeError, r"padding"),
        # the (dilated) kernel does not fit the padded input
        (GOOD_X, np.zeros((6, 3, 3, 4)), GOOD_B, {}, ValueError, r"kernel"),
        (GOOD_X, np.zeros((3, 6, 3, 4)), GOOD_B, {}, ValueError, r"kernel"),
        (GOOD_X, GOOD_W, GOOD_B, {"dilation": 3}, ValueError, r"kernel.*dilation"),  # span 7 > 5
        (GOOD_X, GOOD_W, GOOD_B, {"dilation": (1, 3), "padding": (0, 0)}, ValueError, r"kernel"),
        (GOOD_X, np.zeros((9, 9, 3, 4)), GOOD_B, {"padding": 1}, ValueError, r"kernel"),  # 9 > 7
        # non-numeric data
        (np.full((2, 5, 5, 3), "a"), GOOD_W, GOOD_B, {}, TypeError, r"\bx\b"),
        (GOOD_X.astype(complex), GOOD_W, GOOD_B, {}, TypeError, r"\bx\b"),
        (GOOD_X.astype(object), GOOD_W, GOOD_B, {}, TypeError, r"\bx\b"),
        (GOOD_X, GOOD_W.astype(complex), GOOD_B, {}, TypeError, r"\bw\b"),
        (GOOD_X, GOOD_W.astype(str), GOOD_B, {}, TypeError, r"\bw\b"),
        (GOOD_X, GOOD_W, np.array(["a", "b", "c", "d"]), {}, TypeError, r"\bb\b"),
        (GOOD_X, GOOD_W, GOOD_B.astype(complex), {}, TypeError, r"\bb\b"),
        ([[[[1.0]], [[1.0, 2.0]]]], GOOD_W, GOOD_B, {}, TypeError, r"\bx\b"),  # ragged
        (None, GOOD_W, GOOD_B, {}, TypeError, r"\bx\b"),
    ],
)
def test_forward_rejects_bad_input(
    forward: Forward, x: Any, w: Any, b: Any, kwargs: dict, exc: type[Exception], pattern: str
) -> None:
    with pytest.raises(exc, match=pattern):
        forward(x, w, b, **kwargs)


@pytest.mark.parametrize("forward", FORWARDS)
def test_channel_mismatch_message_names_both_arrays(forward: Forward) -> None:
    with pytest.raises(ValueError) as excinfo:
        forward(GOOD_X, np.zeros((3, 3, 2, 4)), GOOD_B)
    msg = str(excinfo.value)
    assert "x" in msg and "w" in msg and "(2, 5, 5, 3)" in msg and "(3, 3, 2, 4)" in msg


@pytest.mark.parametrize("forward", FORWARDS)
def test_kernel_that_fits_only_with_padding_is_accepted(forward: Forward) -> None:
    # span 7 with dilation 3 on 5x5: too large for "valid", fits with padding 1
    out, _ = forward(GOOD_X, GOOD_W, GOOD_B, dilation=3, padding=1)
    assert out.shape == (2, 1, 1, 4)


@pytest.mark.parametrize(("forward", "backward"), PATHS)
@pytest.mark.parametrize(
    ("dout", "exc", "pattern"),
    [
        (np.zeros((2, 3, 3, 3)), ValueError, r"dout.*\(2, 3, 3, 4\)"),  # F wrong
        (np.zeros((1, 3, 3, 4)), ValueError, r"dout"),  # N wrong
        (np.zeros((2, 5, 5, 4)), ValueError, r"dout"),  # the input's size, not the output's
        (np.zeros((3, 3, 4)), ValueError, r"dout"),
        (np.zeros((2, 3, 3, 4)).astype(complex), TypeError, r"dout"),
        (np.full((2, 3, 3, 4), "a"), TypeError, r"dout"),
        (None, TypeError, r"dout"),
    ],
)
def test_backward_rejects_bad_dout(
    forward: Forward, backward: Backward, dout: Any, exc: type[Exception], pattern: str
) -> None:
    _, cache = forward(GOOD_X, GOOD_W, GOOD_B)
    with pytest.raises(exc, match=pattern):
        backward(dout, cache)


@pytest.mark.parametrize("backward", BACKWARDS)
@pytest.mark.parametrize("cache", [None, (GOOD_X, GOOD_W), {"x_padded": GOOD_X}, "cache"])
def test_backward_rejects_a_cache_that_is_not_conv2dcache(backward: Backward, cache: Any) -> None:
    with pytest.raises(TypeError, match=r"cache.*Conv2DCache"):
        backward(np.zeros((2, 3, 3, 4)), cache)


def test_public_api_is_exported() -> None:
    for name in (
        "conv2d_forward",
        "conv2d_backward",
        "conv2d_forward_naive",
        "conv2d_backward_naive",
        "conv2d_forward_im2col",
        "conv2d_backward_im2col",
        "Conv2DCache",
        "im2col",
        "col2im",
        "check_gradients",
        "same_padding",
    ):
        assert hasattr(convlib, name)
