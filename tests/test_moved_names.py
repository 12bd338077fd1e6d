"""Old import paths keep working for one release, with a DeprecationWarning naming the new home."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

import convlib

# old module -> {name: the object it must give (new home)}
MOVED = {
    "convlib.training": {
        "History": "convlib.loop",
        "fit": "convlib.loop",
        "evaluate": "convlib.loop",
        "predict": "convlib.loop",
        "LossFn": "convlib.loop",
        "Augment": "convlib.loop",
        "prepare_images": "convlib.datasets",
        "random_shift": "convlib.datasets",
        "MNIST_MEAN": "convlib.datasets",
        "MNIST_STD": "convlib.datasets",
        "set_blas_threads": "convlib.runtime",
        "tune_allocator": "convlib.runtime",
    },
    "convlib.train": {
        "train_model": "convlib.recipes",
        "make_optimizer": "convlib.recipes",
        "TrainConfig": "convlib.recipes",
        "DEFAULTS": "convlib.recipes",
        "BUILDERS": "convlib.recipes",
        "synthetic_digits": "convlib.datasets",
    },
}
CASES = [(old, name, new) for old, names in MOVED.items() for name, new in names.items()]


@pytest.mark.parametrize("old, name, new", CASES, ids=[f"{o}.{n}" for o, n, _ in CASES])
def test_old_path_warns_and_gives_the_same_object(old, name, new):
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning) as record:
        value = getattr(module, name)
    assert value is getattr(importlib.import_module(new), name)
    message = str(record[0].message)
    assert f"{old}.{name} has moved" in message and "removed in convlib 0.3" in message
    top_level = getattr(convlib, name, None) is value
    assert (f"convlib.{name}" if top_level else f"{new}.{name}") in message
    assert record[0].filename == __file__  # points at the code that uses the old path


def test_from_import_warns_at_the_importing_line():
    with pytest.warns(DeprecationWarning, match="convlib.training.fit has moved") as record:
        from convlib.training import fit  # noqa: F401
    assert record[0].filename == __file__


@pytest.mark.parametrize("old", sorted(MOVED))
def test_star_import_still_gives_every_old_name(old):
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        exec(f"from {old} import *", namespace)
    assert set(MOVED[old]) <= set(namespace)


def test_unknown_names_still_raise_attribute_error():
    import convlib.train
    import convlib.training

    with pytest.raises(AttributeError, match=r"convlib\.training' has no attribute 'nope'"):
        convlib.training.nope  # noqa: B018
    with pytest.raises(AttributeError, match=r"convlib\.train' has no attribute 'nope'"):
        convlib.train.nope  # noqa: B018


def test_the_command_line_names_stay_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        from convlib.train import build_parser, main
    from convlib.cli import build_parser as parser2, main as main2

    assert main is main2 and build_parser is parser2


def test_python_m_convlib_train_runs_without_deprecation_warnings():
    proc = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-m", "convlib.train", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "usage: python -m convlib.train" in proc.stdout and not proc.stderr


def test_importing_convlib_warns_about_nothing():
    code = "import warnings; warnings.simplefilter('error'); import convlib, convlib.cli, convlib.recipes"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
