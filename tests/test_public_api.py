"""Snapshot of the public API: what ``import convlib`` offers, and each module's ``__all__``.

A name that disappears or a signature that changes breaks users' code, so
any difference from ``tests/public_api.txt`` fails here. When a change is
intended, record it in CHANGELOG.md and refresh the snapshot with::

    python tests/test_public_api.py --update
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys
import warnings
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("public_api.txt")


def _signature(obj: object) -> str:
    if not callable(obj):
        return type(obj).__name__
    try:
        text = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"
    # Default values that are objects print with their address: drop it.
    return re.sub(r" at 0x[0-9a-f]+", "", text)


def current_api() -> list[str]:
    """One line per public name: ``module.name signature``."""
    import convlib

    lines = [f"convlib.{n} {_signature(getattr(convlib, n))}" for n in sorted(convlib.__all__)]
    modules = sorted(
        m.name
        for m in pkgutil.walk_packages(convlib.__path__, prefix="convlib.")
        if not any(part.startswith("_") for part in m.name.split("."))
    )
    for name in modules:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            module = importlib.import_module(name)
        public = getattr(module, "__all__", None)
        if public is None:
            continue
        lines += [f"{name}.{n}" for n in sorted(public)]
    return lines


def test_public_api_matches_the_snapshot():
    expected = SNAPSHOT.read_text(encoding="utf-8").splitlines()
    now = current_api()
    removed = sorted(set(expected) - set(now))
    added = sorted(set(now) - set(expected))
    assert not removed and not added, (
        "the public API changed; if intended, note it in CHANGELOG.md and run "
        "`python tests/test_public_api.py --update`.\n"
        f"removed or changed: {removed}\nadded or changed: {added}"
    )


def test_every_name_of_0_1_is_still_importable_from_convlib():
    """The 0.1.0 release's top-level names (frozen here) all still resolve."""
    import convlib

    names_0_1 = """ActivationCache Adam AvgPool2D avgpool2d_backward avgpool2d_backward_naive
    avgpool2d_forward avgpool2d_forward_naive BatchNorm batchnorm_backward
    batchnorm_backward_graph batchnorm_forward BatchNormCache build_capstone build_lenet
    check_gradients col2im Conv2D conv2d_backward conv2d_backward_naive conv2d_forward
    conv2d_forward_naive Conv2DCache conv_output_size CosineLR DatasetNotFoundError Dense
    dense_backward dense_forward DenseCache Dropout dropout_backward dropout_forward
    DropoutCache evaluate ExponentialLR fit Flatten flatten_backward flatten_forward
    FlattenCache GradientReport History im2col Layer leaky_relu_backward leaky_relu_forward
    LeakyReLU load_fashion_mnist load_mnist log_softmax MaxPool2D maxpool2d_backward
    maxpool2d_backward_naive maxpool2d_forward maxpool2d_forward_naive ModelSummary
    mse_loss numerical_gradient one_hot Optimizer Parameter Pool2DCache predict
    prepare_images random_shift rel_error ReLU relu_backward relu_forward resolve_padding
    same_padding Sequential SGD Sigmoid sigmoid_backward sigmoid_forward softmax
    softmax_cross_entropy StepLR Tanh tanh_backward tanh_forward to_float_nhwc""".split()
    missing = [n for n in names_0_1 if n not in convlib.__all__ or not hasattr(convlib, n)]
    assert not missing


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(__doc__)
    SNAPSHOT.write_text("\n".join(current_api()) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
