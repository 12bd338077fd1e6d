"""Bad inputs to layers, models, optimizers, training, data and the command line.

The second half of issue 10's bad-input table (the first, the mathematics, is
``test_bad_inputs.py``; the machinery is ``bad_input_table.py``): the layer
classes, ``Sequential`` (forward, summary, save and load), the optimizers and
schedules, ``fit``/``evaluate``/``predict``, the recipes, the data functions
and ``python -m convlib.train``. Each row asserts the exception type and that
the message names the argument (and the shapes or the file, where they are
involved); NumPy scalars where Python scalars are meant must be accepted.

Nothing here downloads: every data-set call passes ``download=False`` and
points ``CONVLIB_DATA`` and the user cache at folders of the test's own.
"""

from __future__ import annotations

import atexit
import contextlib
import gzip
import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import convlib
from convlib import cli, layers
from convlib.datasets import (
    IDXFormatError,
    candidate_dirs,
    fetch_files,
    load_mnist,
    read_idx,
)

_spec = importlib.util.spec_from_file_location(
    "bad_input_table", Path(__file__).with_name("bad_input_table.py")
)
table = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("bad_input_table", table)
_spec.loader.exec_module(table)
Bad, Same = table.Bad, table.Same
VAL, TYP = ValueError, TypeError

RNG = np.random.default_rng(0)
XI = RNG.standard_normal((8, 4, 4, 1)).astype(np.float32)  # prepared images (N, H, W, C)
YI = np.arange(8) % 4  # labels of 4 classes
TMP = Path(tempfile.mkdtemp(prefix="convlib-bad-inputs-"))
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
#: A mirror that refuses at once (the discard port of this machine): if a
#: bad row reaches the download code, nothing leaves the machine.
OFFLINE = ["http://127.0.0.1:9/"]


def net(seed: int = 0) -> convlib.Sequential:
    """A tiny classifier of (N, 4, 4, 1) images into 4 classes."""
    return convlib.Sequential([layers.Flatten(), layers.Dense(16, 4, rng=seed)])


def adam(model: convlib.Sequential | None = None) -> convlib.Adam:
    return convlib.Adam((model or net()).parameters(), lr=1e-3)


def fit(model: Any = None, x: Any = XI, y: Any = YI, optimizer: Any = None, **kw: Any) -> Any:
    """``convlib.fit`` on the tiny problem, with the defaults filled in."""
    model = net() if model is None else model
    optimizer = adam(model) if optimizer is None else optimizer
    kw = {"epochs": 1, "batch_size": 4, "progress": False, **kw}
    return convlib.fit(model, x, y, optimizer, **kw)


def fit_untouched(model: Any = None, **kw: Any) -> Any:
    """:func:`fit` that must refuse before its first step: no parameter may change."""
    model = net() if model is None else model
    before = [p.value.copy() for p in model.parameters()]
    try:
        return fit(model, **kw)
    finally:
        for b, p in zip(before, model.parameters()):
            np.testing.assert_array_equal(
                p.value, b, err_msg=f"{p.name} trained before the input was refused"
            )


def file_with(name: str, data: bytes) -> Path:
    path = TMP / name
    path.write_bytes(data)
    return path


def saved_model(name: str = "good.npz", model: convlib.Sequential | None = None) -> Path:
    path = TMP / name
    (model or net()).save(path)
    return path


