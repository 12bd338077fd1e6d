"""Checkers for a reader's max pooling: forward ``(x, pool, stride, pad) -> out`` and backward.

On a failure the checker recomputes the classic wrong variants -- zero
padding, average instead of max, the stride ignored, the minimum, a window
of the stride's size; for the backward pass dout spread evenly over the
window (average pooling's gradient), a mask not multiplied by dout, ``=``
instead of ``+=`` where windows overlap, the stride ignored -- and names the
one that matches; otherwise the hint of what the case adds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..pooling import maxpool2d_backward, maxpool2d_forward
from ._calling import DEFAULT_TIME_LIMIT, _call
from ._ladder import (
    TOLERANCE,
    Case,
    Outcome,
    _check_outputs,
    _checked_arguments,
    _match_variants,
    _normal,
    _routed_hints,
    _run_ladder,
    _safe_shape,
)

__all__ = [
    "POOL_FORWARD_CASES",
    "POOL_BACKWARD_CASES",
    "check_maxpool_forward",
    "check_maxpool_backward",
]


def _pool_case(
    adds: str, feature: str, x: tuple, pool: int = 2, stride: int = 2, pad: int = 0, **kw: Any
) -> Case:
    return Case(adds, {"x": x, "pool": pool, "stride": stride, "pad": pad, **kw}, feature)


POOL_FORWARD_CASES: tuple[Case, ...] = (
    _pool_case("one image, one channel, 2x2 windows", "", (1, 4, 4, 1)),
    _pool_case("several channels and a batch", "batch", (2, 4, 6, 3)),
    _pool_case("3x3 windows, stride 3", "window", (1, 6, 6, 2), pool=3, stride=3),
    _pool_case("overlapping windows (stride 1)", "overlap", (2, 5, 5, 2), pool=3, stride=1),
    _pool_case("a stride that does not tile the input", "nontiling", (1, 5, 7, 2)),
    _pool_case(
        "padding 1 on negative inputs",
        "pad",
        (2, 5, 5, 2),
        pool=3,
        stride=2,
        pad=1,
        negative=True,
    ),
)

POOL_BACKWARD_CASES: tuple[Case, ...] = (
    _pool_case("one image, one channel, 2x2 windows", "", (1, 4, 4, 1)),
    _pool_case("several channels and a batch", "batch", (2, 4, 6, 3)),
    _pool_case("a stride that does not tile the input", "nontiling", (1, 5, 7, 2)),
    _pool_case("overlapping windows (stride 1)", "overlap", (2, 5, 5, 2), pool=3, stride=1),
    _pool_case("ties: several maxima in a window", "ties", (2, 4, 4, 2), ties=True),
)

_WINDOW = (
    "output pixel (i, j) is the max of x[n, i*s : i*s+pool, j*s : j*s+pool, c] (of the padded "
    "input), separately for every image n and channel c"
)
_FORWARD_HINTS: dict[str, dict[str, str]] = {
    "": {"out": _WINDOW},
    "batch": {
        "out": "take the max over the window's rows and columns only (axes 1 and 2), "
        "separately for every image and channel"
    },
    "window": {
        "out": "the window is pool x pool: x[i*s : i*s + pool], with pool and stride "
        "as two different numbers"
    },
    "overlap": {
        "out": "with stride 1 < pool the windows overlap: window (i, j) starts at "
        "(i*s, j*s) and spans pool pixels"
    },
    "nontiling": {
        "out": "the last rows or columns that no full window covers are dropped: "
        "OH = (H - pool) // stride + 1"
    },
    "pad": {"out": "pad with -inf (never the max), then pool the padded input"},
}
_BACKWARD_HINTS: dict[str, dict[str, str]] = {
    "": {
        "dx": "each window sends its dout to the position of its maximum; every other input gets 0"
    },
    "batch": {
        "dx": "find the maximum separately for every image and channel: window (i, j) of "
        "image n, channel c sends dout[n, i, j, c] to its own maximum"
    },
    "nontiling": {
        "dx": "rows and columns that no window covers get 0, and window (i, j) starts at (i*s, j*s)"
    },
    "overlap": {
        "dx": "windows overlap here: an input that is the max of two windows must "
        "receive the SUM of both gradients (use +=, not =)"
    },
}


def _pool_input(case: Case, seed: int) -> np.ndarray:
    o = case.options
    if o.get("ties"):
        return np.random.default_rng(seed).integers(0, 2, size=o["x"]).astype(np.float64)
    x = _normal(seed, *o["x"])
    return -np.abs(x) - 0.1 if o.get("negative") else x


def _windows(xp: np.ndarray, k: int, s: int, oh: int, ow: int) -> np.ndarray:
    """(N, OH, OW, C, k, k): window (i, j) starting at (i*s, j*s) of ``xp``."""
    # NumPy's stubs accept no tuple for axis (the function does)
    v = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(1, 2))  # type: ignore[call-overload]
    return v[:, ::s, ::s][:, :oh, :ow]


def _forward_variants(
    x: np.ndarray, k: int, s: int, p: int, expected: np.ndarray
) -> list[tuple[str, list[np.ndarray | None]]]:
    oh, ow = expected.shape[1:3]
    zero = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    neg = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), constant_values=-np.inf)
    pos = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), constant_values=np.inf)
    out: list[tuple[str, list[np.ndarray | None]]] = [
        (
            "you took the AVERAGE of each window; max pooling keeps its largest value",
            [_windows(zero, k, s, oh, ow).mean(axis=(-2, -1))],
        ),
        (
            "you took the MINIMUM of each window; max pooling keeps its largest value",
            [_windows(pos, k, s, oh, ow).min(axis=(-2, -1))],
        ),
    ]
    if p:
        out.append(
            (
                "you padded with zeros: on negative inputs a padded 0 wins the max. Pad with "
                "-inf so that padding can never be the maximum",
                [_windows(zero, k, s, oh, ow).max(axis=(-2, -1))],
            )
        )
    if s != 1:
        out.append(
            (
                f"the stride is ignored: window (i, j) starts at (i*{s}, j*{s}), not (i, j)",
                [_windows(neg, k, 1, oh, ow).max(axis=(-2, -1))],
            )
        )
    if s != k and neg.shape[1] >= s * oh and neg.shape[2] >= s * ow:
        out.append(
            (
                f"your windows are stride x stride ({s}x{s}); they are pool x pool ({k}x{k})",
                [_windows(neg, s, s, oh, ow).max(axis=(-2, -1))],
            )
        )
    return out


def check_maxpool_forward(
    fn: Callable[..., Any],
    *,
    seed: int = 0,
    verbose: bool = True,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> int:
    """Grade a max-pooling forward pass ``fn(x, pool, stride, pad) -> out``.

    Parameters
    ----------
    fn : callable
        ``x (N, H, W, C)``, int ``pool`` (square windows), int ``stride``,
        int ``pad`` -> ``out (N, OH, OW, C)`` float64; padded pixels must
        never win (pad with ``-inf``). It must not modify ``x``.
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
        Names the first failing case and entry; spots padding with zeros,
        the average or the minimum instead of the max, a stride ignored,
        windows of the stride's size.
    TypeError
        If ``fn`` is not callable, ``seed`` not an int, ``verbose`` not a
        bool or ``time_limit`` not a number (before any case runs).
    ValueError
        If ``seed`` is negative or ``time_limit`` not positive.
    """
    seed, verbose, limit = _checked_arguments(fn, seed, verbose, time_limit)

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        k, s, p = o["pool"], o["stride"], o["pad"]
        x = _pool_input(case, seed + i)
        expected, _ = maxpool2d_forward(x, k, s, p)
        outcome = Outcome()
        call = _call(fn, {"x": x, "pool": k, "stride": s, "pad": p}, time_limit=limit)
        yours = _check_outputs(outcome, ["out"], call, [expected])
        if not outcome.problems:
            return outcome
        shape = _safe_shape(call.result)
        if yours[0] is None and not outcome.explained and shape not in (None, expected.shape):
            outcome.hints.append(
                f"the output has shape (N, OH, OW, C) = {expected.shape}: "
                "OH = (H + 2*pad - pool) // stride + 1, and the channels stay"
            )
        if not _match_variants(outcome, yours, [expected], _forward_variants(x, k, s, p, expected)):
            _routed_hints(outcome, ["out"], yours, [expected], _FORWARD_HINTS, case.feature)
        return outcome

    return _run_ladder(
        "max pool forward",
        POOL_FORWARD_CASES,
        run,
        verbose,
        lambda case: _FORWARD_HINTS.get(case.feature, {}).get("out"),
    )


def _scatter(x: np.ndarray, dout: np.ndarray, k: int, s: int, mode: str) -> np.ndarray:
    """A backward pass of max pooling, right (``"max"``) or in one of the classic wrong ways."""
    n, oh, ow, c = dout.shape
    dx = np.zeros_like(x)
    step = 1 if mode == "nostride" else s
    for i in range(oh):
        for j in range(ow):
            r, q = i * step, j * step
            win = x[:, r : r + k, q : q + k, :]
            flat = win.reshape(n, -1, c).argmax(axis=1)
            mask: np.ndarray = np.zeros((n, k * k, c))
            np.put_along_axis(mask, flat[:, None, :], 1.0, axis=1)
            mask = mask.reshape(win.shape)
            g = dout[:, i : i + 1, j : j + 1, :]
            term: np.ndarray
            if mode == "avg":
                term = np.broadcast_to(g / (k * k), win.shape)
            elif mode == "mask":
                term = mask
            else:
                term = mask * g
            if mode == "overwrite":
                dx[:, r : r + k, q : q + k, :] = term
            else:
                dx[:, r : r + k, q : q + k, :] += term
    return dx


def _backward_variants(
    x: np.ndarray, dout: np.ndarray, k: int, s: int
) -> list[tuple[str, list[np.ndarray | None]]]:
    out: list[tuple[str, list[np.ndarray | None]]] = [
        (
            "you spread dout evenly over the window (average pooling's gradient); max pooling "
            "sends all of it to the window's maximum, and 0 to the other inputs",
            [_scatter(x, dout, k, s, "avg")],
        ),
        (
            "your dx is the mask of the maxima: multiply it by the window's dout",
            [_scatter(x, dout, k, s, "mask")],
        ),
    ]
    if s < k:
        out.append(
            (
                "windows overlap here: an input that is the max of two windows must receive the "
                "SUM of both gradients (use +=, not =)",
                [_scatter(x, dout, k, s, "overwrite")],
            )
        )
    if s != 1:
        out.append(
            (
                f"the stride is ignored: window (i, j) starts at (i*{s}, j*{s}), not (i, j)",
                [_scatter(x, dout, k, s, "nostride")],
            )
        )
    return out


def check_maxpool_backward(
    fn: Callable[..., Any],
    *,
    seed: int = 0,
    verbose: bool = True,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> int:
    """Grade a max-pooling backward pass ``fn(dout, x, pool, stride) -> dx``.

    No padding. Where a window holds several equal maxima, any split of its
    gradient among them is accepted as long as the window passes on exactly
    ``dout`` in total (convlib sends it all to the first one; the last one,
    or equal shares, pass too); sending the full gradient to every tied
    maximum does not.

    Parameters
    ----------
    fn : callable
        ``dout (N, OH, OW, C)``, ``x (N, H, W, C)``, int ``pool``, int
        ``stride`` -> ``dx (N, H, W, C)`` float64, a new array (no input
        modified, no memory shared with an input).
    seed : int
        Seed of the random test data.
    verbose : bool
        Print a line on success.
    time_limit : float or None
        Seconds one call of ``fn`` may take; ``None``: no limit (see
        :func:`check_maxpool_forward`).

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing case and entry; spots gradients copied to
        every tied maximum, overlapping windows overwriting instead of
        adding, dout spread evenly (average pooling), a mask not multiplied
        by dout, a stride ignored.
    TypeError
        If ``fn`` is not callable, ``seed`` not an int, ``verbose`` not a
        bool or ``time_limit`` not a number (before any case runs).
    ValueError
        If ``seed`` is negative or ``time_limit`` not positive.
    """
    seed, verbose, limit = _checked_arguments(fn, seed, verbose, time_limit)

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        k, s = o["pool"], o["stride"]
        x = _pool_input(case, seed + i)
        out, cache = maxpool2d_forward(x, k, s)
        dout = _normal(seed + 100 + i, *out.shape)
        expected = maxpool2d_backward(dout, cache)
        outcome = Outcome()
        call = _call(fn, {"dout": dout, "x": x, "pool": k, "stride": s}, time_limit=limit)
        if o.get("ties"):
            # any split among tied maxima: compare the structure, not convlib's choice
            yours = _check_outputs(outcome, ["dx"], call, [expected])
            if yours[0] is None:
                return outcome
            outcome.problems = [q for q in outcome.problems if not q.startswith("dx is wrong")]
            _check_tied(outcome, yours[0], x, dout, k, s)
            return outcome
        yours = _check_outputs(outcome, ["dx"], call, [expected])
        if outcome.problems and not _match_variants(
            outcome, yours, [expected], _backward_variants(x, dout, k, s)
        ):
            _routed_hints(outcome, ["dx"], yours, [expected], _BACKWARD_HINTS, case.feature)
        return outcome

    return _run_ladder(
        "max pool backward",
        POOL_BACKWARD_CASES,
        run,
        verbose,
        lambda case: _BACKWARD_HINTS.get(case.feature, {}).get("dx"),
    )


def _check_tied(
    outcome: Outcome, dx: np.ndarray, x: np.ndarray, dout: np.ndarray, k: int, s: int
) -> None:
    """Non-overlapping windows with ties: gradient only at maxima, summing to dout.

    The sums are compared with the one tolerance of every checker, relative
    to the size of ``dout``; the first failing window is named with its
    image and channel.
    """
    _, oh, ow, _ = dout.shape
    scale = float(np.abs(dout).max())
    tol = TOLERANCE * scale
    for i in range(oh):
        for j in range(ow):
            win_x = x[:, i * s : i * s + k, j * s : j * s + k, :]
            win_dx = dx[:, i * s : i * s + k, j * s : j * s + k, :]
            is_max = win_x == win_x.max(axis=(1, 2), keepdims=True)
            stray = np.abs(np.where(is_max, 0.0, win_dx)) > tol
            if stray.any():
                n, u, v, c = (int(a) for a in np.argwhere(stray)[0])
                outcome.problems.append(
                    f"dx is wrong at index {(n, i * s + u, j * s + v, c)}: window ({i}, {j}) of "
                    f"image {n}, channel {c} sends {win_dx[n, u, v, c]:.10g} to an element that "
                    f"is not its maximum"
                )
                outcome.hints.append(_BACKWARD_HINTS[""]["dx"])
                return
            total = win_dx.sum(axis=(1, 2))
            target = dout[:, i, j, :]
            bad = np.abs(total - target) > tol
            if bad.any():
                n, c = (int(a) for a in np.argwhere(bad)[0])
                n_max = int(is_max[n, :, :, c].sum())
                outcome.problems.append(
                    f"the gradient that window ({i}, {j}) of image {n}, channel {c} passes on "
                    f"sums to {total[n, c]:.10g} instead of its dout {target[n, c]:.10g} "
                    f"({n_max} tied maxima)"
                )
                if np.all(np.abs(total - is_max.sum(axis=(1, 2)) * target) <= tol * k * k):
                    outcome.hints.append(
                        "you gave the FULL gradient to every tied maximum, so the window passes on "
                        "(number of maxima) x dout. The max is one element's value: give it to one "
                        "of them (convlib: the first in row-major order), or split it among them"
                    )
                return
