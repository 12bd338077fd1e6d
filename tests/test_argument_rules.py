"""One rule per argument: layer classes and functions check hyper-parameters alike.

The table ``HYPER`` lists, for every hyper-parameter of the layers and
functions in activations, batchnorm, dropout, gradcheck and the layer
classes, how to run the function (and the class, when there is one) with a
given value. Each row is checked for

(a) NumPy scalars (and 0-d arrays for real values) accepted, with exactly the
    effect of the equal Python scalar;
(b) each bad value refused by class and function with the same exception
    type (the class at construction);
(c) a message that names the argument and prints plain numbers.

The second half checks the upstream-gradient rule of every backward owned
here (shape, cache, dtype), written once in ``convlib._checks.check_dout``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from convlib._checks import as_shape, check_cache_kind
from convlib.activations import (
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from convlib.batchnorm import (
    batchnorm_backward,
    batchnorm_backward_compact,
    batchnorm_backward_graph,
    batchnorm_forward,
    batchnorm_forward_broadcast,
)
from convlib.conv import conv2d_forward
from convlib.dense import dense_backward, dense_forward, flatten_backward, flatten_forward
from convlib.dropout import dropout_backward, dropout_forward
from convlib.gradcheck import check_gradients, numerical_gradient, rel_error
from convlib.layers import AvgPool2D, BatchNorm, Conv2D, Dropout, Layer, LeakyReLU, MaxPool2D
from convlib.model import Sequential, build_lenet
from convlib.pooling import avgpool2d_forward, maxpool2d_forward

F64 = np.float64
RNG = np.random.default_rng(0)
X2 = RNG.standard_normal((6, 3))  # (N, D)
X4 = RNG.standard_normal((2, 6, 6, 3))  # (N, H, W, C)
W_CONV = RNG.standard_normal((2, 2, 3, 4))


def layer_effect(layer: Layer, x: np.ndarray) -> list[np.ndarray]:
    """Output, input gradient, parameter gradients and buffers after one step."""
    out = layer.forward(x)
    dx = layer.backward(np.cos(out))
    return [out, dx, *layer.grads.values(), *layer.buffers.values()]


def bn_function(**kw: Any) -> list[np.ndarray]:
    rm, rv = np.zeros(3), np.ones(3)
    out, cache = batchnorm_forward(X2, np.ones(3), np.zeros(3), rm, rv, **kw)
    return [out, *batchnorm_backward(np.cos(out), cache), rm, rv]


def dropout_function(p: Any) -> list[np.ndarray]:
    out, cache = dropout_forward(X2, p, np.random.default_rng(0))
    return [out, dropout_backward(np.cos(out), cache)]


def leaky_function(alpha: Any) -> list[np.ndarray]:
    out, cache = leaky_relu_forward(X2, alpha)
    return [out, leaky_relu_backward(np.cos(out), cache)]


def square(v: np.ndarray) -> np.ndarray:
    return v**3


def affine_forward(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, Any]:
    return x @ w, (x, w)


def affine_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray]:
    x, w = cache
    return dout @ w.T, x.T @ dout


def gradcheck_report(**kw: Any) -> list[Any]:
    report = check_gradients(
        affine_forward,
        affine_backward,
        {"x": X2[:2], "w": X2[:3, :2]},
        raise_on_failure=False,
        **kw,
    )
    return [np.array([r.max_rel_error for r in report.inputs])]


@dataclass
class Hyper:
    """One hyper-parameter: how to use it in the function and in the class."""

    arg: str
    good: Any  # exactly representable in float32, so np.float32(good) == good
    function: Callable[[Any], list[Any]]
    layer: Callable[[Any], Layer] | None = None
    layer_input: np.ndarray | None = None
    bad: list[tuple[Any, type[Exception]]] = field(default_factory=list)
    integer: bool = False


REAL_TYPE_ERRORS = [
    ("0.5", TypeError),
    (True, TypeError),
    (None, TypeError),
    (np.array([0.5, 0.5]), TypeError),
    (1 + 0j, TypeError),
]
INT_TYPE_ERRORS = [(2.5, TypeError), ("2", TypeError), (True, TypeError)]

HYPER = [
    Hyper(
        "momentum",
        0.75,
        lambda v: bn_function(momentum=v),
        lambda v: BatchNorm(3, momentum=v, dtype=F64),
        X2,
        [
            (1.5, ValueError),
            (-0.25, ValueError),
            (np.float32(1.5), ValueError),
            (float("nan"), ValueError),
            *REAL_TYPE_ERRORS,
        ],
    ),
    Hyper(
        "eps",
        2.0**-10,
        lambda v: bn_function(eps=v),
        lambda v: BatchNorm(3, eps=v, dtype=F64),
        X2,
        [
            (-1e-5, ValueError),
            (np.float64(-1e-5), ValueError),
            (float("inf"), ValueError),
            (float("nan"), ValueError),
            *REAL_TYPE_ERRORS,
        ],
    ),
    Hyper(
        "alpha",
        0.125,
        leaky_function,
        lambda v: LeakyReLU(alpha=v, dtype=F64),
        X2,
        [(float("nan"), ValueError), (float("-inf"), ValueError), *REAL_TYPE_ERRORS],
    ),
    Hyper(
        "p",
        0.25,
        dropout_function,
        lambda v: Dropout(v, rng=0, dtype=F64),
        X2,
        [
            (1.0, ValueError),
            (np.float32(1.0), ValueError),
            (-0.5, ValueError),
            (float("nan"), ValueError),
            *REAL_TYPE_ERRORS,
        ],
    ),
    Hyper(
        "padding",
        1,
        lambda v: [maxpool2d_forward(X4, 2, padding=v)[0]],
        lambda v: MaxPool2D(2, padding=v, dtype=F64),
        X4,
        [
            (5, ValueError),
            (2, ValueError),
            ((0, 2), ValueError),
            ("full", ValueError),
            ("half", ValueError),
            (-1, ValueError),
            (1.5, TypeError),
        ],
        integer=True,
    ),
    Hyper(
        "padding",
        1,
        lambda v: [avgpool2d_forward(X4, (3, 2), stride=1, padding=v)[0]],
        lambda v: AvgPool2D((3, 2), stride=1, padding=v, dtype=F64),
        X4,
        [((0, 2), ValueError), (3, ValueError), (1.5, TypeError)],
        integer=True,
    ),
    Hyper(
        "pool_size",
        2,
        lambda v: [maxpool2d_forward(X4, v)[0]],
        lambda v: MaxPool2D(v, dtype=F64),
        X4,
        [(0, ValueError), (np.int64(0), ValueError), *INT_TYPE_ERRORS],
        integer=True,
    ),
    Hyper(
        "stride",
        2,
        lambda v: [conv2d_forward(X4, W_CONV, None, stride=v)[0]],
        lambda v: Conv2D(3, 4, 2, stride=v, rng=0, dtype=F64),
        X4,
        [(0, ValueError), *INT_TYPE_ERRORS],
        integer=True,
    ),
    # Functions without a class.
    Hyper(
        "h",
        2.0**-8,
        lambda v: [numerical_gradient(square, X2.copy(), h=v)],
        bad=[(0.0, ValueError), (-1e-5, ValueError), (float("nan"), ValueError), *REAL_TYPE_ERRORS],
    ),
    Hyper(
        "floor",
        0.125,
        lambda v: [rel_error([1.0, 0.0], [1.0, 1e-3], floor=v)],
        bad=[(-0.5, ValueError), (float("inf"), ValueError), *REAL_TYPE_ERRORS],
    ),
    Hyper(
        "h",
        2.0**-12,
        lambda v: gradcheck_report(h=v),
        bad=[(0.0, ValueError), *REAL_TYPE_ERRORS],
    ),
    Hyper(
        "tol",
        0.5,
        lambda v: gradcheck_report(tol=v),
        bad=[(-1.0, ValueError), *REAL_TYPE_ERRORS],
    ),
]
IDS = [
    f"{h.arg}-{'function' if h.layer is None else type(h.layer(h.good)).__name__}-{i}"
    for i, h in enumerate(HYPER)
]
BAD = [
    pytest.param(h, value, exc, id=f"{h.arg}={value!r}-{i}")
    for i, (h, value, exc) in enumerate((h, v, e) for h in HYPER for v, e in h.bad)
]


def numpy_variants(h: Hyper) -> list[Any]:
    if h.integer:
        return [np.int64(h.good), np.int32(h.good), np.uint8(h.good)]
    return [np.float32(h.good), np.float64(h.good), np.array(h.good), np.array(h.good, np.float32)]


def assert_same(a: list[Any], b: list[Any]) -> None:
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v, strict=True)


# (a) ----------------------------------------------------------------------


@pytest.mark.parametrize("h", HYPER, ids=IDS)
def test_numpy_scalars_have_the_effect_of_python_scalars(h):
    expected = h.function(h.good)
    for value in numpy_variants(h):
        assert_same(h.function(value), expected)
    if h.layer is not None:
        expected = layer_effect(h.layer(h.good), h.layer_input)
        for value in numpy_variants(h):
            layer = h.layer(value)
            assert_same(layer_effect(layer, h.layer_input), expected)


def test_the_issue_examples_are_accepted_and_stored_as_python_floats():
    bn = BatchNorm(3, momentum=np.float32(0.9))
    leaky = LeakyReLU(alpha=np.float32(0.1))
    drop = Dropout(np.float32(0.5))
    assert type(bn.momentum) is float and bn.momentum == float(np.float32(0.9))
    assert type(leaky.alpha) is float and type(drop.p) is float
    # repr prints plain numbers, not np.float32(...)
    assert "np." not in repr(bn) + repr(leaky) + repr(drop)
    assert repr(drop) == "Dropout(p=0.5)"


# (b) and (c) ----------------------------------------------------------------


def _raises(call: Callable[[], Any], exc: type[Exception]) -> str:
    with pytest.raises(Exception) as info:
        call()
    assert type(info.value) is exc, (
        f"expected {exc.__name__}, got {info.type.__name__}: {info.value}"
    )
    return str(info.value)


@pytest.mark.parametrize("h, value, exc", BAD)
def test_bad_value_same_error_from_class_and_function(h, value, exc):
    message = _raises(lambda: h.function(value), exc)
    assert re.search(rf"\b{h.arg}\b", message), message
    assert "np.float" not in message and "np.int" not in message, message
    if h.layer is not None:
        # The class refuses it when it is built, not at its first forward.
        layer_message = _raises(lambda: h.layer(value), exc)
        assert re.search(rf"\b{h.arg}\b", layer_message), layer_message
        assert "np.float" not in layer_message and "np.int" not in layer_message


def test_maxpool_padding_message_is_the_functions():
    """MaxPool2D(2, padding=5) fails in the constructor with the pooling function's words."""
    with pytest.raises(ValueError) as from_class:
        MaxPool2D(2, padding=5)
    with pytest.raises(ValueError) as from_function:
        maxpool2d_forward(X4, 2, padding=5)
    assert str(from_class.value) == str(from_function.value)
    assert "padding ((5, 5), (5, 5)) is too large for pool_size (2, 2)" in str(from_class.value)


