"""Tests of convlib.arithmetic: kernel span, padding rules, output sizes.

Expected values are worked out by hand (see the comment on each case); the
property tests compare against a brute-force search written here, not against
the formulas of the module under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from convlib import conv_output_size, resolve_padding, same_padding
from convlib.arithmetic import effective_kernel_size

# --------------------------------------------------------------------------
# effective_kernel_size
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel", "dilation", "expected"),
    [
        (1, 1, 1),
        (1, 3, 1),  # a single tap spans one pixel whatever the dilation
        (3, 1, 3),
        (3, 2, 5),  # taps at 0, 2, 4
        (3, 3, 7),  # taps at 0, 3, 6
        (2, 3, 4),  # taps at 0, 3
        (5, 2, 9),
    ],
)
def test_effective_kernel_size(kernel: int, dilation: int, expected: int) -> None:
    assert effective_kernel_size(kernel, dilation) == expected


# --------------------------------------------------------------------------
# conv_output_size
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((7, 3), {}, 5),  # the source article's worked example: 7x7 * 3x3 -> 5x5
        ((7, 1), {}, 7),
        ((7, 7), {}, 1),  # kernel as large as the input
        ((5, 3), {"stride": 2}, 2),  # windows at 0 and 2
        ((6, 3), {"stride": 2}, 2),  # windows at 0 and 2; last row dropped
        ((8, 3), {"stride": 2}, 3),  # windows at 0, 2, 4; row 7 dropped
        ((28, 3), {"pad": 1}, 28),
        ((28, 3), {"pad": (1, 1)}, 28),
        ((28, 2), {"pad": (0, 1)}, 28),
        ((28, 3), {"stride": 2, "pad": (0, 1)}, 14),
        ((5, 3), {"pad": 2}, 7),  # "full": 5 + 3 - 1
        ((7, 3), {"dilation": 2}, 3),  # span 5: windows at 0, 1, 2
        ((7, 3), {"dilation": 3}, 1),  # span 7
        ((9, 2), {"stride": 4, "dilation": 3}, 2),  # span 4: windows at 0, 4
        ((1, 3), {"pad": (1, 1)}, 1),
        ((1, 1), {"stride": 4}, 1),
        ((10, 4), {"stride": 3, "pad": (2, 0)}, 3),  # (12 - 4) // 3 + 1
    ],
)
def test_conv_output_size_hand_values(args: tuple, kwargs: dict, expected: int) -> None:
    assert conv_output_size(*args, **kwargs) == expected


def _count_windows(size: int, kernel: int, stride: int, lo: int, hi: int, dilation: int) -> int:
    """Count window positions by walking them, the way one would on paper."""
    padded = size + lo + hi
    span = dilation * (kernel - 1) + 1
    count, start = 0, 0
    while start + span <= padded:
        count += 1
        start += stride
    return count


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(1, 30),
    kernel=st.integers(1, 8),
    stride=st.integers(1, 5),
    lo=st.integers(0, 5),
    hi=st.integers(0, 5),
    dilation=st.integers(1, 4),
)
def test_conv_output_size_counts_windows(
    size: int, kernel: int, stride: int, lo: int, hi: int, dilation: int
) -> None:
    expected = _count_windows(size, kernel, stride, lo, hi, dilation)
    if expected == 0:
        with pytest.raises(ValueError, match="kernel"):
            conv_output_size(size, kernel, stride, (lo, hi), dilation)
    else:
        assert conv_output_size(size, kernel, stride, (lo, hi), dilation) == expected
        if lo == hi:
            assert conv_output_size(size, kernel, stride, lo, dilation) == expected


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "name"),
    [
        ((5, 6), {}, ValueError, "kernel"),  # kernel larger than the input
        ((5, 3), {"dilation": 3}, ValueError, "kernel"),  # span 7 > 5
        ((5, 3), {"dilation": 3, "pad": (0, 1)}, ValueError, "kernel"),  # span 7 > 6
        ((0, 1), {}, ValueError, "size"),
        ((5, 0), {}, ValueError, "kernel"),
        ((5, 3), {"stride": 0}, ValueError, "stride"),
        ((5, 3), {"dilation": 0}, ValueError, "dilation"),
        ((5, 3), {"stride": 1.5}, TypeError, "stride"),
        ((5.0, 3), {}, TypeError, "size"),
        ((5, "3"), {}, TypeError, "kernel"),
    ],
)
def test_conv_output_size_rejects_bad_arguments(
    args: tuple, kwargs: dict, exc: type[Exception], name: str
) -> None:
    with pytest.raises(exc, match=name):
        conv_output_size(*args, **kwargs)


@pytest.mark.parametrize(
    ("pad", "exc"),
    [
        (-1, ValueError),
        ((2, -1), ValueError),
        ((1,), ValueError),
        ((1, 2, 3), ValueError),
        (1.5, TypeError),
        ((1, 0.5), TypeError),
    ],
)
def test_conv_output_size_rejects_bad_pad(pad: object, exc: type[Exception]) -> None:
    with pytest.raises(exc, match="pad"):
        conv_output_size(7, 3, pad=pad)


def test_conv_output_size_accepts_numpy_integers() -> None:
    # like size, kernel, stride and dilation, pad may be any integral number
    assert conv_output_size(np.int64(7), np.int32(3), stride=np.int64(1), pad=np.int64(1)) == 7
    assert conv_output_size(7, 3, pad=(np.int64(0), np.int64(2))) == 7
    assert conv_output_size(7, 3, pad=[1, 1]) == 7


def test_conv_output_size_accepts_kernel_equal_to_padded_input() -> None:
    # span 7 == 5 + 1 + 1: exactly one window
    assert conv_output_size(5, 3, dilation=3, pad=(1, 1)) == 1


# --------------------------------------------------------------------------
# same_padding
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((28, 3), (1, 1)),
        ((28, 1), (0, 0)),  # 1x1 kernel: no padding at all
        ((28, 2), (0, 1)),  # even kernel: one pixel, at the end
        ((28, 4), (1, 2)),
        ((28, 3, 2), (0, 1)),  # out 14: (14-1)*2 + 3 - 28 = 1
        ((28, 5, 2), (1, 2)),  # out 14: 26 + 5 - 28 = 3
        ((5, 3, 2), (1, 1)),  # out 3: 4 + 3 - 5 = 2
        ((7, 3, 1, 2), (2, 2)),  # span 5
        ((6, 4), (1, 2)),
        ((1, 3, 4), (1, 1)),  # out 1: 0 + 3 - 1 = 2
        ((10, 1, 3), (0, 0)),  # out 4: 9 + 1 - 10 = 0
        ((4, 2, 4), (0, 0)),  # out 1: 0 + 2 - 4 < 0 -> no padding
        ((9, 3, 4, 3), (3, 3)),  # out 3, span 7: (3-1)*4 + 7 - 9 = 6
    ],
)
def test_same_padding_hand_values(args: tuple, expected: tuple[int, int]) -> None:
    assert same_padding(*args) == expected


def _minimal_same_total(size: int, kernel: int, stride: int, dilation: int) -> int:
    """Smallest total padding giving ``ceil(size / stride)`` outputs, by search."""
    want = math.ceil(size / stride)
    for total in range(size + dilation * kernel + stride + 1):
        if _count_windows(size, kernel, stride, 0, total, dilation) == want:
            return total
    raise AssertionError("no padding gives the 'same' output size")  # pragma: no cover


@settings(max_examples=400, deadline=None)
@given(
    size=st.integers(1, 40),
    kernel=st.integers(1, 9),
    stride=st.integers(1, 5),
    dilation=st.integers(1, 4),
)
def test_same_padding_properties(size: int, kernel: int, stride: int, dilation: int) -> None:
    before, after = same_padding(size, kernel, stride, dilation)
    # output is ceil(size / stride), with the least padding that achieves it
    assert before >= 0 and after >= 0
    assert conv_output_size(size, kernel, stride, (before, after), dilation) == math.ceil(
        size / stride
    )
    assert before + after == _minimal_same_total(size, kernel, stride, dilation)
    # balanced, the odd pixel at the end (bottom / right)
    assert after - before in (0, 1)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "name"),
    [
        ((0, 3), {}, ValueError, "size"),
        ((5, 0), {}, ValueError, "kernel"),
        ((5, 3), {"stride": 0}, ValueError, "stride"),
        ((5, 3), {"dilation": 0}, ValueError, "dilation"),
        ((5.5, 3), {}, TypeError, "size"),
    ],
)
def test_same_padding_rejects_bad_arguments(
    args: tuple, kwargs: dict, exc: type[Exception], name: str
) -> None:
    with pytest.raises(exc, match=name):
        same_padding(*args, **kwargs)


# --------------------------------------------------------------------------
# resolve_padding
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("padding", "input_hw", "kernel_hw", "stride", "dilation", "expected"),
    [
        ("valid", (7, 7), (3, 3), (1, 1), (1, 1), ((0, 0), (0, 0))),
        ("same", (7, 7), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),
        ("same", (28, 28), (2, 2), (1, 1), (1, 1), ((0, 1), (0, 1))),
        ("same", (28, 28), (3, 3), (2, 2), (1, 1), ((0, 1), (0, 1))),
        ("same", (28, 28), (1, 1), (1, 1), (1, 1), ((0, 0), (0, 0))),
        # axes are independent: H uses stride 2, W uses dilation 2
        ("same", (28, 7), (3, 3), (2, 1), (1, 2), ((0, 1), (2, 2))),
        ("same", (5, 6), (2, 4), (1, 1), (1, 1), ((0, 1), (1, 2))),
        ("full", (5, 5), (3, 3), (1, 1), (1, 1), ((2, 2), (2, 2))),
        ("full", (5, 5), (3, 2), (1, 1), (2, 3), ((4, 4), (3, 3))),  # spans 5 and 4
        ("full", (5, 5), (1, 1), (3, 3), (1, 1), ((0, 0), (0, 0))),
        (0, (5, 5), (3, 3), (1, 1), (1, 1), ((0, 0), (0, 0))),
        (2, (5, 5), (3, 3), (1, 1), (1, 1), ((2, 2), (2, 2))),
        ((1, 2), (5, 5), (3, 3), (1, 1), (1, 1), ((1, 1), (2, 2))),
        ([3, 0], (5, 5), (3, 3), (1, 1), (1, 1), ((3, 3), (0, 0))),
        (((1, 2), (3, 4)), (5, 5), (3, 3), (1, 1), (1, 1), ((1, 2), (3, 4))),
        ([[0, 1], [2, 0]], (5, 5), (3, 3), (1, 1), (1, 1), ((0, 1), (2, 0))),
    ],
)
def test_resolve_padding_forms(
    padding: object,
    input_hw: tuple[int, int],
    kernel_hw: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    expected: tuple,
) -> None:
    got = resolve_padding(padding, input_hw, kernel_hw, stride, dilation)
    assert got == expected
    assert all(type(v) is int for pair in got for v in pair)


def test_resolve_padding_defaults_are_stride_and_dilation_one() -> None:
    assert resolve_padding("same", (6, 6), (4, 4)) == ((1, 2), (1, 2))
    assert resolve_padding("full", (6, 6), (4, 4)) == ((3, 3), (3, 3))


@pytest.mark.parametrize(
    ("padding", "kernel_hw", "stride", "name"),
    [
        ("same", (3, 3), (0, 1), "stride"),  # ZeroDivisionError would be unhelpful
        ("full", (0, 3), (1, 1), "kernel"),  # would give padding -1
        ("same", (3, 0), (1, 1), "kernel"),
    ],
)
def test_resolve_padding_rejects_bad_geometry(
    padding: str, kernel_hw: tuple, stride: tuple, name: str
) -> None:
    with pytest.raises(ValueError, match=name):
        resolve_padding(padding, (5, 5), kernel_hw, stride)


@pytest.mark.parametrize(
    ("padding", "exc"),
    [
        ("bogus", ValueError),
        ("", ValueError),
        (-1, ValueError),
        ((1, -1), ValueError),
        ((-2, 0), ValueError),
        (((0, 0), (0, -1)), ValueError),
        (((-1, 0), (0, 0)), ValueError),
        ((1, 2, 3), ValueError),
        ((), ValueError),
        ((1,), ValueError),
        (((1, 2, 3), (1, 2)), ValueError),
        (((1, 2), (3,)), ValueError),
        (((1, 2), 3), TypeError),  # mixed nesting
        (1.5, TypeError),
        ((1.0, 2), TypeError),
        (True, TypeError),
        (None, TypeError),
        (("same", "same"), TypeError),
    ],
)
def test_resolve_padding_rejects_bad_padding(padding: object, exc: type[Exception]) -> None:
    with pytest.raises(exc, match="padding"):
        resolve_padding(padding, (5, 5), (3, 3))
