"""Softmax, cross-entropy and mean squared error, with their gradients.

A loss turns the network's output into one number and starts the backward
pass: each function here returns ``(loss, dpred)``, the loss and its gradient
with respect to the prediction, ready to hand to the last layer's backward.

Softmax is computed the stable way. ``exp(z)`` overflows for ``z > 709`` in
float64 (``88`` in float32), but softmax does not change when the same
number is subtracted from every logit of a row, so subtracting the row's
maximum first leaves exponents ``<= 0``::

    log_softmax(z)_k = (z_k - max z) - log(sum_j exp(z_j - max z))

The sum then lies in ``[1, K]``: no overflow, and its logarithm is never
``log(0)``. The cross-entropy of a row with true class ``y`` is
``-log_softmax(z)_y``, and its gradient the famously simple
``softmax(z) - onehot(y)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import as_numeric_array, as_numeric_or_complex_array, float_dtype
from .errors import NonFiniteError

__all__ = ["softmax", "log_softmax", "softmax_cross_entropy", "mse_loss"]


def _as_logits(logits: Any, name: str = "logits", complex_step: bool = False) -> np.ndarray:
    # complex_step: exp, log and a shift by the (real-part) maximum are analytic.
    z = (as_numeric_or_complex_array if complex_step else as_numeric_array)(name, logits)
    if z.ndim < 1 or z.shape[-1] == 0:
        raise ValueError(
            f"{name} must have a non-empty last axis of classes, shape (..., K), "
            f"got shape {z.shape}"
        )
    return z.astype(float_dtype(z), copy=False)


def log_softmax(logits: Any) -> np.ndarray:
    """Logarithm of the softmax along the last axis, computed stably.

    Parameters
    ----------
    logits : array_like, shape (..., K)
        Unnormalized scores, usually ``(N, K)``.

    Returns
    -------
    ndarray, shape (..., K)
        ``z - max(z) - log(sum(exp(z - max(z))))`` row by row; all ``<= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> log_softmax(np.array([[1000.0, 1000.0]]))  # no overflow
    array([[-0.69314718, -0.69314718]])
    """
    z = _as_logits(logits, complex_step=True)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: Any) -> np.ndarray:
    """Softmax along the last axis, computed stably.

    Parameters
    ----------
    logits : array_like, shape (..., K)

    Returns
    -------
    ndarray, shape (..., K)
        Probabilities: non-negative, each row sums to 1.

    Examples
    --------
    >>> import numpy as np
    >>> softmax(np.array([[0.0, np.log(3.0)], [1e4, 0.0]]))
    array([[0.25, 0.75],
           [1.  , 0.  ]])
    """
    z = _as_logits(logits, complex_step=True)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_cross_entropy(logits: Any, labels: Any) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of a softmax classifier, and its gradient.

    ``loss = -(1/N) sum_n log softmax(logits[n])[labels[n]]``, computed from
    :func:`log_softmax`, so logits of any size (``1e4`` and beyond) give a
    finite loss.

    Parameters
    ----------
    logits : array_like, shape (N, K)
        Unnormalized class scores of ``N`` examples.
    labels : array_like of int, shape (N,)
        True class of each example, in ``[0, K)``.

    Returns
    -------
    loss : float
        Mean over the batch.
    dlogits : ndarray, shape (N, K)
        ``(softmax(logits) - onehot(labels)) / N``, in the dtype of
        ``logits`` (float64 for integer logits).

    Raises
    ------
    TypeError
        If ``labels`` is not of an integer dtype.
    ValueError
        If shapes do not match or a label is outside ``[0, K)``.
    convlib.errors.NonFiniteError
        (a ``ValueError``) If the loss is not finite: ``logits`` hold NaN or
        an infinity (the message names the first such row), or finite logits
        so far apart that a true class's log-probability overflows.

    Examples
    --------
    >>> import numpy as np
    >>> loss, dlogits = softmax_cross_entropy(np.array([[0.0, np.log(3.0)]]), np.array([1]))
    >>> round(loss, 6)  # -log(0.75): the true class has probability 3/4
    0.287682
    >>> dlogits
    array([[ 0.25, -0.25]])
    """
    z = _as_logits(logits)
    if z.ndim != 2:
        raise ValueError(f"logits must be 2-D with shape (N, K), got shape {z.shape}")
    n, k = z.shape
    y = as_numeric_array("labels", labels)
    if y.dtype.kind not in "iu":
        raise TypeError(
            f"labels must be integer class indices, got dtype {y.dtype} (shape {y.shape})"
        )
    if y.shape != (n,):
        raise ValueError(
            f"labels must have shape ({n},), one class per row of logits {z.shape}, "
            f"got shape {y.shape}"
        )
    if n == 0:
        raise ValueError(f"logits must hold at least one example, got shape {z.shape}")
    if y.min() < 0 or y.max() >= k:
        bad = y[(y < 0) | (y >= k)]
        raise ValueError(
            f"labels must lie in [0, {k}) for {k} classes (logits shape {z.shape}); "
            f"got {bad[:5].tolist()}"
        )
    rows = np.arange(n)
    # NaN and infinities propagate into the loss, so one check of the loss
    # finds them (NumPy's warnings on the way are silenced: the error below
    # says more); the logits are searched only when the check fails.
    with np.errstate(invalid="ignore", over="ignore"):
        logp = log_softmax(z)
        loss = -float(logp[rows, y].mean(dtype=np.float64))
    if not np.isfinite(loss):
        _raise_non_finite(z, logp, y)
    dlogits = np.exp(logp)
    dlogits[rows, y] -= 1
    dlogits /= n
    return loss, dlogits


