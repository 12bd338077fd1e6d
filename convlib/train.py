"""Train the book's CNNs on MNIST from the command line.

Run ``python -m convlib.train --help`` for the options. The last line of
the output is always ``test accuracy XX.XX% | training time YY.Y s``
(training time: the training steps only, without data loading and
evaluation).

Examples
--------
The capstone network with its defaults, MNIST from ``$CONVLIB_DATA/mnist``::

    python -m convlib.train

A quick LeNet run on the first 5,000 training images::

    python -m convlib.train --model lenet --epochs 1 --limit 5000

``--synthetic`` replaces MNIST by generated digit-like images (for tests
and machines without the data).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .model import Sequential, build_capstone, build_lenet
from .optim import Adam, CosineLR
from .training import History, fit, prepare_images, random_shift, set_blas_threads

__all__ = ["main", "build_parser", "make_optimizer", "train_model", "synthetic_digits", "TrainConfig", "DEFAULTS"]


@dataclass(frozen=True)
class TrainConfig:
    """Default hyper-parameters of one model."""

    epochs: int
    batch_size: int
    lr: float
    min_lr_fraction: float
    augment: bool


#: Per-model defaults (``--epochs``, ``--batch-size``, ``--lr`` override them).
DEFAULTS = {
    "capstone": TrainConfig(epochs=4, batch_size=128, lr=3e-3, min_lr_fraction=0.01, augment=True),
    "lenet": TrainConfig(epochs=3, batch_size=64, lr=3e-3, min_lr_fraction=0.01, augment=False),
}

BUILDERS = {"capstone": build_capstone, "lenet": build_lenet}


def make_optimizer(model: Sequential, lr: float, total_steps: int, min_lr_fraction: float = 0.01) -> Adam:
    """Adam with a cosine decay from ``lr`` to ``min_lr_fraction * lr`` over the run.

    Parameters
    ----------
    model : Sequential
    lr : float
        Peak learning rate.
    total_steps : int
        Number of optimizer steps of the whole run (epochs x batches per epoch).
    min_lr_fraction : float
        Final rate as a fraction of ``lr``.

    Returns
    -------
    Adam
    """
    schedule = CosineLR(lr, total_steps=max(total_steps, 1), min_lr=lr * min_lr_fraction)
    return Adam(model.parameters(), lr=lr, schedule=schedule)


def train_model(
    model: Sequential,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray | None,
    y_val: np.ndarray | None,
    config: TrainConfig,
    *,
    seed: int = 0,
    progress: bool = True,
    callback: Callable[[int, History], None] | None = None,
) -> History:
    """Train ``model`` with the recipe of ``config``: the whole of ``python -m convlib.train``.

    Adam with a cosine decay over every step of the run (:func:`make_optimizer`),
    minibatches of ``config.batch_size`` shuffled with ``seed``, and random
    shifts of the training images when ``config.augment``. The book's
    capstone chapter calls this function, so the chapter and the command
    train the same way.

    Parameters
    ----------
    model : Sequential
    x_train : ndarray, shape (N, 28, 28, 1)
        Prepared images (:func:`convlib.training.prepare_images`).
    y_train : ndarray, shape (N,)
        Integer labels.
    x_val, y_val : ndarray or None
        Evaluated after every epoch when given.
    config : TrainConfig
        E.g. ``DEFAULTS["capstone"]``.
    seed : int
        Seed of the shuffling, the shifts and the dropout masks.
    progress : bool
        Show a progress bar per epoch.
    callback : callable, optional
        ``callback(epoch, history)`` after every epoch.

    Returns
    -------
    History
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig (e.g. DEFAULTS['capstone']), got {type(config).__name__}")
    n = len(x_train)
    if n == 0:
        raise ValueError("x_train is empty")
    steps = -(-n // min(config.batch_size, n)) * config.epochs
    optimizer = make_optimizer(model, config.lr, steps, config.min_lr_fraction)
    return fit(
        model,
        x_train,
        y_train,
        optimizer,
        epochs=config.epochs,
        batch_size=config.batch_size,
        x_val=x_val,
        y_val=y_val,
        seed=seed,
        progress=progress,
        augment=random_shift if config.augment else None,
        callback=callback,
    )


def synthetic_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-shaped stand-in data: each class is a bright bar at its own place.

    Class ``k`` draws a horizontal bar (``k < 5``) or a vertical one
    (``k >= 5``) at one of five positions, with random intensity, a random
    shift of up to one pixel and noise, so a CNN learns it in a few steps.

    Parameters
    ----------
    n : int
        Number of images.
    seed : int

    Returns
    -------
    images : ndarray, shape (n, 28, 28), uint8
    labels : ndarray, shape (n,), uint8
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    images = rng.integers(0, 40, size=(n, 28, 28)).astype(np.float64)
    shift = rng.integers(-1, 2, size=n)
    level = rng.uniform(150, 255, size=n)
    for i, (k, s, v) in enumerate(zip(labels, shift, level)):
        pos = 3 + 5 * (int(k) % 5) + int(s)
        if k < 5:
            images[i, pos : pos + 3, 4:24] = v
        else:
            images[i, 4:24, pos : pos + 3] = v
    return images.astype(np.uint8), labels


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``python -m convlib.train``."""
    p = argparse.ArgumentParser(
        prog="python -m convlib.train",
        description=(
            "Train a convlib CNN on MNIST with Adam and a cosine learning-rate decay "
            "(and, optionally, randomly shifted training images), "
            "then print the test accuracy and the training time (last line)."
        ),
        epilog=(
            "Defaults per model: "
            + "; ".join(
                f"{name}: --epochs {c.epochs} --batch-size {c.batch_size} --lr {c.lr:g}"
                + (" --augment" if c.augment else " --no-augment")
                for name, c in DEFAULTS.items()
            )
            + ". MNIST is read from DATA_DIR/mnist/, else $CONVLIB_DATA/mnist/, else the user cache."
        ),
    )
    p.add_argument(
        "--model", choices=sorted(BUILDERS), default="capstone", help="network to train (default: capstone)"
    )
    p.add_argument("--epochs", type=int, help="passes over the training set")
    p.add_argument("--batch-size", type=int, help="examples per optimizer step")
    p.add_argument("--lr", type=float, help="peak learning rate of Adam")
    p.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="shift training images randomly by up to 2 pixels (default: on for capstone, off for lenet)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of initialisation and shuffling (default: 0)")
    p.add_argument(
        "--data-dir", help="folder holding mnist/ (the root argument of convlib.datasets.load_mnist)"
    )
    p.add_argument("--no-download", action="store_true", help="fail instead of downloading missing MNIST files")
    p.add_argument("--save", metavar="PATH", help="save the trained weights to this .npz file")
    p.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="use only the first N training images and the first N test images (quick runs)",
    )
    p.add_argument(
        "--synthetic",
        action="store_true",
        help="train on generated digit-like images instead of MNIST (no data needed)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="OpenBLAS threads (default 1: the matrix products are small, and a second "
        "thread slows training down badly when other programs use the CPU)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def _check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> TrainConfig:
    d = DEFAULTS[args.model]
    epochs = d.epochs if args.epochs is None else args.epochs
    batch_size = d.batch_size if args.batch_size is None else args.batch_size
    lr = d.lr if args.lr is None else args.lr
    if epochs < 1:
        p.error(f"--epochs must be at least 1, got {epochs}")
    if batch_size < 1:
        p.error(f"--batch-size must be at least 1, got {batch_size}")
    if not (lr > 0 and np.isfinite(lr)):
        p.error(f"--lr must be a positive number, got {lr}")
    if args.seed < 0:
        p.error(f"--seed must be >= 0, got {args.seed}")
    if args.threads < 1:
        p.error(f"--threads must be at least 1, got {args.threads}")
    if args.limit is not None and args.limit < 1:
        p.error(f"--limit must be at least 1, got {args.limit}")
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        p.error(f"--data-dir {args.data_dir!r} is not a directory")
    if args.data_dir is not None and args.synthetic:
        p.error("--data-dir and --synthetic exclude each other")
    if args.save is not None:
        parent = os.path.dirname(os.path.abspath(args.save))
        if not os.path.isdir(parent):
            p.error(f"--save {args.save!r}: directory {parent!r} does not exist")
    augment = d.augment if args.augment is None else args.augment
    return TrainConfig(epochs, batch_size, lr, d.min_lr_fraction, augment)


def _load(args: argparse.Namespace) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    if args.synthetic:
        n_train = 2000 if args.limit is None else args.limit
        n_test = 500 if args.limit is None else args.limit
        return synthetic_digits(n_train, seed=1), synthetic_digits(n_test, seed=2)
    from .datasets import load_mnist

    (x_tr, y_tr), (x_te, y_te) = load_mnist(args.data_dir, download=not args.no_download)
    if args.limit is not None:
        n = args.limit
        x_tr, y_tr, x_te, y_te = x_tr[:n], y_tr[:n], x_te[:n], y_te[:n]
    return (x_tr, y_tr), (x_te, y_te)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m convlib.train``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    cfg = _check_args(parser, args)
    try:
        (x_tr, y_tr), (x_te, y_te) = _load(args)
    except (FileNotFoundError, OSError, ValueError) as exc:
        print(f"error: could not load MNIST: {exc}", file=sys.stderr)
        return 1
    x_train, x_test = prepare_images(x_tr), prepare_images(x_te)
    y_train, y_test = y_tr.astype(np.int64), y_te.astype(np.int64)

    set_blas_threads(args.threads)
    model = BUILDERS[args.model](args.seed)
    source = "synthetic digits" if args.synthetic else "MNIST"
    print(
        f"{args.model}: {model.num_params():,} parameters; {source}: {len(x_train):,} training and "
        f"{len(x_test):,} test images; {cfg.epochs} epoch(s), batch size {cfg.batch_size}, "
        f"Adam lr {cfg.lr:g} with cosine decay, "
        f"{'random shifts, ' if cfg.augment else ''}seed {args.seed}",
        flush=True,
    )

    def report(epoch: int, h: History) -> None:
        i = epoch - 1
        print(
            f"epoch {epoch}: train loss {h.train_loss[i]:.4f}, train accuracy "
            f"{100 * h.train_acc[i]:.2f}%, test accuracy {100 * h.val_acc[i]:.2f}%, "
            f"{h.seconds[i]:.1f} s",
            flush=True,
        )

    start = time.perf_counter()
    history = train_model(
        model,
        x_train,
        y_train,
        x_test,
        y_test,
        cfg,
        seed=args.seed,
        progress=not args.no_progress,
        callback=report,
    )
    wall = time.perf_counter() - start
    if args.save is not None:
        model.save(args.save)
        saved = args.save if args.save.endswith(".npz") else args.save + ".npz"  # as np.savez does
        print(f"saved the weights to {saved}")
    test_acc = history.val_acc[-1]  # evaluated on the whole test set after the last epoch
    print(f"(wall time including the evaluation after each epoch: {wall:.1f} s)")
    print(f"test accuracy {100 * test_acc:.2f}% | training time {history.total_seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
