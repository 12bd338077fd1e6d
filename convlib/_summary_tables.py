"""The text tables of model summaries, shared by :class:`convlib.Sequential` and :class:`convlib.Graph`.

:meth:`convlib.Sequential.summary` and :meth:`convlib.Graph.summary` print
their tables, check their ``input_shape`` and refuse one with a batch axis
through these helpers, so that both say the same in the same words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._checks import as_shape

__all__ = ["batch_axis_error", "summary_input_shape", "summary_table"]


def summary_table(
    header: tuple[str, ...], body: Sequence[tuple[str, ...]], align: str, total_params: int
) -> str:
    """The text table of a model summary.

    Used by :class:`convlib.model.ModelSummary` and :class:`convlib.graph.GraphSummary`.

    Parameters
    ----------
    header : tuple of str
        The column titles.
    body : sequence of tuple of str
        One row of cells per line, as many as ``header``.
    align : str
        One ``"<"`` (left) or ``">"`` (right) per column.
    total_params : int
        Printed in the last line.

    Returns
    -------
    str
        The header, a rule, the rows, a rule and ``Total parameters: ...``;
        each column as wide as its widest cell, two spaces between columns,
        no trailing spaces.
    """
    widths = [max(len(r[k]) for r in [header, *body]) for k in range(len(header))]

    def fmt(r: tuple[str, ...]) -> str:
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(r, align, widths)).rstrip()

    rule = "-" * len(fmt(tuple("x" * w for w in widths)))
    lines = [fmt(header), rule, *(fmt(r) for r in body), rule]
    lines.append(f"Total parameters: {total_params:,}")
    return "\n".join(lines)


def summary_input_shape(input_shape: Any) -> tuple[int, ...]:
    """The ``input_shape`` of a summary as a tuple of ints, or a ``TypeError`` that says what it is."""
    try:
        return as_shape("input_shape", input_shape)
    except TypeError:
        raise TypeError(
            f"input_shape must be a tuple of ints, one example's shape without the "
            f"batch axis, e.g. (28, 28, 1); got {input_shape!r}"
        ) from None


def batch_axis_error(shape: tuple[int, ...]) -> ValueError:
    """The error of a summary given ``(N, *example_shape)`` where the model fits ``shape[1:]``."""
    return ValueError(
        f"input_shape is one example's shape without the batch axis, e.g. "
        f"{shape[1:]}; got {shape}, whose first entry looks like a batch axis"
    )
