"""The capstone recipe of ``python -m convlib.train``, written in PyTorch (CPU).

The reference that ``benchmarks/bench_capstone.py`` times convlib against.
Everything that is not the network itself is shared with convlib so that only
the two libraries' forward, backward and optimizer steps differ: the MNIST
images (``convlib.datasets.load_mnist`` and ``prepare_images``), the shuffling
(``numpy.random.default_rng(seed).permutation`` per epoch, as
:func:`convlib.fit`) and the random shifts
(``convlib.datasets.random_shift`` with the generator ``default_rng([seed,
1])``, as :func:`convlib.fit`).

The network and the recipe are those of :func:`convlib.build_capstone` and
:data:`convlib.recipes.DEFAULTS` ``["capstone"]``:

* conv 3x3 1->16, ReLU, maxpool 2, BatchNorm; conv 3x3 16->32, ReLU, maxpool
  2, BatchNorm; flatten, dense 800->128, ReLU, dropout 0.25, dense 128->10;
  He-normal weights (Glorot-uniform for the last layer), zero biases;
  BatchNorm with momentum 0.1 in PyTorch's convention (0.9 in convlib's) and
  eps 1e-5;
* Adam (lr 3e-3, betas 0.9/0.999, eps 1e-8) with a cosine decay per step to
  1 % of the peak rate over the whole run; batch 128, 4 epochs, mean
  cross-entropy.

The last line has the format of ``python -m convlib.train``'s:
``test accuracy XX.XX% | training time YY.Y s`` (training steps only: data
loading and the evaluation after each epoch are not counted).

Usage::

    python benchmarks/torch_capstone.py --threads 1
    python benchmarks/torch_capstone.py --threads 2 --limit 2000 --epochs 1
    python benchmarks/torch_capstone.py --synthetic --limit 512 --epochs 1   # no MNIST needed
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from convlib.datasets import load_mnist, prepare_images, random_shift, synthetic_digits
from convlib.recipes import DEFAULTS


def build_net(seed: int) -> nn.Sequential:
    """The capstone network in PyTorch (NCHW), initialised like convlib's."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 16, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.BatchNorm2d(16, momentum=0.1, eps=1e-5),
        nn.Conv2d(16, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.BatchNorm2d(32, momentum=0.1, eps=1e-5),
        nn.Flatten(),
        nn.Linear(5 * 5 * 32, 128),
        nn.ReLU(),
        nn.Dropout(0.25),
        nn.Linear(128, 10),
    )
    for m in net:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if m is net[-1]:
                nn.init.xavier_uniform_(m.weight)
            else:
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return net


def load_data(
    args: argparse.Namespace,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training and test images as convlib prepares them (NHWC float32) and int64 labels."""
    if args.synthetic:
        n = args.limit or 2048
        (x_tr, y_tr), (x_te, y_te) = (
            synthetic_digits(n, seed=args.seed),
            synthetic_digits(max(n // 4, 1), seed=args.seed + 1),
        )
    else:
        (x_tr, y_tr), (x_te, y_te) = load_mnist(download=False, quiet=True)
        if args.limit:
            x_tr, y_tr, x_te, y_te = (
                x_tr[: args.limit],
                y_tr[: args.limit],
                x_te[: args.limit],
                y_te[: args.limit],
            )
    return (
        prepare_images(x_tr),
        y_tr.astype(np.int64),
        prepare_images(x_te),
        y_te.astype(np.int64),
    )


def to_nchw(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def evaluate(net: nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 1000) -> float:
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = net(to_nchw(x[i : i + batch]))
            correct += int((logits.argmax(1).numpy() == y[i : i + batch]).sum())
    return correct / len(x)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    cfg = DEFAULTS["capstone"]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--epochs", type=int, default=cfg.epochs)
    p.add_argument("--batch-size", type=int, default=cfg.batch_size)
    p.add_argument("--lr", type=float, default=cfg.lr)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, help="first N training and test images")
    p.add_argument("--synthetic", action="store_true", help="generated digits instead of MNIST")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = DEFAULTS["capstone"]
    x_train, y_train, x_test, y_test = load_data(args)
    net = build_net(args.seed)
    n, bs = len(x_train), args.batch_size
    steps_per_epoch = math.ceil(n / bs)
    total = steps_per_epoch * args.epochs
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    min_lr = args.lr * cfg.min_lr_fraction
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda t: (
            (min_lr + (args.lr - min_lr) * (1 + math.cos(math.pi * min(t, total) / total)) / 2)
            / args.lr
        ),
    )
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(args.seed)
    aug_rng = np.random.default_rng([args.seed, 1])
    y_all = torch.from_numpy(y_train)
    print(
        f"PyTorch {torch.__version__}: {torch.get_num_threads()} thread(s); "
        f"{n:,} training and {len(x_test):,} test images; {args.epochs} epoch(s), batch {bs}",
        flush=True,
    )
    train_seconds = 0.0
    acc = float("nan")
    for epoch in range(args.epochs):
        net.train()
        order = rng.permutation(n)
        start = time.perf_counter()
        for step in range(steps_per_epoch):
            idx = order[step * bs : (step + 1) * bs]
            xb = x_train[idx]
            if cfg.augment:
                xb = random_shift(xb, aug_rng)
            out = net(to_nchw(xb))
            loss = loss_fn(out, y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        seconds = time.perf_counter() - start
        train_seconds += seconds
        acc = evaluate(net, x_test, y_test)
        print(f"epoch {epoch + 1}: test accuracy {100 * acc:.2f}%, {seconds:.1f} s", flush=True)
    print(f"test accuracy {100 * acc:.2f}% | training time {train_seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
