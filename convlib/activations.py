"""Element-wise activation functions, forward and backward.

Each activation ``y = f(x)`` acts on every element separately, so its
backward pass is an element-wise product: ``dx = dout * f'(x)``. The arrays
may have any shape -- ``(N, D)`` after a dense layer, ``(N, H, W, C)`` after
a convolution.

Derivatives at the kinks, where ``f`` has none, follow the frameworks:

* ReLU: ``f'(0) = 0`` (the gradient flows only where ``x > 0``);
* leaky ReLU: ``f'(0) = alpha`` (the negative side's slope).

The caches keep what the derivative needs and nothing more: a boolean mask
for ReLU, the slope for leaky ReLU, the output for sigmoid and tanh (``s' = s (1 - s)`` and
``tanh' = 1 - tanh**2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import (
    as_numeric_array,
    as_numeric_or_complex_array,
    as_real,
    check_cache_kind,
    check_dout,
    float_dtype,
)

__all__ = [
    "ActivationCache",
    "relu_forward",
    "relu_backward",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
]


@dataclass(frozen=True)
class ActivationCache:
    """What an activation's forward pass keeps for its backward pass.

    Attributes
    ----------
    kind : {"relu", "leaky_relu", "sigmoid", "tanh"}
        Which activation produced the cache.
    saved : ndarray, shape of x
        ReLU: the boolean mask ``x > 0``; leaky ReLU: the slope (1 where
        ``x > 0``, ``alpha`` elsewhere); sigmoid and tanh: the output.
    dtype : numpy.dtype
        Floating-point dtype of the forward computation.
    alpha : float
        Leaky ReLU's negative slope (0 for the others).
    """

    kind: str
    saved: np.ndarray
    dtype: np.dtype
    alpha: float = 0.0


def _as_float(x: Any, complex_step: bool = False) -> np.ndarray:
    """``x`` as a floating-point array (integers and booleans become float64).

    ``complex_step``: the activation is complex-analytic (``maximum`` and ``>``
    order complex numbers by real part), so complex ``x`` passes inside
    :func:`convlib.complex_step_gradient`.
    """
    check = as_numeric_or_complex_array if complex_step else as_numeric_array
    x = check("x", x)
    return x.astype(float_dtype(x), copy=False)


# The forward function behind each kind of ActivationCache, for messages.
_FORWARDS = {kind: f"{kind}_forward" for kind in ("relu", "leaky_relu", "sigmoid", "tanh")}


def _check_backward(dout: Any, cache: Any, kind: str) -> np.ndarray:
    """The shared checks of a backward's arguments; returns ``dout`` as floats."""
    check_cache_kind(cache, ActivationCache, "kind", kind, _FORWARDS)
    return check_dout(dout, cache.saved.shape, cache.dtype)


def _check_alpha(alpha: Any) -> float:
    """Leaky ReLU's slope: any finite real (also used by the LeakyReLU layer)."""
    return as_real("alpha", alpha)


# --------------------------------------------------------------------------
# ReLU and leaky ReLU
# --------------------------------------------------------------------------


def relu_forward(x: Any) -> tuple[np.ndarray, ActivationCache]:
    """Rectified linear unit, ``max(x, 0)`` element-wise.

    Parameters
    ----------
    x : array_like, any shape

    Returns
    -------
    out : ndarray, shape of x
        Floating point: float32 stays float32, integers become float64.
    cache : ActivationCache
        The mask ``x > 0``.

    Examples
    --------
    >>> import numpy as np
    >>> out, cache = relu_forward(np.array([-2.0, 0.0, 3.0]))
    >>> out
    array([0., 0., 3.])
    >>> relu_backward(np.ones(3), cache)  # the derivative at 0 is taken as 0
    array([0., 0., 1.])
    """
    x = _as_float(x, complex_step=True)
    mask = x > 0
    # Against an array of zeros: with NumPy 2.4, np.maximum(x, 0) (a scalar)
    # takes about twice as long on large arrays.
    out = np.maximum(x, np.zeros_like(x))
    return out, ActivationCache("relu", mask, x.dtype)


def relu_backward(dout: Any, cache: ActivationCache) -> np.ndarray:
    """Gradient of :func:`relu_forward`: ``dout`` where ``x > 0``, else 0.

    ReLU has no derivative at ``x = 0``; like PyTorch and TensorFlow, this
    uses 0 there.

    Parameters
    ----------
    dout : array_like, shape of x
        Gradient of the loss with respect to the ReLU's output.
    cache : ActivationCache
        From :func:`relu_forward`.

    Returns
    -------
    dx : ndarray, shape of x
    """
    dout = _check_backward(dout, cache, "relu")
    return dout * cache.saved


