"""Tests for convlib.plotting.input_gradient_diagrams: each figure draws exactly the data it is given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from convlib.plotting.input_gradient_diagrams import (
    accuracy_curves_figure,
    adversarial_examples_figure,
    receptive_field_figure,
    saliency_figure,
)

RNG = np.random.default_rng(0)


def _image(ax):
    (im,) = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    return im


def test_saliency_figure_draws_images_then_each_map_on_its_own_scale():
    images = RNG.random((3, 5, 5, 1))
    raw, smooth = RNG.random((3, 5, 5)), 10 * RNG.random((3, 5, 5, 1))
    before = len(plt.get_fignums())
    fig = saliency_figure(images, {"raw": raw, "smooth": smooth}, ["a", "b", "c"])
    assert isinstance(fig, Figure) and len(plt.get_fignums()) == before
    axes = np.array(fig.axes).reshape(3, 3)
    for k in range(3):
        assert np.array_equal(_image(axes[0, k]).get_array(), images[k, ..., 0])
        assert axes[0, k].get_title() == "abc"[k]
        for r, maps in ((1, raw), (2, smooth[..., 0])):
            im = _image(axes[r, k])
            assert np.array_equal(im.get_array(), maps[k])
            assert im.get_clim() == (0, maps[k].max())
    assert [axes[r, 0].get_ylabel() for r in range(3)] == ["input", "raw", "smooth"]


def test_saliency_figure_refuses_signed_or_mismatched_maps():
    images = RNG.random((2, 4, 4))
    with pytest.raises(ValueError, match="non-negative"):
        saliency_figure(images, {"signed": RNG.standard_normal((2, 4, 4))})
    with pytest.raises(ValueError, match=r"\(2, 4, 4\)"):
        saliency_figure(images, {"small": RNG.random((2, 3, 3))})
    with pytest.raises(ValueError, match="titles"):
        saliency_figure(images, {"m": RNG.random((2, 4, 4))}, ["only one"])


def test_adversarial_examples_figure_draws_the_difference_on_a_symmetric_scale():
    clean = RNG.random((2, 6, 6))
    adv = clean + 0.1 * np.sign(RNG.standard_normal((2, 6, 6)))
    fig = adversarial_examples_figure(clean, adv, ["7", "2"], ["3", "8"])
    axes = np.array(fig.axes).reshape(3, 2)
    for k in range(2):
        assert np.array_equal(_image(axes[0, k]).get_array(), clean[k])
        diff = _image(axes[1, k])
        np.testing.assert_allclose(diff.get_array(), adv[k] - clean[k])
        lo, hi = diff.get_clim()
        assert lo == -hi and np.isclose(hi, 0.1)
        assert np.array_equal(_image(axes[2, k]).get_array(), adv[k])
    assert [ax.get_title() for ax in axes[2]] == ["3", "8"]
    with pytest.raises(ValueError, match="same shape"):
        adversarial_examples_figure(clean, adv[:1])


def test_receptive_field_figure_outlines_the_field_and_draws_its_profiles():
    field = np.zeros((10, 10))
    field[2:6, 3:8] = RNG.random((4, 5))
    predicted = np.array([0.1, 0.4, 0.4, 0.1])
    fig = receptive_field_figure(field, slice(2, 6), slice(3, 8), None)
    ax_map, ax_prof = fig.axes
    assert np.array_equal(_image(ax_map).get_array(), field)
    (rect,) = [p for p in ax_map.patches if isinstance(p, Rectangle)]
    assert rect.get_xy() == (2.5, 1.5) and (rect.get_width(), rect.get_height()) == (5, 4)
    heights = [p.get_height() for p in ax_prof.patches]
    window = field[2:6, 3:8]
    np.testing.assert_allclose(heights[:4], window.sum(axis=1) / window.sum())
    np.testing.assert_allclose(heights[4:], window.sum(axis=0) / window.sum())
    square = np.zeros((10, 10))
    square[2:6, 2:6] = 1.0
    fig = receptive_field_figure(square, slice(2, 6), slice(2, 6), predicted)
    (line,) = fig.axes[1].get_lines()
    np.testing.assert_array_equal(line.get_ydata(), predicted)
    with pytest.raises(ValueError, match=r"\(4,\)"):
        receptive_field_figure(square, slice(2, 6), slice(2, 6), predicted[:3])
    with pytest.raises(ValueError, match="non-negative"):
        receptive_field_figure(-square, slice(2, 6), slice(2, 6))


def test_accuracy_curves_figure_draws_one_line_per_curve_in_percent():
    eps = np.array([0.0, 0.1, 0.2])
    curves = {"plain": [0.99, 0.5, 0.1], "trained": [0.98, 0.8, 0.4]}
    fig = accuracy_curves_figure(eps, curves)
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["plain", "trained"]
    for ln, values in zip(lines, curves.values()):
        np.testing.assert_array_equal(ln.get_xdata(), eps)
        np.testing.assert_allclose(ln.get_ydata(), 100 * np.array(values))
    with pytest.raises(ValueError, match="shape of eps"):
        accuracy_curves_figure(eps, {"short": [0.9, 0.5]})
