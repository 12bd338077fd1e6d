"""Tests of convlib.fast.workspace: reused scratch memory that never leaks out.

The promise of the workspace is that only temporaries live there: no output,
no gradient and no cache field of a tuned forward or backward pass may share
memory with it (a later call would overwrite them). Checked with
``np.shares_memory`` over shapes that take every branch of the tuned code:
few channels (channel-major layout) and many, stride 1 and larger, with and
without bias and padding; and by values: a second call must not change what
the first returned.
"""

from __future__ import annotations

import dataclasses
import gc
import threading
from typing import Any

import numpy as np
import pytest

import convlib
from convlib.fast import (
    avgpool2d_backward_fast,
    avgpool2d_forward_fast,
    clear_workspace,
    conv2d_backward_fast,
    conv2d_forward_fast,
    maxpool2d_backward_fast,
    maxpool2d_forward_fast,
    scratch,
    workspace,
    workspace_nbytes,
)
from convlib.fast.workspace import _buffers

CONV_CASES = [  # x shape, w shape, bias, options
    pytest.param((2, 9, 8, 1), (3, 3, 1, 4), True, {}, id="c1-stride1"),
    pytest.param(
        (2, 9, 8, 3), (3, 2, 3, 5), True, {"stride": 2, "padding": "same"}, id="c3-stride2"
    ),
    pytest.param(
        (2, 7, 7, 4), (2, 2, 4, 3), False, {"stride": (1, 3), "dilation": 2}, id="c4-strides"
    ),
    pytest.param((2, 9, 8, 8), (3, 3, 8, 4), True, {"padding": 1}, id="c8-stride1"),
    pytest.param(
        (2, 10, 9, 12), (5, 3, 12, 6), False, {"stride": 2, "padding": 2}, id="c12-stride2"
    ),
    pytest.param((1, 8, 8, 16), (2, 2, 16, 4), True, {"stride": 2}, id="c16-tiling"),
]


def _arrays_of(result: Any) -> list[np.ndarray]:
    """Every ndarray in a result tuple, cache fields included."""
    found: list[np.ndarray] = []
    items = result if isinstance(result, tuple) else (result,)
    for item in items:
        if isinstance(item, np.ndarray):
            found.append(item)
        elif dataclasses.is_dataclass(item):
            found.extend(v for v in vars(item).values() if isinstance(v, np.ndarray))
    return found


def _assert_no_sharing(arrays: list[np.ndarray]) -> None:
    buffers = _buffers()
    assert buffers, "the tuned tier should have used the workspace"
    for a in arrays:
        for buf in buffers:
            assert not np.shares_memory(a, buf), f"array of shape {a.shape} lives in the workspace"


@pytest.mark.parametrize(("x_shape", "w_shape", "bias", "opts"), CONV_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_results_never_share_memory_with_the_workspace(
    x_shape: tuple, w_shape: tuple, bias: bool, opts: dict, dtype: type
) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[3]).astype(dtype) if bias else None
    fwd = conv2d_forward_fast(x, w, b, **opts)
    dout = rng.standard_normal(fwd[0].shape).astype(dtype)
    bwd = conv2d_backward_fast(dout, fwd[1])
    # the backward also accepts caches without cols: it rebuilds them
    _, naive_cache = convlib.conv2d_forward_naive(x, w, b, **opts)
    bwd_naive_cache = conv2d_backward_fast(dout, naive_cache)
    arrays = _arrays_of(fwd) + _arrays_of(bwd) + _arrays_of(bwd_naive_cache)
    _assert_no_sharing(arrays)

    # and by value: the next calls, on other data, leave these results alone
    kept = [a.copy() for a in arrays]
    fwd2 = conv2d_forward_fast(-2 * x, w[::-1].copy(), b, **opts)
    conv2d_backward_fast(3 * dout, fwd2[1])
    for before, after in zip(kept, arrays):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize(
    ("pool", "opts"),
    [
        (2, {}),
        (3, {"stride": 2, "padding": 1}),
        ((2, 3), {"stride": 1, "padding": "same"}),
        (2, {"stride": 3}),
    ],
)
def test_pooling_results_never_share_memory_with_the_workspace(pool: Any, opts: dict) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 9, 8, 5))
    arrays = []
    for forward, backward in (
        (maxpool2d_forward_fast, maxpool2d_backward_fast),
        (avgpool2d_forward_fast, avgpool2d_backward_fast),
    ):
        out, cache = forward(x, pool, **opts)
        dx = backward(rng.standard_normal(out.shape), cache)
        arrays += _arrays_of((out, cache, dx))
    scratch("another", (16,), np.float64)  # at least one buffer, whatever the path took
    _assert_no_sharing(arrays)


