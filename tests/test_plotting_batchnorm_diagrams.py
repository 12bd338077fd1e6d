"""Tests of convlib.plotting.batchnorm_diagrams: the figures draw the numbers computed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.image import AxesImage
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, StepPatch

import convlib
from convlib.plotting.batchnorm_diagrams import (
    BN_EDGES,
    BN_NODES,
    EDGE_COLORS,
    GraphEdge,
    GraphNode,
    batchnorm_graph_figure,
    jacobian_figure,
    normalization_histograms_figure,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------
# the graph
# --------------------------------------------------------------------------


def test_graph_data_matches_batchnorm_forward():
    """Evaluating BN_NODES' graph edge by edge reproduces batchnorm_forward."""
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=(6, 3))
    gamma, beta, eps = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3), 1e-5
    ops = {
        "mu": lambda v: v["x"].mean(axis=0),
        "xc": lambda v: v["x"] - v["mu"],
        "var": lambda v: (v["xc"] ** 2).mean(axis=0),
        "std": lambda v: np.sqrt(v["var"] + eps),
        "inv": lambda v: 1 / v["std"],
        "xhat": lambda v: v["xc"] * v["inv"],
        "y": lambda v: v["gamma"] * v["xhat"],
        "out": lambda v: v["y"] + v["beta"],
    }
    assert set(ops) | {"x", "gamma", "beta"} == set(BN_NODES)
    # each op reads exactly the nodes with an edge into it
    for name in ops:
        parents = {e.source for e in BN_EDGES if e.target == name}
        assert parents, name
    values = {"x": x, "gamma": gamma, "beta": beta}
    for name in sorted(
        ops, key=lambda n: -BN_NODES[n].backward_step
    ):  # forward = reverse of backward
        parents = {e.source for e in BN_EDGES if e.target == name}
        assert parents <= set(values), f"{name} computed before its inputs {parents - set(values)}"
        values[name] = ops[name]({k: values[k] for k in parents})
    expected, _ = convlib.batchnorm_forward(x, gamma, beta, np.zeros(3), np.ones(3), eps=eps)
    assert np.allclose(values["out"], expected, rtol=1e-12, atol=1e-12)


def test_graph_edge_kinds_follow_the_shapes():
    """Reductions go from (M, C) to (C,), broadcasts from (C,) into (M, C)."""
    for e in BN_EDGES:
        src, dst = BN_NODES[e.source].shape, BN_NODES[e.target].shape
        expected = {("(M, C)", "(C,)"): "reduce", ("(C,)", "(M, C)"): "broadcast"}.get(
            (src, dst), "elementwise"
        )
        assert e.kind == expected, e


def test_graph_draws_a_box_per_node_an_arrow_per_edge_and_the_steps():
    fig = batchnorm_graph_figure(title="batch norm")
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert sorted(b.get_gid() for b in boxes) == sorted(BN_NODES)
    assert len(arrows) == len(BN_EDGES)
    for arrow, edge in zip(arrows, BN_EDGES):
        assert arrow.get_gid() == edge.kind
        assert np.allclose(arrow.get_edgecolor(), to_rgba(EDGE_COLORS[edge.kind]))
    steps = sorted(int(t.get_text()) for t in ax.texts if t.get_gid() == "backward_step")
    expected = sorted(n.backward_step for n in BN_NODES.values() if n.backward_step is not None)
    assert steps == expected == list(range(1, 9))
    # inputs (no edge in) are shaded differently from operations
    inputs = {n for n in BN_NODES if all(e.target != n for e in BN_EDGES)}
    assert inputs == {"x", "gamma", "beta"}
    colors = {b.get_gid(): to_rgba(b.get_facecolor()) for b in boxes}
    assert len({colors[n] for n in inputs}) == 1
    assert colors["x"] != colors["mu"]
    assert ax.get_title() == "batch norm"
    # legend: the three kinds of edge plus the step marker
    assert len(ax.get_legend().get_texts()) == 4


