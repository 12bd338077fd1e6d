"""Checker for a reader's batch-norm backward ``(dout, x, gamma, eps) -> (dx, dgamma, dbeta)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..batchnorm import batchnorm_backward, batchnorm_forward
from ._ladder import (
    Case,
    Outcome,
    _call,
    _check_outputs,
    _checked_arguments,
    _compare,
    _run_ladder,
)

__all__ = ["BATCHNORM_CASES", "check_batchnorm_backward"]


BATCHNORM_CASES: tuple[Case, ...] = (
    Case("a small batch of dense features", {"x": (4, 3)}),
    Case("a larger batch", {"x": (16, 5)}),
    Case("conv features (N, H, W, C), statistics per channel", {"x": (2, 3, 3, 4)}),
)


def check_batchnorm_backward(fn: Callable[..., Any], *, seed: int = 0, verbose: bool = True) -> int:
    """Grade a training-mode batch-norm backward ``fn(dout, x, gamma, eps) -> (dx, dgamma, dbeta)``.

    The forward normalizes every feature (the last axis) with the batch mean
    and the biased batch variance, then scales by ``gamma`` and shifts by
    ``beta``; statistics are over every axis but the last.

    Parameters
    ----------
    fn : callable
        ``dout`` and ``x`` of shape ``(N, D)`` or ``(N, H, W, C)``, ``gamma``
        of shape ``(D,)``, float ``eps`` -> ``dx`` (shape of ``x``),
        ``dgamma``, ``dbeta`` (shape of ``gamma``).
    seed : int
    verbose : bool

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing case; spots ``dgamma``/``dbeta`` averaged
        instead of summed, and a ``dx`` that forgets the mean and variance
        depend on ``x``.
    TypeError
        If ``fn`` is not callable, ``seed`` not an int or ``verbose`` not a
        bool (before any case runs).
    ValueError
        If ``seed`` is negative.
    """
    seed, verbose = _checked_arguments(fn, seed, verbose)
    eps = 1e-5

    def run(case: Case, i: int) -> Outcome:
        shape = case.options["x"]
        rng = np.random.default_rng(seed + i)
        x = 2.0 + 3.0 * rng.standard_normal(shape)
        c = shape[-1]
        gamma, beta = rng.uniform(0.5, 1.5, c), rng.standard_normal(c)
        out, cache = batchnorm_forward(
            x, gamma, beta, np.zeros(c), np.ones(c), training=True, eps=eps
        )
        dout = rng.standard_normal(out.shape)
        expected = batchnorm_backward(dout, cache)
        outcome = Outcome()
        result = _call(fn, case, dout, x, gamma, eps)
        ydx, ydg, ydb = _check_outputs(outcome, ["dx", "dgamma", "dbeta"], result, expected)
        m = x.size // c
        for name, y, ref in (("dgamma", ydg, expected[1]), ("dbeta", ydb, expected[2])):
            if y is not None and _compare(name, y, ref) and np.allclose(y * m, ref):
                outcome.hints.append(
                    f"{name} is averaged over the batch; it must be SUMMED: every one of the "
                    f"{m} normalized values used the same {name[1:]}"
                )
        if ydx is not None and _compare("dx", ydx, expected[0]):
            axes = tuple(range(x.ndim - 1))
            naive = dout * gamma / np.sqrt(x.var(axis=axes) + eps)
            if _compare("dx", ydx, naive) is None:
                outcome.hints.append(
                    "your dx treats the mean and the variance as constants; they are computed "
                    "from x, so dx has two more terms: -mean(dxhat) and -xhat * mean(dxhat * xhat)"
                )
        return outcome

    return _run_ladder("batch-norm backward", BATCHNORM_CASES, run, verbose)