def test_numpy_scalar_messages_print_plain_numbers():
    with pytest.raises(ValueError, match=r"^momentum must be in \[0, 1\], got 1.5$"):
        BatchNorm(3, momentum=np.float32(1.5))
    with pytest.raises(ValueError, match=r"^p must be in \[0, 1\), got 1$"):
        dropout_forward(X2, np.float64(1.0), np.random.default_rng(0))


# BatchNorm: one rule for class and function at the edges --------------------


def test_batchnorm_class_and_function_agree_on_momentum_1_and_eps_0():
    """momentum = 1 freezes the running statistics, eps = 0 is the bare formula: both accept both."""
    bn = BatchNorm(3, momentum=1, eps=0, dtype=F64)
    out_layer = bn.forward(X2)
    rm, rv = np.zeros(3), np.ones(3)
    out_fn, _ = batchnorm_forward(X2, np.ones(3), np.zeros(3), rm, rv, momentum=1.0, eps=0.0)
    np.testing.assert_array_equal(out_layer, out_fn)
    np.testing.assert_array_equal(bn.buffers["running_mean"], np.zeros(3))
    np.testing.assert_array_equal(bn.buffers["running_var"], np.ones(3))
    np.testing.assert_array_equal(rm, np.zeros(3))
    np.testing.assert_allclose(out_fn.std(axis=0), 1.0, rtol=1e-12)  # no eps: exactly unit variance


