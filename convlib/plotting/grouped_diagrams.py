"""Figures for grouped and depthwise convolution, drawn from real weights and counts.

* :func:`weight_matrix_by_channel` -- a convolution's weight matrix with its
  rows in channel-major ``(c, u, v)`` order, where groups show as blocks.
* :func:`grouped_weights_figure` -- the weight matrix of a grouped
  convolution (its ungrouped equivalent, :func:`convlib.grouping.ungrouped_weights`)
  with the groups' blocks outlined, and beside it a gradient of the same
  shape, with the same outlines.
* :func:`cost_figure` -- parameters and multiply-adds of several layers
  (:func:`convlib.arithmetic.conv_cost`), as bars on a log scale.

Every figure function returns its :class:`matplotlib.figure.Figure` already
closed in pyplot (see :func:`convlib.plotting.primitives.new_figure`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .._checks import as_groups, as_numeric_array, check_ndim, check_nonempty_mapping
from ..arithmetic import ConvCost
from .primitives import GRAD_CMAP, new_figure, series_color, symmetric_limit

__all__ = ["weight_matrix_by_channel", "grouped_weights_figure", "cost_figure"]


def weight_matrix_by_channel(w: Any) -> np.ndarray:
    """The weight matrix of a convolution, rows ordered by channel first.

    Parameters
    ----------
    w : array_like, shape (KH, KW, C, F)
        Ungrouped weights (for a grouped layer,
        :func:`convlib.grouping.ungrouped_weights`).

    Returns
    -------
    ndarray, shape (C * KH * KW, F)
        Row ``c * KH * KW + u * KW + v`` holds ``w[u, v, c, :]``: the rows of
        ``w.reshape(-1, F)`` (chapter 7's ``(u, v, c)`` order) permuted so that
        the ``KH * KW`` rows of one channel are consecutive.
    """
    w = as_numeric_array("w", w)
    check_ndim("w", w, 4, "(KH, KW, C, F)")
    return w.transpose(2, 0, 1, 3).reshape(-1, w.shape[3])


def _outline_blocks(ax: Any, rows: int, cols: int, groups: int) -> None:
    rg, cg = rows // groups, cols // groups
    for g in range(groups):
        ax.add_patch(
            Rectangle(
                (g * cg - 0.5, g * rg - 0.5),
                cg,
                rg,
                fill=False,
                edgecolor="black",
                linewidth=1.5,
                gid="group-block",
            )
        )


def grouped_weights_figure(
    w_full: Any,
    groups: int,
    other: Any = None,
    titles: tuple[str, str] = ("weights", "gradient"),
) -> Figure:
    """A grouped convolution's weight matrix, its groups outlined, and a second matrix.

    Parameters
    ----------
    w_full : array_like, shape (KH, KW, C, F)
        The ungrouped equivalent of the grouped weights, zero outside the
        groups (:func:`convlib.grouping.ungrouped_weights`).
    groups : int
        ``G``, dividing ``C`` and ``F``: the ``G`` diagonal blocks of
        ``(KH * KW * C / G) x (F / G)`` entries are outlined.
    other : array_like, shape (KH, KW, C, F), optional
        A second array drawn the same way, with the same outlines (a gradient,
        say).
    titles : (str, str)
        Panel titles.

    Returns
    -------
    Figure
        One or two panels: each matrix of :func:`weight_matrix_by_channel`,
        zero white, positive red, negative blue, on a scale symmetric around
        zero; blocks outlined in black (gid ``"group-block"``).
    """
    mats = [weight_matrix_by_channel(w_full)]
    if other is not None:
        other = as_numeric_array("other", other)
        if other.shape != np.shape(w_full):
            raise ValueError(
                f"other has shape {other.shape} but w_full has shape {np.shape(w_full)}"
            )
        mats.append(weight_matrix_by_channel(other))
    rows, cols = mats[0].shape
    groups = as_groups(groups, np.shape(w_full)[2], cols, f"w_full {np.shape(w_full)}")
    fig = new_figure(figsize=(2.2 + 2.4 * len(mats), 4.2), layout="constrained")
    axes = fig.subplots(1, len(mats), squeeze=False)[0]
    for ax, mat, title in zip(axes, mats, titles):
        lim = symmetric_limit(mat)
        image = ax.imshow(mat, cmap=GRAD_CMAP, vmin=-lim, vmax=lim, aspect="auto")
        image.set_gid("matrix")
        _outline_blocks(ax, rows, cols, groups)
        ax.set_title(title)
        ax.set_xlabel("filter $f$")
        ax.set_ylabel("row $(c, u, v)$")
    return fig


def cost_figure(costs: Mapping[str, ConvCost]) -> Figure:
    """Parameters and multiply-adds of several layers, side by side.

    Parameters
    ----------
    costs : mapping of str to ConvCost
        One entry per layer or block, e.g. ``{"full 3x3": conv_cost(...), ...}``
        (:func:`convlib.arithmetic.conv_cost`); the bars keep this order.

    Returns
    -------
    Figure
        Two panels of horizontal bars on a log scale, "parameters" and
        "multiply-adds per image", each bar labelled with its count (bars
        have gid ``"cost-bar"``).
    """
    costs = check_nonempty_mapping("costs", costs)
    names = list(costs)
    fig = new_figure(figsize=(8.5, 0.6 + 0.55 * len(names)), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, field, title in zip(
        axes, ("params", "mult_adds"), ("parameters", "multiply-adds per image")
    ):
        values = [int(getattr(costs[n], field)) for n in names]
        bars = ax.barh(names, values, color=[series_color(i) for i in range(len(names))])
        for bar, value in zip(bars, values):
            bar.set_gid("cost-bar")
            ax.annotate(
                f"{value:,}",
                (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.set_xscale("log")
        ax.set_xlim(min(values) / 2, max(values) * 8)
        ax.set_title(title)
    axes[0].invert_yaxis()
    return fig
