"""The training loop: minibatch training, evaluation and prediction for a model.

The model is a :class:`~convlib.model.Sequential` or a
:class:`~convlib.graph.Graph` (anything with their ``forward``, ``backward``,
``parameters``, ``train`` and ``eval`` methods).

One training step is the whole book in four lines::

    logits = model.forward(xb)                  # forward pass, caches kept
    loss, dlogits = softmax_cross_entropy(logits, yb)
    model.backward(dlogits)                     # gradients into layer.grads
    optimizer.step()                            # parameters updated in place

:func:`fit` repeats it over shuffled minibatches for a number of epochs and
returns a :class:`History`; :func:`evaluate` and :func:`predict` run the model
in evaluation mode (BatchNorm uses its running statistics, Dropout is off).

None of them changes a process-wide setting: BLAS threads and the memory
allocator are left as the caller set them (see :mod:`convlib.runtime`).
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ._checks import as_bool, as_int, as_numeric_array, first_non_finite
from .errors import InputWarning, NonFiniteError, NonFiniteGradientError
from .losses import softmax, softmax_cross_entropy

__all__ = ["History", "fit", "evaluate", "predict"]

#: ``loss(outputs, targets) -> (scalar loss, d loss / d outputs)``
LossFn = Callable[[np.ndarray, np.ndarray], tuple[Any, np.ndarray]]
#: ``augment(x_batch, rng) -> x_batch``
Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]


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


def _check_model(model: Any, methods: tuple[str, ...]) -> None:
    """Refuse a ``model`` that lacks one of the methods the loop calls."""
    missing = [m for m in methods if not callable(getattr(model, m, None))]
    if missing:
        raise TypeError(
            f"model must be a network with {', '.join(methods)} methods "
            f"(e.g. a convlib.Sequential or Graph), got {type(model).__name__} {model!r:.60} "
            f"(it has no {', '.join(missing)})"
        )


def _check_optimizer(optimizer: Any) -> None:
    """Refuse an ``optimizer`` without a ``step()`` method (e.g. the string ``"adam"``)."""
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(
            f"optimizer must be an optimizer object with a step() method, built on the model's "
            f"parameters, e.g. convlib.Adam(model.parameters(), lr=1e-3); got "
            f"{type(optimizer).__name__} {optimizer!r:.60}"
        )


def _check_same_examples(name: str, arr: np.ndarray, ref_name: str, ref: np.ndarray) -> None:
    """Examples of ``arr`` must have the shape of those of ``ref`` (e.g. x_val and x_train)."""
    if arr.shape[1:] != ref.shape[1:]:
        raise ValueError(
            f"{name} has shape {arr.shape}, examples of shape {arr.shape[1:]}, but {ref_name} "
            f"(shape {ref.shape}) has examples of shape {ref.shape[1:]}: they must match"
        )


def _check_label_vector(name: str, y: np.ndarray) -> None:
    """The default loss takes one class label per example: ``y`` must be 1-D."""
    if y.ndim != 1:
        hint = f"; one-hot rows? pass {name}.argmax(axis=1)" if y.ndim == 2 else ""
        raise ValueError(
            f"{name} must be a vector of integer class labels, shape ({len(y)},), for the default "
            f"loss softmax_cross_entropy, got shape {y.shape}{hint}"
        )


#: Inputs whose largest magnitude exceeds this were clearly never standardised
#: (prepared images lie within a few units of 0; raw pixels reach 255).
RAW_INPUT_LIMIT = 50.0


def _check_finite(name: str, arr: np.ndarray) -> None:
    """Raise :class:`NonFiniteError` naming ``arr`` and its first NaN or infinity."""
    first = first_non_finite(arr)
    if first is None:
        return
    bad = ~np.isfinite(arr)
    count = int(np.count_nonzero(bad))
    examples = int(np.count_nonzero(bad.reshape(len(arr), -1).any(axis=1))) if arr.ndim else 1
    index = ", ".join(map(str, first))
    raise NonFiniteError(
        f"{name} holds {count} NaN or infinite value{'s' if count != 1 else ''} in "
        f"{examples} example{'s' if examples != 1 else ''}; the first is {name}[{index}] = "
        f"{arr[first]}. Training on it would spoil the weights (and BatchNorm's running "
        f"statistics): repair or drop those examples first, e.g. "
        f"keep = np.isfinite({name}).reshape(len({name}), -1).all(axis=1)"
    )


def _check_prepared(name: str, x: np.ndarray) -> None:
    """Warn (:class:`InputWarning`) when ``x`` looks like raw, unprepared pixels."""
    if x.size == 0 or x.dtype.kind == "b":
        return
    lo, hi = x.min(), x.max()
    if x.dtype.kind in "ui" and x.ndim >= 3 and hi > 1:
        what = f"integers of dtype {x.dtype} in [{lo}, {hi}]"
    elif max(abs(float(lo)), abs(float(hi))) > RAW_INPUT_LIMIT:
        what = f"values in [{float(lo):g}, {float(hi):g}] (dtype {x.dtype})"
    else:
        return
    warnings.warn(
        f"{name} holds {what}: it looks like raw pixel values that were never prepared. "
        f"Networks train on standardised floats (roughly mean 0, standard deviation 1); "
        f"call convlib.datasets.prepare_images({name}) first (it scales 0..255 to [0, 1] "
        f"and standardises)",
        InputWarning,
        stacklevel=3,
    )


def _num_classes(model: Any, x: np.ndarray) -> int | None:
    """The size ``K`` of the model's output vector for inputs like ``x``, if the model can tell."""
    output_shape = getattr(model, "output_shape", None)
    if not callable(output_shape):
        return None
    try:
        shape = tuple(output_shape(tuple(x.shape[1:])))
    except Exception:  # noqa: BLE001 -- a model that cannot tell: its own forward will complain
        return None
    return shape[0] if len(shape) == 1 else None


