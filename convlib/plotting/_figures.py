"""Former home of the shared figure helpers: see :mod:`convlib.plotting.primitives`."""

from .primitives import GRAD_CMAP, Formatter, formatter, new_figure, symmetric_limit

__all__ = ["Formatter", "GRAD_CMAP", "new_figure", "formatter", "symmetric_limit"]
