"""Small helpers shared by the plotting modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

#: A number format: a format string such as ``"{:g}"`` or a callable.
Formatter = str | Callable[[float], str]

#: Colour map of gradients (signed: blue negative, white zero, red positive).
GRAD_CMAP = "RdBu_r"


def new_figure(**kwargs: Any) -> Figure:
    """A pyplot figure, closed at once: pyplot will not show it again or keep it.

    Creating it through pyplot activates the notebook's inline backend, so the
    returned Figure displays as a cell's last expression.
    """
    fig = plt.figure(**kwargs)
    plt.close(fig)
    return fig


def formatter(fmt: Formatter) -> Callable[[float], str]:
    """Turn a format string or callable into a callable ``value -> str``."""
    if callable(fmt):
        return fmt
    if isinstance(fmt, str):
        return lambda v: fmt.format(v)
    raise TypeError(f"fmt must be a format string such as '{{:g}}' or a callable, got {fmt!r}")


def symmetric_limit(*arrays: np.ndarray) -> float:
    """Largest finite ``|value|`` over the arrays (1.0 if there is none), for a
    colour scale centred on zero."""
    m = max(
        (float(np.max(np.abs(a[np.isfinite(a)]))) if np.isfinite(a).any() else 0.0 for a in arrays),
        default=0.0,
    )
    return m if m > 0 else 1.0


#: Colours of the curves of several runs (optimizers, learning rates), in order.
SERIES_COLORS = ("#1f4e79", "#c55a11", "#2e7d32", "#7030a0", "#b8860b", "#7f7f7f")


def series_color(i: int) -> str:
    """The ``i``-th colour of :data:`SERIES_COLORS`, starting again after the last."""
    return SERIES_COLORS[i % len(SERIES_COLORS)]
