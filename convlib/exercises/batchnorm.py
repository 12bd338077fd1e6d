"""Checker for a reader's batch-norm backward ``(dout, x, gamma, eps) -> (dx, dgamma, dbeta)``.

On a failure the checker recomputes the typical wrong variants with one
function, :func:`_bn_variant` -- the unbiased variance (``ddof=1``),
``eps`` outside the square root or missing, the variance's or the mean's
term of ``dx`` dropped (or both: the statistics treated as constants),
``gamma`` forgotten, ``M = N`` for feature maps, ``dgamma`` from ``x``
instead of ``xhat`` -- and names the one that matches. The case with a large
``eps`` makes the ``eps`` mistakes visible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..batchnorm import batchnorm_backward, batchnorm_forward
from ._calling import DEFAULT_TIME_LIMIT, _call
from ._ladder import (
    Case,
    Outcome,
    _check_outputs,
    _checked_arguments,
    _compare,
    _match_variants,
    _routed_hints,
    _run_ladder,
    _scale_hints,
)

__all__ = ["BATCHNORM_CASES", "check_batchnorm_backward"]


BATCHNORM_CASES: tuple[Case, ...] = (
    Case("a small batch of dense features", {"x": (4, 3), "eps": 1e-5}),
    Case("a larger batch and a large eps", {"x": (16, 5), "eps": 0.1}, "eps"),
    Case(
        "conv features (N, H, W, C), statistics per channel",
        {"x": (2, 3, 3, 4), "eps": 1e-5},
        "conv",
    ),
)

_HINTS: dict[str, dict[str, str]] = {
    "": {
        "dx": "with dxhat = dout * gamma and r = 1/sqrt(var + eps): dx = r/M * (M*dxhat - "
        "sum(dxhat) - xhat * sum(dxhat * xhat)), sums over the batch",
        "dgamma": "dgamma = sum over the batch of dout * xhat",
        "dbeta": "dbeta = sum over the batch of dout",
    },
    "eps": {
        "*": "eps sits inside the square root, r = 1/sqrt(var + eps), and it is the eps "
        "argument (here 0.1), not a constant of your own"
    },
    "conv": {
        "*": "for (N, H, W, C) features the statistics and the sums run over axes (0, 1, 2), "
        "one per channel, and M = N*H*W"
    },
}


def _bn_variant(
    dout: np.ndarray,
    x: np.ndarray,
    gamma: np.ndarray,
    eps: float,
    *,
    ddof: int = 0,
    eps_mode: str = "inside",
    mean_term: bool = True,
    var_term: bool = True,
    use_gamma: bool = True,
    m: int | None = None,
    dgamma_from_x: bool = False,
) -> list[np.ndarray | None]:
    """Batch norm's backward pass, right by default, or with one classic mistake."""
    axes = tuple(range(x.ndim - 1))
    big_m = x.size // x.shape[-1] if m is None else m
    mu = x.mean(axis=axes)
    var = x.var(axis=axes, ddof=ddof)
    std = {"inside": np.sqrt(var + eps), "outside": np.sqrt(var) + eps, "none": np.sqrt(var)}
    r = 1.0 / std[eps_mode]
    xhat = (x - mu) * r
    dgamma = (dout * (x if dgamma_from_x else xhat)).sum(axis=axes)
    dbeta = dout.sum(axis=axes)
    dxhat = dout * gamma if use_gamma else dout
    inner = big_m * dxhat
    if mean_term:
        inner = inner - dxhat.sum(axis=axes)
    if var_term:
        inner = inner - xhat * (dxhat * xhat).sum(axis=axes)
    return [r / big_m * inner, dgamma, dbeta]


