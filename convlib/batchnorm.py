"""Batch normalization, forward and backward, in two tiers.

For each feature (a column of ``(N, D)`` dense activations, or a channel of
``(N, H, W, C)`` feature maps, where the statistics run over ``N``, ``H``
and ``W``) with ``m`` values ``x_i`` in the batch::

    mu    = (1/m) sum_i x_i                      mean
    xc_i  = x_i - mu                             centered
    var   = (1/m) sum_i xc_i**2                  variance (biased)
    std   = sqrt(var + eps)
    inv   = 1 / std
    xhat_i = xc_i * inv                          normalized
    out_i = gamma * xhat_i + beta                scale and shift

Training mode normalizes with the batch's statistics and updates the running
averages *in place*::

    running_mean = momentum * running_mean + (1 - momentum) * mu
    running_var  = momentum * running_var  + (1 - momentum) * var * m / (m - 1)

In the book's notation (its preface's table) ``m`` is written M, ``xc`` is
x_ctr, ``inv`` is r = 1/sigma_eps and ``std`` is sigma_eps = sqrt(var + eps);
the cache keeps the count as ``m``.

The running variance uses the *unbiased* batch variance, as PyTorch does (the
normalization itself uses the biased one, as every framework does). Note that
``momentum`` here is the weight of the *old* value, as in Keras (whose
``BatchNormalization`` default is 0.99); convlib's default 0.9 is the update
of PyTorch's default ``momentum=0.1``, which weighs the *new* value. Evaluation mode
normalizes with the running statistics and leaves them alone; the layer is
then a fixed affine map.

Two tiers share one cache type, :class:`BatchNormCache`, so the cache of
any forward pass works with every backward pass:

* **readable** -- :func:`batchnorm_forward_broadcast` writes the lines above
  with NumPy broadcasting of the ``(C,)`` vectors and ``.sum`` / ``.mean``
  over every axis but the last. Two backward passes give the same result:

  - :func:`batchnorm_backward_graph` walks the graph above node by node, in
    reverse, applying the chain rule once per node (chapter 10 of the book);
  - :func:`batchnorm_backward_compact` uses the simplified formula the walk
    collapses into, with ``dxhat = dout * gamma``::

        dx = (inv / m) * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))

* **tuned** -- :func:`batchnorm_forward` and :func:`batchnorm_backward`, the
  functions the :class:`~convlib.layers.BatchNorm` layer calls, run
  :mod:`convlib.fast.batchnorm`: the same arithmetic, with the sums and the
  broadcasting arranged to be fast when there are few features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import (
    as_bool,
    as_numeric_array,
    as_numeric_or_complex_array,
    as_real,
    check_cache,
    check_dout,
    float_dtype,
)
from .errors import NonFiniteError

__all__ = [
    "BatchNormCache",
    "batchnorm_forward_broadcast",
    "batchnorm_backward_compact",
    "batchnorm_backward_graph",
    "batchnorm_forward",
    "batchnorm_backward",
]


@dataclass(frozen=True)
class BatchNormCache:
    """The nodes of the forward graph that the backward passes need.

    Every forward pass (readable or tuned) returns one, and every backward
    pass accepts it.

    Attributes
    ----------
    xc : ndarray, shape of x
        Centered input ``x - mu`` (``mu`` the batch mean in training mode,
        the running mean in evaluation mode).
    xhat : ndarray, shape of x
        Normalized input ``xc * inv``.
    gamma : ndarray, shape (C,)
        Scale, in the compute dtype.
    std, inv : ndarray, shape (C,)
        ``sqrt(var + eps)`` and ``1 / std``.
    training : bool
        Whether batch statistics were used (then ``mu`` and ``var`` depend
        on ``x`` and the backward must differentiate through them).
    m : int
        Number of values per feature, ``N`` or ``N * H * W``.
    """

    xc: np.ndarray
    xhat: np.ndarray
    gamma: np.ndarray
    std: np.ndarray
    inv: np.ndarray
    training: bool
    m: int

    @property
    def axes(self) -> tuple[int, ...]:
        """The axes statistics run over: all but the last."""
        return tuple(range(self.xhat.ndim - 1))


def _check_stat(name: str, value: Any, c: int, writable: bool) -> np.ndarray:
    """A running statistic: a float ndarray of shape ``(C,)``."""
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array of shape ({c},) (it is updated in place), "
            f"got {type(value).__name__}"
        )
    if value.dtype.kind != "f":
        raise TypeError(
            f"{name} must be floating point to hold running averages, got dtype {value.dtype}"
        )
    if value.shape != (c,):
        raise ValueError(f"{name} must have shape ({c},), one per feature, got {value.shape}")
    if writable and not value.flags.writeable:
        raise ValueError(f"{name} must be writable: training mode updates it in place")
    return value


def _check_options(momentum: Any, eps: Any) -> tuple[float, float]:
    """The rules for ``momentum`` and ``eps``, shared with the BatchNorm layer.

    ``momentum`` in ``[0, 1]`` (1 freezes the running statistics) and ``eps``
    finite and ``>= 0`` (0 gives the textbook formula exactly; a constant
    feature then divides by zero).
    """
    momentum = as_real("momentum", momentum, low=0.0, high=1.0)
    eps = as_real("eps", eps, low=0.0)
    return momentum, eps


def _prepare(
    x: Any,
    gamma: Any,
    beta: Any,
    running_mean: Any,
    running_var: Any,
    training: Any,
    momentum: Any,
    eps: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, float, float]:
    """Validate a forward pass's arguments; cast ``x``, ``gamma``, ``beta`` to the compute dtype.

    Every forward pass uses these rules, so every tier refuses the same bad
    input with the same message. Returns ``(x, gamma, beta, training,
    momentum, eps)``, the arrays in the promoted floating-point dtype.
    """
    training = as_bool("training", training)
    # Evaluation mode is affine in x: complex-step input passes. Training is not
    # (a variance of complex numbers, complex running statistics): it refuses.
    x = (as_numeric_array if training else as_numeric_or_complex_array)("x", x)
    if x.ndim < 2:
        raise ValueError(
            f"x must be (N, D) or (N, H, W, C): at least 2-D with features last, "
            f"got shape {x.shape}"
        )
    if min(x.shape) == 0:
        raise ValueError(f"x must not have empty axes, got shape {x.shape}")
    c = x.shape[-1]
    gamma = as_numeric_array("gamma", gamma)
    beta = as_numeric_array("beta", beta)
    for name, arr in (("gamma", gamma), ("beta", beta)):
        if arr.shape != (c,):
            raise ValueError(
                f"{name} must have shape ({c},), one per feature of x {x.shape}, got {arr.shape}"
            )
    _check_stat("running_mean", running_mean, c, training)
    _check_stat("running_var", running_var, c, training)
    momentum, eps = _check_options(momentum, eps)
    m = x.size // c
    if training and m < 2:
        raise ValueError(
            f"training needs more than one value per feature to estimate a variance, "
            f"got x of shape {x.shape} ({m} per feature)"
        )
    dtype = float_dtype(x, gamma, beta)
    return (
        x.astype(dtype, copy=False),
        gamma.astype(dtype, copy=False),
        beta.astype(dtype, copy=False),
        training,
        momentum,
        eps,
    )


def _update_running_stats(
    running_mean: np.ndarray,
    running_var: np.ndarray,
    mu: np.ndarray,
    var: np.ndarray,
    m: int,
    momentum: float,
) -> None:
    """The running averages of training mode, updated in place (module docstring).

    ``mu`` and ``var``, shape ``(C,)``, are the batch mean and the *biased*
    batch variance over ``m`` values per feature; the running variance
    averages the unbiased one, ``var * m / (m - 1)``.

    Raises
    ------
    NonFiniteError
        If a batch statistic is NaN or infinite (the batch holds NaN or inf,
        or its variance overflows the dtype); the running statistics are
        then left unchanged, so one bad batch cannot spoil them for good.
    """
    bad = ~(np.isfinite(mu) & np.isfinite(var))
    if bad.any():
        features = np.flatnonzero(bad)
        j = int(features[0])
        raise NonFiniteError(
            f"batch normalization: the batch mean or variance of {len(features)} of "
            f"{mu.size} features is not finite (feature {j}: mean {mu[j]}, variance "
            f"{var[j]}), so x holds NaN or inf (or values whose square overflows "
            f"{var.dtype}); the running statistics were not updated"
        )
    running_mean *= momentum
    running_mean += (1 - momentum) * mu
    running_var *= momentum
    running_var += (1 - momentum) * var * (m / (m - 1))  # unbiased


def _check_backward(dout: Any, cache: Any) -> np.ndarray:
    """The shared checks of a backward's arguments; returns ``dout`` as floats."""
    check_cache(cache, BatchNormCache, "batchnorm_forward")
    return check_dout(dout, cache.xhat.shape, cache.xhat.dtype)


