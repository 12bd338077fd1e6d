"""Training speed of the book's CNNs: seconds per epoch and per batch.

Times full training steps (gather the batch, random shifts for the
capstone, forward, loss, backward, Adam step) of the LeNet-like network
(batch 64; the target is one MNIST epoch in <= 6 s on a 2-core machine)
and, with ``--capstone``, of the capstone network (batch 128).
Prints the load average before and after, since the machine may be shared,
and the process's CPU time per epoch, which is what an idle machine would
take (with the default single BLAS thread).

Usage::

    python benchmarks/bench_train.py                  # one full LeNet epoch
    python benchmarks/bench_train.py --batches 300    # 300 batches, extrapolated
    python benchmarks/bench_train.py --capstone --batches 200
    python benchmarks/bench_train.py --layers         # time per layer as well

MNIST is read with ``convlib.datasets.load_mnist`` (``$CONVLIB_DATA``, no
download); without it the timing runs on random images of the same shape
(the speed does not depend on the pixel values).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict

import numpy as np

from convlib.datasets import prepare_images, random_shift
from convlib.layers import Layer
from convlib.losses import softmax_cross_entropy
from convlib.model import Sequential, build_capstone, build_lenet
from convlib.optim import Adam
from convlib.recipes import DEFAULTS
from convlib.runtime import set_blas_threads, tune_allocator


def load_train_images(n: int) -> tuple[np.ndarray, np.ndarray, str]:
    """First ``n`` MNIST training images (normalised NHWC float32) and labels."""
    try:
        from convlib.datasets import load_mnist

        (x, y), _ = load_mnist(download=False, quiet=True)
        return prepare_images(x[:n]), y[:n].astype(np.int64), "MNIST"
    except Exception as exc:  # noqa: BLE001 - any failure: fall back to random data
        print(f"(MNIST not available: {type(exc).__name__}; timing on random images)")
        rng = np.random.default_rng(0)
        x = rng.standard_normal((n, 28, 28, 1)).astype(np.float32)
        return x, rng.integers(0, 10, size=n), "random"


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux/macOS
        return "n/a"


class LayerTimer:
    """Wrap each layer's forward/backward to accumulate its time."""

    def __init__(self, model: Sequential) -> None:
        self.times: dict[tuple[int, str], list[float]] = defaultdict(list)
        self.model = model
        for i, layer in enumerate(model.layers):
            methods = [("forward", "forward"), ("backward", "backward")]
            if type(layer).backward_params is not Layer.backward_params:
                # Its own backward_params (Conv2D: no dx), which fit calls for the first layer.
                methods.append(("backward_params", "backward"))
            for what, column in methods:
                orig = getattr(layer, what)

                def timed(arg, orig=orig, key=(i, column)):
                    t0 = time.perf_counter()
                    out = orig(arg)
                    self.times[key].append(time.perf_counter() - t0)
                    return out

                setattr(layer, what, timed)

    def report(self, skip: int) -> str:
        lines = [f"{'layer':<48} {'forward ms':>10} {'backward ms':>11}"]
        total = 0.0
        for i, layer in enumerate(self.model.layers):
            f = statistics.median(self.times[(i, "forward")][skip:]) * 1e3
            b = statistics.median(self.times[(i, "backward")][skip:]) * 1e3
            total += f + b
            lines.append(f"{i:>2} {layer!r:<45.45} {f:>10.3f} {b:>11.3f}")
        lines.append(f"{'sum of medians':<48} {total:>22.3f}")
        return "\n".join(lines)


def bench(
    name: str, batches: int | None, warmup: int, per_layer: bool, x: np.ndarray, y: np.ndarray
) -> None:
    cfg = DEFAULTS[name]
    bs = cfg.batch_size
    model = (build_lenet if name == "lenet" else build_capstone)(0)
    opt = Adam(model.parameters(), lr=cfg.lr)
    timer = LayerTimer(model) if per_layer else None
    n = len(x)
    per_epoch = -(-n // bs)
    total = per_epoch if batches is None else min(batches, per_epoch)
    order = np.random.default_rng(0).permutation(n)
    xbuf = np.empty((bs, *x.shape[1:]), dtype=x.dtype)
    ybuf = np.empty(bs, dtype=y.dtype)
    times, cpu = [], []
    aug_rng = np.random.default_rng(1)
    shifts = " with random shifts" if cfg.augment else ""
    print(
        f"\n{name}: batch size {bs}{shifts}, {model.num_params():,} parameters, "
        f"{warmup} warm-up + {total} timed batches"
    )
    print(f"load average before: {load_average()}")
    for step in range(warmup + total):
        s = step % per_epoch
        idx = order[s * bs : (s + 1) * bs]
        xb, yb = xbuf[: len(idx)], ybuf[: len(idx)]
        t0, c0 = time.perf_counter(), time.process_time()
        np.take(x, idx, axis=0, out=xb)
        np.take(y, idx, axis=0, out=yb)
        logits = model.forward(random_shift(xb, aug_rng) if cfg.augment else xb)
        _, dlogits = softmax_cross_entropy(logits, yb)
        model.backward_params(dlogits)  # what convlib.fit runs: no gradient of the input
        opt.step()
        if step >= warmup:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    timed = sum(times)
    med = statistics.median(times)
    print(f"load average after:  {load_average()}")
    print(
        f"per batch: median {1e3 * med:.2f} ms, mean {1e3 * timed / len(times):.2f} ms, "
        f"min {1e3 * min(times):.2f} ms, max {1e3 * max(times):.2f} ms"
    )
    label = "measured" if total == per_epoch else f"extrapolated from {total} batches"
    print(
        f"per epoch ({per_epoch} batches of {bs}, {label}): {timed / total * per_epoch:.2f} s "
        f"(from the median: {med * per_epoch:.2f} s)"
    )
    print(
        f"CPU time (all threads of this process; close to the wall time of an idle machine "
        f"with 1 thread): {sum(cpu) / total * per_epoch:.2f} s per epoch, "
        f"median {1e3 * statistics.median(cpu):.2f} ms per batch"
    )
    if timer is not None:
        print(timer.report(skip=warmup))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batches", type=int, help="timed batches per model (default: one full epoch)")
    p.add_argument("--warmup", type=int, default=10, help="untimed batches first (default 10)")
    p.add_argument("--capstone", action="store_true", help="also time the capstone network")
    p.add_argument("--no-lenet", action="store_true", help="skip the LeNet network")
    p.add_argument("--layers", action="store_true", help="print median time per layer")
    p.add_argument("--no-tune", action="store_true", help="leave glibc malloc's thresholds alone")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1, as the CLI)")
    args = p.parse_args()
    if args.batches is not None and args.batches < 1:
        p.error("--batches must be >= 1")
    print(f"BLAS threads set to {args.threads}: {set_blas_threads(args.threads)}")
    if not args.no_tune:
        print(f"malloc thresholds raised: {tune_allocator()}")
    x, y, source = load_train_images(60000)
    print(f"data: {source}, {len(x)} images; numpy {np.__version__}; {os.cpu_count()} CPUs")
    if not args.no_lenet:
        bench("lenet", args.batches, args.warmup, args.layers, x, y)
    if args.capstone:
        bench("capstone", args.batches, args.warmup, args.layers, x, y)


if __name__ == "__main__":
    main()
