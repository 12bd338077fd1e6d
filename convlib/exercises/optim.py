"""Checker for a reader's Adam step ``(param, grad, m, v, t, lr, beta1, beta2, eps) -> (param, m, v)``.

Each step is compared with ``convlib.update_rules.adam_update`` applied to the
state the reader's function returned at the previous step, so a failure is
local to one step. The cases vary the betas, the learning rate and ``eps``
(an ignored argument shows). On a failure the checker recomputes the typical
wrong variants -- no bias correction, only one moment corrected, ``t`` off by
one or stuck at 1, ``eps`` inside the square root or ignored, ``lr``
ignored, the corrected moments stored, the state reset, the betas swapped,
``|g|`` for ``g**2``, the step's sign -- and names the one that matches.

The Adam paper's "efficient" form (Kingma & Ba, section 2: the bias
corrections folded into the step size, ``eps`` added to ``sqrt(v)``) is
accepted, with a note: it is the standard form with
``eps_hat = eps * sqrt(1 - beta2**t)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..update_rules import adam_update
from ._calling import DEFAULT_TIME_LIMIT, _call
from ._ladder import (
    Case,
    Outcome,
    _as_result,
    _check_outputs,
    _checked_arguments,
    _compare,
    _match_variants,
    _routed_hints,
    _run_ladder,
)

__all__ = ["ADAM_CASES", "check_adam_step"]

_B = (0.9, 0.999)
ADAM_CASES: tuple[Case, ...] = (
    Case("the first step", {"steps": 1, "betas": _B, "lr": 1e-2, "eps": 1e-8}),
    Case("five steps", {"steps": 5, "betas": _B, "lr": 1e-2, "eps": 1e-8}, "steps"),
    Case("other betas", {"steps": 4, "betas": (0.5, 0.9), "lr": 1e-2, "eps": 1e-8}, "betas"),
    Case("another learning rate", {"steps": 3, "betas": _B, "lr": 0.1, "eps": 1e-8}, "lr"),
    Case("a large eps", {"steps": 3, "betas": _B, "lr": 1e-2, "eps": 0.1}, "eps"),
)

_HINTS: dict[str, dict[str, str]] = {
    "": {
        "param": "param - lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - beta1**t) "
        "and v_hat = v / (1 - beta2**t) from the NEW m and v",
        "m": "m = beta1 * m + (1 - beta1) * grad",
        "v": "v = beta2 * v + (1 - beta2) * grad**2",
    },
    "steps": {
        "*": "carry the state over: update the m and v passed in, and correct with this step's t"
    },
    "betas": {"*": "use the beta1 and beta2 arguments: beta1 for m, beta2 for v"},
    "lr": {"*": "use the lr argument, not a learning rate of your own"},
    "eps": {"*": "use the eps argument, added to sqrt(v_hat) outside the square root"},
}
_NO_CORRECTION = (
    "no bias correction: m and v start at 0, so early on they are too small by factors "
    "1 - beta1**t and 1 - beta2**t; use m / (1 - beta1**t) and v / (1 - beta2**t) in the update"
)


def _adam(
    p: np.ndarray,
    g: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    t: int,
    lr: float,
    b1: float,
    b2: float,
    eps: float,
    *,
    tm: float | None = None,
    tv: float | None = None,
    eps_inside: bool = False,
    g2: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One Adam step, with knobs for the classic mistakes; returns (param, m, v, m_hat, v_hat).

    ``tm``/``tv``: the exponent of each bias correction (``None``: ``t``;
    ``0`` switches that correction off, as ``beta**0 = 1`` would divide by 0).
    """
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * (g * g if g2 is None else g2)
    em, ev = t if tm is None else tm, t if tv is None else tv
    mh = m / (1 - b1**em) if em else m
    vh = v / (1 - b2**ev) if ev else v
    denom = np.sqrt(vh + eps) if eps_inside else np.sqrt(vh) + eps
    return p - lr * mh / denom, m, v, mh, vh


