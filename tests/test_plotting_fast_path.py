"""Tests of convlib.plotting.fast_path: the numbers drawn are the numbers computed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.patches import Rectangle

import convlib
from convlib.plotting.fast_path import (
    coverage_counts,
    coverage_figure,
    dilate_grid,
    dilated_dout_figure,
    gemm_figure,
    im2col_figure,
    im2col_rows,
    speedup_figure,
)


def _patches(ax, gid):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() == gid]


# --------------------------------------------------------------------------
# dilate_grid / dilated_dout_figure
# --------------------------------------------------------------------------


def test_dilate_grid_places_values_and_zeros():
    d = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    out = dilate_grid(d, (2, 3))
    assert out.shape == (3, 7)
    assert np.array_equal(out[::2, ::3], d)
    assert out.sum() == d.sum() and np.count_nonzero(out) == 6
    padded = dilate_grid(d, 2, size=(5, 6))
    assert padded.shape == (5, 6)
    assert np.array_equal(padded[:3, :5], dilate_grid(d, 2))
    assert not padded[3:].any() and not padded[:, 5:].any()


def test_dilate_grid_is_the_adjoint_of_subsampling():
    rng = np.random.default_rng(0)
    d = rng.standard_normal((3, 4))
    u = rng.standard_normal((7, 10))
    lhs = np.sum(dilate_grid(d, (3, 3), size=u.shape) * u)
    rhs = np.sum(d * u[::3, ::3][:3, :4])
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_dilated_dout_turns_strided_dw_into_stride_one():
    # dw of a stride-2 layer == dw of a stride-1 layer fed with the dilated dout.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 8, 8, 1))
    w = rng.standard_normal((3, 3, 1, 1))
    out, cache = convlib.conv2d_forward(x, w, None, stride=2)
    dout = rng.standard_normal(out.shape)
    dx, dw, _ = convlib.conv2d_backward(dout, cache)
    u = dilate_grid(dout[0, :, :, 0], 2, size=(6, 6))  # stride-1 output is 6x6
    _, cache1 = convlib.conv2d_forward(x, w, None, stride=1)
    dx1, dw1, _ = convlib.conv2d_backward(u[None, :, :, None], cache1)
    assert convlib.rel_error(dw, dw1) < 1e-12
    assert convlib.rel_error(dx, dx1) < 1e-12


def test_dilate_grid_rejects_bad_arguments():
    with pytest.raises(ValueError, match="too small"):
        dilate_grid(np.ones((2, 2)), 2, size=(2, 3))
    with pytest.raises(ValueError, match="stride"):
        dilate_grid(np.ones((2, 2)), 0)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        dilate_grid(np.ones((2, 2, 2)), 2)
    with pytest.raises(TypeError, match="stride"):
        dilate_grid(np.ones((2, 2)), 1.5)


def test_dilated_dout_figure_draws_both_grids():
    d = np.array([[1.0, -2.0], [3.0, 4.0]])
    fig = dilated_dout_figure(d, 2, size=(4, 4))
    ax1, ax2 = fig.axes
    assert np.array_equal(ax1.images[0].get_array(), d)
    assert np.array_equal(ax2.images[0].get_array(), dilate_grid(d, 2, size=(4, 4)))
    assert len(ax2.texts) == 16
    assert len(_patches(ax2, "highlight")) == 4  # the four original pixels
    grey = [t for t in ax2.texts if t.get_color() == "0.6"]
    assert len(grey) == 12 and all(t.get_text() == "0" for t in grey)


# --------------------------------------------------------------------------
# coverage_counts / coverage_figure
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "h, w, kernel, stride, padding, dilation",
    [
        (8, 8, 3, 2, 0, 1),
        (7, 9, (3, 2), (2, 3), "same", 1),
        (7, 7, 3, 1, "full", 2),
        (6, 5, 2, 1, ((0, 2), (1, 0)), (2, 1)),
        (9, 9, 3, 3, 1, 1),
    ],
)
def test_coverage_counts_equal_dx_of_ones(h, w, kernel, stride, padding, dilation):
    counts, pads = coverage_counts(h, w, kernel, stride, padding, dilation)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    (top, bottom), (left, right) = pads
    assert counts.shape == (h + top + bottom, w + left + right)
    x = np.zeros((1, h, w, 1))
    out, cache = convlib.conv2d_forward(
        x, np.ones((kh, kw, 1, 1)), None, stride=stride, padding=padding, dilation=dilation
    )
    assert cache.pads == pads
    dx, _, _ = convlib.conv2d_backward(np.ones(out.shape), cache)
    assert np.array_equal(counts[top : top + h, left : left + w], dx[0, :, :, 0])
    assert counts.sum() == out.size * kh * kw


def test_coverage_figure_marks_unvisited_pixels():
    fig = coverage_figure(8, 8, 3, stride=2)
    ax = fig.axes[0]
    counts, _ = coverage_counts(8, 8, 3, 2)
    assert np.array_equal(ax.images[0].get_array(), counts)
    # last row and column are never read: 8 + 8 - 1 pixels
    assert len(_patches(ax, "unvisited")) == 15 == int(np.sum(counts == 0))
    assert len(_patches(ax, "input")) == 1
    assert not _patches(ax, "padding")


def test_coverage_figure_with_padding_and_existing_axes():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    plt.close(fig)
    out = coverage_figure(5, 5, 3, 1, "same", title="same", ax=axes[1])
    assert out is fig
    ax = axes[1]
    assert ax.get_title() == "same"
    assert len(_patches(ax, "padding")) == 4
    assert not _patches(ax, "unvisited")
    rect = _patches(ax, "input")[0]
    assert (rect.get_x(), rect.get_y(), rect.get_width(), rect.get_height()) == (0.5, 0.5, 5, 5)


def test_coverage_rejects_kernel_too_large():
    with pytest.raises(ValueError, match="kernel"):
        coverage_counts(3, 3, 3, dilation=2)


# --------------------------------------------------------------------------
# im2col
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kernel, stride", [(2, 1), ((3, 2), 1), (2, 2), ((2, 3), (1, 2))])
def test_im2col_rows_match_convlib(kernel, stride):
    x = np.arange(30.0).reshape(5, 6)
    rows = im2col_rows(x, kernel, stride)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    cols = convlib.im2col(x[None, :, :, None], (kh, kw), stride)
    assert np.array_equal(rows, cols)
    # forward as a matrix product
    w = np.arange(1.0, kh * kw + 1).reshape(kh, kw)
    out, _ = convlib.conv2d_forward(x[None, :, :, None], w[:, :, None, None], None, stride=stride)
    assert np.allclose(rows @ w.ravel(), out.ravel())


def test_im2col_figure_draws_matrix_and_patches():
    x = np.arange(1.0, 17.0).reshape(4, 4)
    fig = im2col_figure(x, 2, highlight=[0, 4, 8])
    ax1, ax2 = fig.axes
    assert np.array_equal(ax1.images[0].get_array(), x)
    assert np.array_equal(ax2.images[0].get_array(), im2col_rows(x, 2))
    patches, rows = _patches(ax1, "patch"), _patches(ax2, "row")
    assert len(patches) == len(rows) == 3
    for patch, row in zip(patches, rows):
        assert patch.get_edgecolor() == row.get_edgecolor()
    # row 4 is output pixel (1, 1): its patch starts at input (1, 1)
    assert (patches[1].get_x() + 0.45, patches[1].get_y() + 0.45) == pytest.approx((1, 1))
    assert rows[1].get_y() + 0.45 == pytest.approx(4)
    labels = [t.get_text() for t in ax2.get_yticklabels()]
    assert labels[4] == "(1, 1)" and len(labels) == 9
    assert [t.get_text() for t in ax2.get_xticklabels()] == ["0,0", "0,1", "1,0", "1,1"]


def test_im2col_figure_rejects_bad_rows():
    with pytest.raises(ValueError, match="outside"):
        im2col_figure(np.ones((3, 3)), 2, highlight=[4])


# --------------------------------------------------------------------------
# gemm_figure / speedup_figure
# --------------------------------------------------------------------------


def test_gemm_figure_labels_every_matrix():
    fig = gemm_figure(1352, 9, 8)
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert len([p for p in ax.patches if isinstance(p, Rectangle)]) == 3
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert texts.count("1352×9") == 2 and texts.count("9×1352") == 1
    assert texts.count("1352×8") == 3 and "8×9" in texts and texts.count("9×8") == 2
    with pytest.raises(ValueError, match="k"):
        gemm_figure(10, 0, 3)


def test_speedup_figure_bar_heights_are_ratios():
    naive_f, fast_f = [1.0, 2.0], [0.01, 0.004]
    naive_b, fast_b = [3.0, 5.0], [0.02, 0.01]
    fig = speedup_figure(
        ["small", "large"], {"forward": (naive_f, fast_f), "forward + backward": (naive_b, fast_b)}
    )
    ax = fig.axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == pytest.approx([100, 500, 150, 500])
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["small", "large"]
    assert {t.get_text() for t in ax.texts} == {"×100", "×500", "×150"}


def test_speedup_figure_rejects_bad_timings():
    with pytest.raises(ValueError, match="2 naive"):
        speedup_figure(["a", "b"], {"forward": ([1.0], [1.0])})
    with pytest.raises(ValueError, match="positive"):
        speedup_figure(["a"], {"forward": ([1.0], [0.0])})
    with pytest.raises(ValueError, match="at least one"):
        speedup_figure(["a"], {})