# Upstream gradients and caches: the one rule of check_dout -------------------


def _forwards():
    """(name, forward returning (out, cache) in float32, backward returning dx or (dx, ...))."""
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    w = RNG.standard_normal((3, 2)).astype(np.float32)
    g, b = np.ones(3, np.float32), np.zeros(3, np.float32)
    return [
        ("relu", lambda: relu_forward(x), relu_backward),
        ("leaky_relu", lambda: leaky_relu_forward(x, 0.1), leaky_relu_backward),
        ("sigmoid", lambda: sigmoid_forward(x), sigmoid_backward),
        ("tanh", lambda: tanh_forward(x), tanh_backward),
        ("dense", lambda: dense_forward(x, w, w[0]), dense_backward),
        ("flatten", lambda: flatten_forward(x.reshape(4, 3, 1)), flatten_backward),
        (
            "batchnorm",
            lambda: batchnorm_forward(x, g, b, np.zeros(3), np.ones(3)),
            batchnorm_backward,
        ),
        (
            "batchnorm",
            lambda: batchnorm_forward(x, g, b, np.zeros(3), np.ones(3)),
            batchnorm_backward_graph,
        ),
        (
            "batchnorm",
            lambda: batchnorm_forward_broadcast(x, g, b, np.zeros(3), np.ones(3)),
            batchnorm_backward_compact,
        ),
        ("dropout", lambda: dropout_forward(x, 0.5, np.random.default_rng(0)), dropout_backward),
    ]


