"""convlib's convolution against PyTorch's, in alternating subprocesses: the speed goal.

``benchmarks/bench_conv.py`` runs this comparison after its tier tables (and
alone with ``--goal-only``); it can also be run by itself::

    python benchmarks/conv_vs_torch.py                   # shapes A-E, 2 threads, 3 rounds
    python benchmarks/conv_vs_torch.py --threads 1 --rounds 5
    python benchmarks/conv_vs_torch.py --quick           # a smoke run

Why subprocesses: in one process the worker threads of NumPy's BLAS (still
spinning after a product) and PyTorch's compete for the cores, and whichever
library runs second pays for it. Here each library runs in a fresh Python
process of its own, with the same thread count (the ``*_NUM_THREADS``
variables, plus ``threadpoolctl`` for NumPy and ``torch.set_num_threads``),
the same warm-up calls and the same number of timed calls per shape; the two
alternate, round after round, and which one goes first alternates too, so a
change of load hits both. The medians are taken over all rounds.

How convlib uses its ``--threads N`` (``--convlib-threads``):

* ``blas`` (the default, what ``python -m convlib.train --threads N``
  does): BLAS at N threads and one compute thread (every product on
  BLAS's threads);
* ``compute`` (what ``python -m convlib.train --compute-threads N``
  does): BLAS at one thread and N compute threads
  (:func:`convlib.runtime.compute_threads`), over which the convolutions
  split their batch (:mod:`convlib.fast.threads`).

On the idle 2-core machine (``benchmarks/README.md``, session 6) the
geometric mean of the ratios was 1.15 with ``blas`` and 1.46 with
``compute`` (Haswell kernels), 1.14 and 1.52 with the processor's own;
only D was faster split. Until then the default was ``compute``.

The floor is timed with BLAS at N threads in both modes.

What is timed, float32, per shape: the forward pass, and forward + backward
with the gradients of the input, the weights and the bias (convlib:
``conv2d_forward`` then ``conv2d_backward``; PyTorch: ``conv2d`` on NCHW
tensors, then ``backward`` through autograd). In the convlib process also
the *floor*: the three matrix products that any im2col convolution performs,
``cols @ W`` (M x K times K x F), ``cols.T @ dY`` and ``dY @ W.T``, on arrays
of the layer's sizes. ``convlib / floor`` says how much of convlib's time
goes into everything else (copies, im2col, col2im).

The goal (issue 12): every shape at most 1.5x PyTorch's forward + backward
time and the geometric mean of the ratios at most 1.0x; a shape that misses
1.5x should be within 1.2x of its own floor. The last lines say which parts
of the goal this run meets. The load average is printed at the start and the
end: on a loaded machine the figures mean little.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

#: name -> (N, H, W, C, F, kernel, stride, padding); those of bench_conv.py.
SHAPES: dict[str, tuple[int, int, int, int, int, int, int, int]] = {
    "A": (64, 28, 28, 1, 8, 3, 1, 0),
    "B": (64, 13, 13, 8, 16, 3, 1, 0),
    "C": (32, 32, 32, 3, 32, 3, 1, 1),
    "D": (16, 56, 56, 64, 64, 3, 1, 1),
    "E": (32, 32, 32, 16, 32, 5, 2, 2),
}

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def apply_coretype(env: dict[str, str], coretype: str | None) -> None:
    """Set OPENBLAS_CORETYPE in a subprocess environment, or with "auto" unset it.

    Some machines of this project set OPENBLAS_CORETYPE (and
    OPENBLAS_L2_SIZE) because older OpenBLAS builds fail on their processors;
    it holds a current NumPy to older kernels. "auto" removes both, together,
    for the benchmark's subprocesses alone, so OpenBLAS detects the processor
    itself (the kernels that ran are printed). None leaves the environment as
    inherited.
    """
    if coretype == "auto":
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    elif coretype:
        env["OPENBLAS_CORETYPE"] = coretype


#: The goal of issue 12.
MAX_RATIO, MAX_GEOMEAN, MAX_FLOOR_RATIO = 1.5, 1.0, 1.2


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux/macOS
        return "n/a"


def _data(name: str, seed: int = 0) -> tuple[np.ndarray, ...]:
    n, h, w, c, f, k, s, p = SHAPES[name]
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, c)).astype(np.float32)
    wt = (rng.standard_normal((k, k, c, f)) / math.sqrt(k * k * c)).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32)
    dout = rng.standard_normal((n, oh, ow, f)).astype(np.float32)
    return x, wt, b, dout


#: ``--clock``: wall-clock time, or the CPU time of the whole process (every
#: thread). At 1 thread the CPU time hardly depends on the load of a shared
#: machine; at 2 it also counts the time BLAS threads spend spinning.
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


def _time(
    fn: Callable[[], Any], warmup: int, repeats: int, clock: Callable[[], float]
) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return times


def openblas_core() -> str:
    """The kernels NumPy's OpenBLAS runs (its core name), and OPENBLAS_CORETYPE if set."""
    try:
        from threadpoolctl import threadpool_info

        cores = [
            str(d.get("architecture")) for d in threadpool_info() if d["internal_api"] == "openblas"
        ]
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency of convlib
        cores = []
    env = os.environ.get("OPENBLAS_CORETYPE")
    return (", ".join(cores) or "no OpenBLAS found") + (
        f" (OPENBLAS_CORETYPE={env})" if env is not None else ""
    )


