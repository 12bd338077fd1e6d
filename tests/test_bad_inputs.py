"""Bad inputs to the mathematics of convlib: every public function refuses them clearly.

Issue 10, "Tests": one table row per bad call to the layer functions
(convolution, pooling, activations, dense, losses, batch norm, dropout),
their caches and upstream gradients, the update rules, gradient checking, the
size arithmetic, the window helpers, the fast tier and the runtime settings.
Each row asserts the exception type and that the message names the argument
(and the shapes, where shapes are involved). Wrong types, wrong ndim,
mismatched shapes, empty arrays, NaN where not allowed, non-positive sizes,
bools where ints are meant, strings, None, complex and ragged data, caches
from the wrong forward, ``dout`` of the wrong shape.

The second table calls the same functions with NumPy scalars where Python
scalars are meant: they must be accepted, with the same result.

The machinery (and the meaning of the xfail rows) is in ``bad_input_table.py``;
layers, models, training, data and the command line are in
``test_bad_inputs_training.py``.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import convlib
from convlib import fast, windows

_spec = importlib.util.spec_from_file_location(
    "bad_input_table", Path(__file__).with_name("bad_input_table.py")
)
table = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bad_input_table", table)
_spec.loader.exec_module(table)
Bad, Same = table.Bad, table.Same

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 5, 5, 3))  # (N, H, W, C)
W = RNG.standard_normal((3, 3, 3, 4))  # (KH, KW, C, F)
B = np.zeros(4)
X6 = RNG.standard_normal((2, 5, 5, 6))  # six channels: groups 2, 3 or 6
W6 = RNG.standard_normal((3, 3, 2, 6))  # (KH, KW, C // 3, F)
X2 = RNG.standard_normal((4, 6))  # (N, D)
W2 = RNG.standard_normal((6, 3))  # (D, M)
LOGITS = RNG.standard_normal((4, 3))
LABELS = np.array([0, 2, 1, 2])
VAL, TYP = ValueError, TypeError
#: A refused non-finite gradient: a ValueError or an ArithmeticError subclass
#: (issue 10 asks for a dedicated ``NonFiniteGradientError``).
NONFINITE = (ValueError, ArithmeticError)

CONV_FORWARDS = {
    "conv2d_forward": convlib.conv2d_forward,
    "conv2d_forward_naive": convlib.conv2d_forward_naive,
    "conv2d_forward_im2col": convlib.conv2d_forward_im2col,
    "conv2d_forward_fast": fast.conv2d_forward_fast,
}
CONV_BACKWARDS = {
    "conv2d_backward": convlib.conv2d_backward,
    "conv2d_backward_naive": convlib.conv2d_backward_naive,
    "conv2d_backward_im2col": convlib.conv2d_backward_im2col,
    "conv2d_backward_fast": fast.conv2d_backward_fast,
    "conv2d_param_grads_fast": fast.conv2d_param_grads_fast,
}
POOL_FORWARDS = {
    "maxpool2d_forward": convlib.maxpool2d_forward,
    "maxpool2d_forward_naive": convlib.maxpool2d_forward_naive,
    "maxpool2d_forward_windows": convlib.maxpool2d_forward_windows,
    "maxpool2d_forward_fast": fast.maxpool2d_forward_fast,
    "avgpool2d_forward": convlib.avgpool2d_forward,
    "avgpool2d_forward_naive": convlib.avgpool2d_forward_naive,
    "avgpool2d_forward_windows": convlib.avgpool2d_forward_windows,
    "avgpool2d_forward_fast": fast.avgpool2d_forward_fast,
}
POOL_BACKWARDS = {
    "maxpool2d_backward": convlib.maxpool2d_backward,
    "maxpool2d_backward_naive": convlib.maxpool2d_backward_naive,
    "maxpool2d_backward_windows": convlib.maxpool2d_backward_windows,
    "maxpool2d_backward_fast": fast.maxpool2d_backward_fast,
    "avgpool2d_backward": convlib.avgpool2d_backward,
    "avgpool2d_backward_naive": convlib.avgpool2d_backward_naive,
    "avgpool2d_backward_windows": convlib.avgpool2d_backward_windows,
    "avgpool2d_backward_fast": fast.avgpool2d_backward_fast,
}
ACTIVATIONS = {
    "relu": (convlib.relu_forward, convlib.relu_backward),
    "sigmoid": (convlib.sigmoid_forward, convlib.sigmoid_backward),
    "tanh": (convlib.tanh_forward, convlib.tanh_backward),
    "leaky_relu": (convlib.leaky_relu_forward, convlib.leaky_relu_backward),
}
BN_FORWARDS = {
    "batchnorm_forward": convlib.batchnorm_forward,
    "batchnorm_forward_broadcast": convlib.batchnorm_forward_broadcast,
    "batchnorm_forward_fast": fast.batchnorm_forward_fast,
}
BN_BACKWARDS = {
    "batchnorm_backward": convlib.batchnorm_backward,
    "batchnorm_backward_graph": convlib.batchnorm_backward_graph,
    "batchnorm_backward_compact": convlib.batchnorm_backward_compact,
    "batchnorm_backward_fast": fast.batchnorm_backward_fast,
}


def conv_cache() -> Any:
    return convlib.conv2d_forward(X, W, B)[1]


def pool_cache(mode: str = "max") -> Any:
    forward = convlib.maxpool2d_forward if mode == "max" else convlib.avgpool2d_forward
    return forward(X, 2)[1]


def bn(fn: Any = convlib.batchnorm_forward, x: Any = X2, d: int = 6, **kw: Any) -> Any:
    """Call a batch-norm forward with fresh parameters and running statistics."""
    args = {
        "gamma": np.ones(d),
        "beta": np.zeros(d),
        "running_mean": np.zeros(d),
        "running_var": np.ones(d),
    }
    args.update({k: kw.pop(k) for k in list(kw) if k in args})
    return fn(x, args["gamma"], args["beta"], args["running_mean"], args["running_var"], **kw)


def deprecated(fn: Any, *args: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return fn(*args)


# --------------------------------------------------------------------------- conv
def conv_rows() -> list[Bad]:
    rows = []
    for name, f in CONV_FORWARDS.items():
        rows += [
            Bad(f"{name}-x-3d", lambda f=f: f(X[0], W, B), VAL, ("x", "(5, 5, 3)")),
            Bad(f"{name}-w-3d", lambda f=f: f(X, W[0], B), VAL, ("w", "(3, 3, 4)")),
            Bad(
                f"{name}-channels",
                lambda f=f: f(X, W[:, :, :2], B),
                VAL,
                ("x", "w", "(2, 5, 5, 3)", "(3, 3, 2, 4)"),
            ),
            Bad(f"{name}-b-shape", lambda f=f: f(X, W, np.zeros(3)), VAL, ("b", "(3,)")),
            # groups (issue 13): C and F divisible by groups, w (KH, KW, C // groups, F)
            Bad(
                f"{name}-groups-not-dividing-C",
                lambda f=f: f(X, W[:, :, :1], B, groups=2),
                VAL,
                ("groups=2", "C=3", "F=4", "(2, 5, 5, 3)", "(3, 3, 1, 4)"),
            ),
            Bad(
                f"{name}-groups-not-dividing-F",
                lambda f=f: f(X6, W6[..., :4], None, groups=3),
                VAL,
                ("groups=3", "C=6", "F=4", "(2, 5, 5, 6)", "(3, 3, 2, 4)"),
            ),
            Bad(f"{name}-groups-0", lambda f=f: f(X6, W6, None, groups=0), VAL, ("groups", "0")),
            Bad(f"{name}-groups-float", lambda f=f: f(X6, W6, None, groups=3.0), TYP, ("groups",)),
            Bad(f"{name}-groups-bool", lambda f=f: f(X, W, B, groups=True), TYP, ("groups",)),
            Bad(
                f"{name}-groups-w-shape",
                lambda f=f: f(X6, W6, None, groups=2),
                VAL,
                ("groups=2", "(KH, KW, 3, 6)", "(3, 3, 2, 6)", "(2, 5, 5, 6)"),
            ),
            Bad(f"{name}-x-str", lambda f=f: f("image", W, B), TYP, ("x",)),
            Bad(f"{name}-x-complex", lambda f=f: f(X + 1j, W, B), TYP, ("x", "complex")),
            Bad(f"{name}-x-ragged", lambda f=f: f([[1.0], [1.0, 2.0]], W, B), TYP, ("x",)),
            Bad(f"{name}-w-none", lambda f=f: f(X, None, B), TYP, ("w",)),
            Bad(f"{name}-stride-0", lambda f=f: f(X, W, B, stride=0), VAL, ("stride", "0")),
            Bad(f"{name}-stride-float", lambda f=f: f(X, W, B, stride=1.5), TYP, ("stride", "1.5")),
            Bad(
                f"{name}-stride-bool", lambda f=f: f(X, W, B, stride=True), TYP, ("stride", "True")
            ),
            Bad(
                f"{name}-stride-0d-float",
                lambda f=f: f(X, W, B, stride=np.array(1.5)),
                TYP,
                ("stride", "1.5"),
            ),
            Bad(
                f"{name}-stride-triple", lambda f=f: f(X, W, B, stride=(1, 1, 1)), VAL, ("stride",)
            ),
            Bad(
                f"{name}-padding-word",
                lambda f=f: f(X, W, B, padding="bogus"),
                VAL,
                ("padding", "bogus"),
            ),
            Bad(
                f"{name}-padding-negative",
                lambda f=f: f(X, W, B, padding=-1),
                VAL,
                ("padding", "-1"),
            ),
            Bad(f"{name}-dilation-0", lambda f=f: f(X, W, B, dilation=0), VAL, ("dilation", "0")),
            Bad(
                f"{name}-kernel-too-big",
                lambda f=f: f(X, np.ones((6, 6, 3, 4)), B),
                VAL,
                ("x (2, 5, 5, 3)", "w (6, 6, 3, 4)"),
            ),
            Bad(f"{name}-empty-image", lambda f=f: f(X[:, :0], W, B), VAL, ("x", "(2, 0, 5, 3)")),
        ]
    for name, f in CONV_BACKWARDS.items():
        rows += [
            Bad(
                f"{name}-dout-shape",
                lambda f=f: f(np.ones((2, 3, 3, 5)), conv_cache()),
                VAL,
                ("dout", "(2, 3, 3, 5)", "(2, 3, 3, 4)"),
            ),
            Bad(f"{name}-dout-str", lambda f=f: f("grad", conv_cache()), TYP, ("dout",)),
            Bad(
                f"{name}-dout-complex",
                lambda f=f: f(np.ones((2, 3, 3, 4)) * 1j, conv_cache()),
                TYP,
                ("dout", "complex"),
            ),
            Bad(
                f"{name}-pool-cache",
                lambda f=f: f(np.ones((2, 2, 2, 3)), pool_cache()),
                TYP,
                ("cache", "Conv2DCache", "Pool2DCache"),
            ),
            Bad(
                f"{name}-cache-none",
                lambda f=f: f(np.ones((2, 3, 3, 4)), None),
                TYP,
                ("cache", "Conv2DCache"),
            ),
        ]
    rows += [
        Bad("im2col-x-3d", lambda: convlib.im2col(X[0], 3), VAL, ("x_padded", "(5, 5, 3)")),
        Bad("im2col-kernel-0", lambda: convlib.im2col(X, 0), VAL, ("kernel_size", "0")),
        Bad("im2col-kernel-str", lambda: convlib.im2col(X, "3"), TYP, ("kernel_size",)),
        Bad(
            "im2col-kernel-too-big",
            lambda: convlib.im2col(X, 6),
            VAL,
            ("kernel_size (6, 6)", "x_padded of shape (2, 5, 5, 3)"),
        ),
        Bad("im2col-x-complex", lambda: convlib.im2col(X * 1j, 3), TYP, ("x_padded", "complex")),
        Bad(
            "im2col-cache-other-x",
            lambda: deprecated(convlib.im2col, np.ones((1, 4, 4, 2)), conv_cache()),
            VAL,
            ("x_padded", "(1, 4, 4, 2)", "(2, 5, 5, 3)"),
        ),
        Bad("im2col_fast-x-3d", lambda: fast.im2col_fast(X[0], 3), VAL, ("x_padded", "(5, 5, 3)")),
        Bad(
            "col2im-dcols-shape",
            lambda: convlib.col2im(np.ones((17, 27)), (2, 5, 5, 3), 3),
            VAL,
            ("dcols", "(17, 27)", "(18, 27)"),
        ),
        Bad(
            "col2im-shape-str",
            lambda: convlib.col2im(np.ones((18, 27)), "abc", 3),
            (TYP, VAL),
            ("x_padded_shape", "abc"),
        ),
        Bad(
            "col2im-shape-3",
            lambda: convlib.col2im(np.ones((18, 27)), (5, 5, 3), 3),
            VAL,
            ("x_padded_shape", "(5, 5, 3)"),
        ),
        Bad(
            "col2im-dcols-1d",
            lambda: convlib.col2im(np.ones(27), (2, 5, 5, 3), 3),
            VAL,
            ("dcols", "(27,)"),
        ),
    ]
    return rows


# --------------------------------------------------------------------------- pooling
def pool_rows() -> list[Bad]:
    rows = []
    for name, f in POOL_FORWARDS.items():
        rows += [
            Bad(f"{name}-x-3d", lambda f=f: f(X[0], 2), VAL, ("x", "(5, 5, 3)")),
            Bad(f"{name}-pool-0", lambda f=f: f(X, 0), VAL, ("pool_size", "0")),
            Bad(f"{name}-pool-float", lambda f=f: f(X, 1.5), TYP, ("pool_size", "1.5")),
            Bad(f"{name}-stride-0", lambda f=f: f(X, 2, stride=0), VAL, ("stride", "0")),
            Bad(
                f"{name}-padding-window",
                lambda f=f: f(X, 2, padding=2),
                VAL,
                ("padding", "pool_size"),
            ),
            Bad(
                f"{name}-pool-too-big",
                lambda f=f: f(X, 6),
                VAL,
                ("pool_size (6, 6)", "x (2, 5, 5, 3)"),
            ),
            Bad(f"{name}-x-complex", lambda f=f: f(X * 1j, 2), TYP, ("x", "complex")),
        ]
    for name, f in POOL_BACKWARDS.items():
        own, other = ("max", "avg") if name.startswith("max") else ("avg", "max")
        rows += [
            Bad(
                f"{name}-dout-shape",
                lambda f=f, own=own: f(np.ones((2, 3, 3, 3)), pool_cache(own)),
                VAL,
                ("dout", "(2, 3, 3, 3)", "(2, 2, 2, 3)"),
            ),
            Bad(
                f"{name}-conv-cache",
                lambda f=f: f(np.ones((2, 3, 3, 4)), conv_cache()),
                TYP,
                ("cache", "Pool2DCache"),
            ),
            Bad(
                f"{name}-{other}-cache",
                lambda f=f, other=other: f(np.ones((2, 2, 2, 3)), pool_cache(other)),
                TYP,
                ("cache", f"{own}pool2d", f"{other} pooling"),
            ),
        ]
    return rows


# ----------------------------------------------------------------------- activations, dense, losses
def elementwise_rows() -> list[Bad]:
    rows = []
    for name, (fwd, bwd) in ACTIVATIONS.items():
        other = "tanh" if name != "tanh" else "relu"
        rows += [
            Bad(f"{name}_forward-x-str", lambda f=fwd: f("x"), TYP, ("x",)),
            Bad(f"{name}_forward-x-complex", lambda f=fwd: f(X * 1j), TYP, ("x", "complex")),
            Bad(f"{name}_forward-x-none", lambda f=fwd: f(None), TYP, ("x",)),
            Bad(
                f"{name}_backward-dout-shape",
                lambda f=fwd, b=bwd: b(np.ones((4, 5)), f(X2)[1]),
                VAL,
                ("dout", "(4, 5)", "(4, 6)"),
            ),
            Bad(
                f"{name}_backward-{other}-cache",
                lambda b=bwd, o=ACTIVATIONS[other][0]: b(X2, o(X2)[1]),
                TYP,
                ("cache", f"{name}_forward", f"{other}_forward"),
            ),
        ]
    rows += [
        Bad(
            "leaky_relu_forward-alpha-str",
            lambda: convlib.leaky_relu_forward(X2, alpha="a"),
            TYP,
            ("alpha",),
        ),
        Bad(
            "leaky_relu_forward-alpha-nan",
            lambda: convlib.leaky_relu_forward(X2, alpha=np.nan),
            VAL,
            ("alpha",),
        ),
        # dense and flatten
        Bad("dense_forward-x-1d", lambda: convlib.dense_forward(X2[0], W2), VAL, ("x", "(6,)")),
        Bad("dense_forward-w-1d", lambda: convlib.dense_forward(X2, W2[:, 0]), VAL, ("w", "(6,)")),
        Bad(
            "dense_forward-mismatch",
            lambda: convlib.dense_forward(X2, W2[:5]),
            VAL,
            ("x", "w", "(4, 6)", "(5, 3)"),
        ),
        Bad(
            "dense_forward-b-shape",
            lambda: convlib.dense_forward(X2, W2, np.zeros(4)),
            VAL,
            ("b", "(4,)"),
        ),
        Bad("dense_forward-x-str", lambda: convlib.dense_forward("x", W2), TYP, ("x",)),
        Bad(
            "dense_forward-w-complex",
            lambda: convlib.dense_forward(X2, W2 * 1j),
            TYP,
            ("w", "complex"),
        ),
        Bad(
            "dense_backward-dout-shape",
            lambda: convlib.dense_backward(np.ones((4, 4)), convlib.dense_forward(X2, W2)[1]),
            VAL,
            ("dout", "(4, 4)", "(4, 3)"),
        ),
        Bad(
            "dense_backward-flatten-cache",
            lambda: convlib.dense_backward(np.ones((4, 3)), convlib.flatten_forward(X)[1]),
            TYP,
            ("cache", "DenseCache", "FlattenCache"),
        ),
        Bad("flatten_forward-x-0d", lambda: convlib.flatten_forward(np.float64(1.0)), VAL, ("x",)),
        Bad("flatten_forward-x-str", lambda: convlib.flatten_forward("x"), TYP, ("x",)),
        Bad(
            "flatten_backward-dout-shape",
            lambda: convlib.flatten_backward(np.ones((2, 74)), convlib.flatten_forward(X)[1]),
            VAL,
            ("dout", "(2, 74)", "(2, 75)"),
        ),
        Bad(
            "flatten_backward-dense-cache",
            lambda: convlib.flatten_backward(np.ones((4, 3)), convlib.dense_forward(X2, W2)[1]),
            TYP,
            ("cache", "FlattenCache"),
        ),
        # global average pooling
        Bad(
            "global_avgpool_forward-x-3d",
            lambda: convlib.global_avgpool_forward(np.ones((2, 5, 3))),
            VAL,
            ("x", "(N, H, W, C)", "(2, 5, 3)"),
        ),
        Bad(
            "global_avgpool_forward-empty-image",
            lambda: convlib.global_avgpool_forward(np.ones((2, 0, 5, 3))),
            VAL,
            ("x", "(2, 0, 5, 3)"),
        ),
        Bad(
            "global_avgpool_forward-x-str", lambda: convlib.global_avgpool_forward("x"), TYP, ("x",)
        ),
        Bad(
            "global_avgpool_backward-dout-shape",
            lambda: convlib.global_avgpool_backward(
                np.ones((2, 5, 5, 3)), convlib.global_avgpool_forward(X)[1]
            ),
            VAL,
            ("dout", "(2, 5, 5, 3)", "(2, 3)"),
        ),
        Bad(
            "global_avgpool_backward-flatten-cache",
            lambda: convlib.global_avgpool_backward(np.ones((2, 3)), convlib.flatten_forward(X)[1]),
            TYP,
            ("cache", "GlobalAvgPoolCache", "FlattenCache"),
        ),
        # losses
        Bad(
            "softmax_cross_entropy-label-too-big",
            lambda: convlib.softmax_cross_entropy(LOGITS, [0, 1, 2, 3]),
            VAL,
            ("labels", "3"),
        ),
        Bad(
            "softmax_cross_entropy-label-negative",
            lambda: convlib.softmax_cross_entropy(LOGITS, [0, 1, 2, -1]),
            VAL,
            ("labels", "-1"),
        ),
        Bad(
            "softmax_cross_entropy-label-float",
            lambda: convlib.softmax_cross_entropy(LOGITS, [0.0, 1.5, 2.0, 1.0]),
            TYP,
            ("labels",),
        ),
        Bad(
            "softmax_cross_entropy-label-bool",
            lambda: convlib.softmax_cross_entropy(LOGITS, [True, False, True, True]),
            TYP,
            ("labels", "bool"),
        ),
        Bad(
            "softmax_cross_entropy-label-count",
            lambda: convlib.softmax_cross_entropy(LOGITS, [0, 1]),
            VAL,
            ("labels", "logits", "(2,)", "(4, 3)"),
        ),
        Bad(
            "softmax_cross_entropy-logits-1d",
            lambda: convlib.softmax_cross_entropy(LOGITS[0], [0]),
            VAL,
            ("logits", "(3,)"),
        ),
        Bad(
            "softmax_cross_entropy-empty",
            lambda: convlib.softmax_cross_entropy(np.ones((0, 3)), np.zeros(0, int)),
            VAL,
            ("logits", "(0, 3)"),
        ),
        Bad(
            "softmax_cross_entropy-logits-str",
            lambda: convlib.softmax_cross_entropy("z", LABELS),
            TYP,
            ("logits",),
        ),
        Bad(
            "softmax_cross_entropy-logits-nan",
            lambda: convlib.softmax_cross_entropy(np.full((4, 3), np.nan), LABELS),
            VAL,
            ("logits", "finite"),
        ),
        Bad(
            "softmax_cross_entropy-labels-2d",
            lambda: convlib.softmax_cross_entropy(LOGITS, np.eye(4, 3, dtype=int)),
            VAL,
            ("labels", "(4, 3)"),
        ),
        Bad("softmax-logits-0d", lambda: convlib.softmax(np.float64(1.0)), VAL, ("logits",)),
        Bad(
            "log_softmax-logits-complex",
            lambda: convlib.log_softmax(LOGITS * 1j),
            TYP,
            ("logits", "complex"),
        ),
        Bad(
            "mse_loss-mismatch",
            lambda: convlib.mse_loss(np.ones((4, 3)), np.ones((4, 2))),
            VAL,
            ("pred", "target", "(4, 3)", "(4, 2)"),
        ),
        Bad(
            "mse_loss-empty",
            lambda: convlib.mse_loss(np.ones((0, 3)), np.ones((0, 3))),
            VAL,
            ("pred", "(0, 3)"),
        ),
        Bad("mse_loss-target-str", lambda: convlib.mse_loss(np.ones(3), "abc"), TYP, ("target",)),
    ]
    return rows


# --------------------------------------------------------------------------- batch norm, dropout
def bn_rows() -> list[Bad]:
    rows = []
    for name, f in BN_FORWARDS.items():
        rows += [
            Bad(f"{name}-x-1d", lambda f=f: bn(f, X2[0]), VAL, ("x", "(6,)")),
            Bad(f"{name}-gamma-shape", lambda f=f: bn(f, gamma=np.ones(5)), VAL, ("gamma", "(5,)")),
            Bad(f"{name}-beta-shape", lambda f=f: bn(f, beta=np.ones(5)), VAL, ("beta", "(5,)")),
            Bad(
                f"{name}-running-mean-shape",
                lambda f=f: bn(f, running_mean=np.zeros(5)),
                VAL,
                ("running_mean", "(5,)"),
            ),
            Bad(f"{name}-momentum-big", lambda f=f: bn(f, momentum=1.5), VAL, ("momentum", "1.5")),
            Bad(f"{name}-eps-str", lambda f=f: bn(f, eps="a"), TYP, ("eps",)),
            Bad(f"{name}-eps-negative", lambda f=f: bn(f, eps=-1e-5), VAL, ("eps", "-1e-05")),
            Bad(f"{name}-training-str", lambda f=f: bn(f, training="yes"), TYP, ("training",)),
            Bad(f"{name}-x-complex", lambda f=f: bn(f, X2 * 1j), TYP, ("x", "complex")),
        ]
    for name, f in BN_BACKWARDS.items():
        cache = (
            (
                lambda: fast.batchnorm_forward_fast(
                    X2, np.ones(6), np.zeros(6), np.zeros(6), np.ones(6)
                )[1]
            )
            if name.endswith("fast")
            else (lambda: bn()[1])
        )
        rows += [
            Bad(
                f"{name}-dout-shape",
                lambda f=f, c=cache: f(np.ones((4, 5)), c()),
                VAL,
                ("dout", "(4, 5)", "(4, 6)"),
            ),
            Bad(
                f"{name}-dense-cache",
                lambda f=f: f(np.ones((4, 3)), convlib.dense_forward(X2, W2)[1]),
                TYP,
                ("cache",),
            ),
        ]

    def nan_batch_keeps_statistics() -> None:
        rm, rv = np.zeros(6), np.ones(6)
        x = X2.copy()
        x[1, 2] = np.nan
        try:
            convlib.batchnorm_forward(x, np.ones(6), np.zeros(6), rm, rv)
        finally:
            assert np.isfinite(rm).all() and np.isfinite(rv).all(), (
                "running statistics updated from a NaN batch"
            )

    rows += [
        Bad("batchnorm_forward-nan-batch", nan_batch_keeps_statistics, VAL, ("x", "finite")),
        Bad("batchnorm_forward-one-example", lambda: bn(x=X2[:1]), VAL, ("x", "(1, 6)")),
        # dropout
        Bad("dropout_forward-p-1", lambda: convlib.dropout_forward(X2, 1.0, RNG), VAL, ("p", "1")),
        Bad(
            "dropout_forward-p-negative",
            lambda: convlib.dropout_forward(X2, -0.1, RNG),
            VAL,
            ("p", "-0.1"),
        ),
        Bad("dropout_forward-p-str", lambda: convlib.dropout_forward(X2, "half", RNG), TYP, ("p",)),
        Bad("dropout_forward-p-none", lambda: convlib.dropout_forward(X2, None, RNG), TYP, ("p",)),
        Bad(
            "dropout_forward-rng-str",
            lambda: convlib.dropout_forward(X2, 0.5, "seed"),
            TYP,
            ("rng",),
        ),
        Bad(
            "dropout_forward-training-str",
            lambda: convlib.dropout_forward(X2, 0.5, RNG, training="no"),
            TYP,
            ("training",),
        ),
        Bad(
            "dropout_forward-x-complex",
            lambda: convlib.dropout_forward(X2 * 1j, 0.5, RNG),
            TYP,
            ("x", "complex"),
        ),
        Bad(
            "dropout_backward-dout-shape",
            lambda: convlib.dropout_backward(
                np.ones((4, 5)), convlib.dropout_forward(X2, 0.5, RNG)[1]
            ),
            VAL,
            ("dout", "(4, 5)", "(4, 6)"),
        ),
        Bad(
            "dropout_backward-relu-cache",
            lambda: convlib.dropout_backward(X2, convlib.relu_forward(X2)[1]),
            TYP,
            ("cache", "DropoutCache"),
        ),
    ]
    return rows


# --------------------------------------------------------------------------- update rules
def update_rows() -> list[Bad]:
    p, g, v = np.ones(3), np.full(3, 0.1), np.zeros(3)
    nan_grad = np.array([0.1, np.nan, 0.1])
    return [
        Bad(
            "sgd_update-grad-shape",
            lambda: convlib.sgd_update(p, np.ones(4), 0.1),
            VAL,
            ("grad", "param", "(4,)", "(3,)"),
        ),
        Bad("sgd_update-lr-negative", lambda: convlib.sgd_update(p, g, -0.1), VAL, ("lr", "-0.1")),
        Bad("sgd_update-lr-str", lambda: convlib.sgd_update(p, g, "0.1"), TYP, ("lr",)),
        Bad("sgd_update-lr-nan", lambda: convlib.sgd_update(p, g, np.nan), VAL, ("lr",)),
        Bad(
            "sgd_update-lr-huge-int",
            lambda: convlib.sgd_update(p, g, 10**400),
            VAL,
            ("lr", "finite"),
        ),
        Bad(
            "sgd_update-weight-decay-huge-int",
            lambda: convlib.sgd_update(p, g, 0.1, weight_decay=-(10**400)),
            VAL,
            ("weight_decay", "finite"),
        ),
        Bad("sgd_update-lr-complex", lambda: convlib.sgd_update(p, g, 0.1j), TYP, ("lr",)),
        Bad(
            "sgd_update-weight-decay-negative",
            lambda: convlib.sgd_update(p, g, 0.1, weight_decay=-1),
            VAL,
            ("weight_decay",),
        ),
        Bad(
            "sgd_update-param-complex",
            lambda: convlib.sgd_update(p * 1j, g, 0.1),
            TYP,
            ("param", "complex"),
        ),
        Bad(
            "sgd_update-grad-nan",
            lambda: convlib.sgd_update(p, nan_grad, 0.1),
            NONFINITE,
            ("grad", "finite"),
        ),
        Bad(
            "momentum_update-velocity-shape",
            lambda: convlib.momentum_update(p, g, np.zeros(2), 0.1, 0.9),
            VAL,
            ("velocity", "(2,)", "(3,)"),
        ),
        Bad(
            "momentum_update-momentum-1",
            lambda: convlib.momentum_update(p, g, v, 0.1, 1.0),
            VAL,
            ("momentum",),
        ),
        Bad(
            "momentum_update-momentum-str",
            lambda: convlib.momentum_update(p, g, v, 0.1, "0.9"),
            TYP,
            ("momentum",),
        ),
        Bad(
            "nesterov_update-momentum-negative",
            lambda: convlib.nesterov_update(p, g, v, 0.1, -0.1),
            VAL,
            ("momentum",),
        ),
        Bad(
            "nesterov_update-grad-ragged",
            lambda: convlib.nesterov_update(p, [[1.0], [1.0, 2.0]], v, 0.1, 0.9),
            TYP,
            ("grad",),
        ),
        Bad(
            "adam_update-t-0",
            lambda: convlib.adam_update(p, g, v, v, 0, 0.1, 0.9, 0.999, 1e-8),
            VAL,
            ("t", "0"),
        ),
        Bad(
            "adam_update-t-float",
            lambda: convlib.adam_update(p, g, v, v, 1.5, 0.1, 0.9, 0.999, 1e-8),
            TYP,
            ("t",),
        ),
        Bad(
            "adam_update-t-bool",
            lambda: convlib.adam_update(p, g, v, v, True, 0.1, 0.9, 0.999, 1e-8),
            TYP,
            ("t",),
        ),
        Bad(
            "adam_update-beta1-1",
            lambda: convlib.adam_update(p, g, v, v, 1, 0.1, 1.0, 0.999, 1e-8),
            VAL,
            ("beta1",),
        ),
        Bad(
            "adam_update-beta2-negative",
            lambda: convlib.adam_update(p, g, v, v, 1, 0.1, 0.9, -0.5, 1e-8),
            VAL,
            ("beta2",),
        ),
        Bad(
            "adam_update-eps-0",
            lambda: convlib.adam_update(p, g, v, v, 1, 0.1, 0.9, 0.999, 0.0),
            VAL,
            ("eps",),
        ),
        Bad(
            "adam_update-eps-str",
            lambda: convlib.adam_update(p, g, v, v, 1, 0.1, 0.9, 0.999, "a"),
            TYP,
            ("eps",),
        ),
        Bad(
            "adam_update-m-shape",
            lambda: convlib.adam_update(p, g, np.zeros(2), v, 1, 0.1, 0.9, 0.999, 1e-8),
            VAL,
            ("m", "(2,)", "(3,)"),
        ),
        Bad(
            "adam_update-v-none",
            lambda: convlib.adam_update(p, g, v, None, 1, 0.1, 0.9, 0.999, 1e-8),
            (VAL, TYP),
            ("v",),
        ),
        Bad(
            "adam_update-grad-inf",
            lambda: convlib.adam_update(
                p, np.array([np.inf, 0, 0]), v, v, 1, 0.1, 0.9, 0.999, 1e-8
            ),
            NONFINITE,
            ("grad", "finite"),
        ),
    ]


# --------------------------------------------------------------------------- gradient checking
def gradcheck_rows() -> list[Bad]:
    def square(x: np.ndarray) -> np.ndarray:
        return x**2

    def relu_forward(x: Any) -> Any:
        return convlib.relu_forward(x)

    return [
        Bad(
            "numerical_gradient-f-not-callable",
            lambda: convlib.numerical_gradient(3, np.ones(3)),
            TYP,
            ("f", "callable"),
        ),
        Bad(
            "numerical_gradient-x-list",
            lambda: convlib.numerical_gradient(square, [1.0, 2.0]),
            TYP,
            ("x",),
        ),
        Bad(
            "numerical_gradient-x-int",
            lambda: convlib.numerical_gradient(square, np.arange(3)),
            TYP,
            ("x", "int"),
        ),
        Bad(
            "numerical_gradient-x-str", lambda: convlib.numerical_gradient(square, "x"), TYP, ("x",)
        ),
        Bad(
            "numerical_gradient-h-str",
            lambda: convlib.numerical_gradient(square, np.ones(3), h="a"),
            TYP,
            ("h must be",),
        ),
        Bad(
            "numerical_gradient-h-0",
            lambda: convlib.numerical_gradient(square, np.ones(3), h=0.0),
            VAL,
            ("h must be",),
        ),
        Bad(
            "numerical_gradient-h-negative",
            lambda: convlib.numerical_gradient(square, np.ones(3), h=-1e-5),
            VAL,
            ("h must be",),
        ),
        Bad(
            "numerical_gradient-dout-shape",
            lambda: convlib.numerical_gradient(square, np.ones(3), dout=np.ones(4)),
            VAL,
            ("dout", "(4,)", "(3,)"),
        ),
        Bad(
            "rel_error-shapes",
            lambda: convlib.rel_error(np.ones(3), np.ones(4)),
            VAL,
            ("a", "b", "(3,)", "(4,)"),
        ),
        Bad(
            "rel_error-floor-negative",
            lambda: convlib.rel_error(np.ones(3), np.ones(3), floor=-1),
            VAL,
            ("floor",),
        ),
        Bad("rel_error-a-str", lambda: convlib.rel_error("a", np.ones(3)), TYP, ("a",)),
        Bad(
            "check_gradients-forward-not-callable",
            lambda: convlib.check_gradients(3, convlib.relu_backward, [X2]),
            TYP,
            ("forward", "callable"),
        ),
        Bad(
            "check_gradients-wrt-unknown",
            lambda: convlib.check_gradients(
                relu_forward, convlib.relu_backward, {"x": X2}, wrt=["w"]
            ),
            VAL,
            ("wrt", "w"),
        ),
        Bad(
            "check_gradients-tol-0",
            lambda: convlib.check_gradients(relu_forward, convlib.relu_backward, [X2], tol=-1.0),
            VAL,
            ("tol", "-1"),
        ),
        Bad(
            "check_gradients-h-str",
            lambda: convlib.check_gradients(relu_forward, convlib.relu_backward, [X2], h="a"),
            TYP,
            ("h must be",),
        ),
        Bad(
            "check_gradients-inputs-int",
            lambda: convlib.check_gradients(relu_forward, convlib.relu_backward, 5),
            TYP,
            ("inputs",),
        ),
        Bad(
            "check_gradients-dout-shape",
            lambda: convlib.check_gradients(
                relu_forward, convlib.relu_backward, [X2], dout=np.ones(3)
            ),
            VAL,
            ("dout", "(3,)", "(4, 6)"),
        ),
        Bad(
            "check_adjoint-forward-not-callable",
            lambda: convlib.check_adjoint(3, convlib.relu_backward, [X2]),
            TYP,
            ("forward", "callable"),
        ),
        Bad(
            "check_adjoint-inputs-int",
            lambda: convlib.check_adjoint(relu_forward, convlib.relu_backward, 5),
            TYP,
            ("inputs",),
        ),
        Bad(
            "check_adjoint-tol-negative",
            lambda: convlib.check_adjoint(relu_forward, convlib.relu_backward, [X2], tol=-1.0),
            VAL,
            ("tol", "-1"),
        ),
        Bad(
            "check_adjoint-rng-str",
            lambda: convlib.check_adjoint(relu_forward, convlib.relu_backward, [X2], rng="a"),
            TYP,
            ("rng",),
        ),
        Bad(
            "complex_step_gradient-f-not-callable",
            lambda: convlib.complex_step_gradient(3, np.ones(3)),
            TYP,
            ("f", "callable"),
        ),
        Bad(
            "complex_step_gradient-x-complex",
            lambda: convlib.complex_step_gradient(square, np.ones(3) + 0j),
            TYP,
            ("x", "complex128"),
        ),
        Bad(
            "complex_step_gradient-h-0",
            lambda: convlib.complex_step_gradient(square, np.ones(3), h=0.0),
            VAL,
            ("h must be",),
        ),
    ]


# --------------------------------------------------------------------- arithmetic, windows, runtime
def geometry_rows() -> list[Bad]:
    return [
        Bad(
            "conv_output_size-kernel-too-big",
            lambda: convlib.conv_output_size(3, 5),
            VAL,
            ("kernel", "5", "3"),
        ),
        Bad(
            "conv_output_size-stride-0",
            lambda: convlib.conv_output_size(28, 3, stride=0),
            VAL,
            ("stride",),
        ),
        Bad(
            "conv_output_size-size-bool", lambda: convlib.conv_output_size(True, 1), TYP, ("size",)
        ),
        Bad("conv_output_size-size-str", lambda: convlib.conv_output_size("28", 3), TYP, ("size",)),
        Bad(
            "conv_output_size-pad-negative",
            lambda: convlib.conv_output_size(28, 3, pad=-1),
            VAL,
            ("pad",),
        ),
        Bad(
            "conv_output_size-dilation-0",
            lambda: convlib.conv_output_size(28, 3, dilation=0),
            VAL,
            ("dilation",),
        ),
        Bad("same_padding-kernel-0", lambda: convlib.same_padding(28, 0), VAL, ("kernel",)),
        Bad(
            "conv_cost-groups-not-dividing",
            lambda: convlib.conv_cost(6, 4, 3, 28, groups=3),
            VAL,
            ("groups=3", "C=6", "F=4"),
        ),
        Bad(
            "conv_cost-groups-0", lambda: convlib.conv_cost(6, 6, 3, 28, groups=0), VAL, ("groups",)
        ),
        Bad("conv_cost-output-0", lambda: convlib.conv_cost(6, 6, 3, 0), VAL, ("output_hw",)),
        Bad(
            "conv_cost-bias-str", lambda: convlib.conv_cost(6, 6, 3, 28, bias="no"), TYP, ("bias",)
        ),
        Bad(
            "group_channels-not-divisible",
            lambda: convlib.grouping.group_channels(np.ones((2, 6)), 4),
            VAL,
            ("a", "(2, 6)", "groups=4"),
        ),
        Bad(
            "group_channels-1d",
            lambda: convlib.grouping.group_channels(np.ones(6), 2),
            VAL,
            ("a", "(6,)"),
        ),
        Bad(
            "ungroup_channels-taps",
            lambda: convlib.grouping.ungroup_channels(np.ones((2, 3, 5)), 2),
            VAL,
            ("a_groups", "(2, 3, 5)", "taps=2"),
        ),
        Bad(
            "ungrouped_weights-F",
            lambda: convlib.grouping.ungrouped_weights(np.ones((3, 3, 1, 4)), 3),
            VAL,
            ("groups=3", "F=4", "(3, 3, 1, 4)"),
        ),
        Bad("same_padding-size-float", lambda: convlib.same_padding(28.0, 3), TYP, ("size",)),
        Bad(
            "resolve_padding-word",
            lambda: convlib.resolve_padding("bogus", (5, 5), (3, 3)),
            VAL,
            ("padding", "bogus"),
        ),
        Bad(
            "resolve_padding-one-pair",
            lambda: convlib.resolve_padding(((1, 2),), (5, 5), (3, 3)),
            VAL,
            ("padding",),
        ),
        Bad(
            "resolve_padding-none",
            lambda: convlib.resolve_padding(None, (5, 5), (3, 3)),
            TYP,
            ("padding",),
        ),
        Bad(
            "pad_spatial-x-3d",
            lambda: windows.pad_spatial(X[0], ((1, 1), (1, 1))),
            VAL,
            ("x", "(5, 5, 3)"),
        ),
        Bad(
            "pad_spatial-pads-negative",
            lambda: windows.pad_spatial(X, ((-1, 1), (1, 1))),
            VAL,
            ("pads", "-1"),
        ),
        Bad("pad_spatial-pads-str", lambda: windows.pad_spatial(X, "same"), TYP, ("pads",)),
        Bad(
            "crop_spatial-hw-mismatch",
            lambda: windows.crop_spatial(X, ((1, 1), (1, 1)), (4, 4)),
            VAL,
            ("hw", "(4, 4)", "(2, 5, 5, 3)"),
        ),
        Bad(
            "window_output_hw-kernel-too-big",
            lambda: windows.window_output_hw((5, 5), 6),
            VAL,
            ("kernel_size", "padded_hw", "(5, 5)"),
        ),
        Bad(
            "window_output_hw-padded-str",
            lambda: windows.window_output_hw("55", 3),
            TYP,
            ("padded_hw",),
        ),
        Bad("window_view-stride-0", lambda: windows.window_view(X, 3, stride=0), VAL, ("stride",)),
        Bad("window_view-x-2d", lambda: windows.window_view(X2, 3), VAL, ("x_padded", "(4, 6)")),
        Bad("tap_phases-kernel-0", lambda: windows.tap_phases(0), VAL, ("kernel_size",)),
        Bad(
            "tap_phases-stride-bool", lambda: windows.tap_phases(3, stride=False), TYP, ("stride",)
        ),
        Bad("tap_slices-tap-negative", lambda: windows.tap_slices(-1, 0, (3, 3)), VAL, ("p", "-1")),
        Bad(
            "receptive_field-i-negative",
            lambda: windows.receptive_field(-1, 0, 3),
            VAL,
            ("i", "-1"),
        ),
        Bad(
            "receptive_field-kernel-str",
            lambda: windows.receptive_field(0, 0, "3"),
            TYP,
            ("kernel_size",),
        ),
        # runtime settings
        Bad("set_blas_threads-0", lambda: convlib.set_blas_threads(0), VAL, ("n", "0")),
        Bad("set_blas_threads-str", lambda: convlib.set_blas_threads("2"), TYP, ("n",)),
        Bad("set_blas_threads-bool", lambda: convlib.set_blas_threads(True), TYP, ("n",)),
        Bad(
            "blas_threads-negative", lambda: convlib.blas_threads(-1).__enter__(), VAL, ("n", "-1")
        ),
        Bad(
            "set_workspace_limit-negative",
            lambda: convlib.set_workspace_limit(-1),
            VAL,
            ("nbytes", "-1"),
        ),
        Bad(
            "set_workspace_limit-float",
            lambda: convlib.set_workspace_limit(1.5e6),
            TYP,
            ("nbytes",),
        ),
        Bad("set_compute_threads-0", lambda: convlib.set_compute_threads(0), VAL, ("n", "0")),
        Bad("set_compute_threads-str", lambda: convlib.set_compute_threads("2"), TYP, ("n",)),
        Bad("set_compute_threads-float", lambda: convlib.set_compute_threads(2.0), TYP, ("n",)),
        Bad(
            "compute_threads-negative",
            lambda: convlib.compute_threads(-1).__enter__(),
            VAL,
            ("n", "-1"),
        ),
        Bad("tune_allocator-str", lambda: convlib.tune_allocator("big"), TYP, ("threshold",)),
        Bad("tune_allocator-negative", lambda: convlib.tune_allocator(-1), VAL, ("threshold",)),
    ]


# --------------------------------------------------------------------------- transposed convolution
XT = RNG.standard_normal((2, 4, 4, 4))  # (N, H, W, C_in): the 4 filters of W are its channels
CT_FORWARDS = {
    "conv_transpose2d_forward": convlib.conv_transpose2d_forward,
    "conv_transpose2d_forward_naive": convlib.conv_transpose2d_forward_naive,
}
CT_BACKWARDS = {
    "conv_transpose2d_backward": convlib.conv_transpose2d_backward,
    "conv_transpose2d_backward_naive": convlib.conv_transpose2d_backward_naive,
}


def conv_transpose_rows() -> list[Bad]:
    rows = []
    b3 = np.zeros(3)  # W is (KH, KW, C_out=3, C_in=4)
    for name, f in CT_FORWARDS.items():
        rows += [
            Bad(f"{name}-x-3d", lambda f=f: f(XT[0], W, b3), VAL, ("x", "(4, 4, 4)")),
            Bad(
                f"{name}-channels",
                lambda f=f: f(XT[..., :2], W, b3),
                VAL,
                ("x", "2 channels", "(3, 3, 3, 4)", "C_in"),
            ),
            Bad(f"{name}-bias-shape", lambda f=f: f(XT, W, np.zeros(4)), VAL, ("b", "(4,)", "3")),
            Bad(f"{name}-stride-0", lambda f=f: f(XT, W, b3, stride=0), VAL, ("stride",)),
            Bad(
                f"{name}-output-padding-too-big",
                lambda f=f: f(XT, W, b3, stride=2, output_padding=2),
                VAL,
                ("output_padding", "max(stride, dilation)", "2"),
            ),
            Bad(
                f"{name}-output-padding-stride-1",
                lambda f=f: f(XT, W, b3, output_padding=1),
                VAL,
                ("output_padding", "(1, 1)"),
            ),
            Bad(
                f"{name}-output-padding-same",
                lambda f=f: f(
                    XT, W, b3, stride=2, padding="same", output_padding=(0, 2), dilation=3
                ),
                VAL,
                ("output_padding", "padding='same'", "columns"),
            ),
            Bad(
                f"{name}-output-padding-float",
                lambda f=f: f(XT, W, b3, stride=2, output_padding=0.5),
                TYP,
                ("output_padding",),
            ),
            Bad(
                f"{name}-padding-crops-all",
                lambda f=f: f(XT[:, :1, :1], W, b3, padding=2),
                VAL,
                ("padding", "crops", "(2, 1, 1, 4)"),
            ),
            Bad(
                f"{name}-padding-word",
                lambda f=f: f(XT, W, b3, padding="bogus"),
                VAL,
                ("padding", "bogus"),
            ),
            Bad(f"{name}-x-str", lambda f=f: f("x", W, b3), TYP, ("x",)),
            Bad(f"{name}-x-complex", lambda f=f: f(XT + 1j, W, b3), TYP, ("x",)),
        ]
    cache = convlib.conv_transpose2d_forward(XT, W, np.zeros(3), stride=2)[1]
    for name, f in CT_BACKWARDS.items():
        rows += [
            Bad(
                f"{name}-dout-shape",
                lambda f=f: f(np.zeros((2, 10, 10, 3)), cache),
                VAL,
                ("dout", "(2, 10, 10, 3)", "(2, 9, 9, 3)"),
            ),
            Bad(
                f"{name}-conv-cache",
                lambda f=f: f(np.zeros((2, 9, 9, 3)), conv_cache()),
                TYP,
                ("cache", "ConvTranspose2DCache", "Conv2DCache"),
            ),
        ]
    rows += [
        Bad(
            "conv_transpose_output_size-output-padding",
            lambda: convlib.conv_transpose_output_size(7, 3, stride=2, output_padding=2),
            VAL,
            ("output_padding", "2"),
        ),
        Bad(
            "conv_transpose_output_size-crop-all",
            lambda: convlib.conv_transpose_output_size(1, 1, pad=1),
            VAL,
            ("padding", "crops"),
        ),
        Bad(
            "conv_transpose_output_size-size-0",
            lambda: convlib.conv_transpose_output_size(0, 3),
            VAL,
            ("size",),
        ),
        Bad(
            "resolve_transpose_padding-word",
            lambda: convlib.resolve_transpose_padding("bogus", (5, 5), (3, 3)),
            VAL,
            ("padding", "bogus"),
        ),
        Bad(
            "resolve_transpose_padding-output-padding",
            lambda: convlib.resolve_transpose_padding(0, (5, 5), (3, 3), (2, 2), (1, 1), (0, 3)),
            VAL,
            ("output_padding", "columns"),
        ),
    ]
    return rows


# --------------------------------------------------------------------------------- precision
def precision_rows() -> list[Bad]:
    opt = convlib.SGD([("w16", np.zeros(2, np.float16), np.zeros(2, np.float16))], lr=1.0)
    return [
        Bad("get_format-unknown", lambda: convlib.get_format("float8"), VAL, ("fmt", "float8")),
        Bad("get_format-dtype", lambda: convlib.get_format(np.float16), TYP, ("fmt",)),
        Bad("round_to_format-complex", lambda: convlib.round_to_format(X2 + 1j, "float16"), TYP,
            ("x", "complex128")),
        Bad("round_to_format-fmt", lambda: convlib.round_to_format(X2, "half"), VAL, ("fmt",)),
        Bad("count_out_of_range-str", lambda: convlib.count_out_of_range("a", "float16"), TYP,
            ("x",)),
        Bad("StaticLossScaler-zero", lambda: convlib.StaticLossScaler(0.0), VAL, ("scale",)),
        Bad("StaticLossScaler-nan", lambda: convlib.StaticLossScaler(np.nan), VAL, ("scale",)),
        Bad("StaticLossScaler-not-optimizer", lambda: convlib.StaticLossScaler().step([X2]), TYP,
            ("optimizer",)),
        Bad("StaticLossScaler-float16-grad", lambda: convlib.StaticLossScaler().step(opt), TYP,
            ("w16", "float16", "master")),
        Bad("DynamicLossScaler-growth", lambda: convlib.DynamicLossScaler(growth_factor=0.5), VAL,
            ("growth_factor",)),
        Bad("DynamicLossScaler-backoff", lambda: convlib.DynamicLossScaler(backoff_factor=2.0),
            VAL, ("backoff_factor",)),
        Bad("DynamicLossScaler-update-int", lambda: convlib.DynamicLossScaler().update(1), TYP,
            ("stepped", "bool")),
        Bad("DynamicLossScaler-interval", lambda: convlib.DynamicLossScaler(growth_interval=1.5),
            TYP, ("growth_interval",)),
    ]  # fmt: skip


def merge_rows() -> list[Bad]:
    add_cache = convlib.add_forward(X2, X2)[1]
    return [
        Bad("add_forward-one", lambda: convlib.add_forward(X2), VAL, ("at least two", "got 1")),
        Bad(
            "add_forward-shapes",
            lambda: convlib.add_forward(X, X2),
            VAL,
            ("x1 (2, 5, 5, 3)", "x2 (4, 6)"),
        ),
        Bad("add_forward-str", lambda: convlib.add_forward(X2, "a"), TYP, ("x2",)),
        Bad(
            "add_backward-dout",
            lambda: convlib.add_backward(np.ones((6, 4)), add_cache),
            VAL,
            ("dout", "(6, 4)", "(4, 6)"),
        ),
        Bad(
            "add_backward-cache",
            lambda: convlib.add_backward(X2, conv_cache()),
            TYP,
            ("cache", "add_forward"),
        ),
        Bad(
            "concat_forward-shapes",
            lambda: convlib.concat_forward(X, X[:, :4]),
            VAL,
            ("x1 (2, 5, 5, 3)", "x2 (2, 4, 5, 3)"),
        ),
        Bad(
            "concat_forward-scalar",
            lambda: convlib.concat_forward(1.0, 2.0),
            VAL,
            ("x1", "scalar"),
        ),
        Bad(
            "concat_backward-dout",
            lambda: convlib.concat_backward(X2, convlib.concat_forward(X, X)[1]),
            VAL,
            ("dout", "(4, 6)", "(2, 5, 5, 6)"),
        ),
        Bad(
            "concat_backward-cache",
            lambda: convlib.concat_backward(X2, add_cache),
            TYP,
            ("cache", "concat_forward"),
        ),
    ]


ROWS = (
    conv_rows()
    + pool_rows()
    + elementwise_rows()
    + bn_rows()
    + update_rows()
    + gradcheck_rows()
    + geometry_rows()
    + conv_transpose_rows()
    + precision_rows()
    + merge_rows()
)


@pytest.mark.parametrize("case", table.params(ROWS))
def test_bad_input(case: Bad) -> None:
    table.check_bad(case)


# --------------------------------------------------------------------------- NumPy scalars accepted
def same_rows() -> list[Same]:
    p, g, v = np.ones(3), np.full(3, 0.1), np.zeros(3)

    def rng_call(f: Any, *args: Any) -> Any:
        return f(*args)

    return [
        Same(
            "conv2d_forward-stride-int64",
            lambda: convlib.conv2d_forward(X, W, B, stride=np.int64(2))[0],
            lambda: convlib.conv2d_forward(X, W, B, stride=2)[0],
        ),
        Same(
            "conv2d_forward-padding-int32",
            lambda: convlib.conv2d_forward(X, W, B, padding=np.int32(1))[0],
            lambda: convlib.conv2d_forward(X, W, B, padding=1)[0],
        ),
        Same(
            "conv2d_forward-dilation-pair",
            lambda: convlib.conv2d_forward(X, W, B, dilation=(np.int8(2), np.int8(1)))[0],
            lambda: convlib.conv2d_forward(X, W, B, dilation=(2, 1))[0],
        ),
        Same(
            "conv2d_forward-stride-0d-array",
            lambda: convlib.conv2d_forward(X, W, B, stride=np.array(2))[0],
            lambda: convlib.conv2d_forward(X, W, B, stride=2)[0],
        ),
        Same(
            "conv_output_size-0d-arrays",
            lambda: convlib.conv_output_size(np.array(28), np.array(5)),
            lambda: convlib.conv_output_size(28, 5),
        ),
        Same(
            "maxpool2d_forward-pool-0d-array",
            lambda: convlib.maxpool2d_forward(X, np.array(2, np.int8))[0],
            lambda: convlib.maxpool2d_forward(X, 2)[0],
        ),
        Same(
            "maxpool2d_forward-pool-int32",
            lambda: convlib.maxpool2d_forward(X, np.int32(2))[0],
            lambda: convlib.maxpool2d_forward(X, 2)[0],
        ),
        Same(
            "avgpool2d_forward-stride-uint8",
            lambda: convlib.avgpool2d_forward(X, 2, stride=np.uint8(1))[0],
            lambda: convlib.avgpool2d_forward(X, 2, stride=1)[0],
        ),
        Same(
            "im2col-kernel-int64",
            lambda: convlib.im2col(X, np.int64(3)),
            lambda: convlib.im2col(X, 3),
        ),
        Same(
            "leaky_relu-alpha-float32",
            lambda: convlib.leaky_relu_forward(X2, alpha=np.float32(0.25))[0],
            lambda: convlib.leaky_relu_forward(X2, alpha=0.25)[0],
        ),
        Same(
            "dropout-p-float32",
            lambda: convlib.dropout_forward(X2, np.float32(0.5), np.random.default_rng(1))[0],
            lambda: convlib.dropout_forward(X2, 0.5, np.random.default_rng(1))[0],
        ),
        Same(
            "batchnorm-momentum-eps",
            lambda: bn(momentum=np.float32(0.5), eps=np.float64(1e-3), training=np.bool_(True))[0],
            lambda: bn(momentum=0.5, eps=1e-3, training=True)[0],
        ),
        Same(
            "sgd_update-lr-float32",
            lambda: convlib.sgd_update(p, g, np.float32(0.5)),
            lambda: convlib.sgd_update(p, g, 0.5),
        ),
        Same(
            "momentum_update-float64",
            lambda: convlib.momentum_update(p, g, v, np.float64(0.1), np.float64(0.9)),
            lambda: convlib.momentum_update(p, g, v, 0.1, 0.9),
        ),
        Same(
            "adam_update-t-int64",
            lambda: convlib.adam_update(p, g, v, v, np.int64(3), 0.1, np.float32(0.5), 0.999, 1e-8),
            lambda: convlib.adam_update(p, g, v, v, 3, 0.1, 0.5, 0.999, 1e-8),
        ),
        Same(
            "numerical_gradient-h-float64",
            lambda: convlib.numerical_gradient(np.sin, np.ones(3), h=np.float64(1e-4)),
            lambda: convlib.numerical_gradient(np.sin, np.ones(3), h=1e-4),
        ),
        Same(
            "rel_error-floor-float32",
            lambda: convlib.rel_error(p, g, floor=np.float32(0.5)),
            lambda: convlib.rel_error(p, g, floor=0.5),
        ),
        Same(
            "conv_output_size-int64",
            lambda: convlib.conv_output_size(np.int64(28), np.int64(5), np.int64(2)),
            lambda: convlib.conv_output_size(28, 5, 2),
        ),
        Same(
            "same_padding-int16",
            lambda: convlib.same_padding(np.int16(28), np.int16(4)),
            lambda: convlib.same_padding(28, 4),
        ),
        Same(
            "window_output_hw-int64",
            lambda: windows.window_output_hw((np.int64(7), np.int64(7)), np.int64(3)),
            lambda: windows.window_output_hw((7, 7), 3),
        ),
    ]


@pytest.mark.parametrize("case", table.params(same_rows()))
def test_numpy_scalars_accepted(case: Same) -> None:
    table.check_same(case)


# -------------------------------------------------------------- Hypothesis: shapes in every message
@settings(max_examples=25)
@given(
    c_x=st.integers(1, 4),
    c_w=st.integers(1, 4),
    name=st.sampled_from(sorted(CONV_FORWARDS)),
)
def test_channel_mismatch_names_both_shapes(c_x: int, c_w: int, name: str) -> None:
    """Any channel mismatch between x and w is a ValueError printing both shapes."""
    x, w = np.ones((1, 4, 4, c_x)), np.ones((2, 2, c_w, 3))
    if c_x == c_w:
        assert CONV_FORWARDS[name](x, w, None)[0].shape == (1, 3, 3, 3)
        return
    with pytest.raises(ValueError) as info:
        CONV_FORWARDS[name](x, w, None)
    assert str(x.shape) in str(info.value) and str(w.shape) in str(info.value)


@settings(max_examples=25)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=5).map(tuple),
    name=st.sampled_from(sorted(CONV_BACKWARDS) + sorted(POOL_BACKWARDS)),
)
def test_wrong_dout_shape_names_both_shapes(shape: tuple[int, ...], name: str) -> None:
    """A dout of any other shape than the forward output is refused, both shapes named."""
    backward = {**CONV_BACKWARDS, **POOL_BACKWARDS}[name]
    cache = conv_cache() if name.startswith("conv") else pool_cache(name[:3])
    expected = cache.out_shape
    if shape == expected:
        return  # the right shape: covered by the layers' own tests
    with pytest.raises(ValueError) as info:
        backward(np.ones(shape), cache)
    message = str(info.value)
    assert "dout" in message and str(shape) in message and str(expected) in message


@settings(max_examples=40)
@given(
    value=st.one_of(
        st.integers(-3, 0), st.floats(allow_nan=True), st.booleans(), st.text(max_size=3), st.none()
    ),
    argument=st.sampled_from(["stride", "dilation"]),
)
def test_bad_integer_hyper_parameters(value: Any, argument: str) -> None:
    """Non-positive ints, floats, bools, strings and None as stride or dilation: named in the message."""
    with pytest.raises((TypeError, ValueError)) as info:
        convlib.conv2d_forward(X, W, B, **{argument: value})
    assert argument in str(info.value)


def test_numerical_gradient_restores_x_when_f_raises() -> None:
    """numerical_gradient perturbs x in place: an exception in f must not leave it perturbed."""
    x = np.linspace(-1, 1, 5)
    before = x.copy()
    calls = []

    def f(v: np.ndarray) -> np.ndarray:
        calls.append(1)
        if len(calls) == 2:
            raise KeyError("boom")
        return v**2

    with pytest.raises(KeyError):
        convlib.numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)
