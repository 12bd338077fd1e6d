"""Figures of the capstone chapter: a CNN trained on MNIST, and what it learned.

Every figure draws numbers computed elsewhere -- by :func:`convlib.loop.fit`,
by the trained model's layers, or by NumPy in the chapter -- and draws them
unchanged:

* :func:`image_grid_figure` -- a grid of grey-scale images with a title
  each: sample digits with their labels, or the test images the network got
  most confidently wrong.
* :func:`training_curves_figure` -- loss and accuracy per epoch, training
  and test, from a :class:`convlib.loop.History`.
* :func:`filters_figure` -- single-channel convolution filters (the first
  layer's), set by set, e.g. before and after training.
* :func:`confusion_matrix_figure` -- a confusion matrix with its counts.

Feature maps are drawn by :func:`convlib.plotting.feature_maps.feature_maps_figure`.

Every function returns its :class:`matplotlib.figure.Figure` already closed in
pyplot: show it as the last expression of a notebook cell; it is never shown
twice and never accumulates in pyplot's list of open figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from .._checks import as_int, as_numeric_array, check_ndim
from .primitives import new_figure as _new_figure

__all__ = [
    "image_grid_figure",
    "training_curves_figure",
    "filters_figure",
    "confusion_matrix_figure",
]

#: Colours of the training and the test curves.
TRAIN_COLOR = "#1f4e79"
TEST_COLOR = "#c55a11"


def _images(name: str, images: Any) -> np.ndarray:
    """``images`` as ``(N, H, W)``; a trailing channel axis of size 1 is dropped."""
    arr = as_numeric_array(name, images)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    check_ndim(name, arr, 3, "(N, H, W) or (N, H, W, 1)")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one image, got shape {arr.shape}")
    return arr


# --------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------


def image_grid_figure(
    images: Any,
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 8,
    cmap: str = "gray_r",
    title_colors: Sequence[Any] | None = None,
    suptitle: str | None = None,
    panel: float = 1.0,
    fontsize: float = 9,
    dpi: float = 100,
) -> Figure:
    """Grey-scale images in a grid, each under its own title.

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, H, W, 1)
        Drawn in order, row by row, each on its own data range.
    titles : sequence of str, optional
        ``N`` titles (may contain ``"\\n"``); default: none.
    ncols : int
        Images per row.
    cmap : str
        Colour map; the default ``"gray_r"`` draws MNIST's ink (large
        values) black on white.
    title_colors : sequence of colour, optional
        ``N`` colours for the titles (default black).
    suptitle : str, optional
        A title over the whole grid.
    panel : float
        Side of one image in inches.
    fontsize : float
        Of the titles.
    dpi : float

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per image, in order, each holding one image of the data
        unchanged; unused grid cells are removed.
    """
    imgs = _images("images", images)
    n = imgs.shape[0]
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles has {len(titles)} entries for {n} images (images {imgs.shape})")
    if title_colors is not None and len(title_colors) != n:
        raise ValueError(f"title_colors has {len(title_colors)} entries for {n} images")
    ncols = min(as_int("ncols", ncols, 1), n)
    nrows = math.ceil(n / ncols)
    extra = 0.3 * fontsize / 9 * (max(t.count("\n") for t in titles) + 1) if titles else 0.0
    fig = _new_figure(
        figsize=(ncols * panel, nrows * (panel + extra) + (0.35 if suptitle else 0.0)),
        dpi=dpi,
        layout="constrained",
    )
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        if k >= n:
            ax.remove()
            continue
        ax.imshow(imgs[k], cmap=cmap, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            color = "black" if title_colors is None else title_colors[k]
            ax.set_title(titles[k], fontsize=fontsize, color=color)
    if suptitle:
        fig.suptitle(suptitle, fontsize=fontsize + 1)
    return fig


# --------------------------------------------------------------------------
# Training curves
# --------------------------------------------------------------------------

_CURVES = ("train_loss", "val_loss", "train_acc", "val_acc")


def _history_lists(history: Any) -> dict[str, np.ndarray]:
    if isinstance(history, Mapping):
        get = history.__getitem__
    else:

        def get(key: str) -> Any:
            return getattr(history, key)

    out = {}
    for key in _CURVES:
        try:
            values = get(key)
        except (KeyError, AttributeError):
            raise TypeError(
                f"history must be a convlib History or a mapping with keys {_CURVES}; "
                f"{key!r} is missing"
            ) from None
        arr = np.asarray(as_numeric_array(f"history {key}", values), dtype=np.float64)
        if arr.ndim != 1:
            raise ValueError(
                f"history {key} must be a list of numbers (one per epoch), got shape {arr.shape}"
            )
        out[key] = arr
    n = len(out["train_loss"])
    if n == 0:
        raise ValueError("history is empty: train for at least one epoch")
    if any(len(v) != n for v in out.values()):
        raise ValueError(f"history lists differ in length: { {k: len(v) for k, v in out.items()} }")
    return out


def training_curves_figure(history: Any, *, test_label: str = "test", dpi: float = 100) -> Figure:
    """Loss and accuracy per epoch, for the training batches and the test set.

    Parameters
    ----------
    history : convlib.loop.History or mapping
        Anything with the per-epoch lists ``train_loss``, ``val_loss``,
        ``train_acc`` and ``val_acc`` (accuracies in [0, 1]) of equal length.
    test_label : str
        Legend name of the ``val_*`` curves.
    dpi : float

    Returns
    -------
    matplotlib.figure.Figure
        Two Axes: the losses, then the accuracies in percent. Each holds two
        lines, ``gid="train"`` and ``gid="test"``, at x = 1, 2, ... (epochs);
        the y data are the history's values (accuracies times 100).
    """
    h = _history_lists(history)
    epochs = np.arange(1, len(h["train_loss"]) + 1)
    fig = _new_figure(figsize=(8.0, 3.0), dpi=dpi, layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    panels = (
        (ax_loss, "train_loss", "val_loss", 1.0, "cross-entropy loss"),
        (ax_acc, "train_acc", "val_acc", 100.0, "accuracy (%)"),
    )
    for ax, train_key, test_key, scale, ylabel in panels:
        ax.plot(
            epochs,
            scale * h[train_key],
            "o-",
            color=TRAIN_COLOR,
            gid="train",
            label="training batches (during the epoch)",
        )
        ax.plot(
            epochs,
            scale * h[test_key],
            "s-",
            color=TEST_COLOR,
            gid="test",
            label=f"{test_label} set (after the epoch)",
        )
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_xticks(epochs)
        ax.grid(True, alpha=0.3)
    ax_loss.legend(fontsize=8)
    return fig


# --------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------


def _filters(name: str, w: Any) -> np.ndarray:
    """Single-channel filters as ``(KH, KW, F)``."""
    arr = as_numeric_array(name, w)
    if arr.ndim == 4:
        if arr.shape[2] != 1:
            raise ValueError(
                f"{name} must be single-channel filters (KH, KW, 1, F) or (KH, KW, F), "
                f"got shape {arr.shape} with {arr.shape[2]} input channels"
            )
        arr = arr[:, :, 0, :]
    check_ndim(name, arr, 3, "(KH, KW, F) or (KH, KW, 1, F)")
    if arr.shape[2] == 0:
        raise ValueError(f"{name} holds no filters, got shape {arr.shape}")
    return np.asarray(arr, dtype=np.float64)


def filters_figure(
    filters: Any,
    *,
    ncols: int | None = None,
    cmap: str = "RdBu_r",
    panel: float = 0.75,
    dpi: float = 100,
) -> Figure:
    """Single-channel convolution filters as small images, one block of rows per set.

    Each set is coloured on a symmetric scale ``[-m, m]``, with ``m`` the
    largest absolute weight in that set, so zero is white and the filters of
    one set can be compared with each other; a colour bar per set gives the
    scale.

    Parameters
    ----------
    filters : array_like of shape (KH, KW, 1, F) or (KH, KW, F), or mapping
        One set of ``F`` filters, or ``{label: filters}`` for several sets
        with the same number of filters (e.g. before and after training).
    ncols : int, optional
        Filters per row; a set takes ``ceil(F / ncols)`` rows. Default: all
        ``F`` in one row.
    cmap : str
        A diverging colour map.
    panel : float
        Side of one filter in inches.
    dpi : float

    Returns
    -------
    matplotlib.figure.Figure
        ``sets * F`` filter Axes (set by set, filter 0 first, each holding one
        image of one filter, titled with its index in the first set), plus
        one colour-bar Axes per set.
    """
    if isinstance(filters, Mapping):
        if not filters:
            raise ValueError("filters is empty: give at least one set of filters")
        sets = {str(k): _filters(f"filters[{k!r}]", v) for k, v in filters.items()}
    else:
        sets = {"": _filters("filters", filters)}
    counts = {k: v.shape[2] for k, v in sets.items()}
    f = next(iter(counts.values()))
    if any(c != f for c in counts.values()):
        raise ValueError(f"every set must hold the same number of filters, got {counts}")
    ncols = f if ncols is None else min(as_int("ncols", ncols, 1), f)
    rows_per_set = math.ceil(f / ncols)
    nrows = rows_per_set * len(sets)
    fig = _new_figure(
        figsize=(ncols * panel + 1.4, nrows * (panel + 0.25) + 0.2 * (len(sets) - 1)),
        dpi=dpi,
        layout="constrained",
    )
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for s_idx, (label, w) in enumerate(sets.items()):
        lim = float(np.max(np.abs(w))) or 1.0
        block = axes[s_idx * rows_per_set : (s_idx + 1) * rows_per_set]
        image = None
        for k, ax in enumerate(block.ravel()):
            if k >= f:
                ax.remove()
                continue
            image = ax.imshow(w[:, :, k], cmap=cmap, vmin=-lim, vmax=lim, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if s_idx == 0:
                ax.set_title(str(k), fontsize=8)
        if label:
            block[0, 0].set_ylabel(label, fontsize=9, rotation=0, ha="right", va="center")
        used = list(block.ravel()[:f])
        assert image is not None  # f >= 1 filters, so one panel was drawn
        cbar = fig.colorbar(image, ax=used, fraction=0.03, pad=0.02)
        cbar.ax.tick_params(labelsize=7)
    return fig


# --------------------------------------------------------------------------
# Confusion matrix
# --------------------------------------------------------------------------


def confusion_matrix_figure(
    cm: Any,
    *,
    class_names: Sequence[str] | None = None,
    cmap: str = "Reds",
    dpi: float = 100,
) -> Figure:
    """A confusion matrix with every count written in its cell.

    Rows are true classes, columns predicted classes. The off-diagonal cells
    (the errors) are coloured by their count; the diagonal (the correct
    predictions, far larger) is grey, so it does not wash out the colour
    scale.

    Parameters
    ----------
    cm : array_like, shape (K, K), non-negative integers
        ``cm[i, j]``: number of examples of class ``i`` predicted as ``j``.
    class_names : sequence of str, optional
        ``K`` tick labels; default ``0 .. K-1``.
    cmap : str
        Colour map of the errors.
    dpi : float

    Returns
    -------
    matplotlib.figure.Figure
        One Axes with one image (the off-diagonal counts, diagonal masked)
        and ``K * K`` texts with ``gid="count"``, row by row, reading
        ``cm[i, j]``.
    """
    arr = as_numeric_array("cm", cm)
    check_ndim("cm", arr, 2, "(K, K)")
    k = arr.shape[0]
    if arr.shape != (k, k) or k == 0:
        raise ValueError(f"cm must be a non-empty square matrix (K, K), got shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
        raise ValueError("cm must hold counts (whole numbers)")
    if np.any(arr < 0):
        raise ValueError("cm must hold counts, got negative entries")
    counts = arr.astype(np.int64)
    names = [str(i) for i in range(k)] if class_names is None else [str(c) for c in class_names]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} entries for a {k} x {k} matrix")
    errors = np.ma.masked_array(counts, mask=np.eye(k, dtype=bool))
    side = 0.45 * k + 1.6
    fig = _new_figure(figsize=(side + 0.6, side), dpi=dpi, layout="constrained")
    ax = fig.subplots()
    ax.set_facecolor("0.85")  # shows through the masked diagonal
    top = max(int(errors.max()) if errors.count() else 0, 1)
    image = ax.imshow(errors, cmap=cmap, vmin=0, vmax=top, interpolation="nearest")
    colormap = image.get_cmap()
    for i in range(k):
        for j in range(k):
            if i == j:
                color = "black"
            elif counts[i, j] == 0:
                color = "0.6"  # no errors: grey, so the real ones stand out
            else:
                r, g, b, _ = to_rgba(colormap(counts[i, j] / top))
                color = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"
            ax.text(
                j,
                i,
                str(counts[i, j]),
                ha="center",
                va="center",
                fontsize=7 if k > 8 else 9,
                color=color,
                fontweight="bold" if i == j else "normal",
                gid="count",
            )
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    cbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
    cbar.set_label("errors", fontsize=8)
    cbar.ax.tick_params(labelsize=7)
    return fig
