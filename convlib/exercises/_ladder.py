"""The machinery every checker of :mod:`convlib.exercises` shares.

A checker runs the reader's function on a ladder of :class:`Case` objects,
simplest first; for each case it builds an :class:`Outcome` (problems found,
hints), and :func:`_run_ladder` stops at the first case with a problem and
raises :class:`ExerciseFailure` with a message in a learner's words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import as_bool, as_int, check_callable
from ..gradcheck import _rel_errors

_TOL = 1e-6


class ExerciseFailure(AssertionError):
    """Raised by a checker; the message explains what went wrong."""


@dataclass(frozen=True)
class Case:
    """One rung of a ladder: what it adds, and its options."""

    adds: str
    options: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        opts = ", ".join(f"{k} {v}" for k, v in self.options.items())
        return f"'{self.adds}' ({opts})" if opts else f"'{self.adds}'"


@dataclass
class Outcome:
    """What one case found: problems (empty when it passed) and hints."""

    problems: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------
# The shared machinery
# --------------------------------------------------------------------------


def _checked_arguments(fn: Any, seed: Any, verbose: Any) -> tuple[int, bool]:
    """Check a checker's own arguments before any case runs; return ``(seed, verbose)``.

    A ``fn`` that cannot be called is the caller's mistake, not a bug in the
    reader's function, so it is a ``TypeError`` naming ``fn`` rather than an
    :class:`ExerciseFailure` on the first case. ``seed`` is an int >= 0 (the
    cases add to it), ``verbose`` a bool.
    """
    check_callable("fn", fn)
    return as_int("seed", seed, 0), as_bool("verbose", verbose)


def _call(fn: Callable[..., Any], case: Case, *args: Any) -> Any:
    """Call the reader's function with copies, turning exceptions into advice."""
    args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    try:
        with np.errstate(all="ignore"):
            return fn(*args)
    except Exception as exc:  # the reader's code may fail in any way
        raise ExerciseFailure(
            f"your function raised {type(exc).__name__}: {exc}\n  on case {case.describe()}"
        ) from exc


def _as_result(
    name: str, value: Any, shape: tuple[int, ...]
) -> tuple[np.ndarray | None, str | None]:
    """The value as a float64 array of the expected shape, or a problem."""
    if value is None:
        return None, f"{name} is None; return an array of shape {shape}"
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None, f"{name} is a {type(value).__name__}, not an array of numbers"
    if arr.shape != shape:
        return None, f"{name} has shape {arr.shape}, expected {shape}"
    return arr, None


def _compare(name: str, yours: np.ndarray, expected: np.ndarray) -> str | None:
    """``None`` when they agree, else a line saying where they differ most."""
    yours, expected = np.asarray(yours, dtype=float), np.asarray(expected, dtype=float)
    if not np.all(np.isfinite(yours)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(yours))[0])
        return f"{name} contains {yours[bad]} at index {bad} (overflow, or 0/0?)"
    errs = _rel_errors(yours, expected, 1e-3)
    if errs.size == 0 or errs.max() <= _TOL:
        return None
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(errs)), errs.shape))
    where = f" at index {worst}" if worst else ""
    return (
        f"{name} is wrong: relative error {errs.max():.2e}{where} "
        f"(yours {yours[worst]:.6g}, expected {expected[worst]:.6g}); "
        f"{100 * float((errs > _TOL).mean()):.0f}% of entries are off"
    )


def _scale_hint(name: str, yours: np.ndarray, expected: np.ndarray) -> str | None:
    """Say so when ``yours`` is ``expected`` times a constant other than 1."""
    yours, expected = np.asarray(yours, dtype=float), np.asarray(expected, dtype=float)
    if not np.all(np.isfinite(yours)):
        return None
    mask = np.abs(expected) > 1e-3 * np.abs(expected).max()
    if not mask.any():
        return None
    ratio = yours[mask] / expected[mask]
    if np.allclose(ratio, ratio.flat[0], rtol=1e-6) and not np.isclose(ratio.flat[0], 1.0):
        return f"{name} is the right answer times {ratio.flat[0]:.6g}: a missing or extra factor"
    return None


def _check_outputs(
    outcome: Outcome, names: Sequence[str], result: Any, expected: Sequence[np.ndarray]
) -> list[np.ndarray | None]:
    """Shape-check and compare each returned array; record problems."""
    if len(names) > 1:
        if not isinstance(result, (tuple, list)) or len(result) != len(names):
            outcome.problems.append(f"return the tuple ({', '.join(names)})")
            return [None] * len(names)
    else:
        result = (result,)
    arrays: list[np.ndarray | None] = []
    for name, value, ref in zip(names, result, expected):
        arr, problem = _as_result(name, value, np.shape(ref))
        if problem:
            outcome.problems.append(problem)
        else:
            assert arr is not None  # _as_result gives an array whenever there is no problem
            problem = _compare(name, arr, ref)
            if problem:
                outcome.problems.append(problem)
                scale = _scale_hint(name, arr, ref)
                if scale:
                    outcome.hints.append(scale)
        arrays.append(arr)
    return arrays


def _run_ladder(
    what: str, cases: Sequence[Case], run_case: Callable[[Case, int], Outcome], verbose: bool
) -> int:
    passed: list[Case] = []
    for i, case in enumerate(cases):
        outcome = run_case(case, i)
        if not outcome.problems:
            passed.append(case)
            continue
        lines = [f"{what} check FAILED on case {i + 1} of {len(cases)}, {case.describe()}"]
        lines += [f"  - {p}" for p in outcome.problems]
        lines += [f"  hint: {h}" for h in dict.fromkeys(outcome.hints)]
        if passed:
            lines.append(
                f"  ({len(passed)} simpler case(s) passed, up to '{passed[-1].adds}', so look "
                f"first at what this case adds: {case.adds})"
            )
        raise ExerciseFailure("\n".join(lines))
    if verbose:
        print(f"{what}: all {len(cases)} cases passed")
    return len(cases)


def _normal(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)