# The readable tier
# --------------------------------------------------------------------------


def batchnorm_forward_broadcast(
    x: Any,
    gamma: Any,
    beta: Any,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    training: bool = True,
    momentum: float = 0.9,
    eps: float = 1e-5,
) -> tuple[np.ndarray, BatchNormCache]:
    """Batch normalization forward pass, per feature (the last axis), by broadcasting.

    The formulas of the module docstring line for line: the statistics are
    means over every axis but the last, and the ``(C,)`` vectors ``mu``,
    ``inv``, ``gamma`` and ``beta`` broadcast over the other axes.

    Parameters
    ----------
    x : array_like, shape (N, D) or (N, H, W, C)
        Dense features or NHWC feature maps; statistics run over every axis
        but the last (any ``ndim >= 2`` works the same way).
    gamma, beta : array_like, shape (C,)
        Learned scale and shift (``C`` is ``D`` for dense input).
    running_mean, running_var : ndarray, shape (C,), floating point
        Running statistics. Updated in place in training mode; used, not
        changed, in evaluation mode.
    training : bool
        Batch statistics and running-average update (True) or running
        statistics (False).
    momentum : float in [0, 1]
        Weight of the old running value in the update.
    eps : float >= 0
        Added to the variance before the square root (0 is allowed, but a
        constant feature then divides by zero).

    Returns
    -------
    out : ndarray, shape of x
        In the promoted floating-point dtype of ``x``, ``gamma``, ``beta``.
    cache : BatchNormCache
        For any of the backward passes.

    Raises
    ------
    ValueError
        Shapes that do not match, ``x`` with fewer than 2 dimensions, a
        training batch with a single value per feature (its variance is
        undefined), ``momentum`` or ``eps`` out of range.
    TypeError
        Running statistics that are not float arrays.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0], [3.0]])
    >>> rm, rv = np.zeros(1), np.ones(1)
    >>> out, _ = batchnorm_forward_broadcast(x, np.ones(1), np.zeros(1), rm, rv, eps=0.0)
    >>> out.ravel()
    array([-1.,  1.])
    >>> rm, rv   # 0.9 * 0 + 0.1 * 2 and 0.9 * 1 + 0.1 * 2 (unbiased variance)
    (array([0.2]), array([1.1]))
    """
    x, gamma, beta, training, momentum, eps = _prepare(
        x, gamma, beta, running_mean, running_var, training, momentum, eps
    )
    axes = tuple(range(x.ndim - 1))  # every axis but the features
    m = x.size // x.shape[-1]  # values per feature
    if training:
        mu = x.mean(axis=axes)  # (C,)
        xc = x - mu  # mu broadcast over the batch
        var = (xc * xc).mean(axis=axes)  # (C,), biased: divides by m
        _update_running_stats(running_mean, running_var, mu, var, m, momentum)
    else:
        mu = running_mean.astype(x.dtype, copy=False)
        var = running_var.astype(x.dtype, copy=False)
        xc = x - mu
    std = np.sqrt(var + x.dtype.type(eps))  # (C,)
    inv = 1 / std  # (C,)
    xhat = xc * inv  # inv broadcast over the batch
    out = gamma * xhat + beta  # gamma and beta broadcast over the batch
    cache = BatchNormCache(xc=xc, xhat=xhat, gamma=gamma, std=std, inv=inv, training=training, m=m)
    return out, cache