def _variants(
    p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, o: dict[str, Any]
) -> list[tuple[str, list[np.ndarray | None]]]:
    lr, (b1, b2), eps = o["lr"], o["betas"], o["eps"]

    def a(**kw: Any) -> tuple[np.ndarray, ...]:
        args = {"lr": lr, "b1": b1, "b2": b2, "eps": eps, **kw}
        return _adam(
            p, g, m, v, t, args.pop("lr"), args.pop("b1"), args.pop("b2"), args.pop("eps"), **args
        )

    def pmv(r: tuple[np.ndarray, ...]) -> list[np.ndarray | None]:
        return list(r[:3])

    ref = a()
    out: list[tuple[str, list[np.ndarray | None]]] = [
        (_NO_CORRECTION, pmv(a(tm=0, tv=0))),
        ("only m is bias-corrected: correct v too, v_hat = v / (1 - beta2**t)", pmv(a(tv=0))),
        ("only v is bias-corrected: correct m too, m_hat = m / (1 - beta1**t)", pmv(a(tm=0))),
        (
            f"the bias correction uses t + 1: at step t (here {t}) it is 1 - beta**t, with t "
            "counting from 1",
            pmv(a(tm=t + 1, tv=t + 1)),
        ),
        (
            "eps belongs OUTSIDE the square root: sqrt(v_hat) + eps, not sqrt(v_hat + eps)",
            pmv(a(eps_inside=True)),
        ),
        (
            "you returned the bias-corrected m_hat and v_hat as the new state: return the raw m "
            "and v (the correction is applied afresh at every step)",
            [ref[0], ref[3], ref[4]],
        ),
        (
            "the betas are swapped: beta1 averages the gradient (m), beta2 its square (v)",
            pmv(a(b1=b2, b2=b1)),
        ),
        ("v averages the SQUARED gradient, grad**2, not |grad|", pmv(a(g2=np.abs(g)))),
        (
            "your step goes uphill: SUBTRACT lr * m_hat / (sqrt(v_hat) + eps) from param",
            [2 * p - ref[0], None, None],
        ),
    ]
    if t > 1:
        out.append(
            (
                f"the bias correction uses t - 1 (here {t - 1}): at step t it is 1 - beta**t, "
                "with t counting from 1",
                pmv(a(tm=t - 1, tv=t - 1)),
            )
        )
        out.append(
            (
                "your bias correction uses t = 1 at every step: use the t passed in",
                pmv(a(tm=1, tv=1)),
            )
        )
        zero = _adam(p, g, np.zeros_like(m), np.zeros_like(v), t, lr, b1, b2, eps)
        out.append(
            (
                "the moments restart from zero at every step: update the m and v passed in "
                "(m = beta1 * m + (1 - beta1) * grad), they carry the history",
                pmv(zero),
            )
        )
    for own in (0.0, 1e-8, 1e-7):
        if own != eps:
            out.append(
                (
                    f"the eps argument ({eps:g}) is ignored: your step uses eps = {own:g}",
                    [a(eps=own)[0], None, None],
                )
            )
    for own in (1e-3, 1e-2, 0.1, 1.0):
        if own != lr:
            out.append(
                (
                    f"the lr argument ({lr:g}) is ignored: your step uses lr = {own:g}",
                    [a(lr=own)[0], None, None],
                )
            )
    return out


def _efficient_param(
    p: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, o: dict[str, Any]
) -> np.ndarray:
    """The paper's efficient form from the NEW m and v: eps added to sqrt(v), not sqrt(v_hat)."""
    (b1, b2), lr, eps = o["betas"], o["lr"], o["eps"]
    alpha_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    return p - alpha_t * m / (np.sqrt(v) + eps)


