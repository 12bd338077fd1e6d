"""Figures of the chapter on graphs and skip connections.

* :func:`graph_figure` -- a :class:`convlib.graph.Graph` drawn from its own
  nodes and edges: one box per node in topological order, left to right,
  an arrow per edge; edges that skip over nodes are drawn as arcs.
* :func:`gradient_norms_figure` -- the norm of the gradient per layer, from
  the first layer to the last, for several networks or moments of training,
  on a logarithmic axis.

Loss curves are drawn by :func:`convlib.plotting.optim_diagrams.loss_curves_figure`.

Every function returns its :class:`matplotlib.figure.Figure` already closed
in pyplot (show it as the last expression of a notebook cell).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .._checks import as_numeric_array, check_nonempty_mapping
from ..graph import INPUT, Graph
from .primitives import new_figure as _new_figure, series_color

__all__ = ["graph_figure", "gradient_norms_figure"]

#: Colour of the boxes of nodes with parameters, without, and of the input.
TRAINABLE_COLOR = "#dbe8f5"
PLAIN_COLOR = "#f2f2f2"
INPUT_COLOR = "#fbe5d6"
#: Colour of an edge that skips over nodes.
SKIP_COLOR = "#c55a11"


def graph_figure(
    graph: Graph,
    input_shape: tuple[int, ...] | None = None,
    *,
    node_width: float = 1.45,
    dpi: float = 100,
) -> Figure:
    """Draw a graph: its nodes left to right in topological order, its edges as arrows.

    Each node is a box with its name and layer type (and, with
    ``input_shape``, its output shape per example). An edge between
    neighbours in the order is a straight arrow; an edge that skips over
    nodes -- a skip connection, a branch -- is an arc above the row, in
    orange, higher the more nodes it skips.

    Parameters
    ----------
    graph : Graph
        A graph that passes :meth:`Graph.check`.
    input_shape : tuple of int, optional
        One example's shape: adds each node's output shape to its box.
    node_width : float
        Inches of figure width per node.
    dpi : float

    Returns
    -------
    matplotlib.figure.Figure
        One Axes. The box of node ``n`` is the text artist with
        ``gid="node:n"`` (``"node:input"`` for the input); the arrow of the
        edge from ``a`` to ``b`` has ``gid="edge:a->b"`` (once per use).

    Raises
    ------
    TypeError
        If ``graph`` is not a :class:`~convlib.graph.Graph`.
    ValueError
        If the graph fails its check or ``input_shape`` does not fit it.
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"graph must be a convlib Graph, got {type(graph).__name__}")
    graph.check()
    names = [INPUT, *graph.nodes]
    shapes: dict[str, tuple[int, ...]] = {}
    if input_shape is not None:
        summary = graph.summary(input_shape)
        shapes = {
            INPUT: summary.input_shape,
            **dict(zip(summary.names, (r[1] for r in summary.rows))),
        }
    index = {name: k for k, name in enumerate(names)}
    longest = max((index[d] - index[s] for s, d in graph.edges), default=1)
    fig = _new_figure(
        figsize=(max(3.0, node_width * len(names)), 1.6 + 0.35 * min(longest, 6)),
        dpi=dpi,
        layout="constrained",
    )
    ax = fig.subplots()
    for name in names:
        if name == INPUT:
            label, color = "input", INPUT_COLOR
        else:
            layer = graph[name]
            label = f"{name}\n{type(layer).__name__}"
            color = TRAINABLE_COLOR if layer.num_params() else PLAIN_COLOR
        if name in shapes:
            label += "\n" + "×".join(map(str, shapes[name]))
        ax.text(
            index[name],
            0.0,
            label,
            ha="center",
            va="center",
            fontsize=8,
            gid=f"node:{name}",
            bbox={"boxstyle": "round,pad=0.35", "facecolor": color, "edgecolor": "#404040"},
            zorder=3,
        )
    for src, dst in graph.edges:
        gap = index[dst] - index[src]
        skip = gap > 1
        ax.annotate(
            "",
            xy=(index[dst], 0.12 if skip else 0.0),
            xytext=(index[src], 0.12 if skip else 0.0),
            arrowprops={
                "arrowstyle": "-|>",
                "color": SKIP_COLOR if skip else "#404040",
                "lw": 1.4 if skip else 1.0,
                "shrinkA": 22 if not skip else 6,
                "shrinkB": 22 if not skip else 6,
                "connectionstyle": f"arc3,rad={-min(0.25 + 0.05 * gap, 0.6) if skip else 0.0}",
            },
            gid=f"edge:{src}->{dst}",
            zorder=2,
        )
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylim(-0.45, 0.35 + 0.22 * min(longest, 6))
    ax.axis("off")
    return fig


def gradient_norms_figure(
    norms: Mapping[str, Any],
    *,
    layer_names: Sequence[str] | None = None,
    dashed: Collection[str] = (),
    colors: Mapping[str, str] | None = None,
    ylabel: str = "gradient norm",
    title: str | None = None,
    dpi: float = 100,
) -> Figure:
    """The gradient norm of every layer, first layer on the left, one line per series.

    Parameters
    ----------
    norms : mapping of str to array_like, shape (n_layers,)
        Series label -> the norm per layer, ordered from the first layer
        (next to the input) to the last (next to the loss). All series
        have the same length. Every value must be positive (the axis is
        logarithmic).
    layer_names : sequence of str, optional
        Tick labels, one per layer; default 1, 2, ...
    dashed : collection of str
        Labels of the series drawn dashed (e.g. "after training"); the
        others are solid.
    colors : mapping of str to str, optional
        Matplotlib colour per label (e.g. one per network, shared by its
        solid and dashed series); default: the book's series colours in
        order.
    ylabel, title : str
    dpi : float

    Returns
    -------
    matplotlib.figure.Figure
        One Axes with a logarithmic y axis; the line of series ``label`` has
        ``gid=label``, its x data 1, 2, ..., its y data the given norms.

    Raises
    ------
    ValueError
        If ``norms`` is empty, the series differ in length, or a value is
        not positive and finite.
    """
    norms = check_nonempty_mapping("norms", norms)
    data = {}
    for label, values in norms.items():
        arr = as_numeric_array(f"norms[{label!r}]", values).astype(float)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(
                f"norms[{label!r}] must be a non-empty 1-D sequence, got shape {arr.shape}"
            )
        if not (np.isfinite(arr).all() and (arr > 0).all()):
            raise ValueError(f"norms[{label!r}] must hold positive finite numbers (log axis)")
        data[str(label)] = arr
    lengths = {len(a) for a in data.values()}
    if len(lengths) != 1:
        raise ValueError(
            "every series of norms must have one value per layer, got lengths "
            + ", ".join(f"{k!r}: {len(a)}" for k, a in data.items())
        )
    n = lengths.pop()
    if layer_names is not None and len(layer_names) != n:
        raise ValueError(f"layer_names has {len(layer_names)} names for {n} layers")
    fig = _new_figure(figsize=(7.5, 3.4), dpi=dpi, layout="constrained")
    ax = fig.subplots()
    xs = np.arange(1, n + 1)
    for i, (label, arr) in enumerate(data.items()):
        ax.semilogy(
            xs,
            arr,
            "o--" if label in dashed else "o-",
            color=series_color(i) if colors is None or label not in colors else colors[label],
            ms=4,
            label=label,
            gid=label,
        )
    ax.set_xticks(xs)
    if layer_names is not None:
        ax.set_xticklabels(list(layer_names), rotation=90, fontsize=7)
    ax.set_xlabel("layer, from the input (left) to the loss (right)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig
