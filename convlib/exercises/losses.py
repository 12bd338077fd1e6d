"""Checker for a reader's softmax cross-entropy ``(logits, labels) -> (loss, dlogits)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..losses import softmax_cross_entropy
from ._ladder import (
    Case,
    Outcome,
    _call,
    _check_outputs,
    _checked_arguments,
    _run_ladder,
)

__all__ = ["SOFTMAX_CASES", "check_softmax_cross_entropy"]


SOFTMAX_CASES: tuple[Case, ...] = (
    Case("one example, three classes", {"n": 1, "k": 3, "scale": 1.0}),
    Case("a batch of examples", {"n": 5, "k": 4, "scale": 1.0}),
    Case("many classes", {"n": 8, "k": 10, "scale": 3.0}),
    Case("large logits (around 1000)", {"n": 4, "k": 5, "scale": 1000.0}),
    Case("very negative logits (around -1000)", {"n": 4, "k": 5, "scale": -1000.0}),
)


def check_softmax_cross_entropy(
    fn: Callable[..., Any], *, seed: int = 0, verbose: bool = True
) -> int:
    """Grade ``fn(logits, labels) -> (loss, dlogits)``, softmax + cross-entropy.

    The loss is the MEAN over the batch of ``-log softmax(logits)[label]``,
    so ``dlogits = (softmax(logits) - onehot(labels)) / N``.

    Parameters
    ----------
    fn : callable
        ``logits (N, K)`` float, ``labels (N,)`` int -> ``(loss, dlogits)``
        with ``loss`` a scalar and ``dlogits (N, K)``.
    seed : int
    verbose : bool

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing case; spots overflow (the max not subtracted
        before ``exp``), a sum instead of a mean, a missing one-hot term.
    TypeError
        If ``fn`` is not callable, ``seed`` not an int or ``verbose`` not a
        bool (before any case runs).
    ValueError
        If ``seed`` is negative.
    """
    seed, verbose = _checked_arguments(fn, seed, verbose)

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        rng = np.random.default_rng(seed + i)
        logits = rng.standard_normal((o["n"], o["k"]))
        if abs(o["scale"]) > 100:
            logits = o["scale"] + 5 * logits
        else:
            logits *= o["scale"]
        labels = rng.integers(0, o["k"], size=o["n"])
        loss, dlogits = softmax_cross_entropy(logits, labels)
        outcome = Outcome()
        result = _call(fn, case, logits, labels)
        ylo, ydl = _check_outputs(outcome, ["loss", "dlogits"], result, [np.asarray(loss), dlogits])
        if not outcome.problems:
            return outcome
        finite = all(v is None or np.all(np.isfinite(v)) for v in (ylo, ydl))
        if not finite:
            outcome.hints.append(
                "exp(1000) overflows to inf (and exp(-1000) underflows to 0): subtract each "
                "row's maximum from the logits before exp -- softmax does not change, and "
                "log-sum-exp stays finite"
            )
        if ylo is not None and np.isfinite(ylo) and np.isclose(ylo, loss * o["n"]) and o["n"] > 1:
            outcome.hints.append("the loss is the MEAN over the batch, not the sum")
        if (
            ydl is not None
            and np.all(np.isfinite(ydl))
            and o["n"] > 1
            and np.allclose(ydl, dlogits * o["n"])
        ):
            outcome.hints.append(
                "dlogits must be divided by N, because the loss is a mean over N examples"
            )
        return outcome

    return _run_ladder("softmax cross-entropy", SOFTMAX_CASES, run, verbose)
