"""Figures of the input-gradient chapter: saliency maps, receptive fields, adversarial examples.

Every figure draws arrays computed by :mod:`convlib.attribution` in the
chapter, unchanged except for the colour scale it says it uses:

* :func:`saliency_figure` -- digits in the first row, one row per map below
  (the raw gradient's magnitude, SmoothGrad's), each map on its own scale
  from 0 to its largest value.
* :func:`receptive_field_figure` -- the mean gradient magnitude of one unit
  over the input with the theoretical receptive field outlined, and its
  row and column profiles next to a predicted profile.
* :func:`adversarial_examples_figure` -- clean digits, the perturbations the
  fast gradient sign method added, and the perturbed digits, each with its
  title (e.g. the prediction).
* :func:`accuracy_curves_figure` -- accuracy against the perturbation size,
  one line per model or attack.

Every function returns its :class:`matplotlib.figure.Figure` already closed
in pyplot (see :mod:`convlib.plotting.capstone_diagrams`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .._checks import as_numeric_array, check_ndim
from .primitives import GRAD_CMAP, new_figure as _new_figure, series_color, symmetric_limit

__all__ = [
    "saliency_figure",
    "receptive_field_figure",
    "adversarial_examples_figure",
    "accuracy_curves_figure",
]

#: Colour map of gradient magnitudes (0 white, largest dark).
MAGNITUDE_CMAP = "magma_r"


def _images(name: str, images: Any) -> np.ndarray:
    """``images`` as ``(N, H, W)``; a trailing channel axis of size 1 is dropped."""
    arr = as_numeric_array(name, images)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    check_ndim(name, arr, 3, "(N, H, W) or (N, H, W, 1)")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one image, got shape {arr.shape}")
    return arr


def _titles(name: str, titles: Sequence[str] | None, n: int) -> list[str]:
    if titles is None:
        return [""] * n
    titles = list(titles)
    if len(titles) != n:
        raise ValueError(f"{name} must give one title per image ({n}), got {len(titles)}")
    return [str(t) for t in titles]


def _grid(
    rows: list[tuple[str, np.ndarray, str, str]], titles: list[list[str]], panel: float
) -> Figure:
    """One row of image panels per ``(label, images, cmap, scale)``; scale "own", "symmetric", "image"."""
    n = rows[0][1].shape[0]
    fig = _new_figure(figsize=(panel * n + 0.9, panel * len(rows) + 0.35 * len(rows)))
    axes = fig.subplots(len(rows), n, squeeze=False)
    for r, (label, images, cmap, scale) in enumerate(rows):
        limit = symmetric_limit(images)
        for k in range(n):
            ax = axes[r, k]
            img = images[k]
            if scale == "own":
                ax.imshow(img, cmap=cmap, vmin=0, vmax=float(img.max()) or 1.0)
            elif scale == "symmetric":
                ax.imshow(img, cmap=cmap, vmin=-limit, vmax=limit)
            else:
                ax.imshow(img, cmap=cmap)
            ax.set_xticks([])
            ax.set_yticks([])
            if titles[r][k]:
                ax.set_title(titles[r][k], fontsize=8)
        axes[r, 0].set_ylabel(label, fontsize=9)
    fig.tight_layout()
    return fig


def saliency_figure(
    images: Any,
    maps: Mapping[str, Any],
    titles: Sequence[str] | None = None,
    *,
    panel: float = 1.1,
) -> Figure:
    """Digits in the first row; below, one row per saliency map, each map on its own scale.

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, H, W, 1)
        The inputs, drawn in grey (``gray_r``: dark is ink).
    maps : mapping of str to array_like, shape (N, H, W) or (N, H, W, 1)
        Row label -> non-negative maps (e.g. ``abs(score_gradient(...))``),
        drawn from white (0) to dark (the map's own largest value).
    titles : sequence of str, optional
        One title per image, above the first row.
    panel : float
        Size of one panel in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    imgs = _images("images", images)
    if not maps:
        raise ValueError("maps must hold at least one row of maps")
    rows = [("input", imgs, "gray_r", "image")]
    for label, values in maps.items():
        arr = _images(f"maps[{label!r}]", values)
        if arr.shape != imgs.shape:
            raise ValueError(
                f"maps[{label!r}] must have the shape of images, {imgs.shape}, got {arr.shape}"
            )
        if (arr < 0).any():
            raise ValueError(
                f"maps[{label!r}] must be non-negative (magnitudes); take np.abs first"
            )
        rows.append((str(label), arr, MAGNITUDE_CMAP, "own"))
    n = imgs.shape[0]
    return _grid(rows, [_titles("titles", titles, n)] + [[""] * n] * (len(rows) - 1), panel)


def adversarial_examples_figure(
    clean: Any,
    adversarial: Any,
    clean_titles: Sequence[str] | None = None,
    adversarial_titles: Sequence[str] | None = None,
    *,
    panel: float = 1.1,
) -> Figure:
    """Clean digits, the perturbation ``adversarial - clean``, and the perturbed digits.

    The perturbation row uses a diverging colour map centred on 0 (red:
    brighter, blue: darker) on one scale for all panels.

    Parameters
    ----------
    clean, adversarial : array_like, shape (N, H, W) or (N, H, W, 1)
    clean_titles, adversarial_titles : sequence of str, optional
        One title per image (e.g. the predicted class and its probability).
    panel : float

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = _images("clean", clean)
    x_adv = _images("adversarial", adversarial)
    if x.shape != x_adv.shape:
        raise ValueError(
            f"clean and adversarial must have the same shape, got {x.shape} and {x_adv.shape}"
        )
    n = x.shape[0]
    rows = [
        ("clean", x, "gray_r", "image"),
        ("perturbation", x_adv - x, GRAD_CMAP, "symmetric"),
        ("perturbed", x_adv, "gray_r", "image"),
    ]
    titles = [
        _titles("clean_titles", clean_titles, n),
        [""] * n,
        _titles("adversarial_titles", adversarial_titles, n),
    ]
    return _grid(rows, titles, panel)


def receptive_field_figure(
    field: Any,
    rows: slice,
    cols: slice,
    predicted: Any | None = None,
    *,
    title: str = "",
) -> Figure:
    """A unit's mean gradient magnitude over the input, its theoretical field, and its profiles.

    Left: ``field`` from white (0) to dark, with the theoretical receptive
    field ``field[rows, cols]`` outlined. Right: the share of the field's
    total in each row and in each column of that window (bars), and, if
    given, a predicted share per row/column (a line).

    Parameters
    ----------
    field : array_like, shape (H, W)
        Non-negative, e.g. the mean of ``abs(unit_gradient(...))`` over many
        inputs.
    rows, cols : slice
        The theoretical receptive field (:func:`convlib.attribution.unit_receptive_field`).
    predicted : array_like, shape (rows.stop - rows.start,), optional
        Predicted share per row of the window (and per column: the same
        profile), summing to 1.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    arr = as_numeric_array("field", field)
    check_ndim("field", arr, 2, "(H, W)")
    if (arr < 0).any():
        raise ValueError("field must be non-negative (magnitudes); take np.abs first")
    if not isinstance(rows, slice) or not isinstance(cols, slice):
        raise TypeError("rows and cols must be slices, as unit_receptive_field returns them")
    window = arr[rows, cols]
    if window.size == 0:
        raise ValueError(f"rows {rows} and cols {cols} select nothing of field, shape {arr.shape}")
    fig = _new_figure(figsize=(8.4, 3.4))
    ax_map, ax_prof = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    ax_map.imshow(arr, cmap=MAGNITUDE_CMAP, vmin=0)
    h, w = window.shape
    ax_map.add_patch(
        Rectangle(
            (cols.start - 0.5, rows.start - 0.5),
            w,
            h,
            fill=False,
            edgecolor=series_color(1),
            linewidth=1.5,
            label="theoretical field",
        )
    )
    ax_map.set_title(title or "mean |gradient| over the input", fontsize=9)
    ax_map.legend(loc="lower left", fontsize=7)
    total = window.sum() or 1.0
    row_share, col_share = window.sum(axis=1) / total, window.sum(axis=0) / total
    offsets = np.arange(max(h, w))
    ax_prof.bar(offsets[:h] - 0.2, row_share, width=0.4, color=series_color(0), label="rows")
    ax_prof.bar(offsets[:w] + 0.2, col_share, width=0.4, color=series_color(2), label="columns")
    if predicted is not None:
        pred = as_numeric_array("predicted", predicted)
        if pred.shape != (h,):
            raise ValueError(
                f"predicted must have shape ({h},), one share per row, got {pred.shape}"
            )
        ax_prof.plot(offsets[:h], pred, "o-", color=series_color(1), label="predicted")
    ax_prof.set_xlabel("row / column within the theoretical field")
    ax_prof.set_ylabel("share of the total")
    ax_prof.legend(fontsize=8)
    fig.tight_layout()
    return fig


def accuracy_curves_figure(
    eps: Any,
    curves: Mapping[str, Any],
    *,
    xlabel: str = "perturbation size (grey levels, 1 = black to white)",
    title: str = "",
) -> Figure:
    """Accuracy against the perturbation size, one line per model or attack.

    Parameters
    ----------
    eps : array_like, shape (E,)
        The perturbation sizes, increasing.
    curves : mapping of str to array_like, shape (E,)
        Label -> accuracy in [0, 1] at each size.
    xlabel, title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = as_numeric_array("eps", eps)
    check_ndim("eps", x, 1, "(E,)")
    if not curves:
        raise ValueError("curves must hold at least one curve")
    fig = _new_figure(figsize=(5.6, 3.4))
    ax = fig.subplots()
    for k, (label, values) in enumerate(curves.items()):
        y = as_numeric_array(f"curves[{label!r}]", values)
        if y.shape != x.shape:
            raise ValueError(
                f"curves[{label!r}] must have the shape of eps, {x.shape}, got {y.shape}"
            )
        ax.plot(x, 100 * y, "o-", color=series_color(k), label=str(label))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