def batchnorm_backward_compact(
    dout: Any, cache: BatchNormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batch normalization backward pass, compact formula.

    In training mode, with ``dxhat = dout * gamma`` and sums over the ``m``
    values of each feature::

        dx = (inv / m) * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))

    The two subtracted terms are the gradient flowing through the batch mean
    and the batch variance. The two sums are multiples of the parameter
    gradients, ``sum(dxhat) = gamma * dbeta`` and
    ``sum(dxhat * xhat) = gamma * dgamma``, so the code computes::

        dx = gamma * inv * (dout - dbeta / m - xhat * dgamma / m)

    In evaluation mode the statistics are constants and
    ``dx = gamma * inv * dout``.

    Parameters
    ----------
    dout : array_like, shape of x
        Gradient of the loss with respect to the output.
    cache : BatchNormCache
        From any batchnorm forward pass.

    Returns
    -------
    dx : ndarray, shape of x
    dgamma : ndarray, shape (C,)
        ``sum(dout * xhat)`` over all axes but the last.
    dbeta : ndarray, shape (C,)
        ``sum(dout)`` over all axes but the last.
    """
    dout = _check_backward(dout, cache)
    axes, m = cache.axes, cache.m
    xhat, gamma, inv = cache.xhat, cache.gamma, cache.inv

    dbeta = dout.sum(axis=axes)  # (C,)
    dgamma = (dout * xhat).sum(axis=axes)  # (C,)
    if not cache.training:
        # mu and var were the running statistics: constants.
        return gamma * inv * dout, dgamma, dbeta
    dx = gamma * inv * (dout - dbeta / m - xhat * dgamma / m)
    return dx, dgamma, dbeta


def batchnorm_backward_graph(
    dout: Any, cache: BatchNormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batch normalization backward pass, one node of the graph at a time.

    Walks the forward graph (mean, centered, variance, std, inverse, xhat,
    scale, shift) in reverse. Each step is the chain rule for one node; where
    a node's output was broadcast in the forward (``mu``, ``inv``) its
    gradient is summed in the backward, and where it was a sum or a mean its
    gradient is broadcast back. Gives the same result as
    :func:`batchnorm_backward_compact`, more slowly.

    Parameters
    ----------
    dout : array_like, shape of x
    cache : BatchNormCache
        From any batchnorm forward pass.

    Returns
    -------
    dx : ndarray, shape of x
    dgamma : ndarray, shape (C,)
    dbeta : ndarray, shape (C,)
    """
    dout = _check_backward(dout, cache)
    axes, m = cache.axes, cache.m
    xc, xhat, gamma, std, inv = cache.xc, cache.xhat, cache.gamma, cache.std, cache.inv

    # shift: out = y + beta                 (beta broadcast over the batch)
    dbeta = dout.sum(axis=axes)
    dy = dout
    # scale: y = gamma * xhat               (gamma broadcast over the batch)
    dgamma = (dy * xhat).sum(axis=axes)
    dxhat = dy * gamma
    # normalize: xhat = xc * inv            (inv broadcast over the batch)
    dxc = dxhat * inv
    if not cache.training:
        # mu and var were the running statistics: constants, the walk ends.
        return dxc, dgamma, dbeta
    dinv = (dxhat * xc).sum(axis=axes)
    # inverse: inv = 1 / std
    dstd = -dinv / std**2
    # std = sqrt(var + eps)
    dvar = dstd / (2 * std)
    # variance: var = mean(xc ** 2)          (a mean: broadcast back, / m)
    dxc = dxc + (2 / m) * xc * dvar  # xc feeds both xhat and var: add up
    # centered: xc = x - mu                 (mu broadcast over the batch)
    dmu = -dxc.sum(axis=axes)
    dx = dxc.copy()
    # mean: mu = mean(x)                    (a mean: broadcast back, / m)
    dx += dmu / m
    return dx, dgamma, dbeta