def _convlib_fns(name: str) -> dict[str, Callable[[], Any]]:
    from convlib import conv2d_backward, conv2d_forward

    x, w, b, dout = _data(name)
    _, _, _, c, f, k, s, p = SHAPES[name]
    m, kk = dout.shape[0] * dout.shape[1] * dout.shape[2], k * k * c
    rng = np.random.default_rng(1)
    cols = rng.standard_normal((m, kk)).astype(np.float32)
    wmat = w.reshape(kk, f)
    dy = dout.reshape(m, f)

    def fwd() -> None:
        conv2d_forward(x, w, b, stride=s, padding=p)

    def fb() -> None:
        _, cache = conv2d_forward(x, w, b, stride=s, padding=p)
        conv2d_backward(dout, cache)

    def floor() -> None:
        cols @ wmat
        cols.T @ dy
        dy @ wmat.T

    return {"fwd": fwd, "fb": fb, "floor": floor}


def _torch_fns(name: str) -> dict[str, Callable[[], Any]]:
    import torch

    x, w, b, dout = _data(name)
    *_, s, p = SHAPES[name]
    tx = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).requires_grad_()
    tw = torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1))).requires_grad_()
    tb = torch.from_numpy(b.copy()).requires_grad_()
    tdout = torch.from_numpy(np.ascontiguousarray(dout.transpose(0, 3, 1, 2)))
    conv2d = torch.nn.functional.conv2d

    def fwd() -> None:
        with torch.no_grad():
            conv2d(tx, tw, tb, stride=s, padding=p)

    def fb() -> None:
        out = conv2d(tx, tw, tb, stride=s, padding=p)
        out.backward(tdout)
        tx.grad = tw.grad = tb.grad = None

    return {"fwd": fwd, "fb": fb}


@contextlib.contextmanager
def _convlib_mode(lib: str, key: str, threads: int, mode: str) -> Iterator[None]:
    """convlib's thread setting while ``key`` is timed (see ``--convlib-threads``)."""
    if lib != "convlib" or mode == "blas" or key == "floor":
        yield
        return
    import convlib

    with convlib.blas_threads(1), convlib.compute_threads(threads):
        yield