def _variants(
    dout: np.ndarray, x: np.ndarray, gamma: np.ndarray, eps: float
) -> list[tuple[str, list[np.ndarray | None]]]:
    def v(**kw: Any) -> list[np.ndarray | None]:
        return _bn_variant(dout, x, gamma, kw.pop("eps", eps), **kw)

    out = [
        (
            "you used the unbiased variance (ddof=1, a division by M - 1); batch norm uses the "
            "biased one, np.var's default (a division by M)",
            v(ddof=1),
        ),
        (
            "eps belongs INSIDE the square root: r = 1/sqrt(var + eps), not 1/(sqrt(var) + eps)",
            v(eps_mode="outside"),
        ),
        ("eps is missing: r = 1/sqrt(var + eps), with the eps argument", v(eps_mode="none")),
        (
            "your dx treats the mean and the variance as constants; they are computed from x, "
            "so dx has two more terms: -mean(dxhat) and -xhat * mean(dxhat * xhat)",
            v(mean_term=False, var_term=False),
        ),
        (
            "dx lacks the variance's term, -xhat * sum(dxhat * xhat) / M: the variance depends "
            "on x too",
            v(var_term=False),
        ),
        (
            "dx lacks the mean's term, -sum(dxhat) / M: the mean depends on x too",
            v(mean_term=False),
        ),
        (
            "dx forgets gamma: the gradient that reaches xhat is dxhat = dout * gamma",
            v(use_gamma=False),
        ),
        ("dgamma multiplies dout by the NORMALIZED input xhat, not by x", v(dgamma_from_x=True)),
    ]
    for own in (1e-5, 1e-8, 1e-3):
        if own != eps:
            out.append(
                (f"the eps argument ({eps:g}) is ignored: your code uses eps = {own:g}", v(eps=own))
            )
    if x.ndim > 2:
        out.append(
            (
                f"M counts every value a statistic averages: for (N, H, W, C) features "
                f"M = N*H*W = {x.size // x.shape[-1]}, not N = {x.shape[0]}",
                v(m=x.shape[0]),
            )
        )
    return out


def check_batchnorm_backward(
    fn: Callable[..., Any],
    *,
    seed: int = 0,
    verbose: bool = True,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> int:
    """Grade a training-mode batch-norm backward ``fn(dout, x, gamma, eps) -> (dx, dgamma, dbeta)``.

    The forward normalizes every feature (the last axis) with the batch mean
    and the biased batch variance, then scales by ``gamma`` and shifts by
    ``beta``; statistics are over every axis but the last.

    Parameters
    ----------
    fn : callable
        ``dout`` and ``x`` of shape ``(N, D)`` or ``(N, H, W, C)``, ``gamma``
        of shape ``(D,)``, float ``eps`` -> ``dx`` (shape of ``x``),
        ``dgamma``, ``dbeta`` (shape of ``gamma``), float64 and new arrays
        (``x`` must not be modified, e.g. by ``x -= mu``).
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
        Names the first failing case and entry; spots ``dgamma``/``dbeta``
        averaged instead of summed, the unbiased variance, ``eps`` outside
        the square root or missing, a ``dx`` without the mean's or the
        variance's term (or both), ``gamma`` forgotten, ``M = N`` for
        feature maps, ``x`` modified in place.
    TypeError
        If ``fn`` is not callable, ``seed`` not an int, ``verbose`` not a
        bool or ``time_limit`` not a number (before any case runs).
    ValueError
        If ``seed`` is negative or ``time_limit`` not positive.
    """
    seed, verbose, limit = _checked_arguments(fn, seed, verbose, time_limit)

    def run(case: Case, i: int) -> Outcome:
        shape, eps = case.options["x"], case.options["eps"]
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
        call = _call(fn, {"dout": dout, "x": x, "gamma": gamma, "eps": eps}, time_limit=limit)
        names = ["dx", "dgamma", "dbeta"]
        yours = _check_outputs(outcome, names, call, expected)
        if not outcome.problems:
            return outcome
        m = x.size // c
        found = False
        for name, y, ref in zip(names[1:], yours[1:], expected[1:]):
            if y is not None and _compare(name, y, ref) and np.allclose(y * m, ref):
                outcome.hints.append(
                    f"{name} is averaged over the batch; it must be SUMMED: every one of the "
                    f"{m} normalized values used the same {name[1:]} (yours is the right answer "
                    f"times {1 / m:.6g} = 1/M)"
                )
                found = True
        if _match_variants(outcome, yours, expected, _variants(dout, x, gamma, eps)):
            found = True
        elif not found:
            found = _scale_hints(outcome, names, yours, expected, {"M": m, "N": shape[0]})
        if not found and not outcome.explained:
            _routed_hints(outcome, names, yours, expected, _HINTS, case.feature)
        return outcome

    return _run_ladder(
        "batch-norm backward",
        BATCHNORM_CASES,
        run,
        verbose,
        lambda case: _HINTS.get(case.feature, {}).get("*"),
    )
