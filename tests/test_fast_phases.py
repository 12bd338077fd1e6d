"""Tests of convlib.fast.phases: the stride-phase scatter and gather of the tuned tier.

The scatter is held against ``np.add.at`` on the defining formula (tap
``(p, q)`` of output ``(i, j)`` reads padded pixel ``(i*sh + p*dh, j*sw + q*dw)``),
the gather against :func:`convlib.windows.window_view`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from convlib.fast.phases import phase_scatter, phase_window_views, pixel_view
from convlib.fast.workspace import _buffers
from convlib.windows import WindowGeometry, window_view


@st.composite
def scatter_cases(draw: Any) -> tuple[WindowGeometry, int]:
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    hp, wp = h + sum(pads[0]), w + sum(pads[1])
    kh = draw(st.integers(1, (hp - 1) // dilation[0] + 1))
    kw = draw(st.integers(1, (wp - 1) // dilation[1] + 1))
    oh = (hp - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wp - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    geometry = WindowGeometry((n, h, w, c), pads, (kh, kw), stride, dilation, (oh, ow))
    return geometry, draw(st.integers(0, 2**32 - 1))


def reference_scatter(grads: np.ndarray, g: WindowGeometry) -> np.ndarray:
    """``grads[p, q]`` of shape (N, OH, OW, C) added onto the pixels tap (p, q) read."""
    _, h, w, _ = g.x_shape
    (top, _), (left, _) = g.pads
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = g.kernel_size, g.stride, g.dilation, g.out_hw
    dxp = np.zeros(g.padded_shape)
    i, j = np.arange(oh), np.arange(ow)
    for p in range(kh):
        for q in range(kw):
            rows = (i * sh + p * dh)[:, None]
            cols = (j * sw + q * dw)[None, :]
            np.add.at(dxp, (slice(None), rows, cols), grads[p, q])
    return dxp[:, top : top + h, left : left + w, :]


@pytest.mark.parametrize("channel_major", [False, True])
@settings(max_examples=200, deadline=None)
@given(case=scatter_cases())
def test_phase_scatter_matches_add_at(channel_major: bool, case: tuple) -> None:
    g, seed = case
    n, _, _, c = g.x_shape
    (kh, kw), (oh, ow) = g.kernel_size, g.out_hw
    grads = np.random.default_rng(seed).standard_normal((kh, kw, n, oh, ow, c))
    buffer = np.empty((c, n, oh, ow) if channel_major else (n, oh, ow, c))

    def tap_grad(p: int, q: int) -> np.ndarray:
        # like the tuned conv: the same buffer every call, consumed before the next
        buffer[...] = grads[p, q].transpose(3, 0, 1, 2) if channel_major else grads[p, q]
        return buffer

    dx = phase_scatter(tap_grad, g, np.dtype(np.float64), channel_major=channel_major)
    assert dx.shape == g.x_shape and dx.dtype == np.float64
    np.testing.assert_allclose(dx, reference_scatter(grads, g), rtol=1e-13, atol=1e-13)
    assert not any(np.shares_memory(dx, buf) for buf in _buffers())


def test_phase_scatter_float32_and_unread_pixels() -> None:
    # 2x2 window, stride 3 on 7x8: rows 2 and 5 and columns 2 and 5 are read by no window
    g = WindowGeometry((1, 7, 8, 2), ((0, 0), (0, 0)), (2, 2), (3, 3), (1, 1), (2, 3))
    ones = np.ones((1, 2, 3, 2), dtype=np.float32)
    dx = phase_scatter(lambda p, q: ones, g, np.dtype(np.float32))
    assert dx.dtype == np.float32
    read = np.zeros((7, 8), dtype=bool)
    read[np.ix_([0, 1, 3, 4], [0, 1, 3, 4, 6, 7])] = True
    np.testing.assert_array_equal(dx[0, :, :, 0], read.astype(np.float32))


@settings(max_examples=150, deadline=None)
@given(case=scatter_cases())
def test_phase_window_views_are_the_taps_of_window_view(case: tuple) -> None:
    g, seed = case
    xp = np.random.default_rng(seed).standard_normal(g.padded_shape)
    views = phase_window_views(xp, g)
    ref = window_view(xp, g.kernel_size, g.stride, g.dilation)
    kh, kw = g.kernel_size
    assert len(views) == kh * kw
    for p in range(kh):
        for q in range(kw):
            np.testing.assert_array_equal(views[p * kw + q], ref[:, :, :, p, q, :])


def test_pixel_view_writes_through_and_copies_only_strided_channels() -> None:
    a = np.zeros((2, 3, 4))
    v = pixel_view(a)
    assert v.shape == (2, 3) and np.shares_memory(v, a)
    v[1, 2] = pixel_view(np.arange(4.0)[None])[0]
    np.testing.assert_array_equal(a[1, 2], [0, 1, 2, 3])
    strided = np.zeros((4, 3, 2)).transpose(2, 1, 0)  # channel axis not contiguous
    assert not np.shares_memory(pixel_view(strided), strided)


# ----------------------------------------------------------------------- argument checks (issue 10)
GEOMETRY = WindowGeometry(
    x_shape=(1, 5, 5, 2),
    pads=((1, 0), (0, 1)),
    kernel_size=(2, 2),
    stride=(2, 2),
    dilation=(1, 1),
    out_hw=(3, 3),
)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda: phase_window_views(np.ones((1, 6, 6, 2)), "geometry"),
            TypeError,
            r"geometry must be a WindowGeometry \(the cache.geometry of a convolution or pooling "
            r"forward pass\), got str",
        ),
        (
            lambda: phase_window_views(np.ones((1, 5, 5, 2)), GEOMETRY),
            ValueError,
            r"x_padded has shape \(1, 5, 5, 2\) but geometry describes a padded input "
            r"of shape \(1, 6, 6, 2\)",
        ),
        (
            lambda: phase_window_views(np.ones((6, 6, 2)), GEOMETRY),
            ValueError,
            r"x_padded must be 4-D",
        ),
        (lambda: phase_window_views("x", GEOMETRY), TypeError, r"x_padded must hold real numbers"),
        (lambda: phase_scatter(3, GEOMETRY, np.float64), TypeError, r"tap_grad must be callable"),
        (
            lambda: phase_scatter(lambda p, q: None, None, np.float64),
            TypeError,
            r"geometry must be a WindowGeometry",
        ),
        (
            lambda: phase_scatter(lambda p, q: None, GEOMETRY, np.int32),
            TypeError,
            r"dtype must be a floating-point NumPy dtype, got <class 'numpy.int32'>",
        ),
        (
            lambda: phase_scatter(lambda p, q: None, GEOMETRY, np.float64, channel_major=1),
            TypeError,
            r"channel_major must be a bool",
        ),
    ],
)
def test_phase_functions_refuse_bad_arguments(call: Any, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        call()


def test_the_tuned_tier_calls_the_unchecked_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks run once, in the public entry points: never per call inside the tuned tier."""
    import sys

    import convlib
    from convlib import windows
    from convlib.fast import phases, workspace

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a checked public helper ran inside the tuned tier")

    checked = [
        windows.pad_spatial,
        windows.crop_spatial,
        phases.phase_scatter,
        phases.phase_window_views,
        workspace.scratch,
    ]
    patched = 0
    for module in [m for name, m in sys.modules.items() if name.startswith("convlib")]:
        for fn in checked:  # wherever a module imported it, under its own name
            if getattr(module, fn.__name__, None) is fn:
                monkeypatch.setattr(module, fn.__name__, refuse)
                patched += 1
    assert patched >= len(checked)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 9, 3))
    for stride, channels in [(1, 3), (2, 3), (2, 1)]:
        xc = x[..., :channels]
        out, cache = convlib.conv2d_forward(
            xc, rng.standard_normal((3, 3, channels, 4)), np.zeros(4), stride=stride, padding="same"
        )
        convlib.conv2d_backward(np.ones_like(out), cache)
    for forward, backward in [
        (convlib.maxpool2d_forward, convlib.maxpool2d_backward),
        (convlib.avgpool2d_forward, convlib.avgpool2d_backward),
    ]:
        for stride in (1, 2):
            out, cache = forward(x, 3, stride=stride, padding="same")
            backward(np.ones_like(out), cache)