def _check_labels(name: str, y: np.ndarray, num_classes: int) -> None:
    """Integer class labels in ``[0, num_classes)``, all checked before the first step."""
    if y.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold integer class labels in [0, {num_classes}) for this model "
            f"(its output has {num_classes} classes), got dtype {y.dtype}: convert with "
            f"{name}.astype(int) if the values are whole numbers"
        )
    bad = np.flatnonzero((y < 0) | (y >= num_classes))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name}[{i}] = {y[i]} is not a class label of this model: its output has "
            f"{num_classes} classes, so labels must be in [0, {num_classes}) "
            f"({bad.size} of {len(y)} labels are outside)"
        )


def _check_optimizer_owns(model: Any, optimizer: Any) -> None:
    """Refuse an optimizer whose arrays are not the model's (another model, replaced arrays)."""
    params = getattr(model, "parameters", None)
    opt_params = getattr(optimizer, "params", None)
    if not callable(params) or not isinstance(opt_params, list):
        return
    grad_of = {id(p[1]): id(p[2]) for p in params()}
    foreign = [
        str(item[0])
        for item in opt_params
        if len(item) == 3 and grad_of.get(id(item[1]), -1) != id(item[2])
    ]
    if foreign:
        raise ValueError(
            f"the optimizer does not update this model: {len(foreign)} of its "
            f"{len(opt_params)} parameter arrays (first {foreign[0]!r}) are not the "
            f"arrays of the model's layers, so training would change nothing the model "
            f"uses. It was built on another model's parameters (or on arrays since "
            f"replaced, e.g. by building the model again): build it with "
            f"{type(optimizer).__name__}(model.parameters(), ...)"
        )


def _layers_and_input_shapes(model: Any, shape: tuple[int, ...]) -> list[tuple[str, Any, tuple]]:
    """``(label, layer, input shape)`` of every layer of a Sequential or Graph, or [] if unknown."""
    summary = getattr(model, "summary", None)
    if not callable(summary):
        return []
    try:
        result = summary(shape)
    except Exception:  # noqa: BLE001 -- no summary, no check: the forward pass reports
        return []
    names = getattr(result, "names", None)
    in_shapes = getattr(result, "input_shapes", None)
    if isinstance(names, list) and isinstance(in_shapes, list):  # a Graph
        return [
            (f"node {name!r}", model[name], ins[0])
            for name, ins in zip(names, in_shapes)
            if len(ins) == 1
        ]
    layers = getattr(model, "layers", None)
    if not isinstance(layers, list):
        return []
    shapes = [shape] + [row[1] for row in result.rows]
    return [(f"layer {i}", layer, shapes[i]) for i, layer in enumerate(layers)]


def _check_last_batch(model: Any, x: np.ndarray, n: int, batch_size: int) -> None:
    """Refuse a last batch that would give a BatchNorm layer one value per feature."""
    last = n % batch_size
    if last == 0:
        return
    from .layers import BatchNorm

    for label, layer, shape in _layers_and_input_shapes(model, tuple(x.shape[1:])):
        values = last * math.prod(shape[:-1])
        if isinstance(layer, BatchNorm) and values < 2:
            raise ValueError(
                f"the last batch of every epoch would hold {last} example (N = {n}, "
                f"batch_size = {batch_size}), and {label} ({layer.name}, input shape "
                f"{shape} per example) cannot compute a batch variance from one value "
                f"per feature: pass drop_last=True to fit to skip that batch, or choose a "
                f"batch_size that does not leave one example over"
            )


