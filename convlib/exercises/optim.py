"""Checker for a reader's Adam step ``(param, grad, m, v, t, lr, beta1, beta2, eps) -> (param, m, v)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..optim import Adam
from ._ladder import (
    Case,
    Outcome,
    _call,
    _check_outputs,
    _checked_arguments,
    _compare,
    _run_ladder,
)

__all__ = ["ADAM_CASES", "check_adam_step"]


ADAM_CASES: tuple[Case, ...] = (
    Case("the first step", {"steps": 1, "betas": (0.9, 0.999)}),
    Case("five steps", {"steps": 5, "betas": (0.9, 0.999)}),
    Case("other betas", {"steps": 4, "betas": (0.5, 0.9)}),
)


def check_adam_step(fn: Callable[..., Any], *, seed: int = 0, verbose: bool = True) -> int:
    """Grade one Adam update ``fn(param, grad, m, v, t, lr, beta1, beta2, eps) -> (param, m, v)``.

    ``t`` counts steps from 1; the function returns the updated parameter
    and moment estimates (it may also update them in place).

    Parameters
    ----------
    fn : callable
        Arrays ``param, grad, m, v`` of one shape, int ``t >= 1``, floats
        ``lr, beta1, beta2, eps`` -> ``(param, m, v)``.
    seed : int
    verbose : bool

    Returns
    -------
    int
        Number of cases passed (all of them).

    Raises
    ------
    ExerciseFailure
        Names the first failing step; spots a missing bias correction.
    TypeError
        If ``fn`` is not callable, ``seed`` not an int or ``verbose`` not a
        bool (before any case runs).
    ValueError
        If ``seed`` is negative.
    """
    seed, verbose = _checked_arguments(fn, seed, verbose)
    lr, eps = 1e-2, 1e-8

    def run(case: Case, i: int) -> Outcome:
        b1, b2 = case.options["betas"]
        rng = np.random.default_rng(seed + i)
        shape = (3, 4)
        start = rng.standard_normal(shape)
        grads = [
            rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3, shape)
            for _ in range(case.options["steps"])
        ]
        ref_p, ref_g = start.copy(), np.zeros(shape)
        opt = Adam([(ref_p, ref_g)], lr=lr, betas=(b1, b2), eps=eps)
        p, m, v = start.copy(), np.zeros(shape), np.zeros(shape)
        outcome = Outcome()
        for t, g in enumerate(grads, start=1):
            ref_g[...] = g
            opt.step()
            result = _call(fn, case, p, g, m, v, t, lr, b1, b2, eps)
            yp, ym, yv = _check_outputs(
                outcome, ["param", "m", "v"], result, [ref_p, opt.m[0], opt.v[0]]
            )
            if outcome.problems:
                outcome.problems.insert(0, f"at step t = {t}:")
                if yp is not None and t == 1:
                    # Without bias correction the first step is (1-b1)/sqrt(1-b2) times larger.
                    uncorrected = start - lr * ((1 - b1) * g) / (np.sqrt((1 - b2) * g**2) + eps)
                    if _compare("param", yp, uncorrected) is None:
                        outcome.hints.append(
                            "no bias correction: m and v start at 0, so early on they are too small "
                            "by factors 1 - beta1**t and 1 - beta2**t; use m / (1 - beta1**t) and "
                            "v / (1 - beta2**t) in the update"
                        )
                return outcome
            p, m, v = (np.array(a, dtype=np.float64) for a in (yp, ym, yv))
        return outcome

    return _run_ladder("Adam step", ADAM_CASES, run, verbose)
