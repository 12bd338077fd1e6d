"""Tests of convlib.adjoint.check_adjoint: the dot-product test <L(x), y> = <x, L^T(y)>.

Each linear part of convlib (conv in x and in w, pooling's gather and
scatter, im2col/col2im, pad/crop, dilate/subsample, dense) must pass, and a
deliberately wrong transpose of each -- the bugs a reader writes -- must fail.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import convlib
from convlib import (
    AdjointReport,
    avgpool2d_backward,
    avgpool2d_forward,
    check_adjoint,
    col2im,
    conv2d_backward,
    conv2d_backward_im2col,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_im2col,
    conv2d_forward_naive,
    dense_backward,
    dense_forward,
    im2col,
    maxpool2d_backward,
    maxpool2d_backward_naive,
    maxpool2d_forward,
    maxpool2d_forward_naive,
)
from convlib.plotting.fast_path import dilate_grid
from convlib.windows import crop_spatial, pad_spatial

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 7, 6, 3))
W = RNG.standard_normal((3, 2, 3, 4))
B = RNG.standard_normal(4)
CONV = {"x": X, "w": W, "b": B}

# --------------------------------------------------------------------------
# convlib's linear parts pass
# --------------------------------------------------------------------------

TIERS = [
    (conv2d_forward, conv2d_backward),
    (conv2d_forward_im2col, conv2d_backward_im2col),
    (conv2d_forward_naive, conv2d_backward_naive),
]


@pytest.mark.parametrize("forward, backward", TIERS)
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"stride": 2, "padding": "same"},
        {"stride": (2, 1), "padding": 1, "dilation": 2},
        {"stride": 3, "padding": "full"},
    ],
)
def test_conv_passes_in_x_w_and_b(forward: Any, backward: Any, options: dict) -> None:
    report = check_adjoint(forward, backward, CONV, **options)
    assert [r.name for r in report.results] == ["x", "w", "b"]
    assert report.passed
    # far below the tolerance, not just under it: exact to rounding
    assert report.max_rel_diff < 1e-14


def test_conv_without_bias_skips_the_none_input() -> None:
    report = check_adjoint(conv2d_forward, conv2d_backward, [X, W, None], stride=2)
    assert [r.name for r in report.results] == ["x0", "x1"]


@pytest.mark.parametrize(
    "forward, backward",
    [
        (maxpool2d_forward, maxpool2d_backward),
        (maxpool2d_forward_naive, maxpool2d_backward_naive),
        (avgpool2d_forward, avgpool2d_backward),
    ],
)
@pytest.mark.parametrize("options", [{}, {"stride": 1}, {"pool_size": 3, "padding": "same"}])
def test_pooling_gather_and_scatter_pass(forward: Any, backward: Any, options: dict) -> None:
    options = {"pool_size": 2, **options}
    assert check_adjoint(forward, backward, {"x": X}, **options).max_rel_diff < 1e-14


def test_im2col_and_col2im_are_adjoint() -> None:
    xp = pad_spatial(X, ((1, 2), (0, 1)))
    for k, s, d in [(3, 1, 1), (2, 2, 1), ((3, 2), (2, 1), (1, 2))]:
        report = check_adjoint(
            lambda v, k=k, s=s, d=d: (im2col(v, k, s, d), v.shape),
            lambda dcols, shape, k=k, s=s, d=d: col2im(dcols, shape, k, s, d),
            {"x_padded": xp},
        )
        assert report.max_rel_diff < 1e-14


PADS = ((1, 2), (0, 3))


def test_pad_and_crop_are_adjoint() -> None:
    report = check_adjoint(
        lambda v: (pad_spatial(v, PADS), None),
        lambda dy, _: crop_spatial(dy, PADS, X.shape[1:3]),
        [X],
    )
    assert report.max_rel_diff < 1e-14


def _subsample(d: np.ndarray, stride: int) -> np.ndarray:
    return d[::stride, ::stride]


def test_dilate_and_subsample_are_adjoint() -> None:
    """Inserting stride - 1 zeros (the backward of a stride) is the transpose of subsampling."""
    d = RNG.standard_normal((3, 4))
    for stride in (1, 2, 3):
        report = check_adjoint(
            lambda v, s=stride: (dilate_grid(v, s), None),
            lambda g, _, s=stride: _subsample(g, s),
            [d],
        )
        assert report.max_rel_diff < 1e-14


def test_dense_passes_in_x_and_w() -> None:
    report = check_adjoint(
        dense_forward, dense_backward, {"x": X[0, 0], "w": W[0, 0, :, :3].T, "b": B[:3]}
    )
    assert report.passed and len(report.results) == 3


def test_relu_passes_because_it_is_positively_homogeneous() -> None:
    """Blind to kinks: relu(x) = J(x) x exactly, so the identity holds at any x."""
    assert check_adjoint(convlib.relu_forward, convlib.relu_backward, [X]).passed


# --------------------------------------------------------------------------
# deliberately wrong transposes fail
# --------------------------------------------------------------------------


def _conv_with(change: Any) -> Any:
    def backward(dout: np.ndarray, cache: Any) -> Any:
        dx, dw, db = conv2d_backward(dout, cache)
        return change(dx, dw, db)

    return backward


WRONG_CONV = {
    "dx with the kernel flipped": lambda dout, cache: (
        conv2d_backward(dout, dataclasses.replace(cache, w=cache.w[::-1, ::-1].copy()))[0],
        *conv2d_backward(dout, cache)[1:],
    ),
    "dw transposed": _conv_with(lambda dx, dw, db: (dx, dw[::-1, ::-1], db)),
    "a border row of dx lost": _conv_with(
        lambda dx, dw, db: (np.concatenate([dx[:, :-1], 0 * dx[:, -1:]], axis=1), dw, db)
    ),
    "db not summed over the batch": _conv_with(lambda dx, dw, db: (dx, dw, db / 2)),
    "dx off by 1e-9 in one entry": _conv_with(
        lambda dx, dw, db: (dx + 1e-9 * (np.arange(dx.size) == 5).reshape(dx.shape), dw, db)
    ),
}


@pytest.mark.parametrize("bug", sorted(WRONG_CONV))
def test_a_wrong_conv_backward_fails(bug: str) -> None:
    with pytest.raises(AssertionError, match="adjoint test FAILED"):
        check_adjoint(conv2d_forward, WRONG_CONV[bug], CONV, stride=2, padding="same")


def test_a_tiny_error_that_finite_differences_miss_is_caught() -> None:
    """An error of 1e-9 in one entry of dx: check_gradients passes it, check_adjoint does not."""
    bug = WRONG_CONV["dx off by 1e-9 in one entry"]
    x, w = X[:1, :4, :4], W[:, :, :, :2]
    assert convlib.check_gradients(conv2d_forward, bug, {"x": x, "w": w, "b": B[:2]}).passed
    report = check_adjoint(
        conv2d_forward, bug, {"x": x, "w": w, "b": B[:2]}, raise_on_failure=False
    )
    assert not report.passed and report.rel_diff["x"] > 100 * report.results[0].tol


def test_col2im_that_assigns_instead_of_adding_fails() -> None:
    """The classic col2im bug: overlapping windows overwrite instead of accumulating."""

    def col2im_assign(dcols: np.ndarray, shape: tuple, k: int, s: int) -> np.ndarray:
        out = np.zeros(shape)
        n, hp, wp, c = shape
        oh, ow = (hp - k) // s + 1, (wp - k) // s + 1
        win = dcols.reshape(n, oh, ow, k, k, c)
        for p in range(k):
            for q in range(k):
                out[:, p : p + s * oh : s, q : q + s * ow : s] = win[:, :, :, p, q]
        return out

    with pytest.raises(AssertionError, match="forward is linear in x_padded"):
        check_adjoint(
            lambda v: (im2col(v, 3, 1), v.shape),
            lambda dcols, shape: col2im_assign(dcols, shape, 3, 1),
            {"x_padded": X},
        )
    # the same code is right when windows do not overlap (stride = kernel size)
    check_adjoint(
        lambda v: (im2col(v, 2, 2), v.shape),
        lambda dcols, shape: col2im_assign(dcols, shape, 2, 2),
        {"x_padded": X[:, :6]},
    )


def test_crop_at_the_wrong_offset_fails() -> None:
    with pytest.raises(AssertionError, match="adjoint test FAILED"):
        check_adjoint(
            lambda v: (pad_spatial(v, PADS), None),
            lambda dy, _: dy[:, : X.shape[1], : X.shape[2]],  # forgot the top/left offset
            [X],
        )


def test_a_scatter_to_the_window_corner_fails() -> None:
    """Max pooling's backward must route dout to the maximum, not to the window's first pixel."""

    def scatter_to_corner(dout: np.ndarray, cache: Any) -> np.ndarray:
        dx = np.zeros(cache.x_shape)
        dx[:, ::2, ::2][:, : dout.shape[1], : dout.shape[2]] = dout
        return dx

    with pytest.raises(AssertionError, match="adjoint test FAILED"):
        check_adjoint(maxpool2d_forward, scatter_to_corner, {"x": X[:, :6]}, pool_size=2)


def test_average_pooling_without_the_one_over_k_fails() -> None:
    def no_mean(dout: np.ndarray, cache: Any) -> np.ndarray:
        return avgpool2d_backward(dout, cache) * 4

    with pytest.raises(AssertionError, match="adjoint test FAILED"):
        check_adjoint(avgpool2d_forward, no_mean, {"x": X}, pool_size=2)


def test_subsample_that_forgets_the_stride_fails() -> None:
    d = RNG.standard_normal((3, 4))
    with pytest.raises(AssertionError, match="adjoint test FAILED"):
        check_adjoint(lambda v: (dilate_grid(v, 2), None), lambda g, _: g[:3, :4], [d])


# --------------------------------------------------------------------------
# the report and the tolerance
# --------------------------------------------------------------------------


def test_the_failure_message_names_both_inner_products_the_difference_and_the_shapes() -> None:
    with pytest.raises(AssertionError) as info:
        check_adjoint(conv2d_forward, WRONG_CONV["dw transposed"], CONV, wrt=["w"])
    text = str(info.value)
    assert "<L(w), y> = " in text and "<w, L^T(y)> = " in text
    assert "relative difference" in text and "tolerance" in text
    assert "w (3, 2, 3, 4), y (2, 5, 5, 4)" in text and "[WRONG]" in text
    assert "forward is linear in w" in text


def test_a_nonlinear_forward_fails_with_a_hint_to_use_check_gradients() -> None:
    report = check_adjoint(
        convlib.sigmoid_forward, convlib.sigmoid_backward, {"x": X}, raise_on_failure=False
    )
    assert not report.passed
    assert "not linear in x" in report.results[0].hint and "check_gradients" in str(report)


def test_the_report_is_reproducible_and_documents_the_inner_products() -> None:
    one = check_adjoint(conv2d_forward, conv2d_backward, CONV, rng=3)
    two = check_adjoint(conv2d_forward, conv2d_backward, CONV, rng=np.random.default_rng(3))
    assert isinstance(one, AdjointReport) and str(one) == str(two)
    other = check_adjoint(conv2d_forward, conv2d_backward, CONV, rng=4)
    assert one.results[0].forward_inner != other.results[0].forward_inner
    assert one.results[0].forward_inner == two.results[0].forward_inner


def test_the_default_tolerance_is_n_plus_m_rounding_units() -> None:
    report = check_adjoint(conv2d_forward, conv2d_backward, CONV, stride=2)
    eps = np.finfo(np.float64).eps
    for r in report.results:
        assert r.tol == (np.prod(r.x_shape) + np.prod(r.y_shape)) * eps
    assert check_adjoint(conv2d_forward, conv2d_backward, CONV, tol=1e-3).results[0].tol == 1e-3


def test_a_float32_forward_gets_a_float32_tolerance() -> None:
    def forward(x: np.ndarray, w: np.ndarray, b: None) -> tuple[np.ndarray, Any]:
        return dense_forward(x.astype(np.float32), w.astype(np.float32), b)

    x, w = X[0, 0], W[0, 0]  # (6, 3) and (3, 4)
    report = check_adjoint(forward, dense_backward, {"x": x, "w": w, "b": None}, wrt=["x"])
    assert report.dtype == np.float32 and "float32" in str(report)
    assert report.results[0].tol == (6 * 3 + 6 * 4) * float(np.finfo(np.float32).eps)
    assert report.passed and report.max_rel_diff > 1e-12  # float32 rounding shows


@settings(max_examples=15)
@given(
    n=st.integers(1, 2),
    hw=st.integers(3, 8),
    c=st.integers(1, 3),
    k=st.integers(1, 3),
    stride=st.integers(1, 3),
    pad=st.integers(0, 2),
    dilation=st.integers(1, 2),
    seed=st.integers(0, 2**16),
)
def test_conv_passes_over_random_shapes(
    n: int, hw: int, c: int, k: int, stride: int, pad: int, dilation: int, seed: int
) -> None:
    if (k - 1) * dilation + 1 > hw + 2 * pad:
        return
    rng = np.random.default_rng(seed)
    inputs = {"x": rng.standard_normal((n, hw, hw, c)), "w": rng.standard_normal((k, k, c, 2))}
    report = check_adjoint(
        conv2d_forward,
        conv2d_backward,
        [inputs["x"], inputs["w"], None],
        rng=seed,
        stride=stride,
        padding=pad,
        dilation=dilation,
    )
    # The observed error sits orders of magnitude under the size-based tolerance.
    assert all(r.rel_diff < r.tol / 10 for r in report.results)


# --------------------------------------------------------------------------
# bad calls
# --------------------------------------------------------------------------


def test_wrong_shape_and_count_of_gradients_are_reported() -> None:
    with pytest.raises(AssertionError, match=r"gradient of x0 has shape \(2, 7\)"):
        check_adjoint(lambda v: (v * 2, None), lambda d, _: d[:, :7, 0, 0], [X])
    with pytest.raises(AssertionError, match="backward returned 2 gradient"):
        check_adjoint(lambda v: (v * 2, None), lambda d, _: (d, d), [X])


def test_a_forward_that_does_not_return_a_pair_is_refused_with_the_recipe() -> None:
    with pytest.raises(TypeError, match=r"forward=lambda x: \(f\(x\), None\)"):
        check_adjoint(lambda v: v * 2, lambda d, _: 2 * d, [X])


def test_a_forward_that_modifies_its_input_is_refused() -> None:
    def forward(v: np.ndarray) -> tuple[np.ndarray, None]:
        v *= 2
        return v.copy(), None

    with pytest.raises(ValueError, match="modified its input x0 in place"):
        check_adjoint(forward, lambda d, _: 2 * d, [X])


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        ({"tol": -1.0}, ValueError, "tol"),
        ({"rng": "a"}, TypeError, "rng"),
        ({"wrt": "x"}, TypeError, "wrt"),
        ({"wrt": ["z"]}, ValueError, "wrt names"),
        ({"raise_on_failure": 1}, TypeError, "raise_on_failure"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, exc: type, words: str) -> None:
    with pytest.raises(exc, match=words):
        check_adjoint(conv2d_forward, conv2d_backward, CONV, **kwargs)


def test_nothing_to_check_is_an_error() -> None:
    with pytest.raises(ValueError, match="no floating-point input"):
        check_adjoint(lambda v: (v * 1.0, None), lambda d, _: None, [np.arange(3)])


def test_a_large_bias_does_not_fail_a_correct_backward() -> None:
    """forward(x) is rounded with its bias before forward(0) is subtracted: the scale has it."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 1, 1, 1)) * 1e-3, rng.standard_normal((1, 1, 1, 1))
    b = np.array([1e3])
    failures = 0
    for seed in range(50):
        report = check_adjoint(
            convlib.conv2d_forward,
            convlib.conv2d_backward,
            {"x": x, "w": w, "b": b},
            wrt=["x", "w"],
            rng=seed,
            raise_on_failure=False,
        )
        failures += not report.passed
    assert failures == 0


