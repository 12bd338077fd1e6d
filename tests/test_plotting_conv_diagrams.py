"""Tests for convlib.plotting.conv_diagrams: the figures draw the numbers convlib computes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from convlib import conv2d_forward_naive, conv_output_size, resolve_padding
from convlib.plotting.conv_diagrams import (
    GEOMETRY_COLORS,
    animation_html,
    conv_geometry_figure,
    conv_window_figure,
    draw_array,
    feature_maps_figure,
    padding_modes_figure,
    receptive_field,
    sliding_window_animation,
)


def _patches(ax, gid):
    return [p for p in ax.patches if p.get_gid() == gid]


def _cells(patches):
    """(row, col) of unit-square patches drawn by draw_array (centred on integers)."""
    return sorted((round(p.get_y() + 0.5), round(p.get_x() + 0.5)) for p in patches)


def _naive_2d(x, w, **kw):
    out, _ = conv2d_forward_naive(x[None, :, :, None], w[:, :, None, None], None, **kw)
    return out[0, :, :, 0]


# --------------------------------------------------------------------------
# receptive_field
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stride, dilation, padding",
    [(1, 1, "valid"), (2, 1, "same"), ((1, 2), (2, 1), 1), (3, 2, "full")],
)
def test_receptive_field_reproduces_the_convolution(stride, dilation, padding):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, 8))
    w = rng.normal(size=(3, 2))
    out = _naive_2d(x, w, stride=stride, padding=padding, dilation=dilation)
    pads = resolve_padding(
        padding, x.shape, w.shape, np.broadcast_to(stride, 2), np.broadcast_to(dilation, 2)
    )
    xp = np.pad(x, pads)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            rows, cols = receptive_field((i, j), w.shape, stride, dilation)
            assert rows.shape == (3,) and cols.shape == (2,)
            assert np.isclose(np.sum(xp[np.ix_(rows, cols)] * w), out[i, j])


def test_receptive_field_rejects_bad_arguments():
    with pytest.raises(ValueError, match="stride"):
        receptive_field((0, 0), 3, stride=0)
    with pytest.raises(TypeError, match="kernel_hw"):
        receptive_field((0, 0), 2.5)


# --------------------------------------------------------------------------
# draw_array
# --------------------------------------------------------------------------


def test_draw_array_draws_values_numbers_highlight_and_padding():
    values = np.arange(20.0).reshape(4, 5)
    fig = Figure()
    ax = fig.add_subplot()
    im = draw_array(ax, values, highlight=[(1, 2), (3, 4)], pad=((1, 0), (0, 2)), title="t")
    np.testing.assert_array_equal(im.get_array(), values)
    assert [t.get_text() for t in ax.texts] == [f"{v:g}" for v in values.ravel()]
    assert _cells(_patches(ax, "highlight")) == [(1, 2), (3, 4)]
    # top band and right band only
    bands = _patches(ax, "padding")
    assert sorted((p.get_width(), p.get_height()) for p in bands) == [(2, 3), (5, 1)]
    assert ax.get_title() == "t"


def test_draw_array_one_d_mask_nan_and_formatter():
    fig = Figure()
    ax = fig.add_subplot()
    values = np.array([0.5, np.nan, -1.25])
    mask = np.array([[True, False, True]])
    im = draw_array(ax, values, highlight=mask, fmt=lambda v: f"<{v}>")
    assert im.get_array().shape == (1, 3)
    assert im.get_array().mask.tolist() == [[False, True, False]]
    assert [t.get_text() for t in ax.texts] == ["<0.5>", "<-1.25>"]
    assert _cells(_patches(ax, "highlight")) == [(0, 0), (0, 2)]


def test_draw_array_rejects_bad_input():
    ax = Figure().add_subplot()
    with pytest.raises(ValueError, match="values"):
        draw_array(ax, np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="highlight mask"):
        draw_array(ax, np.zeros((2, 3)), highlight=np.ones((3, 2), dtype=bool))
    with pytest.raises(ValueError, match="outside"):
        draw_array(ax, np.zeros((2, 3)), highlight=[(2, 0)])
    with pytest.raises(ValueError, match="pad"):
        draw_array(ax, np.zeros((2, 3)), pad=2)
    with pytest.raises(TypeError, match="fmt"):
        draw_array(ax, np.zeros((2, 3)), fmt=3)
    with pytest.raises(TypeError, match="values"):
        draw_array(ax, np.array([["a"]]))


# --------------------------------------------------------------------------
# conv_window_figure
# --------------------------------------------------------------------------


def test_conv_window_figure_shows_convlib_output_and_the_window():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 4, size=(7, 7))
    w = rng.integers(-1, 2, size=(3, 3))
    fig = conv_window_figure(x, w, (1, 2), stride=2, padding="same")
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == []  # not registered with pyplot
    ax_x, ax_w, ax_o = fig.axes
    pads = resolve_padding("same", (7, 7), (3, 3), (2, 2), (1, 1))
    xp = np.pad(x, pads)
    expected = _naive_2d(x, w, stride=2, padding="same")
    np.testing.assert_array_equal(ax_x.images[0].get_array(), xp)
    np.testing.assert_array_equal(ax_w.images[0].get_array(), w)
    np.testing.assert_allclose(ax_o.images[0].get_array(), expected)
    rows, cols = receptive_field((1, 2), 3, 2, 1)
    assert _cells(_patches(ax_x, "highlight")) == [(r, c) for r in rows for c in cols]
    assert _cells(_patches(ax_o, "highlight")) == [(1, 2)]
    caption = fig.texts[-1].get_text()
    assert caption.startswith("out[1, 2] = ")
    assert caption.endswith(f"= {expected[1, 2]:g}")
    assert caption.count("·") == 9


def test_conv_window_figure_one_d_pads_the_width_only():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    w = np.array([1.0, 0.0, -1.0])
    fig = conv_window_figure(x, w, 0, padding=1, dilation=1, max_sum_terms=2)
    ax_x, _, ax_o = fig.axes
    np.testing.assert_array_equal(ax_x.images[0].get_array(), [[0, 1, 2, 3, 4, 0]])
    # out[j] = x[j-1] - x[j+1] with zero padding
    np.testing.assert_array_equal(ax_o.images[0].get_array(), [[-2, -2, -2, 3]])
    assert fig.texts[-1].get_text() == "out[0] = -2"  # 3 taps > max_sum_terms


def test_conv_window_figure_rejects_bad_input():
    with pytest.raises(ValueError, match="both"):
        conv_window_figure(np.zeros((4, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="outside the output"):
        conv_window_figure(np.zeros((4, 4)), np.zeros((3, 3)), (2, 0))


# --------------------------------------------------------------------------
# Geometry diagrams
# --------------------------------------------------------------------------


def _kinds(image):
    """Role of every cell of a geometry image, decoded from GEOMETRY_COLORS."""
    rgb = np.asarray(image.get_array())
    kinds = np.full(rgb.shape[:2], "", dtype=object)
    for kind, color in GEOMETRY_COLORS.items():
        kinds[np.all(np.isclose(rgb, to_rgb(color)), axis=-1)] = kind
    assert np.all(kinds != ""), "a cell has a colour outside GEOMETRY_COLORS"
    return kinds


def test_conv_geometry_figure_cells_follow_padding_stride_dilation():
    positions = [(0, 0), (1, 2)]
    fig = conv_geometry_figure(
        (6, 7), (2, 3), stride=(2, 1), padding=1, dilation=(1, 2), positions=positions
    )
    assert len(fig.axes) == 2
    oh = conv_output_size(6, 2, 2, 1, 1)
    ow = conv_output_size(7, 3, 1, 1, 2)
    for ax, pos in zip(fig.axes, positions):
        k_in, k_out = _kinds(ax.images[0]), _kinds(ax.images[1])
        assert k_in.shape == (8, 9) and k_out.shape == (oh, ow)
        rows, cols = receptive_field(pos, (2, 3), (2, 1), (1, 2))
        expected = np.full((8, 9), "padding", dtype=object)
        expected[1:7, 1:8] = "input"
        expected[np.ix_(rows, cols)] = "window"
        np.testing.assert_array_equal(k_in, expected)
        assert list(zip(*np.nonzero(k_out == "current"))) == [pos]
        # window cells on the padding (they read zeros) are hatched
        on_pad = [(r, c) for r in rows for c in cols if not (1 <= r < 7 and 1 <= c < 8)]
        hatched = sorted((int(p.get_y()), int(p.get_x())) for p in _patches(ax, "window-padding"))
        assert hatched == sorted(on_pad)
        assert (len(hatched) > 0) == (pos == (0, 0))  # only the first window reaches the padding
        # the output grid sits to the right of the padded input
        left, right, bottom, top = ax.images[1].get_extent()
        assert left == 9 + 1.5 and right - left == ow and bottom - top == oh
    assert "→ 4×5 output" in fig.get_suptitle()


def test_conv_geometry_default_positions_and_errors():
    fig = conv_geometry_figure(5, 3)
    assert [ax.get_title() for ax in fig.axes] == ["out[0, 0]", "out[0, 1]", "out[2, 2]"]
    fig = conv_geometry_figure(3, 3)  # 1x1 output: one panel
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match="outside the output"):
        conv_geometry_figure(5, 3, positions=[(3, 0)])
    with pytest.raises(ValueError, match="kernel"):
        conv_geometry_figure(2, 3)


@pytest.mark.parametrize("size, kernel", [(5, 3), (6, 2)])
def test_padding_modes_figure_output_sizes(size, kernel):
    modes = ("valid", "same", "full")
    fig = padding_modes_figure(size, kernel, modes)
    assert len(fig.axes) == 2 * len(modes)
    expected = {"valid": size - kernel + 1, "same": size, "full": size + kernel - 1}
    padded = {"valid": size, "same": size + kernel - 1, "full": size + 2 * (kernel - 1)}
    for row, mode in enumerate(modes):
        for ax in fig.axes[2 * row : 2 * row + 2]:
            assert ax.images[1].get_array().shape[:2] == (expected[mode],) * 2
            kinds = _kinds(ax.images[0])
            assert kinds.shape == (padded[mode],) * 2
            n_window_on_pad = len(_patches(ax, "window-padding"))
            assert np.sum(kinds == "padding") == padded[mode] ** 2 - size**2 - n_window_on_pad
            assert np.sum(kinds == "window") == kernel * kernel
        assert fig.axes[2 * row].get_title().startswith(f"'{mode}': out {expected[mode]}×")
    with pytest.raises(ValueError, match="modes"):
        padding_modes_figure(5, 3, ())


# --------------------------------------------------------------------------
# Animation
# --------------------------------------------------------------------------


def test_sliding_window_animation_frames_and_final_state():
    x = np.arange(16.0).reshape(4, 4)
    w = np.array([[1.0, -1.0], [0.0, 2.0]])
    anim = sliding_window_animation(x, w, stride=2)  # 2x2 output: 4 frames
    html = animation_html(anim)
    assert html.data.count("data:image/png;base64") == 4
    fig = anim._fig  # after rendering, the figure shows the last frame
    ax_x, _, ax_o = fig.axes
    expected = _naive_2d(x, w, stride=2)
    np.testing.assert_array_equal(ax_o.images[0].get_array(), expected)
    assert sorted(t.get_text() for t in ax_o.texts if t.get_visible()) == sorted(
        f"{v:g}" for v in expected.ravel()
    )
    assert _cells(_patches(ax_x, "highlight")) == [(2, 2), (2, 3), (3, 2), (3, 3)]
    assert _cells(_patches(ax_o, "highlight")) == [(1, 1)]
    assert fig.texts[-1].get_text().endswith(f"= {expected[1, 1]:g}")


def test_sliding_window_animation_partial_output_and_limits():
    x = np.arange(5.0)
    w = np.array([1.0, 1.0])
    anim = sliding_window_animation(x, w, positions=[0, 1])
    animation_html(anim)
    ax_o = anim._fig.axes[2]
    shown = ax_o.images[0].get_array()
    assert shown.mask.tolist() == [[False, False, True, True]]  # only two pixels computed
    np.testing.assert_array_equal(shown[0, :2], [1.0, 3.0])
    with pytest.raises(ValueError, match="max_frames"):
        sliding_window_animation(np.zeros((9, 9)), np.ones((3, 3)), max_frames=40)
    with pytest.raises(TypeError, match="FuncAnimation"):
        animation_html(Figure())


# --------------------------------------------------------------------------
# Feature maps
# --------------------------------------------------------------------------


def test_feature_maps_figure_with_image_and_kernels():
    rng = np.random.default_rng(2)
    maps = rng.normal(size=(1, 6, 5, 3))
    kernels = rng.normal(size=(3, 3, 1, 3))
    image = rng.random((8, 7))
    fig = feature_maps_figure(
        maps, image=image, kernels=kernels, titles=["a", "b", "c"], symmetric=True
    )
    assert len(fig.axes) == 8  # 4 panels x (kernel row + map row)
    map_axes = [ax for ax in fig.axes if ax.get_title() in ("input", "a", "b", "c")]
    assert [ax.get_title() for ax in map_axes] == ["input", "a", "b", "c"]
    np.testing.assert_array_equal(map_axes[0].images[0].get_array(), image)
    for f, ax in enumerate(map_axes[1:]):
        im = ax.images[0]
        np.testing.assert_array_equal(im.get_array(), maps[0, :, :, f])
        m = np.abs(maps[0, :, :, f]).max()
        assert im.get_clim() == pytest.approx((-m, m))
    kernel_axes = [ax for ax in fig.axes if ax.images and ax.images[0].get_array().shape == (3, 3)]
    assert len(kernel_axes) == 3
    for f, ax in enumerate(kernel_axes):
        np.testing.assert_array_equal(ax.images[0].get_array(), kernels[:, :, 0, f])
        assert len(ax.texts) == 9


def test_feature_maps_figure_wraps_and_validates():
    maps = np.zeros((4, 4, 5))
    fig = feature_maps_figure(maps, ncols=2)
    assert len(fig.axes) == 5  # 3 rows x 2 columns, the empty slot removed
    assert [ax.get_title() for ax in fig.axes] == [f"map {i}" for i in range(5)]
    with pytest.raises(ValueError, match="titles"):
        feature_maps_figure(maps, titles=["x"])
    with pytest.raises(ValueError, match="one kernel per map"):
        feature_maps_figure(maps, kernels=np.zeros((3, 3, 4)))
    with pytest.raises(ValueError, match="single image"):
        feature_maps_figure(np.zeros((2, 4, 4, 1)))


def test_animation_still_frame_is_the_last_frame_as_png():
    # the PDF edition (and any viewer without JavaScript) shows this still
    import base64
    import io
    import re

    import matplotlib.image as mpimg

    anim = sliding_window_animation(np.arange(16.0).reshape(4, 4), np.ones((2, 2)), stride=2)
    player = animation_html(anim)
    assert player._repr_html_() == player.data
    still = player._repr_png_()
    assert still.startswith(b"\x89PNG\r\n\x1a\n")
    last = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)", player.data)[-1]
    first = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=\\\n]+)", player.data)[0]
    decode = lambda b64: base64.b64decode(b64.replace("\\\n", ""))  # noqa: E731
    assert still == decode(last) and still != decode(first)
    assert mpimg.imread(io.BytesIO(still), format="png").ndim == 3
