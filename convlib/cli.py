"""The command line: train the book's CNNs on MNIST or Fashion-MNIST, ``python -m convlib.train``.

Run ``python -m convlib.train --help`` for the options. The last line of
the output is always ``test accuracy XX.XX% | training time YY.Y s``
(training time: the training steps only, without data loading and
evaluation). The exit status is 0 on success, 2 for bad arguments (checked
before training, ``--save`` included: its folder must accept new files) and
1 if the data cannot be loaded or the weights could not be saved to
``--save`` after training -- in which case they are saved to a file in the
system's temporary folder (else the current folder) and the error output
says where: a trained model is never lost.

Examples
--------
The capstone network with its defaults, MNIST from ``$CONVLIB_DATA/mnist``::

    python -m convlib.train

A quick LeNet run on the first 5,000 training images::

    python -m convlib.train --model lenet --epochs 1 --limit 5000

The residual network of Part III on Fashion-MNIST (one-cycle Adam,
horizontal flips; ``--model plain`` trains its twin without shortcuts)::

    python -m convlib.train --dataset fashion-mnist --model resnet

``--synthetic`` replaces MNIST by generated digit-like images (for tests
and machines without the data).

Unlike the library, the command tunes the process it runs in (it owns
it): one BLAS thread and one compute thread by default (``--threads N``: ``N``
BLAS threads; ``--compute-threads N`` instead: BLAS at one thread and ``N``
compute threads, over which the convolutions, ReLU, max pooling and batch
norm split each batch) and glibc's allocator keeping freed memory
(:mod:`convlib.runtime`); ``--no-tuning`` leaves all of them alone. The recipe
itself is :func:`convlib.recipes.train_model`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._files import check_writable_folder
from .datasets import (
    FASHION_MNIST_MEAN,
    FASHION_MNIST_STD,
    MNIST_MEAN,
    MNIST_STD,
    load_fashion_mnist,
    load_mnist,
    prepare_images,
    synthetic_digits,
)
from .loop import History
from .recipes import BUILDERS, DEFAULTS, TrainConfig, train_model
from .runtime import (
    blas_thread_count,
    blas_threads,
    compute_thread_count,
    compute_threads,
    tune_allocator,
)

__all__ = ["build_parser", "main"]

#: BLAS threads and compute threads when no thread option and no ``--no-tuning`` is given.
DEFAULT_THREADS = 1

#: Fewest optimizer steps of a one-cycle run (its rise must last beyond step 1).
MIN_ONE_CYCLE_STEPS = 4

#: ``--dataset``: its loader, its folder name, and the mean and standard
#: deviation of its training pixels (for :func:`convlib.datasets.prepare_images`).
DATASETS: dict[str, tuple[Any, str, float, float]] = {
    "mnist": (load_mnist, "MNIST", MNIST_MEAN, MNIST_STD),
    "fashion-mnist": (load_fashion_mnist, "Fashion-MNIST", FASHION_MNIST_MEAN, FASHION_MNIST_STD),
}


def _recipe_text(cfg: TrainConfig) -> str:
    """E.g. ``"--lr 0.003 --augment"``, for the help's epilog."""
    text = f"--lr {cfg.lr:g}" + (" --augment" if cfg.augment else " --no-augment")
    if cfg.flip:
        text += ", horizontal flips"
    if cfg.schedule != "cosine":
        text += f", {cfg.schedule} schedule"
    return text


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``python -m convlib.train``."""
    p = argparse.ArgumentParser(
        prog="python -m convlib.train",
        description=(
            "Train a convlib CNN on MNIST or Fashion-MNIST with Adam and a cosine learning-rate "
            "decay (and, optionally, randomly shifted training images) -- the residual network "
            "with a one-cycle learning rate and horizontal flips -- "
            "then print the test accuracy and the training time (last line)."
        ),
        epilog=(
            "Defaults per model: "
            + "; ".join(
                f"{name}: --epochs {c.epochs} --batch-size {c.batch_size} {_recipe_text(c)}"
                for name, c in DEFAULTS.items()
            )
            + ". MNIST is read from DATA_DIR/mnist/ alone when --data-dir is given (and downloaded there "
            "if missing), else from $CONVLIB_DATA/mnist/, else the user cache; Fashion-MNIST "
            "likewise from fashion-mnist/."
        ),
    )
    p.add_argument(
        "--model",
        choices=sorted(BUILDERS),
        default="capstone",
        help="network to train (default: capstone)",
    )
    p.add_argument(
        "--dataset",
        choices=sorted(DATASETS),
        default="mnist",
        help="images to train on (default: mnist); each is standardised with its own "
        "training-set mean and standard deviation",
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
    p.add_argument(
        "--seed", type=int, default=0, help="seed of initialisation and shuffling (default: 0)"
    )
    p.add_argument(
        "--data-dir",
        help="folder holding mnist/ (or fashion-mnist/), searched alone (the root argument of "
        "convlib.datasets.load_mnist)",
    )
    p.add_argument(
        "--no-download", action="store_true", help="fail instead of downloading missing data files"
    )
    p.add_argument(
        "--save",
        metavar="PATH",
        help="save the trained weights to this .npz file (checked before training; if saving still "
        "fails, the weights go to a file in the system's temporary folder, and the command says where)",
    )
    p.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="use only the first N training images and the first N test images (quick runs)",
    )
    p.add_argument(
        "--synthetic",
        action="store_true",
        help="train on generated digit-like images instead of MNIST or Fashion-MNIST (no data needed)",
    )
    tuning = p.add_argument_group(
        "process settings",
        "Unless --no-tuning is given, the command tunes the Python process it runs in: it sets "
        f"the BLAS threads (default {DEFAULT_THREADS}, set through threadpoolctl) or lets the "
        "convolutions, ReLU, max pooling and batch norm split each batch over compute threads "
        "(convlib.runtime.compute_threads), and raises "
        "glibc's malloc thresholds so that the memory of each step's temporaries is reused instead of "
        "returned to the OS and faulted in again (convlib.runtime.tune_allocator; irreversible for "
        "the process). Both are process-wide, which a command may decide and a library should "
        "not: convlib.fit and convlib.train_model change neither.",
    )
    tuning.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help=f"BLAS threads (default {DEFAULT_THREADS}), one compute thread: the matrix products "
        "run on N threads (on an idle 2-core machine the capstone's 4 epochs took 37.8 and "
        "42.1 s in two runs at 2 BLAS threads, 41.5 and 44.3 s at one; spinning BLAS threads "
        "slow a busy machine down, see benchmarks/README.md)",
    )
    tuning.add_argument(
        "--compute-threads",
        type=int,
        metavar="N",
        help="instead of --threads: one BLAS thread and N compute threads, each batch split "
        "into N chunks computed at the same time, the matrix products included (on the busy "
        "machine of benchmarks/README.md faster than N BLAS threads; on an idle one the "
        "capstone took 46.3 and 44.4 s at 2)",
    )
    tuning.add_argument(
        "--no-tuning",
        action="store_true",
        help="change no process setting: keep the BLAS threads, the compute threads and the "
        "allocator as they are",
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
    for flag, value in (("--threads", args.threads), ("--compute-threads", args.compute_threads)):
        if value is not None and value < 1:
            p.error(f"{flag} must be at least 1, got {value}")
        if value is not None and args.no_tuning:
            p.error(f"{flag} and --no-tuning exclude each other")
    if args.threads is not None and args.compute_threads is not None:
        p.error("--threads and --compute-threads exclude each other")
    if args.limit is not None and args.limit < 1:
        p.error(f"--limit must be at least 1, got {args.limit}")
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        p.error(f"--data-dir {args.data_dir!r} is not a directory")
    if args.data_dir is not None and args.synthetic:
        p.error("--data-dir and --synthetic exclude each other")
    if args.dataset != "mnist" and args.synthetic:
        p.error(f"--dataset {args.dataset} and --synthetic exclude each other")
    if args.save is not None:
        problem = _save_target_problem(args.save)
        if problem:
            p.error(f"--save {args.save!r}: {problem}")
    augment = d.augment if args.augment is None else args.augment
    return TrainConfig(epochs, batch_size, lr, d.min_lr_fraction, augment, d.flip, d.schedule)


def _save_target_problem(path: str) -> str | None:
    """Why the weights could not be saved at ``path`` (checked before training), or None."""
    target = os.path.abspath(path if path.endswith(".npz") else path + ".npz")  # as Sequential.save
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        return f"directory {parent!r} does not exist"
    if os.path.isdir(target):
        return f"{target!r} is a directory"
    try:
        check_writable_folder(parent)
    except OSError as exc:
        return f"cannot create files in {parent!r} ({exc.strerror or exc})"
    return None


def _save(model: Any, args: argparse.Namespace) -> bool:
    """Save the trained weights to ``--save``; if that fails, to a fallback file. True if ``--save`` worked.

    The trained model is never lost silently: a failing save is reported on
    standard error with the file the weights were written to instead.
    """
    try:
        print(f"saved the weights to {model.save(args.save)}")
        return True
    except Exception as exc:  # noqa: BLE001 -- any failure: report it and keep the weights elsewhere
        print(
            f"error: could not save the weights to {args.save!r}: {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"convlib-{args.model}-{stamp}-{os.getpid()}.npz"
    for folder in (tempfile.gettempdir(), os.getcwd()):
        try:
            saved = model.save(os.path.join(folder, name))
        except Exception as exc:  # noqa: BLE001 -- try the next folder
            print(f"error: could not save the weights to {folder!r} either: {exc}", file=sys.stderr)
            continue
        print(f"the trained weights were saved to {saved} instead", file=sys.stderr)
        return False
    print("error: the trained weights could not be saved anywhere", file=sys.stderr)
    return False


def _load(
    args: argparse.Namespace,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    if args.synthetic:
        n_train = 2000 if args.limit is None else args.limit
        n_test = 500 if args.limit is None else args.limit
        return synthetic_digits(n_train, seed=1), synthetic_digits(n_test, seed=2)
    loader = DATASETS[args.dataset][0]
    (x_tr, y_tr), (x_te, y_te) = loader(args.data_dir, download=not args.no_download)
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
        print(f"error: could not load {DATASETS[args.dataset][1]}: {exc}", file=sys.stderr)
        return 1
    steps = -(-len(x_tr) // min(cfg.batch_size, len(x_tr))) * cfg.epochs
    if cfg.schedule == "one-cycle" and steps < MIN_ONE_CYCLE_STEPS:
        parser.error(
            f"the one-cycle schedule of --model {args.model} needs at least "
            f"{MIN_ONE_CYCLE_STEPS} optimizer steps, this run has {steps} "
            f"({len(x_tr)} images, batch size {cfg.batch_size}, {cfg.epochs} epoch(s)): "
            "raise --epochs or --limit, or lower --batch-size"
        )
    _, _, mean, std = DATASETS[args.dataset]
    x_train, x_test = prepare_images(x_tr, mean, std), prepare_images(x_te, mean, std)
    y_train, y_test = y_tr.astype(np.int64), y_te.astype(np.int64)

    with contextlib.ExitStack() as process_settings:
        if args.no_tuning:
            settings = (
                "process settings left as they are (--no-tuning): "
                f"{_threads_text(blas_thread_count())}, {_compute_text(compute_thread_count())}"
            )
        else:
            # BLAS threads by default: on an idle 2-core machine the capstone's 4
            # epochs took 37.8 and 42.1 s at 2 BLAS threads, 46.3 and 44.4 s at 2
            # compute threads, 41.5 and 44.3 s at one thread (two runs each); under
            # load (6-7) the compute threads won, 18.9 ms a step against 40.7 ms
            # (benchmarks/README.md, issue 12).
            n_blas, n_compute = DEFAULT_THREADS, DEFAULT_THREADS
            if args.compute_threads is not None:
                n_blas, n_compute = 1, args.compute_threads
            elif args.threads is not None:
                n_blas = args.threads
            found = process_settings.enter_context(blas_threads(n_blas))  # restored at the end
            process_settings.enter_context(compute_threads(n_compute))  # restored too
            allocator = (
                "freed memory kept for reuse" if tune_allocator() else "allocator not tunable here"
            )
            settings = (
                "process settings (--no-tuning leaves them alone): "
                f"{_threads_text(n_blas if found else None)}, "
                f"{_compute_text(n_compute)}, {allocator}"
            )
        return _train(args, cfg, x_train, y_train, x_test, y_test, settings)


def _threads_text(n: int | None) -> str:
    """``"1 BLAS thread"``; ``None`` means no BLAS library threadpoolctl can control."""
    return (
        "BLAS threads not controllable" if n is None else f"{n} BLAS thread{'s' if n != 1 else ''}"
    )


def _compute_text(n: int) -> str:
    """``"1 compute thread"`` (convlib's own, for the convolutions and element-wise passes)."""
    return f"{n} compute thread{'s' if n != 1 else ''}"


def _train(
    args: argparse.Namespace,
    cfg: TrainConfig,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    settings: str,
) -> int:
    """Build, train, report and save: the part of :func:`main` that runs under the process settings."""
    model = BUILDERS[args.model](args.seed)
    source = "synthetic digits" if args.synthetic else DATASETS[args.dataset][1]
    decay = "cosine decay" if cfg.schedule == "cosine" else "a one-cycle schedule"
    print(
        f"{args.model}: {model.num_params():,} parameters; {source}: {len(x_train):,} training and "
        f"{len(x_test):,} test images; {cfg.epochs} epoch(s), batch size {cfg.batch_size}, "
        f"Adam lr {cfg.lr:g} with {decay}, "
        f"{'random shifts, ' if cfg.augment else ''}"
        f"{'horizontal flips, ' if cfg.flip else ''}seed {args.seed}",
        flush=True,
    )
    print(settings, flush=True)

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
    saved = True if args.save is None else _save(model, args)
    test_acc = history.val_acc[-1]  # evaluated on the whole test set after the last epoch
    print(f"(wall time including the evaluation after each epoch: {wall:.1f} s)")
    print(
        f"test accuracy {100 * test_acc:.2f}% | training time {history.total_seconds:.1f} s",
        flush=True,
    )
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
