"""Tests for convlib.plotting.backward_diagrams: the figures draw the gradients convlib computes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from convlib import conv2d_backward_naive, conv2d_forward_naive
from convlib.plotting import backward_diagrams
from convlib.plotting.backward_animation import (
    backward_accumulation_animation,
    backward_accumulation_steps,
)
from convlib.plotting.backward_diagrams import (
    full_correlation_figure,
    gradient_reach_figure,
    touch_graph_figure,
    touch_pairs,
)
from convlib.plotting.primitives import animation_html


def _patches(ax, gid):
    return [p for p in ax.patches if p.get_gid() == gid]


def _cells(patches):
    """(row, col) of the unit squares drawn by draw_array (centred on integers)."""
    return sorted((round(p.get_y() + 0.5), round(p.get_x() + 0.5)) for p in patches)


def _node_values(ax, gid):
    """The numbers written in the node texts with this gid, in drawing order."""
    return [float(t.get_text().split("= ")[-1]) for t in ax.texts if t.get_gid() == gid]


def _full_conv_by_definition(dy, w):
    """dx[r, s] = sum over (i, j) of dy[i, j] * w[r - i, s - j], straight from the chain rule."""
    kh, kw = w.shape
    dx = np.zeros((dy.shape[0] + kh - 1, dy.shape[1] + kw - 1))
    for i in range(dy.shape[0]):
        for j in range(dy.shape[1]):
            for p in range(kh):
                for q in range(kw):
                    dx[i + p, j + q] += dy[i, j] * w[p, q]
    return dx


# --------------------------------------------------------------------------
# touch_pairs and the bipartite graph
# --------------------------------------------------------------------------


@pytest.mark.parametrize("length, k", [(5, 3), (4, 1), (6, 6), (7, 2)])
def test_touch_pairs_match_the_forward_sum(length, k):
    pairs = touch_pairs(length, k)
    assert len(pairs) == (length - k + 1) * k
    assert len(set(pairs)) == len(pairs)
    rng = np.random.default_rng(length * 10 + k)
    x, w = rng.normal(size=length), rng.normal(size=k)
    y = np.zeros(length - k + 1)
    for i, j, tap in pairs:
        y[i] += w[tap] * x[j]
    np.testing.assert_allclose(y, np.correlate(x, w, mode="valid"), rtol=1e-12)


def test_touch_pairs_rejects_bad_sizes():
    with pytest.raises(ValueError, match="larger than length"):
        touch_pairs(3, 4)
    with pytest.raises(TypeError, match="length"):
        touch_pairs(3.0, 2)
    with pytest.raises(ValueError, match="kernel_size"):
        touch_pairs(3, 0)


def test_touch_graph_forward_only():
    x = np.array([1.0, 2.0, -1.0, 0.0, 3.0])
    w = np.array([2.0, -1.0, 1.0])
    fig = touch_graph_figure(x, w, b=0.5)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    for k in range(3):
        assert len(_patches(ax, f"edge-{k}")) == 3  # one edge per output for each tap
    assert _node_values(ax, "x") == x.tolist()
    np.testing.assert_allclose(_node_values(ax, "y"), np.correlate(x, w, "valid") + 0.5)
    assert not [t for t in ax.texts if t.get_gid() in ("dx", "dy")]
    # forward edges point from an input (row y = 1) down to an output (row y = 0)
    for p in _patches(ax, "edge-0"):
        (_, ya), (_, yb) = p._posA_posB
        assert (ya, yb) == (1.0, 0.0)


def test_touch_graph_backward_panel_carries_dy_to_dx():
    rng = np.random.default_rng(3)
    x, w, dy = rng.normal(size=6), rng.normal(size=3), rng.normal(size=4)
    fig = touch_graph_figure(x, w, b=-1.0, dy=dy, fmt="{:.12g}")
    ax_f, ax_b = fig.axes
    edges_f = sorted(len(_patches(ax_f, f"edge-{k}")) for k in range(3))
    edges_b = sorted(len(_patches(ax_b, f"edge-{k}")) for k in range(3))
    assert edges_f == edges_b == [4, 4, 4]
    np.testing.assert_allclose(_node_values(ax_b, "dy"), dy, rtol=1e-10)
    # dx is the full convolution of dy with w (the kernel flipped)
    np.testing.assert_allclose(
        _node_values(ax_b, "dx"), np.convolve(dy, w, mode="full"), rtol=1e-10
    )
    for p in _patches(ax_b, "edge-2"):
        (_, ya), (_, yb) = p._posA_posB
        assert (ya, yb) == (0.0, 1.0)  # reversed: output -> input
    labels = [t.get_text() for t in ax_b.texts if t.get_gid() == "edge-label"]
    assert sorted(labels) == sorted([f"$w_{{{k}}}$" for k in range(3)] * 4)


def test_touch_graph_rejects_bad_dy():
    with pytest.raises(ValueError, match="one entry per output"):
        touch_graph_figure(np.zeros(5), np.ones(3), dy=np.ones(4))
    with pytest.raises(ValueError, match="x must be 1-D"):
        touch_graph_figure(np.zeros((2, 5)), np.ones(3))


# --------------------------------------------------------------------------
# Full correlation
# --------------------------------------------------------------------------


def test_full_correlation_figure_2d():
    rng = np.random.default_rng(0)
    dy = rng.integers(-2, 3, size=(4, 3)).astype(float)
    w = rng.integers(-2, 3, size=(2, 3)).astype(float)
    pos = (3, 1)
    fig = full_correlation_figure(dy, w, pos)
    ax_d, ax_w, ax_x = fig.axes
    np.testing.assert_array_equal(ax_d.images[0].get_array(), np.pad(dy, ((1, 1), (2, 2))))
    np.testing.assert_array_equal(ax_w.images[0].get_array(), w[::-1, ::-1])
    expected = _full_conv_by_definition(dy, w)
    np.testing.assert_allclose(ax_x.images[0].get_array(), expected, atol=1e-12)
    assert _cells(_patches(ax_d, "highlight")) == [(r, c) for r in (3, 4) for c in (1, 2, 3)]
    assert _cells(_patches(ax_x, "highlight")) == [pos]
    assert len(_patches(ax_d, "padding")) == 4
    caption = fig.texts[-1].get_text()
    assert caption.startswith("dx[3, 1] = ")
    assert caption.endswith(f"= {expected[pos]:g}")
    assert caption.count("·") == w.size


def test_full_correlation_figure_1d_and_errors():
    dy = np.array([1.0, -2.0, 0.5])
    w = np.array([2.0, -1.0, 1.0])
    fig = full_correlation_figure(dy, w, 2)
    ax_d, ax_w, ax_x = fig.axes
    assert ax_d.images[0].get_array().shape == (1, 7)
    np.testing.assert_allclose(ax_x.images[0].get_array()[0], np.convolve(dy, w))
    assert fig.texts[-1].get_text() == "dx[2] = 1·1 + (-2)·(-1) + 0.5·2 = 4"
    assert ax_w.get_title() == "w reversed"
    big = full_correlation_figure(np.ones((2, 2)), np.ones((4, 4)), (1, 1), max_sum_terms=9)
    assert big.texts[-1].get_text() == "dx[1, 1] = 4"
    with pytest.raises(ValueError, match="both be 1-D or both 2-D"):
        full_correlation_figure(dy, np.ones((2, 2)))
    with pytest.raises(ValueError, match="outside dx"):
        full_correlation_figure(dy, w, 5)


# --------------------------------------------------------------------------
# Gradient reach
# --------------------------------------------------------------------------


def test_gradient_reach_figure():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(3, 2))
    positions = [(0, 0), (2, 3)]
    douts, dxs = [], []
    for pos in positions:
        d = np.zeros((4, 5))
        d[pos] = 1.0
        douts.append(d)
        dxs.append(_full_conv_by_definition(d, w))
    fig = gradient_reach_figure(douts, dxs, (3, 2), titles=["a", "b"], annotate=False)
    assert len(fig.axes) == 4
    for m, pos in enumerate(positions):
        ax_d, ax_x = fig.axes[2 * m], fig.axes[2 * m + 1]
        np.testing.assert_array_equal(ax_d.images[0].get_array(), douts[m])
        np.testing.assert_array_equal(ax_x.images[0].get_array(), dxs[m])
        assert _cells(_patches(ax_d, "highlight")) == [pos]
        window = [(pos[0] + p, pos[1] + q) for p in range(3) for q in range(2)]
        assert _cells(_patches(ax_x, "highlight")) == window
        # the gradient lives exactly on the window
        assert sorted(map(tuple, np.argwhere(dxs[m] != 0))) == window
        assert not ax_x.texts  # annotate=False
    assert fig.axes[0].get_title() == "a\ndout"


def test_gradient_reach_figure_rejects_bad_input():
    d = np.zeros((3, 3))
    with pytest.raises(ValueError, match="one-hot"):
        gradient_reach_figure([d], [np.zeros((5, 5))], 3)
    d[1, 1] = 1.0
    with pytest.raises(ValueError, match="has shape"):
        gradient_reach_figure([d], [np.zeros((4, 4))], 3)
    with pytest.raises(ValueError, match="equal length"):
        gradient_reach_figure([d], [], 3)


# --------------------------------------------------------------------------
# The backward loop, step by step
# --------------------------------------------------------------------------


def test_backward_accumulation_steps_end_at_convlib_gradients():
    rng = np.random.default_rng(2)
    x, w, dout = rng.normal(size=(6, 5)), rng.normal(size=(3, 2)), rng.normal(size=(4, 4))
    steps = backward_accumulation_steps(dout, x, w)
    assert len(steps) == 16
    assert [s.pos for s in steps] == [(i, j) for i in range(4) for j in range(4)]
    _, cache = conv2d_forward_naive(x[None, :, :, None], w[:, :, None, None], None)
    dx, dw, _ = conv2d_backward_naive(dout[None, :, :, None], cache)
    np.testing.assert_allclose(steps[-1].dx, dx[0, :, :, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(steps[-1].dw, dw[:, :, 0, 0], rtol=1e-12, atol=1e-12)
    assert steps[-1].touched.all()
    prev_dx, prev_dw = np.zeros_like(x), np.zeros_like(w)
    for s in steps:
        i, j = s.pos
        assert s.g == dout[i, j]
        inc = s.dx - prev_dx
        expected = np.zeros_like(x)
        expected[i : i + 3, j : j + 2] = s.g * w
        np.testing.assert_allclose(inc, expected, atol=1e-12)
        np.testing.assert_allclose(s.dw - prev_dw, s.g * x[i : i + 3, j : j + 2], atol=1e-12)
        prev_dx, prev_dw = s.dx, s.dw
    assert not steps[0].touched[3:].any() and steps[0].touched[:3, :2].all()


def test_backward_accumulation_steps_rejects_bad_shapes():
    with pytest.raises(ValueError, match="dout has shape"):
        backward_accumulation_steps(np.zeros((3, 3)), np.zeros((4, 4)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="larger than the input"):
        backward_accumulation_steps(np.zeros((1, 1)), np.zeros((2, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="x must be 2-D"):
        backward_accumulation_steps(np.zeros((1, 1)), np.zeros(4), np.zeros((3, 3)))


def test_backward_accumulation_animation_frames_and_final_state():
    x = np.arange(16.0).reshape(4, 4) - 8
    w = np.array([[1.0, -1.0], [0.0, 2.0]])
    dout = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0], [0.0, -2.0, 1.0]])
    anim = backward_accumulation_animation(dout, x, w)
    html = animation_html(anim)
    assert html.data.count("data:image/png;base64") == 9
    fig = anim._fig
    ax_d, ax_w, ax_dx = fig.axes
    expected = _full_conv_by_definition(dout, w)
    shown = ax_dx.images[0].get_array()
    np.testing.assert_allclose(shown, expected)
    assert not np.ma.getmaskarray(shown).any()
    assert sorted(t.get_text() for t in ax_dx.texts) == sorted(f"{v:g}" for v in expected.ravel())
    assert _cells(_patches(ax_d, "highlight")) == [(2, 2)]
    assert _cells(_patches(ax_dx, "highlight")) == [(2, 2), (2, 3), (3, 2), (3, 3)]
    assert fig.texts[-1].get_text() == "step 9/9:  dout[2, 2] = 1,   dx[2:4, 2:4] += 1·w"


def test_backward_accumulation_animation_with_dw_and_limits():
    rng = np.random.default_rng(5)
    x = rng.integers(-2, 3, size=(3, 4)).astype(float)
    w = rng.integers(-2, 3, size=(2, 2)).astype(float)
    dout = rng.integers(-2, 3, size=(2, 3)).astype(float)
    anim = backward_accumulation_animation(dout, x, w, show_dw=True)
    html = animation_html(anim)
    assert html.data.count("data:image/png;base64") == 6
    ax_d, ax_w, ax_dx, ax_x, ax_dw = anim._fig.axes
    steps = backward_accumulation_steps(dout, x, w)
    np.testing.assert_allclose(ax_dw.images[0].get_array(), steps[-1].dw)
    assert _cells(_patches(ax_x, "highlight")) == [(1, 2), (1, 3), (2, 2), (2, 3)]
    assert "dw += " in anim._fig.texts[-1].get_text()
    with pytest.raises(ValueError, match="max_frames"):
        backward_accumulation_animation(np.zeros((6, 6)), np.zeros((8, 8)), np.ones((3, 3)))


def test_the_animation_is_still_importable_from_backward_diagrams():
    assert backward_diagrams.backward_accumulation_steps is backward_accumulation_steps
    with pytest.raises(AttributeError):
        backward_diagrams.no_such_name  # noqa: B018


def test_1d_graph_titles_use_taps_u_and_input_pixels_i_prime():
    # the book's notation: taps u (k is a class index), input pixels i', upright d
    fig = touch_graph_figure(np.arange(5.0), np.array([1.0, -1.0, 2.0]), dy=np.ones(3))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith(r"forward: $y_i = b + \sum_u w_u\, x_{i+u}$")
    assert (
        titles[1]
        == r"backward, same edges reversed: $\mathrm{d}x_{i'} = \sum_u \mathrm{d}y_{i'-u}\, w_u$"
    )
