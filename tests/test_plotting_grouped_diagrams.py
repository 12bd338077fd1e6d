"""Tests for convlib.plotting.grouped_diagrams: the figures draw convlib's own weights and counts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from convlib import conv_cost
from convlib.grouping import ungrouped_weights
from convlib.plotting.grouped_diagrams import (
    cost_figure,
    grouped_weights_figure,
    weight_matrix_by_channel,
)


def test_weight_matrix_by_channel_orders_rows_channel_first():
    w = np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5)
    mat = weight_matrix_by_channel(w)
    assert mat.shape == (4 * 2 * 3, 5)
    for c in range(4):
        for u in range(2):
            for v in range(3):
                np.testing.assert_array_equal(mat[c * 6 + u * 3 + v], w[u, v, c])
    with pytest.raises(ValueError, match="w"):
        weight_matrix_by_channel(np.ones((3, 4, 5)))


def test_grouped_weights_are_block_diagonal_in_channel_order():
    w = np.random.default_rng(0).standard_normal((3, 3, 2, 6)) + 5.0  # no zero inside a block
    mat = weight_matrix_by_channel(ungrouped_weights(w, 3))
    blocks = np.kron(np.eye(3), np.ones((18, 2))).astype(bool)
    assert np.all(mat[blocks] != 0) and np.all(mat[~blocks] == 0)


def test_grouped_weights_figure_draws_the_matrices_and_one_outline_per_group():
    w = np.random.default_rng(1).standard_normal((2, 2, 2, 4))
    full = ungrouped_weights(w, 2)
    grad = np.random.default_rng(2).standard_normal(full.shape)
    fig = grouped_weights_figure(full, 2, grad, titles=("W", "dW"))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    for ax, expected in zip(fig.axes, (full, grad)):
        (image,) = [im for im in ax.get_images() if im.get_gid() == "matrix"]
        np.testing.assert_array_equal(image.get_array(), weight_matrix_by_channel(expected))
        outlines = [p for p in ax.patches if p.get_gid() == "group-block"]
        assert [(p.get_x(), p.get_y(), p.get_width(), p.get_height()) for p in outlines] == [
            (-0.5, -0.5, 2, 8),
            (1.5, 7.5, 2, 8),
        ]
    assert [ax.get_title() for ax in fig.axes] == ["W", "dW"]
    assert len(grouped_weights_figure(full, 4).axes) == 1  # depthwise-like outlines, one panel
    with pytest.raises(ValueError, match="groups=3"):
        grouped_weights_figure(full, 3)
    with pytest.raises(ValueError, match="other"):
        grouped_weights_figure(full, 2, grad[..., :2])


def test_cost_figure_draws_each_count():
    costs = {
        "full": conv_cost(8, 16, 3, 10),
        "depthwise": conv_cost(8, 8, 3, 10, groups=8),
        "pointwise": conv_cost(8, 16, 1, 10),
    }
    fig = cost_figure(costs)
    assert len(fig.axes) == 2
    for ax, field in zip(fig.axes, ("params", "mult_adds")):
        bars = [p for p in ax.patches if p.get_gid() == "cost-bar"]
        assert [b.get_width() for b in bars] == [getattr(c, field) for c in costs.values()]
        labels = [t.get_text() for t in ax.texts]
        assert labels == [f"{getattr(c, field):,}" for c in costs.values()]
        assert ax.get_xscale() == "log"
    with pytest.raises(ValueError):
        cost_figure({})