def test_gradient_and_adjoint_reports_print_alike():
    """GradientReport and AdjointReport share their verdicts and their layout (one base)."""
    from convlib.adjoint import AdjointReport, AdjointResult
    from convlib.gradcheck import GradientReport, InputReport

    def grad(name, passed, hint=""):
        return InputReport(name, 0.5, (0, 1), 1.0, 2.0, 0.25, passed, hint)

    def adj(name, passed, hint=""):
        return AdjointResult(name, (2,), (3,), 1.0, 1.5, 0.2, 1e-14, passed, hint)

    for report, make, head in (
        (
            GradientReport,
            grad,
            "gradient check {} (tolerance 1e-07, float64 centered differences):",
        ),
        (
            AdjointReport,
            adj,
            "adjoint test {} (<L(x), y> against <x, L^T(y)>, random x and y, float64):",
        ),
    ):
        empty = report()
        assert empty.passed and str(empty) == head.format("passed")
        good, bad = make("a", True), make("b", False, "look here")
        both = report([good, bad])
        assert not both.passed and report([good]).passed
        lines = str(both).split("\n")
        assert lines[0] == head.format("FAILED")
        assert "\n".join(lines[1:]) == f"{good.line()}\n{bad.line()}"
        assert good.line().endswith("  [ok]") and "hint" not in good.line()
        assert bad.line().endswith("  [WRONG]\n      hint: look here")
        assert bad.line().startswith("  b: ")
