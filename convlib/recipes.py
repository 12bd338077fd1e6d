"""The training recipe of the book: what ``python -m convlib.train`` and chapter 12 both run.

:func:`train_model` trains a network with Adam, a cosine learning-rate
decay over the whole run (:func:`make_optimizer`) and, for the capstone
network, randomly shifted training images; the residual network of Part III
(``resnet``, and its plain twin ``plain``) uses a one-cycle learning rate
and random horizontal flips instead. :data:`DEFAULTS` holds the
hyper-parameters per network (a :class:`TrainConfig` each) and
:data:`BUILDERS` the functions that build the networks.

Like :func:`convlib.fit`, the recipe changes no process-wide setting; the
command line tunes BLAS threads and the allocator first
(:mod:`convlib.runtime`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import as_bool, as_int, as_real
from .architectures import RESNET_PRESETS, build_plain, build_resnet
from .datasets.preprocessing import random_flip, random_shift
from .loop import Augment, History, fit
from .model import Sequential, build_capstone, build_lenet
from .optim import Adam, CosineLR, OneCycleLR

__all__ = [
    "BUILDERS",
    "DEFAULTS",
    "SCHEDULES",
    "TrainConfig",
    "augmentation",
    "make_optimizer",
    "train_model",
]

#: The learning-rate schedules :func:`make_optimizer` builds, by name.
SCHEDULES = ("cosine", "one-cycle")

#: The peak rate of the one-cycle schedule divided by its first rate (PyTorch's default).
ONE_CYCLE_DIV_FACTOR = 25.0


@dataclass(frozen=True)
class TrainConfig:
    """The hyper-parameters of one training run (see :data:`DEFAULTS`).

    Every field is checked when the config is made, so a bad value is
    refused here, naming the field, rather than later in the run; NumPy
    scalars are stored as the Python ones.

    Attributes
    ----------
    epochs : int
        Passes over the training set, >= 1.
    batch_size : int
        Examples per optimizer step, >= 1.
    lr : float
        Peak learning rate of Adam, > 0.
    min_lr_fraction : float
        Final learning rate, as a fraction of ``lr``, in [0, 1] (for the
        one-cycle schedule in (0, 1/25]: it starts at ``lr / 25``).
    augment : bool
        Shift the training images randomly by up to 2 pixels
        (:func:`convlib.datasets.random_shift`).
    flip : bool, default False
        Mirror each training image left to right with probability 1/2
        (:func:`convlib.datasets.random_flip`; for Fashion-MNIST, not digits).
    schedule : {"cosine", "one-cycle"}, default "cosine"
        The learning-rate schedule (:func:`make_optimizer`).

    Raises
    ------
    TypeError, ValueError
        For a field of the wrong type or out of range.
    """

    epochs: int
    batch_size: int
    lr: float
    min_lr_fraction: float
    augment: bool
    flip: bool = False
    schedule: str = "cosine"

    def __post_init__(self) -> None:
        checked: dict[str, Any] = {
            "epochs": as_int("epochs", self.epochs, 1),
            "batch_size": as_int("batch_size", self.batch_size, 1),
            "lr": as_real("lr", self.lr, low=0, low_open=True),
            "min_lr_fraction": as_real("min_lr_fraction", self.min_lr_fraction, low=0, high=1),
            "augment": as_bool("augment", self.augment),
            "flip": as_bool("flip", self.flip),
            "schedule": _check_schedule(self.schedule),
        }
        if checked["schedule"] == "one-cycle":
            _one_cycle_final_div(checked["min_lr_fraction"])
        for name, value in checked.items():
            object.__setattr__(
                self, name, value
            )  # frozen: the checked values replace the given ones


def _check_schedule(schedule: Any) -> str:
    if not isinstance(schedule, str):
        raise TypeError(f"schedule must be one of {SCHEDULES}, got {type(schedule).__name__}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    return schedule


def _one_cycle_final_div(min_lr_fraction: float) -> float:
    """``final_div_factor`` of :class:`OneCycleLR` that ends at ``min_lr_fraction * lr``."""
    limit = 1.0 / ONE_CYCLE_DIV_FACTOR
    if not 0.0 < min_lr_fraction <= limit:
        raise ValueError(
            f"min_lr_fraction must be in (0, {limit:g}] for the one-cycle schedule (it starts at "
            f"lr / {ONE_CYCLE_DIV_FACTOR:g} and ends lower), got {min_lr_fraction:g}"
        )
    return limit / min_lr_fraction


_CLI = RESNET_PRESETS["cli"]

#: Per-model defaults (``--epochs``, ``--batch-size``, ``--lr`` override them).
#: ``resnet`` and ``plain`` end at PyTorch's one-cycle default, ``lr / 25 / 1e4``.
DEFAULTS: dict[str, TrainConfig] = {
    "capstone": TrainConfig(epochs=4, batch_size=128, lr=3e-3, min_lr_fraction=0.01, augment=True),
    "lenet": TrainConfig(epochs=3, batch_size=64, lr=3e-3, min_lr_fraction=0.01, augment=False),
    **{
        name: TrainConfig(
            epochs=_CLI["epochs"],
            batch_size=_CLI["batch_size"],
            lr=_CLI["lr"],
            min_lr_fraction=4e-6,
            augment=False,
            flip=_CLI["flip"],
            schedule="one-cycle",
        )
        for name in ("resnet", "plain")
    },
}


def _cli_resnet(seed: int) -> Any:
    return build_resnet(seed, widths=_CLI["widths"], stem_pool=_CLI["stem_pool"])


def _cli_plain(seed: int) -> Any:
    return build_plain(seed, widths=_CLI["widths"], stem_pool=_CLI["stem_pool"])


#: The networks by name (``--model``): ``BUILDERS[name](seed) -> Sequential or Graph``.
BUILDERS: dict[str, Callable[[int], Any]] = {
    "capstone": build_capstone,
    "lenet": build_lenet,
    "resnet": _cli_resnet,
    "plain": _cli_plain,
}


def make_optimizer(
    model: Sequential,
    lr: float,
    total_steps: int,
    min_lr_fraction: float = 0.01,
    schedule: str = "cosine",
) -> Adam:
    """Adam with a cosine decay from ``lr`` to ``min_lr_fraction * lr`` over the run, or one cycle.

    Parameters
    ----------
    model : Sequential
        Anything with a ``parameters()`` method.
    lr : float
        Peak learning rate, > 0.
    total_steps : int
        Number of optimizer steps of the whole run (epochs x batches per epoch), >= 1.
    min_lr_fraction : float
        Final rate as a fraction of ``lr``, in [0, 1]; in (0, 1/25] for
        ``"one-cycle"``.
    schedule : {"cosine", "one-cycle"}
        ``"cosine"``: :class:`~convlib.optim.CosineLR` from ``lr`` down.
        ``"one-cycle"``: :class:`~convlib.optim.OneCycleLR` from ``lr / 25``
        up to ``lr`` in the first 30% of the steps, then down
        (``total_steps >= 4``).

    Returns
    -------
    Adam

    Raises
    ------
    TypeError
        If ``model`` has no ``parameters()`` method, or an argument is not a number.
    ValueError
        If an argument is out of range.
    """
    if not callable(getattr(model, "parameters", None)):
        raise TypeError(
            f"model must be a network with a parameters() method (e.g. a convlib.Sequential), "
            f"got {type(model).__name__} {model!r:.60}"
        )
    lr = as_real("lr", lr, low=0, low_open=True)
    total_steps = as_int("total_steps", total_steps, 1)
    min_lr_fraction = as_real("min_lr_fraction", min_lr_fraction, low=0, high=1)
    if _check_schedule(schedule) == "one-cycle":
        rate: Any = OneCycleLR(
            lr,
            total_steps=total_steps,
            div_factor=ONE_CYCLE_DIV_FACTOR,
            final_div_factor=_one_cycle_final_div(min_lr_fraction),
        )
    else:
        rate = CosineLR(lr, total_steps=total_steps, min_lr=lr * min_lr_fraction)
    return Adam(model.parameters(), lr=lr, schedule=rate)


def augmentation(config: TrainConfig) -> Augment | None:
    """The ``augment`` function :func:`train_model` passes to :func:`~convlib.fit` for ``config``.

    Parameters
    ----------
    config : TrainConfig

    Returns
    -------
    callable or None
        ``augment(x_batch, rng) -> x_batch``: random shifts when
        ``config.augment``, random horizontal flips when ``config.flip``,
        both (shifts first, from the same generator) when both are set;
        None when neither is.

    Examples
    --------
    >>> augmentation(DEFAULTS["lenet"]) is None
    True
    >>> from convlib.datasets import random_flip
    >>> augmentation(DEFAULTS["resnet"]) is random_flip
    True
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if config.augment and config.flip:
        return _shift_and_flip
    if config.augment:
        return random_shift
    return random_flip if config.flip else None


