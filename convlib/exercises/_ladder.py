"""The machinery every checker of :mod:`convlib.exercises` shares.

A checker runs the reader's function on a ladder of :class:`Case` objects,
simplest first; for each case it builds an :class:`Outcome` (problems found,
hints), and :func:`_run_ladder` stops at the first case with a problem and
raises :class:`ExerciseFailure` with a message in a learner's words.

The diagnostics are the same for every checker:

* the returned value's structure: a tuple of the right length, and a
  ``(out, cache)`` pair (the layers' convention) recognised and explained;
* every returned array: not ``None``, not a ragged list, real (complex is
  refused), float64 (the dtype is checked explicitly, so a float32 result is
  told so instead of failing on rounding), the expected shape, no memory
  shared with an input (:func:`~convlib.exercises._calling._aliasing`);
* the numbers: ONE relative tolerance, :data:`TOLERANCE`, and the failing
  entry printed (its index, both values to ten digits);
* hints: a wrong variant the checker recognises by recomputing it
  (:func:`_match_variants`), a constant factor (:func:`_scale_hint`), else the
  hint of what the case adds, for the output that is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import as_bool, as_int, as_real, check_callable
from ..gradcheck import _rel_errors
from ._calling import DEFAULT_TIME_LIMIT, Call, _aliasing, _CaseError

#: The one relative tolerance of every comparison (see ``convlib.rel_error``).
TOLERANCE = 1e-6
_TOL = TOLERANCE


class ExerciseFailure(AssertionError):
    """Raised by a checker; the message explains what went wrong."""


@dataclass(frozen=True)
class Case:
    """One rung of a ladder: what it adds, and its options.

    ``feature`` is a short key naming what the case adds (``"stride"``,
    ``"batch"``, ...); the checker routes its hints by it. It does not show
    in the messages, where ``adds`` says the same in words.
    """

    adds: str
    options: dict[str, Any] = field(default_factory=dict)
    feature: str = ""

    def describe(self) -> str:
        opts = ", ".join(f"{k} {v}" for k, v in self.options.items())
        return f"'{self.adds}' ({opts})" if opts else f"'{self.adds}'"


@dataclass
class Outcome:
    """What one case found: problems (empty when it passed) and hints.

    ``focus`` replaces the closing "look first at what this case adds" line
    when the checker knows better (an Adam case failing at its first step).
    ``notes`` are printed after the success line (e.g. a correct but
    different formula). ``explained`` marks a problem explained in full,
    which needs no hint of what the case adds.
    """

    problems: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    focus: str | None = None
    notes: list[str] = field(default_factory=list)
    #: a problem already explained in full (a ``(out, cache)`` pair): no routed hint
    explained: bool = False


# --------------------------------------------------------------------------
# The checker's own arguments
# --------------------------------------------------------------------------


def _checked_arguments(
    fn: Any, seed: Any, verbose: Any, time_limit: Any = DEFAULT_TIME_LIMIT
) -> tuple[int, bool, float | None]:
    """Check a checker's own arguments before any case runs.

    A ``fn`` that cannot be called is the caller's mistake, not a bug in the
    reader's function, so it is a ``TypeError`` naming ``fn`` rather than an
    :class:`ExerciseFailure` on the first case. ``seed`` is an int >= 0 (the
    cases add to it), ``verbose`` a bool, ``time_limit`` seconds > 0 or
    ``None`` (no limit: the function runs in the calling thread).
    Returns ``(seed, verbose, time_limit)``.
    """
    check_callable("fn", fn)
    limit = None if time_limit is None else as_real("time_limit", time_limit, low=0, low_open=True)
    return as_int("seed", seed, 0), as_bool("verbose", verbose), limit


# --------------------------------------------------------------------------
# What the function returned
# --------------------------------------------------------------------------


def _safe_shape(value: Any) -> tuple[int, ...] | None:
    """``np.shape(value)``, or ``None`` for a ragged list (where NumPy raises)."""
    try:
        return tuple(np.shape(value))
    except (ValueError, TypeError):
        return None


def _as_result(
    name: str, value: Any, shape: tuple[int, ...]
) -> tuple[np.ndarray | None, str | None]:
    """The value as a float64 array of the expected shape, or a problem.

    Lists and Python numbers are accepted when they hold float64 numbers;
    the dtype of an array is checked explicitly, complex is refused.
    """
    if value is None:
        return None, (
            f"{name} is None: return an array of shape {shape} "
            "(is the function still a stub, or does it miss a `return`?)"
        )
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        arr = None
    if arr is None or (arr.dtype == object and isinstance(value, (list, tuple))):
        return None, (
            f"{name} is a {type(value).__name__} of pieces of different shapes (a ragged list); "
            f"return one array of shape {shape} (np.stack the pieces, or fill a preallocated array)"
        )
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            return None, f"{name} is a {type(value).__name__}, not an array of numbers"
    kind = arr.dtype.kind
    if kind == "c":
        return None, (
            f"{name} is complex ({arr.dtype}); the answer is real: return real numbers "
            "(after an FFT, take the .real part of the result)"
        )
    if kind in "biu":
        return None, (
            f"{name} has dtype {arr.dtype}: integers cannot hold the answer; create it as a float "
            f"array (np.zeros(shape), not np.zeros_like of an integer array or dtype=int)"
        )
    if kind != "f":
        return None, f"{name} is a {type(value).__name__} of dtype {arr.dtype}, not numbers"
    if arr.dtype != np.float64:
        return None, (
            f"your result {name} is {arr.dtype}; the inputs are float64, so compute and return "
            f"float64 (look for dtype=np.{arr.dtype}, .astype or an array created as {arr.dtype})"
        )
    if arr.shape != shape:
        return None, f"{name} has shape {arr.shape}, expected {shape}"
    return arr, None


def _fmt(v: float) -> str:
    return f"{v + 0.0:.10g}"  # + 0.0: no "-0"


def _compare(name: str, yours: np.ndarray, expected: np.ndarray) -> str | None:
    """``None`` when they agree within :data:`TOLERANCE`, else where they differ most."""
    yours, expected = np.asarray(yours, dtype=float), np.asarray(expected, dtype=float)
    if yours.shape != expected.shape:
        return f"{name} has shape {yours.shape}, expected {expected.shape}"
    if not np.all(np.isfinite(expected)):  # a wrong variant may overflow: compare exactly
        return None if np.array_equal(yours, expected, equal_nan=True) else f"{name} differs"
    if not np.all(np.isfinite(yours)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(yours))[0])
        where = f" at index {bad}" if bad else ""
        return f"{name} contains {yours[bad]}{where} (overflow, or 0/0?)"
    errs = _rel_errors(yours, expected, 1e-3)
    if errs.size == 0 or errs.max() <= _TOL:
        return None
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(errs)), errs.shape))
    where = f" at index {worst}" if worst else ""
    off = f"; {100 * float((errs > _TOL).mean()):.0f}% of entries are off" if errs.size > 1 else ""
    return (
        f"{name} is wrong{where}: yours {_fmt(yours[worst])}, expected {_fmt(expected[worst])} "
        f"(relative error {errs.max():.2e}, tolerance {_TOL:g}){off}"
    )


def _scale_hint(
    name: str, yours: np.ndarray, expected: np.ndarray, factors: dict[str, float] | None = None
) -> str | None:
    """Say so when ``yours`` is ``expected`` times a constant other than 1, everywhere.

    ``factors`` names the sizes of the case (``{"N": 3, ...}``): a ratio equal
    to one of them, or to its inverse, is named.
    """
    yours, expected = np.asarray(yours, dtype=float), np.asarray(expected, dtype=float)
    if yours.shape != expected.shape or not np.all(np.isfinite(yours)):
        return None
    big = np.abs(expected) > 1e-3 * np.abs(expected).max() if expected.size else expected
    if not np.any(big):
        return None
    ratio = float(np.median(yours[big] / expected[big]))
    if np.isclose(ratio, 1.0, rtol=1e-6) or _compare(name, yours, ratio * expected) is not None:
        return None
    named = ""
    for label, q in (factors or {}).items():
        if q != 1 and np.isclose(ratio, q, rtol=1e-6):
            named = f" (= {label})"
        elif q != 1 and np.isclose(ratio, 1 / q, rtol=1e-6):
            named = f" (= 1/{label})"
        if named:
            break
    if np.isclose(ratio, -1.0, rtol=1e-6):
        return f"{name} is the right answer times -1: a sign is flipped"
    return f"{name} is the right answer times {ratio:.6g}{named}: a missing or extra factor"


def _check_outputs(
    outcome: Outcome,
    names: Sequence[str],
    call: Call,
    expected: Sequence[np.ndarray],
) -> list[np.ndarray | None]:
    """Check the structure, each returned array, and the inputs; record problems.

    Returns the arrays (``None`` where one could not be read) in the order of
    ``names``.
    """
    outcome.problems.extend(call.problems)  # inputs modified in place
    result = call.result
    if result is None:
        what = names[0] if len(names) == 1 else f"the tuple ({', '.join(names)})"
        outcome.problems.append(f"your function returned None instead of {what}")
        outcome.hints.append(
            "is the function still a stub (`...` or `pass`), or does it miss its `return`?"
        )
        outcome.explained = True
        return [None] * len(names)
    if len(names) > 1:
        if not isinstance(result, (tuple, list)) or len(result) != len(names):
            got = (
                f"a {type(result).__name__} of {len(result)}"
                if isinstance(result, (tuple, list))
                else f"a {type(result).__name__}"
            )
            outcome.problems.append(f"return the tuple ({', '.join(names)}); you returned {got}")
            return [None] * len(names)
    else:
        if (
            isinstance(result, (tuple, list))
            and len(result) == 2
            and _safe_shape(result[0]) == np.shape(expected[0])
        ):
            outcome.problems.append(
                f"{names[0]} is a tuple of two: ({names[0]}, cache)? The layers of convlib return "
                f"(out, cache) for their backward pass, but this exercise's function returns "
                f"only {names[0]}"
            )
            outcome.hints.append(f"return {names[0]} alone; the checker needs no cache")
            outcome.explained = True
            return [None]
        result = (result,)
    arrays: list[np.ndarray | None] = []
    for name, value, ref in zip(names, result, expected):
        arr, problem = _as_result(name, value, np.shape(ref))
        if problem is None:
            problem = _aliasing(call, name, value)
        if problem is None:
            assert arr is not None  # _as_result gives an array whenever there is no problem
            problem = _compare(name, arr, ref)
        if problem:
            outcome.problems.append(problem)
        arrays.append(arr)
    return arrays


def _wrong(yours: Sequence[np.ndarray | None], expected: Sequence[np.ndarray]) -> list[int]:
    """Indices of the outputs that were read but disagree with ``expected``."""
    return [
        k
        for k, (y, e) in enumerate(zip(yours, expected))
        if y is not None and _compare("", y, e) is not None
    ]


def _match_variants(
    outcome: Outcome,
    yours: Sequence[np.ndarray | None],
    expected: Sequence[np.ndarray],
    variants: Sequence[tuple[str, Sequence[np.ndarray | None]]],
) -> bool:
    """Add the hint of every known wrong variant that explains the wrong outputs.

    A variant (hint, outputs) explains them when every output of yours that
    disagrees with ``expected`` agrees with the variant's, and every output
    of yours that is right agrees with the variant's too (a ``None`` output
    of the variant: the same as the correct one). Returns whether one did.
    """
    wrong = _wrong(yours, expected)
    if not wrong:
        return False
    found = False

    def agree(a: np.ndarray | None, b: np.ndarray | None) -> bool:
        return a is not None and b is not None and _compare("", a, b) is None

    for hint, outputs in variants:
        explains = all(agree(yours[k], outputs[k]) for k in wrong)
        consistent = all(
            outputs[k] is None or yours[k] is None or agree(yours[k], outputs[k])
            for k in range(len(outputs))
            if k not in wrong
        )
        if explains and consistent:
            outcome.hints.append(hint)
            found = True
    return found


def _scale_hints(
    outcome: Outcome,
    names: Sequence[str],
    yours: Sequence[np.ndarray | None],
    expected: Sequence[np.ndarray],
    factors: dict[str, float] | None = None,
) -> bool:
    """Add a constant-factor hint for each wrong output that is the answer times a constant."""
    found = False
    for k in _wrong(yours, expected):
        y = yours[k]
        hint = None if y is None else _scale_hint(names[k], y, expected[k], factors)
        if hint:
            outcome.hints.append(hint)
            found = True
    return found


def _routed_hints(
    outcome: Outcome,
    names: Sequence[str],
    yours: Sequence[np.ndarray | None],
    expected: Sequence[np.ndarray],
    table: dict[str, dict[str, str]],
    feature: str,
) -> None:
    """The hint of what the case adds, for each wrong output, from ``table[feature][name]``.

    Falls back to ``table[""][name]`` (the formula of that output) when the
    feature has no hint for it, and to ``table[feature]["*"]`` for any output.
    """
    if outcome.explained:
        return
    wrong = [names[k] for k in _wrong(yours, expected)]
    if not wrong:
        wrong = [n for n, y in zip(names, yours) if y is None]  # shape or dtype problems
    for name in wrong:
        row = table.get(feature, {})
        hint = row.get(name) or row.get("*") or table.get("", {}).get(name)
        if hint:
            outcome.hints.append(hint)


# --------------------------------------------------------------------------
# The ladder
# --------------------------------------------------------------------------


def _run_ladder(
    what: str,
    cases: Sequence[Case],
    run_case: Callable[[Case, int], Outcome],
    verbose: bool,
    raised_hint: Callable[[Case], str | None] | None = None,
) -> int:
    """Run the cases in order; raise :class:`ExerciseFailure` at the first with a problem.

    ``raised_hint(case)`` gives the hint of what a case adds when the reader's
    function raised or timed out on it.
    """
    passed: list[Case] = []
    notes: list[str] = []
    for i, case in enumerate(cases):
        try:
            outcome = run_case(case, i)
        except _CaseError as err:
            outcome = Outcome(list(err.problems), list(err.hints))
            extra = raised_hint(case) if raised_hint else None
            if extra and not outcome.hints:
                outcome.hints.append(f"what this case adds: {extra}")
        if not outcome.problems:
            passed.append(case)
            notes.extend(outcome.notes)
            continue
        lines = [f"{what} check FAILED on case {i + 1} of {len(cases)}, {case.describe()}"]
        lines += [p if p.startswith("  ") else f"  - {p}" for p in outcome.problems]
        lines += [f"  hint: {h}" for h in dict.fromkeys(outcome.hints)]
        if outcome.focus:
            lines.append(f"  ({outcome.focus})")
        elif passed:
            lines.append(
                f"  ({len(passed)} simpler case(s) passed, up to '{passed[-1].adds}', so look "
                f"first at what this case adds: {case.adds})"
            )
        raise ExerciseFailure("\n".join(lines))
    if verbose:
        print(f"{what}: all {len(cases)} cases passed")
        for note in dict.fromkeys(notes):
            print(f"  note: {note}")
    return len(cases)


def _normal(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)
