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
from convlib.datasets import prepare_images, synthetic_digits
from convlib.loop import evaluate
from convlib.model import build_lenet

LAST_LINE = re.compile(r"^test accuracy (\d+\.\d\d)% \| training time (\d+\.\d) s$")
QUICK = ["--model", "lenet", "--synthetic", "--limit", "128", "--epochs", "1", "--no-progress"]

def test_cli_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    options = ("--epochs", "--batch-size", "--seed", "--data-dir", "--lr", "--model", "--save", "--limit")
    for option in options:
        assert option in out
    assert "capstone" in out and "lenet" in out
    # --help says which process-wide settings the command changes, and how not to
    flat = " ".join(out.split())
    assert "--no-tuning" in flat and "--threads" in flat
    assert "BLAS to --threads threads (default 1" in flat and "malloc thresholds" in flat


def test_cli_runs_as_module():
    proc = subprocess.run(
        [sys.executable, "-m", "convlib.train", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "usage: python -m convlib.train" in proc.stdout


def test_cli_tiny_synthetic_run_and_save(tmp_path, capsys):
    path = tmp_path / "lenet.npz"
    code = main(["--model", "lenet", "--synthetic", "--limit", "256", "--epochs", "2",
                 "--batch-size", "32", "--lr", "0.01", "--no-progress", "--save", str(path)])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    match = LAST_LINE.match(lines[-1])
    assert match, lines[-1]
    assert float(match.group(1)) > 50  # learnable data: far above the 10% of guessing
    assert any(line.startswith("epoch 2:") for line in lines)
    model = build_lenet(seed=5).load(path)
    x, y = synthetic_digits(256, seed=2)
    assert evaluate(model, prepare_images(x), y)[1] == pytest.approx(float(match.group(1)) / 100, abs=1e-4)


@pytest.mark.skipif(
    not os.environ.get("CONVLIB_DATA") or not (Path(os.environ["CONVLIB_DATA"]) / "mnist").is_dir(),
    reason="MNIST not available (set CONVLIB_DATA)",
)
def test_cli_tiny_mnist_run(capsys):
    code = main(["--model", "lenet", "--limit", "500", "--epochs", "1", "--no-progress", "--no-download"])
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
        (["--model", "resnet"], "invalid choice: 'resnet'"),
        (["--epochs", "two"], "invalid int value: 'two'"),
        (["--data-dir", "/no/such/folder"], "is not a directory"),
        (["--save", "/no/such/folder/m.npz"], "does not exist"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--threads", "2", "--no-tuning"], "--threads and --no-tuning exclude each other"),
    ],
)
def test_cli_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


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
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]


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
    assert main([*QUICK, "--no-tuning"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[1].startswith("process settings left as they are (--no-tuning): ")
    assert LAST_LINE.match(lines[-1]), lines[-1]