def _raise_non_finite(z: np.ndarray, logp: np.ndarray, y: np.ndarray) -> None:
    """Say why the cross-entropy of ``z`` is not finite (called only when it is not).

    A row's term is ``-logp[row, y[row]]``; the first row whose term is not
    finite is named, with its first non-finite logit if it has one.
    """
    bad = ~np.isfinite(logp[np.arange(len(y)), y])
    row = int(np.argmax(bad))
    count = f"{int(bad.sum())} of {len(y)} rows"
    cols = np.flatnonzero(~np.isfinite(z[row]))
    if cols.size:
        col = int(cols[0])
        raise NonFiniteError(
            f"logits must be finite, but row {row} of logits {z.shape} holds {z[row, col]} "
            f"(column {col}; {count} give a non-finite loss). Look at what produced the "
            f"logits: a non-finite input, or parameters that diverged"
        )
    raise NonFiniteError(
        f"the loss overflows: row {row} of logits {z.shape} is finite, but its true class "
        f"{int(y[row])} scores so far below the largest logit that its log-probability "
        f"is -inf in {z.dtype} ({count}); such logits come from parameters that diverged "
        f"(lower the learning rate)"
    )


def mse_loss(pred: Any, target: Any) -> tuple[float, np.ndarray]:
    """Mean squared error over all elements, and its gradient.

    ``loss = mean((pred - target) ** 2)`` over every element (not only over
    the batch), so ``dpred = 2 (pred - target) / pred.size``. There is no
    ``1/2`` factor.

    Parameters
    ----------
    pred : array_like, any shape
        Predictions.
    target : array_like, shape of pred
        Targets; no broadcasting, the shapes must be equal.

    Returns
    -------
    loss : float
    dpred : ndarray, shape of pred
        In the promoted floating-point dtype of the inputs.

    Examples
    --------
    >>> import numpy as np
    >>> loss, dpred = mse_loss(np.array([1.0, 2.0]), np.array([0.0, 4.0]))
    >>> loss  # (1 + 4) / 2
    2.5
    >>> dpred
    array([ 1., -2.])
    """
    p = as_numeric_array("pred", pred)
    t = as_numeric_array("target", target)
    if p.shape != t.shape:
        raise ValueError(f"pred and target must have the same shape, got {p.shape} and {t.shape}")
    if p.size == 0:
        raise ValueError(f"pred must not be empty, got shape {p.shape}")
    dtype = float_dtype(p, t)
    diff = p.astype(dtype, copy=False) - t.astype(dtype, copy=False)
    loss = float(np.mean(diff * diff, dtype=np.float64))
    return loss, diff * (dtype.type(2) / p.size)
