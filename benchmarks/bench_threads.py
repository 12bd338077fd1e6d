"""Compute threads (issue 12): the element-wise passes and a capstone step at 1 and 2 threads.

Times, with :func:`convlib.runtime.compute_threads` at 1 and at 2 (BLAS at
one thread throughout, unless ``--blas2`` adds a row with two BLAS
threads), in alternating blocks so that a change of load hits both:

1. each threaded pass on the capstone's first block maps ``(128, 26, 26,
   16)`` (ReLU, max pooling 2x2, batch norm) and on its second block's
   ``(128, 11, 11, 32)`` and ``(128, 13, 13, 16)`` (below the size from
   which the passes split: they should show no change);
2. one capstone training step (batch 128: forward, loss, ``backward_params``,
   Adam), as :func:`convlib.fit` runs it;
3. the convolutions of the capstone and of the book's residual network
   (``build_resnet(**RESNET_PRESETS["book"])``: stem at 28 x 28 x 1 -> 16,
   blocks at 14 x 14 x 16 and 7 x 7 x 32), forward and backward, which split
   their batch over the compute threads when BLAS runs one thread;
4. one training step of the capstone and of the book's residual network
   with 1 BLAS thread and 1 or 2 compute threads, and with 2 BLAS threads
   and 1 or 2 compute threads.

Three clocks per row, medians in ms: wall-clock time; the process's CPU
time (every thread); and "crit", an estimate of the wall-clock time on an
idle machine -- the calling thread's CPU time plus whatever the worker's
chunks took beyond the caller's own. On a loaded machine (the load average
is printed) the wall-clock time of a 2-thread run mostly measures how long
the worker waits for a core; "crit" does not.

Usage::

    python benchmarks/bench_threads.py              # both parts
    python benchmarks/bench_threads.py --blas2      # also 2 BLAS + 2 compute threads (the step)
    python benchmarks/bench_threads.py --quick      # smoke run
    python benchmarks/bench_threads.py --only convs,steps   # parts 3 and 4 only
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable

import numpy as np

import convlib
from convlib import fast
from convlib.architectures import RESNET_PRESETS, build_resnet
from convlib.fast import threads as _threads
from convlib.model import build_capstone
from convlib.runtime import blas_threads, compute_threads

#: CPU time of the worker threads' chunks and of the caller's own, per call.
_chunk_cpu = {"caller": 0.0, "worker": 0.0}
_real_run_chunk = _threads._run_chunk


def _timed_run_chunk(fn: Callable[[slice], None], rows: slice) -> None:
    who = "caller" if threading.current_thread() is threading.main_thread() else "worker"
    t0 = time.thread_time()
    try:
        _real_run_chunk(fn, rows)
    finally:
        _chunk_cpu[who] += time.thread_time() - t0


def _time(f: Callable[[], object]) -> tuple[float, float, float]:
    """Wall, process CPU and critical-path estimate of one call, in seconds."""
    _chunk_cpu["caller"] = _chunk_cpu["worker"] = 0.0
    w0, p0, t0 = time.perf_counter(), time.process_time(), time.thread_time()
    f()
    t1 = time.thread_time()
    crit = (t1 - t0) + max(0.0, _chunk_cpu["worker"] - _chunk_cpu["caller"])
    return time.perf_counter() - w0, time.process_time() - p0, crit


def _measure(
    cases: dict[str, Callable[[], object]],
    settings: dict[str, tuple[int, int]],
    repeats: int,
    rounds: int,
) -> dict[tuple[str, str], np.ndarray]:
    """Medians (ms) of wall, CPU, crit per (case, setting), settings alternating."""
    samples: dict[tuple[str, str], list[tuple[float, float, float]]] = {
        (c, s): [] for c in cases for s in settings
    }
    names = list(settings)
    for r in range(rounds):
        for s in names if r % 2 == 0 else names[::-1]:
            blas, compute = settings[s]
            # "forced": split the convolutions even with 2 BLAS threads (which
            # convlib does not do), to measure BLAS threads inside compute threads
            probe = _threads._blas_single
            if "forced" in s:
                _threads._blas_single = lambda: True
            try:
                with blas_threads(blas), compute_threads(compute):
                    for c, f in cases.items():
                        f()  # warm-up
                        samples[c, s] += [_time(f) for _ in range(repeats)]
            finally:
                _threads._blas_single = probe
    return {k: 1e3 * np.median(np.array(v), axis=0) for k, v in samples.items()}


def _table(title: str, res: dict[tuple[str, str], np.ndarray], cases, settings) -> None:
    print(f"\n{title} (ms, medians)")
    print(
        f"{'':20s} {'setting':15s} {'wall':>7s} {'CPU':>7s} {'crit':>7s} {'1-thread CPU / crit':>20s}"
    )
    first = next(iter(settings))
    for c in cases:
        base = res[c, first][1]
        for s in settings:
            w, p, m = res[c, s]
            print(f"{c:20s} {s:15s} {w:7.2f} {p:7.2f} {m:7.2f} {base / m:20.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=15, help="calls per block (default 15)")
    p.add_argument("--rounds", type=int, default=6, help="alternating blocks (default 6)")
    p.add_argument(
        "--blas2",
        action="store_true",
        help="also time the step (2) and the convolutions (3) with 2 BLAS threads; in (3) also "
        "'2 BLAS forced': split over 2 compute threads with 2 BLAS threads in each",
    )
    p.add_argument("--quick", action="store_true", help="smoke run: batch 8, 2 repeats, 2 rounds")
    p.add_argument(
        "--only",
        default="passes,step,convs,steps",
        help="comma-separated parts: passes (1), step (2), convs (3), steps (4); default all",
    )
    args = p.parse_args()
    parts = set(args.only.split(","))
    n = 8 if args.quick else 128
    if args.quick:
        args.repeats, args.rounds = 2, 2
    convlib.tune_allocator()  # as python -m convlib.train does
    _threads._run_chunk = _timed_run_chunk  # type: ignore[assignment]
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")

    rng = np.random.default_rng(0)
    if "passes" in parts:
        _passes(n, rng, args)
    if "step" in parts:
        _capstone_step(n, rng, args)
    if "convs" in parts:
        _convs(n, rng, args)
    if "steps" in parts:
        _steps(n, rng, args)
    print(f"\nload average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def _passes(n: int, rng: np.random.Generator, args: argparse.Namespace) -> None:
    cases: dict[str, Callable[[], object]] = {}
    for label, shape in (("26x26x16", (n, 26, 26, 16)), ("11x11x32", (n, 11, 11, 32))):
        x = rng.standard_normal(shape).astype(np.float32)
        _, rc = fast.relu_forward_fast(x)
        pooled, pc = convlib.maxpool2d_forward(x, 2)
        cases |= {
            f"relu fwd {label}": lambda x=x: fast.relu_forward_fast(x),
            f"relu bwd {label}": lambda x=x, rc=rc: fast.relu_backward_fast(x, rc),
            f"pool fwd {label}": lambda x=x: convlib.maxpool2d_forward(x, 2),
            f"pool bwd {label}": lambda p=pooled, c=pc: convlib.maxpool2d_backward(p, c),
        }
    for label, shape in (("26x26x16", (n, 26, 26, 16)), ("13x13x16", (n, 13, 13, 16))):
        x = rng.standard_normal(shape).astype(np.float32)
        g, b = np.ones(16, np.float32), np.zeros(16, np.float32)
        rm, rv = np.zeros(16, np.float32), np.ones(16, np.float32)
        _, bc = convlib.batchnorm_forward(x, g, b, rm, rv)
        cases |= {
            f"bn fwd {label}": lambda x=x, g=g, b=b, rm=rm, rv=rv: convlib.batchnorm_forward(
                x, g, b, rm, rv
            ),
            f"bn bwd {label}": lambda x=x, bc=bc: convlib.batchnorm_backward(x, bc),
        }
    ops_settings = {"1 thread": (1, 1), "2 compute": (1, 2)}
    res = _measure(cases, ops_settings, args.repeats, args.rounds)
    _table(f"1) the passes, batch {n}, float32, BLAS 1 thread", res, cases, ops_settings)


def _capstone_step(n: int, rng: np.random.Generator, args: argparse.Namespace) -> None:
    model = build_capstone(0)
    opt = convlib.Adam(model.parameters(), lr=1e-3)
    xb = rng.standard_normal((n, 28, 28, 1)).astype(np.float32)
    yb = rng.integers(0, 10, n)

    def step() -> None:
        out = model.forward(xb)
        _, d = convlib.softmax_cross_entropy(out, yb)
        model.backward_params(d)
        opt.step()

    step_settings = {"1 thread": (1, 1), "2 compute": (1, 2)}
    if args.blas2:
        step_settings["2 BLAS+compute"] = (2, 2)
    res = _measure({"capstone step": step}, step_settings, 2 * args.repeats, args.rounds)
    note = "crit counts no BLAS worker thread" if args.blas2 else "BLAS 1 thread"
    _table(
        f"2) one capstone training step, batch {n} ({note})", res, ["capstone step"], step_settings
    )


#: (label, input shape without the batch, filters, kernel, stride, padding, first layer,
#: groups); the last one is a depthwise convolution (not in either network).
CONV_SHAPES = (
    ("cap conv1", (28, 28, 1), 16, 3, 1, "valid", True, 1),
    ("cap conv2", (13, 13, 16), 32, 3, 1, "valid", False, 1),
    ("res stem", (28, 28, 1), 16, 3, 1, "same", True, 1),
    ("res 14x14x16", (14, 14, 16), 16, 3, 1, "same", False, 1),
    ("res 16->32 s2", (14, 14, 16), 32, 3, 2, "same", False, 1),
    ("res 7x7x32", (7, 7, 32), 32, 3, 1, "same", False, 1),
    ("res proj 1x1 s2", (14, 14, 16), 32, 1, 2, "valid", False, 1),
    ("depthwise 14x14x32", (14, 14, 32), 32, 3, 1, "same", False, 32),
)


def _convs(n: int, rng: np.random.Generator, args: argparse.Namespace) -> None:
    cases: dict[str, Callable[[], object]] = {}
    for label, hwc, f, k, stride, padding, first, groups in CONV_SHAPES:
        x = rng.standard_normal((n, *hwc)).astype(np.float32)
        w = (0.1 * rng.standard_normal((k, k, hwc[2] // groups, f))).astype(np.float32)
        b = np.zeros(f, np.float32)
        out, cache = fast.conv2d_forward_fast(x, w, b, stride, padding, groups=groups)
        dout = rng.standard_normal(out.shape).astype(np.float32)

        cases[f"{label} fwd"] = lambda x=x, w=w, b=b, s=stride, pad=padding, g=groups: (
            fast.conv2d_forward_fast(x, w, b, s, pad, groups=g)
        )
        # the backward functions leave the cache as it is: one cache serves every call
        backward = fast.conv2d_param_grads_fast if first else fast.conv2d_backward_fast
        cases[f"{label} {'dW' if first else 'bwd'}"] = lambda f=backward, d=dout, c=cache: f(d, c)
    settings = {"1 thread": (1, 1), "2 compute": (1, 2), "3 compute": (1, 3)}
    if args.blas2:
        settings |= {"2 BLAS": (2, 1), "2 BLAS forced": (2, 2)}
    res = _measure(cases, settings, args.repeats, args.rounds)
    _table(
        f"3) convolutions, batch {n}, float32 (BLAS threads, compute threads)", res, cases, settings
    )


def _steps(n: int, rng: np.random.Generator, args: argparse.Namespace) -> None:
    nets = {
        "capstone step": build_capstone(0),
        "book resnet step": build_resnet(
            0,
            widths=RESNET_PRESETS["book"]["widths"],
            stem_pool=RESNET_PRESETS["book"]["stem_pool"],
        ),
    }
    xb = rng.standard_normal((n, 28, 28, 1)).astype(np.float32)
    yb = rng.integers(0, 10, n)
    cases: dict[str, Callable[[], object]] = {}
    for label, model in nets.items():
        opt = convlib.Adam(model.parameters(), lr=1e-3)

        def step(model=model, opt=opt) -> None:
            out = model.forward(xb)
            _, d = convlib.softmax_cross_entropy(out, yb)
            getattr(model, "backward_params", model.backward)(d)
            opt.step()

        cases[label] = step
    settings = {"1 thread": (1, 1), "2 compute": (1, 2), "2 BLAS": (2, 1), "2 BLAS+compute": (2, 2)}
    res = _measure(cases, settings, 2 * args.repeats, args.rounds)
    _table(
        f"4) training steps, batch {n} (crit counts no BLAS worker thread)", res, cases, settings
    )


if __name__ == "__main__":
    main()
