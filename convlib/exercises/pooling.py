"""Checkers for a reader's max pooling: forward ``(x, pool, stride, pad) -> out`` and backward."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..pooling import maxpool2d_backward, maxpool2d_forward
from ._ladder import (
    Case,
    Outcome,
    _as_result,
    _call,
    _check_outputs,
    _checked_arguments,
    _compare,
    _normal,
    _run_ladder,
)

__all__ = [
    "POOL_FORWARD_CASES",
    "POOL_BACKWARD_CASES",
    "check_maxpool_forward",
    "check_maxpool_backward",
]


def _pool_case(
    adds: str, x: tuple, pool: int = 2, stride: int = 2, pad: int = 0, **kw: Any
) -> Case:
    return Case(adds, {"x": x, "pool": pool, "stride": stride, "pad": pad, **kw})


POOL_FORWARD_CASES: tuple[Case, ...] = (
    _pool_case("one image, one channel, 2x2 windows", (1, 4, 4, 1)),
    _pool_case("several channels and a batch", (2, 4, 6, 3)),
    _pool_case("3x3 windows, stride 3", (1, 6, 6, 2), pool=3, stride=3),
    _pool_case("overlapping windows (stride 1)", (2, 5, 5, 2), pool=3, stride=1),
    _pool_case("a stride that does not tile the input", (1, 5, 7, 2)),
    _pool_case(
        "padding 1 on negative inputs", (2, 5, 5, 2), pool=3, stride=2, pad=1, negative=True
    ),
)

POOL_BACKWARD_CASES: tuple[Case, ...] = (
    _pool_case("one image, one channel, 2x2 windows", (1, 4, 4, 1)),
    _pool_case("several channels and a batch", (2, 4, 6, 3)),
    _pool_case("a stride that does not tile the input", (1, 5, 7, 2)),
    _pool_case("overlapping windows (stride 1)", (2, 5, 5, 2), pool=3, stride=1),
    _pool_case("ties: several maxima in a window", (2, 4, 4, 2), ties=True),
)


def _pool_input(case: Case, seed: int) -> np.ndarray:
    o = case.options
    if o.get("ties"):
        return np.random.default_rng(seed).integers(0, 2, size=o["x"]).astype(np.float64)
    x = _normal(seed, *o["x"])
    return -np.abs(x) - 0.1 if o.get("negative") else x


def check_maxpool_forward(fn: Callable[..., Any], *, seed: int = 0, verbose: bool = True) -> int:
    """Grade a max-pooling forward pass ``fn(x, pool, stride, pad) -> out``.

    Parameters
    ----------
    fn : callable
        ``x (N, H, W, C)``, int ``pool`` (square windows), int ``stride``,
        int ``pad`` -> ``out (N, OH, OW, C)``; padded pixels must never win
        (pad with ``-inf``).
    seed : int
    verbose : bool

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing case; spots padding with zeros, a stride
        ignored, channels mixed up.
    TypeError
        If ``fn`` is not callable, ``seed`` not an int or ``verbose`` not a
        bool (before any case runs).
    ValueError
        If ``seed`` is negative.
    """
    seed, verbose = _checked_arguments(fn, seed, verbose)

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        x = _pool_input(case, seed + i)
        expected, _ = maxpool2d_forward(x, o["pool"], o["stride"], o["pad"])
        outcome = Outcome()
        (yours,) = _check_outputs(
            outcome, ["out"], _call(fn, case, x, o["pool"], o["stride"], o["pad"]), [expected]
        )
        if outcome.problems and yours is not None and o["pad"]:
            p = o["pad"]
            zero_padded, _ = maxpool2d_forward(
                np.pad(x, ((0, 0), (p, p), (p, p), (0, 0))), o["pool"], o["stride"]
            )
            if _compare("out", yours, zero_padded) is None:
                outcome.hints.append(
                    "you padded with zeros: on negative inputs a padded 0 wins the max. "
                    "Pad with -inf so that padding can never be the maximum"
                )
        if outcome.problems and not outcome.hints:
            outcome.hints.append(
                f"output pixel (i, j) is the max of x[i*s:i*s+{o['pool']}, j*s:j*s+{o['pool']}] "
                "(of the padded input), separately for every image and channel"
            )
        return outcome

    return _run_ladder("max pool forward", POOL_FORWARD_CASES, run, verbose)


def check_maxpool_backward(fn: Callable[..., Any], *, seed: int = 0, verbose: bool = True) -> int:
    """Grade a max-pooling backward pass ``fn(dout, x, pool, stride) -> dx``.

    No padding. Where a window holds several equal maxima, any split of its
    gradient among them is accepted as long as the window passes on exactly
    ``dout`` in total (convlib sends it all to the first one); sending the
    full gradient to every tied maximum is not.

    Parameters
    ----------
    fn : callable
        ``dout (N, OH, OW, C)``, ``x (N, H, W, C)``, int ``pool``, int
        ``stride`` -> ``dx (N, H, W, C)``.
    seed : int
    verbose : bool

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing case; spots gradients copied to every tied
        maximum, overlapping windows overwriting instead of adding, rows a
        non-tiling stride never visits.
    TypeError
        If ``fn`` is not callable, ``seed`` not an int or ``verbose`` not a
        bool (before any case runs).
    ValueError
        If ``seed`` is negative.
    """
    seed, verbose = _checked_arguments(fn, seed, verbose)

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        x = _pool_input(case, seed + i)
        out, cache = maxpool2d_forward(x, o["pool"], o["stride"])
        dout = _normal(seed + 100 + i, *out.shape)
        expected = maxpool2d_backward(dout, cache)
        outcome = Outcome()
        result = _call(fn, case, dout, x, o["pool"], o["stride"])
        if o.get("ties"):
            yours, problem = _as_result("dx", result, x.shape)
            if problem:
                outcome.problems.append(problem)
                return outcome
            assert yours is not None  # _as_result gives an array whenever there is no problem
            _check_tied(outcome, yours, x, dout, o)
            return outcome
        (yours,) = _check_outputs(outcome, ["dx"], result, [expected])
        if outcome.problems and yours is not None:
            if o["stride"] < o["pool"]:
                outcome.hints.append(
                    "windows overlap here: an input that is the max of two windows must receive "
                    "the SUM of both gradients (use +=, not =)"
                )
            else:
                outcome.hints.append(
                    "each window sends its dout to the position of its maximum; every other "
                    "input, including rows and columns no window covers, gets 0"
                )
        return outcome

    return _run_ladder("max pool backward", POOL_BACKWARD_CASES, run, verbose)


def _check_tied(
    outcome: Outcome, dx: np.ndarray, x: np.ndarray, dout: np.ndarray, o: dict[str, Any]
) -> None:
    """Non-overlapping windows with ties: gradient only at maxima, summing to dout."""
    k, s = o["pool"], o["stride"]
    _, oh, ow, _ = dout.shape
    for i in range(oh):
        for j in range(ow):
            win_x = x[:, i * s : i * s + k, j * s : j * s + k, :]
            win_dx = dx[:, i * s : i * s + k, j * s : j * s + k, :]
            is_max = win_x == win_x.max(axis=(1, 2), keepdims=True)
            if np.any(np.abs(win_dx[~is_max]) > 1e-12):
                outcome.problems.append(
                    f"window ({i}, {j}) sends gradient to an element that is not its maximum"
                )
                return
            total = win_dx.sum(axis=(1, 2))
            target = dout[:, i, j, :]
            if not np.allclose(total, target, rtol=1e-9, atol=1e-12):
                n_max = is_max.sum(axis=(1, 2))
                outcome.problems.append(
                    f"the gradient that window ({i}, {j}) passes on sums to "
                    f"{total.ravel()[0]:.6g} instead of its dout {target.ravel()[0]:.6g}"
                )
                if np.allclose(total, n_max * target):
                    outcome.hints.append(
                        "you gave the FULL gradient to every tied maximum, so the window passes on "
                        "(number of maxima) x dout. The max is one element's value: give it to one "
                        "of them (convlib: the first in row-major order), or split it among them"
                    )
                return
