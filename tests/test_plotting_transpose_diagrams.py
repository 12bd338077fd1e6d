"""Tests of convlib.plotting.transpose_diagrams: the numbers drawn are the numbers computed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import convlib
from convlib.plotting.fast_path import coverage_counts
from convlib.plotting.transpose_diagrams import (
    coverage_maps_figure,
    decoder_figure,
    interior_ratio,
    scatter_figure,
    transpose_coverage,
)


@pytest.mark.parametrize(
    "args",
    [
        dict(h=4, w=5, kernel=3, stride=2),
        dict(h=4, w=4, kernel=4, stride=2, padding=1),
        dict(h=3, w=5, kernel=(3, 2), stride=(2, 3), padding="same", output_padding=(1, 0)),
        dict(h=3, w=3, kernel=3, stride=2, dilation=3, output_padding=2),
        dict(h=5, w=4, kernel=2, padding=((1, 0), (0, 1))),
    ],
)
def test_coverage_is_the_transposed_convolution_of_ones(args):
    counts = transpose_coverage(**args)
    h, w = args.pop("h"), args.pop("w")
    kernel = args.pop("kernel")
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    out, _ = convlib.conv_transpose2d_forward(
        np.ones((1, h, w, 1)), np.ones((kh, kw, 1, 1)), None, **args
    )
    np.testing.assert_array_equal(counts, out[0, :, :, 0])


def test_coverage_is_chapter_6s_map_cropped():
    """The transposed 3x3 stride-2 'same' layer 14 -> 28 against the 28 -> 14 convolution."""
    counts = transpose_coverage(14, 14, 3, stride=2, padding="same", output_padding=1)
    conv_counts, pads = coverage_counts(28, 28, 3, stride=2, padding="same")
    (top, _), (left, _) = pads
    np.testing.assert_array_equal(counts, conv_counts[top : top + 28, left : left + 28])


def test_interior_ratio_checkerboard_and_even():
    assert (
        interior_ratio(transpose_coverage(6, 6, 3, stride=2, padding=1, output_padding=1), 1) == 4.0
    )
    assert interior_ratio(transpose_coverage(6, 6, 4, stride=2, padding=1), 1) == 1.0
    with pytest.raises(ValueError, match="positive"):
        interior_ratio(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="non-empty"):
        interior_ratio(np.ones((3, 3)), 2)


def test_scatter_figure_stamps_sum_to_the_output():
    x, k = np.array([1.0, 2.0, -1.0]), np.array([1.0, 10.0, 100.0])
    fig, stamps = scatter_figure(x, k, stride=2)
    out = convlib.conv_transpose2d_forward(
        x.reshape(1, 1, 3, 1), k.reshape(1, 3, 1, 1), None, stride=2
    )[0]
    np.testing.assert_array_equal(stamps[-1], out.ravel())
    assert np.isnan(stamps[0, 3:]).all() and stamps[1, 2] == 2.0
    drawn = fig.axes[2].images[0].get_array()
    np.testing.assert_array_equal(drawn.filled(np.nan)[-1], stamps[-1])
    assert len(fig.axes) == 3


def test_coverage_maps_figure_titles_carry_the_ratio():
    maps = [transpose_coverage(5, 5, k, stride=2, padding=1, output_padding=k % 2) for k in (3, 4)]
    fig = coverage_maps_figure(maps, ["k3", "k4"], border=1)
    titles = [ax.get_title() for ax in fig.axes]
    assert "max/min = 4" in titles[0] and "max/min = 1" in titles[1]
    for ax, m in zip(fig.axes, maps):
        np.testing.assert_array_equal(ax.images[0].get_array(), m)
    with pytest.raises(ValueError, match="title"):
        coverage_maps_figure(maps, ["only one"])


def test_decoder_figure_shows_every_image():
    rng = np.random.default_rng(0)
    rows = [rng.random((3, 28, 28, 1)), rng.random((3, 28, 28))]
    fig = decoder_figure(rows, ["input", "output"])
    assert len(fig.axes) == 2
    strip = fig.axes[1].images[0].get_array()
    assert strip.shape == (28, 3 * 29 - 1)
    np.testing.assert_array_equal(strip[:, 29:57], rows[1][1])
    assert not strip[:, 28].any()  # the white separator
    with pytest.raises(ValueError, match="label"):
        decoder_figure(rows, ["one"])
    with pytest.raises(ValueError, match="shape"):
        decoder_figure([rows[0], rng.random((3, 7, 7))], ["a", "b"])
