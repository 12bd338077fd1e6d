"""Speed of convlib's 2-D convolution: its three tiers, NumPy GEMM, PyTorch.

For each benchmark shape (A-E below, the shapes of the project's speed
targets) and each dtype this prints the median wall-clock time of

* the naive loops (:func:`convlib.conv2d_forward_naive` and
  :func:`convlib.conv2d_backward_naive`),
* the readable im2col tier (:func:`convlib.conv2d_forward_im2col` and
  :func:`convlib.conv2d_backward_im2col`: one ``cols @ W`` forward, three
  products and a plain col2im backward),
* the fast path (:func:`convlib.conv2d_forward` and :func:`convlib.conv2d_backward`,
  which run the tuned tier in :mod:`convlib.fast`),
for the forward pass alone and for forward + backward. Then, when PyTorch is
importable, it compares convlib's fast path with PyTorch's CPU
``torch.nn.functional.conv2d`` (forward under ``torch.no_grad()``, and forward
+ backward through autograd with gradients for the input, the weights and the
bias) in *alternating subprocesses* with the same thread count (``--threads``,
2 by default; convlib then runs that many BLAS threads, or, with
``--convlib-threads compute``, one BLAS thread and that many compute threads
over which the convolutions split their batch) and warm-up -- :mod:`conv_vs_torch` beside this script, which
also times the "floor" (the three matrix products of each shape alone) and
says which parts of issue 12's speed goal the run meets. It also prints the
fast path's GFLOP/s beside the GFLOP/s of one NumPy matmul of the same
``(M, K, N) = (N*OH*OW, KH*KW*C, F)`` size, i.e. what the im2col GEMM alone
could reach, and the minor page faults per fast forward + backward.

The tier tables use the process's BLAS threads (all cores by default). On a
loaded machine worker threads wait for each other and multi-threaded timings
become meaningless (10-100x slower); ``OMP_NUM_THREADS=1
OPENBLAS_NUM_THREADS=1`` before the command makes the tier tables
single-threaded, and ``--threads 1 --clock cpu`` does the same for the
comparison with PyTorch, which is then far less sensitive to load.

The naive loops take seconds per image on the larger shapes, so they run on a
reduced batch (``--naive-batch`` images, 1 by default) and their time is
scaled to the full batch; the output says so. Before timing, the fast and the
im2col outputs and gradients are compared with the naive ones on that reduced
batch.

Timing: ``--repeats`` calls of each function, in three cycles of blocks
(convlib forward, convlib forward + backward, im2col tier forward and
forward + backward, matmul; each block opens with an untimed warm-up call),
so that a change of load on a shared machine hits every function; the median
is reported, or the minimum with ``--stat min``, which a busy machine
disturbs less. The naive loops get ``--naive-repeats`` calls after the
comparison run. The load average is printed before and after; rerun when it
is high.

Usage::

    python benchmarks/bench_conv.py                    # all shapes, float32 and float64, then vs PyTorch
    python benchmarks/bench_conv.py --quick            # fewer repeats, float32, 1 naive round
    python benchmarks/bench_conv.py --goal-only        # only the comparison with PyTorch (issue 12)
    python benchmarks/bench_conv.py --goal-only --threads 1 --clock cpu   # steadier under load
    python benchmarks/bench_conv.py --goal-only --convlib-threads compute  # convlib: the batch split
    python benchmarks/bench_conv.py --shapes A,B --repeats 11
    python benchmarks/bench_conv.py --no-naive --dtypes float32
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_conv.py

Shapes ``N, H, W, C -> F, kernel, stride, padding``:

====  ====================  ======  ======  =======
name  input (N, H, W, C)    F       kernel  stride, padding
====  ====================  ======  ======  =======
A     64, 28, 28, 1         8       3       1, 0
B     64, 13, 13, 8         16      3       1, 0
C     32, 32, 32, 3         32      3       1, 1
D     16, 56, 56, 64        64      3       1, 1
E     32, 32, 32, 16        32      5       2, 2
====  ====================  ======  ======  =======
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import convlib
from convlib import (
    conv2d_backward,
    conv2d_backward_im2col,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_im2col,
    conv2d_forward_naive,
)


@dataclass(frozen=True)
class Shape:
    """One benchmark problem: input ``(n, h, w, c)``, ``f`` filters of ``k x k``."""

    name: str
    n: int
    h: int
    w: int
    c: int
    f: int
    k: int
    stride: int
    pad: int

    def out_hw(self) -> tuple[int, int]:
        oh = (self.h + 2 * self.pad - self.k) // self.stride + 1
        ow = (self.w + 2 * self.pad - self.k) // self.stride + 1
        return oh, ow

    def gemm_mkn(self) -> tuple[int, int, int]:
        """``(M, K, N)`` of the im2col matrix product."""
        oh, ow = self.out_hw()
        return self.n * oh * ow, self.k * self.k * self.c, self.f

    def forward_flops(self) -> int:
        """Multiplies and adds of the forward pass (the backward does twice as many)."""
        m, k, n = self.gemm_mkn()
        return 2 * m * k * n

    def describe(self) -> str:
        return (
            f"{self.name}: x ({self.n}, {self.h}, {self.w}, {self.c}) -> F={self.f}, "
            f"{self.k}x{self.k}, stride {self.stride}, pad {self.pad}; "
            "GEMM (M, K, N) = ({}, {}, {})".format(*self.gemm_mkn())
        )


#: Environment variables that set the thread count of NumPy's BLAS and of PyTorch.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

SHAPES: dict[str, Shape] = {
    s.name: s
    for s in (
        Shape("A", 64, 28, 28, 1, 8, 3, 1, 0),
        Shape("B", 64, 13, 13, 8, 16, 3, 1, 0),
        Shape("C", 32, 32, 32, 3, 32, 3, 1, 1),
        Shape("D", 16, 56, 56, 64, 64, 3, 1, 1),
        Shape("E", 32, 32, 32, 16, 32, 5, 2, 2),
    )
}


# --------------------------------------------------------------------------
# Timing helpers
# --------------------------------------------------------------------------


#: How the repeated timings of one function are summarised (``--stat``).
STATISTIC: dict[str, Callable[[list[float]], float]] = {"median": statistics.median, "min": min}


def time_blocks(
    fns: dict[str, Callable[[], Any]],
    repeats: int,
    warmup: bool = True,
    stat: str = "median",
    cycles: int = 3,
) -> dict[str, float]:
    """Seconds per call of each function (median or min of ``repeats`` calls).

    The calls come in blocks: each function in turn is called (after one
    untimed warm-up call, if ``warmup``) several times in a row, and the
    whole sequence of blocks is repeated ``cycles`` times. Calling the
    functions one after the other in every round instead made PyTorch's
    forward of shape A 6x slower: the worker threads of NumPy's BLAS, still
    spinning after a product, compete with PyTorch's for the two cores.
    """
    cycles = max(1, min(cycles, repeats))
    per_cycle = [repeats // cycles + (i < repeats % cycles) for i in range(cycles)]
    times: dict[str, list[float]] = {name: [] for name in fns}
    for k in per_cycle:
        for name, fn in fns.items():
            if warmup:
                fn()
            for _ in range(k):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {name: STATISTIC[stat](ts) for name, ts in times.items()}


def minor_faults_per_call(fn: Callable[[], Any], calls: int = 3) -> float:
    """Minor page faults per call of ``fn`` (after one warm-up call)."""
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux/macOS
        return "n/a"


def torch_importable() -> bool:
    """Whether PyTorch is installed (it is imported only in the comparison's subprocesses)."""
    return importlib.util.find_spec("torch") is not None


# --------------------------------------------------------------------------
# One shape, one dtype
# --------------------------------------------------------------------------


@dataclass
class Result:
    shape: Shape
    dtype: str
    fast_fwd: float
    fast_fb: float
    gemm: float
    faults: float
    im2col_fwd: float | None = None
    im2col_fb: float | None = None
    naive_fwd: float | None = None
    naive_fb: float | None = None
    naive_err: float | None = None


def make_data(
    shape: Shape, dtype: np.dtype, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seeded ``x, w, b, dout`` for ``shape`` in ``dtype``."""
    rng = np.random.default_rng(seed)
    oh, ow = shape.out_hw()
    x = rng.standard_normal((shape.n, shape.h, shape.w, shape.c)).astype(dtype)
    w = rng.standard_normal((shape.k, shape.k, shape.c, shape.f)).astype(dtype)
    w *= 1.0 / np.sqrt(shape.k * shape.k * shape.c)
    b = rng.standard_normal(shape.f).astype(dtype)
    dout = rng.standard_normal((shape.n, oh, ow, shape.f)).astype(dtype)
    return x, w, b, dout


def compare_paths(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, dout: np.ndarray, conv: dict[str, Any]
) -> float:
    """Largest relative difference of the fast path and the im2col tier from the naive path."""
    o1, c1 = conv2d_forward_naive(x, w, b, **conv)
    expected = [o1, *conv2d_backward_naive(dout, c1)]
    worst = 0.0
    pairs = []
    for name, fwd, bwd in (
        ("fast path", conv2d_forward, conv2d_backward),
        ("im2col tier", conv2d_forward_im2col, conv2d_backward_im2col),
    ):
        o2, c2 = fwd(x, w, b, **conv)
        pairs += [(name, ref, got) for ref, got in zip(expected, [o2, *bwd(dout, c2)])]
    for name, ref, got in pairs:
        if got.dtype != ref.dtype or got.shape != ref.shape:
            raise AssertionError(
                f"{name} returned {got.dtype}{got.shape}, naive {ref.dtype}{ref.shape}"
            )
        scale = max(float(np.abs(ref).max()), 1e-30)
        worst = max(worst, float(np.abs(ref - got).max()) / scale)
    return worst


def bench_shape(
    shape: Shape,
    dtype: str,
    repeats: int,
    naive_batch: int,
    naive_repeats: int,
    seed: int,
    stat: str = "median",
) -> Result:
    dt = np.dtype(dtype)
    x, w, b, dout = make_data(shape, dt, seed)
    conv = dict(stride=shape.stride, padding=shape.pad)
    m, k, n = shape.gemm_mkn()
    rng = np.random.default_rng(seed + 1)
    gemm_a = rng.standard_normal((m, k)).astype(dt)
    gemm_b = rng.standard_normal((k, n)).astype(dt)

    def fast_fwd() -> None:
        conv2d_forward(x, w, b, **conv)

    def fast_fb() -> None:
        _, cache = conv2d_forward(x, w, b, **conv)
        conv2d_backward(dout, cache)

    def im2col_fwd() -> None:
        conv2d_forward_im2col(x, w, b, **conv)

    def im2col_fb() -> None:
        _, cache = conv2d_forward_im2col(x, w, b, **conv)
        conv2d_backward_im2col(dout, cache)

    fns: dict[str, Callable[[], Any]] = {
        "fast_fwd": fast_fwd,
        "fast_fb": fast_fb,
        "im2col_fwd": im2col_fwd,
        "im2col_fb": im2col_fb,
        "gemm": lambda: gemm_a @ gemm_b,
    }
    times = time_blocks(fns, repeats, stat=stat)
    res = Result(
        shape=shape,
        dtype=dtype,
        fast_fwd=times["fast_fwd"],
        fast_fb=times["fast_fb"],
        gemm=times["gemm"],
        faults=minor_faults_per_call(fast_fb),
        im2col_fwd=times["im2col_fwd"],
        im2col_fb=times["im2col_fb"],
    )

    if naive_batch > 0:
        nb = min(naive_batch, shape.n)
        xs, ds = x[:nb], dout[:nb]
        res.naive_err = compare_paths(xs, w, b, ds, conv)

        def naive_fwd() -> None:
            conv2d_forward_naive(xs, w, b, **conv)

        def naive_fb() -> None:
            _, cache = conv2d_forward_naive(xs, w, b, **conv)
            conv2d_backward_naive(ds, cache)

        # compare_paths has just run both naive functions: no extra warm-up.
        nt = time_blocks(
            {"fwd": naive_fwd, "fb": naive_fb}, naive_repeats, warmup=False, stat=stat, cycles=1
        )
        scale = shape.n / nb
        res.naive_fwd = nt["fwd"] * scale
        res.naive_fb = nt["fb"] * scale
    return res


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def _ms(t: float | None) -> str:
    return "-" if t is None else f"{t * 1e3:.2f}"


def _ratio(a: float | None, b: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if a is None or b is None else fmt.format(a / b)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(wd) for h, wd in zip(headers, widths)))
    print("  ".join("-" * wd for wd in widths))
    for r in rows:
        print("  ".join(c.rjust(wd) for c, wd in zip(r, widths)))


def report(results: list[Result], naive_batch: int, stat: str = "median") -> None:
    print()
    print(f"1) naive loops, readable im2col tier and fast path, {stat} ms for the whole batch;")
    print("   speedups of the fast path over the naive loops")
    if naive_batch > 0:
        print(
            f"   (naive timed on {naive_batch} image(s) and scaled to the batch size; "
            "'max rel diff' compares the other tiers' outputs and gradients with it there)"
        )
    rows = []
    for r in results:
        rows.append(
            [
                r.shape.name,
                r.dtype,
                _ms(r.naive_fwd),
                _ms(r.im2col_fwd),
                _ms(r.fast_fwd),
                _ratio(r.naive_fwd, r.fast_fwd, "{:.0f}x"),
                _ms(r.naive_fb),
                _ms(r.im2col_fb),
                _ms(r.fast_fb),
                _ratio(r.naive_fb, r.fast_fb, "{:.0f}x"),
                "-" if r.naive_err is None else f"{r.naive_err:.1e}",
            ]
        )
    print_table(
        [
            "shape",
            "dtype",
            "naive fwd",
            "im2col fwd",
            "fast fwd",
            "speedup",
            "naive f+b",
            "im2col f+b",
            "fast f+b",
            "speedup",
            "max rel diff",
        ],
        rows,
    )

    print()
    print("2) fast path throughput: GFLOP/s of the convolution (2*M*K*N per GEMM-sized")
    print("   product; forward = 1, forward+backward = 3) beside one NumPy matmul (M,K)@(K,N)")
    rows = []
    for r in results:
        flops = r.shape.forward_flops()
        rows.append(
            [
                r.shape.name,
                r.dtype,
                "({}, {}, {})".format(*r.shape.gemm_mkn()),
                f"{flops / r.fast_fwd / 1e9:.1f}",
                f"{3 * flops / r.fast_fb / 1e9:.1f}",
                f"{flops / r.gemm / 1e9:.1f}",
                f"{r.gemm * 1e3:.2f}",
                f"{r.faults:.0f}",
            ]
        )
    print_table(
        [
            "shape",
            "dtype",
            "GEMM (M, K, N)",
            "fwd GF/s",
            "f+b GF/s",
            "matmul GF/s",
            "matmul ms",
            "minflt/f+b",
        ],
        rows,
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--shapes",
        default="A,B,C,D,E",
        help="comma-separated shape names among " + ",".join(SHAPES),
    )
    p.add_argument("--dtypes", default="float32,float64", help="comma-separated dtypes")
    p.add_argument("--repeats", type=int, default=7, help="timed rounds (see --stat)")
    p.add_argument(
        "--naive-batch",
        type=int,
        default=1,
        help="images the naive loops run on (0: skip the naive path)",
    )
    p.add_argument("--naive-repeats", type=int, default=3, help="timed rounds of the naive path")
    p.add_argument("--no-naive", action="store_true", help="skip the naive path")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument(
        "--goal-only",
        action="store_true",
        help="only the comparison with PyTorch (no tier tables)",
    )
    p.add_argument(
        "--threads", type=int, default=2, help="threads of each library in the comparison (2)"
    )
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds of the comparison (3)")
    p.add_argument(
        "--convlib-threads",
        choices=["blas", "compute"],
        default="blas",
        help="how convlib uses --threads in the comparison: blas (default; BLAS --threads "
        "threads, 1 compute thread, as python -m convlib.train --threads does) or compute "
        "(BLAS 1 thread and --threads compute threads over which the convolutions split their "
        "batch, as --compute-threads does)",
    )
    p.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="the comparison's clock: wall (default) or process CPU time (steadier under load)",
    )
    p.add_argument(
        "--openblas-coretype",
        metavar="NAME",
        help="OPENBLAS_CORETYPE for the comparison's subprocesses (e.g. SkylakeX), or auto to "
        "unset it and OPENBLAS_L2_SIZE so that OpenBLAS detects the processor",
    )
    p.add_argument(
        "--quick", action="store_true", help="3 repeats, 1 naive round, float32 only (a smoke run)"
    )
    p.add_argument(
        "--tune-allocator",
        action="store_true",
        help="first raise glibc's malloc trim/mmap thresholds "
        "(convlib.runtime.tune_allocator) so freed arrays stay in the process",
    )
    p.add_argument(
        "--stat",
        choices=sorted(STATISTIC),
        default="median",
        help="summary of the repeated timings; 'min' is less sensitive to load",
    )
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    args.warmup = 3
    if args.quick:
        args.repeats, args.naive_repeats, args.dtypes = 3, 1, "float32"
        args.rounds, args.warmup = 1, 1
    if args.no_naive:
        args.naive_batch = 0
    names = [s.strip().upper() for s in args.shapes.split(",") if s.strip()]
    unknown = [s for s in names if s not in SHAPES]
    if unknown:
        p.error(f"unknown shape(s) {unknown}; choose among {list(SHAPES)}")
    args.shape_list = [SHAPES[s] for s in names]
    args.dtype_list = [s.strip() for s in args.dtypes.split(",") if s.strip()]
    for d in args.dtype_list:
        if d not in ("float32", "float64"):
            p.error(f"--dtypes takes float32 and/or float64, got {d!r}")
    if args.repeats < 1 or args.naive_repeats < 1:
        p.error("--repeats and --naive-repeats must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    torch = not args.no_torch and torch_importable()
    if args.goal_only:
        compare_with_torch(args, torch)
        return
    allocator = "glibc malloc defaults"
    if args.tune_allocator:
        try:
            from convlib.runtime import tune_allocator
        except ImportError:
            allocator = "defaults (convlib.runtime.tune_allocator not available)"
        else:
            tuned = tune_allocator()
            allocator = "malloc thresholds raised" if tuned else "defaults (mallopt failed)"
    print(
        f"convlib {convlib.__version__}, numpy {np.__version__}, python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs"
    )
    threads = {v: os.environ[v] for v in THREAD_VARS if v in os.environ}
    print(
        "thread settings: "
        + (
            ", ".join(f"{k}={v}" for k, v in threads.items())
            if threads
            else "library defaults (all cores)"
        )
    )
    if not torch:
        print("PyTorch: not available" + (" (--no-torch)" if args.no_torch else ""))
    print(f"allocator: {allocator}")
    print(
        f"timing: {args.stat} of {args.repeats} calls (3 cycles of blocks, each block after "
        f"a warm-up call), naive: {args.naive_repeats} calls"
    )
    print(f"load average before: {load_average()}")
    for s in args.shape_list:
        print("  " + s.describe())
    results = []
    for s in args.shape_list:
        for d in args.dtype_list:
            results.append(
                bench_shape(
                    s,
                    d,
                    args.repeats,
                    args.naive_batch,
                    args.naive_repeats,
                    args.seed,
                    args.stat,
                )
            )
            r = results[-1]
            print(f"  done {s.name} {d}: fast f+b {r.fast_fb * 1e3:.2f} ms", flush=True)
    report(results, args.naive_batch, args.stat)
    print()
    print(f"load average after: {load_average()}")
    print()
    compare_with_torch(args, torch)


def compare_with_torch(args: argparse.Namespace, torch: bool) -> None:
    """Section 3: the fast path against PyTorch in alternating subprocesses (issue 12's goal)."""
    if not torch:
        print(
            "3) PyTorch: "
            + ("skipped (--no-torch)" if args.no_torch else "not importable, comparison skipped")
            + " (pip install -r benchmarks/requirements.txt)"
        )
        return
    # A module beside this script (the script's folder is on sys.path).
    from conv_vs_torch import compare

    print("3) ", end="")
    compare(
        [s.name for s in args.shape_list],
        args.threads,
        args.rounds,
        args.warmup,
        max(args.repeats, 2),
        args.clock,
        args.openblas_coretype,
        args.convlib_threads,
    )


if __name__ == "__main__":
    main()
