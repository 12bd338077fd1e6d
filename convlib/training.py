"""Minibatch training, evaluation and prediction for a :class:`~convlib.model.Sequential`.

One training step is the whole book in four lines::

    logits = model.forward(xb)                  # forward pass, caches kept
    loss, dlogits = softmax_cross_entropy(logits, yb)
    model.backward(dlogits)                     # gradients into layer.grads
    optimizer.step()                            # parameters updated in place

:func:`fit` repeats it over shuffled minibatches for a number of epochs and
returns a :class:`History`; :func:`evaluate` and :func:`predict` run the model
in evaluation mode (BatchNorm uses its running statistics, Dropout is off).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ._checks import as_int, as_numeric_array
from .losses import softmax, softmax_cross_entropy

__all__ = [
    "History",
    "fit",
    "evaluate",
    "predict",
    "prepare_images",
    "random_shift",
    "set_blas_threads",
    "tune_allocator",
]

LossFn = Callable[[np.ndarray, np.ndarray], tuple[Any, np.ndarray]]
Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]

#: Mean and standard deviation of the MNIST training pixels scaled to [0, 1].
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


@dataclass
class History:
    """Per-epoch record of a :func:`fit` run (one list entry per epoch).

    Attributes
    ----------
    train_loss : list of float
        Mean loss over the epoch's minibatches (weighted by batch size),
        measured during training (training mode, weights still moving).
    train_acc : list of float
        Accuracy on the same batches, in [0, 1] (NaN when the targets are not
        class labels).
    val_loss, val_acc : list of float
        On ``(x_val, y_val)`` after the epoch, in evaluation mode (NaN
        without validation data).
    seconds : list of float
        Wall-clock time of the epoch's training steps (validation excluded).
    lr : list of float
        The learning rate of the epoch's last step.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.train_loss)

    @property
    def total_seconds(self) -> float:
        """Training time summed over the epochs."""
        return float(sum(self.seconds))

    def as_dict(self) -> dict[str, list[float]]:
        """The lists by name (e.g. for ``pandas.DataFrame``)."""
        return asdict(self)

    def __str__(self) -> str:
        lines = ["epoch  train loss  train acc  val loss  val acc  seconds"]
        for i in range(len(self)):
            lines.append(
                f"{i + 1:>5}  {self.train_loss[i]:>10.4f}  {100 * self.train_acc[i]:>8.2f}%  "
                f"{self.val_loss[i]:>8.4f}  {100 * self.val_acc[i]:>6.2f}%  {self.seconds[i]:>7.1f}"
            )
        return "\n".join(lines)


def prepare_images(
    images: Any, mean: float = MNIST_MEAN, std: float = MNIST_STD, dtype: Any = np.float32
) -> np.ndarray:
    """Turn uint8 grey-scale images into a normalised NHWC float batch.

    ``(images / 255 - mean) / std``, with a channel axis added.

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, H, W, 1), uint8
        Pixel values 0..255.
    mean, std : float
        Statistics of the pixels scaled to [0, 1] (default: MNIST's).
    dtype : numpy dtype

    Returns
    -------
    ndarray, shape (N, H, W, 1)
    """
    x = as_numeric_array("images", images)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.ndim != 4 or x.shape[-1] != 1:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, 1), got {x.shape}")
    out = x.astype(dtype)
    out *= 1.0 / (255.0 * std)
    out -= mean / std
    return out


def random_shift(x: np.ndarray, rng: np.random.Generator, max_shift: int = 2) -> np.ndarray:
    """Data augmentation: translate each image by a random whole number of pixels.

    Each image moves by ``(dy, dx)``, each drawn uniformly from
    ``-max_shift ... max_shift``; the pixels that enter at a border copy the
    border's values (``np.pad(..., mode="edge")``), which for MNIST is the
    background. A digit moved by two pixels is still the same digit, so the
    network sees "new" training images every epoch.

    Parameters
    ----------
    x : ndarray, shape (N, H, W, C)
    rng : numpy.random.Generator
    max_shift : int

    Returns
    -------
    ndarray, shape (N, H, W, C)
        A new array.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((1, 5, 5, 1)); x[0, 2, 2, 0] = 1
    >>> out = random_shift(x, np.random.default_rng(0), max_shift=1)
    >>> np.argwhere(out[0, :, :, 0] == 1).tolist()   # moved by at most one pixel
    [[1, 2]]
    """
    x = as_numeric_array("x", x)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, H, W, C), got {x.shape}")
    s = as_int("max_shift", max_shift, 0)
    if s == 0:
        return x.copy()
    n, h, w, _ = x.shape
    padded = np.pad(x, ((0, 0), (s, s), (s, s), (0, 0)), mode="edge")
    # windows[i, a, b] is the H x W crop of image i starting at row a, column b
    windows = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(1, 2))
    top = rng.integers(0, 2 * s + 1, size=n)
    left = rng.integers(0, 2 * s + 1, size=n)
    crops = windows[np.arange(n), top, left]  # (N, C, H, W)
    return np.ascontiguousarray(np.moveaxis(crops, 1, -1))


