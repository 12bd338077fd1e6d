"""Checks of what a backward pass receives: its cache, the upstream gradient ``dout``, finite gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from .arrays import as_numeric_array, first_non_finite


def check_cache(cache: Any, cls: type, producer: str) -> None:
    """Raise ``TypeError`` unless ``cache`` is an instance of ``cls``.

    ``producer`` names the forward function(s) that return such a cache, for
    the message, e.g. ``"conv2d_forward"``.
    """
    if not isinstance(cache, cls):
        raise TypeError(
            f"cache must be the {cls.__name__} returned by {producer}, got {type(cache).__name__}"
        )


def check_cache_kind(
    cache: Any, cls: type, field: str, expected: Any, producers: dict[Any, str]
) -> None:
    """:func:`check_cache` for a cache type that several forward functions share.

    ``ActivationCache`` comes from ``relu_forward``, ``sigmoid_forward``, ...
    and tells them apart by its ``kind`` field; a backward must refuse a cache
    of the right type made by the wrong forward.

    Parameters
    ----------
    cache : object
        What the caller passed as ``cache``.
    cls : type
        The cache type.
    field : str
        Attribute of the cache that names its producer, e.g. ``"kind"``.
    expected : object
        Value of that attribute the calling backward needs, e.g. ``"relu"``.
    producers : dict
        Maps each value of the attribute to the forward function that sets
        it, e.g. ``{"relu": "relu_forward", "sigmoid": "sigmoid_forward"}``.

    Raises
    ------
    TypeError
        If ``cache`` is not a ``cls``, or was made by another forward; the
        message names the forward the cache should come from.
    """
    producer = producers[expected]
    check_cache(cache, cls, producer)
    got = getattr(cache, field)
    if got != expected:
        article = "an" if cls.__name__[:1] in "AEIOU" else "a"
        raise TypeError(
            f"cache must be the {cls.__name__} returned by {producer}, got {article} "
            f"{cls.__name__} from {producers.get(got, repr(got))}"
        )


def check_dout(
    dout: Any, expected_shape: tuple[int, ...], dtype: np.dtype, *, layout: str = ""
) -> np.ndarray:
    """Validate an upstream gradient and return it in the dtype backward uses.

    The one rule for every layer: ``dout`` must have the shape of the forward
    output; a floating-point ``dout`` follows NumPy promotion with the
    forward's compute ``dtype`` (a float64 gradient into a float32 layer gives
    float64 gradients), an integer or boolean one takes ``dtype``.

    Parameters
    ----------
    dout : array_like, shape ``expected_shape``
        Gradient of the loss with respect to the forward output.
    expected_shape : tuple of int
        Shape of the forward output.
    dtype : numpy dtype
        Compute dtype of the forward pass.
    layout : str
        Names of the axes, e.g. ``"(N, OH, OW, F)"``, for the message.

    Returns
    -------
    ndarray, shape ``expected_shape``
        ``dout`` itself when it already has the right dtype (no copy).
    """
    dout = as_numeric_array("dout", dout)
    expected_shape = tuple(expected_shape)
    if dout.shape != expected_shape:
        axes = f" {layout}" if layout else ""
        raise ValueError(
            f"dout has shape {dout.shape} but the forward output had shape {expected_shape}{axes}"
        )
    dtype = np.dtype(dtype)
    target = np.result_type(dout, dtype) if dout.dtype.kind == "f" else dtype
    return dout.astype(target, copy=False)


def check_finite_gradient(name: str, grad: np.ndarray) -> None:
    """Raise :class:`~convlib.errors.NonFiniteGradientError` if ``grad`` holds NaN or an infinity.

    The rule of every update rule and optimizer: a step on a non-finite
    gradient is refused before anything changes (an update would turn the
    parameters, and Adam's moments, into NaN for good).

    Parameters
    ----------
    name : str
        Argument (or parameter) name used in the message.
    grad : ndarray, any shape

    Raises
    ------
    NonFiniteGradientError
        A ``ValueError``; its message names ``name``, how many values are
        not finite and the first of them, with its index.

    Examples
    --------
    >>> check_finite_gradient("grad", np.array([0.1, 0.2]))  # finite: nothing happens
    """
    first = first_non_finite(grad)
    if first is None:
        return
    from ..errors import NonFiniteGradientError

    count = int(np.count_nonzero(~np.isfinite(grad)))
    raise NonFiniteGradientError(
        f"{name} must be finite, but it holds {count} NaN or infinite value{'s' if count != 1 else ''} "
        f"(shape {grad.shape}; the first, {name}[{', '.join(map(str, first))}], is {grad[first]}): "
        f"the update was refused and nothing changed",
        name,
    )