def _describe_bad_loss(
    value: float, epoch: int, step: int, xb: np.ndarray, model: Any, optimizer: Any, augmented: bool
) -> str:
    """Why the loss became ``value``: the batch's inputs, the parameters, or divergence."""
    where = f"the loss became {value} at epoch {epoch}, step {step}"
    first = first_non_finite(xb)
    if first is not None:
        origin = "after augment" if augmented else "as gathered from x_train"
        return (
            f"{where}: the batch's inputs ({origin}) hold NaN or inf, the first at "
            f"x_batch[{', '.join(map(str, first))}] = {xb[first]}; the data, not the "
            f"learning rate, is at fault"
        )
    params = getattr(model, "parameters", None)
    for p in params() if callable(params) else ():
        if first_non_finite(p[1]) is not None:
            return (
                f"{where}: the batch's inputs are finite but the model's parameter "
                f"{p[0]!r} already holds NaN or inf (set before training, or loaded)"
            )
    lr = getattr(optimizer, "lr", None)
    rate = f" ({lr:g})" if isinstance(lr, float) else ""
    return (
        f"{where}: the batch's inputs and the model's parameters were finite, so the "
        f"training diverged: the learning rate{rate} is probably too large"
    )


def _progress_bar_type() -> type:
    """tqdm's notebook bar inside a Jupyter kernel that has ipywidgets, else the text bar.

    Outside a kernel nothing is tried, so a script never imports IPython.
    """
    if "ipykernel" in sys.modules:
        try:
            import ipywidgets  # noqa: F401
            from tqdm.auto import tqdm

            return tqdm
        except ImportError:
            pass
    from tqdm.std import tqdm

    return tqdm


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
    drop_last: bool = False,
) -> History:
    """Train ``model`` with minibatch gradient descent.

    Each epoch visits the training examples once, in an order drawn from
    ``numpy.random.default_rng(seed)``; each minibatch runs forward, loss,
    backward and ``optimizer.step()`` in training mode. The last batch of an
    epoch may be smaller (``drop_last=True`` skips it). Two calls with the
    same seed, model initialisation and data give identical histories.

    Before the first step the inputs are checked, so that a mistake cannot
    train silently or fail after many steps: non-finite values in
    ``x_train``/``x_val`` (named with their first index), validation data
    whose examples differ in shape from the training data's, labels that are
    not a vector of integers in ``[0, K)`` when the model tells its output
    size ``K`` (the first bad one named), an optimizer built on other arrays than the
    model's, and a last batch that would hold one example for a BatchNorm
    that sees one value per feature (e.g. after a Dense layer). Raw pixels
    (integer images above 1, or values beyond +-50) give an
    :class:`~convlib.errors.InputWarning` suggesting
    :func:`~convlib.datasets.prepare_images`.

    Parameters
    ----------
    model : Sequential or Graph
        Anything with ``forward``, ``backward``, ``train`` and ``eval``.
    x_train : array_like, shape (N, ...)
        Inputs (already preprocessed; see :func:`convlib.datasets.prepare_images`).
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
        :func:`convlib.datasets.random_shift`; ``rng`` is a generator seeded from ``seed``.
    callback : callable, optional
        ``callback(epoch, history)`` after each epoch (``epoch`` counts from
        1; ``history`` already holds that epoch), e.g. to print or plot.
    drop_last : bool
        Skip each epoch's last batch when it is smaller than ``batch_size``
        (its examples take part in other epochs, in other batches).

    Returns
    -------
    History

    Raises
    ------
    NonFiniteError
        A ``ValueError``: NaN or infinity in ``x_train``, ``y_train``,
        ``x_val`` or ``y_val`` (before training), or a loss that becomes NaN
        or infinite (the message gives the epoch and step, and whether the
        batch's inputs or the parameters were at fault).
    NonFiniteGradientError
        A gradient became NaN or infinite; the step was refused (nothing
        changed) and the message gives the epoch, step and parameter.
    ValueError
        On mismatched lengths, non-positive ``epochs``/``batch_size``/
        ``eval_batch_size``, ``x_val``/``y_val`` whose examples differ in
        shape from ``x_train``/``y_train``'s, labels that are not a vector
        (for the default loss) or out of range, an optimizer that does not
        hold the model's arrays, or a last batch of one example before a
        BatchNorm layer.
    TypeError
        A ``model`` without ``forward``/``backward``/``train``/``eval``, an
        ``optimizer`` without ``step()``, non-integer labels for a
        classifier, non-callable ``loss``, ``callback`` or ``augment``,
        ``progress`` or ``drop_last`` that is not a bool.

    Warns
    -----
    InputWarning
        When ``x_train`` or ``x_val`` look like raw pixels.
    """
    _check_model(model, ("forward", "backward", "train", "eval"))
    _check_optimizer(optimizer)
    x_train, y_train = _check_data("x_train", x_train, "y_train", y_train)
    if (x_val is None) != (y_val is None):
        raise ValueError("give both x_val and y_val, or neither")
    if x_val is not None:
        x_val, y_val = _check_data("x_val", x_val, "y_val", y_val)
        _check_same_examples("x_val", x_val, "x_train", x_train)
    epochs = as_int("epochs", epochs, 1)
    batch_size = as_int("batch_size", batch_size, 1)
    eval_batch_size = as_int("eval_batch_size", eval_batch_size, 1)
    seed = as_int("seed", seed, 0)
    progress = as_bool("progress", progress)
    if not callable(loss):
        raise TypeError(
            f"loss must be callable(outputs, targets) -> (loss, doutputs), got {loss!r}"
        )
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable(epoch, history), got {callback!r}")
    if augment is not None and not callable(augment):
        raise TypeError(f"augment must be callable(x_batch, rng) -> x_batch, got {augment!r}")
    drop_last = as_bool("drop_last", drop_last)
    n = len(x_train)
    batch_size = min(batch_size, n)
    # Everything that can be known before the first step is checked now.
    data = [("x_train", x_train), ("y_train", y_train)]
    if x_val is not None:
        data += [("x_val", x_val), ("y_val", y_val)]
    for name, arr in data:
        _check_finite(name, arr)
    if loss is softmax_cross_entropy:
        for name, arr in data[1::2]:
            _check_label_vector(name, arr)
    elif y_val is not None:
        _check_same_examples("y_val", y_val, "y_train", y_train)
    num_classes = _num_classes(model, x_train) if loss is softmax_cross_entropy else None
    if num_classes is not None:
        for name, arr in data[1::2]:
            _check_labels(name, arr, num_classes)
    for name, arr in data[0::2]:
        _check_prepared(name, arr)
    _check_optimizer_owns(model, optimizer)
    if not drop_last:
        _check_last_batch(model, x_train, n, batch_size)
    tqdm = _progress_bar_type()
    rng = np.random.default_rng(seed)
    aug_rng = np.random.default_rng([seed, 1])
    steps = n // batch_size if drop_last else math.ceil(n / batch_size)
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
            try:
                value, dout = loss(out, yb)
                value = float(value)
            except NonFiniteError:  # the loss refused non-finite logits: say why below
                value = nan
            if not math.isfinite(value):
                bar.close()
                raise NonFiniteError(
                    _describe_bad_loss(
                        value, epoch + 1, step + 1, xb, model, optimizer, augment is not None
                    )
                )
            model.backward(dout)
            try:
                optimizer.step()
            except NonFiniteGradientError as exc:
                bar.close()
                raise NonFiniteGradientError(
                    f"at epoch {epoch + 1}, step {step + 1} (loss {value:g}): {exc}", exc.name
                ) from None
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


def _batched_outputs(
    model: Any, x: np.ndarray, batch_size: int
) -> Iterator[tuple[int, np.ndarray]]:
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
    model : Sequential or Graph
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
    _check_model(model, ("forward", "train", "eval"))
    x, y = _check_data("x", x, "y", y)
    batch_size = as_int("batch_size", batch_size, 1)
    if not callable(loss):
        raise TypeError(
            f"loss must be callable(outputs, targets) -> (loss, doutputs), got {loss!r}"
        )
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
    model : Sequential or Graph
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
    _check_model(model, ("forward", "train", "eval"))
    x = as_numeric_array("x", x)
    if x.ndim < 1 or len(x) == 0:
        raise ValueError(f"x must hold at least one example, got shape {x.shape}")
    batch_size = as_int("batch_size", batch_size, 1)
    probabilities = as_bool("probabilities", probabilities)
    parts = [out.copy() for _, out in _batched_outputs(model, x, batch_size)]
    logits = np.concatenate(parts, axis=0)
    return softmax(logits) if probabilities else logits