def worker(
    lib: str,
    shapes: Sequence[str],
    threads: int,
    warmup: int,
    repeats: int,
    clock: str,
    convlib_threads: str = "blas",
) -> None:
    """Time ``lib`` on ``shapes`` in this process; print one JSON object."""
    if lib == "torch":
        import torch

        torch.set_num_threads(threads)
        make = _torch_fns
    else:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)  # on top of the *_NUM_THREADS variables
        make = _convlib_fns
    result: dict[str, Any] = {}
    for name in shapes:
        fns = make(name)
        result[name] = {}
        for key, fn in fns.items():
            with _convlib_mode(lib, key, threads, convlib_threads):
                result[name][key] = _time(fn, warmup, repeats, CLOCKS[clock])
    if lib == "convlib":
        result["_openblas"] = openblas_core()
    print(json.dumps(result))


def run_worker(
    lib: str,
    shapes: Sequence[str],
    threads: int,
    warmup: int,
    repeats: int,
    clock: str = "wall",
    coretype: str | None = None,
    convlib_threads: str = "blas",
) -> dict[str, Any]:
    env = dict(os.environ)
    env.update({v: str(threads) for v in THREAD_VARS})
    apply_coretype(env, coretype)
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        lib,
        "--shapes",
        ",".join(shapes),
        "--threads",
        str(threads),
        "--warmup",
        str(warmup),
        "--repeats",
        str(repeats),
        "--clock",
        clock,
        "--convlib-threads",
        convlib_threads,
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{lib} worker failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def compare(
    shapes: Sequence[str],
    threads: int,
    rounds: int,
    warmup: int,
    repeats: int,
    clock: str = "wall",
    coretype: str | None = None,
    convlib_threads: str = "blas",
) -> dict[str, Any]:
    """Alternate convlib and PyTorch workers; print and return the medians and the verdict."""
    libs = ["convlib", "torch"] if torch_available() else ["convlib"]
    samples: dict[str, dict[str, dict[str, list[float]]]] = {lib: {} for lib in libs}
    print(
        f"convlib vs PyTorch, float32, {threads} thread(s) each, {rounds} round(s) of alternating "
        f"subprocesses, {warmup} warm-up + {repeats} timed calls per shape and round, "
        f"{'wall-clock' if clock == 'wall' else 'process CPU'} time; convlib's threads: "
        + (
            f"BLAS 1, compute {threads} (--convlib-threads compute)"
            if convlib_threads == "compute"
            else f"BLAS {threads}, compute 1 (--convlib-threads blas)"
        )
    )
    print(f"load average at start: {load_average()}", flush=True)
    blas = "?"
    for r in range(rounds):
        order = libs if r % 2 == 0 else libs[::-1]
        for lib in order:
            got = run_worker(
                lib, shapes, threads, warmup, repeats, clock, coretype, convlib_threads
            )
            blas = got.pop("_openblas", blas)
            for name, per in got.items():
                for key, ts in per.items():
                    samples[lib].setdefault(name, {}).setdefault(key, []).extend(ts)
    med = {
        lib: {name: {k: statistics.median(v) for k, v in per.items()} for name, per in s.items()}
        for lib, s in samples.items()
    }
    end_load = load_average()
    print(f"NumPy's OpenBLAS kernels: {blas}")
    header = [
        "shape",
        "cl fwd",
        "pt fwd",
        "ratio",
        "cl f+b",
        "pt f+b",
        "ratio",
        "floor",
        "cl/floor",
    ]
    rows = []
    ratios: dict[str, float] = {}
    floors: dict[str, float] = {}
    for name in shapes:
        cl = med["convlib"][name]
        pt = med.get("torch", {}).get(name)
        floors[name] = cl["fb"] / cl["floor"]
        row = [name, f"{cl['fwd'] * 1e3:.2f}"]
        if pt is not None:
            ratios[name] = cl["fb"] / pt["fb"]
            row += [f"{pt['fwd'] * 1e3:.2f}", f"{cl['fwd'] / pt['fwd']:.2f}"]
            row += [f"{cl['fb'] * 1e3:.2f}", f"{pt['fb'] * 1e3:.2f}", f"{ratios[name]:.2f}"]
        else:
            row += ["-", "-", f"{cl['fb'] * 1e3:.2f}", "-", "-"]
        row += [f"{cl['floor'] * 1e3:.2f}", f"{floors[name]:.2f}"]
        rows.append(row)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(wd) for h, wd in zip(header, widths)))
    for row in rows:
        print("  ".join(c.rjust(wd) for c, wd in zip(row, widths)))
    print(
        "(median ms; cl = convlib, pt = PyTorch; ratio = convlib / PyTorch, > 1: convlib slower; "
        "floor = the three matrix products alone)"
    )
    verdict: dict[str, Any] = {"ratios": ratios, "floor_ratios": floors, "medians": med}
    if ratios:
        geo = math.exp(sum(math.log(v) for v in ratios.values()) / len(ratios))
        verdict["geomean"] = geo
        print(f"geometric mean of the f+b ratios: {geo:.2f} (goal <= {MAX_GEOMEAN})")
        for name, ratio in ratios.items():
            if ratio <= MAX_RATIO:
                state = f"met (ratio {ratio:.2f} <= {MAX_RATIO})"
            elif floors[name] <= MAX_FLOOR_RATIO:
                state = (
                    f"ratio {ratio:.2f} > {MAX_RATIO}, but within {floors[name]:.2f}x of its "
                    f"three matrix products (<= {MAX_FLOOR_RATIO}): met by the floor rule"
                )
            else:
                state = f"NOT met (ratio {ratio:.2f}, {floors[name]:.2f}x its floor)"
            print(f"  {name}: {state}")
    else:
        print("PyTorch not importable: ratios skipped (pip install -r benchmarks/requirements.txt)")
    print(f"load average at end: {end_load}")
    return verdict


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shapes", default=",".join(SHAPES))
    p.add_argument("--threads", type=int, default=2, help="threads of each library (default 2)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls per shape (default 3)")
    p.add_argument("--repeats", type=int, default=10, help="timed calls per shape and round")
    p.add_argument("--quick", action="store_true", help="1 round, 1 warm-up, 2 calls: a smoke run")
    p.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall-clock time (default) or process CPU time (steadier under load at 1 thread)",
    )
    p.add_argument(
        "--openblas-coretype",
        metavar="NAME",
        help="OPENBLAS_CORETYPE for the subprocesses (e.g. SkylakeX, Haswell), or auto to "
        "unset it and OPENBLAS_L2_SIZE so that OpenBLAS detects the processor; "
        "default: inherited",
    )
    p.add_argument(
        "--convlib-threads",
        choices=["blas", "compute"],
        default="blas",
        help="how convlib uses its threads: blas (default; BLAS --threads threads, 1 compute "
        "thread, as python -m convlib.train --threads does) or compute (BLAS 1 thread, the "
        "convolutions split their batch over --threads compute threads, as --compute-threads "
        "does)",
    )
    p.add_argument("--worker", choices=["convlib", "torch"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.warmup, args.repeats = 1, 1, 2
    args.shape_list = [s.strip().upper() for s in args.shapes.split(",") if s.strip()]
    unknown = [s for s in args.shape_list if s not in SHAPES]
    if unknown:
        p.error(f"unknown shape(s) {unknown}; choose among {list(SHAPES)}")
    if min(args.threads, args.rounds, args.repeats) < 1 or args.warmup < 0:
        p.error("--threads, --rounds and --repeats must be >= 1, --warmup >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        worker(
            args.worker,
            args.shape_list,
            args.threads,
            args.warmup,
            args.repeats,
            args.clock,
            args.convlib_threads,
        )
        return
    compare(
        args.shape_list,
        args.threads,
        args.rounds,
        args.warmup,
        args.repeats,
        args.clock,
        args.openblas_coretype,
        args.convlib_threads,
    )


if __name__ == "__main__":
    main()