FORWARDS = _forwards()
FWD_IDS = [bwd.__name__ for _, _, bwd in FORWARDS]


def _dx(result: Any) -> np.ndarray:
    return result[0] if isinstance(result, tuple) else result


@pytest.mark.parametrize("name, forward, backward", FORWARDS, ids=FWD_IDS)
def test_dout_dtype_rule(name, forward, backward):
    """Float dout: NumPy promotion with the forward's dtype; integer or bool dout: the forward's dtype."""
    out, cache = forward()
    assert out.dtype == np.float32
    ones = np.ones(out.shape)
    assert _dx(backward(ones.astype(np.float32), cache)).dtype == np.float32
    assert _dx(backward(ones, cache)).dtype == np.float64
    assert _dx(backward(ones.astype(np.int64), cache)).dtype == np.float32
    assert _dx(backward(ones.astype(bool), cache)).dtype == np.float32
    np.testing.assert_array_equal(
        _dx(backward(ones.astype(np.int8), cache)), _dx(backward(ones.astype(np.float32), cache))
    )


@pytest.mark.parametrize("name, forward, backward", FORWARDS, ids=FWD_IDS)
def test_dout_shape_and_cache_are_checked(name, forward, backward):
    out, cache = forward()
    wrong = np.ones((*out.shape, 1))
    with pytest.raises(
        ValueError,
        match=rf"dout has shape {re.escape(str(wrong.shape))} but the "
        rf"forward output had shape {re.escape(str(out.shape))}",
    ):
        backward(wrong, cache)
    with pytest.raises(TypeError, match=rf"returned by {name}_forward, got tuple"):
        backward(np.ones(out.shape), (cache,))
    with pytest.raises(TypeError, match="dout must hold real numbers"):
        backward(np.full(out.shape, "a"), cache)


@pytest.mark.parametrize("kind", ["relu", "leaky_relu", "sigmoid", "tanh"])
def test_activation_backward_refuses_another_activations_cache(kind):
    backwards = {
        "relu": relu_backward,
        "leaky_relu": leaky_relu_backward,
        "sigmoid": sigmoid_backward,
        "tanh": tanh_backward,
    }
    other = "tanh" if kind != "tanh" else "relu"
    _, cache = {"relu": relu_forward, "tanh": tanh_forward}[other](np.ones(3))
    with pytest.raises(
        TypeError,
        match=rf"^cache must be the ActivationCache returned by "
        rf"{kind}_forward, got an ActivationCache from {other}_forward$",
    ):
        backwards[kind](np.ones(3), cache)


