"""Shared machinery of the exercise galleries (``test_exercise_gallery*.py``).

Each gallery registers learner implementations with :meth:`Gallery.bug`
(a buggy function: its checker must fail it, on a given case, with a hint
matching a regex) or :meth:`Gallery.correct` (a correct alternative that must
pass), then parametrizes :func:`assert_caught_and_named` and
:func:`assert_passes` over them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from convlib import exercises as ex

Bug = tuple[str, Callable[..., int], Callable[..., Any], str, "int | None"]


class Gallery:
    """The bugs and correct alternatives of one gallery file."""

    def __init__(self) -> None:
        self.bugs: list[Bug] = []
        self.correct_ones: list[tuple[str, Callable[..., int], Callable[..., Any]]] = []

    def bug(self, checker: Callable[..., int], hint: str, case: int | None = None) -> Any:
        """Register a buggy function: ``checker`` must fail it, on ``case`` (1-based), matching ``hint``."""

        def register(fn: Any) -> Any:
            self.bugs.append((fn.__name__, checker, fn, hint, case))
            return fn

        return register

    def correct(self, checker: Callable[..., int]) -> Any:
        """Register a correct alternative: ``checker`` must pass it."""

        def register(fn: Any) -> Any:
            self.correct_ones.append((fn.__name__, checker, fn))
            return fn

        return register


def assert_passes(checker: Callable[..., int], fn: Callable[..., Any]) -> None:
    """A correct alternative passes every case (at least three)."""
    assert checker(fn, verbose=False) >= 3


def assert_caught_and_named(
    checker: Callable[..., int], fn: Callable[..., Any], hint: str, case: int | None
) -> None:
    """The checker fails ``fn`` with a message matching ``hint`` (on ``case`` if given)."""
    with pytest.raises(ex.ExerciseFailure) as info:
        checker(fn, verbose=False, time_limit=None)
    message = str(info.value)
    assert re.search(hint, message, flags=re.MULTILINE), message
    if case is not None:
        assert re.search(rf"FAILED on case {case} of \d+,", message), message