def test_graph_without_steps_and_custom_graph():
    nodes = {"a": GraphNode(0, 0, "a", "", None), "b": GraphNode(2, 0, "b", "(1,)", 1)}
    fig = batchnorm_graph_figure(nodes, [GraphEdge("a", "b", "reduce")], backward_steps=False)
    ax = fig.axes[0]
    assert not [t for t in ax.texts if t.get_gid() == "backward_step"]
    assert len([p for p in ax.patches if isinstance(p, FancyArrowPatch)]) == 1
    assert len(ax.get_legend().get_texts()) == 1


@pytest.mark.parametrize(
    "edges, match",
    [
        ([GraphEdge("x", "nowhere", "reduce")], "nowhere"),
        ([GraphEdge("x", "mu", "sideways")], "sideways"),
    ],
)
def test_graph_rejects_bad_edges(edges, match):
    with pytest.raises(ValueError, match=match):
        batchnorm_graph_figure(BN_NODES, edges)


def test_graph_rejects_empty_nodes():
    with pytest.raises(ValueError, match="empty"):
        batchnorm_graph_figure({}, [])


# --------------------------------------------------------------------------
# histograms
# --------------------------------------------------------------------------


def test_histograms_draw_the_counts_on_shared_bins():
    rng = np.random.default_rng(1)
    x = rng.normal([2.0, -4.0, 6.0], [1.0, 3.0, 0.5], size=(300, 3))
    out, _ = convlib.batchnorm_forward(x, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))
    fig = normalization_histograms_figure(x, out, bins=20, labels=["a", "b", "c"])
    assert len(fig.axes) == 2
    edges = np.linspace(min(x.min(), out.min()), max(x.max(), out.max()), 21)
    for ax, data in zip(fig.axes, (x, out)):
        steps = [p for p in ax.patches if isinstance(p, StepPatch)]
        assert len(steps) == 2 * 3  # a filled and an outlined step per feature
        for k in range(3):
            counts, _ = np.histogram(data[:, k], edges)
            for patch in steps[2 * k : 2 * k + 2]:
                values, drawn_edges, _ = patch.get_data()
                assert np.array_equal(values, counts)
                assert np.allclose(drawn_edges, edges)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a", "b", "c"]


def test_histograms_reject_bad_input():
    a = np.zeros((4, 2))
    with pytest.raises(ValueError, match="same shape"):
        normalization_histograms_figure(a, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="2-D"):
        normalization_histograms_figure(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="labels"):
        normalization_histograms_figure(a, a + 1, labels=["one"])
    with pytest.raises(ValueError, match="bins"):
        normalization_histograms_figure(a, a + 1, bins=0)
    with pytest.raises(TypeError, match="before"):
        normalization_histograms_figure([["a"]], a)


def test_histograms_of_constant_data_still_draw():
    fig = normalization_histograms_figure(np.ones((5, 1)), np.ones((5, 1)), bins=4)
    values, edges, _ = fig.axes[0].patches[0].get_data()
    assert values.sum() == 5 and edges[-1] > edges[0]


# --------------------------------------------------------------------------
# jacobians
# --------------------------------------------------------------------------


def test_jacobians_drawn_on_one_symmetric_scale():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((5, 5))
    b = np.diag(rng.standard_normal(5)) * 3
    fig = jacobian_figure({"train": a, "eval": b}, title="J")
    assert len(fig.axes) == 3  # two panels and a colour bar
    vmax = max(np.abs(a).max(), np.abs(b).max())
    for ax, mat, name in zip(fig.axes[:2], (a, b), ("train", "eval")):
        (image,) = [im for im in ax.get_images() if isinstance(im, AxesImage)]
        assert np.array_equal(image.get_array(), mat)
        assert image.get_clim() == pytest.approx((-vmax, vmax))
        assert ax.get_title() == name
    assert fig.get_suptitle() == "J"


def test_jacobians_reject_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        jacobian_figure({})
    with pytest.raises(ValueError, match="2-D"):
        jacobian_figure({"v": np.zeros(3)})


def test_graph_labels_use_the_books_notation():
    # M values per feature (m is the optimizers' first moment), x_ctr the centred input
    labels = " ".join(node.label for node in BN_NODES.values())
    shapes = {node.shape for node in BN_NODES.values()}
    assert shapes == {"(M, C)", "(C,)"}
    assert "x_c " not in labels and "x_c^" not in labels and "x_c\\," not in labels
    assert r"x_{\mathrm{ctr}} = x - \mu" in labels
