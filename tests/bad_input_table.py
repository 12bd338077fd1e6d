"""The machinery of the bad-input tables (issue 10, "Tests").

Not a test module (pytest collects only ``test_*.py``): the two table files,
``test_bad_inputs.py`` (the mathematics) and ``test_bad_inputs_training.py``
(layers, models, training, data, command line), load it by path.

A :class:`Bad` row is one call that must fail: the exception type it must
raise and the words its message must hold (the argument's name and, where
shapes are involved, the shapes). A row whose fix belongs to another part of
the code names that part in ``owner`` and becomes a strict ``xfail``: it turns
red as soon as the fix lands, and the mark is then removed.

A :class:`Same` row is one call made with NumPy scalars (``np.int64(2)``,
``np.float32(0.5)``) where Python scalars are meant: it must be accepted and
give exactly what the Python scalars give.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

#: Who owns the fix of an xfail row: the three other helpers of issue 10.
OWNERS = {
    "files": "model.py, cli.py, datasets",
    "training": "loop, optim, update_rules, batchnorm, dropout, layers",
    "core": "gradcheck, conv, pooling, fast, dense, windows (and losses, arithmetic)",
    "book": "exercises, plotting: no helper of issue 10 owns them; the lead decides",
}


@dataclass(frozen=True)
class Bad:
    """One bad call: ``call()`` must raise ``exc`` with ``words`` in its message."""

    id: str
    call: Callable[[], Any]
    exc: type[BaseException] | tuple[type[BaseException], ...]
    words: tuple[str, ...]
    owner: str | None = None
    why: str = ""


@dataclass(frozen=True)
class Same:
    """NumPy scalars accepted: ``numpy_call()`` must equal ``python_call()``."""

    id: str
    numpy_call: Callable[[], Any]
    python_call: Callable[[], Any]
    owner: str | None = None
    why: str = ""


def _marks(owner: str | None, why: str) -> list[Any]:
    if owner is None:
        return []
    assert owner in OWNERS, owner
    return [pytest.mark.xfail(strict=True, reason=f"{owner}: {why}")]


def params(rows: Iterable[Bad | Same]) -> list[Any]:
    """``pytest.param`` per row, ids checked unique, xfail marks attached."""
    rows = list(rows)
    ids = [r.id for r in rows]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, f"duplicate case ids: {sorted(dupes)}"
    return [pytest.param(r, id=r.id, marks=_marks(r.owner, r.why)) for r in rows]


def check_bad(case: Bad) -> None:
    """Run one :class:`Bad` row: exception type, then every word of the message."""
    with warnings.catch_warnings():
        # A RuntimeWarning on the way (overflow, 0/0, mean of an empty
        # slice) is NumPy failing where convlib should have checked.
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(case.exc) as info:
            case.call()
    message = str(info.value)
    missing = [w for w in case.words if w not in message]
    assert not missing, f"message lacks {missing}: {type(info.value).__name__}: {message}"


def flat(result: Any) -> list[Any]:
    """A result as a flat list of arrays and plain values, for comparison."""
    if isinstance(result, (tuple, list)):
        return [v for item in result for v in flat(item)]
    if isinstance(result, dict):
        return [v for key in sorted(result) for v in flat(result[key])]
    if hasattr(result, "__dataclass_fields__"):
        return [v for key in result.__dataclass_fields__ for v in flat(getattr(result, key))]
    return [result]


def check_same(case: Same) -> None:
    """Run one :class:`Same` row: both calls succeed and agree exactly."""
    got, expected = flat(case.numpy_call()), flat(case.python_call())
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        if isinstance(e, np.ndarray) or isinstance(g, np.ndarray):
            np.testing.assert_array_equal(g, e)
            assert np.asarray(g).dtype == np.asarray(e).dtype
        else:
            assert g == e and type(g) is type(e), (g, e)
