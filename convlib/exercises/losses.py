"""Checker for a reader's softmax cross-entropy ``(logits, labels) -> (loss, dlogits)``.

The ladder ends with the cases that separate the stability mistakes: logits
around +1000 and -1000 (the maximum not subtracted), a row like
``[0, 800, 0]`` (``log(softmax(z))``, whose ``softmax`` underflows to 0, and
a clipped probability, whose loss is capped), and rows at +1000 and -1000 in
one batch (the batch's maximum subtracted instead of each row's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..losses import softmax_cross_entropy
from ._calling import DEFAULT_TIME_LIMIT, _call
from ._ladder import (
    Case,
    Outcome,
    _check_outputs,
    _checked_arguments,
    _match_variants,
    _routed_hints,
    _run_ladder,
)

__all__ = ["SOFTMAX_CASES", "check_softmax_cross_entropy"]


SOFTMAX_CASES: tuple[Case, ...] = (
    Case("one example, three classes", {"n": 1, "k": 3, "scale": 1.0}),
    Case("a batch of examples", {"n": 5, "k": 4, "scale": 1.0}, "batch"),
    Case("many classes", {"n": 8, "k": 10, "scale": 3.0}, "classes"),
    Case("large logits (around 1000)", {"n": 4, "k": 5, "scale": 1000.0}, "large"),
    Case("very negative logits (around -1000)", {"n": 4, "k": 5, "scale": -1000.0}, "large"),
    Case(
        "rows like [0, 800, 0]: one class far ahead",
        {"n": 3, "k": 3, "scale": 800.0},
        "extreme",
    ),
    Case("rows at +1000 and -1000 in one batch", {"n": 4, "k": 5, "scale": 1000.0}, "mixed"),
)

_SHIFT = (
    "exp(1000) overflows to inf (and exp(-1000) underflows to 0): subtract each row's maximum "
    "from the logits before exp -- softmax does not change, and log-sum-exp stays finite"
)
_LOG_SOFTMAX = (
    "log(softmax(z)) fails when a probability underflows: softmax is exactly 0 for a logit 800 "
    "below its row's maximum, and log(0) = -inf. Compute the log-probabilities directly, "
    "log p = z - max - log(sum(exp(z - max))) (log-sum-exp), and exp them only for dlogits"
)
_ROW_MAX = (
    "subtract each ROW's maximum (logits.max(axis=1, keepdims=True)), not the whole batch's: "
    "a row 2000 below the batch's maximum gives exp = 0 in every class, and 0/0 = nan"
)
_CLIP = (
    "the loss is capped: clipping the probabilities (to avoid log(0)) limits each example's "
    "loss to -log(clip), about 16 for 1e-7, while a label whose logit lies far below its row's "
    "maximum costs more. Compute log p = z - max - log(sum(exp(z - max))) instead of "
    "log(clip(p))"
)
_HINTS: dict[str, dict[str, str]] = {
    "": {
        "loss": "loss = mean over the examples of -log softmax(logits)[label]",
        "dlogits": "dlogits = (softmax(logits) - onehot(labels)) / N",
    },
    "batch": {
        "loss": "softmax normalizes each ROW (one example, axis=1); the loss is the MEAN over "
        "the rows of -log p[n, labels[n]]",
        "dlogits": "dlogits[n] = (softmax(logits[n]) - onehot(labels[n])) / N, row by row",
    },
    "classes": {"*": "index the probabilities with p[np.arange(N), labels], one per example"},
    "large": {"*": _SHIFT},
    "extreme": {"*": _LOG_SOFTMAX, "loss": _CLIP},
    "mixed": {"*": _ROW_MAX},
}


def _logits(case: Case, seed: int) -> tuple[np.ndarray, np.ndarray]:
    o = case.options
    rng = np.random.default_rng(seed)
    n, k = o["n"], o["k"]
    if case.feature == "extreme":
        logits = np.array([[0.0, 800.0, 0.0], [800.0, 0.0, 3.0], [1.0, 2.0, 800.0]])
        return logits, np.array([0, 1, 0])
    z = rng.standard_normal((n, k))
    labels = rng.integers(0, k, size=n)
    if case.feature == "mixed":
        return np.where(np.arange(n)[:, None] % 2 == 0, 1000.0, -1000.0) + 5 * z, labels
    if abs(o["scale"]) > 100:
        return o["scale"] + 5 * z, labels
    return o["scale"] * z, labels


def _variants(
    logits: np.ndarray, labels: np.ndarray, loss: float, dlogits: np.ndarray
) -> list[tuple[str, list[np.ndarray | None]]]:
    n = len(labels)
    rows = np.arange(n)
    onehot = np.zeros_like(logits)
    onehot[rows, labels] = 1.0
    p = dlogits * n + onehot
    col = np.exp(logits - logits.max(axis=0, keepdims=True))
    col /= col.sum(axis=0, keepdims=True)
    out: list[tuple[str, list[np.ndarray | None]]] = [
        ("the loss is the MEAN over the batch, not the sum", [np.asarray(loss * n), None]),
        (
            "dlogits must be divided by N, because the loss is a mean over N examples",
            [None, dlogits * n],
        ),
        (
            "the loss is the MEAN over the batch, not the sum, and dlogits is divided by N",
            [np.asarray(loss * n), dlogits * n],
        ),
        (
            "subtract 1 at each example's label (the one-hot term): "
            "dlogits = (softmax - onehot) / N",
            [None, p / n],
        ),
        (
            "the one-hot term is SUBTRACTED: dlogits = (softmax - onehot) / N",
            [None, (p + onehot) / n],
        ),
        (
            "softmax normalizes each ROW over the classes (axis=1), not each column",
            [None, (col - onehot) / n],
        ),
    ]
    with np.errstate(all="ignore"):
        for clip in (1e-7, 1e-8, 1e-12, 1e-15):
            capped = -np.log(np.clip(p[rows, labels], clip, 1 - clip)).mean()
            if not np.isclose(capped, loss):
                out.append((_CLIP, [np.asarray(capped), None]))
    return out


def check_softmax_cross_entropy(
    fn: Callable[..., Any],
    *,
    seed: int = 0,
    verbose: bool = True,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> int:
    """Grade ``fn(logits, labels) -> (loss, dlogits)``, softmax + cross-entropy.

    The loss is the MEAN over the batch of ``-log softmax(logits)[label]``,
    so ``dlogits = (softmax(logits) - onehot(labels)) / N``.

    Parameters
    ----------
    fn : callable
        ``logits (N, K)`` float, ``labels (N,)`` int -> ``(loss, dlogits)``
        with ``loss`` a float64 scalar and ``dlogits (N, K)`` float64, a new
        array (``logits`` must not be modified).
    seed : int
        Seed of the random test data.
    verbose : bool
        Print a line on success.
    time_limit : float or None
        Seconds one call of ``fn`` may take (it runs in a worker thread, so
        the limit works in any thread; a call that never returns keeps
        running in the background). ``None``: no limit.

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing case and entry; spots overflow (the max not
        subtracted before ``exp``), ``log(softmax(z))``, the batch's max
        subtracted instead of each row's, clipped probabilities, a sum
        instead of a mean, a missing or added one-hot term, softmax over the
        wrong axis, logits modified in place.
    TypeError
        If ``fn`` is not callable, ``seed`` not an int, ``verbose`` not a
        bool or ``time_limit`` not a number (before any case runs).
    ValueError
        If ``seed`` is negative or ``time_limit`` not positive.
    """
    seed, verbose, limit = _checked_arguments(fn, seed, verbose, time_limit)

    def run(case: Case, i: int) -> Outcome:
        logits, labels = _logits(case, seed + i)
        loss, dlogits = softmax_cross_entropy(logits, labels)
        expected = [np.asarray(loss), dlogits]
        outcome = Outcome()
        call = _call(fn, {"logits": logits, "labels": labels}, time_limit=limit)
        names = ["loss", "dlogits"]
        yours = _check_outputs(outcome, names, call, expected)
        if not outcome.problems:
            return outcome
        finite = all(y is None or np.all(np.isfinite(y)) for y in yours)
        if not finite:
            outcome.hints.append(
                {"extreme": _LOG_SOFTMAX, "mixed": _ROW_MAX}.get(case.feature, _SHIFT)
            )
            return outcome
        if not _match_variants(outcome, yours, expected, _variants(logits, labels, loss, dlogits)):
            _routed_hints(outcome, names, yours, expected, _HINTS, case.feature)
        return outcome

    return _run_ladder(
        "softmax cross-entropy",
        SOFTMAX_CASES,
        run,
        verbose,
        lambda case: _HINTS.get(case.feature, {}).get("*"),
    )
