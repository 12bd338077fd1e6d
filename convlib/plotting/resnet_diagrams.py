"""Figures of the chapter on a residual network for Fashion-MNIST.

Every figure draws numbers computed elsewhere -- a schedule's learning
rates, :func:`convlib.architectures.gradient_norms`, a
:class:`convlib.loop.History` -- and draws them unchanged:

* :func:`learning_rate_figure` -- learning rates step by step, one curve per
  schedule (the one-cycle schedule beside the cosine decay).
* :func:`gradient_norms_figure` -- the norm of each layer's weight gradient,
  from the input to the output, one curve per network, one panel per setting
  (e.g. per depth), on a logarithmic axis.
* :func:`accuracy_curves_figure` -- test accuracy after every epoch, one
  curve per network.

Every function returns its :class:`matplotlib.figure.Figure` already closed in
pyplot: show it as the last expression of a notebook cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .._checks import as_numeric_array
from .primitives import new_figure as _new_figure

__all__ = ["learning_rate_figure", "gradient_norms_figure", "accuracy_curves_figure"]

#: Colours by curve order: the residual network first, the plain one second.
COLORS = ("#1f4e79", "#c55a11", "#548235", "#7030a0")
MARKERS = ("o", "s", "^", "D")


def _curves(name: str, curves: Any, min_len: int = 1) -> dict[str, np.ndarray]:
    """``{label: 1-D finite array}`` from a mapping of label to sequence."""
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError(
            f"{name} must be a non-empty mapping of label to values, got {curves!r:.60}"
        )
    out = {}
    for label, values in curves.items():
        arr = as_numeric_array(f"{name}[{label!r}]", values).astype(float)
        if arr.ndim != 1 or len(arr) < min_len:
            raise ValueError(
                f"{name}[{label!r}] must be a 1-D sequence of at least {min_len} numbers, "
                f"got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}[{label!r}] holds NaN or infinite values")
        out[str(label)] = arr
    if len(out) > len(COLORS):
        raise ValueError(f"{name} may hold at most {len(COLORS)} curves, got {len(out)}")
    return out


def learning_rate_figure(
    rates: Mapping[str, Sequence[float]],
    *,
    steps_per_epoch: int | None = None,
    dpi: float = 100,
) -> Figure:
    """The learning rate of every optimizer step, one curve per schedule.

    Parameters
    ----------
    rates : mapping of str to sequence of float
        ``{label: [lr(0), lr(1), ...]}``, e.g. ``[schedule(t) for t in range(T)]``.
    steps_per_epoch : int, optional
        Draw a dotted vertical line at every epoch boundary.
    dpi : float

    Returns
    -------
    Figure
        One axes; line ``k`` (``ax.lines``) holds the values of the ``k``-th schedule.
    """
    curves = _curves("rates", rates, min_len=2)
    fig = _new_figure(figsize=(6.4, 2.8), dpi=dpi)
    ax = fig.subplots()
    for k, (label, values) in enumerate(curves.items()):
        ax.plot(np.arange(len(values)), values, color=COLORS[k], label=label, gid=f"rate-{k}")
    if steps_per_epoch is not None:
        total = max(len(v) for v in curves.values())
        for boundary in range(steps_per_epoch, total, steps_per_epoch):
            ax.axvline(boundary, color="0.6", linestyle=":", linewidth=0.8, gid="epoch")
    ax.set_xlabel("optimizer step t")
    ax.set_ylabel("learning rate")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def gradient_norms_figure(
    panels: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    layer_labels: Mapping[str, Sequence[str]] | None = None,
    dpi: float = 100,
) -> Figure:
    """Per-layer gradient norms, input to output, one curve per network and a panel per setting.

    Parameters
    ----------
    panels : mapping of str to mapping of str to sequence of float
        ``{panel title: {network label: [norm of layer 1, norm of layer 2, ...]}}``;
        positive values (the axis is logarithmic).
    layer_labels : mapping of str to sequence of str, optional
        Tick labels of the layers per panel (default: 1, 2, ...).
    dpi : float

    Returns
    -------
    Figure
        One axes per panel, in order; in each, line ``k`` holds the ``k``-th network's norms.
    """
    if not isinstance(panels, Mapping) or not panels:
        raise TypeError(
            f"panels must be a non-empty mapping of title to curves, got {panels!r:.60}"
        )
    checked = {str(t): _curves(f"panels[{t!r}]", c) for t, c in panels.items()}
    for title, curves in checked.items():
        for label, values in curves.items():
            if np.any(values <= 0):
                raise ValueError(f"panels[{title!r}][{label!r}] must be positive (log axis)")
    fig = _new_figure(figsize=(3.4 * len(checked) + 0.6, 3.0), dpi=dpi)
    axes = fig.subplots(1, len(checked), squeeze=False)[0]
    for ax, (title, curves) in zip(axes, checked.items()):
        for k, (label, values) in enumerate(curves.items()):
            layers = np.arange(1, len(values) + 1)
            ax.plot(layers, values, color=COLORS[k], marker=MARKERS[k], markersize=3.5, label=label)
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("layer (input → output)")
        if layer_labels is not None and title in layer_labels:
            names = list(layer_labels[title])
            ax.set_xticks(np.arange(1, len(names) + 1), names, rotation=60, fontsize=7)
    axes[0].set_ylabel("‖∂L/∂w‖ of the layer")
    axes[0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def accuracy_curves_figure(histories: Mapping[str, Any], *, dpi: float = 100) -> Figure:
    """Test accuracy (in %) after every epoch, one curve per network.

    Parameters
    ----------
    histories : mapping of str to History
        ``{label: history}``; each needs a ``val_acc`` list (fractions in [0, 1]).
    dpi : float

    Returns
    -------
    Figure
        One axes; line ``k`` holds ``100 * val_acc`` of the ``k``-th history.
    """
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError(
            f"histories must be a non-empty mapping of label to History, got {histories!r:.60}"
        )
    accs = {}
    for label, h in histories.items():
        if not hasattr(h, "val_acc"):
            raise TypeError(f"histories[{label!r}] must be a History, got {type(h).__name__}")
        accs[label] = 100 * np.asarray(h.val_acc, dtype=float)
    curves = _curves("histories", accs)
    fig = _new_figure(figsize=(4.8, 3.0), dpi=dpi)
    ax = fig.subplots()
    for k, (label, values) in enumerate(curves.items()):
        epochs = np.arange(1, len(values) + 1)
        ax.plot(epochs, values, color=COLORS[k], marker=MARKERS[k], label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_xticks(np.arange(1, max(len(v) for v in curves.values()) + 1))
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