def test_check_cache_kind_names_unknown_producers_and_articles():
    @dataclass
    class PoolCache:
        mode: str

    producers = {"max": "maxpool2d_forward", "avg": "avgpool2d_forward"}
    check_cache_kind(PoolCache("max"), PoolCache, "mode", "max", producers)
    with pytest.raises(
        TypeError, match="returned by maxpool2d_forward, got a PoolCache from avgpool2d_forward"
    ):
        check_cache_kind(PoolCache("avg"), PoolCache, "mode", "max", producers)
    with pytest.raises(TypeError, match="got a PoolCache from 'min'"):
        check_cache_kind(PoolCache("min"), PoolCache, "mode", "max", producers)
    with pytest.raises(TypeError, match="returned by avgpool2d_forward, got ActivationCache"):
        check_cache_kind(relu_forward(np.ones(2))[1], PoolCache, "mode", "avg", producers)


# Shapes given to output_shape and summary -----------------------------------


@pytest.mark.parametrize(
    "value, exc, match",
    [
        ("abc", TypeError, r"input_shape must be a tuple of ints, got 'abc' \(str\)"),
        (28, TypeError, r"got 28 \(int\)"),
        ((28, 28.0, 1), TypeError, r"input_shape\[1\] = 28.0"),
        ((28, True), TypeError, r"input_shape\[1\] = True"),
        ((28, 0, 1), ValueError, r"sizes >= 1, got \(28, 0, 1\)"),
    ],
)
def test_as_shape_refuses(value, exc, match):
    with pytest.raises(exc, match=match):
        as_shape("input_shape", value)


def test_as_shape_accepts_numpy_integers():
    assert as_shape("s", (np.int64(28), np.int32(28), 1)) == (28, 28, 1)
    assert as_shape("s", np.array([5, 4])) == (5, 4)
    assert as_shape("s", []) == ()


def test_summary_with_a_batch_axis_says_what_to_pass():
    """The README's old example: the message names the shape to pass."""
    with pytest.raises(ValueError) as info:
        build_lenet().summary((1, 28, 28, 1))
    assert str(info.value).startswith(
        "input_shape is one example's shape without the batch axis, e.g. (28, 28, 1)"
    )
    net = Sequential([Conv2D(3, 2, 3, rng=0)])
    with pytest.raises(ValueError, match=r"e\.g\. \(9, 9, 3\); got \(64, 9, 9, 3\)"):
        net.summary((64, 9, 9, 3))
    assert net.summary((9, 9, 3)).output_shape == (7, 7, 2)


def test_summary_refuses_non_integer_shapes_with_a_type_error():
    for bad in ("abc", 28, (28.0, 28, 1), None):
        with pytest.raises(
            TypeError, match=r"input_shape must be a tuple of ints, one example's shape"
        ):
            build_lenet().summary(bad)


def test_summary_names_the_layer_when_no_batch_axis_explains_it():
    with pytest.raises(ValueError, match=r"^layer 0 \(Conv2D\(1, 8.*\(28, 28, 3\).*input channels"):
        build_lenet().summary((28, 28, 3))
    with pytest.raises(ValueError, match=r"^layer 7 \(Dense\(400, 10\)\)"):
        build_lenet().summary((30, 30, 1))
    with pytest.raises(TypeError, match="input_shape must be a tuple of ints"):
        Conv2D(1, 2, 3).output_shape("abc")
    with pytest.raises(TypeError, match="input_shape must be a tuple of ints"):
        BatchNorm(2).output_shape("ab")


