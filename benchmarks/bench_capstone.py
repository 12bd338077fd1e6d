"""The capstone training run: convlib against the same recipe in PyTorch.

Runs ``python -m convlib.train`` (the capstone network, Adam with cosine
decay, batch 128, 4 epochs, random shifts) and ``benchmarks/torch_capstone.py``
(the same network and recipe in PyTorch, on the same images, shuffling and
shifts) as separate subprocesses, at 1 and at 2 threads, and prints for each
the training time (the steps only, as both scripts report it), the test
accuracy, the peak memory (the maximum resident set size of the subprocess,
``os.wait4``'s ``ru_maxrss``) and the ratio convlib / PyTorch. Each run's line
also gives the CPU time of its whole process (data loading and evaluation
included): at 1 thread on a loaded machine it is a steadier guide than the
wall-clock training time.

Fairness on a shared machine: each run is a fresh process with the same
thread count (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
``MKL_NUM_THREADS``, plus a thread option of each script: for convlib
``--threads N`` (``N`` BLAS threads, set through threadpoolctl, one compute
thread; the default, ``--convlib-threads blas``) or, with ``--convlib-threads
compute``, ``--compute-threads N`` (BLAS at one thread, ``N`` compute threads
over which the convolutions, ReLU, max pooling and batch norm split each
batch, :func:`convlib.runtime.compute_threads`), for PyTorch
``torch.set_num_threads``, which covers its element-wise kernels too); with ``--rounds`` above 1
the two alternate and which goes first alternates too, and the medians are
reported. The load average is printed at the start and after every run:
on a loaded machine the times mean little, a 2-thread run least of all.

The goal (issue 12): convlib's training time at most PyTorch's at 1 and at
2 threads. The last lines say whether this run meets it.

Usage::

    python benchmarks/bench_capstone.py                    # full MNIST recipe, 1 and 2 threads
    python benchmarks/bench_capstone.py --threads 2 --rounds 3
    python benchmarks/bench_capstone.py --quick            # synthetic data, 1 short epoch: smoke run
    python benchmarks/bench_capstone.py --limit 10000 --epochs 1
    python benchmarks/bench_capstone.py --openblas-coretype SkylakeX   # see benchmarks/README.md

MNIST comes from ``$CONVLIB_DATA/mnist`` (or the user cache; no download).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
HERE = os.path.dirname(os.path.abspath(__file__))
LAST_LINE = re.compile(r"test accuracy ([\d.]+)% \| training time ([\d.]+) s")


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux/macOS
        return "n/a"


@dataclass
class Run:
    lib: str
    threads: int
    seconds: float
    accuracy: float
    maxrss_mb: float
    cpu_seconds: float


def command(lib: str, threads: int, extra: Sequence[str], mode: str = "blas") -> list[str]:
    if lib == "convlib":
        base = [sys.executable, "-m", "convlib.train", "--no-progress", "--no-download"]
        flag = "--compute-threads" if mode == "compute" else "--threads"
        return [*base, flag, str(threads), *extra]
    base = [sys.executable, os.path.join(HERE, "torch_capstone.py")]
    return [*base, "--threads", str(threads), *extra]


def openblas_kernels(coretype: str | None) -> str:
    """The OpenBLAS kernels NumPy runs in a subprocess with the runs' environment."""
    env = dict(os.environ)
    from conv_vs_torch import apply_coretype  # beside this script

    apply_coretype(env, coretype)
    code = "from conv_vs_torch import openblas_core; print(openblas_core())"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=HERE, capture_output=True, text=True
    )
    return out.stdout.strip() or f"unknown ({out.stderr.strip().splitlines()[-1:]})"