_ALLOCATOR_TUNED = False


def tune_allocator(threshold: int = 1 << 30) -> bool:
    """Stop glibc's ``malloc`` from returning large blocks to the OS.

    Each training step allocates and frees the same large temporaries (the
    im2col matrices, activations and their gradients). By default glibc
    serves blocks above a threshold with ``mmap`` and gives memory back to
    the OS when the top of the heap is free, so the next step takes a page
    fault for every 4 KiB page of those arrays again -- on a small machine
    that can double the time of a step. Raising ``M_MMAP_THRESHOLD`` and
    ``M_TRIM_THRESHOLD`` keeps the memory in the process for reuse.

    Process-wide and harmless elsewhere; a no-op (returning ``False``) where
    glibc's ``mallopt`` is not available.

    Parameters
    ----------
    threshold : int
        Bytes; both thresholds are set to it.

    Returns
    -------
    bool
        Whether the settings were applied.
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    m_trim_threshold, m_mmap_threshold = -1, -3
    # glibc caps M_MMAP_THRESHOLD at HEAP_MAX/2 (32 MiB on 64-bit).
    ok = bool(mallopt(m_mmap_threshold, min(threshold, 32 << 20)))
    ok = bool(mallopt(m_trim_threshold, threshold)) and ok
    _ALLOCATOR_TUNED = ok
    return ok


def _check_data(name_x: str, x: Any, name_y: str, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x = as_numeric_array(name_x, x)
    y = as_numeric_array(name_y, y)
    if x.ndim < 1 or y.ndim < 1 or len(x) != len(y):
        raise ValueError(
            f"{name_x} and {name_y} must have the same number of examples, got shapes {x.shape} and {y.shape}"
        )
    if len(x) == 0:
        raise ValueError(f"{name_x} is empty (shape {x.shape})")
    return x, y


def _is_labels(logits: np.ndarray, y: np.ndarray) -> bool:
    return logits.ndim == 2 and y.ndim == 1 and y.dtype.kind in "iu"


class _Batches:
    """Gather minibatches ``x[idx]`` into reused buffers (no per-step allocation)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> None:
        self.x, self.y = x, y
        self.xbuf = np.empty((batch_size, *x.shape[1:]), dtype=x.dtype)
        self.ybuf = np.empty((batch_size, *y.shape[1:]), dtype=y.dtype)

    def __call__(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = len(idx)
        xb, yb = self.xbuf[:m], self.ybuf[:m]
        np.take(self.x, idx, axis=0, out=xb)
        np.take(self.y, idx, axis=0, out=yb)
        return xb, yb


def fit(
    model: Any,
    x_train: Any,
    y_train: Any,
    optimizer: Any,
    *,
    epochs: int,
    batch_size: int,
    x_val: Any = None,
    y_val: Any = None,
    seed: int = 0,
    loss: LossFn = softmax_cross_entropy,
    progress: bool = True,
    eval_batch_size: int = 500,
    augment: Augment | None = None,
    callback: Callable[[int, History], Any] | None = None,
) -> History:
    """Train ``model`` with minibatch gradient descent.

    Each epoch visits the training examples once, in an order drawn from
    ``numpy.random.default_rng(seed)``; each minibatch runs forward, loss,
    backward and ``optimizer.step()`` in training mode. The last batch of an
    epoch may be smaller. Two calls with the same seed, model initialisation
    and data give identical histories.

    Parameters
    ----------
    model : Sequential
        Anything with ``forward``, ``backward``, ``train`` and ``eval``.
    x_train : array_like, shape (N, ...)
        Inputs (already preprocessed; see :func:`prepare_images`).
    y_train : array_like, shape (N,) or (N, ...)
        Integer class labels for classification, or targets for ``loss``.
    optimizer : Optimizer
        Built on ``model.parameters()``.
    epochs : int
        Number of passes over the data, >= 1.
    batch_size : int
        Examples per step, >= 1.
    x_val, y_val : array_like, optional
        Evaluated (loss and accuracy, evaluation mode) after every epoch.
    seed : int
        Seeds the shuffling.
    loss : callable
        ``loss(outputs, targets) -> (scalar loss, d loss / d outputs)``;
        default :func:`convlib.losses.softmax_cross_entropy` (mean over
        the batch).
    progress : bool
        Show a tqdm progress bar per epoch with the running loss and accuracy.
    eval_batch_size : int
        Batch size of the validation passes.
    augment : callable, optional
        ``augment(xb, rng) -> xb`` applied to every training batch, e.g.
        :func:`random_shift`; ``rng`` is a generator seeded from ``seed``.
    callback : callable, optional
        ``callback(epoch, history)`` after each epoch (``epoch`` counts from
        1; ``history`` already holds that epoch), e.g. to print or plot.

    Returns
    -------
    History

    Raises
    ------
    ValueError
        On mismatched lengths, non-positive ``epochs``/``batch_size``, or a
        loss that becomes NaN or infinite (the message gives the epoch and step).
    """
    x_train, y_train = _check_data("x_train", x_train, "y_train", y_train)
    if (x_val is None) != (y_val is None):
        raise ValueError("give both x_val and y_val, or neither")
    if x_val is not None:
        x_val, y_val = _check_data("x_val", x_val, "y_val", y_val)
    epochs = as_int("epochs", epochs, 1)
    batch_size = as_int("batch_size", batch_size, 1)
    seed = as_int("seed", seed, 0)
    if not callable(loss):
        raise TypeError(f"loss must be callable(outputs, targets) -> (loss, doutputs), got {loss!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable(epoch, history), got {callback!r}")
    if augment is not None and not callable(augment):
        raise TypeError(f"augment must be callable(x_batch, rng) -> x_batch, got {augment!r}")
    try:  # tqdm's notebook bar needs ipywidgets; without it, the text bar
        import ipywidgets  # noqa: F401

        from tqdm.auto import tqdm
    except ImportError:
        from tqdm.std import tqdm

    tune_allocator()
    rng = np.random.default_rng(seed)
    aug_rng = np.random.default_rng([seed, 1])
    n = len(x_train)
    batch_size = min(batch_size, n)
    steps = math.ceil(n / batch_size)
    gather = _Batches(x_train, y_train, batch_size)
    history = History()
    nan = float("nan")
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(n)
        total_loss, correct, seen, labelled = 0.0, 0, 0, True
        bar = tqdm(
            total=steps,
            desc=f"epoch {epoch + 1}/{epochs}",
            unit="batch",
            disable=not progress,
            leave=True,
            dynamic_ncols=True,
        )
        start = time.perf_counter()
        for step in range(steps):
            xb, yb = gather(order[step * batch_size : (step + 1) * batch_size])
            if augment is not None:
                xb = augment(xb, aug_rng)
            out = model.forward(xb)
            value, dout = loss(out, yb)
            value = float(value)
            if not math.isfinite(value):
                bar.close()
                raise ValueError(
                    f"the loss became {value} at epoch {epoch + 1}, step {step + 1}: "
                    "the learning rate is probably too large"
                )
            model.backward(dout)
            optimizer.step()
            m = len(yb)
            total_loss += value * m
            seen += m
            if labelled and _is_labels(out, yb):
                correct += int(np.count_nonzero(out.argmax(axis=1) == yb))
            else:
                labelled = False
            if progress:
                bar.update(1)
                if step % 20 == 0 or step == steps - 1:
                    post = {"loss": f"{total_loss / seen:.4f}"}
                    if labelled:
                        post["acc"] = f"{100 * correct / seen:.2f}%"
                    bar.set_postfix(post, refresh=False)
        seconds = time.perf_counter() - start
        history.train_loss.append(total_loss / seen)
        history.train_acc.append(correct / seen if labelled else nan)
        history.seconds.append(seconds)
        history.lr.append(float(getattr(optimizer, "lr", nan)))
        if x_val is not None:
            vl, va = evaluate(model, x_val, y_val, batch_size=eval_batch_size, loss=loss)
            history.val_loss.append(vl)
            history.val_acc.append(va)
            if progress:
                bar.set_postfix_str(
                    f"loss={history.train_loss[-1]:.4f}, acc={100 * history.train_acc[-1]:.2f}%, "
                    f"val_acc={100 * va:.2f}%"
                )
        else:
            history.val_loss.append(nan)
            history.val_acc.append(nan)
        bar.close()
        if callback is not None:
            callback(epoch + 1, history)
    model.train()
    return history


def _batched_outputs(model: Any, x: np.ndarray, batch_size: int):
    """Yield ``(start, outputs)`` for consecutive batches, in evaluation mode."""
    was_training = getattr(model, "training", True)
    model.eval()
    try:
        for start in range(0, len(x), batch_size):
            yield start, model.forward(x[start : start + batch_size])
    finally:
        model.train(was_training)


def evaluate(
    model: Any,
    x: Any,
    y: Any,
    batch_size: int = 500,
    loss: LossFn = softmax_cross_entropy,
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``(x, y)``, in evaluation mode.

    The model's previous mode is restored afterwards.

    Parameters
    ----------
    model : Sequential
    x : array_like, shape (N, ...)
    y : array_like, shape (N,)
        Integer labels (or targets for ``loss``).
    batch_size : int
    loss : callable
        As in :func:`fit`.

    Returns
    -------
    loss : float
        Mean over the examples.
    accuracy : float
        Fraction of examples whose largest logit is the label, in [0, 1]
        (NaN when ``y`` is not a vector of integer labels).
    """
    x, y = _check_data("x", x, "y", y)
    batch_size = as_int("batch_size", batch_size, 1)
    total, correct, labelled = 0.0, 0, True
    for start, out in _batched_outputs(model, x, batch_size):
        yb = y[start : start + batch_size]
        value, _ = loss(out, yb)
        total += float(value) * len(yb)
        if labelled and _is_labels(out, yb):
            correct += int(np.count_nonzero(out.argmax(axis=1) == yb))
        else:
            labelled = False
    n = len(x)
    return total / n, (correct / n if labelled else float("nan"))


def predict(model: Any, x: Any, batch_size: int = 500, probabilities: bool = False) -> np.ndarray:
    """Outputs of ``model`` on ``x``, batch by batch, in evaluation mode.

    Parameters
    ----------
    model : Sequential
    x : array_like, shape (N, ...)
    batch_size : int
    probabilities : bool
        False: the raw outputs (logits for a classifier). True: their
        softmax over the last axis (class probabilities, rows sum to 1).

    Returns
    -------
    ndarray, shape (N, K)
        The predicted class is ``predict(model, x).argmax(axis=1)``.
    """
    x = as_numeric_array("x", x)
    if x.ndim < 1 or len(x) == 0:
        raise ValueError(f"x must hold at least one example, got shape {x.shape}")
    batch_size = as_int("batch_size", batch_size, 1)
    parts = [out.copy() for _, out in _batched_outputs(model, x, batch_size)]
    logits = np.concatenate(parts, axis=0)
    return softmax(logits) if probabilities else logits


_BLAS_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)


def _loaded_openblas() -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process (Linux)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            paths = {line.split(None, 5)[-1].strip() for line in f if "openblas" in line.lower()}
    except OSError:
        return []
    return sorted(p for p in paths if p.startswith("/"))


def set_blas_threads(n: int) -> bool:
    """Set the number of threads of the OpenBLAS that NumPy uses.

    The matrix products of a small CNN are small; splitting each over two
    threads gains little on an idle machine and, when other processes
    compete for the cores, costs a lot: OpenBLAS threads wait for each other
    at every product (measured here: a LeNet step 15 times slower with 2
    threads than with 1 on a busy 2-core machine). ``python -m convlib.train``
    uses one thread by default.

    Same effect as starting Python with ``OPENBLAS_NUM_THREADS=n``, but
    possible after NumPy is imported.

    Parameters
    ----------
    n : int
        Threads, >= 1.

    Returns
    -------
    bool
        Whether an OpenBLAS library was found and set (False with another
        BLAS, e.g. MKL or Accelerate, or off Linux).
    """
    n = as_int("n", n, 1)
    done = False
    for path in _loaded_openblas():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _BLAS_SETTERS:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int]
                fn.restype = None
                fn(n)
                done = True
                break
    return done
