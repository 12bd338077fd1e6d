"""Figures of the chapter on transposed convolution.

* :func:`transpose_coverage` -- how many (input pixel, kernel tap) pairs land
  on each output pixel of a transposed convolution: chapter 6's coverage map
  of the convolution it transposes, with the padding cropped.
* :func:`interior_ratio` -- largest over smallest value away from the
  border: 1 for an even coverage, 4 for the checkerboard of a 3x3 kernel with
  stride 2.
* :func:`scatter_figure` -- a 1-D transposed convolution drawn as what it
  computes: each input pixel stamps a scaled copy of the kernel, ``stride``
  apart, and the stamps add up.
* :func:`coverage_maps_figure` -- coverage maps side by side (the
  checkerboard of uneven overlap next to an even one).
* :func:`decoder_figure` -- a decoder's inputs, outputs and targets as rows
  of images.

:func:`transpose_coverage` computes with plain loops, independently of
:mod:`convlib.conv_transpose`, so the tests and the chapter can hold the
package against it. Every figure function returns its
:class:`matplotlib.figure.Figure` already closed in pyplot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .._checks import as_int, as_numeric_array, as_pair, check_ndim
from ..arithmetic import resolve_transpose_padding
from .primitives import INPUT_CMAP, KERNEL_CMAP, OUTPUT_CMAP, draw_array, new_figure

__all__ = [
    "transpose_coverage",
    "interior_ratio",
    "scatter_figure",
    "coverage_maps_figure",
    "decoder_figure",
]


def transpose_coverage(
    h: int,
    w: int,
    kernel: Any,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
) -> np.ndarray:
    """How many (input pixel, tap) pairs of a transposed convolution reach each output pixel.

    With an all-ones input and an all-ones single-channel kernel, the
    transposed convolution's output equals these counts.

    Parameters
    ----------
    h, w : int
        The transposed convolution's input height and width.
    kernel, stride, dilation : int or (int, int)
    padding, output_padding
        As for :func:`convlib.conv_transpose2d_forward`.

    Returns
    -------
    ndarray of int, shape (OH, OW)
        The transposed convolution's output size.
    """
    h, w = as_int("h", h, 1), as_int("w", w, 1)
    kh, kw = as_pair("kernel", kernel, 1)
    sh, sw = as_pair("stride", stride, 1)
    dh, dw = as_pair("dilation", dilation, 1)
    pads, (oh, ow) = resolve_transpose_padding(
        padding, (h, w), (kh, kw), (sh, sw), (dh, dw), output_padding
    )
    (top, _), (left, _) = pads
    counts = np.zeros((oh, ow), dtype=int)
    for ii in range(h):  # input pixel (i', j')
        for jj in range(w):
            for u in range(kh):  # kernel tap (u, v)
                for v in range(kw):
                    r, c = ii * sh + u * dh - top, jj * sw + v * dw - left
                    if 0 <= r < oh and 0 <= c < ow:
                        counts[r, c] += 1
    return counts


def interior_ratio(values: Any, border: Any = 0) -> float:
    """``max / min`` of a 2-D array with ``border`` rows and columns cut off each side.

    Parameters
    ----------
    values : array_like, shape (H, W)
        Positive numbers, e.g. a coverage map.
    border : int or (int, int)

    Returns
    -------
    float
        1.0 for an even map; a checkerboard of 1s, 2s and 4s gives 4.0.
    """
    values = as_numeric_array("values", values)
    check_ndim("values", values, 2, "(H, W)")
    bh, bw = as_pair("border", border, 0)
    inner = values[bh : values.shape[0] - bh, bw : values.shape[1] - bw]
    if inner.size == 0 or np.min(inner) <= 0:
        raise ValueError(
            f"values {values.shape} with border {(bh, bw)}: the interior must be non-empty "
            f"and positive"
        )
    return float(np.max(inner) / np.min(inner))


def scatter_figure(
    x: Any, kernel: Any, stride: int = 1, *, title: str | None = None
) -> tuple[Figure, np.ndarray]:
    """A 1-D transposed convolution (no padding) as a stack of stamps and their sum.

    Row ``i'`` of the grid holds ``x[i'] * kernel`` placed at positions
    ``i' * stride, ..., i' * stride + KW - 1``; the last row is their sum,
    the output.

    Parameters
    ----------
    x : array_like, shape (W,)
    kernel : array_like, shape (KW,)
    stride : int

    Returns
    -------
    fig : matplotlib.figure.Figure
        Three axes: the input, the kernel, the stamps with their sum.
    stamps : ndarray, shape (W + 1, (W - 1) * stride + KW)
        The numbers in the grid (empty cells are NaN); the last row is the output.
    """
    x = as_numeric_array("x", x).astype(float)
    kernel = as_numeric_array("kernel", kernel).astype(float)
    check_ndim("x", x, 1, "(W,)")
    check_ndim("kernel", kernel, 1, "(KW,)")
    stride = as_int("stride", stride, 1)
    n, k = x.size, kernel.size
    width = (n - 1) * stride + k
    stamps = np.full((n + 1, width), np.nan)
    for ii in range(n):
        stamps[ii, ii * stride : ii * stride + k] = x[ii] * kernel
    stamps[n] = np.nansum(stamps[:n], axis=0)
    fig = new_figure(figsize=(1.2 + 0.55 * width, 1.6 + 0.45 * (n + 3)), dpi=100)
    grid = fig.add_gridspec(2, 2, height_ratios=[1, n + 1], width_ratios=[max(n, 1), max(k, 1)])
    ax_x, ax_k, ax_s = (
        fig.add_subplot(grid[0, 0]),
        fig.add_subplot(grid[0, 1]),
        fig.add_subplot(grid[1, :]),
    )
    draw_array(ax_x, x, cmap=INPUT_CMAP, title="input x")
    draw_array(ax_k, kernel, cmap=KERNEL_CMAP, title="kernel")
    draw_array(
        ax_s,
        stamps,
        cmap=OUTPUT_CMAP,
        highlight=[(n, c) for c in range(width)],
        title=title or f"stamps x[i'] · kernel, {stride} apart; last row: their sum",
    )
    for r, label in enumerate([f"x[{i}] ·" for i in range(n)] + ["sum"]):
        ax_s.text(-0.7, r, label, ha="right", va="center", fontsize=9)
    return fig, stamps


def coverage_maps_figure(maps: Sequence[Any], titles: Sequence[str], *, border: int = 0) -> Figure:
    """Coverage maps side by side, each titled with its interior ``max / min`` ratio.

    Parameters
    ----------
    maps : sequence of array_like, each (H, W)
        E.g. :func:`transpose_coverage` of several kernels.
    titles : sequence of str, one per map
    border : int
        Rows and columns at each side left out of the ratio.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per map, its image holding the map.
    """
    arrays = [as_numeric_array(f"maps[{i}]", m) for i, m in enumerate(maps)]
    if len(arrays) != len(titles) or not arrays:
        raise ValueError(f"need one title per map, got {len(arrays)} maps and {len(titles)} titles")
    wmax = max(a.shape[1] for a in arrays)
    hmax = max(a.shape[0] for a in arrays)
    fig = new_figure(figsize=(0.5 + 0.32 * wmax * len(arrays), 0.9 + 0.32 * hmax), dpi=100)
    axes = fig.subplots(1, len(arrays), squeeze=False)[0]
    vmax = max(float(a.max()) for a in arrays)
    for ax, a, t in zip(axes, arrays, titles):
        ratio = interior_ratio(a, border)
        draw_array(
            ax,
            a,
            cmap="Purples",
            vmin=0,
            vmax=vmax,
            fontsize=7,
            title=f"{t}\ninterior max/min = {ratio:g}",
        )
    return fig


def decoder_figure(rows: Sequence[Any], labels: Sequence[str]) -> Figure:
    """Rows of grey-scale images: e.g. a decoder's inputs, outputs and targets.

    Each row is one axes showing its ``M`` images side by side, separated by
    a white column, in grey levels from 0 (white) to 1 (black).

    Parameters
    ----------
    rows : sequence of array_like, each (M, H, W) or (M, H, W, 1)
        ``M`` images per row, the same ``M`` and ``(H, W)`` in every row.
    labels : sequence of str, one per row

    Returns
    -------
    matplotlib.figure.Figure
        One axes per row; its image is the row's images joined left to right.
    """
    arrays = []
    for i, r in enumerate(rows):
        a = as_numeric_array(f"rows[{i}]", r)
        if a.ndim == 4 and a.shape[3] == 1:
            a = a[..., 0]
        check_ndim(f"rows[{i}]", a, 3, "(M, H, W)")
        arrays.append(a.astype(float))
    if not arrays or len(labels) != len(arrays) or len({a.shape for a in arrays}) != 1:
        raise ValueError(
            "need one label per row and rows of the same shape (M, H, W), got "
            f"{len(labels)} labels for rows of shapes {[a.shape for a in arrays]}"
        )
    m, h, w = arrays[0].shape
    fig = new_figure(
        figsize=(1.2 + 0.04 * m * (w + 1), 0.2 + 0.045 * len(arrays) * (h + 4)), dpi=100
    )
    axes = fig.subplots(len(arrays), 1, squeeze=False)[:, 0]
    for ax, a, label in zip(axes, arrays, labels):
        strip = np.zeros((h, m * (w + 1) - 1))
        for c in range(m):
            strip[:, c * (w + 1) : c * (w + 1) + w] = a[c]
        ax.imshow(strip, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    return fig