def _shift_and_flip(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return random_flip(random_shift(x, rng), rng)


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

    Adam with ``config.schedule`` over every step of the run
    (:func:`make_optimizer`), minibatches of ``config.batch_size`` shuffled
    with ``seed``, and random shifts of the training images when
    ``config.augment``, random horizontal flips when ``config.flip``
    (:func:`augmentation`). The book's
    capstone chapter calls this function, so the chapter and the command
    train the same way.

    Parameters
    ----------
    model : Sequential
    x_train : ndarray, shape (N, 28, 28, 1)
        Prepared images (:func:`convlib.datasets.prepare_images`).
    y_train : ndarray, shape (N,)
        Integer labels.
    x_val, y_val : ndarray or None
        Evaluated after every epoch when given.
    config : TrainConfig
        E.g. ``DEFAULTS["capstone"]``.
    seed : int
        Seed of the shuffling and of the shifts (dropout masks come from the
        model's own generator, seeded when it was built).
    progress : bool
        Show a progress bar per epoch.
    callback : callable, optional
        ``callback(epoch, history)`` after every epoch.

    Returns
    -------
    History
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(
            f"config must be a TrainConfig (e.g. DEFAULTS['capstone']), got {type(config).__name__}"
        )
    n = len(x_train)
    if n == 0:
        raise ValueError("x_train is empty")
    steps = -(-n // min(config.batch_size, n)) * config.epochs
    optimizer = make_optimizer(model, config.lr, steps, config.min_lr_fraction, config.schedule)
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
        augment=augmentation(config),
        callback=callback,
    )