# --------------------------------------------- rules added for issue 10 (window helpers, fast tier)
def test_as_pads_as_array_shape_as_dtype_check_instance() -> None:
    from convlib._checks import as_array_shape, as_dtype, as_pads, check_instance

    assert as_pads("pads", np.array([[1, 2], [0, 3]])) == ((1, 2), (0, 3))
    assert all(type(v) is int for side in as_pads("pads", [(np.int64(1), 2), (0, 0)]) for v in side)
    with pytest.raises(TypeError, match="pads must be"):
        as_pads("pads", "same")
    with pytest.raises(ValueError, match=r"negative entry -2"):
        as_pads("pads", ((0, 0), (0, -2)))
    assert as_array_shape("shape", (0, 2)) == (0, 2)
    with pytest.raises(ValueError, match=r"shape must hold sizes >= 2, got \(1, 2\)"):
        as_array_shape("shape", (1, 2), 2)
    assert as_shape("input_shape", (1, 2)) == (1, 2)  # the same rule with sizes >= 1
    with pytest.raises(ValueError, match=r"must hold sizes >= 1, got \(0, 2\)"):
        as_shape("input_shape", (0, 2))
    assert as_dtype("dtype", "float16", "f") == np.float16
    with pytest.raises(TypeError, match=r"dtype must be a floating-point NumPy dtype, got 'int8'"):
        as_dtype("dtype", "int8", "f")
    with pytest.raises(
        TypeError, match=r"dtype must be a bool or signed integer NumPy dtype, got 3"
    ):
        as_dtype("dtype", 3, "bi")
    check_instance("n", 3, int)
    with pytest.raises(TypeError, match=r"n must be an int \(a count\), got str"):
        check_instance("n", "3", int, "(a count)")


# ------------------------------- one rule for the operands of conv2d and conv_transpose2d (round 8)
def test_convolution_and_transposed_convolution_share_the_operand_rule() -> None:
    """``check_conv_operands``: empty axes, the bias's shape, the compute dtype; both callers."""
    from convlib._checks import check_conv_operands, complex_step_inputs
    from convlib.conv import conv2d_forward
    from convlib.conv_transpose import conv_transpose2d_forward

    x = np.ones((1, 4, 4, 2), dtype=np.float32)
    w = np.ones((3, 3, 2, 5), dtype=np.float32)  # conv: F = 5; transpose: C_out = 2, C_in = 5
    xt = np.ones((1, 4, 4, 5), dtype=np.float32)
    bad = "b must have shape ({0},) or (1, 1, 1, {0}) to match the {0} {1}, got (3,)"
    with pytest.raises(ValueError) as err:
        conv2d_forward(x, w, np.zeros(3))
    assert str(err.value) == bad.format(5, "filters of w (3, 3, 2, 5)")
    with pytest.raises(ValueError) as err:
        conv_transpose2d_forward(xt, w, np.zeros(3))
    assert str(err.value) == bad.format(
        2, "output channels of w (3, 3, 2, 5) (KH, KW, C_out, C_in)"
    )
    for call, inp in ((conv2d_forward, x[:0]), (conv_transpose2d_forward, xt[:0])):
        with pytest.raises(ValueError, match=r"^x \(0, 4, 4, \d\) and w \(3, 3, 2, 5\) must not"):
            call(inp, w, None)
    # NumPy promotion: an int8 bias keeps float32, a float64 one promotes;
    # a bias of shape (1, 1, 1, k) is the same as one of shape (k,).
    for call, inp, k in ((conv2d_forward, x, 5), (conv_transpose2d_forward, xt, 2)):
        out_int, _ = call(inp, w, np.arange(k, dtype=np.int8))
        assert out_int.dtype == np.float32
        out_flat, _ = call(inp, w, np.arange(k, dtype=np.float64))
        out_4d, _ = call(inp, w, np.arange(k, dtype=np.float64).reshape(1, 1, 1, k))
        assert out_flat.dtype == out_4d.dtype == np.float64
        np.testing.assert_array_equal(out_flat, out_4d)
        np.testing.assert_array_equal(
            out_flat - call(inp, w, None)[0], np.broadcast_to(np.arange(k), out_flat.shape)
        )
    # Complex biases pass only where the caller opts in, and only inside complex_step_inputs.
    cb = np.zeros(5, dtype=complex)
    with complex_step_inputs():
        assert check_conv_operands(x, w, cb, 5, "filters", complex_ok=True)[1] == np.complex128
        with pytest.raises(TypeError, match="b must hold real numbers"):
            check_conv_operands(x, w, cb, 5, "filters")
    with pytest.raises(TypeError, match="b must hold real numbers"):
        check_conv_operands(x, w, cb, 5, "filters", complex_ok=True)
