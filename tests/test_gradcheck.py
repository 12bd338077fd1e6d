"""Tests of convlib.gradcheck: the checker must pass right gradients and catch wrong ones.

The deliberately wrong backward functions below are the bugs a learner
typically writes: a sign error, a factor of 2, a forgotten gradient, a
flipped or transposed kernel, a gradient of the wrong shape.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from convlib import (
    GradientReport,
    check_gradients,
    conv2d_backward,
    conv2d_forward,
    numerical_gradient,
    rel_error,
)

# --------------------------------------------------------------------------
# A small affine layer, written here, with a correct backward
# --------------------------------------------------------------------------


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """``x (N, D) @ w (D, M) + b (M,)`` -> ``(N, M)``."""
    return x @ w + b, (x, w)


def affine_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def affine_inputs(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=(4, 5)), "w": rng.normal(size=(5, 3)), "b": rng.normal(size=3)}


def conv_inputs(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(2, 5, 6, 2)),
        "w": rng.normal(size=(3, 3, 2, 3)),
        "b": rng.normal(size=3),
    }


# --------------------------------------------------------------------------
# numerical_gradient
# --------------------------------------------------------------------------


def test_numerical_gradient_of_square_is_two_x() -> None:
    x = np.random.default_rng(1).normal(size=(3, 4))
    num = numerical_gradient(lambda v: v**2, x)
    np.testing.assert_allclose(num, 2 * x, rtol=1e-8, atol=1e-10)


def test_numerical_gradient_is_centered() -> None:
    # For a cubic the centered difference is exact up to h**2:
    # ((x+e)^3 - (x-e)^3) / (2e) = 3x^2 + e^2. A one-sided difference would
    # be off by 3*x*e instead.
    x = np.array([-1.5, 0.0, 0.5, 2.0])
    h = 1e-2
    num = numerical_gradient(lambda v: v**3, x, h=h)
    np.testing.assert_allclose(num, 3 * x**2 + h**2, rtol=1e-9, atol=1e-12)


def test_numerical_gradient_of_matrix_product_with_dout() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(size=(3, 4))
    b = rng.normal(size=(4, 2))
    g = rng.normal(size=(3, 2))  # upstream gradient of a @ b
    num_a = numerical_gradient(lambda v: v @ b, a, dout=g)
    num_b = numerical_gradient(lambda v: a @ v, b, dout=g)
    np.testing.assert_allclose(num_a, g @ b.T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(num_b, a.T @ g, rtol=1e-8, atol=1e-10)


def test_numerical_gradient_of_scalar_function() -> None:
    x = np.linspace(-2.0, 2.0, 7)
    num = numerical_gradient(lambda v: float(np.sum(np.sin(v))), x)
    np.testing.assert_allclose(num, np.cos(x), rtol=1e-8, atol=1e-10)


def test_numerical_gradient_default_dout_is_ones() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=(2, 3))
    b = rng.normal(size=(3, 4))
    np.testing.assert_allclose(
        numerical_gradient(lambda v: v @ b, a),
        numerical_gradient(lambda v: v @ b, a, dout=np.ones((2, 4))),
        rtol=1e-12,
    )


def test_numerical_gradient_restores_x() -> None:
    x = np.random.default_rng(4).normal(size=(2, 3, 2))
    before = x.copy()
    numerical_gradient(lambda v: np.exp(v), x)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(
    ("x", "kwargs", "exc", "name"),
    [
        ([1.0, 2.0], {}, TypeError, "x"),  # a list cannot be perturbed in place
        (np.array([1, 2]), {}, TypeError, "x"),  # integers cannot be perturbed
        (np.array([1.0, 2.0]), {"h": 0.0}, ValueError, "h must be"),
        (np.array([1.0, 2.0]), {"h": -1e-5}, ValueError, "h must be"),
        (np.array([1.0, 2.0]), {"dout": np.ones(3)}, ValueError, "dout"),
    ],
)
def test_numerical_gradient_rejects_bad_arguments(
    x: Any, kwargs: dict, exc: type[Exception], name: str
) -> None:
    with pytest.raises(exc, match=name):
        numerical_gradient(lambda v: v * 2.0, x, **kwargs)


# --------------------------------------------------------------------------
# rel_error
# --------------------------------------------------------------------------


def test_rel_error_zero_arrays_is_zero() -> None:
    assert rel_error(np.zeros((2, 3)), np.zeros((2, 3))) == 0.0


def test_rel_error_empty_arrays_is_zero() -> None:
    assert rel_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0


def test_rel_error_identical_arrays_is_zero() -> None:
    a = np.random.default_rng(5).normal(size=(4, 4))
    assert rel_error(a, a.copy()) == 0.0


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "expected"),
    [
        ([1.0], [3.0], {}, 0.5),  # |1-3| / (1+3)
        ([1.0], [-1.0], {}, 1.0),  # opposite signs: the largest possible error
        ([2.0, 4.0], [2.0, 5.0], {}, 1 / 9),
        # an entry tiny next to the others is compared with 1e-3 of the scale:
        # 1e-3 / max(1e-3, 1e-3 * 2000)
        ([1000.0, 0.0], [1000.0, 1e-3], {}, 5e-4),
        ([1000.0, 0.0], [1000.0, 1e-3], {"floor": 0.0}, 1.0),
        ([1000.0, 0.0], [1000.0, 1e-3], {"floor": 1e-2}, 5e-5),
        ([0.0, 0.0], [0.0, 1e-3], {}, 1.0),  # nothing to compare against but itself
    ],
)
def test_rel_error_hand_values(a: list, b: list, kwargs: dict, expected: float) -> None:
    assert rel_error(np.array(a), np.array(b), **kwargs) == pytest.approx(expected, rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from([(1,), (5,), (3, 4), (2, 2, 3)]))
def test_rel_error_symmetric_and_bounded(seed: int, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=shape)
    b = a + rng.normal(size=shape) * 10.0 ** rng.integers(-12, 1)
    e = rel_error(a, b)
    assert e == rel_error(b, a)
    assert 0.0 <= e <= 1.0
    assert rel_error(a, a) == 0.0


def test_rel_error_accepts_lists_and_integers() -> None:
    assert rel_error([1, 2, 3], [1, 2, 3]) == 0.0
    assert rel_error([[1, 1]], np.array([[1.0, 3.0]])) == pytest.approx(0.5)


def test_rel_error_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="shape"):
        rel_error(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="shape"):
        rel_error(np.zeros((2, 3)), np.zeros((3, 2)))


def test_rel_error_rejects_non_numbers() -> None:
    with pytest.raises(TypeError, match=r"\ba\b"):
        rel_error(np.array(["x", "y"]), np.zeros(2))
    with pytest.raises(TypeError, match=r"\bb\b"):
        rel_error(np.zeros(2), np.array([1j, 2j]))


# --------------------------------------------------------------------------
# check_gradients on correct pairs
# --------------------------------------------------------------------------


def test_check_gradients_passes_correct_affine() -> None:
    report = check_gradients(affine_forward, affine_backward, affine_inputs())
    assert isinstance(report, GradientReport)
    assert report.passed
    assert set(report.max_rel_error) == {"x", "w", "b"}
    assert max(report.max_rel_error.values()) < 1e-7
    text = str(report)
    assert "passed" in text and "FAILED" not in text
    for name in ("x", "w", "b"):
        assert f"{name}:" in text


def test_check_gradients_passes_correct_conv() -> None:
    report = check_gradients(
        conv2d_forward,
        conv2d_backward,
        conv_inputs(),
        stride=(2, 1),
        padding="same",
        dilation=(1, 2),
    )
    assert report.passed
    assert set(report.max_rel_error) == {"x", "w", "b"}
    assert max(report.max_rel_error.values()) < 1e-7


def test_check_gradients_passes_kwargs_and_casts_to_float64() -> None:
    seen: dict[str, Any] = {}

    def forward(x: np.ndarray, *, scale: float) -> tuple[np.ndarray, float]:
        seen["dtype"] = x.dtype
        seen["scale"] = scale
        return scale * x**2, (x, scale)

    def backward(dout: np.ndarray, cache: tuple) -> np.ndarray:  # a single array for one input
        x, scale = cache
        return 2 * scale * x * dout

    x32 = np.random.default_rng(6).normal(size=(3, 2)).astype(np.float32)
    report = check_gradients(forward, backward, {"x": x32}, scale=3.0)
    assert report.passed
    assert seen == {"dtype": np.dtype(np.float64), "scale": 3.0}
    assert x32.dtype == np.float32  # the caller's array is not converted in place


def test_check_gradients_uses_given_dout() -> None:
    used: list[np.ndarray] = []

    def backward(dout: np.ndarray, cache: tuple) -> tuple:
        used.append(dout.copy())
        return affine_backward(dout, cache)

    dout = np.arange(12.0).reshape(4, 3)
    check_gradients(affine_forward, backward, affine_inputs(), dout=dout)
    np.testing.assert_array_equal(used[0], dout)


def test_check_gradients_dout_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="dout"):
        check_gradients(affine_forward, affine_backward, affine_inputs(), dout=np.ones((3, 4)))


def test_check_gradients_is_reproducible_for_a_seed() -> None:
    r1 = check_gradients(affine_forward, affine_backward, affine_inputs(), seed=7)
    r2 = check_gradients(affine_forward, affine_backward, affine_inputs(), seed=7)
    assert r1.max_rel_error == r2.max_rel_error


# --------------------------------------------------------------------------
# check_gradients must catch wrong backward functions
# --------------------------------------------------------------------------


def wrong_sign_backward(dout: np.ndarray, cache: tuple) -> tuple:
    dx, dw, db = affine_backward(dout, cache)
    return dx, -dw, db


def scaled_by_two_backward(dout: np.ndarray, cache: tuple) -> tuple:
    dx, dw, db = affine_backward(dout, cache)
    return 2 * dx, dw, db


def zero_backward(dout: np.ndarray, cache: tuple) -> tuple:
    dx, dw, db = affine_backward(dout, cache)
    return dx, dw, np.zeros_like(db)


def conv_flipped_kernel_backward(dout: np.ndarray, cache: Any) -> tuple:
    dx, dw, db = conv2d_backward(dout, cache)
    return dx, dw[::-1, ::-1], db  # the kernel gradient rotated by 180 degrees


def conv_transposed_kernel_backward(dout: np.ndarray, cache: Any) -> tuple:
    dx, dw, db = conv2d_backward(dout, cache)
    return dx, dw.transpose(1, 0, 2, 3), db  # rows and columns swapped


def _failure(forward: Any, backward: Any, inputs: Any, **kwargs: Any) -> str:
    with pytest.raises(AssertionError) as excinfo:
        check_gradients(forward, backward, inputs, **kwargs)
    return str(excinfo.value)


def _line_of(message: str, name: str) -> str:
    """The report line (and hint) of input ``name``."""
    match = re.search(rf"^  {re.escape(name)}: .*?(?=^  \S|\Z)", message, flags=re.M | re.S)
    assert match, f"no line for {name!r} in:\n{message}"
    return match.group(0)


def test_check_gradients_catches_wrong_sign() -> None:
    msg = _failure(affine_forward, wrong_sign_backward, affine_inputs())
    assert "FAILED" in msg
    assert "WRONG" in _line_of(msg, "w")
    assert "wrong sign" in _line_of(msg, "w")
    assert "[ok]" in _line_of(msg, "x") and "[ok]" in _line_of(msg, "b")


def test_check_gradients_catches_factor_of_two() -> None:
    msg = _failure(affine_forward, scaled_by_two_backward, affine_inputs())
    line = _line_of(msg, "x")
    assert "WRONG" in line
    assert re.search(r"times 2\b", line), line
    assert "[ok]" in _line_of(msg, "w")


def test_check_gradients_catches_all_zero_gradient() -> None:
    msg = _failure(affine_forward, zero_backward, affine_inputs())
    line = _line_of(msg, "b")
    assert "WRONG" in line
    assert "all zeros" in line


def test_check_gradients_catches_flipped_kernel() -> None:
    msg = _failure(conv2d_forward, conv_flipped_kernel_backward, conv_inputs(), padding=1)
    line = _line_of(msg, "w")
    assert "WRONG" in line
    assert "wrong places" in line
    assert "[ok]" in _line_of(msg, "x")


def test_check_gradients_catches_transposed_kernel() -> None:
    msg = _failure(conv2d_forward, conv_transposed_kernel_backward, conv_inputs())
    line = _line_of(msg, "w")
    assert "WRONG" in line
    assert "wrong places" in line


def test_check_gradients_catches_wrong_shape() -> None:
    def backward(dout: np.ndarray, cache: tuple) -> tuple:
        dx, dw, db = affine_backward(dout, cache)
        return dx, dw, db[None, :]  # (1, M) instead of (M,)

    with pytest.raises(AssertionError, match=r"gradient of b has shape \(1, 3\)"):
        check_gradients(affine_forward, backward, affine_inputs())


def test_check_gradients_catches_missing_gradient() -> None:
    def backward(dout: np.ndarray, cache: tuple) -> tuple:
        dx, dw, _ = affine_backward(dout, cache)
        return dx, dw  # forgot db

    with pytest.raises(AssertionError, match=r"2 gradient\(s\) for 3 input\(s\)"):
        check_gradients(affine_forward, backward, affine_inputs())


def test_check_gradients_none_gradient_is_an_error_when_requested() -> None:
    def backward(dout: np.ndarray, cache: tuple) -> tuple:
        dx, dw, _ = affine_backward(dout, cache)
        return dx, dw, None

    with pytest.raises(AssertionError, match=r"None as the gradient of b"):
        check_gradients(affine_forward, backward, affine_inputs(), wrt=["b"])
    # Without wrt, a None gradient just means "no gradient": x and w are checked.
    report = check_gradients(affine_forward, backward, affine_inputs())
    assert set(report.max_rel_error) == {"x", "w"}


def test_check_gradients_names_input_and_worst_index() -> None:
    bad_index = (1, 3)

    def backward(dout: np.ndarray, cache: tuple) -> tuple:
        dx, dw, db = affine_backward(dout, cache)
        dx = dx.copy()
        dx[bad_index] += 1.0  # one wrong entry
        return dx, dw, db

    msg = _failure(affine_forward, backward, affine_inputs())
    line = _line_of(msg, "x")
    assert "WRONG" in line
    assert f"at index {bad_index}" in line
    assert "[ok]" in _line_of(msg, "w") and "[ok]" in _line_of(msg, "b")
    # one of 20 entries: the hint points at a local mistake
    assert "5.0% of entries" in line
    assert "hint: only 5.0% of entries are wrong" in line


def test_check_gradients_hint_for_an_input_that_does_not_matter() -> None:
    def forward(x: np.ndarray, unused: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return 3.0 * x, x

    def backward(dout: np.ndarray, cache: np.ndarray) -> tuple:
        return 3.0 * dout, np.ones(2)  # claims a gradient for an input the output ignores

    rng = np.random.default_rng(9)
    msg = _failure(forward, backward, {"x": rng.normal(size=3), "unused": rng.normal(size=2)})
    line = _line_of(msg, "unused")
    assert "WRONG" in line and "does not affect the output" in line
    assert "[ok]" in _line_of(msg, "x")


def test_check_gradients_never_passes_nan() -> None:
    def backward(dout: np.ndarray, cache: tuple) -> tuple:
        dx, dw, db = affine_backward(dout, cache)
        dw = dw.copy()
        dw[0, 0] = np.nan
        return dx, dw, db

    with pytest.raises(AssertionError, match="w"):
        check_gradients(affine_forward, backward, affine_inputs())


def test_check_gradients_report_without_raising() -> None:
    report = check_gradients(
        affine_forward, wrong_sign_backward, affine_inputs(), raise_on_failure=False
    )
    assert not report.passed
    by_name = {r.name: r for r in report.inputs}
    assert not by_name["w"].passed and by_name["x"].passed and by_name["b"].passed
    assert by_name["w"].max_rel_error == pytest.approx(1.0)  # a sign flip is the maximal error
    assert by_name["w"].fraction_wrong == 1.0
    assert by_name["w"].analytic == pytest.approx(-by_name["w"].numerical, rel=1e-6)
    assert "FAILED" in str(report)


def test_check_gradients_respects_tol() -> None:
    def slightly_off(dout: np.ndarray, cache: tuple) -> tuple:
        dx, dw, db = affine_backward(dout, cache)
        return dx * (1 + 1e-5), dw, db

    with pytest.raises(AssertionError, match="x"):
        check_gradients(affine_forward, slightly_off, affine_inputs())
    assert check_gradients(affine_forward, slightly_off, affine_inputs(), tol=1e-4).passed


# --------------------------------------------------------------------------
# wrt and input naming
# --------------------------------------------------------------------------


def test_check_gradients_wrt_selects_inputs() -> None:
    report = check_gradients(affine_forward, affine_backward, affine_inputs(), wrt=["w"])
    assert [r.name for r in report.inputs] == ["w"]
    # a bug in an input that is not selected goes unnoticed ...
    report = check_gradients(
        affine_forward, scaled_by_two_backward, affine_inputs(), wrt=["w", "b"]
    )
    assert report.passed and set(report.max_rel_error) == {"w", "b"}
    # ... and is caught once it is selected
    with pytest.raises(AssertionError, match="x"):
        check_gradients(affine_forward, scaled_by_two_backward, affine_inputs(), wrt=["x"])


def test_check_gradients_unknown_wrt_raises() -> None:
    with pytest.raises(ValueError, match="wrt"):
        check_gradients(affine_forward, affine_backward, affine_inputs(), wrt=["z"])


def test_check_gradients_sequence_inputs_are_named_x0_x1() -> None:
    inputs = affine_inputs()
    seq = [inputs["x"], inputs["w"], inputs["b"]]
    report = check_gradients(affine_forward, affine_backward, seq)
    assert [r.name for r in report.inputs] == ["x0", "x1", "x2"]
    msg = _failure(affine_forward, wrong_sign_backward, seq)
    assert "WRONG" in _line_of(msg, "x1")
    assert "[ok]" in _line_of(msg, "x0")
    report = check_gradients(affine_forward, affine_backward, tuple(seq), wrt=["x2"])
    assert [r.name for r in report.inputs] == ["x2"]


def test_check_gradients_skips_integer_inputs() -> None:
    # e.g. class labels: no gradient, backward returns None for them
    def forward(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, tuple]:
        return x[np.arange(len(y)), y] ** 2, (x, y)

    def backward(dout: np.ndarray, cache: tuple) -> tuple:
        x, y = cache
        dx = np.zeros_like(x)
        dx[np.arange(len(y)), y] = 2 * x[np.arange(len(y)), y] * dout
        return dx, None

    rng = np.random.default_rng(8)
    report = check_gradients(
        forward, backward, {"x": rng.normal(size=(4, 3)), "y": np.array([0, 2, 1, 2])}
    )
    assert [r.name for r in report.inputs] == ["x"]


def test_check_gradients_needs_a_float_input() -> None:
    def forward(y: np.ndarray) -> tuple[np.ndarray, None]:
        return y * 2.0, None

    with pytest.raises(ValueError, match="no floating-point input"):
        check_gradients(forward, lambda dout, cache: None, {"y": np.array([1, 2])})


def test_check_gradients_rejects_non_numeric_input_by_name() -> None:
    with pytest.raises(TypeError, match="labels"):
        check_gradients(
            affine_forward, affine_backward, {"x": np.ones((2, 2)), "labels": ["a", "b"]}
        )


# --------------------------------------------------------------------------
# numerical_gradient and check_gradients refuse what they cannot do right
# --------------------------------------------------------------------------


def test_numerical_gradient_restores_x_when_f_raises() -> None:
    x = np.array([1.0, 2.0, 3.0])
    before = x.copy()
    calls = []

    def f(v: np.ndarray) -> np.ndarray:
        calls.append(1)
        if len(calls) == 4:  # the first perturbed evaluation
            raise RuntimeError("boom")
        return v**2

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_refuses_an_f_that_modifies_its_argument() -> None:
    x = np.array([1.0, 2.0, 3.0])
    before = x.copy()

    def f(v: np.ndarray) -> np.ndarray:
        v *= 1.0001  # in place: a learner's typical slip
        return v.sum()

    with pytest.raises(ValueError, match=r"f modified its argument in place.*v\.copy\(\)"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)  # restored as well


def test_numerical_gradient_refuses_an_f_that_modifies_another_element_later() -> None:
    # unchanged at the start point, but writes into x once a perturbation is seen
    x = np.array([1.0, 2.0])

    def f(v: np.ndarray) -> float:
        if v[0] != 1.0:
            v[1] = 0.0
        return float(v.sum())

    with pytest.raises(ValueError, match=r"modified its argument.*index \(1,\)"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_gradient_refuses_a_non_deterministic_f() -> None:
    rng = np.random.default_rng(0)
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="not deterministic"):
        numerical_gradient(lambda v: v * rng.random(3), x)


def test_numerical_gradient_warns_in_float32() -> None:
    from convlib.gradcheck import GradientCheckWarning

    assert issubclass(GradientCheckWarning, UserWarning)
    x = np.array([1.0, 2.0], dtype=np.float32)
    with pytest.warns(GradientCheckWarning, match=r"float32.*1e-3.*float64"):
        g = numerical_gradient(lambda v: v**2, x, h=1e-2)
    np.testing.assert_allclose(g, [2.0, 4.0], rtol=1e-2)


def test_numerical_gradient_does_not_warn_in_float64(recwarn: pytest.WarningsRecorder) -> None:
    numerical_gradient(lambda v: v**2, np.array([1.0, 2.0]))
    assert not recwarn.list


def test_check_gradients_refuses_a_forward_that_modifies_its_input() -> None:
    def forward(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, tuple]:
        np.maximum(w, 0, out=w)  # in place on an input
        return x @ w, (x, w)

    def backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray]:
        x, w = cache
        return dout @ w.T, x.T @ dout

    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match=r"modified its input w in place"):
        check_gradients(
            forward, backward, {"x": rng.normal(size=(2, 3)), "w": rng.normal(size=(3, 2))}
        )


def test_check_gradients_refuses_a_non_deterministic_forward() -> None:
    rng = np.random.default_rng(2)

    def forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mask = rng.random(x.shape) < 0.5  # a fresh dropout mask on every call
        return x * mask, mask

    with pytest.raises(ValueError, match="forward is not deterministic"):
        check_gradients(forward, lambda dout, mask: dout * mask, {"x": rng.normal(size=(4, 4))})


def test_check_gradients_warns_when_forward_computes_in_float32() -> None:
    from convlib.gradcheck import GradientCheckWarning

    def forward(x: np.ndarray) -> tuple[np.ndarray, None]:
        return (x.astype(np.float32) ** 2), None

    x = np.array([[1.0, 2.0]])
    with pytest.warns(GradientCheckWarning, match="forward's output has dtype float32"):
        check_gradients(forward, lambda dout, cache: 2 * x * dout, {"x": x}, h=1e-2, tol=1e-1)


# --------------------------------------------------------------------------
# argument checks, before anything is evaluated (issue 10)
# --------------------------------------------------------------------------


def test_numerical_gradient_refuses_a_non_callable_f_before_touching_x() -> None:
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match=r"f must be callable .*got 3 \(int\)"):
        numerical_gradient(3, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


@pytest.mark.parametrize(
    "change, error, match",
    [
        ({"forward": "affine"}, TypeError, r"forward must be callable"),
        ({"backward": None}, TypeError, r"backward must be callable"),
        (
            {"inputs": 5},
            TypeError,
            r"inputs must be a dict of named arrays or a list of arrays.*got int",
        ),
        ({"inputs": np.ones((4, 5))}, TypeError, r"for one array x, pass \[x\]"),
        ({"inputs": "x"}, TypeError, r"inputs must be .*got str"),
        ({"inputs": []}, ValueError, r"inputs is empty"),
        (
            {"wrt": "x"},
            TypeError,
            r"wrt must be a list of input names, got the string 'x': for one input, wrt=\['x'\]",
        ),
        ({"wrt": 3}, TypeError, r"wrt must be a list of input names, got 3 \(int\)"),
        ({"seed": "a"}, TypeError, r"seed must be an integer"),
        ({"seed": -1}, ValueError, r"seed must be >= 0"),
        ({"raise_on_failure": "no"}, TypeError, r"raise_on_failure must be a bool"),
    ],
)
def test_check_gradients_refuses_bad_arguments_before_calling_forward(
    change: dict, error: type, match: str
) -> None:
    calls = []

    def forward(*args: Any) -> Any:
        calls.append(args)
        return affine_forward(*args)

    args = {"forward": forward, "backward": affine_backward, "inputs": affine_inputs()} | change
    with pytest.raises(error, match=match):
        check_gradients(args.pop("forward"), args.pop("backward"), args.pop("inputs"), **args)
    assert not calls, "forward ran before the arguments were checked"


def test_check_gradients_accepts_wrt_as_a_tuple_or_set_and_numpy_seed() -> None:
    for wrt in (("x", "w"), {"x", "w"}):
        report = check_gradients(
            affine_forward, affine_backward, affine_inputs(), wrt=wrt, seed=np.int64(3)
        )
        assert {r.name for r in report.inputs} == {"x", "w"}


# --------------------------------------------------------------------------
# the step is called h; eps is a deprecated alias (issue 14)
# --------------------------------------------------------------------------


def test_eps_is_a_deprecated_alias_of_h_in_numerical_gradient() -> None:
    x = np.array([0.3, 1.2])
    with pytest.warns(DeprecationWarning, match=r"numerical_gradient\(eps=\.\.\.\).*h=0\.01"):
        old = numerical_gradient(np.sin, x.copy(), eps=1e-2)
    new = numerical_gradient(np.sin, x.copy(), h=1e-2)
    np.testing.assert_array_equal(old, new)  # the same step, the same numbers
    # and not the default step: a step of 1e-2 leaves an O(h**2) error
    assert rel_error(new, numerical_gradient(np.sin, x.copy())) > 1e-6


def test_eps_is_a_deprecated_alias_of_h_in_check_gradients() -> None:
    x = np.array([[0.3, 1.2]])

    def forward(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return v**3, v

    with pytest.warns(DeprecationWarning, match=r"check_gradients\(eps=\.\.\.\)"):
        old = check_gradients(forward, lambda d, v: 3 * v**2 * d, [x], eps=1e-2, tol=1.0)
    new = check_gradients(forward, lambda d, v: 3 * v**2 * d, [x], h=1e-2, tol=1.0)
    assert old.max_rel_error == new.max_rel_error
    assert new.max_rel_error["x0"] > 1e-6  # the O(h**2) error of h = 1e-2 shows


@pytest.mark.parametrize("h", [1e-5, 1e-3])  # also the default value, passed explicitly
def test_passing_both_h_and_eps_is_a_type_error(h: float) -> None:
    with pytest.raises(TypeError, match=r"both h=.* and its deprecated old name eps=0\.001"):
        numerical_gradient(np.sin, np.ones(2), h=h, eps=1e-3)
    with pytest.raises(TypeError, match=r"check_gradients\(\) got both h="):
        check_gradients(lambda v: (v, None), lambda d, c: d, [np.ones(2)], h=h, eps=1e-3)


def test_a_bad_eps_is_named_eps_in_the_message() -> None:
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=r"^eps must be"):
        numerical_gradient(np.sin, np.ones(2), eps=0.0)