# The functions the layer calls: the tuned tier
# --------------------------------------------------------------------------


def batchnorm_forward(
    x: Any,
    gamma: Any,
    beta: Any,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    training: bool = True,
    momentum: float = 0.9,
    eps: float = 1e-5,
) -> tuple[np.ndarray, BatchNormCache]:
    """Batch normalization forward pass, the fast one: runs :func:`convlib.fast.batchnorm_forward_fast`.

    Same arguments, results (up to rounding) and cache as
    :func:`batchnorm_forward_broadcast`.

    Parameters
    ----------
    x : array_like, shape (N, D) or (N, H, W, C)
        Dense features or NHWC feature maps; statistics run over every axis
        but the last.
    gamma, beta : array_like, shape (C,)
        Learned scale and shift.
    running_mean, running_var : ndarray, shape (C,), floating point
        Running statistics, updated in place in training mode.
    training : bool
        Batch statistics and running-average update (True) or running
        statistics (False).
    momentum : float in [0, 1]
        Weight of the old running value in the update.
    eps : float >= 0
        Added to the variance before the square root.

    Returns
    -------
    out : ndarray, shape of x
    cache : BatchNormCache

    Raises
    ------
    ValueError, TypeError
        As :func:`batchnorm_forward_broadcast`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0], [3.0]])
    >>> rm, rv = np.zeros(1), np.ones(1)
    >>> out, _ = batchnorm_forward(x, np.ones(1), np.zeros(1), rm, rv, eps=0.0)
    >>> out.ravel()
    array([-1.,  1.])
    >>> rm, rv   # 0.9 * 0 + 0.1 * 2 and 0.9 * 1 + 0.1 * 2 (unbiased variance)
    (array([0.2]), array([1.1]))
    """
    # Imported here: the tuned tier builds on this module.
    from .fast.batchnorm import batchnorm_forward_fast

    return batchnorm_forward_fast(
        x, gamma, beta, running_mean, running_var, training, momentum, eps
    )


def batchnorm_backward(
    dout: Any, cache: BatchNormCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batch normalization backward pass, the fast one: runs :func:`convlib.fast.batchnorm_backward_fast`.

    The compact formula of :func:`batchnorm_backward_compact`, same results
    up to rounding.

    Parameters
    ----------
    dout : array_like, shape of x
        Gradient of the loss with respect to the output.
    cache : BatchNormCache
        From any batchnorm forward pass.

    Returns
    -------
    dx : ndarray, shape of x
    dgamma : ndarray, shape (C,)
    dbeta : ndarray, shape (C,)
    """
    from .fast.batchnorm import batchnorm_backward_fast

    return batchnorm_backward_fast(dout, cache)
