"""Figures for batch normalization (chapter 10 of the book).

* :data:`BN_NODES`, :data:`BN_EDGES` -- the forward computational graph of
  batch normalization (mean, centered, variance, std, inverse, xhat, scale,
  shift), with every edge labelled by how data moves along it: element-wise,
  a *reduction* over the batch (a mean: the backward pass broadcasts the
  gradient back and divides by ``m``) or a *broadcast* of a per-feature
  vector against the whole batch (the backward pass sums the gradient over
  the batch).
* :func:`batchnorm_graph_figure` -- draws that graph, edges coloured by kind,
  each node numbered by the step at which the backward walk reaches it.
* :func:`normalization_histograms_figure` -- per-feature histograms of a
  batch before and after normalization, on shared bins.
* :func:`jacobian_figure` -- Jacobian matrices side by side on one symmetric
  colour scale (training mode couples every value of a feature with every
  other; evaluation mode is diagonal).

Every figure function returns its :class:`matplotlib.figure.Figure`, already
closed in pyplot: it is shown once, as a cell's last expression, and does not
pile up in pyplot's list of open figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .._checks import as_numeric_array, check_ndim
from .primitives import new_figure as _new_figure

__all__ = [
    "GraphNode",
    "GraphEdge",
    "BN_NODES",
    "BN_EDGES",
    "EDGE_COLORS",
    "batchnorm_graph_figure",
    "normalization_histograms_figure",
    "jacobian_figure",
]


class GraphNode(NamedTuple):
    """One node of a drawn computational graph.

    Attributes
    ----------
    x, y : float
        Centre of the node's box, in data units.
    label : str
        What the node computes (matplotlib mathtext allowed).
    shape : str
        The shape of its value, written under the label (``""`` for none).
    backward_step : int or None
        At which step (1 first) the backward walk applies this node's local
        gradient; ``None`` for an input (``x``, ``gamma``, ``beta``).
    """

    x: float
    y: float
    label: str
    shape: str
    backward_step: int | None


class GraphEdge(NamedTuple):
    """One forward edge: ``source`` feeds ``target``.

    Attributes
    ----------
    source, target : str
        Node names.
    kind : {"elementwise", "reduce", "broadcast"}
        How values travel along the edge in the forward pass.
    """

    source: str
    target: str
    kind: str


#: The forward graph of batch normalization for one batch of ``M`` values
#: per feature and ``C`` features, in the book's notation (``x_ctr`` is the
#: centred input). Parameters (gamma, beta) are inputs.
#:
#: :meta hide-value:
BN_NODES: dict[str, GraphNode] = {
    "x": GraphNode(0.0, 0.0, "$x$", "(M, C)", None),
    "mu": GraphNode(1.7, 1.5, r"$\mu = \mathrm{mean}(x)$", "(C,)", 8),
    "xc": GraphNode(3.4, 0.0, r"$x_{\mathrm{ctr}} = x - \mu$", "(M, C)", 7),
    "var": GraphNode(5.1, 1.5, r"$\sigma^2 = \mathrm{mean}(x_{\mathrm{ctr}}^2)$", "(C,)", 6),
    "std": GraphNode(6.8, 1.5, r"$\sigma_\varepsilon = \sqrt{\sigma^2 + \varepsilon}$", "(C,)", 5),
    "inv": GraphNode(8.5, 1.5, r"$r = 1 / \sigma_\varepsilon$", "(C,)", 4),
    "xhat": GraphNode(8.5, 0.0, r"$\hat{x} = x_{\mathrm{ctr}}\, r$", "(M, C)", 3),
    "gamma": GraphNode(10.2, -1.5, r"$\gamma$", "(C,)", None),
    "y": GraphNode(10.2, 0.0, r"$\tilde{y} = \gamma\, \hat{x}$", "(M, C)", 2),
    "beta": GraphNode(11.9, -1.5, r"$\beta$", "(C,)", None),
    "out": GraphNode(11.9, 0.0, r"$y = \tilde{y} + \beta$", "(M, C)", 1),
}

#: Forward edges of :data:`BN_NODES`.
BN_EDGES: tuple[GraphEdge, ...] = (
    GraphEdge("x", "mu", "reduce"),
    GraphEdge("x", "xc", "elementwise"),
    GraphEdge("mu", "xc", "broadcast"),
    GraphEdge("xc", "var", "reduce"),
    GraphEdge("xc", "xhat", "elementwise"),
    GraphEdge("var", "std", "elementwise"),
    GraphEdge("std", "inv", "elementwise"),
    GraphEdge("inv", "xhat", "broadcast"),
    GraphEdge("xhat", "y", "elementwise"),
    GraphEdge("gamma", "y", "broadcast"),
    GraphEdge("y", "out", "elementwise"),
    GraphEdge("beta", "out", "broadcast"),
)

#: Colour of each kind of edge.
EDGE_COLORS: dict[str, str] = {
    "elementwise": "0.3",
    "reduce": "#2166ac",  # blue: a mean over the batch
    "broadcast": "#d6604d",  # orange-red: a (C,) vector used by every row
}

_EDGE_LEGEND = {
    "elementwise": "element-wise (backward: element-wise)",
    "reduce": "mean over the batch (backward: broadcast, divide by M)",
    "broadcast": "(C,) vector broadcast over the batch (backward: sum over the batch)",
}

_BOX_W, _BOX_H = 1.5, 0.62
_STEP_COLOR = "#b2182b"


def _box_exit(node: GraphNode, ux: float, uy: float) -> tuple[float, float]:
    """Point where a ray from the box centre in direction ``(ux, uy)`` leaves the box."""
    tx = (_BOX_W / 2) / abs(ux) if ux else np.inf
    ty = (_BOX_H / 2) / abs(uy) if uy else np.inf
    t = min(tx, ty)
    return node.x + t * ux, node.y + t * uy


def batchnorm_graph_figure(
    nodes: Mapping[str, GraphNode] | None = None,
    edges: Sequence[GraphEdge] | None = None,
    *,
    backward_steps: bool = True,
    title: str | None = None,
    figsize: tuple[float, float] = (11.0, 3.6),
) -> Figure:
    """Draw the forward graph of batch normalization.

    Each node is a rounded box holding what it computes and the shape of its
    value (inputs, the nodes no edge enters, are shaded); each forward edge
    is an arrow coloured by its kind (see :data:`EDGE_COLORS`); with
    ``backward_steps`` a red number on a node says at which step the
    backward walk applies its local gradient.

    Parameters
    ----------
    nodes : mapping of str to GraphNode, optional
        Default :data:`BN_NODES`.
    edges : sequence of GraphEdge, optional
        Default :data:`BN_EDGES`.
    backward_steps : bool
        Number the nodes in backward order.
    title : str, optional
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
        One axes holding one ``FancyBboxPatch`` per node, one
        ``FancyArrowPatch`` per edge (in the order of ``edges``, coloured by
        kind), and, with ``backward_steps``, one text per numbered node whose
        string is its step. A legend names the kinds of edges present.

    Raises
    ------
    ValueError
        If ``nodes`` is empty, an edge names an unknown node or has an
        unknown kind.
    """
    nodes = dict(BN_NODES if nodes is None else nodes)
    edges = tuple(BN_EDGES if edges is None else edges)
    if not nodes:
        raise ValueError("nodes must not be empty")
    for k, edge in enumerate(edges):
        for end in (edge.source, edge.target):
            if end not in nodes:
                raise ValueError(f"edges[{k}] refers to node {end!r}, not among {sorted(nodes)}")
        if edge.kind not in EDGE_COLORS:
            raise ValueError(
                f"edges[{k}] has kind {edge.kind!r}; expected one of {sorted(EDGE_COLORS)}"
            )

    fig = _new_figure(figsize=figsize, dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    targets = {e.target for e in edges}
    for name, node in nodes.items():
        is_input = name not in targets
        ax.add_patch(
            FancyBboxPatch(
                (node.x - _BOX_W / 2, node.y - _BOX_H / 2),
                _BOX_W,
                _BOX_H,
                boxstyle="round,pad=0.02,rounding_size=0.12",
                facecolor="#fff7e6" if is_input else "#f3f3f3",
                edgecolor="black",
                lw=1.1,
                zorder=2,
                gid=name,
            )
        )
        ax.text(node.x, node.y + 0.09, node.label, ha="center", va="center", fontsize=9.5, zorder=3)
        if node.shape:
            ax.text(
                node.x,
                node.y - 0.19,
                node.shape,
                ha="center",
                va="center",
                fontsize=7.5,
                color="0.35",
                zorder=3,
            )
        if backward_steps and node.backward_step is not None:
            ax.text(
                node.x + _BOX_W / 2 - 0.02,
                node.y + _BOX_H / 2 + 0.03,
                str(node.backward_step),
                ha="center",
                va="center",
                fontsize=8,
                color="white",
                fontweight="bold",
                zorder=4,
                gid="backward_step",
                bbox={"boxstyle": "circle,pad=0.18", "facecolor": _STEP_COLOR, "edgecolor": "none"},
            )

    for edge in edges:
        a, b = nodes[edge.source], nodes[edge.target]
        dx, dy = b.x - a.x, b.y - a.y
        length = float(np.hypot(dx, dy)) or 1.0
        ux, uy = dx / length, dy / length
        ax.add_patch(
            FancyArrowPatch(
                _box_exit(a, ux, uy),
                _box_exit(b, -ux, -uy),
                arrowstyle="-|>",
                mutation_scale=12,
                lw=1.6 if edge.kind != "elementwise" else 1.1,
                color=EDGE_COLORS[edge.kind],
                shrinkA=1,
                shrinkB=1,
                zorder=1,
                gid=edge.kind,
            )
        )

    kinds = [k for k in EDGE_COLORS if any(e.kind == k for e in edges)]
    handles = [Line2D([], [], color=EDGE_COLORS[k], lw=2, label=_EDGE_LEGEND[k]) for k in kinds]
    if backward_steps:
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                markersize=8,
                color=_STEP_COLOR,
                label="order of the backward walk",
            )
        )
    if handles:
        ax.legend(
            handles=handles,
            loc="lower left",
            fontsize=7.5,
            frameon=False,
            bbox_to_anchor=(0.0, -0.02),
        )
    xs = [n.x for n in nodes.values()]
    ys = [n.y for n in nodes.values()]
    ax.set_xlim(min(xs) - _BOX_W / 2 - 0.2, max(xs) + _BOX_W / 2 + 0.2)
    ax.set_ylim(min(ys) - _BOX_H / 2 - 0.25, max(ys) + _BOX_H / 2 + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def normalization_histograms_figure(
    before: Any,
    after: Any,
    *,
    bins: int = 30,
    labels: Sequence[str] | None = None,
    titles: tuple[str, str] = ("before: x", "after: batch norm"),
    figsize: tuple[float, float] = (9.0, 3.0),
) -> Figure:
    """Per-feature histograms of a batch before and after normalization.

    Each feature (column) is drawn as a step outline filled lightly, one
    colour per feature, the same colour on both panels. Both panels use the
    same bins (``bins`` equal bins spanning all values of both arrays), so
    the change of location and spread is visible at a glance.

    Parameters
    ----------
    before, after : array_like, shape (m, C)
        The batch, one column per feature, and its normalized version.
    bins : int
        Number of bins, at least 1.
    labels : sequence of str, optional
        One legend entry per feature; default ``"feature 0"``, ...
    titles : (str, str)
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
        Two axes; each holds ``C`` ``StepPatch`` artists whose values are
        ``np.histogram(column, edges)[0]`` on the shared edges.

    Raises
    ------
    ValueError
        If the arrays are not 2-D of the same shape, ``labels`` has the wrong
        length or ``bins`` is below 1.
    """
    before = as_numeric_array("before", before).astype(np.float64)
    after = as_numeric_array("after", after).astype(np.float64)
    check_ndim("before", before, 2, "(m, C)")
    check_ndim("after", after, 2, "(m, C)")
    if before.shape != after.shape:
        raise ValueError(f"before {before.shape} and after {after.shape} must have the same shape")
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool) or bins < 1:
        raise ValueError(f"bins must be an integer >= 1, got {bins!r}")
    c = before.shape[1]
    if labels is None:
        labels = [f"feature {k}" for k in range(c)]
    if len(labels) != c:
        raise ValueError(f"labels has {len(labels)} entries for {c} features")
    lo = min(before.min(), after.min())
    hi = max(before.max(), after.max())
    if hi == lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, int(bins) + 1)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    fig = _new_figure(figsize=figsize, dpi=100)
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    for ax, data, title in zip(axes, (before, after), titles):
        for k in range(c):
            counts, _ = np.histogram(data[:, k], edges)
            ax.stairs(
                counts, edges, fill=True, alpha=0.25, color=colors[k % len(colors)], label=labels[k]
            )
            ax.stairs(counts, edges, fill=False, lw=1.2, color=colors[k % len(colors)])
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("value")
    axes[0].set_ylabel("count")
    axes[0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def jacobian_figure(
    jacobians: Mapping[str, Any],
    *,
    title: str | None = None,
    cmap: str = "RdBu_r",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Square Jacobian matrices side by side, on one colour scale centred on 0.

    Entry ``[i, j]`` of each matrix is drawn at row ``i``, column ``j``
    (``d output_i / d input_j``).

    Parameters
    ----------
    jacobians : mapping of str to array_like, each shape (m, m)
        ``panel title -> matrix``.
    title : str, optional
        Title of the whole figure.
    cmap : str
        A diverging colour map.
    figsize : (float, float), optional
        Default: 3.2 inches per panel plus room for the colour bar.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per matrix, each holding one image whose data is the
        matrix, all with the colour limits ``(-v, v)``, ``v`` the largest
        absolute entry; and one more axes, the colour bar.

    Raises
    ------
    ValueError
        If ``jacobians`` is empty or a matrix is not 2-D.
    """
    if len(jacobians) == 0:
        raise ValueError("jacobians must hold at least one matrix")
    mats = {}
    for name, j in jacobians.items():
        arr = as_numeric_array(f"jacobians[{name!r}]", j).astype(np.float64)
        check_ndim(f"jacobians[{name!r}]", arr, 2, "(m, m)")
        mats[name] = arr
    vmax = max(float(np.abs(a).max()) for a in mats.values()) or 1.0
    if figsize is None:
        figsize = (3.2 * len(mats) + 0.8, 3.3)
    fig = _new_figure(figsize=figsize, dpi=100, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(mats)))
    image = None
    for ax, (name, arr) in zip(axes, mats.items()):
        image = ax.imshow(arr, cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("input $j$")
        if ax is axes[0]:
            ax.set_ylabel("output $i$")
        ax.set_xticks(range(arr.shape[1]))
        ax.set_yticks(range(arr.shape[0]))
        ax.tick_params(labelsize=7)
    assert image is not None  # mats is not empty, so one panel was drawn
    fig.colorbar(image, ax=list(axes), shrink=0.85)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
