"""Compute threads (issue 12): the element-wise passes and a capstone step at 1 and 2 threads.

Times, with :func:`convlib.runtime.compute_threads` at 1 and at 2 (BLAS at
one thread throughout, unless ``--blas2`` adds a row with two BLAS
threads), in alternating blocks so that a change of load hits both:

1. each threaded pass on the capstone's first block maps ``(128, 26, 26,
   16)`` (ReLU, max pooling 2x2, batch norm) and on its second block's
   ``(128, 11, 11, 32)`` and ``(128, 13, 13, 16)`` (below the size from
   which the passes split: they should show no change);
2. one capstone training step (batch 128: forward, loss, ``backward_params``,
   Adam), as :func:`convlib.fit` runs it.

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
            with blas_threads(blas), compute_threads(compute):
                for c, f in cases.items():
                    f()  # warm-up
                    samples[c, s] += [_time(f) for _ in range(repeats)]
    return {k: 1e3 * np.median(np.array(v), axis=0) for k, v in samples.items()}


def _table(title: str, res: dict[tuple[str, str], np.ndarray], cases, settings) -> None:
    print(f"\n{title} (ms, medians)")
    print(
        f"{'':16s} {'setting':15s} {'wall':>7s} {'CPU':>7s} {'crit':>7s} {'1-thread CPU / crit':>20s}"
    )
    first = next(iter(settings))
    for c in cases:
        base = res[c, first][1]
        for s in settings:
            w, p, m = res[c, s]
            print(f"{c:16s} {s:15s} {w:7.2f} {p:7.2f} {m:7.2f} {base / m:20.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=15, help="calls per block (default 15)")
    p.add_argument("--rounds", type=int, default=6, help="alternating blocks (default 6)")
    p.add_argument("--blas2", action="store_true", help="also time the step with 2 BLAS threads")
    p.add_argument("--quick", action="store_true", help="smoke run: batch 8, 2 repeats, 2 rounds")
    args = p.parse_args()
    n = 8 if args.quick else 128
    if args.quick:
        args.repeats, args.rounds = 2, 2
    convlib.tune_allocator()  # as python -m convlib.train does
    _threads._run_chunk = _timed_run_chunk  # type: ignore[assignment]
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")

    rng = np.random.default_rng(0)
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
    print(f"\nload average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
