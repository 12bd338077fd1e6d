"""Tests of convlib.windows, the window geometry every tier of conv and pooling uses.

The reference is the defining formula, written here as loops: output pixel
``(i, j)`` reads padded pixel ``(i*sh + p*dh, j*sw + q*dw)`` through tap
``(p, q)``; and ``numpy.lib.stride_tricks.sliding_window_view``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import convlib
from convlib.windows import (
    WindowGeometry,
    crop_spatial,
    pad_spatial,
    receptive_field,
    tap_phases,
    tap_slices,
    window_output_hw,
    window_view,
)


@st.composite
def geometries(draw: Any) -> tuple:
    """``(xp, kernel, stride, dilation)`` with a window that fits the padded input."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    hp, wp = draw(st.integers(1, 10)), draw(st.integers(1, 10))
    kh = draw(st.integers(1, (hp - 1) // dilation[0] + 1))
    kw = draw(st.integers(1, (wp - 1) // dilation[1] + 1))
    seed = draw(st.integers(0, 2**32 - 1))
    xp = np.random.default_rng(seed).standard_normal((n, hp, wp, c))
    return xp, (kh, kw), stride, dilation


def out_hw(xp: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple) -> tuple[int, int]:
    return tuple(
        (size - d * (k - 1) - 1) // s + 1
        for size, k, s, d in zip(xp.shape[1:3], kernel, stride, dilation)
    )


@settings(max_examples=150, deadline=None)
@given(geometries())
def test_window_view_holds_every_window(geometry: tuple) -> None:
    xp, (kh, kw), (sh, sw), (dh, dw) = geometry
    view = window_view(xp, (kh, kw), (sh, sw), (dh, dw))
    oh, ow = out_hw(xp, (kh, kw), (sh, sw), (dh, dw))
    assert view.shape == (xp.shape[0], oh, ow, kh, kw, xp.shape[3])
    assert np.shares_memory(view, xp) and not view.flags.writeable
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    ref = sliding_window_view(xp, span, axis=(1, 2))[:, ::sh, ::sw, :, ::dh, ::dw]
    np.testing.assert_array_equal(view, ref.transpose(0, 1, 2, 4, 5, 3))
    assert window_output_hw(xp.shape[1:3], (kh, kw), (sh, sw), (dh, dw)) == (oh, ow)


@settings(max_examples=100, deadline=None)
@given(geometries())
def test_tap_slices_and_receptive_fields_select_the_windows(geometry: tuple) -> None:
    xp, kernel, stride, dilation = geometry
    view = window_view(xp, kernel, stride, dilation)
    oh, ow = view.shape[1:3]
    for p in range(kernel[0]):
        for q in range(kernel[1]):
            rows, cols = tap_slices(p, q, (oh, ow), stride, dilation)
            np.testing.assert_array_equal(xp[:, rows, cols, :], view[:, :, :, p, q, :])
    for i in range(oh):
        for j in range(ow):
            rows, cols = receptive_field(i, j, kernel, stride, dilation)
            np.testing.assert_array_equal(xp[:, rows, cols, :], view[:, i, j])


@settings(max_examples=150, deadline=None)
@given(
    kh=st.integers(1, 6),
    kw=st.integers(1, 6),
    sh=st.integers(1, 5),
    sw=st.integers(1, 5),
    dh=st.integers(1, 4),
    dw=st.integers(1, 4),
    oh=st.integers(1, 4),
)
def test_tap_phases_put_each_tap_on_consecutive_rows_of_one_phase(
    kh: int, kw: int, sh: int, sw: int, dh: int, dw: int, oh: int
) -> None:
    phases = tap_phases((kh, kw), (sh, sw), (dh, dw))
    keys = [(ph.row_phase, ph.col_phase) for ph in phases]
    assert keys == sorted(set(keys))  # each phase once, row-major
    taps = [t[:2] for ph in phases for t in ph.taps]
    assert sorted(taps) == [(p, q) for p in range(kh) for q in range(kw)]  # each tap once
    for ph in phases:
        assert [t[:2] for t in ph.taps] == sorted(t[:2] for t in ph.taps)  # row-major in a phase
        assert 0 <= ph.row_phase < sh and 0 <= ph.col_phase < sw
        for p, q, u0, v0 in ph.taps:
            # output row i reads padded row i*sh + p*dh = (u0 + i) * sh + a
            for i in range(oh):
                assert i * sh + p * dh == (u0 + i) * sh + ph.row_phase
                assert i * sw + q * dw == (v0 + i) * sw + ph.col_phase
    if (sh, sw) == (1, 1):
        assert len(phases) == 1


def test_tap_phases_example_and_missing_phases() -> None:
    # 2x2 window, stride 3: phase 2 of the rows and of the columns is read by no tap
    phases = tap_phases(2, 3)
    assert [(ph.row_phase, ph.col_phase) for ph in phases] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert all(len(ph.taps) == 1 for ph in phases)
    # 3x3 window, stride 2: phase (0, 0) holds the four corner taps
    corner = tap_phases(3, 2)[0]
    assert corner.taps == ((0, 0, 0, 0), (0, 2, 0, 1), (2, 0, 1, 0), (2, 2, 1, 1))


@pytest.mark.parametrize("pads", [((0, 0), (0, 0)), ((1, 0), (0, 2)), ((2, 3), (1, 1))])
@pytest.mark.parametrize("value", [0.0, -np.inf, 7.5])
def test_pad_and_crop(pads: tuple, value: float) -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 2)).astype(np.float32)
    xp = pad_spatial(x, pads, value)
    (t, b), (l, r) = pads
    assert xp.shape == (2, 3 + t + b, 4 + l + r, 2) and xp.dtype == np.float32
    np.testing.assert_array_equal(crop_spatial(xp, pads, (3, 4)), x)
    ring = np.ones(xp.shape[1:3], dtype=bool)
    ring[t : t + 3, l : l + 4] = False
    assert np.all(xp[:, ring] == np.float32(value))
    if pads == ((0, 0), (0, 0)):
        assert xp is x  # nothing to pad: no copy


def test_crop_with_zero_padding_after_is_not_empty() -> None:
    # a[p:-p] would be empty for p == 0; crop_spatial uses explicit ends
    dxp = np.ones((1, 6, 6, 1))
    assert crop_spatial(dxp, ((1, 0), (2, 0)), (5, 4)).shape == (1, 5, 4, 1)


def test_caches_hand_out_their_geometry() -> None:
    x = np.zeros((2, 7, 6, 3))
    _, cache = convlib.conv2d_forward(
        x, np.zeros((3, 2, 3, 4)), None, stride=(2, 1), padding=((1, 0), (0, 2)), dilation=(1, 2)
    )
    assert cache.geometry == WindowGeometry(
        (2, 7, 6, 3), ((1, 0), (0, 2)), (3, 2), (2, 1), (1, 2), cache.out_shape[1:3]
    )
    assert cache.geometry.padded_shape == cache.x_padded.shape
    _, pcache = convlib.maxpool2d_forward(x, (3, 2), stride=2, padding="same")
    g = pcache.geometry
    assert (g.kernel_size, g.stride, g.dilation, g.pads) == ((3, 2), (2, 2), (1, 1), pcache.pads)
    assert g.out_hw == pcache.out_shape[1:3]
    assert g.phases == tap_phases((3, 2), 2)


@pytest.mark.parametrize(
    ("call", "exc", "pattern"),
    [
        (lambda: window_view(np.zeros((4, 4, 1)), 2), ValueError, r"x_padded.*4-D"),
        (lambda: window_view(np.zeros((1, 4, 4, 1), complex), 2), TypeError, r"x_padded"),
        (lambda: window_view(np.zeros((1, 4, 4, 1)), (2, 0)), ValueError, r"kernel_size\[1\]"),
        (
            lambda: window_view(np.zeros((1, 4, 4, 1)), 5),
            ValueError,
            r"does not fit.*\(1, 4, 4, 1\)",
        ),
        (lambda: window_view(np.zeros((1, 4, 4, 1)), 2, dilation=4), ValueError, r"dilation"),
        (lambda: window_view(np.zeros((1, 4, 4, 1)), 2, stride=1.0), TypeError, r"stride"),
        (lambda: tap_phases(2, 0), ValueError, r"stride"),
        (lambda: tap_phases((2, 2, 2), 1), ValueError, r"kernel_size"),
        (lambda: window_output_hw((3, 3), 4), ValueError, r"kernel"),
    ],
)
def test_bad_input(call: Any, exc: type[Exception], pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        call()


# ----------------------------------------------------------------------- argument checks (issue 10)
X4 = np.arange(2 * 5 * 5 * 3, dtype=np.float64).reshape(2, 5, 5, 3)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda: pad_spatial(X4, ((1, 1),)),
            ValueError,
            r"pads must be \(\(top, bottom\), \(left, right\)\)",
        ),
        (lambda: pad_spatial(X4, ((1, 1, 1), (1, 1))), ValueError, r"pads must be"),
        (lambda: pad_spatial(X4, (1, 1)), TypeError, r"pads must be .* got \(1, 1\)"),
        (lambda: pad_spatial(X4, ((1.0, 1), (1, 1))), TypeError, r"pads .*entry 1.0"),
        (lambda: pad_spatial(X4, ((True, 1), (1, 1))), TypeError, r"pads .*entry True"),
        (
            lambda: pad_spatial(X4, ((1, 1), (1, 1)), np.nan),
            ValueError,
            r"value must be a finite number, got nan",
        ),
        (lambda: pad_spatial(X4, ((1, 1), (1, 1)), "0"), TypeError, r"value must be a real number"),
        (
            lambda: pad_spatial(X4.astype(int), ((1, 1), (1, 1)), -np.inf),
            ValueError,
            r"value -inf cannot be stored in x of dtype int64",
        ),
        (lambda: pad_spatial("x", ((1, 1), (1, 1))), TypeError, r"x must hold real numbers"),
        (
            lambda: crop_spatial(X4, ((1, 1), (1, 1)), (3, 4)),
            ValueError,
            r"hw \(3, 4\) with pads \(\(1, 1\), \(1, 1\)\) describes a padded size of \(5, 6\), "
            r"but x_padded has shape \(2, 5, 5, 3\)",
        ),
        (
            lambda: crop_spatial(X4, ((0, 0), (-1, 0)), (5, 5)),
            ValueError,
            r"pads .*negative entry -1",
        ),
        (lambda: crop_spatial(X4, ((0, 0), (0, 0)), (0, 5)), ValueError, r"hw\[0\] must be >= 1"),
        (
            lambda: crop_spatial(X4[0], ((0, 0), (0, 0)), (5, 5)),
            ValueError,
            r"x_padded must be 4-D",
        ),
        (
            lambda: window_output_hw((5, 5), 3, dilation=3),
            ValueError,
            r"kernel_size \(3, 3\) with dilation \(3, 3\) spans \(7, 7\) pixels "
            r"and does not fit padded_hw \(5, 5\)",
        ),
        (lambda: window_output_hw((0, 5), 1), ValueError, r"padded_hw\[0\] must be >= 1"),
        (lambda: tap_slices(0, -2, (3, 3)), ValueError, r"q must be >= 0, got -2"),
        (lambda: tap_slices(0, 0, (0, 3)), ValueError, r"out_hw\[0\] must be >= 1"),
        (lambda: tap_slices(0.0, 0, (3, 3)), TypeError, r"p must be an integer"),
        (lambda: receptive_field(0, -1, 3), ValueError, r"j must be >= 0, got -1"),
        (lambda: receptive_field(0, True, 3), TypeError, r"j must be an integer"),
    ],
)
def test_window_helpers_refuse_bad_arguments(call: Any, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        call()


def test_window_helpers_accept_numpy_integers_and_lists() -> None:
    pads = [[np.int64(1), 0], np.array([0, 2])]
    xp = pad_spatial(X4, pads, np.float32(-1.5))
    assert xp.shape == (2, 6, 7, 3) and xp[0, 0, 0, 0] == -1.5
    np.testing.assert_array_equal(crop_spatial(xp, pads, np.array([5, 5])), X4)
    assert window_output_hw(np.array([5, 7]), np.int64(3)) == (3, 5)
    assert tap_slices(np.int64(1), np.int32(2), (3, 4), stride=2) == (
        slice(1, 6, 2),
        slice(2, 9, 2),
    )
    assert receptive_field(np.int64(1), 0, 3, stride=2, dilation=(1, 2)) == (
        slice(2, 5, 1),
        slice(0, 5, 2),
    )


def test_window_output_hw_matches_conv_output_size() -> None:
    for hp, k, s, d in [(28, 3, 1, 1), (28, 3, 2, 1), (9, 2, 3, 4), (5, 5, 1, 1), (7, 1, 7, 1)]:
        assert (
            window_output_hw((hp, hp), k, s, d) == (convlib.conv_output_size(hp, k, s, 0, d),) * 2
        )
