"""convlib.cli: the command line ``python -m convlib.train``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import threadpoolctl

from convlib.cli import main
from convlib.datasets import (
    FASHION_MNIST_MEAN,
    FASHION_MNIST_STD,
    prepare_images,
    synthetic_digits,
)
from convlib.loop import evaluate
from convlib.model import build_lenet

LAST_LINE = re.compile(r"^test accuracy (\d+\.\d\d)% \| training time (\d+\.\d) s$")
QUICK = ["--model", "lenet", "--synthetic", "--limit", "128", "--epochs", "1", "--no-progress"]


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    options = (
        "--epochs",
        "--batch-size",
        "--seed",
        "--data-dir",
        "--lr",
        "--model",
        "--save",
        "--limit",
    )
    for option in options:
        assert option in out
    assert "capstone" in out and "lenet" in out and "resnet" in out and "fashion-mnist" in out
    # --help says which process-wide settings the command changes, and how not to
    flat = " ".join(out.split())
    assert "--no-tuning" in flat and "--threads" in flat
    assert "sets the BLAS threads" in flat and "malloc thresholds" in flat
    assert "--compute-threads" in flat and "split each batch over compute threads" in flat


def test_cli_runs_as_module():
    proc = subprocess.run(
        [sys.executable, "-m", "convlib.train", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "usage: python -m convlib.train" in proc.stdout


def test_cli_tiny_synthetic_run_and_save(tmp_path, capsys):
    path = tmp_path / "lenet.npz"
    code = main(
        [
            "--model",
            "lenet",
            "--synthetic",
            "--limit",
            "256",
            "--epochs",
            "2",
            "--batch-size",
            "32",
            "--lr",
            "0.01",
            "--no-progress",
            "--save",
            str(path),
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    match = LAST_LINE.match(lines[-1])
    assert match, lines[-1]
    assert float(match.group(1)) > 50  # learnable data: far above the 10% of guessing
    assert any(line.startswith("epoch 2:") for line in lines)
    model = build_lenet(seed=5).load(path)
    x, y = synthetic_digits(256, seed=2)
    assert evaluate(model, prepare_images(x), y)[1] == pytest.approx(
        float(match.group(1)) / 100, abs=1e-4
    )


@pytest.mark.skipif(
    not os.environ.get("CONVLIB_DATA") or not (Path(os.environ["CONVLIB_DATA"]) / "mnist").is_dir(),
    reason="MNIST not available (set CONVLIB_DATA)",
)
def test_cli_tiny_mnist_run(capsys):
    code = main(
        ["--model", "lenet", "--limit", "500", "--epochs", "1", "--no-progress", "--no-download"]
    )
    assert code == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert LAST_LINE.match(last), last


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--batch-size", "-3"], "--batch-size must be at least 1"),
        (["--lr", "-0.1"], "--lr must be a positive number"),
        (["--limit", "0"], "--limit must be at least 1"),
        (["--model", "resnet50"], "invalid choice: 'resnet50'"),
        (["--dataset", "cifar10"], "invalid choice: 'cifar10'"),
        (["--dataset", "fashion-mnist", "--synthetic"], "exclude each other"),
        (["--epochs", "two"], "invalid int value: 'two'"),
        (["--data-dir", "/no/such/folder"], "is not a directory"),
        (["--save", "/no/such/folder/m.npz"], "does not exist"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--threads", "2", "--no-tuning"], "--threads and --no-tuning exclude each other"),
        (["--compute-threads", "0"], "--compute-threads must be at least 1"),
        (["--compute-threads", "2", "--no-tuning"], "--compute-threads and --no-tuning exclude"),
        (["--threads", "2", "--compute-threads", "2"], "--threads and --compute-threads exclude"),
    ],
)
def test_cli_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_refuses_an_unwritable_save_target_before_training(tmp_path, capsys, monkeypatch):
    import convlib.cli

    def forbidden(*args, **kwargs):
        raise AssertionError("trained although --save cannot be written")

    monkeypatch.setattr(convlib.cli, "train_model", forbidden)
    if os.path.isdir("/proc"):  # exists, but no file can be created in it, even by root
        with pytest.raises(SystemExit) as info:
            main([*QUICK, "--save", "/proc/m.npz"])
        assert info.value.code == 2
        assert "--save '/proc/m.npz': cannot create files in '/proc'" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(SystemExit) as info:
        main([*QUICK, "--save", str(tmp_path / "a-file" / "m.npz")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--save" in err
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(SystemExit) as info:
        main([*QUICK, "--save", str(tmp_path / "d")])
    assert info.value.code == 2
    assert "d.npz' is a directory" in capsys.readouterr().err


def test_cli_keeps_the_weights_when_saving_fails_after_training(tmp_path, capsys, monkeypatch):
    import tempfile

    import convlib.model

    real_save = convlib.model.Sequential.save
    target = tmp_path / "out" / "m.npz"
    target.parent.mkdir()

    def failing_save(self, path):
        if str(path) == str(target):
            raise OSError(28, "No space left on device")
        return real_save(self, path)

    monkeypatch.setattr(convlib.model.Sequential, "save", failing_save)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    code = main([*QUICK, "--save", str(target)])
    assert code == 1
    out, err = capsys.readouterr()
    assert LAST_LINE.match(out.strip().splitlines()[-1])
    assert (
        f"could not save the weights to {str(target)!r}" in err and "No space left on device" in err
    )
    saved = list((tmp_path / "tmp").glob("convlib-lenet-*.npz"))
    assert len(saved) == 1 and f"saved to {saved[0]} instead" in err
    trained = build_lenet(seed=5).load(saved[0])
    untrained = build_lenet(seed=0)  # the command's --seed: the weights it started from
    assert any((a != b).any() for a, b in zip(trained.state().values(), untrained.state().values()))


def test_cli_missing_data_is_a_clear_error(tmp_path, capsys, monkeypatch):
    # nothing to find anywhere: not in --data-dir, $CONVLIB_DATA or the user cache
    monkeypatch.delenv("CONVLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    code = main(["--data-dir", str(tmp_path), "--no-download", "--no-progress", "--limit", "10"])
    assert code == 1
    err = capsys.readouterr().err
    assert "could not load MNIST" in err


def _blas_threads() -> list[int]:
    return [
        lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"
    ]


def test_cli_tunes_the_process_while_it_trains_and_restores_blas_threads(capsys, monkeypatch):
    import convlib.loop

    before = _blas_threads()
    seen = []
    real_fit = convlib.loop.fit

    def spy(*args, **kwargs):  # the BLAS threads while training
        seen.append(_blas_threads())
        return real_fit(*args, **kwargs)

    monkeypatch.setattr("convlib.recipes.fit", spy)
    assert main([*QUICK, "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "process settings (--no-tuning leaves them alone): " in out
    if before:  # a BLAS that threadpoolctl controls (OpenBLAS here)
        assert "1 BLAS thread," in out
        assert seen == [[1] * len(before)]
    assert _blas_threads() == before  # put back when main returns


def test_cli_no_tuning_leaves_the_process_alone(capsys, monkeypatch):
    import convlib.cli

    def forbidden(*args, **kwargs):
        raise AssertionError("--no-tuning changed a process setting")

    monkeypatch.setattr(convlib.cli, "tune_allocator", forbidden)
    monkeypatch.setattr(convlib.cli, "blas_threads", forbidden)
    monkeypatch.setattr(convlib.cli, "compute_threads", forbidden)
    assert main([*QUICK, "--no-tuning"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1].startswith("process settings left as they are (--no-tuning): ")
    assert LAST_LINE.match(lines[-1]), lines[-1]


@pytest.mark.parametrize(
    "flags, blas_wanted, compute_wanted",
    [
        (["--threads", "2"], 2, 1),  # N BLAS threads, one compute thread
        (["--compute-threads", "2"], 1, 2),  # one BLAS thread, N compute threads
        ([], 1, 1),  # the default
    ],
)
def test_cli_thread_options_set_blas_and_compute_threads_while_it_trains_then_restore_them(
    capsys, monkeypatch, flags, blas_wanted, compute_wanted
):
    import convlib.loop
    from convlib.runtime import compute_thread_count

    seen = []
    real_fit = convlib.loop.fit

    def spy(*args, **kwargs):  # the compute and BLAS threads while training
        seen.append(compute_thread_count())
        blas.append(_blas_threads())
        return real_fit(*args, **kwargs)

    blas: list[list[int]] = []
    before = _blas_threads()
    monkeypatch.setattr("convlib.recipes.fit", spy)
    assert compute_thread_count() == 1
    assert main([*QUICK, *flags]) == 0
    assert seen == [compute_wanted]
    out = capsys.readouterr().out
    assert f"{compute_wanted} compute thread{'s' if compute_wanted > 1 else ''}," in out
    if before:  # a BLAS that threadpoolctl controls (OpenBLAS here)
        assert f"{blas_wanted} BLAS thread{'s' if blas_wanted > 1 else ''}," in out
        assert blas == [[blas_wanted] * len(before)]
    assert compute_thread_count() == 1  # put back when main returns
    assert _blas_threads() == before


def test_cli_trains_the_residual_network_on_synthetic_images(tmp_path, capsys):
    path = tmp_path / "resnet.npz"
    argv = ["--model", "resnet", "--synthetic", "--limit", "64", "--epochs", "2"]
    code = main([*argv, "--batch-size", "32", "--no-progress", "--save", str(path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "one-cycle schedule" in out and "horizontal flips" in out
    assert LAST_LINE.match(out.strip().splitlines()[-1])
    from convlib.recipes import BUILDERS

    model = BUILDERS["resnet"](3).load(path)  # a Graph file of the same network
    assert model.num_params() == BUILDERS["resnet"](0).num_params()


@pytest.mark.skipif(
    not os.environ.get("CONVLIB_DATA")
    or not (Path(os.environ["CONVLIB_DATA"]) / "fashion-mnist").is_dir(),
    reason="Fashion-MNIST not available (set CONVLIB_DATA)",
)
def test_cli_tiny_fashion_mnist_run(capsys, monkeypatch):
    import convlib.cli as cli

    seen = {}
    real = cli.prepare_images

    def spy(images, mean, std):
        seen["stats"] = (mean, std)
        return real(images, mean, std)

    monkeypatch.setattr(cli, "prepare_images", spy)
    argv = ["--dataset", "fashion-mnist", "--model", "plain", "--limit", "64", "--epochs", "1"]
    code = main([*argv, "--batch-size", "16", "--no-progress", "--no-download"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Fashion-MNIST: 64 training and 64 test images" in out
    assert seen["stats"] == (FASHION_MNIST_MEAN, FASHION_MNIST_STD)


def test_cli_refuses_a_one_cycle_run_too_short_to_rise(capsys):
    with pytest.raises(SystemExit) as info:
        main(
            ["--model", "resnet", "--synthetic", "--limit", "64", "--epochs", "1", "--no-progress"]
        )
    assert info.value.code == 2
    assert "needs at least 4 optimizer steps, this run has 1" in capsys.readouterr().err
