"""Figures of the low-precision chapter (chapter 20 of the book files).

* :func:`plot_magnitudes` -- histograms of ``log10 |value|`` of some arrays
  against the ranges of float16 and bfloat16: where values would underflow
  to zero, turn subnormal or overflow.
* :func:`plot_variance_errors` -- the relative error of a variance against
  the mean of the data, one curve per way of computing it.
* :func:`plot_loss_scaling_run` -- a training run in float16: the gradient
  values that underflowed at each step, with and without loss scaling, and
  the loss scale a dynamic scaler chose.

Every function returns the ``Figure`` it made; the numbers drawn are the
numbers passed in, so the tests can compare them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .._checks import as_numeric_array, check_nonempty_mapping
from ..precision import get_format
from .primitives import new_figure, series_color

__all__ = ["plot_magnitudes", "plot_variance_errors", "plot_loss_scaling_run"]

_FORMAT_STYLE = {"float16": "--", "bfloat16": ":"}
_SPAN = 10  # decades beyond the data within which a format's limits are drawn


def plot_magnitudes(
    values: Mapping[str, Any],
    formats: Sequence[str] = ("float16", "bfloat16"),
    *,
    bins: int = 80,
    title: str | None = None,
) -> Figure:
    """Histograms of ``log10 |v|`` against the limits of low-precision formats.

    One step histogram per entry of ``values`` (zeros left out, since they
    have no logarithm; every histogram is normalised to its own number of
    non-zero values, so arrays of different sizes compare). For each format,
    three vertical lines: half its smallest subnormal (below it a value
    rounds to zero), its smallest normal number (below it a value is
    subnormal and keeps fewer significant bits) and its largest value (above
    it a value overflows to infinity). The axis covers the data and every
    limit within ten decades of it; a limit further away is drawn outside
    the axis and its legend entry says so.

    Parameters
    ----------
    values : mapping of str to array_like
        ``label -> array`` of any shape (finite values are drawn).
    formats : sequence of str
        Format names (see :data:`convlib.precision.FORMATS`).
    bins : int
        Number of bins over the common range of every array.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axes; one step line per entry of ``values`` (in order, labelled),
        then three vertical lines per format, labelled ``"<format> ..."``.
    """
    check_nonempty_mapping("values", values)
    logs = {}
    for label, v in values.items():
        arr = np.abs(as_numeric_array(f"values[{label!r}]", v).astype(np.float64).ravel())
        arr = arr[np.isfinite(arr) & (arr > 0)]
        if arr.size == 0:
            raise ValueError(f"values[{label!r}] has no finite non-zero value to draw")
        logs[label] = np.log10(arr)
    forms = [get_format(f) for f in formats]
    lo = min(float(a.min()) for a in logs.values())
    hi = max(float(a.max()) for a in logs.values())
    edges = np.linspace(np.floor(lo), np.ceil(hi) + (np.ceil(hi) == np.floor(lo)), bins + 1)
    limits = [
        (form, np.log10(value), what, color)
        for form in forms
        for value, what, color in (
            (form.smallest_subnormal / 2, "rounds to 0 below", "#d62728"),
            (form.tiny, "subnormal below", "#7b3294"),
            (form.max, "overflows above", "black"),
        )
    ]
    # The axis spans the data and every limit within _SPAN decades of it; a
    # limit further out (bfloat16's, at 1e-40 and 3e38) is named in the legend.
    near = [x for _, x, _, _ in limits if lo - _SPAN <= x <= hi + _SPAN]
    x0, x1 = min([edges[0], *near]) - 0.5, max([edges[-1], *near]) + 0.5
    fig = new_figure(figsize=(8, 3.6))
    ax = fig.add_subplot()
    for i, (label, a) in enumerate(logs.items()):
        counts, _ = np.histogram(a, bins=edges)
        ax.stairs(counts / a.size, edges, color=series_color(i), lw=1.6, label=label)
    for form, x, what, color in limits:
        off = "" if x0 <= x <= x1 else f" (1e{x:.0f}, off the axis)"
        ax.axvline(x, ls=_FORMAT_STYLE.get(form.name, "-."), color=color, lw=1.2,
                   label=f"{form.name}: {what}{off}")  # fmt: skip
    ax.set_xlabel(r"$\log_{10}$ |value|")
    ax.set_ylabel("fraction of the non-zero values")
    ax.set_xlim(x0, x1)
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_variance_errors(
    means: Any, errors: Mapping[str, Any], *, title: str | None = None
) -> Figure:
    """Relative error of a computed variance against the mean of the data, log-log.

    Parameters
    ----------
    means : array_like, shape (P,)
        Positive means of the data sets (the x axis).
    errors : mapping of str to array_like, shape (P,)
        ``label -> relative errors``; a zero error is drawn at the bottom of
        the axes, an infinite or NaN one (an overflow) is left out.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one line per entry of ``errors``, in order.
    """
    check_nonempty_mapping("errors", errors)
    m = as_numeric_array("means", means).astype(np.float64)
    if m.ndim != 1 or np.any(m <= 0):
        raise ValueError(f"means must be 1-D and positive, got shape {m.shape}")
    fig = new_figure(figsize=(6.5, 3.8))
    ax = fig.add_subplot()
    floor = 1e-9
    for i, (label, e) in enumerate(errors.items()):
        err = as_numeric_array(f"errors[{label!r}]", e).astype(np.float64)
        if err.shape != m.shape:
            raise ValueError(
                f"errors[{label!r}] has shape {err.shape} but means has shape {m.shape}"
            )
        shown = np.where(np.isfinite(err), np.maximum(err, floor), np.nan)
        style = "-" if i % 2 == 0 else "--"
        ax.loglog(m, shown, style, marker="o", ms=3, color=series_color(i // 2), label=label)
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set_xlabel("mean of the data (standard deviation 1)")
    ax.set_ylabel("relative error of the variance")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_loss_scaling_run(
    underflows: Mapping[str, Any], scale_history: Any | None = None, *, title: str | None = None
) -> Figure:
    """A float16 training run: underflowed gradient values per step, and the loss scale.

    Parameters
    ----------
    underflows : mapping of str to array_like, shape (T,)
        ``label -> number of gradient values that rounded to zero at each step``.
    scale_history : array_like, shape (T,), optional
        The loss scale used at each step (a second panel, log2 axis).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One or two axes: the first with one line per entry of
        ``underflows``, the second with the scale as a step line.
    """
    check_nonempty_mapping("underflows", underflows)
    panels = 1 if scale_history is None else 2
    fig = new_figure(figsize=(8, 3.2))
    axes = fig.subplots(1, panels, squeeze=False)[0]
    for i, (label, u) in enumerate(underflows.items()):
        counts = as_numeric_array(f"underflows[{label!r}]", u)
        axes[0].plot(np.arange(counts.size), counts, color=series_color(i), lw=1.2, label=label)
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("gradient values rounded to 0")
    axes[0].legend(fontsize=8)
    if scale_history is not None:
        s = as_numeric_array("scale_history", scale_history).astype(np.float64)
        if np.any(s <= 0):
            raise ValueError("scale_history must be positive")
        axes[1].step(np.arange(s.size), np.log2(s), where="post", color="0.2")
        axes[1].set_xlabel("step")
        axes[1].set_ylabel(r"$\log_2$ of the loss scale")
        axes[1].yaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
