"""Former home of the shared figure helpers: see :mod:`convlib.plotting.primitives`."""

from .primitives import (
    GRAD_CMAP,
    SERIES_COLORS,
    Formatter,
    formatter,
    new_figure,
    series_color,
    symmetric_limit,
)

__all__ = [
    "Formatter",
    "GRAD_CMAP",
    "SERIES_COLORS",
    "new_figure",
    "formatter",
    "series_color",
    "symmetric_limit",
]
