"""How much can two threads, or two processes, gain on a capstone training step at most?

Issue 12 asks for a capstone training run at two threads no slower than
PyTorch's, which gains 26-35% from its second thread. Every way convlib
has tried to use a second core -- BLAS threads, compute threads that split
each pass -- keeps the Python interpreter in one process, where NumPy
releases the interpreter's lock only inside its loops and products. This
script measures the ceiling of that, with no synchronisation at all:

* **one thread**: a training step (forward, loss, ``backward_params``; no
  optimizer) of the capstone network on a batch of ``--batch`` images;
* **two threads**: two independent networks, each stepping on half the
  batch, in two threads of one process (what a data-parallel split over
  threads could reach if batch norm and the gradients needed no exchange);
* **two processes**: the same two half-batch networks in two processes,
  started together (what the same split could reach without the lock).

Each setting runs ``--steps`` steps after a warm-up; the time per (full
batch) step is the wall-clock time of the whole setting divided by
``--steps``. BLAS runs one thread everywhere and the allocator is tuned, as
``python -m convlib.train`` does. The settings alternate for ``--rounds``
rounds, so that a change of load hits all three; the load average is printed.
Random images: the speed does not depend on the pixel values.

Usage::

    python benchmarks/bench_parallel_ceiling.py
    python benchmarks/bench_parallel_ceiling.py --rounds 5 --steps 60
    python benchmarks/bench_parallel_ceiling.py --quick      # smoke run
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import numpy as np

#: One process of the "two processes" setting: it builds its network, warms
#: up, says "ready", waits for a line on stdin, steps, and prints its seconds.
_WORKER = r"""
import sys, time
import numpy as np
from convlib.losses import softmax_cross_entropy
from convlib.model import build_capstone
from convlib.runtime import set_blas_threads, tune_allocator
set_blas_threads(1)
tune_allocator()
batch, steps, warmup = (int(a) for a in sys.argv[1:4])
net = build_capstone(0)
rng = np.random.default_rng(0)
x = rng.standard_normal((batch, 28, 28, 1)).astype(np.float32)
y = rng.integers(0, 10, batch)
def step():
    _, dlogits = softmax_cross_entropy(net.forward(x), y)
    net.backward_params(dlogits)
for _ in range(warmup):
    step()
print("ready", flush=True)
sys.stdin.readline()
t0 = time.perf_counter()
for _ in range(steps):
    step()
print(time.perf_counter() - t0, flush=True)
"""


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux/macOS
        return "n/a"


def _in_process(batches: Sequence[int], steps: int, warmup: int) -> float:
    """Seconds for ``steps`` steps of one network per entry of ``batches``, one thread each."""
    from convlib.losses import softmax_cross_entropy
    from convlib.model import build_capstone

    rng = np.random.default_rng(0)
    jobs = []
    for b in batches:
        net = build_capstone(0)
        x = rng.standard_normal((b, 28, 28, 1)).astype(np.float32)
        y = rng.integers(0, 10, b)
        jobs.append((net, x, y))

    def run(net, x, y, n):  # type: ignore[no-untyped-def]
        for _ in range(n):
            _, dlogits = softmax_cross_entropy(net.forward(x), y)
            net.backward_params(dlogits)

    for job in jobs:
        run(*job, warmup)
    threads = [threading.Thread(target=run, args=(*job, steps)) for job in jobs]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def _processes(batches: Sequence[int], steps: int, warmup: int) -> float:
    """Seconds from the common start of one process per entry of ``batches`` to the last one's end."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(b), str(steps), str(warmup)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for b in batches
    ]
    for p in procs:
        assert p.stdout is not None
        line = p.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"worker failed before it started: {line!r}")
    t0 = time.perf_counter()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        assert p.stdout is not None
        p.stdout.readline()
        if p.wait() != 0:
            raise RuntimeError("a worker failed")
    return time.perf_counter() - t0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=128, help="full batch (default 128)")
    p.add_argument("--steps", type=int, default=40, help="timed steps per setting (default 40)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    p.add_argument("--quick", action="store_true", help="a smoke run: batch 16, 2 steps, 1 round")
    args = p.parse_args(argv)
    if args.quick:
        args.batch, args.steps, args.warmup, args.rounds = 16, 2, 1, 1
    if args.batch < 2 or args.batch % 2 or min(args.steps, args.rounds) < 1 or args.warmup < 0:
        p.error("--batch must be even and >= 2, --steps and --rounds >= 1, --warmup >= 0")

    from convlib.runtime import set_blas_threads, tune_allocator

    set_blas_threads(1)
    tune_allocator()
    half = [args.batch // 2] * 2
    print(
        f"capstone training step (no optimizer), batch {args.batch}, {args.steps} steps per "
        f"setting, {args.rounds} round(s), BLAS 1 thread; load average at start: {load_average()}",
        flush=True,
    )
    settings = {
        "one thread, full batch": lambda: _in_process([args.batch], args.steps, args.warmup),
        "two threads, half batch each": lambda: _in_process(half, args.steps, args.warmup),
        "two processes, half batch each": lambda: _processes(half, args.steps, args.warmup),
    }
    ms: dict[str, list[float]] = {name: [] for name in settings}
    for r in range(args.rounds):
        for name, fn in settings.items():
            ms[name].append(1e3 * fn() / args.steps)
        print(
            f"  round {r + 1}: "
            + ", ".join(f"{name} {v[-1]:.1f} ms" for name, v in ms.items())
            + f" (load {load_average()})",
            flush=True,
        )
    one = ms["one thread, full batch"]
    print("\nsetting                          ms per step (median)  speed-up over one thread")
    for name, v in ms.items():
        gains = [a / b for a, b in zip(one, v)]  # per round: the same load for both
        print(
            f"{name:32s} {statistics.median(v):20.1f}  {statistics.median(gains):5.2f}"
            f" (rounds {min(gains):.2f}-{max(gains):.2f})"
        )
    print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
