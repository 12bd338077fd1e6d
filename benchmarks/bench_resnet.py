"""The residual-network recipe of ``python -m convlib.train --model resnet``, in PyTorch.

Trains the same network as :func:`convlib.architectures.build_resnet` (or
:func:`~convlib.architectures.build_plain` with ``--plain``) on
Fashion-MNIST with the same recipe as convlib's command line: images
standardised with Fashion-MNIST's mean and standard deviation, random
horizontal flips (where the preset has them), Adam with a one-cycle learning rate (Smith & Topin 2019;
PyTorch's ``OneCycleLR`` without momentum cycling, which is the formula of
:class:`convlib.optim.OneCycleLR`), He-normal weights, minibatches shuffled
each epoch. It prints the load average before and after, the time of the
training steps and the test accuracy after every epoch, and a last line
``test accuracy XX.XX% | training time YY.Y s`` like the command line's.

Usage::

    python benchmarks/bench_resnet.py                        # the command line's recipe
    python benchmarks/bench_resnet.py --preset book          # the book chapter's recipe
    python benchmarks/bench_resnet.py --preset book --plain  # ... its plain network
    python benchmarks/bench_resnet.py --epochs 2 --limit 10000   # a quick run

Fashion-MNIST is read with ``convlib.datasets.load_fashion_mnist``
(``$CONVLIB_DATA``, no download). PyTorch is not a dependency of convlib:
see ``benchmarks/requirements.txt``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from convlib.architectures import RESNET_PRESETS
from convlib.datasets import FASHION_MNIST_MEAN, FASHION_MNIST_STD, load_fashion_mnist


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux/macOS
        return "n/a"


def build(torch, nn, widths: tuple[int, int], stem_pool: bool, residual: bool):  # type: ignore[no-untyped-def]
    """The network of ``convlib.architectures.build_resnet`` (NCHW here)."""
    w1, w2 = widths

    class Block(nn.Module):  # type: ignore[misc]
        def __init__(self, c_in: int, c_out: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1)
            self.bn1 = nn.BatchNorm2d(c_out, momentum=0.1)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
            self.bn2 = nn.BatchNorm2d(c_out, momentum=0.1)
            self.proj = None
            if residual and (stride != 1 or c_in != c_out):
                self.proj = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride), nn.BatchNorm2d(c_out))

        def forward(self, x):  # type: ignore[no-untyped-def]
            h = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
            if residual:
                h = h + (x if self.proj is None else self.proj(x))
            return torch.relu(h)

    stem: list = [nn.Conv2d(1, w1, 3, 1, 1), nn.BatchNorm2d(w1), nn.ReLU()]
    if stem_pool:
        stem.append(nn.MaxPool2d(2))
    net = nn.Sequential(
        *stem,
        Block(w1, w1, 1),
        Block(w1, w2, 2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(w2, 10),
    )
    for m in net.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return net


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=sorted(RESNET_PRESETS), default="cli")
    p.add_argument("--epochs", type=int, help="default: the preset's")
    p.add_argument("--lr", type=float, help="peak learning rate (default: the preset's)")
    p.add_argument("--batch-size", type=int, help="default: the preset's")
    p.add_argument(
        "--no-flip", action="store_true", help="no horizontal flips (whatever the preset says)"
    )
    p.add_argument("--plain", action="store_true", help="the plain network (no skip connections)")
    p.add_argument("--limit", type=int, help="first N training images only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = p.parse_args()

    import torch
    from torch import nn

    preset = RESNET_PRESETS[args.preset]
    epochs = args.epochs or preset["epochs"]
    lr = args.lr or preset["lr"]
    bs = args.batch_size or preset["batch_size"]
    flip = preset["flip"] and not args.no_flip
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    (x_tr, y_tr), (x_te, y_te) = load_fashion_mnist(download=False)
    if args.limit:
        x_tr, y_tr = x_tr[: args.limit], y_tr[: args.limit]

    def prep(x: np.ndarray):  # type: ignore[no-untyped-def]
        x = (x.astype(np.float32) / 255 - FASHION_MNIST_MEAN) / FASHION_MNIST_STD
        return torch.from_numpy(x[:, None])

    xtr, xte = prep(x_tr), prep(x_te)
    ytr, yte = torch.from_numpy(y_tr.astype(np.int64)), torch.from_numpy(y_te.astype(np.int64))
    net = build(torch, nn, preset["widths"], preset["stem_pool"], not args.plain)
    n = len(xtr)
    steps = epochs * (-(-n // bs))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, total_steps=steps, cycle_momentum=False
    )
    gen = torch.Generator().manual_seed(args.seed)
    print(
        f"{'plain' if args.plain else 'resnet'} ({args.preset} preset: widths {preset['widths']}, "
        f"stem pool {preset['stem_pool']}), {sum(p.numel() for p in net.parameters()):,} "
        f"parameters; {n:,} training images; {epochs} epochs, batch {bs}, one-cycle Adam "
        f"lr {lr:g}{', horizontal flips' if flip else ''}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread(s)"
    )
    print(f"load average before: {load_average()}")
    total = 0.0
    acc = float("nan")
    for epoch in range(1, epochs + 1):
        net.train()
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=gen)
        for s in range(0, n, bs):
            idx = order[s : s + bs]
            xb, yb = xtr[idx], ytr[idx]
            if flip:
                mirror = torch.rand(len(idx), generator=gen) < 0.5
                xb = torch.where(mirror[:, None, None, None], xb.flip(3), xb)
            loss = nn.functional.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        seconds = time.perf_counter() - t0
        total += seconds
        net.eval()
        with torch.no_grad():
            pred = torch.cat([net(xte[i : i + 1000]).argmax(1) for i in range(0, len(xte), 1000)])
        acc = (pred == yte).float().mean().item()
        print(f"epoch {epoch}: test accuracy {100 * acc:.2f}%, {seconds:.1f} s", flush=True)
    print(f"load average after: {load_average()}")
    print(f"test accuracy {100 * acc:.2f}% | training time {total:.1f} s")


if __name__ == "__main__":
    main()