def run_one(
    lib: str,
    threads: int,
    extra: Sequence[str],
    coretype: str | None = None,
    mode: str = "blas",
) -> Run:
    """One training run in a fresh subprocess; its time, accuracy, peak memory and CPU time."""
    env = dict(os.environ)
    env.update({v: str(threads) for v in THREAD_VARS})
    from conv_vs_torch import apply_coretype  # beside this script

    apply_coretype(env, coretype)
    cmd = command(lib, threads, extra, mode)
    # One pipe for both streams (two could deadlock), read to its end, then
    # os.wait4 for this child's own resource usage (RUSAGE_CHILDREN would
    # give the maximum over every child so far).
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out}")
    wanted = f"{threads} {'compute' if mode == 'compute' else 'BLAS'} thread"
    if lib == "convlib" and wanted not in out:
        # convlib.train must say it runs the thread setting asked for.
        raise RuntimeError(f"{' '.join(cmd)} did not report {wanted}(s):\n{out}")
    match = None
    for line in out.splitlines():
        match = LAST_LINE.search(line) or match
    if match is None:
        raise RuntimeError(f"no result line in the output of {' '.join(cmd)}:\n{out}")
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 2**20
    return Run(
        lib,
        threads,
        float(match.group(2)),
        float(match.group(1)),
        usage.ru_maxrss * scale,
        usage.ru_utime + usage.ru_stime,
    )


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    p.add_argument("--rounds", type=int, default=1, help="runs of each library per thread count")
    p.add_argument(
        "--convlib-threads",
        choices=("blas", "compute"),
        default="blas",
        help="convlib's threads: BLAS threads (--threads, the default) or compute threads "
        "with BLAS at one (--compute-threads)",
    )
    p.add_argument("--epochs", type=int, help="override the recipe's 4 epochs")
    p.add_argument("--limit", type=int, help="first N training and test images")
    p.add_argument("--synthetic", action="store_true", help="generated digits instead of MNIST")
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: synthetic data, 512 images, 1 epoch, 1 thread",
    )
    p.add_argument(
        "--openblas-coretype",
        metavar="NAME",
        help="OPENBLAS_CORETYPE for both subprocesses (e.g. SkylakeX), or auto to unset it and "
        "OPENBLAS_L2_SIZE; default: inherited",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.synthetic, args.limit, args.epochs, args.threads = True, 512, 1, "1"
    args.thread_list = [int(t) for t in args.threads.split(",") if t.strip()]
    if not args.thread_list or min(args.thread_list) < 1 or args.rounds < 1:
        p.error("--threads takes counts >= 1 and --rounds must be >= 1")
    extra = []
    if args.epochs is not None:
        extra += ["--epochs", str(args.epochs)]
    if args.limit is not None:
        extra += ["--limit", str(args.limit)]
    if args.synthetic:
        extra += ["--synthetic"]
    args.extra = extra
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    libs = ["convlib", "torch"] if torch_available() else ["convlib"]
    print(
        f"capstone recipe{' (' + ' '.join(args.extra) + ')' if args.extra else ''}; "
        f"threads {args.thread_list} (convlib: {args.convlib_threads} threads), {args.rounds} round(s); "
        "load average at start: "
        f"{load_average()}",
        flush=True,
    )
    print(f"NumPy's OpenBLAS kernels: {openblas_kernels(args.openblas_coretype)}", flush=True)
    runs: list[Run] = []
    for threads in args.thread_list:
        for r in range(args.rounds):
            for lib in libs if r % 2 == 0 else libs[::-1]:
                run = run_one(
                    lib, threads, args.extra, args.openblas_coretype, args.convlib_threads
                )
                runs.append(run)
                print(
                    f"  {lib:7s} {threads} thread(s): {run.seconds:.1f} s, "
                    f"{run.accuracy:.2f}%, peak RSS {run.maxrss_mb:.0f} MB, CPU time of the "
                    f"whole process {run.cpu_seconds:.1f} s "
                    f"(load {load_average()})",
                    flush=True,
                )
    print()
    print("threads  convlib s  torch s  ratio  convlib acc  torch acc  convlib MB  torch MB")
    met = []
    for threads in args.thread_list:
        per = {lib: [r for r in runs if r.lib == lib and r.threads == threads] for lib in libs}
        med = {
            lib: (
                statistics.median(r.seconds for r in rs),
                statistics.median(r.accuracy for r in rs),
                max(r.maxrss_mb for r in rs),
            )
            for lib, rs in per.items()
        }
        cl = med["convlib"]
        pt = med.get("torch")
        if pt is None:
            print(
                f"{threads:7d}  {cl[0]:9.1f}  {'-':>7}  {'-':>5}  {cl[1]:10.2f}%  {'-':>9}  "
                f"{cl[2]:10.0f}  {'-':>8}"
            )
            continue
        ratio = cl[0] / pt[0]
        met.append((threads, ratio))
        print(
            f"{threads:7d}  {cl[0]:9.1f}  {pt[0]:7.1f}  {ratio:5.2f}  {cl[1]:10.2f}%  "
            f"{pt[1]:8.2f}%  {cl[2]:10.0f}  {pt[2]:8.0f}"
        )
    for threads, ratio in met:
        state = "met" if ratio <= 1.0 else "NOT met"
        print(
            f"goal at {threads} thread(s), convlib time <= PyTorch's: {state} (ratio {ratio:.2f})"
        )
    if not met:
        print("PyTorch not importable: no comparison (pip install -r benchmarks/requirements.txt)")
    print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
