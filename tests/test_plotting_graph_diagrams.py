"""Tests for convlib.plotting.graph_diagrams: the figures draw exactly the graph and numbers given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from convlib.graph import Add, Concat, Graph
from convlib.layers import Conv2D, ReLU
from convlib.plotting.graph_diagrams import gradient_norms_figure, graph_figure


def _block() -> Graph:
    g = Graph()
    a = g.add("conv", Conv2D(2, 2, 3, padding="same", rng=0), "input")
    b = g.add("relu", ReLU(), a)
    c = g.add("skip", Add(), b, "input")
    g.add("cat", Concat(), c, a)
    return g


def _gids(fig: Figure, prefix: str) -> list[str]:
    return [
        a.get_gid()
        for a in fig.axes[0].get_children()
        if isinstance(a.get_gid(), str) and a.get_gid().startswith(prefix)
    ]


def test_graph_figure_draws_every_node_and_edge_once():
    g = _block()
    before = len(plt.get_fignums())
    fig = graph_figure(g, (4, 4, 2))
    assert isinstance(fig, Figure) and len(plt.get_fignums()) == before
    assert _gids(fig, "node:") == ["node:input", "node:conv", "node:relu", "node:skip", "node:cat"]
    assert sorted(_gids(fig, "edge:")) == sorted(f"edge:{s}->{d}" for s, d in g.edges)
    texts = {a.get_gid(): a.get_text() for a in fig.axes[0].texts}
    assert texts["node:cat"] == "cat\nConcat\n4×4×4"  # the output shape from the summary
    assert texts["node:skip"].startswith("skip\nAdd")


def test_graph_figure_skip_edges_are_arcs():
    fig = graph_figure(_block())
    arrows = {a.get_gid(): a for a in fig.axes[0].texts if str(a.get_gid()).startswith("edge:")}
    style = arrows["edge:input->skip"].arrow_patch.get_connectionstyle()
    assert style.rad < 0  # skips over two nodes: an arc
    assert arrows["edge:conv->relu"].arrow_patch.get_connectionstyle().rad == 0


def test_graph_figure_refuses():
    with pytest.raises(TypeError, match="Graph"):
        graph_figure([ReLU()])
    g = Graph()
    g.add("a", ReLU(), "input")
    g.add("b", ReLU(), "input")
    g.add("c", ReLU(), "b")
    with pytest.raises(ValueError, match="unconnected"):
        graph_figure(g)


def test_gradient_norms_figure_draws_the_numbers():
    norms = {"plain": [4.0, 2.0, 1.0], "residual": np.array([1.5, 1.2, 1.0])}
    fig = gradient_norms_figure(norms, dashed={"residual"}, layer_names=["a", "b", "c"])
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    lines = {ln.get_gid(): ln for ln in ax.get_lines()}
    np.testing.assert_array_equal(lines["plain"].get_ydata(), norms["plain"])
    np.testing.assert_array_equal(lines["residual"].get_xdata(), [1, 2, 3])
    assert lines["residual"].get_linestyle() == "--" and lines["plain"].get_linestyle() == "-"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert lines["plain"].get_color() != lines["residual"].get_color()
    fig = gradient_norms_figure(norms, colors={"plain": "red", "residual": "red"})
    assert {ln.get_color() for ln in fig.axes[0].get_lines()} == {"red"}


@pytest.mark.parametrize(
    "norms, exc, words",
    [
        ({}, ValueError, "empty"),
        ([1.0], TypeError, "mapping"),
        ({"a": [1.0, 2.0], "b": [1.0]}, ValueError, "lengths"),
        ({"a": [1.0, 0.0]}, ValueError, "positive"),
        ({"a": [[1.0]]}, ValueError, "1-D"),
    ],
)
def test_gradient_norms_figure_refuses(norms, exc, words):
    with pytest.raises(exc, match=words):
        gradient_norms_figure(norms)