def test_scratch_reuses_memory_by_name() -> None:
    clear_workspace()
    a = scratch("test_a", (100,), np.float64)
    b = scratch("test_b", (10, 10), np.float32)
    assert not np.shares_memory(a, b)
    again = scratch("test_a", (5, 20), np.float64)
    assert np.shares_memory(a, again) and again.shape == (5, 20)
    smaller = scratch("test_a", (7,), np.int32)
    assert np.shares_memory(a, smaller) and smaller.dtype == np.int32
    assert workspace_nbytes() == 800 + 400


def test_clear_workspace_releases_everything_and_results_stay_right() -> None:
    rng = np.random.default_rng(2)
    x, w, b = (
        rng.standard_normal((2, 8, 8, 3)),
        rng.standard_normal((3, 3, 3, 4)),
        rng.standard_normal(4),
    )
    out, cache = conv2d_forward_fast(x, w, b, stride=2, padding=1)
    dout = rng.standard_normal(out.shape)
    first = conv2d_backward_fast(dout, cache)
    held = workspace_nbytes()
    assert held > 0
    assert clear_workspace() == held
    assert workspace_nbytes() == 0 and _buffers() == []
    for g1, g2 in zip(first, conv2d_backward_fast(dout, cache)):
        np.testing.assert_array_equal(g1, g2)
    ref = convlib.conv2d_backward_naive(dout, cache)
    for g, r in zip(first, ref):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)


def test_limit_bounds_what_a_thread_keeps(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_workspace()
    monkeypatch.setattr(workspace, "WORKSPACE_LIMIT_BYTES", 1000)
    big = scratch("big", (200,), np.float64)  # 1600 bytes: above the limit
    assert big.shape == (200,) and workspace_nbytes() == 0  # handed out, not kept
    again = scratch("big", (200,), np.float64)
    assert not np.shares_memory(big, again)
    a = scratch("a", (60,), np.float64)  # 480 bytes, kept
    scratch("b", (50,), np.float64)  # 400 more: 880 <= 1000, kept
    assert workspace_nbytes() == 880
    c = scratch("c", (40,), np.float64)  # 320 more would exceed: the others are dropped
    assert workspace_nbytes() == 320
    assert not np.shares_memory(scratch("a", (60,), np.float64), a)  # "a" was dropped
    assert np.shares_memory(scratch("c", (40,), np.float64), c)
    assert workspace_nbytes() <= 1000
    # the tuned passes stay correct when nothing fits in the workspace
    # (a lower limit applies to new buffers; clearing releases the old ones)
    monkeypatch.setattr(workspace, "WORKSPACE_LIMIT_BYTES", 0)
    clear_workspace()
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 7, 7, 2)), rng.standard_normal((3, 3, 2, 3))
    out, cache = conv2d_forward_fast(x, w, None, stride=2)
    dout = rng.standard_normal(out.shape)
    for g, r in zip(conv2d_backward_fast(dout, cache), convlib.conv2d_backward_naive(dout, cache)):
        if r is not None:
            np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)
    assert workspace_nbytes() == 0


def test_every_thread_has_its_own_workspace_and_clear_reaches_them() -> None:
    clear_workspace()
    ready, done = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def worker() -> None:
        seen["buf"] = scratch("shared_name", (1000,), np.float64)
        ready.set()
        done.wait(10)
        seen["after_clear"] = scratch("shared_name", (1000,), np.float64)

    t = threading.Thread(target=worker)
    t.start()
    assert ready.wait(10)
    mine = scratch("shared_name", (1000,), np.float64)
    assert not np.shares_memory(mine, seen["buf"])  # same name, other thread, other memory
    assert workspace_nbytes() == 2 * 8000
    assert clear_workspace() == 2 * 8000
    done.set()
    t.join(10)
    assert not np.shares_memory(seen["after_clear"], seen["buf"])  # allocated afresh
    seen.clear()
    gc.collect()
    assert workspace_nbytes() == 0  # the finished thread's workspace is gone with it


# ----------------------------------------------------------------------- argument checks (issue 10)
@pytest.mark.parametrize(
    "args, exc, match",
    [
        (("t", (-1, 2), np.float32), ValueError, r"shape must hold sizes >= 0, got \(-1, 2\)"),
        (("t", 5, np.float32), TypeError, r"shape must be a tuple of ints, got 5"),
        (("t", (2.0, 2), np.float32), TypeError, r"shape must be a tuple of ints"),
        ((3, (2, 2), np.float32), TypeError, r"name must be a str"),
        (("t", (2, 2), "bogus"), TypeError, r"dtype must be a .*NumPy dtype, got 'bogus'"),
        (("t", (2, 2), object), TypeError, r"dtype must be a .*NumPy dtype"),
        (("t", (2, 2), None), TypeError, r"dtype must be a .*NumPy dtype, got None"),
    ],
)
def test_scratch_refuses_bad_arguments(args: tuple, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        scratch(*args)


def test_scratch_accepts_empty_shapes_numpy_integers_and_dtype_names() -> None:
    assert scratch("empty", (0, np.int64(3)), "float32").shape == (0, 3)
    a = scratch("named", [2, 3], "f8")
    assert a.shape == (2, 3) and a.dtype == np.float64