def leaky_relu_forward(x: Any, alpha: float = 0.01) -> tuple[np.ndarray, ActivationCache]:
    """Leaky ReLU: ``x`` where ``x > 0``, ``alpha * x`` elsewhere.

    Parameters
    ----------
    x : array_like, any shape
    alpha : float
        Slope of the negative side (usually small and positive).

    Returns
    -------
    out : ndarray, shape of x
    cache : ActivationCache
        The slope at every element (1 or ``alpha``).

    Examples
    --------
    >>> import numpy as np
    >>> out, cache = leaky_relu_forward(np.array([-2.0, 0.0, 3.0]), alpha=0.1)
    >>> out
    array([-0.2,  0. ,  3. ])
    >>> leaky_relu_backward(np.ones(3), cache)  # at 0: alpha
    array([0.1, 0.1, 1. ])
    """
    alpha = _check_alpha(alpha)
    x = _as_float(x, complex_step=True)
    # The slope, 1 where x > 0 and alpha elsewhere, built exactly (0 + 1 and
    # alpha + 0) without np.where, which is slow on a random mask.
    mask = x > 0
    slope = (~mask) * x.dtype.type(alpha)
    slope += mask
    return x * slope, ActivationCache("leaky_relu", slope, x.dtype, alpha)


def leaky_relu_backward(dout: Any, cache: ActivationCache) -> np.ndarray:
    """Gradient of :func:`leaky_relu_forward`: ``dout`` times 1 or ``alpha``.

    The derivative at ``x = 0`` is taken as ``alpha``, the slope of the
    negative side (consistent with ReLU's 0 when ``alpha = 0``).

    Parameters
    ----------
    dout : array_like, shape of x
    cache : ActivationCache
        From :func:`leaky_relu_forward`.

    Returns
    -------
    dx : ndarray, shape of x
    """
    dout = _check_backward(dout, cache, "leaky_relu")
    return dout * cache.saved


# --------------------------------------------------------------------------
# Sigmoid and tanh
# --------------------------------------------------------------------------


def sigmoid_forward(x: Any) -> tuple[np.ndarray, ActivationCache]:
    """Logistic sigmoid, ``1 / (1 + exp(-x))``, computed without overflow.

    ``exp(-x)`` overflows for ``x < -709`` in float64 (``-88`` in float32).
    Multiplying numerator and denominator by ``exp(min(x, 0))`` gives::

        sigmoid(x) = exp(min(x, 0)) / (1 + exp(-|x|))

    (``1 / (1 + exp(-x))`` for ``x >= 0``, ``exp(x) / (1 + exp(x))`` for
    ``x < 0``), where no exponent is positive: nothing overflows, and tiny
    values in the left tail keep their full relative precision.

    Parameters
    ----------
    x : array_like, any shape

    Returns
    -------
    out : ndarray, shape of x
        Values in ``[0, 1]``.
    cache : ActivationCache
        The output (the derivative is ``out * (1 - out)``).

    Examples
    --------
    >>> import numpy as np
    >>> out, _ = sigmoid_forward(np.array([-1000.0, 0.0, 1000.0]))
    >>> out
    array([0. , 0.5, 1. ])
    """
    x = _as_float(x)  # not complex-analytic: np.abs
    out = np.exp(np.minimum(x, 0))
    out /= 1 + np.exp(-np.abs(x))
    return out, ActivationCache("sigmoid", out, x.dtype)


def sigmoid_backward(dout: Any, cache: ActivationCache) -> np.ndarray:
    """Gradient of :func:`sigmoid_forward`: ``dout * s * (1 - s)``.

    Parameters
    ----------
    dout : array_like, shape of x
    cache : ActivationCache
        From :func:`sigmoid_forward`.

    Returns
    -------
    dx : ndarray, shape of x
    """
    dout = _check_backward(dout, cache, "sigmoid")
    s = cache.saved
    return dout * (s * (1 - s))


def tanh_forward(x: Any) -> tuple[np.ndarray, ActivationCache]:
    """Hyperbolic tangent, element-wise (``np.tanh`` is stable for any ``x``).

    Parameters
    ----------
    x : array_like, any shape

    Returns
    -------
    out : ndarray, shape of x
        Values in ``[-1, 1]``.
    cache : ActivationCache
        The output (the derivative is ``1 - out**2``).
    """
    x = _as_float(x, complex_step=True)
    out = np.tanh(x)
    return out, ActivationCache("tanh", out, x.dtype)


def tanh_backward(dout: Any, cache: ActivationCache) -> np.ndarray:
    """Gradient of :func:`tanh_forward`: ``dout * (1 - tanh(x)**2)``.

    Parameters
    ----------
    dout : array_like, shape of x
    cache : ActivationCache
        From :func:`tanh_forward`.

    Returns
    -------
    dx : ndarray, shape of x
    """
    dout = _check_backward(dout, cache, "tanh")
    t = cache.saved
    return dout * (1 - t * t)
