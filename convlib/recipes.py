"""The training recipe of the book: what ``python -m convlib.train`` and chapter 12 both run.

:func:`train_model` trains a network with Adam, a cosine learning-rate
decay over the whole run (:func:`make_optimizer`) and, for the capstone
network, randomly shifted training images. :data:`DEFAULTS` holds the
hyper-parameters per network (a :class:`TrainConfig` each) and
:data:`BUILDERS` the functions that build the networks.

Like :func:`convlib.fit`, the recipe changes no process-wide setting; the
command line tunes BLAS threads and the allocator first
(:mod:`convlib.runtime`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._checks import as_bool, as_int, as_real
from .datasets.preprocessing import random_shift
from .loop import History, fit
from .model import Sequential, build_capstone, build_lenet
from .optim import Adam, CosineLR

__all__ = ["BUILDERS", "DEFAULTS", "TrainConfig", "make_optimizer", "train_model"]


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
        Final learning rate of the cosine decay, as a fraction of ``lr``,
        in [0, 1].
    augment : bool
        Shift the training images randomly by up to 2 pixels
        (:func:`convlib.datasets.random_shift`).

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

    def __post_init__(self) -> None:
        checked = {
            "epochs": as_int("epochs", self.epochs, 1),
            "batch_size": as_int("batch_size", self.batch_size, 1),
            "lr": as_real("lr", self.lr, low=0, low_open=True),
            "min_lr_fraction": as_real("min_lr_fraction", self.min_lr_fraction, low=0, high=1),
            "augment": as_bool("augment", self.augment),
        }
        for name, value in checked.items():
            object.__setattr__(
                self, name, value
            )  # frozen: the checked values replace the given ones


#: Per-model defaults (``--epochs``, ``--batch-size``, ``--lr`` override them).
DEFAULTS: dict[str, TrainConfig] = {
    "capstone": TrainConfig(epochs=4, batch_size=128, lr=3e-3, min_lr_fraction=0.01, augment=True),
    "lenet": TrainConfig(epochs=3, batch_size=64, lr=3e-3, min_lr_fraction=0.01, augment=False),
}

#: The networks by name (``--model``): ``BUILDERS[name](seed) -> Sequential``.
BUILDERS: dict[str, Callable[[int], Sequential]] = {
    "capstone": build_capstone,
    "lenet": build_lenet,
}


def make_optimizer(
    model: Sequential, lr: float, total_steps: int, min_lr_fraction: float = 0.01
) -> Adam:
    """Adam with a cosine decay from ``lr`` to ``min_lr_fraction * lr`` over the run.

    Parameters
    ----------
    model : Sequential
        Anything with a ``parameters()`` method.
    lr : float
        Peak learning rate, > 0.
    total_steps : int
        Number of optimizer steps of the whole run (epochs x batches per epoch), >= 1.
    min_lr_fraction : float
        Final rate as a fraction of ``lr``, in [0, 1].

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
    schedule = CosineLR(lr, total_steps=total_steps, min_lr=lr * min_lr_fraction)
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
