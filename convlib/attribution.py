"""What the gradient with respect to the input shows: saliency, receptive fields, FGSM.

Every backward pass of the book ends with ``dx``, the gradient with respect
to the layer's input; for the first layer that is the gradient with respect
to the *image*. This module turns it into the tools of chapter 19:

- :func:`score_gradient`: the gradient of one class score (a logit) with
  respect to each input image, a *saliency map* (Simonyan et al. 2014)
  once its magnitude is taken;
- :func:`smoothgrad`: that gradient averaged over noisy copies of the
  input (SmoothGrad, Smilkov et al. 2017), seeded;
- :func:`unit_gradient`: the gradient of one unit of an intermediate layer
  with respect to the input, whose average magnitude over many inputs is
  the unit's *effective receptive field* (Luo et al. 2016), and
  :func:`unit_receptive_field`, its theoretical receptive field, the input
  pixels the unit can see at all;
- :func:`fgsm`: the fast gradient sign method (Goodfellow et al. 2015), a
  step of ``eps * sign(dL/dx)`` clipped to the valid pixel range
  (:func:`prepared_pixel_range`).

Each function runs the model in evaluation mode (batch norm with its
running statistics, no dropout), so every example's gradient depends on
that example alone, and restores the model's mode afterwards. The backward
passes overwrite the model's parameter gradients (``layer.grads``); an
optimizer step in between would apply them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ._checks import (
    as_int,
    as_numeric_array,
    as_real,
    as_rng,
    as_shape,
    check_instance,
    check_methods,
    float_dtype,
)
from .arithmetic import resolve_padding
from .datasets.preprocessing import MNIST_MEAN, MNIST_STD
from .layers import (
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dropout,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Tanh,
)
from .losses import softmax_cross_entropy
from .model import Sequential
from .windows import receptive_field

__all__ = [
    "fgsm",
    "prepared_pixel_range",
    "score_gradient",
    "smoothgrad",
    "unit_gradient",
    "unit_receptive_field",
]

_MODEL = "a convlib.Sequential"


@contextmanager
def _evaluation(model: Any) -> Iterator[None]:
    """Run ``model`` in evaluation mode, if it has one, and restore its mode."""
    if not (callable(getattr(model, "eval", None)) and callable(getattr(model, "train", None))):
        yield
        return
    was_training = bool(getattr(model, "training", True))
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _as_batch(x: Any) -> np.ndarray:
    """``x`` as a non-empty floating-point batch (at least 2-D)."""
    x = as_numeric_array("x", x)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(
            f"x must be a non-empty batch of examples, shape (N, ...) such as (N, 28, 28, 1), "
            f"got shape {x.shape}"
        )
    return x.astype(float_dtype(x), copy=False)


def _as_classes(classes: Any, n: int, k: int) -> np.ndarray:
    """One class index per example: an int for all, or a vector of ``n`` ints in [0, k)."""
    if isinstance(classes, (int, np.integer)) and not isinstance(classes, (bool, np.bool_)):
        classes = np.full(n, int(classes))
    arr = as_numeric_array("classes", classes)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"classes must be integer class indices, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(
            f"classes must be an int or one class per example, shape ({n},), got shape {arr.shape}"
        )
    if arr.size and (arr.min() < 0 or arr.max() >= k):
        raise ValueError(
            f"classes must lie in [0, {k}) for a model with {k} outputs, "
            f"got values from {arr.min()} to {arr.max()}"
        )
    return arr.astype(np.intp)


def _logits(model: Any, x: np.ndarray) -> np.ndarray:
    out = np.asarray(model.forward(x))
    if out.ndim != 2 or len(out) != len(x):
        raise ValueError(
            f"model must map a batch x of shape {x.shape} to scores of shape ({len(x)}, K), "
            f"got shape {out.shape}"
        )
    return out


def score_gradient(model: Any, x: Any, classes: Any) -> np.ndarray:
    """Gradient of one class score (logit) of each example with respect to that example.

    ``dx[n] = d z[n, classes[n]] / d x[n]``, with ``z = model.forward(x)``
    the logits. One forward and one backward pass in evaluation mode, with
    the upstream gradient ``dy`` one-hot at each example's class; since in
    evaluation mode no example depends on another, row ``n`` of the result
    is the gradient of example ``n``'s score alone. Its magnitude
    ``abs(dx)`` is the saliency map of Simonyan et al. (2014).

    Parameters
    ----------
    model : Sequential or any object with ``forward`` and ``backward``
        ``forward(x)`` returns the logits, shape ``(N, K)``; ``backward(dy)``
        returns the gradient with respect to ``x``. A model with
        ``eval``/``train`` methods runs in evaluation mode and gets its mode
        back afterwards.
    x : array_like, shape (N, ...)
        A batch, e.g. prepared images ``(N, 28, 28, 1)``.
    classes : int or array_like of int, shape (N,)
        The class whose score is differentiated, per example (an int: the
        same class for all), in ``[0, K)``.

    Returns
    -------
    ndarray, shape of ``x``
        In the model's floating-point dtype.

    Raises
    ------
    TypeError
        If ``model`` lacks ``forward``/``backward``, ``x`` is not numeric or
        ``classes`` is not integer.
    ValueError
        If ``x`` is not a batch, the model's output is not ``(N, K)`` or a
        class is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from convlib.layers import Dense
    >>> net = Sequential([Dense(3, 2, rng=0, dtype=np.float64)])
    >>> dx = score_gradient(net, np.ones((4, 3)), 1)
    >>> bool(np.allclose(dx, net[0].params["w"][:, 1]))  # a linear score: the weights
    True
    """
    check_methods("model", model, ("forward", "backward"), _MODEL)
    x = _as_batch(x)
    with _evaluation(model):
        z = _logits(model, x)
        classes = _as_classes(classes, len(x), z.shape[1])
        dout = np.zeros_like(z)
        dout[np.arange(len(x)), classes] = 1
        return np.asarray(model.backward(dout))


def smoothgrad(
    model: Any,
    x: Any,
    classes: Any,
    samples: int = 25,
    noise: float = 0.15,
    rng: Any = 0,
) -> np.ndarray:
    """:func:`score_gradient` averaged over noisy copies of each input (SmoothGrad).

    ``(1/M) sum_m score_gradient(model, x + noise_m, classes)`` with
    ``M = samples`` and Gaussian ``noise_m`` whose standard deviation is
    ``noise`` times the range ``x[n].max() - x[n].min()`` of each example
    (Smilkov et al. 2017 recommend 10 to 20 percent). The average smooths
    the gradient's pixel-to-pixel flicker, which comes from the kinks of
    ReLU and max pooling, not from the digit.

    Parameters
    ----------
    model : Sequential or any object with ``forward`` and ``backward``
        As in :func:`score_gradient`.
    x : array_like, shape (N, ...)
    classes : int or array_like of int, shape (N,)
        Kept fixed for every noisy copy (usually the label or the class
        predicted for the clean ``x``).
    samples : int
        Number of noisy copies ``M``, >= 1.
    noise : float
        Noise level as a fraction of each example's range, >= 0 (0: the
        plain gradient, ``samples`` times).
    rng : numpy.random.Generator or int
        Seed or generator of the noise: the same seed, the same map.

    Returns
    -------
    ndarray, shape of ``x``
        The mean signed gradient; take ``abs`` for a map.

    Raises
    ------
    TypeError, ValueError
        As :func:`score_gradient`, and for a bad ``samples``, ``noise`` or ``rng``.
    """
    check_methods("model", model, ("forward", "backward"), _MODEL)
    x = _as_batch(x)
    samples = as_int("samples", samples, 1)
    noise = as_real("noise", noise, low=0)
    gen = as_rng("rng", rng)
    flat = x.reshape(len(x), -1)
    scale = noise * (flat.max(axis=1) - flat.min(axis=1))
    scale = scale.reshape((len(x),) + (1,) * (x.ndim - 1))
    total = np.zeros(x.shape)
    for _ in range(samples):
        noisy = x + (scale * gen.standard_normal(x.shape)).astype(x.dtype)
        g = score_gradient(model, noisy, classes)
        total += g
    return (total / samples).astype(g.dtype, copy=False)


def _layer_index(model: Sequential, layer: Any) -> int:
    """``layer`` as an index into ``model.layers``, negative ones counted from the end."""
    n = len(model)
    index = as_int("layer", layer, -n)
    if index >= n:
        raise ValueError(f"layer must be in [{-n}, {n}) for a model of {n} layers, got {index}")
    return index % n


def unit_gradient(model: Sequential, x: Any, layer: int, unit: Any) -> np.ndarray:
    """Gradient of one unit of layer ``layer``'s output with respect to the input.

    ``dx[n] = d y[n, *unit] / d x[n]``, with ``y`` the output of
    ``model[layer]`` (the layers after it play no part). For a convolution
    layer, ``unit = (i, j, f)`` is the output pixel ``(i, j)`` of filter
    ``f``; ``abs(dx)`` averaged over many inputs is its *effective*
    receptive field (Luo et al. 2016), which lies inside the theoretical
    one of :func:`unit_receptive_field`. Evaluation mode, as in
    :func:`score_gradient`.

    Parameters
    ----------
    model : Sequential
    x : array_like, shape (N, H, W, C)
        Or any shape the model takes.
    layer : int
        Index into ``model.layers`` (negative counts from the end).
    unit : tuple of int
        Index of one unit of ONE example's output of that layer, e.g.
        ``(i, j, f)`` for an ``(N, OH, OW, F)`` output.

    Returns
    -------
    ndarray, shape of ``x``

    Raises
    ------
    TypeError
        If ``model`` is not a Sequential, or ``layer``/``unit`` are not integers.
    ValueError
        If ``layer`` or ``unit`` is out of range, or ``unit`` has the wrong length.
    """
    check_instance("model", model, Sequential, "(unit_gradient walks its layers)")
    x = _as_batch(x)
    index = _layer_index(model, layer)
    if isinstance(unit, (int, np.integer)):
        unit = (unit,)
    if not isinstance(unit, (tuple, list)):
        raise TypeError(f"unit must be a tuple of ints such as (i, j, f), got {unit!r}")
    unit = tuple(as_int(f"unit[{k}]", u, 0) for k, u in enumerate(unit))
    stack = model.layers[: index + 1]
    with _evaluation(model):
        out = x
        for lay in stack:
            out = lay.forward(out)
        shape = out.shape[1:]
        if len(unit) != len(shape) or any(u >= s for u, s in zip(unit, shape)):
            raise ValueError(
                f"unit must index one example's output of layer {index} ({stack[-1]!r}), "
                f"shape {shape}, got {unit}"
            )
        dout = np.zeros_like(out)
        where = (slice(None), *unit)  # every example, one unit
        dout[where] = 1
        for lay in reversed(stack):
            dout = lay.backward(dout)
    return np.asarray(dout)


#: Layers that map each pixel to itself (in evaluation mode): a unit's
#: receptive field passes through them unchanged.
_PIXELWISE = (ReLU, LeakyReLU, Sigmoid, Tanh, BatchNorm, Dropout)


def unit_receptive_field(
    model: Sequential, layer: int, i: int, j: int, input_shape: Any
) -> tuple[slice, slice]:
    """Rows and columns of the input that output pixel ``(i, j)`` of ``model[layer]`` can see.

    The theoretical receptive field of a stack: walking back from
    ``model[layer]`` to the input, each convolution and pooling layer widens
    the window to the union of its units' windows
    (:func:`convlib.windows.receptive_field` per layer, minus its top/left
    padding), and pixel-wise layers (ReLU, batch norm, dropout, ...) leave
    it unchanged. The result is clipped to the image: padding is not
    input.

    Parameters
    ----------
    model : Sequential
    layer : int
        Index into ``model.layers`` (negative counts from the end); it and
        every layer before it must be a Conv2D, MaxPool2D, AvgPool2D or a
        pixel-wise layer.
    i, j : int
        An output pixel of ``model[layer]``.
    input_shape : tuple of int
        One example's shape ``(H, W, C)``, without the batch axis.

    Returns
    -------
    (slice, slice)
        ``x[n, rows, cols, :]`` is everything the unit depends on.

    Raises
    ------
    TypeError
        If ``model`` is not a Sequential or an argument is not an int.
    ValueError
        If a layer on the way mixes all pixels (Flatten, Dense) or ``(i, j)``
        lies outside the layer's output.

    Examples
    --------
    >>> from convlib.model import build_lenet
    >>> unit_receptive_field(build_lenet(), 3, 0, 0, (28, 28, 1))  # conv, pool, conv: 8 x 8
    (slice(0, 8, None), slice(0, 8, None))
    """
    check_instance("model", model, Sequential, "(unit_receptive_field walks its layers)")
    index = _layer_index(model, layer)
    i, j = as_int("i", i, 0), as_int("j", j, 0)
    for k, lay in enumerate(model.layers[: index + 1]):
        if not isinstance(lay, (*_PIXELWISE, Conv2D, MaxPool2D, AvgPool2D)):
            raise ValueError(
                f"unit_receptive_field follows convolution, pooling and pixel-wise layers only; "
                f"layer {k} ({lay!r}) connects every pixel to every output"
            )
    shapes = [as_shape("input_shape", input_shape)]
    for lay in model.layers[:index]:
        shapes.append(lay.output_shape(shapes[-1]))
    out_shape = model.layers[index].output_shape(shapes[-1])
    if len(out_shape) != 3 or i >= out_shape[0] or j >= out_shape[1]:
        raise ValueError(
            f"(i, j) must be an output pixel of layer {index}, output shape {out_shape}, "
            f"got ({i}, {j})"
        )
    rows, cols = (i, i), (j, j)  # first and last index, inclusive
    for lay, shape in zip(reversed(model.layers[: index + 1]), reversed(shapes)):
        if isinstance(lay, _PIXELWISE):
            continue
        if isinstance(lay, Conv2D):
            kernel, stride, dilation = lay.kernel_size, lay.stride, lay.dilation
        elif isinstance(lay, (MaxPool2D, AvgPool2D)):
            kernel, stride, dilation = lay.pool_size, lay.stride, (1, 1)
        else:  # pragma: no cover - refused above
            raise AssertionError(lay)
        hw = (shape[0], shape[1])
        padding = lay.padding
        (top, _), (left, _) = resolve_padding(padding, hw, kernel, stride, dilation)
        first = receptive_field(rows[0], cols[0], kernel, stride, dilation)
        last = receptive_field(rows[1], cols[1], kernel, stride, dilation)
        rows = (first[0].start - top, last[0].stop - 1 - top)
        cols = (first[1].start - left, last[1].stop - 1 - left)
    h, w = shapes[0][0], shapes[0][1]
    return slice(max(rows[0], 0), min(rows[1], h - 1) + 1), slice(
        max(cols[0], 0), min(cols[1], w - 1) + 1
    )


def prepared_pixel_range(mean: float = MNIST_MEAN, std: float = MNIST_STD) -> tuple[float, float]:
    """The values a black (0) and a white (1) pixel take after preparation.

    :func:`convlib.datasets.prepare_images` maps a grey level ``g`` in
    ``[0, 1]`` to ``(g - mean) / std``; an image outside
    ``[(0 - mean) / std, (1 - mean) / std]`` is not an image. Pass the
    result as ``clip`` to :func:`fgsm`.

    Parameters
    ----------
    mean, std : float
        Those of the preparation (``std > 0``); default MNIST's.

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> low, high = prepared_pixel_range()
    >>> round(low, 4), round(high, 4)
    (-0.4242, 2.8215)
    """
    mean = as_real("mean", mean)
    std = as_real("std", std, low=0, low_open=True)
    return (0.0 - mean) / std, (1.0 - mean) / std


def fgsm(model: Any, x: Any, labels: Any, eps: float, clip: Any = None) -> np.ndarray:
    """The fast gradient sign method: ``x + eps * sign(dL/dx)``, clipped to ``clip``.

    ``L`` is the softmax cross-entropy of each example with its label
    (:func:`convlib.softmax_cross_entropy`); each pixel moves by exactly
    ``eps`` in the direction that increases that example's loss, the step
    of Goodfellow et al. (2015) that is largest in the max norm. Pixels with
    a zero gradient do not move. With ``clip = (low, high)`` the result is
    then clipped to the valid range (:func:`prepared_pixel_range` for
    prepared MNIST images), so a pixel may move less than ``eps``.
    Evaluation mode, as in :func:`score_gradient`.

    Parameters
    ----------
    model : Sequential or any object with ``forward`` and ``backward``
        Returning logits ``(N, K)``.
    x : array_like, shape (N, ...)
        The clean batch.
    labels : array_like of int, shape (N,)
        The true classes.
    eps : float
        The step, >= 0, in the units of ``x`` (for prepared images, a step of
        ``e`` grey levels out of 1 is ``e / std``).
    clip : (float, float) or None
        Lowest and highest valid value; None: no clipping.

    Returns
    -------
    ndarray, shape of ``x``
        The adversarial batch, in ``x``'s floating-point dtype.

    Raises
    ------
    TypeError, ValueError
        As :func:`score_gradient`; for a negative ``eps``, a ``clip`` that
        is not two numbers ``low < high``, or labels the loss refuses.

    Examples
    --------
    >>> import numpy as np
    >>> from convlib.layers import Dense
    >>> net = Sequential([Dense(2, 2, rng=0, dtype=np.float64)])
    >>> x = np.zeros((1, 2))
    >>> step = fgsm(net, x, [0], 0.25) - x
    >>> sorted(set(np.abs(step).ravel().tolist()))
    [0.25]
    """
    check_methods("model", model, ("forward", "backward"), _MODEL)
    x = _as_batch(x)
    eps = as_real("eps", eps, low=0)
    low = high = None
    if clip is not None:
        if isinstance(clip, (str, bytes)) or np.ndim(clip) != 1 or len(clip) != 2:
            raise TypeError(f"clip must be None or a pair (low, high) of numbers, got {clip!r}")
        low, high = as_real("clip[0]", clip[0]), as_real("clip[1]", clip[1])
        if not low < high:
            raise ValueError(f"clip must be (low, high) with low < high, got ({low:g}, {high:g})")
    with _evaluation(model):
        z = _logits(model, x)
        _, dz = softmax_cross_entropy(z, labels)
        # the loss is a mean over the batch: times N, each example's own gradient
        dx = np.asarray(model.backward(dz * len(x)))
    x_adv = x + x.dtype.type(eps) * np.sign(dx).astype(x.dtype)
    if clip is not None:
        np.clip(x_adv, low, high, out=x_adv)
    return x_adv
