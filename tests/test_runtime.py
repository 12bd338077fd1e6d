"""convlib.runtime: opt-in process settings (BLAS threads through threadpoolctl, the allocator)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import threadpoolctl

import convlib
from convlib.runtime import blas_thread_count, blas_threads, set_blas_threads, tune_allocator


def _blas_threads() -> list[int]:
    return [
        lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"
    ]


@pytest.fixture
def blas():
    """The BLAS thread counts of the process; skip without a BLAS threadpoolctl controls."""
    counts = _blas_threads()
    if not counts:
        pytest.skip("no BLAS library that threadpoolctl can control")
    with threadpoolctl.threadpool_limits(limits=None):  # restores whatever a test sets
        yield counts


def test_blas_thread_count_reads_what_threadpoolctl_reports(blas):
    assert blas_thread_count() == blas[0]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_blas_threads_limits_inside_the_block_and_restores_after(blas, n):
    with blas_threads(n) as found:
        assert found is True
        assert _blas_threads() == [n] * len(blas)
        assert blas_thread_count() == n
        a = np.ones((64, 64))
        np.testing.assert_array_equal(a @ a, 64 * a)  # BLAS still works
    assert _blas_threads() == blas


def test_blas_threads_restores_after_an_exception(blas):
    with pytest.raises(KeyError), blas_threads(1):
        raise KeyError("inside")
    assert _blas_threads() == blas


def test_set_blas_threads_stays_set(blas):
    assert set_blas_threads(1) is True
    assert _blas_threads() == [1] * len(blas)
    assert set_blas_threads(2) is True
    assert blas_thread_count() == 2


@pytest.mark.parametrize("function", [set_blas_threads, lambda n: blas_threads(n).__enter__()])
@pytest.mark.parametrize(
    "n, error, message",
    [
        (0, ValueError, "n must be >= 1"),
        (1.5, TypeError, "n must be an integer"),
        (True, TypeError, "integer"),
    ],
)
def test_thread_count_is_checked(function, n, error, message):
    with pytest.raises(error, match=message):
        function(n)


def test_numpy_integer_thread_count(blas):
    with blas_threads(np.int64(1)):
        assert blas_thread_count() == 1


def test_tune_allocator_returns_whether_it_applied_and_is_idempotent():
    first = tune_allocator()
    assert isinstance(first, bool)
    assert tune_allocator() is first
    if sys.platform.startswith("linux") and first:
        import convlib.runtime

        assert convlib.runtime._ALLOCATOR_TUNED


@pytest.mark.parametrize(
    "threshold, error, message",
    [
        (-1, ValueError, "threshold must be >= 0"),
        (2**31, ValueError, "C int"),
        (1.0, TypeError, "integer"),
    ],
)
def test_tune_allocator_checks_its_threshold(threshold, error, message):
    with pytest.raises(error, match=message):
        tune_allocator(threshold)


def test_exported_from_the_package():
    for name in ("blas_threads", "blas_thread_count", "set_blas_threads", "tune_allocator"):
        assert getattr(convlib, name) is getattr(convlib.runtime, name)


# --- the workspace ----------------------------------------------------------


def test_workspace_is_reported_cleared_and_bounded():
    import numpy as np

    from convlib import conv2d_backward, conv2d_forward
    from convlib.fast import workspace
    from convlib.runtime import clear_workspace, set_workspace_limit, workspace_nbytes

    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 9, 9, 8))
    w = rng.standard_normal((3, 3, 8, 5))

    def run():
        out, cache = conv2d_forward(x, w, None, stride=2, padding="same")
        return out, conv2d_backward(np.ones_like(out), cache)

    ref = run()
    assert workspace_nbytes() > 0
    freed = clear_workspace()
    assert freed > 0 and workspace_nbytes() == 0
    old = set_workspace_limit(0)
    try:
        assert workspace.WORKSPACE_LIMIT_BYTES == 0
        again = run()
        assert workspace_nbytes() == 0  # nothing kept under a zero bound
        np.testing.assert_array_equal(again[0], ref[0])
        for a, b in zip(again[1], ref[1]):
            np.testing.assert_array_equal(a, b)
    finally:
        assert set_workspace_limit(old) == 0
    assert old == workspace.WORKSPACE_LIMIT_BYTES


def test_set_workspace_limit_refuses_bad_values():
    from convlib.runtime import set_workspace_limit

    with pytest.raises(ValueError, match="nbytes"):
        set_workspace_limit(-1)
    with pytest.raises(TypeError, match="nbytes"):
        set_workspace_limit(1.5)
