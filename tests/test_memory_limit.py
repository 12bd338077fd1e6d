"""The memory limit: calls that would need too much memory fail early, clearly.

Huge inputs are broadcast views (``np.broadcast_to``) that take no memory,
so each test shows that the call is refused from the shapes alone, before
anything is allocated: in milliseconds, not after filling gigabytes.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import convlib
from convlib import (
    avgpool2d_forward,
    avgpool2d_forward_naive,
    avgpool2d_forward_windows,
    col2im,
    conv2d_forward,
    conv2d_forward_im2col,
    conv2d_forward_naive,
    im2col,
    maxpool2d_forward,
    maxpool2d_forward_naive,
    maxpool2d_forward_windows,
)
from convlib.fast import conv2d_forward_fast, im2col_fast
from convlib.memory import MemoryLimitError, memory_limit, physical_memory, set_memory_limit

GiB = 2**30


@pytest.fixture
def limit_8gib():
    previous = set_memory_limit(8 * GiB)
    yield
    set_memory_limit(previous)


def huge(shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """An array of any size that takes no memory (a read-only broadcast view)."""
    return np.broadcast_to(np.ones((), dtype=dtype), shape)


# A float32 conv needing ~24 GiB: M = 64 * 512 * 512 output pixels, an im2col
# matrix of M x (5 * 5 * 8 + 1) (the bias column), an output of M x 176 and the
# input padded by 2 on each side.
X_24 = huge((64, 512, 512, 8))
W_24 = np.ones((5, 5, 8, 176), np.float32)
B_24 = np.zeros(176, np.float32)
M_24 = 64 * 512 * 512
GIB_24 = (M_24 * 201 + M_24 * 176 + 64 * 516 * 516 * 8) * 4 / GiB


@pytest.mark.parametrize(
    "forward", [conv2d_forward, conv2d_forward_fast, conv2d_forward_im2col, conv2d_forward_naive]
)
def test_a_24_gib_conv_fails_in_milliseconds(forward, limit_8gib):
    assert 23.5 < GIB_24 < 24.5
    start = time.perf_counter()
    with pytest.raises(MemoryLimitError) as info:
        forward(X_24, W_24, B_24, padding="same")
    assert time.perf_counter() - start < 0.5
    msg = str(info.value)
    assert "(64, 512, 512, 8)" in msg and "(5, 5, 8, 176)" in msg  # the shapes
    assert "limit of 8.0 GiB" in msg and "set_memory_limit" in msg
    if forward is not conv2d_forward_naive:
        assert f"about {GIB_24:.1f} GiB" in msg
        assert f"im2col matrix ({M_24}, 201) {M_24 * 201 * 4 / GiB:.2f} GiB" in msg
    else:  # the loops build no im2col matrix: output and padded input only
        assert "im2col" not in msg
        assert f"about {(M_24 * 176 + 64 * 516 * 516 * 8) * 4 / GiB:.1f} GiB" in msg


def test_the_default_limit_refuses_24_gib_on_this_machine():
    total = physical_memory()
    if total is None or total * 0.8 >= GIB_24 * GiB:
        pytest.skip("the default limit depends on the machine's memory")
    with pytest.raises(MemoryError, match="more than the memory limit"):
        conv2d_forward(X_24, W_24, B_24, padding="same")


def test_memory_limit_error_is_a_memory_error():
    assert issubclass(MemoryLimitError, MemoryError)


@pytest.mark.parametrize(
    "forward",
    [
        maxpool2d_forward,
        maxpool2d_forward_windows,
        maxpool2d_forward_naive,
        avgpool2d_forward,
        avgpool2d_forward_windows,
        avgpool2d_forward_naive,
    ],
)
def test_huge_pooling_fails_early(forward, limit_8gib):
    x = huge((1024, 1024, 1024, 16))  # 64 GiB of float32 input, 16 GiB of output
    start = time.perf_counter()
    with pytest.raises(MemoryLimitError, match=r"\(1024, 1024, 1024, 16\).*GiB"):
        forward(x, 2)
    assert time.perf_counter() - start < 0.5


def test_im2col_col2im_fail_early(limit_8gib):
    xp = huge((64, 516, 516, 8))  # with a 5 x 5 kernel: a 12.5 GiB im2col matrix
    with pytest.raises(MemoryLimitError, match=r"im2col would need about 12\.5 GiB"):
        im2col(xp, 5)
    with pytest.raises(MemoryLimitError, match=r"im2col_fast would need about 12\.6 GiB"):
        im2col_fast(xp, 5, ones=True)
    with pytest.raises(
        MemoryLimitError, match=r"col2im would need.*x_padded_shape \(100000, 100, 100, 16\)"
    ):
        col2im(huge((100000 * 98 * 98, 144)), (100000, 100, 100, 16), 3)


def test_calls_under_the_limit_run(limit_8gib):
    x = np.ones((2, 8, 8, 3))
    out, _ = conv2d_forward(x, np.ones((3, 3, 3, 4)), None, padding="same")
    assert out.shape == (2, 8, 8, 4)
    assert maxpool2d_forward(x, 2)[0].shape == (2, 4, 4, 3)


def test_a_small_limit_refuses_a_small_call():
    previous = set_memory_limit(1000)
    try:
        with pytest.raises(MemoryLimitError, match=r"limit of 0\.0 GiB"):
            conv2d_forward(np.ones((2, 8, 8, 3)), np.ones((3, 3, 3, 4)), None)
    finally:
        set_memory_limit(previous)
    conv2d_forward(np.ones((2, 8, 8, 3)), np.ones((3, 3, 3, 4)), None)  # restored


def test_set_memory_limit_returns_the_previous_limit_and_none_restores_the_default():
    default = memory_limit()
    assert set_memory_limit(12345) == default
    assert memory_limit() == 12345
    assert set_memory_limit(None) == 12345
    assert memory_limit() == default
    total = physical_memory()
    if total is not None:
        assert default == int(total * convlib.memory.DEFAULT_FRACTION)


@pytest.mark.parametrize(
    ("value", "exc"),
    [(0, ValueError), (-5, ValueError), (1.5, TypeError), ("8GiB", TypeError), (True, TypeError)],
)
def test_set_memory_limit_rejects_bad_values(value, exc):
    before = memory_limit()
    with pytest.raises(exc, match="nbytes"):
        set_memory_limit(value)
    assert memory_limit() == before
