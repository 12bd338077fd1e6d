"""Calling the reader's function: a time limit, exceptions kept in context, inputs watched.

:func:`_call` runs the reader's function on the checker's arrays and reports,
as problems of the case, everything that calling it revealed about the
function itself rather than about its numbers:

* an exception, with the line of the reader's code that raised it;
* a run longer than the time limit (an endless loop, usually);
* an argument changed in place (``x -= mu`` on the caller's ``x``).

The time limit uses no signal (``signal.alarm`` works only in the main thread
of the main interpreter, and not at all on Windows): the case runs in a
worker thread and the checker waits for it with a timeout, so the limit
works in any thread -- a Jupyter kernel, a test runner's worker, a thread of
the reader's own. The price: Python cannot kill a thread, so a function that
never returns keeps running in the background (as a daemon thread, which
does not keep the interpreter alive) after the checker has given up on it.
"""

from __future__ import annotations

import contextvars
import os
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Seconds one call of the reader's function may take before the case fails.
DEFAULT_TIME_LIMIT = 30.0

_HERE = os.path.dirname(os.path.abspath(__file__))
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))


class _CaseError(Exception):
    """Calling the reader's function failed: the case stops with these problems and hints."""

    def __init__(self, problems: list[str], hints: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.hints = hints


@dataclass
class Call:
    """One call of the reader's function: what it returned and what it did to its inputs."""

    result: Any
    inputs: dict[str, Any]
    #: names of the inputs the function may update in place (and return)
    may_modify: frozenset[str] = frozenset()
    problems: list[str] = field(default_factory=list)


def _where(exc: BaseException) -> str | None:
    """The deepest line of the reader's own code in the traceback of ``exc``."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [
        f
        for f in frames
        if not os.path.abspath(f.filename).startswith((_HERE, _NUMPY_DIR))
        and "threading.py" not in f.filename
    ]
    if not mine:
        return None
    f = mine[-1]
    line = f": `{f.line.strip()}`" if f.line else ""
    return f"line {f.lineno} of {f.name}{line}"


def _run_with_limit(
    fn: Callable[..., Any], inputs: Mapping[str, Any], time_limit: float | None
) -> Any:
    """``fn(*inputs.values())`` with floating-point warnings off, in a worker thread when limited."""
    args = tuple(inputs.values())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            # NumPy's error state is per thread (a context variable): set it here.
            with np.errstate(all="ignore"):
                box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001  (the reader's code may fail in any way)
            box["error"] = exc

    if time_limit is None:
        target()
    else:
        # The worker runs in a copy of the caller's context, so context variables
        # (NumPy's error state, convlib's settings) are the caller's, as without a limit.
        context = contextvars.copy_context()
        worker = threading.Thread(
            target=context.run, args=(target,), name="convlib-exercise-case", daemon=True
        )
        worker.start()
        worker.join(time_limit)
        if worker.is_alive():
            raise _CaseError(
                [
                    f"your function did not return within the time limit of {time_limit:g} s, "
                    "so the checker stopped waiting for it"
                ],
                [
                    "an endless loop? check that every `while` loop changes its condition, and "
                    "that loops run over the output's size, not an ever-growing list. (Python "
                    "cannot stop a running thread: the call keeps running in the background "
                    "until it returns; restart the kernel if it never does. Pass "
                    "time_limit=None to run without a limit, or a larger one for slow code.)"
                ],
            )
    if "error" in box:
        exc = box["error"]
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: not the reader's bug
            raise exc
        problems = [f"your function raised {type(exc).__name__}: {exc}"]
        where = _where(exc)
        if where:
            problems.append(f"  (in {where})")
        hints = []
        if isinstance(exc, NotImplementedError):
            hints.append("the function is still a stub: write its body, then run the check again")
        elif isinstance(exc, TypeError) and where is None:  # the call itself failed
            hints.append(
                f"the checker calls your function as fn({', '.join(inputs)}), positionally: "
                "check its parameters"
            )
        raise _CaseError(problems, hints) from exc
    return box["value"]


def _changed(before: np.ndarray, after: Any) -> bool:
    if not isinstance(after, np.ndarray) or after.shape != before.shape:
        return True
    return not np.array_equal(before, after, equal_nan=True)


def _call(
    fn: Callable[..., Any],
    inputs: Mapping[str, Any],
    *,
    time_limit: float | None,
    may_modify: Iterable[str] = (),
) -> Call:
    """Call ``fn(*inputs.values())`` and watch what it does to its array inputs.

    The arrays are the checker's own copies, kept pristine beside: after the
    call, every input the function may not modify is compared with its
    pristine copy. Raises :class:`_CaseError` when the function raises or runs
    out of time.
    """
    inputs = dict(inputs)
    pristine = {k: v.copy() for k, v in inputs.items() if isinstance(v, np.ndarray)}
    allowed = frozenset(may_modify)
    result = _run_with_limit(fn, inputs, time_limit)
    call = Call(result, inputs, allowed)
    for name, before in pristine.items():
        if name not in allowed and _changed(before, inputs[name]):
            call.problems.append(
                f"your function modified {name} in place: the caller's {name} is not the same "
                f"after the call (e.g. `{name} -= ...`, `{name}[...] = ...` or `out=` on it); "
                f"work on a new array (`{name} = {name} - ...`) or on `{name}.copy()`"
            )
    return call


def _aliasing(call: Call, name: str, value: Any) -> str | None:
    """A problem when the returned array ``value`` shares memory with an input it may not."""
    if not isinstance(value, np.ndarray):
        return None
    for in_name, arr in call.inputs.items():
        if not isinstance(arr, np.ndarray):
            continue
        if name in call.may_modify and in_name == name:
            continue  # an optimizer returns the param, m, v it updated in place
        if np.shares_memory(value, arr):
            return (
                f"{name} shares memory with {in_name}: it is {in_name} itself or a view of it, "
                f"so changing one changes the other; return a new array "
                f"(np.zeros_like({in_name}) filled in, or {in_name}.copy())"
            )
    return None
