"""Tuned ReLU: the forward and backward passes split over the compute threads.

:func:`relu_forward_fast` and :func:`relu_backward_fast` take the same
arguments and return the same results and cache as
:func:`convlib.relu_forward` and :func:`convlib.relu_backward` (which the
book shows); the :class:`~convlib.layers.ReLU` layer calls these. With one
compute thread (the default, see :func:`convlib.runtime.compute_threads`)
or a small array they *are* those functions. Otherwise the batch is split
into chunks (:mod:`convlib.fast.threads`), each computed by the same
operations -- ``x > 0``, ``maximum(x, 0)``, ``dout * mask`` -- so the
results are bit-identical.

ReLU on the capstone's first block, ``(128, 26, 26, 16)`` float32 maps, is
the largest element-wise pass of its training step (about 0.9 ms forward
and 0.6 ms backward at one thread; benchmarks/README.md, issue 12).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..activations import (
    ActivationCache,
    _as_float,
    _check_backward,
    relu_backward,
    relu_forward,
)
from .threads import MIN_PARALLEL_ELEMENTS, compute_thread_count, run_batch_chunks

__all__ = ["relu_forward_fast", "relu_backward_fast"]


def _split(a: np.ndarray) -> bool:
    """Whether a pass over ``a`` is worth splitting over the compute threads."""
    return (
        compute_thread_count() > 1
        and a.ndim > 0
        and a.shape[0] > 1
        and a.size >= MIN_PARALLEL_ELEMENTS
    )


def relu_forward_fast(x: Any) -> tuple[np.ndarray, ActivationCache]:
    """ReLU forward pass, ``max(x, 0)``, over the compute threads.

    Same arguments, results and cache as :func:`convlib.relu_forward`.

    Parameters
    ----------
    x : array_like, any shape

    Returns
    -------
    out : ndarray, shape of x
    cache : ActivationCache
        The mask ``x > 0``.
    """
    x = _as_float(x, complex_step=True)
    if not _split(x):
        return relu_forward(x)
    mask = np.empty(x.shape, dtype=bool)
    out = np.empty(x.shape, dtype=x.dtype)

    def rows(r: slice) -> None:
        xs = x[r]
        np.greater(xs, 0, out=mask[r])
        # Against an array of zeros, as relu_forward does.
        np.maximum(xs, np.zeros_like(xs), out=out[r])

    run_batch_chunks(rows, x.shape[0], x.size)
    return out, ActivationCache("relu", mask, x.dtype)


def relu_backward_fast(dout: Any, cache: ActivationCache) -> np.ndarray:
    """ReLU backward pass over the compute threads: ``dout`` where ``x > 0``, else 0.

    Same arguments and result as :func:`convlib.relu_backward`.

    Parameters
    ----------
    dout : array_like, shape of x
    cache : ActivationCache
        From :func:`convlib.relu_forward` or :func:`relu_forward_fast`.

    Returns
    -------
    dx : ndarray, shape of x
    """
    d = _check_backward(dout, cache, "relu")
    if not _split(d):
        return relu_backward(d, cache)
    mask = cache.saved
    dx = np.empty(d.shape, dtype=np.result_type(d, mask))
    run_batch_chunks(lambda r: np.multiply(d[r], mask[r], out=dx[r]), d.shape[0], d.size)
    return dx
