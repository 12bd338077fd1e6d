"""The benchmark scripts run (smoke runs with ``--quick``); their speed is never tested here.

Issue 12's figures come from ``benchmarks/bench_conv.py`` and
``benchmarks/bench_capstone.py`` run by hand on a quiet machine. These tests
only check that the scripts still start, finish and print the lines the
README describes, so that a change of convlib cannot silently break them.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
HAS_TORCH = importlib.util.find_spec("torch") is not None


def run(script: str, *args: str) -> str:
    env = dict(os.environ)
    # The worktree's convlib, whatever is installed.
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=str(ROOT),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_conv_vs_torch_quick() -> None:
    out = run("conv_vs_torch.py", "--quick", "--shapes", "A,E", "--threads", "1")
    assert "load average at start" in out and "load average at end" in out
    assert "NumPy's OpenBLAS kernels" in out
    lines = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert {"A", "E"} <= lines
    if HAS_TORCH:
        assert "geometric mean of the f+b ratios" in out
        assert "E: " in out  # the verdict per shape


def test_bench_conv_quick() -> None:
    out = run("bench_conv.py", "--quick", "--shapes", "B", "--no-naive", "--threads", "1")
    assert "fast path throughput" in out
    assert ("3) convlib vs PyTorch" in out) == HAS_TORCH


@pytest.mark.skipif(not HAS_TORCH, reason="the capstone comparison's PyTorch side needs torch")
def test_torch_capstone_runs_the_recipe() -> None:
    out = run("torch_capstone.py", "--synthetic", "--limit", "256", "--epochs", "1")
    assert "| training time" in out.splitlines()[-1]


def test_bench_capstone_quick() -> None:
    out = run("bench_capstone.py", "--quick")
    assert "peak RSS" in out and "load average at end" in out
    # The kernels of the runs' environment: the machine's, or OpenBLAS's own with auto.
    assert "NumPy's OpenBLAS kernels: " in out and "unknown" not in out
    if HAS_TORCH:
        assert "goal at 1 thread(s)" in out


def test_bench_parallel_ceiling_quick() -> None:
    out = run("bench_parallel_ceiling.py", "--quick")
    for setting in ("one thread, full batch", "two threads, half batch each", "two processes"):
        assert out.count(setting) == 2  # the round's line and the summary table
    assert "load average at end" in out


def test_bench_threads_quick() -> None:
    out = run("bench_threads.py", "--quick")
    assert "load average at start" in out and "load average at end" in out
    assert "relu fwd 26x26x16" in out and "2 compute" in out
    assert "capstone step" in out
    assert "cap conv2 bwd" in out and "res 7x7x32 fwd" in out and "3 compute" in out
    assert "book resnet step" in out and "2 BLAS+compute" in out


def _conv_vs_torch_module():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "conv_vs_torch.py"
    spec = importlib.util.spec_from_file_location("conv_vs_torch_for_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_conv_vs_torch_thread_modes() -> None:
    """By default (--convlib-threads blas) convlib's side keeps the process's N BLAS
    threads, as does the floor; --convlib-threads compute runs BLAS 1 + N compute threads."""
    import convlib

    module = _conv_vs_torch_module()
    with convlib.blas_threads(2):
        with module._convlib_mode("convlib", "fb", 2, "compute"):
            assert convlib.compute_thread_count() == 2
            assert convlib.blas_thread_count() in (1, None)
        assert convlib.compute_thread_count() == 1
        for key, mode in (("floor", "compute"), ("fb", "blas")):
            with module._convlib_mode("convlib", key, 2, mode):
                assert convlib.compute_thread_count() == 1
                assert convlib.blas_thread_count() in (2, None)
    out = run("conv_vs_torch.py", "--quick", "--shapes", "B", "--threads", "2")
    assert "convlib's threads: BLAS 2, compute 1 (--convlib-threads blas)" in out
    out = run(
        "conv_vs_torch.py",
        "--quick",
        "--shapes",
        "B",
        "--threads",
        "2",
        "--convlib-threads",
        "compute",
    )
    assert "convlib's threads: BLAS 1, compute 2 (--convlib-threads compute)" in out


def test_auto_coretype_unsets_both_openblas_variables() -> None:
    """--openblas-coretype auto removes OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE together."""
    module = _conv_vs_torch_module()
    env = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512", "PATH": "/bin"}
    module.apply_coretype(env, "auto")
    assert env == {"PATH": "/bin"}
    module.apply_coretype(env, "SkylakeX")
    assert env["OPENBLAS_CORETYPE"] == "SkylakeX"
    kept = {"OPENBLAS_CORETYPE": "Haswell"}
    module.apply_coretype(kept, None)
    assert kept == {"OPENBLAS_CORETYPE": "Haswell"}