def check_adam_step(
    fn: Callable[..., Any],
    *,
    seed: int = 0,
    verbose: bool = True,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> int:
    """Grade one Adam update ``fn(param, grad, m, v, t, lr, beta1, beta2, eps) -> (param, m, v)``.

    ``t`` counts steps from 1; the function returns the updated parameter
    and moment estimates. It may update ``param``, ``m`` and ``v`` in place
    (and return them), but not ``grad``. The Adam paper's "efficient" form
    (``eps`` added to ``sqrt(v)`` and the corrections folded into the step
    size) is accepted, with a note saying how it differs.

    Parameters
    ----------
    fn : callable
        Arrays ``param, grad, m, v`` of one shape, int ``t >= 1``, floats
        ``lr, beta1, beta2, eps`` -> ``(param, m, v)``, float64.
    seed : int
        Seed of the random test data.
    verbose : bool
        Print a line on success (and the notes).
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
        Names the first failing case, step and entry; spots a missing or
        partial bias correction, ``t`` off by one or stuck, ``eps`` inside
        the square root or ignored, ``lr`` ignored, the corrected moments
        stored, the state reset, swapped betas, ``grad`` modified in place.
    TypeError
        If ``fn`` is not callable, ``seed`` not an int, ``verbose`` not a
        bool or ``time_limit`` not a number (before any case runs).
    ValueError
        If ``seed`` is negative or ``time_limit`` not positive.
    """
    seed, verbose, limit = _checked_arguments(fn, seed, verbose, time_limit)
    first = ADAM_CASES[0].options

    def run(case: Case, i: int) -> Outcome:
        o = case.options
        lr, (b1, b2), eps = o["lr"], o["betas"], o["eps"]
        rng = np.random.default_rng(seed + i)
        shape = (3, 4)
        p = rng.standard_normal(shape)
        grads = [
            rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3, shape)
            for _ in range(o["steps"])
        ]
        m, v = np.zeros(shape), np.zeros(shape)
        outcome = Outcome()
        names = ["param", "m", "v"]
        for t, g in enumerate(grads, start=1):
            ref = list(adam_update(p.copy(), g, m.copy(), v.copy(), t, lr, b1, b2, eps))
            inputs = {
                "param": p.copy(),
                "grad": g.copy(),
                "m": m.copy(),
                "v": v.copy(),
                "t": t,
                "lr": lr,
                "beta1": b1,
                "beta2": b2,
                "eps": eps,
            }
            call = _call(fn, inputs, time_limit=limit, may_modify=("param", "m", "v"))
            result = call.result
            if isinstance(result, (tuple, list)) and len(result) == 3:
                yp, _ = _as_result("param", result[0], shape)
                eff = _efficient_param(p, ref[1], ref[2], t, o)
                if (
                    yp is not None
                    and _compare("param", yp, ref[0])
                    and not _compare("param", yp, eff)
                ):
                    ref[0] = eff
                    outcome.notes.append(
                        "your step is the Adam paper's 'efficient' form (eps added to sqrt(v) "
                        "and the corrections folded into the step size): accepted; it equals "
                        "the standard form with eps_hat = eps * sqrt(1 - beta2**t), which "
                        "convlib and PyTorch do not use"
                    )
            yours = _check_outputs(outcome, names, call, ref)
            if outcome.problems:
                outcome.problems.insert(0, f"at step t = {t}:")
                _hints(outcome, yours, ref, _variants(p, g, m, v, t, o), case, t, i)
                return outcome
            p, m, v = (np.array(y, dtype=np.float64) for y in yours)
        return outcome

    def _hints(
        outcome: Outcome,
        yours: list[np.ndarray | None],
        ref: list[np.ndarray],
        variants: list[tuple[str, list[np.ndarray | None]]],
        case: Case,
        t: int,
        i: int,
    ) -> None:
        if t == 1 and any(y is not None and not np.all(np.isfinite(y)) for y in yours):
            outcome.hints.append(
                "at t = 1 a division by 0? the bias correction divides by 1 - beta**t with t "
                "counting from 1 (1 - beta**0 = 0), and eps keeps sqrt(v_hat) + eps above 0"
            )
        elif not _match_variants(outcome, yours, ref, variants):
            _routed_hints(outcome, ["param", "m", "v"], yours, ref, _HINTS, case.feature)
        if i == 0:
            return
        if t == 1:
            differs = [
                f"{k} {case.options[k]}"
                for k in ("betas", "lr", "eps")
                if case.options[k] != first[k]
            ]
            outcome.focus = (
                f"it fails at the first step of this case, t = 1, so the number of steps is not "
                f"the cause; what differs from the first case is "
                f"{', '.join(differs) if differs else 'only the random numbers'}"
            )
        else:
            outcome.focus = (
                f"step 1 of this case passed and step t = {t} failed: look first at what carries "
                f"over from step to step -- m, v and the step count t"
                + (
                    f" -- and at what this case adds: {case.adds}"
                    if case.feature != "steps"
                    else ""
                )
            )

    return _run_ladder(
        "Adam step",
        ADAM_CASES,
        run,
        verbose,
        lambda case: _HINTS.get(case.feature, {}).get("*"),
    )