def truncated_model() -> Path:
    data = saved_model("whole.npz").read_bytes()
    return file_with("truncated.npz", data[: len(data) // 2])


def huge_weights_model() -> Path:
    """A float64 model whose weights do not fit in float32."""
    big = convlib.Sequential(
        [layers.Flatten(dtype=np.float64), layers.Dense(16, 4, rng=0, dtype=np.float64)]
    )
    big[1].params["w"][...] = 1e300
    return saved_model("huge.npz", big)


def idx_bytes(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + payload


@contextlib.contextmanager
def data_env(convlib_data: str | None) -> Iterator[None]:
    """``CONVLIB_DATA`` set (or unset) and an empty user cache, for one call."""
    keys = ("CONVLIB_DATA", "XDG_CACHE_HOME")
    old = {k: os.environ.get(k) for k in keys}
    os.environ["XDG_CACHE_HOME"] = str(Path(tempfile.mkdtemp(dir=TMP)))
    if convlib_data is None:
        os.environ.pop("CONVLIB_DATA", None)
    else:
        os.environ["CONVLIB_DATA"] = convlib_data
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def with_env(convlib_data: str | None, fn: Any, *args: Any, **kw: Any) -> Any:
    with data_env(convlib_data):
        return fn(*args, **kw)


def real_data_dir() -> str:
    """A folder holding mnist/ (the offline copy), or a skip."""
    folder = os.environ.get("CONVLIB_DATA", "/work/shared/data")
    if not (Path(folder) / "mnist").is_dir():
        pytest.skip("no offline MNIST copy")
    return folder


def empty_dir() -> str:
    return tempfile.mkdtemp(dir=TMP)


# --------------------------------------------------------------------------- layer classes
def layer_rows() -> list[Bad]:
    def conv(**kw: Any) -> layers.Conv2D:
        return layers.Conv2D(**{"in_channels": 3, "out_channels": 4, "kernel_size": 3, **kw})

    return [
        Bad("Conv2D-in-channels-0", lambda: conv(in_channels=0), VAL, ("in_channels", "0")),
        Bad("Conv2D-in-channels-float", lambda: conv(in_channels=3.0), TYP, ("in_channels",)),
        Bad("Conv2D-out-channels-bool", lambda: conv(out_channels=True), TYP, ("out_channels",)),
        Bad("Conv2D-kernel-0", lambda: conv(kernel_size=0), VAL, ("kernel_size",)),
        Bad("Conv2D-kernel-str", lambda: conv(kernel_size="3"), TYP, ("kernel_size",)),
        Bad("Conv2D-stride-0", lambda: conv(stride=0), VAL, ("stride",)),
        Bad("Conv2D-padding-word", lambda: conv(padding="bogus"), VAL, ("padding", "bogus")),
        Bad("Conv2D-init-word", lambda: conv(init="bogus"), VAL, ("init", "bogus")),
        Bad("Conv2D-bias-str", lambda: conv(bias="yes"), TYP, ("bias",)),
        Bad("Conv2D-dtype-int", lambda: conv(dtype=np.int32), TYP, ("dtype", "int32")),
        Bad("Conv2D-dtype-complex", lambda: conv(dtype=np.complex64), TYP, ("dtype", "complex64")),
        Bad("Conv2D-rng-str", lambda: conv(rng="seed"), TYP, ("rng",)),
        Bad(
            "Conv2D-groups-not-dividing",
            lambda: conv(groups=2),
            VAL,
            ("groups=2", "C=3", "F=4", "in_channels"),
        ),
        Bad("Conv2D-groups-0", lambda: conv(groups=0), VAL, ("groups", "0")),
        Bad("Conv2D-groups-str", lambda: conv(groups="2"), TYP, ("groups",)),
        Bad(
            "Conv2D-groups-forward-channels",
            lambda: conv(in_channels=4, groups=2).forward(np.ones((1, 5, 5, 2))),
            VAL,
            ("x", "(1, 5, 5, 2)"),
        ),
        Bad(
            "Conv2D-forward-channels",
            lambda: conv().forward(np.ones((2, 5, 5, 2))),
            VAL,
            ("x", "(2, 5, 5, 2)"),
        ),
        Bad(
            "Conv2D-forward-3d", lambda: conv().forward(np.ones((5, 5, 3))), VAL, ("x", "(5, 5, 3)")
        ),
        Bad(
            "Conv2D-backward-dout-shape",
            lambda: _after_forward(conv(), np.ones((2, 5, 5, 3))).backward(np.ones((2, 3, 3, 5))),
            VAL,
            ("dout", "(2, 3, 3, 5)", "(2, 3, 3, 4)"),
        ),
        Bad(
            "Conv2D-backward-first",
            lambda: conv().backward(np.ones((2, 3, 3, 4))),
            (RuntimeError, VAL),
            ("forward",),
        ),
        Bad("Dense-in-features-0", lambda: layers.Dense(0, 3), VAL, ("in_features", "0")),
        Bad("Dense-out-features-str", lambda: layers.Dense(4, "3"), TYP, ("out_features",)),
        Bad(
            "Dense-forward-features",
            lambda: layers.Dense(6, 3, rng=0).forward(np.ones((4, 5))),
            VAL,
            ("x", "(4, 5)", "6"),
        ),
        Bad(
            "Dense-backward-dout-shape",
            lambda: _after_forward(layers.Dense(6, 3, rng=0), np.ones((4, 6))).backward(
                np.ones((4, 4))
            ),
            VAL,
            ("dout", "(4, 4)", "(4, 3)"),
        ),
        Bad("BatchNorm-features-0", lambda: layers.BatchNorm(0), VAL, ("num_features",)),
        Bad(
            "BatchNorm-momentum-big",
            lambda: layers.BatchNorm(3, momentum=2.0),
            VAL,
            ("momentum", "2"),
        ),
        Bad("BatchNorm-eps-str", lambda: layers.BatchNorm(3, eps="a"), TYP, ("eps",)),
        Bad(
            "BatchNorm-forward-features",
            lambda: layers.BatchNorm(3).forward(np.ones((4, 5))),
            VAL,
            ("x", "(4, 5)"),
        ),
        Bad("BatchNorm-forward-nan", lambda: _bn_nan_keeps_statistics(), VAL, ("x", "finite")),
        Bad("Dropout-p-1", lambda: layers.Dropout(1.0), VAL, ("p",)),
        Bad("Dropout-p-str", lambda: layers.Dropout("a"), TYP, ("p",)),
        Bad("MaxPool2D-pool-0", lambda: layers.MaxPool2D(0), VAL, ("pool_size",)),
        Bad(
            "MaxPool2D-padding-window",
            lambda: layers.MaxPool2D(2, padding=2),
            VAL,
            ("padding", "pool_size"),
        ),
        Bad("AvgPool2D-stride-0", lambda: layers.AvgPool2D(2, stride=0), VAL, ("stride",)),
        Bad(
            "AvgPool2D-forward-3d",
            lambda: layers.AvgPool2D(2).forward(np.ones((4, 4, 1))),
            VAL,
            ("x", "(4, 4, 1)"),
        ),
        Bad("LeakyReLU-alpha-str", lambda: layers.LeakyReLU(alpha="a"), TYP, ("alpha",)),
        Bad("ReLU-dtype-int", lambda: layers.ReLU(dtype="int8"), TYP, ("dtype", "int8")),
        Bad("Flatten-forward-str", lambda: layers.Flatten().forward("x"), TYP, ("x",)),
        Bad(
            "GlobalAvgPool2D-forward-2d",
            lambda: layers.GlobalAvgPool2D().forward(np.ones((4, 3))),
            VAL,
            ("(N, H, W, C)", "(4, 3)"),
        ),
        Bad(
            "GlobalAvgPool2D-backward-dout-shape",
            lambda: _after_forward(layers.GlobalAvgPool2D(), np.ones((2, 3, 3, 4))).backward(
                np.ones((2, 3, 3, 4))
            ),
            VAL,
            ("dout", "(2, 3, 3, 4)", "(2, 4)"),
        ),
        Bad(
            "GlobalAvgPool2D-output-shape-2d",
            lambda: layers.GlobalAvgPool2D().output_shape((4, 3)),
            VAL,
            ("input_shape",),
        ),
        Bad(
            "Tanh-forward-complex",
            lambda: layers.Tanh().forward(np.ones(3) * 1j),
            TYP,
            ("x", "complex"),
        ),
        Bad(
            "Sigmoid-backward-dout-shape",
            lambda: _after_forward(layers.Sigmoid(), np.ones((2, 3))).backward(np.ones(3)),
            VAL,
            ("dout", "(3,)", "(2, 3)"),
        ),
    ]


def _after_forward(layer: Any, x: np.ndarray) -> Any:
    layer.forward(x)
    return layer


def _bn_nan_keeps_statistics() -> None:
    layer = layers.BatchNorm(3, dtype=np.float64)
    x = np.ones((4, 3)) + np.arange(12).reshape(4, 3)
    x[0, 0] = np.nan
    try:
        layer.forward(x)
    finally:
        assert all(np.isfinite(b).all() for b in layer.buffers.values()), (
            "running statistics updated from a NaN batch"
        )


# --------------------------------------------------------------------------- Sequential
def model_rows() -> list[Bad]:
    return [
        Bad("Sequential-ints", lambda: convlib.Sequential([1, 2]), TYP, ("layers[0]", "int")),
        Bad(
            "Sequential-one-layer",
            lambda: convlib.Sequential(layers.ReLU()),
            TYP,
            ("list of layers",),
        ),
        Bad("Sequential-empty", lambda: convlib.Sequential([]), VAL, ("at least one layer",)),
        Bad("Sequential-none", lambda: convlib.Sequential(None), TYP, ("layers", "NoneType")),
        Bad(
            "Sequential-forward-shape",
            lambda: net().forward(np.ones((2, 5, 5, 1))),
            VAL,
            ("Dense", "(N, 16)", "(2, 25)"),
        ),
        Bad("Sequential-forward-str", lambda: net().forward("x"), TYP, ("x",)),
        Bad("Sequential-summary-str", lambda: net().summary("abc"), TYP, ("input_shape", "abc")),
        Bad(
            "Sequential-summary-zero",
            lambda: net().summary((4, 4, 0)),
            VAL,
            ("input_shape", "(4, 4, 0)"),
        ),
        Bad(
            "Sequential-summary-wrong",
            lambda: net().summary((5, 5, 1)),
            VAL,
            ("layer 1", "Dense", "(25,)"),
        ),
        Bad(
            "Sequential-output-shape-none", lambda: net().output_shape(None), TYP, ("input_shape",)
        ),
        Bad("Sequential-train-str", lambda: net().train("yes"), TYP, ("mode",)),
        Bad(
            "Sequential-backward-first",
            lambda: net().backward(np.ones((2, 4))),
            (RuntimeError, VAL),
            ("forward",),
        ),
        Bad("set_memory_limit-str", lambda: convlib.set_memory_limit("8GiB"), TYP, ("nbytes",)),
        Bad("set_memory_limit-zero", lambda: convlib.set_memory_limit(0), VAL, ("nbytes",)),
        Bad("build_lenet-seed-str", lambda: convlib.build_lenet(seed="a"), TYP, ("seed",)),
        Bad(
            "build_capstone-dtype-int",
            lambda: convlib.build_capstone(dtype=np.int64),
            TYP,
            ("dtype",),
        ),
        # loading: what the file is, and which file
        Bad(
            "load-missing",
            lambda: net().load(TMP / "nowhere.npz"),
            FileNotFoundError,
            ("nowhere.npz",),
        ),
        Bad("load-path-int", lambda: net().load(3), TYP, ("path",)),
        Bad(
            "load-empty-file",
            lambda: net().load(file_with("empty.npz", b"")),
            VAL,
            ("empty.npz", "empty"),
        ),
        Bad(
            "load-text-file",
            lambda: net().load(file_with("text.npz", b"hello, world\n" * 20)),
            VAL,
            ("text.npz", "not a .npz archive"),
        ),
        Bad("load-truncated", lambda: net().load(truncated_model()), VAL, ("truncated.npz",)),
        Bad(
            "load-single-array",
            lambda: net().load(_single_array()),
            VAL,
            ("single.npy", "single array"),
        ),
        Bad(
            "load-other-model",
            lambda: convlib.Sequential([layers.Flatten(), layers.Dense(16, 5, rng=0)]).load(
                saved_model()
            ),
            VAL,
            ("1.w", "(16, 4)", "(16, 5)"),
        ),
        Bad(
            "load-other-architecture",
            lambda: convlib.Sequential([layers.Dense(16, 4, rng=0)]).load(saved_model()),
            VAL,
            ("architecture", "Flatten"),
        ),
        Bad(
            "load-float64-overflow",
            lambda: net().load(huge_weights_model()),
            VAL,
            ("huge.npz", "1.w", "float32"),
        ),
        Bad("save-path-int", lambda: net().save(3.5), TYP, ("path",)),
        Bad(
            "save-missing-folder",
            lambda: net().save(TMP / "no" / "such" / "m.npz"),
            (FileNotFoundError, VAL),
            ("m.npz",),
        ),
    ]


def _single_array() -> Path:
    path = TMP / "single.npy"
    np.save(path, np.ones(3))
    return path


# ------------------------------------------------------------------------- optimizers and schedules
def optim_rows() -> list[Bad]:
    def params() -> list:
        return net().parameters()

    return [
        Bad("SGD-params-empty", lambda: convlib.SGD([], lr=0.1), VAL, ("params",)),
        Bad("SGD-params-int", lambda: convlib.SGD(5, lr=0.1), TYP, ("params",)),
        Bad(
            "SGD-params-arrays",
            lambda: convlib.SGD([np.zeros(3)], lr=0.1),
            TYP,
            ("params[0]", "pair"),
        ),
        Bad("SGD-lr-negative", lambda: convlib.SGD(params(), lr=-1), VAL, ("lr", "-1")),
        Bad("SGD-lr-str", lambda: convlib.SGD(params(), lr="0.1"), TYP, ("lr",)),
        Bad("SGD-lr-nan", lambda: convlib.SGD(params(), lr=np.nan), VAL, ("lr",)),
        Bad("SGD-lr-huge-int", lambda: convlib.SGD(params(), lr=-(10**400)), VAL, ("lr", "finite")),
        Bad(
            "SGD-momentum-1",
            lambda: convlib.SGD(params(), lr=0.1, momentum=1.0),
            VAL,
            ("momentum",),
        ),
        Bad(
            "SGD-nesterov-str",
            lambda: convlib.SGD(params(), lr=0.1, momentum=0.9, nesterov="yes"),
            TYP,
            ("nesterov",),
        ),
        Bad(
            "SGD-weight-decay-negative",
            lambda: convlib.SGD(params(), lr=0.1, weight_decay=-0.1),
            VAL,
            ("weight_decay",),
        ),
        Bad(
            "SGD-schedule-str",
            lambda: convlib.SGD(params(), lr=0.1, schedule="cosine"),
            TYP,
            ("schedule",),
        ),
        Bad("Adam-betas-one", lambda: convlib.Adam(params(), betas=(0.9,)), VAL, ("betas",)),
        Bad("Adam-betas-1", lambda: convlib.Adam(params(), betas=(1.0, 0.999)), VAL, ("betas",)),
        Bad("Adam-betas-str", lambda: convlib.Adam(params(), betas="0.9"), (TYP, VAL), ("betas",)),
        Bad("Adam-eps-0", lambda: convlib.Adam(params(), eps=0.0), VAL, ("eps",)),
        Bad("Adam-eps-str", lambda: convlib.Adam(params(), eps="a"), TYP, ("eps",)),
        Bad(
            "SGD-step-nan-grad",
            lambda: _step_with_nan_grad(convlib.SGD, lr=0.1, momentum=0.9),
            (VAL, ArithmeticError),
            ("finite",),
        ),
        Bad(
            "Adam-step-inf-grad",
            lambda: _step_with_nan_grad(convlib.Adam, lr=0.1, value=np.inf),
            (VAL, ArithmeticError),
            ("finite",),
        ),
        Bad("StepLR-step-size-0", lambda: convlib.StepLR(0.1, step_size=0), VAL, ("step_size",)),
        Bad("StepLR-base-lr-negative", lambda: convlib.StepLR(-0.1, 2), VAL, ("base_lr",)),
        Bad("StepLR-gamma-str", lambda: convlib.StepLR(0.1, 2, gamma="a"), TYP, ("gamma",)),
        Bad(
            "ExponentialLR-gamma-0", lambda: convlib.ExponentialLR(0.1, gamma=0.0), VAL, ("gamma",)
        ),
        Bad(
            "ExponentialLR-period-0",
            lambda: convlib.ExponentialLR(0.1, 0.9, period=0),
            VAL,
            ("period",),
        ),
        Bad(
            "CosineLR-total-0", lambda: convlib.CosineLR(0.1, total_steps=0), VAL, ("total_steps",)
        ),
        Bad(
            "CosineLR-min-lr-above", lambda: convlib.CosineLR(0.1, 10, min_lr=0.2), VAL, ("min_lr",)
        ),
        Bad(
            "CosineLR-warmup-negative",
            lambda: convlib.CosineLR(0.1, 10, warmup=-1),
            VAL,
            ("warmup",),
        ),
        Bad(
            "CosineLR-warmup-too-long",
            lambda: convlib.CosineLR(0.1, 10, warmup=11),
            VAL,
            ("warmup",),
        ),
        Bad("CosineLR-call-negative", lambda: convlib.CosineLR(0.1, 10)(-1), VAL, ("t", "-1")),
        Bad("OneCycleLR-max-lr-0", lambda: convlib.OneCycleLR(0.0, 100), VAL, ("max_lr",)),
        Bad("OneCycleLR-total-1", lambda: convlib.OneCycleLR(0.1, 1), VAL, ("total_steps", "1")),
        Bad("OneCycleLR-total-float", lambda: convlib.OneCycleLR(0.1, 10.0), TYP, ("total_steps",)),
        Bad(
            "OneCycleLR-pct-1",
            lambda: convlib.OneCycleLR(0.1, 100, pct_start=1.0),
            VAL,
            ("pct_start",),
        ),
        Bad(
            "OneCycleLR-rise-too-short",
            lambda: convlib.OneCycleLR(0.1, 5, pct_start=0.2),
            VAL,
            ("pct_start * total_steps - 1", "total_steps=5"),
        ),
        Bad(
            "OneCycleLR-div-below-1",
            lambda: convlib.OneCycleLR(0.1, 100, div_factor=0.5),
            VAL,
            ("div_factor",),
        ),
        Bad(
            "OneCycleLR-final-div-str",
            lambda: convlib.OneCycleLR(0.1, 100, final_div_factor="1e4"),
            TYP,
            ("final_div_factor",),
        ),
        Bad("OneCycleLR-call-negative", lambda: convlib.OneCycleLR(0.1, 10)(-1), VAL, ("t", "-1")),
        Bad("StepLR-call-str", lambda: convlib.StepLR(0.1, 2)("3"), TYP, ("t",)),
    ]


def _step_with_nan_grad(cls: Any, value: float = np.nan, **kw: Any) -> None:
    model = net()
    opt = cls(model.parameters(), **kw)
    before = [p.value.copy() for p in model.parameters()]
    for p in model.parameters():
        p.grad[...] = 0.1
    model.parameters()[0].grad.flat[0] = value
    try:
        opt.step()
    finally:
        for b, p in zip(before, model.parameters()):
            np.testing.assert_array_equal(p.value, b, err_msg=f"{p.name} changed by a refused step")


# ------------------------------------------------------------------ fit, evaluate, predict, recipes
def loop_rows() -> list[Bad]:
    x_nan = XI.copy()
    x_nan[3, 1, 1, 0] = np.nan
    return [
        Bad("fit-epochs-0", lambda: fit(epochs=0), VAL, ("epochs", "0")),
        Bad("fit-epochs-bool", lambda: fit(epochs=True), TYP, ("epochs",)),
        Bad("fit-batch-size-0", lambda: fit(batch_size=0), VAL, ("batch_size", "0")),
        Bad("fit-batch-size-float", lambda: fit(batch_size=2.5), TYP, ("batch_size",)),
        Bad("fit-eval-batch-size-0", lambda: fit(eval_batch_size=0), VAL, ("eval_batch_size",)),
        Bad("fit-length-mismatch", lambda: fit(y=YI[:5]), VAL, ("x_train", "y_train", "8", "5")),
        Bad("fit-labels-float", lambda: fit(y=YI.astype(float) + 0.5), TYP, ("y_train",)),
        Bad("fit-labels-2d", lambda: fit(y=np.eye(8, 4, dtype=int)), VAL, ("y_train", "(8, 4)")),
        Bad(
            "fit-labels-out-of-range",
            lambda: fit_untouched(y=np.r_[YI[:7], 9]),
            VAL,
            ("y_train", "9"),
        ),
        Bad("fit-x-val-alone", lambda: fit(x_val=XI), VAL, ("y_val",)),
        Bad(
            "fit-x-val-shape",
            lambda: fit(x_val=XI[:, :3], y_val=YI),
            VAL,
            ("x_val", "(8, 3, 4, 1)", "x_train"),
        ),
        Bad("fit-x-nan", lambda: fit(x=x_nan), VAL, ("x_train", "finite")),
        Bad("fit-x-str", lambda: fit(x="images"), TYP, ("x_train",)),
        Bad("fit-x-empty", lambda: fit(x=XI[:0], y=YI[:0]), VAL, ("x_train",)),
        Bad("fit-model-int", lambda: fit(model=5, optimizer=adam()), TYP, ("model", "int")),
        Bad("fit-optimizer-str", lambda: fit(optimizer="adam"), TYP, ("optimizer", "step")),
        Bad("fit-optimizer-other-model", lambda: fit(optimizer=adam(net(1))), VAL, ("optimizer",)),
        Bad("fit-callback-int", lambda: fit(callback=3), TYP, ("callback",)),
        Bad("fit-progress-str", lambda: fit(progress="no"), TYP, ("progress",)),
        Bad("fit-seed-str", lambda: fit(seed="a"), TYP, ("seed",)),
        Bad(
            "fit-bn-last-batch-of-one",
            lambda: fit_untouched(
                model=convlib.Sequential(
                    [layers.Flatten(), layers.Dense(16, 4, rng=0), layers.BatchNorm(4)]
                ),
                x=XI[:5],
                y=YI[:5],
                epochs=2,
            ),
            VAL,
            ("batch_size", "1"),
        ),
        Bad(
            "evaluate-batch-size-0",
            lambda: convlib.evaluate(net(), XI, YI, batch_size=0),
            VAL,
            ("batch_size",),
        ),
        Bad(
            "evaluate-length-mismatch",
            lambda: convlib.evaluate(net(), XI, YI[:3]),
            VAL,
            ("x", "y", "8", "3"),
        ),
        Bad(
            "evaluate-labels-out-of-range",
            lambda: convlib.evaluate(net(), XI, YI + 4),
            VAL,
            ("labels", "7"),
        ),
        Bad(
            "predict-probabilities-str",
            lambda: convlib.predict(net(), XI, probabilities="yes"),
            TYP,
            ("probabilities",),
        ),
        Bad(
            "predict-batch-size-negative",
            lambda: convlib.predict(net(), XI, batch_size=-1),
            VAL,
            ("batch_size",),
        ),
        Bad("predict-x-str", lambda: convlib.predict(net(), "x"), TYP, ("x",)),
        Bad(
            "make_optimizer-lr-0",
            lambda: convlib.make_optimizer(net(), lr=0.0, total_steps=10),
            VAL,
            ("lr",),
        ),
        Bad(
            "make_optimizer-steps-0",
            lambda: convlib.make_optimizer(net(), lr=0.1, total_steps=0),
            VAL,
            ("total_steps",),
        ),
        Bad(
            "make_optimizer-model-int",
            lambda: convlib.make_optimizer(5, lr=0.1, total_steps=10),
            TYP,
            ("model", "parameters()"),
        ),
        Bad(
            "make_optimizer-fraction-big",
            lambda: convlib.make_optimizer(net(), 0.1, 10, min_lr_fraction=2.0),
            VAL,
            ("min_lr",),
        ),
        Bad(
            "TrainConfig-epochs-0",
            lambda: convlib.TrainConfig(0, 8, 0.1, 0.01, False),
            VAL,
            ("epochs", "0"),
        ),
        Bad(
            "train_model-config-dict",
            lambda: convlib.train_model(net(), XI, YI, None, None, {"epochs": 1}, progress=False),
            TYP,
            ("config", "TrainConfig"),
        ),
    ]


# --------------------------------------------------------------------------- data
def data_rows() -> list[Bad]:
    images = np.zeros((2, 28, 28), np.uint8)
    return [
        Bad("one_hot-label-too-big", lambda: convlib.one_hot([0, 10], 10), VAL, ("labels", "10")),
        Bad("one_hot-label-negative", lambda: convlib.one_hot([0, -1], 10), VAL, ("labels", "-1")),
        Bad(
            "one_hot-labels-float",
            lambda: convlib.one_hot([0.0, 1.0], 10),
            TYP,
            ("labels", "float64"),
        ),
        Bad("one_hot-labels-2d", lambda: convlib.one_hot([[0, 1]], 10), VAL, ("labels", "(1, 2)")),
        Bad("one_hot-labels-str", lambda: convlib.one_hot("01", 10), TYP, ("labels",)),
        Bad("one_hot-classes-0", lambda: convlib.one_hot([0], 0), VAL, ("num_classes", "0")),
        Bad("one_hot-classes-bool", lambda: convlib.one_hot([0], True), TYP, ("num_classes",)),
        Bad("prepare_images-std-0", lambda: convlib.prepare_images(images, std=0.0), VAL, ("std",)),
        Bad(
            "prepare_images-std-str", lambda: convlib.prepare_images(images, std="a"), TYP, ("std",)
        ),
        Bad(
            "prepare_images-mean-nan",
            lambda: convlib.prepare_images(images, mean=np.nan),
            VAL,
            ("mean",),
        ),
        Bad("prepare_images-str", lambda: convlib.prepare_images("images"), TYP, ("images",)),
        Bad(
            "prepare_images-2d",
            lambda: convlib.prepare_images(images[0]),
            VAL,
            ("images", "(28, 28)"),
        ),
        Bad(
            "prepare_images-colour",
            lambda: convlib.prepare_images(np.zeros((2, 28, 28, 3), np.uint8)),
            VAL,
            ("images", "(2, 28, 28, 3)"),
        ),
        Bad(
            "prepare_images-complex",
            lambda: convlib.prepare_images(images * 1j),
            TYP,
            ("images", "complex"),
        ),
        # Floats already in [0, 1] are accepted and scaled as the uint8 levels are (test_preprocessing.py);
        # images prepared once already are not, and the message names the fix.
        Bad(
            "prepare_images-twice",
            lambda: _prepare_warns(convlib.prepare_images(images)),
            VAL,
            ("images", "[0, 1]", "already normalised", "prepare_images"),
        ),
        Bad(
            "to_float_nhwc-5d",
            lambda: convlib.to_float_nhwc(np.zeros((1, 2, 2, 2, 1))),
            VAL,
            ("images",),
        ),
        Bad(
            "to_float_nhwc-dtype-int",
            lambda: convlib.to_float_nhwc(images, dtype=np.int16),
            TYP,
            ("dtype",),
        ),
        Bad(
            "random_shift-max-shift-negative",
            lambda: convlib.random_shift(XI, RNG, max_shift=-1),
            VAL,
            ("max_shift",),
        ),
        Bad(
            "random_shift-max-shift-float",
            lambda: convlib.random_shift(XI, RNG, max_shift=1.5),
            TYP,
            ("max_shift",),
        ),
        Bad(
            "random_shift-rng-str",
            lambda: convlib.random_shift(XI, "rng"),
            TYP,
            ("rng", "Generator"),
        ),
        Bad("random_shift-x-3d", lambda: convlib.random_shift(XI[0], RNG), VAL, ("x", "(4, 4, 1)")),
        Bad(
            "build_resnet-widths-int", lambda: convlib.build_resnet(0, widths=16), TYP, ("widths",)
        ),
        Bad(
            "build_resnet-blocks-0", lambda: convlib.build_resnet(0, blocks=0), VAL, ("blocks", "0")
        ),
        Bad("build_resnet-seed-str", lambda: convlib.build_resnet("s"), TYP, ("seed",)),
        Bad(
            "build_plain-widths-0",
            lambda: convlib.build_plain(0, widths=(0, 4)),
            VAL,
            ("widths[0]",),
        ),
        Bad(
            "build_plain-pool-str",
            lambda: convlib.build_plain(0, stem_pool="no"),
            TYP,
            ("stem_pool",),
        ),
        Bad("random_flip-x-3d", lambda: convlib.random_flip(XI[0], RNG), VAL, ("x", "(4, 4, 1)")),
        Bad("random_flip-x-str", lambda: convlib.random_flip("x", RNG), TYP, ("x",)),
        Bad("random_flip-rng-str", lambda: convlib.random_flip(XI, "rng"), TYP, ("rng",)),
        Bad("random_flip-seed-negative", lambda: convlib.random_flip(XI, -1), VAL, ("rng",)),
        Bad(
            "random_flip-p-above-1", lambda: convlib.random_flip(XI, RNG, p=1.5), VAL, ("p", "1.5")
        ),
        Bad("random_flip-p-str", lambda: convlib.random_flip(XI, RNG, p="half"), TYP, ("p",)),
        Bad("synthetic_digits-n-negative", lambda: convlib.synthetic_digits(-1), VAL, ("n", "-1")),
        Bad("synthetic_digits-n-str", lambda: convlib.synthetic_digits("10"), TYP, ("n",)),
        Bad("synthetic_digits-n-float", lambda: convlib.synthetic_digits(2.5), TYP, ("n",)),
        Bad(
            "synthetic_digits-seed-str",
            lambda: convlib.synthetic_digits(4, seed="a"),
            TYP,
            ("seed",),
        ),
        # IDX files
        Bad(
            "read_idx-missing", lambda: read_idx(TMP / "none.idx"), FileNotFoundError, ("none.idx",)
        ),
        Bad(
            "read_idx-empty",
            lambda: read_idx(file_with("empty.idx", b"")),
            IDXFormatError,
            ("empty.idx", "0 bytes"),
        ),
        Bad(
            "read_idx-bad-magic",
            lambda: read_idx(file_with("magic.idx", idx_bytes(2049, (2,), b"\1\2")), magic=2051),
            IDXFormatError,
            ("magic.idx", "2049", "2051"),
        ),
        Bad(
            "read_idx-truncated",
            lambda: read_idx(file_with("short.idx", idx_bytes(2049, (5,), b"\1\2"))),
            IDXFormatError,
            ("short.idx",),
        ),
        Bad(
            "read_idx-trailing",
            lambda: read_idx(file_with("long.idx", idx_bytes(2049, (2,), b"\1\2\3"))),
            IDXFormatError,
            ("long.idx",),
        ),
        Bad(
            "read_idx-corrupt-gz",
            lambda: read_idx(
                file_with("bad.gz", gzip.compress(idx_bytes(2049, (2,), b"\1\2"))[:-6])
            ),
            IDXFormatError,
            ("bad.gz",),
        ),
        Bad(
            "read_idx-not-gzip",
            lambda: read_idx(file_with("plain.gz", idx_bytes(2049, (2,), b"\1\2"))),
            IDXFormatError,
            ("plain.gz",),
        ),
        Bad("read_idx-path-int", lambda: read_idx(3), TYP, ("path",)),
        Bad(
            "read_idx-magic-str",
            lambda: read_idx(file_with("ok.idx", idx_bytes(2049, (2,), b"\1\2")), magic="2049"),
            TYP,
            ("magic",),
        ),
        # data-set folders (nothing is downloaded)
        Bad(
            "load_mnist-download-str",
            lambda: with_env(
                None, load_mnist, empty_dir(), download="no", mirrors=OFFLINE, retries=0, timeout=1
            ),
            TYP,
            ("download",),
        ),
        Bad(
            "load_mnist-timeout-negative",
            lambda: load_mnist(empty_dir(), download=False, timeout=-1),
            VAL,
            ("timeout",),
        ),
        Bad(
            "load_mnist-timeout-str",
            lambda: load_mnist(empty_dir(), download=False, timeout="10"),
            TYP,
            ("timeout",),
        ),
        Bad(
            "load_mnist-retries-negative",
            lambda: load_mnist(empty_dir(), download=False, retries=-1),
            VAL,
            ("retries",),
        ),
        Bad("load_mnist-root-int", lambda: load_mnist(3, download=False), TYP, ("root",)),
        Bad(
            "load_mnist-root-file",
            lambda: with_env(None, load_mnist, file_with("afile", b"x"), download=False),
            (VAL, FileNotFoundError, NotADirectoryError),
            ("afile", "root", "not a folder"),
        ),
        Bad(
            "load_mnist-root-alone",
            lambda: with_env(real_data_dir(), load_mnist, empty_dir(), download=False),
            convlib.DatasetNotFoundError,
            ("root",),
        ),
        Bad(
            "load_mnist-env-file",
            lambda: with_env(str(file_with("envfile", b"x")), load_mnist, download=False),
            (VAL, FileNotFoundError),
            ("envfile", "CONVLIB_DATA", "not a folder"),
        ),
        Bad("candidate_dirs-dataset", lambda: candidate_dirs("cifar"), VAL, ("dataset", "cifar")),
        Bad(
            "fetch_files-dataset-none",
            lambda: fetch_files(None, download=False),
            (TYP, VAL),
            ("dataset",),
        ),
        Bad(
            "fetch_files-mirrors-int",
            lambda: fetch_files("mnist", empty_dir(), download=False, mirrors=5),
            TYP,
            ("mirrors",),
        ),
    ]


def _prepare_warns(images: np.ndarray) -> None:
    """Refuse, or warn with a UserWarning naming the fix (turned into an error here)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        try:
            convlib.prepare_images(images)
        except UserWarning as w:
            raise ValueError(str(w)) from None


# --------------------------------------------------------- base classes, fast helpers, book support
def misc_rows() -> list[Bad]:
    from convlib.exercises import check_conv_forward
    from convlib.plotting import (
        backward_diagrams,
        conv_diagrams,
        fast_path,
        layers_diagrams,
        optim_diagrams,
        primitives,
    )

    return [
        Bad("Layer-dtype-int", lambda: layers.Layer(dtype=np.int32), TYP, ("dtype", "int32")),
        Bad(
            "Optimizer-lr-negative",
            lambda: convlib.Optimizer(net().parameters(), lr=-1),
            VAL,
            ("lr", "-1"),
        ),
        Bad(
            "Optimizer-schedule-int",
            lambda: convlib.Optimizer(net().parameters(), lr=0.1, schedule=3),
            TYP,
            ("schedule",),
        ),
        Bad(
            "load_fashion_mnist-timeout-0",
            lambda: convlib.load_fashion_mnist(empty_dir(), download=False, timeout=0),
            VAL,
            ("timeout",),
        ),
        Bad(
            "scratch-shape-negative",
            lambda: convlib.fast.scratch("t", (-1, 2), np.float32),
            VAL,
            ("shape", "(-1, 2)"),
        ),
        Bad(
            "phase_window_views-geometry-none",
            lambda: convlib.fast.phase_window_views(np.ones((1, 5, 5, 1)), None),
            TYP,
            ("geometry", "WindowGeometry"),
        ),
        Bad(
            "check_conv_forward-fn-str",
            lambda: check_conv_forward("conv", verbose=False),
            TYP,
            ("fn", "callable"),
        ),
        Bad(
            "check_conv_forward-seed-str",
            lambda: check_conv_forward(convlib.conv2d_forward, seed="a", verbose=False),
            TYP,
            ("seed",),
        ),
        Bad(
            "moving_average-window-0",
            lambda: optim_diagrams.moving_average(np.ones(10), 0),
            VAL,
            ("window", "0"),
        ),
        Bad(
            "moving_average-values-str",
            lambda: optim_diagrams.moving_average("abc", 2),
            TYP,
            ("values",),
        ),
        Bad(
            "adam_bias_factors-beta1-1",
            lambda: optim_diagrams.adam_bias_factors(beta1=1.0),
            VAL,
            ("beta1",),
        ),
        Bad(
            "adam_bias_factors-steps-0",
            lambda: optim_diagrams.adam_bias_factors(steps=0),
            VAL,
            ("steps",),
        ),
        Bad(
            "dilate_grid-stride-0",
            lambda: fast_path.dilate_grid(np.ones((3, 3)), 0),
            VAL,
            ("stride",),
        ),
        Bad(
            "coverage_counts-kernel-0", lambda: fast_path.coverage_counts(5, 5, 0), VAL, ("kernel",)
        ),
        Bad("im2col_rows-x-str", lambda: fast_path.im2col_rows("x", 2), TYP, ("x",)),
        Bad(
            "activation_values-name",
            lambda: layers_diagrams.activation_values("swish", np.ones(3)),
            VAL,
            ("name", "swish"),
        ),
        Bad(
            "softmax_jacobian-2d",
            lambda: layers_diagrams.softmax_jacobian(np.ones((2, 2))),
            VAL,
            ("p", "(2, 2)"),
        ),
        Bad(
            "touch_pairs-kernel-0",
            lambda: backward_diagrams.touch_pairs(5, 0),
            VAL,
            ("kernel_size",),
        ),
        Bad(
            "touch_pairs-kernel-too-big",
            lambda: backward_diagrams.touch_pairs(3, 5),
            VAL,
            ("kernel_size", "length"),
        ),
        Bad(
            "plotting.receptive_field-kernel-0",
            lambda: conv_diagrams.receptive_field((0, 0), 0),
            VAL,
            ("kernel_hw",),
        ),
        Bad(
            "as_grid-3d",
            lambda: primitives.as_grid("values", np.ones((2, 2, 2))),
            VAL,
            ("values", "(2, 2, 2)"),
        ),
    ]


# --------------------------------------------------------------------------- input gradients
XA = RNG.standard_normal((3, 6, 6, 1))  # images for a small convolutional classifier


def cnet() -> convlib.Sequential:
    """conv 3x3 1->2, ReLU, max pool 2, flatten, dense 8->4, float64: (N, 6, 6, 1) images."""
    return convlib.Sequential(
        [
            layers.Conv2D(1, 2, 3, rng=0, dtype=np.float64),
            layers.ReLU(dtype=np.float64),
            layers.MaxPool2D(2, dtype=np.float64),
            layers.Flatten(dtype=np.float64),
            layers.Dense(8, 4, rng=1, dtype=np.float64),
        ]
    )


def attribution_rows() -> list[Bad]:
    return [
        Bad(
            "score_gradient-model-int",
            lambda: convlib.score_gradient(5, XA, 0),
            TYP,
            ("model", "forward"),
        ),
        Bad(
            "score_gradient-x-1d",
            lambda: convlib.score_gradient(cnet(), XA[0, 0, 0], 0),
            VAL,
            ("x", "(1,)"),
        ),
        Bad("score_gradient-x-str", lambda: convlib.score_gradient(cnet(), "img", 0), TYP, ("x",)),
        Bad(
            "score_gradient-class-4",
            lambda: convlib.score_gradient(cnet(), XA, 4),
            VAL,
            ("classes", "[0, 4)"),
        ),
        Bad(
            "score_gradient-class-float",
            lambda: convlib.score_gradient(cnet(), XA, 1.0),
            TYP,
            ("classes",),
        ),
        Bad(
            "score_gradient-classes-short",
            lambda: convlib.score_gradient(cnet(), XA, [0, 1]),
            VAL,
            ("classes", "(3,)", "(2,)"),
        ),
        Bad(
            "smoothgrad-samples-0",
            lambda: convlib.smoothgrad(cnet(), XA, 0, samples=0),
            VAL,
            ("samples", "0"),
        ),
        Bad(
            "smoothgrad-noise-negative",
            lambda: convlib.smoothgrad(cnet(), XA, 0, noise=-0.1),
            VAL,
            ("noise",),
        ),
        Bad(
            "smoothgrad-rng-str", lambda: convlib.smoothgrad(cnet(), XA, 0, rng="a"), TYP, ("rng",)
        ),
        Bad(
            "unit_gradient-model-list",
            lambda: convlib.unit_gradient([cnet()[0]], XA, 0, (0, 0, 0)),
            TYP,
            ("model", "Sequential"),
        ),
        Bad(
            "unit_gradient-layer-5",
            lambda: convlib.unit_gradient(cnet(), XA, 5, (0, 0, 0)),
            VAL,
            ("layer", "5"),
        ),
        Bad(
            "unit_gradient-unit-short",
            lambda: convlib.unit_gradient(cnet(), XA, 0, (0, 0)),
            VAL,
            ("unit", "(4, 4, 2)"),
        ),
        Bad(
            "unit_gradient-unit-outside",
            lambda: convlib.unit_gradient(cnet(), XA, 0, (4, 0, 0)),
            VAL,
            ("unit", "(4, 4, 2)"),
        ),
        Bad(
            "unit_receptive_field-dense",
            lambda: convlib.unit_receptive_field(cnet(), 4, 0, 0, (6, 6, 1)),
            VAL,
            ("Flatten", "layer 3"),
        ),
        Bad(
            "unit_receptive_field-pixel-outside",
            lambda: convlib.unit_receptive_field(cnet(), 2, 2, 0, (6, 6, 1)),
            VAL,
            ("(i, j)", "(2, 2, 2)"),
        ),
        Bad(
            "unit_receptive_field-shape-str",
            lambda: convlib.unit_receptive_field(cnet(), 0, 0, 0, "6x6"),
            TYP,
            ("input_shape",),
        ),
        Bad("fgsm-eps-negative", lambda: convlib.fgsm(cnet(), XA, [0, 1, 2], -0.1), VAL, ("eps",)),
        Bad(
            "fgsm-clip-reversed",
            lambda: convlib.fgsm(cnet(), XA, [0, 1, 2], 0.1, clip=(1, 0)),
            VAL,
            ("clip",),
        ),
        Bad(
            "fgsm-clip-scalar",
            lambda: convlib.fgsm(cnet(), XA, [0, 1, 2], 0.1, clip=1.0),
            TYP,
            ("clip",),
        ),
        Bad("fgsm-labels-short", lambda: convlib.fgsm(cnet(), XA, [0, 1], 0.1), VAL, ("labels",)),
        Bad(
            "prepared_pixel_range-std-0", lambda: convlib.prepared_pixel_range(std=0), VAL, ("std",)
        ),
    ]


def conv_transpose_layer_rows() -> list[Bad]:
    def up(**kw: Any) -> Any:
        return layers.ConvTranspose2D(
            **{"in_channels": 4, "out_channels": 3, "kernel_size": 4, **kw}
        )

    return [
        Bad("ConvTranspose2D-in-channels-0", lambda: up(in_channels=0), VAL, ("in_channels", "0")),
        Bad("ConvTranspose2D-kernel-str", lambda: up(kernel_size="3"), TYP, ("kernel_size",)),
        Bad(
            "ConvTranspose2D-output-padding",
            lambda: up(stride=2, output_padding=2),
            VAL,
            ("output_padding", "max(stride, dilation)"),
        ),
        Bad("ConvTranspose2D-padding-word", lambda: up(padding="bogus"), VAL, ("padding", "bogus")),
        Bad(
            "ConvTranspose2D-input-channels",
            lambda: up().forward(np.zeros((1, 5, 5, 3))),
            VAL,
            ("(N, H, W, 4)", "(1, 5, 5, 3)"),
        ),
        Bad(
            "ConvTranspose2D-output-shape",
            lambda: up().output_shape((5, 5, 3)),
            VAL,
            ("4 input channels", "(5, 5, 3)"),
        ),
    ]


# --------------------------------------------------------------------------- Graph, Add, Concat
def small_graph(seed: int = 0, classes: int = 4) -> convlib.Graph:
    """input -> conv (same) -> relu, added to the input; flatten; dense to ``classes``."""
    g = convlib.Graph()
    a = g.add("conv", layers.Conv2D(1, 1, 3, padding="same", rng=seed), "input")
    b = g.add("relu", layers.ReLU(), a)
    c = g.add("skip", convlib.Add(), b, "input")
    d = g.add("flat", layers.Flatten(), c)
    g.add("fc", layers.Dense(16, classes, rng=seed), d)
    return g


def saved_graph(name: str = "graph.npz") -> Path:
    path = TMP / name
    small_graph().save(path)
    return path


def _graph_with(*nodes: tuple[str, Any, tuple[str, ...]]) -> convlib.Graph:
    g = convlib.Graph()
    for name, layer, inputs in nodes:
        g.add(name, layer, *inputs)
    return g


def graph_rows() -> list[Bad]:
    tanh = layers.Tanh
    return [
        Bad(
            "Graph-unknown-input",
            lambda: convlib.Graph().add("a", tanh(), "x"),
            VAL,
            ("unknown input 'x'", "'input'"),
        ),
        Bad(
            "Graph-duplicate-name",
            lambda: _graph_with(("a", tanh(), ("input",)), ("a", tanh(), ("input",))),
            VAL,
            ("'a'", "already used"),
        ),
        Bad(
            "Graph-name-input",
            lambda: convlib.Graph().add("input", tanh(), "input"),
            VAL,
            ("'input'", "already used"),
        ),
        Bad("Graph-name-int", lambda: convlib.Graph().add(1, tanh(), "input"), TYP, ("name",)),
        Bad("Graph-name-empty", lambda: convlib.Graph().add("", tanh(), "input"), VAL, ("name",)),
        Bad("Graph-no-inputs", lambda: convlib.Graph().add("a", tanh()), VAL, ("'a'", "input")),
        Bad(
            "Graph-inputs-list",
            lambda: convlib.Graph().add("a", convlib.Add(), ["input", "input"]),
            TYP,
            ("separate arguments",),
        ),
        Bad(
            "Graph-not-a-layer",
            lambda: convlib.Graph().add("a", np.tanh, "input"),
            TYP,
            ("layer", "ufunc"),
        ),
        Bad(
            "Graph-same-layer-twice",
            lambda: (lambda t: _graph_with(("a", t, ("input",)), ("b", t, ("a",))))(tanh()),
            VAL,
            ("'a'", "'b'", "new layer"),
        ),
        Bad(
            "Graph-add-arity",
            lambda: convlib.Graph().add("s", convlib.Add(), "input"),
            VAL,
            ("'s'", "Add", "at least 2", "got 1"),
        ),
        Bad(
            "Graph-concat-arity",
            lambda: convlib.Graph().add("c", convlib.Concat(), "input"),
            VAL,
            ("'c'", "Concat", "at least 2"),
        ),
        Bad(
            "Graph-one-input-layer-arity",
            lambda: convlib.Graph().add("t", tanh(), "input", "input"),
            VAL,
            ("'t'", "Tanh", "exactly one input", "got 2"),
        ),
        Bad(
            "Graph-unconnected",
            lambda: _graph_with(
                ("a", tanh(), ("input",)), ("dead", tanh(), ("a",)), ("out", tanh(), ("a",))
            ).forward(np.ones((1, 2))),
            VAL,
            ("unconnected", "'dead'", "'out'"),
        ),
        Bad("Graph-empty-forward", lambda: convlib.Graph().forward(XI), VAL, ("no layers",)),
        Bad(
            "Graph-output-unknown",
            lambda: setattr(small_graph(), "output", "nope"),
            VAL,
            ("output", "'nope'"),
        ),
        Bad(
            "Graph-add-shape-mismatch",
            lambda: _graph_with(
                ("conv", layers.Conv2D(1, 2, 3, rng=0), ("input",)),
                ("skip", convlib.Add(), ("conv", "input")),
            ).summary((4, 4, 1)),
            VAL,
            ("'skip'", "'conv' (2, 2, 2)", "'input' (4, 4, 1)"),
        ),
        Bad(
            "Graph-add-shape-mismatch-forward",
            lambda: _graph_with(
                ("conv", layers.Conv2D(1, 2, 3, rng=0), ("input",)),
                ("skip", convlib.Add(), ("conv", "input")),
            ).forward(XI),
            VAL,
            ("'skip'", "(8, 2, 2, 2)", "(8, 4, 4, 1)"),
        ),
        Bad(
            "Graph-concat-shape-mismatch",
            lambda: _graph_with(
                ("conv", layers.Conv2D(1, 2, 3, rng=0), ("input",)),
                ("cat", convlib.Concat(), ("conv", "input")),
            ).summary((4, 4, 1)),
            VAL,
            ("'cat'", "(2, 2, 2)", "(4, 4, 1)"),
        ),
        Bad(
            "Graph-forward-shape",
            lambda: small_graph().forward(np.ones((2, 5, 5, 1))),
            VAL,
            ("'fc'", "Dense", "(2, 25)"),
        ),
        Bad("Graph-summary-str", lambda: small_graph().summary("abc"), TYP, ("input_shape",)),
        Bad(
            "Graph-summary-batch-axis",
            lambda: small_graph().summary((8, 4, 4, 1)),
            VAL,
            ("batch axis", "(4, 4, 1)"),
        ),
        Bad("Graph-train-str", lambda: small_graph().train("yes"), TYP, ("mode",)),
        Bad(
            "Graph-backward-first",
            lambda: small_graph().backward(np.ones((2, 4))),
            RuntimeError,
            ("forward",),
        ),
        Bad("Graph-getitem-unknown", lambda: small_graph()["nope"], KeyError, ("nope", "conv")),
        Bad(
            "Graph-load-sequential-file",
            lambda: small_graph().load(saved_model("seq-for-graph.npz")),
            VAL,
            ("seq-for-graph.npz", "Sequential"),
        ),
        Bad(
            "Graph-load-other-architecture",
            lambda: _graph_with(
                ("conv", layers.Conv2D(1, 1, 3, padding="same", rng=0), ("input",)),
                ("relu", layers.ReLU(), ("conv",)),
                ("skip", convlib.Concat(), ("relu", "input")),
                ("flat", layers.Flatten(), ("skip",)),
                ("fc", layers.Dense(32, 4, rng=0), ("flat",)),
            ).load(saved_graph()),
            VAL,
            ("architecture", "graph.npz", "'skip' is Add in the file, Concat here"),
        ),
        Bad(
            "Graph-load-other-edges",
            lambda: _graph_with(
                ("conv", layers.Conv2D(1, 1, 3, padding="same", rng=0), ("input",)),
                ("relu", layers.ReLU(), ("conv",)),
                ("skip", convlib.Add(), ("relu", "conv")),
                ("flat", layers.Flatten(), ("skip",)),
                ("fc", layers.Dense(16, 4, rng=0), ("flat",)),
            ).load(saved_graph()),
            VAL,
            ("architecture", "'skip'", "['relu', 'input']", "['relu', 'conv']"),
        ),
        Bad(
            "Graph-load-other-shapes",
            lambda: small_graph(classes=5).load(saved_graph()),
            VAL,
            ("fc.w", "(16, 4)", "(16, 5)"),
        ),
        Bad(
            "Graph-load-missing",
            lambda: small_graph().load(TMP / "nope"),
            FileNotFoundError,
            ("nope",),
        ),
        Bad(
            "Sequential-load-graph-file",
            lambda: net().load(saved_graph("graph-for-seq.npz")),
            VAL,
            ("graph-for-seq.npz", "Graph.load"),
        ),
        Bad("Graph-save-path-int", lambda: small_graph().save(3.5), TYP, ("path",)),
        Bad(
            "Add-forward-shapes",
            lambda: convlib.Add().forward(np.ones((2, 3)), np.ones((2, 4))),
            VAL,
            ("(2, 3)", "(2, 4)"),
        ),
        Bad("Add-forward-one", lambda: convlib.Add().forward(np.ones(3)), VAL, ("at least 2",)),
        Bad("Add-dtype-int", lambda: convlib.Add(dtype=np.int64), TYP, ("dtype",)),
        Bad(
            "Add-output-shape",
            lambda: convlib.Add().output_shape((4, 4, 2), (4, 4, 3)),
            VAL,
            ("(4, 4, 2)", "(4, 4, 3)"),
        ),
        Bad(
            "Add-backward-first",
            lambda: convlib.Add().backward(np.ones(3)),
            RuntimeError,
            ("forward",),
        ),
        Bad(
            "Concat-forward-shapes",
            lambda: convlib.Concat().forward(np.ones((2, 4, 4, 1)), np.ones((2, 3, 4, 1))),
            VAL,
            ("(2, 4, 4, 1)", "(2, 3, 4, 1)"),
        ),
        Bad(
            "Concat-output-shape",
            lambda: convlib.Concat().output_shape((4, 4, 2), (3, 4, 2)),
            VAL,
            ("(4, 4, 2)", "(3, 4, 2)"),
        ),
        Bad("Concat-train-str", lambda: convlib.Concat().train("yes"), TYP, ("mode",)),
        Bad(
            "MergeLayer-output-shape-str",
            lambda: convlib.Add().output_shape("abc", (1,)),
            TYP,
            ("input_shapes[0]",),
        ),
        Bad(
            "fit-graph-bn-last-batch",
            lambda: fit(
                _graph_with(
                    ("flat", layers.Flatten(), ("input",)),
                    ("bn", layers.BatchNorm(16), ("flat",)),
                    ("fc", layers.Dense(16, 4, rng=0), ("bn",)),
                ),
                batch_size=7,
            ),
            VAL,
            ("node 'bn'", "drop_last=True"),
        ),
    ]


ROWS = (
    layer_rows()
    + model_rows()
    + optim_rows()
    + loop_rows()
    + data_rows()
    + misc_rows()
    + attribution_rows()
    + conv_transpose_layer_rows()
    + graph_rows()
)


@pytest.mark.parametrize("case", table.params(ROWS))
def test_bad_input(case: Bad) -> None:
    table.check_bad(case)


# --------------------------------------------------------------------------- the command line
#: ``python -m convlib.train`` arguments that must end with exit status 2, a
#: message naming the option on stderr, and no traceback, before training.
CLI_ROWS = [
    ("epochs-0", ["--epochs", "0"], "--epochs", None),
    ("epochs-word", ["--epochs", "many"], "--epochs", None),
    ("batch-size-0", ["--batch-size", "0"], "--batch-size", None),
    ("lr-0", ["--lr", "0"], "--lr", None),
    ("lr-negative", ["--lr", "-0.1"], "--lr", None),
    ("lr-nan", ["--lr", "nan"], "--lr", None),
    ("lr-inf", ["--lr", "inf"], "--lr", None),
    ("seed-negative", ["--seed", "-1"], "--seed", None),
    ("threads-0", ["--threads", "0"], "--threads", None),
    ("threads-and-no-tuning", ["--threads", "2", "--no-tuning"], "--no-tuning", None),
    ("limit-0", ["--limit", "0"], "--limit", None),
    ("model-unknown", ["--model", "resnet50"], "--model", None),
    ("data-dir-missing", ["--data-dir", "/nonexistent/folder"], "--data-dir", None),
    ("data-dir-and-synthetic", ["--data-dir", "/tmp", "--synthetic"], "--synthetic", None),
    ("save-missing-folder", ["--save", "/nonexistent/folder/m.npz"], "--save", None),
    ("unknown-option", ["--bogus", "1"], "--bogus", None),
    (
        "save-not-writable",
        [
            "--save",
            "/proc/m.npz",
            "--synthetic",
            "--limit",
            "8",
            "--epochs",
            "1",
            "--no-progress",
            "--no-tuning",
        ],
        "--save",
        None,
    ),
    (
        "save-folder-is-file",
        [
            "--save",
            "{file}/m.npz",
            "--synthetic",
            "--limit",
            "8",
            "--epochs",
            "1",
            "--no-progress",
            "--no-tuning",
        ],
        "--save",
        None,
    ),
]


def _cli_params() -> list[Any]:
    def marks(why: str) -> list:
        return [pytest.mark.xfail(strict=True, reason=why)] if why else []

    return [
        pytest.param(argv, option, id=name, marks=marks(why))
        for name, argv, option, why in CLI_ROWS
    ]


@pytest.mark.parametrize(("argv", "option"), _cli_params())
def test_cli_refuses(argv: list[str], option: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a.replace("{file}", str(file_with("plainfile", b"x"))) for a in argv]
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert option in err and "Traceback" not in err, err


def test_cli_explicit_data_dir_is_searched_alone(capsys: pytest.CaptureFixture[str]) -> None:
    """--data-dir without MNIST: exit 1 naming that folder, never MNIST from another folder."""
    folder = empty_dir()
    with data_env(real_data_dir()):
        status = cli.main(
            [
                "--data-dir",
                folder,
                "--no-download",
                "--limit",
                "8",
                "--epochs",
                "1",
                "--no-progress",
                "--no-tuning",
            ]
        )
    out = capsys.readouterr()
    assert status == 1 and folder in out.err and "Traceback" not in out.err, out.err


# --------------------------------------------------------------------------- NumPy scalars accepted
def _fit_history(**kw: Any) -> list[float]:
    return fit(**kw).train_loss


def _lr_after(cls: Any, **kw: Any) -> list[Any]:
    model = net()
    opt = cls(model.parameters(), **kw)
    for p in model.parameters():
        p.grad[...] = 0.1
    opt.step()
    return [opt.lr, *(p.value for p in model.parameters())]


SAME_ROWS = [
    Same(
        "Conv2D-int64",
        lambda: layers.Conv2D(np.int64(3), np.int64(4), np.int64(3), rng=0).params["w"],
        lambda: layers.Conv2D(3, 4, 3, rng=0).params["w"],
    ),
    Same(
        "Dense-int32",
        lambda: layers.Dense(np.int32(6), np.int32(3), rng=0).params["w"],
        lambda: layers.Dense(6, 3, rng=0).params["w"],
    ),
    Same(
        "BatchNorm-float32",
        lambda: layers.BatchNorm(np.int64(3), momentum=np.float32(0.5)).forward(
            np.arange(12.0).reshape(4, 3)
        ),
        lambda: layers.BatchNorm(3, momentum=0.5).forward(np.arange(12.0).reshape(4, 3)),
    ),
    Same(
        "Dropout-float32",
        lambda: layers.Dropout(np.float32(0.5), rng=0).forward(np.ones((4, 3))),
        lambda: layers.Dropout(0.5, rng=0).forward(np.ones((4, 3))),
    ),
    Same(
        "MaxPool2D-int64",
        lambda: layers.MaxPool2D(np.int64(2)).forward(XI),
        lambda: layers.MaxPool2D(2).forward(XI),
    ),
    Same(
        "LeakyReLU-float64",
        lambda: layers.LeakyReLU(np.float64(0.2)).forward(XI),
        lambda: layers.LeakyReLU(0.2).forward(XI),
    ),
    Same(
        "summary-int64",
        lambda: net().summary((np.int64(4), np.int64(4), np.int64(1))).rows,
        lambda: net().summary((4, 4, 1)).rows,
    ),
    Same(
        "SGD-float32",
        lambda: _lr_after(convlib.SGD, lr=np.float32(0.5), momentum=np.float32(0.5)),
        lambda: _lr_after(convlib.SGD, lr=0.5, momentum=0.5),
    ),
    Same(
        "Adam-betas-float32",
        lambda: _lr_after(
            convlib.Adam, lr=np.float64(0.01), betas=(np.float32(0.5), np.float32(0.75))
        ),
        lambda: _lr_after(convlib.Adam, lr=0.01, betas=(0.5, 0.75)),
    ),
    Same(
        "StepLR-int64",
        lambda: [convlib.StepLR(np.float32(0.5), np.int64(2))(t) for t in range(5)],
        lambda: [convlib.StepLR(0.5, 2)(t) for t in range(5)],
    ),
    Same(
        "CosineLR-int64",
        lambda: [convlib.CosineLR(0.1, np.int64(10), warmup=np.int64(2))(t) for t in range(10)],
        lambda: [convlib.CosineLR(0.1, 10, warmup=2)(t) for t in range(10)],
    ),
    Same(
        "fit-int64",
        lambda: _fit_history(epochs=np.int64(2), batch_size=np.int64(4), seed=np.int64(1)),
        lambda: _fit_history(epochs=2, batch_size=4, seed=1),
    ),
    Same(
        "evaluate-int64",
        lambda: convlib.evaluate(net(), XI, YI, batch_size=np.int64(3)),
        lambda: convlib.evaluate(net(), XI, YI, batch_size=3),
    ),
    Same(
        "predict-int32",
        lambda: convlib.predict(net(), XI, batch_size=np.int32(3), probabilities=np.bool_(True)),
        lambda: convlib.predict(net(), XI, batch_size=3, probabilities=True),
    ),
    Same(
        "make_optimizer-float32",
        lambda: _lr_after(
            lambda ps, **kw: convlib.make_optimizer(net(), **kw),
            lr=np.float32(0.5),
            total_steps=np.int64(10),
        ),
        lambda: _lr_after(
            lambda ps, **kw: convlib.make_optimizer(net(), **kw), lr=0.5, total_steps=10
        ),
    ),
    Same(
        "synthetic_digits-0d-array",
        lambda: convlib.synthetic_digits(np.array(4)),
        lambda: convlib.synthetic_digits(4),
    ),
    Same(
        "Dense-0d-arrays",
        lambda: layers.Dense(np.array(6), np.array(3), rng=0).params["w"],
        lambda: layers.Dense(6, 3, rng=0).params["w"],
    ),
    Same(
        "one_hot-int64",
        lambda: convlib.one_hot([1, 2], np.int64(3)),
        lambda: convlib.one_hot([1, 2], 3),
    ),
    Same(
        "prepare_images-float32",
        lambda: convlib.prepare_images(
            np.ones((2, 4, 4), np.uint8), np.float32(0.5), np.float32(0.25)
        ),
        lambda: convlib.prepare_images(np.ones((2, 4, 4), np.uint8), 0.5, 0.25),
    ),
    Same(
        "build_resnet-int64",
        lambda: convlib.build_resnet(
            np.int64(1), widths=(np.int64(2), 4), blocks=np.int64(1)
        ).state(),
        lambda: convlib.build_resnet(1, widths=(2, 4), blocks=1).state(),
    ),
    Same(
        "build_plain-int64",
        lambda: convlib.build_plain(np.int64(1), widths=(2, np.int64(4))).state(),
        lambda: convlib.build_plain(1, widths=(2, 4)).state(),
    ),
    Same(
        "random_flip-float32-p",
        lambda: convlib.random_flip(XI, np.random.default_rng(0), np.float32(0.5)),
        lambda: convlib.random_flip(XI, np.random.default_rng(0), 0.5),
    ),
    Same(
        "OneCycleLR-numpy",
        lambda: convlib.OneCycleLR(np.float32(0.5), np.int64(20), np.float64(0.25))(np.int64(7)),
        lambda: convlib.OneCycleLR(0.5, 20, 0.25)(7),
    ),
    Same(
        "random_shift-int64",
        lambda: convlib.random_shift(XI, np.random.default_rng(0), np.int64(1)),
        lambda: convlib.random_shift(XI, np.random.default_rng(0), 1),
    ),
    Same(
        "synthetic_digits-int64",
        lambda: convlib.synthetic_digits(np.int64(6), seed=np.int64(2)),
        lambda: convlib.synthetic_digits(6, seed=2),
    ),
    Same(
        "load_mnist-timeout-float32",
        lambda: _not_found_text(timeout=np.float32(5.0), retries=np.int64(0)),
        lambda: _not_found_text(timeout=5.0, retries=0),
    ),
    Same(
        "fgsm-float32-eps",
        lambda: convlib.fgsm(cnet(), XA, np.array([0, 1, 2]), np.float32(0.25)),
        lambda: convlib.fgsm(cnet(), XA, np.array([0, 1, 2]), 0.25),
    ),
    Same(
        "smoothgrad-int64-samples",
        lambda: convlib.smoothgrad(cnet(), XA, np.int64(1), samples=np.int64(2), rng=np.int64(0)),
        lambda: convlib.smoothgrad(cnet(), XA, 1, samples=2, rng=0),
    ),
    Same(
        "unit_gradient-int64-unit",
        lambda: convlib.unit_gradient(cnet(), XA, np.int64(2), (np.int64(1), 1, 0)),
        lambda: convlib.unit_gradient(cnet(), XA, 2, (1, 1, 0)),
    ),
]


def _not_found_text(**kw: Any) -> str:
    """The DatasetNotFoundError message of an empty folder (the folder name removed)."""
    folder = empty_dir()
    with data_env(None), pytest.raises(convlib.DatasetNotFoundError) as info:
        load_mnist(folder, download=False, **kw)
    return (
        str(info.value)
        .replace(folder, "<root>")
        .replace(os.environ.get("XDG_CACHE_HOME", "-"), "<cache>")
    )


@pytest.mark.parametrize("case", table.params(SAME_ROWS))
def test_numpy_scalars_accepted(case: Same) -> None:
    table.check_same(case)


# ------------------------------------------------------------------------- the tables cover the API
#: Public callables of ``convlib`` without a row, and why.
NO_ROW = {
    "GlobalAvgPoolCache": "a cache (see ActivationCache)",
    "GradientCheckWarning": (
        "a warning class: raised by numerical_gradient and check_gradients (float32 input)"
    ),
    "MemoryLimitError": "an exception class: raised by conv and pooling calls too large for memory",
    "memory_limit": "takes no argument",
    "InputWarning": "a warning class: raised by fit (rows fit-*)",
    "NonFiniteError": "an exception class: raised by fit and BatchNorm (rows *-nan*)",
    "NonFiniteGradientError": "an exception class: raised by the optimizers (rows *-nan-grad, *-inf-grad)",
    "blas_thread_count": "takes no argument",
    "compute_thread_count": "takes no argument",
    "clear_workspace": "takes no argument",
    "workspace_nbytes": "takes no argument",
    "ActivationCache": "a cache: made by the forward functions, refused by the backwards (rows '*-cache')",
    "BatchNormCache": "a cache (see ActivationCache)",
    "Conv2DCache": "a cache (see ActivationCache)",
    "ConvTranspose2DCache": "a cache (see ActivationCache)",
    "DenseCache": "a cache (see ActivationCache)",
    "DropoutCache": "a cache (see ActivationCache)",
    "FlattenCache": "a cache (see ActivationCache)",
    "Pool2DCache": "a cache (see ActivationCache)",
    "DatasetNotFoundError": "an exception class",
    "GradientReport": "a result, made by check_gradients",
    "AdjointReport": "a result, made by check_adjoint",
    "ConvCost": "a result, made by conv_cost (rows conv_cost-*)",
    "History": "a result, made by fit",
    "ModelSummary": "a result, made by Sequential.summary",
    "Parameter": "a result, made by Sequential.parameters",
    "RangeCounts": "a result, made by count_out_of_range",
    "FloatFormat": "a description of a format (see FORMATS), not an input to check",
    "GraphSummary": "a result, made by Graph.summary",
    "AddCache": "a cache (see ActivationCache)",
    "ConcatCache": "a cache (see ActivationCache)",
}


def test_every_public_callable_has_a_row() -> None:
    """Each public function and class of convlib has a bad-input row (its name starts the row id)."""
    spec = importlib.util.spec_from_file_location(
        "bad_inputs_core", Path(__file__).with_name("test_bad_inputs.py")
    )
    core = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(core)
    named = {row.id.split("-")[0] for row in [*core.ROWS, *core.same_rows(), *ROWS, *SAME_ROWS]}
    missing = sorted(
        name
        for name in convlib.__all__
        if callable(getattr(convlib, name)) and name not in named and name not in NO_ROW
    )
    assert not missing, f"public callables without a bad-input row: {missing}"
    assert not set(NO_ROW) & named, "a name in NO_ROW has rows: remove it from NO_ROW"
