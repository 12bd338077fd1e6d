"""Tests for convlib.plotting.capstone_diagrams: each figure draws exactly the data it is given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from convlib import History
from convlib.plotting.capstone_diagrams import (
    confusion_matrix_figure,
    filters_figure,
    image_grid_figure,
    training_curves_figure,
)


def _images(ax):
    return [a for a in ax.get_children() if isinstance(a, AxesImage)]


def _history(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return History(
        train_loss=list(rng.uniform(0.1, 1.0, n)),
        train_acc=list(rng.uniform(0.8, 1.0, n)),
        val_loss=list(rng.uniform(0.1, 1.0, n)),
        val_acc=list(rng.uniform(0.8, 1.0, n)),
        seconds=[1.0] * n,
        lr=[1e-3] * n,
    )


# --------------------------------------------------------------------------
# image_grid_figure
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n, ncols, rows", [(7, 3, 3), (8, 8, 1), (2, 8, 1), (9, 4, 3)])
def test_image_grid_draws_each_image_once_in_order(n, ncols, rows):
    rng = np.random.default_rng(n)
    images = rng.integers(0, 256, size=(n, 5, 4)).astype(np.uint8)
    titles = [f"#{k}\nline" for k in range(n)]
    before = len(plt.get_fignums())
    fig = image_grid_figure(images, titles, ncols=ncols)
    assert isinstance(fig, Figure)
    assert len(plt.get_fignums()) == before  # closed in pyplot
    assert len(fig.axes) == n  # unused cells removed
    for k, ax in enumerate(fig.axes):
        (im,) = _images(ax)
        assert np.array_equal(im.get_array(), images[k])
        assert ax.get_title() == titles[k]
    # the grid has the requested number of rows
    tops = {round(ax.get_position().y1, 6) for ax in fig.axes}
    assert len(tops) == rows


def test_image_grid_accepts_a_channel_axis_and_no_titles():
    images = np.arange(2 * 3 * 3, dtype=float).reshape(2, 3, 3, 1)
    fig = image_grid_figure(images, ncols=5, suptitle="two")
    assert len(fig.axes) == 2
    assert all(ax.get_title() == "" for ax in fig.axes)
    assert np.array_equal(_images(fig.axes[1])[0].get_array(), images[1, :, :, 0])
    assert fig._suptitle.get_text() == "two"


def test_image_grid_title_colors():
    fig = image_grid_figure(np.zeros((2, 3, 3)), ["a", "b"], title_colors=["red", "blue"])
    assert fig.axes[0].title.get_color() == "red"
    assert fig.axes[1].title.get_color() == "blue"


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(images=np.zeros((3, 4))), ValueError, "(N, H, W)"),
        (dict(images=np.zeros((0, 4, 4))), ValueError, "at least one"),
        (dict(images=np.zeros((2, 4, 4)), titles=["a"]), ValueError, "titles"),
        (dict(images=np.zeros((2, 4, 4)), title_colors=["red"]), ValueError, "title_colors"),
        (dict(images=np.zeros((2, 4, 4)), ncols=0), ValueError, "ncols"),
        (dict(images=np.array([["a"]])), TypeError, "images"),
    ],
)
def test_image_grid_rejects_bad_input(kwargs, exc, words):
    with pytest.raises(exc, match=words.replace("(", r"\(").replace(")", r"\)")):
        image_grid_figure(**kwargs)


# --------------------------------------------------------------------------
# training_curves_figure
# --------------------------------------------------------------------------


@pytest.mark.parametrize("as_dict", [False, True])
def test_training_curves_draw_the_history(as_dict):
    h = _history(4)
    fig = training_curves_figure(h.as_dict() if as_dict else h)
    assert len(fig.axes) == 2
    ax_loss, ax_acc = fig.axes
    epochs = [1, 2, 3, 4]
    for ax, train_key, test_key, scale in (
        (ax_loss, "train_loss", "val_loss", 1.0),
        (ax_acc, "train_acc", "val_acc", 100.0),
    ):
        lines = {ln.get_gid(): ln for ln in ax.get_lines()}
        assert set(lines) == {"train", "test"}
        assert np.array_equal(lines["train"].get_xdata(), epochs)
        assert np.allclose(lines["train"].get_ydata(), scale * np.array(getattr(h, train_key)))
        assert np.allclose(lines["test"].get_ydata(), scale * np.array(getattr(h, test_key)))
    assert "%" in ax_acc.get_ylabel()


def test_training_curves_reject_bad_histories():
    with pytest.raises(ValueError, match="empty"):
        training_curves_figure(History())
    d = _history(3).as_dict()
    d["val_acc"] = d["val_acc"][:2]
    with pytest.raises(ValueError, match="differ in length"):
        training_curves_figure(d)
    del d["val_acc"]
    with pytest.raises(TypeError, match="val_acc"):
        training_curves_figure(d)
    with pytest.raises(TypeError, match="History"):
        training_curves_figure(object())


# --------------------------------------------------------------------------
# filters_figure
# --------------------------------------------------------------------------


@pytest.mark.parametrize("ncols, rows_per_set", [(None, 1), (5, 1), (3, 2), (2, 3)])
def test_filters_figure_one_block_per_set_on_a_symmetric_scale(ncols, rows_per_set):
    rng = np.random.default_rng(3)
    before = rng.standard_normal((3, 3, 1, 5))
    after = 3 * rng.standard_normal((3, 3, 5))
    fig = filters_figure({"before": before, "after": after}, ncols=ncols)
    filter_axes = [ax for ax in fig.axes if _images(ax)]
    assert len(filter_axes) == 2 * 5
    assert len(fig.axes) == 2 * 5 + 2  # one colour bar per set; unused cells removed
    for r, w in enumerate((before[:, :, 0, :], after)):
        lim = np.max(np.abs(w))
        for k in range(5):
            (im,) = _images(filter_axes[5 * r + k])
            assert np.array_equal(im.get_array(), w[:, :, k])
            assert im.get_clim() == pytest.approx((-lim, lim))
    assert filter_axes[0].get_ylabel() == "before"
    assert filter_axes[5].get_ylabel() == "after"
    assert [filter_axes[k].get_title() for k in range(5)] == ["0", "1", "2", "3", "4"]
    assert all(filter_axes[5 + k].get_title() == "" for k in range(5))
    tops = {round(ax.get_position().y1, 6) for ax in filter_axes}
    assert len(tops) == 2 * rows_per_set


def test_filters_figure_single_array_and_all_zero_filters():
    fig = filters_figure(np.zeros((2, 2, 1, 3)))
    filter_axes = [ax for ax in fig.axes if _images(ax)]
    assert len(filter_axes) == 3
    assert _images(filter_axes[0])[0].get_clim() == (-1.0, 1.0)
    with pytest.raises(ValueError, match="ncols"):
        filters_figure(np.zeros((2, 2, 3)), ncols=0)


@pytest.mark.parametrize(
    "filters, words",
    [
        (np.zeros((3, 3, 2, 4)), "single-channel"),
        (np.zeros((3, 3)), "KH, KW, F"),
        ({}, "empty"),
        ({"a": np.zeros((3, 3, 4)), "b": np.zeros((3, 3, 5))}, "same number"),
    ],
)
def test_filters_figure_rejects_bad_input(filters, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        filters_figure(filters)


# --------------------------------------------------------------------------
# confusion_matrix_figure
# --------------------------------------------------------------------------


def test_confusion_matrix_figure_writes_every_count_and_colours_only_errors():
    rng = np.random.default_rng(4)
    k = 4
    y_true = rng.integers(0, k, 200)
    y_pred = np.where(rng.random(200) < 0.8, y_true, rng.integers(0, k, 200))
    cm = np.bincount(k * y_true + y_pred, minlength=k * k).reshape(k, k)
    fig = confusion_matrix_figure(cm, class_names=list("abcd"))
    ax = fig.axes[0]
    texts = [t for t in ax.texts if t.get_gid() == "count"]
    assert [int(t.get_text()) for t in texts] == cm.ravel().tolist()
    assert [t.get_position() for t in texts] == [(j, i) for i in range(k) for j in range(k)]
    (im,) = _images(ax)
    data = im.get_array()
    assert np.array_equal(data.mask, np.eye(k, dtype=bool))
    assert np.array_equal(data.data, cm)
    off = cm[~np.eye(k, dtype=bool)]
    assert im.get_clim() == (0, off.max())
    assert [t.get_text() for t in ax.get_xticklabels()] == list("abcd")
    assert len(fig.axes) == 2  # the matrix and its colour bar


def test_confusion_matrix_without_errors():
    fig = confusion_matrix_figure(np.diag([5, 7, 9]))
    texts = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "count"]
    assert texts == ["5", "0", "0", "0", "7", "0", "0", "0", "9"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["0", "1", "2"]


@pytest.mark.parametrize(
    "cm, kwargs, words",
    [
        (np.zeros((2, 3)), {}, "square"),
        (np.zeros(4), {}, "(K, K)"),
        (np.array([[1, -1], [0, 2]]), {}, "negative"),
        (np.array([[1.5, 0], [0, 2]]), {}, "whole numbers"),
        (np.eye(3), {"class_names": ["a", "b"]}, "class_names"),
    ],
)
def test_confusion_matrix_rejects_bad_input(cm, kwargs, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        confusion_matrix_figure(cm, **kwargs)
