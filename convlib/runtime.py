"""Process-wide tuning, all of it opt-in: BLAS and compute threads, the allocator, the workspace.

Nothing in convlib calls these functions by itself: :func:`convlib.fit` and
the layers run with whatever the process is set to. ``python -m
convlib.train`` turns both settings on (and says so in its ``--help``); a
script or notebook that wants them calls them explicitly.

Every setting here belongs to the **whole process**, not to convlib: BLAS
threads are shared by NumPy, SciPy and anything else that multiplies
matrices, and the allocator serves every library. Prefer the context
manager :func:`blas_threads`, which puts the thread count back when the
block ends; :func:`tune_allocator` cannot be undone.

BLAS threads are read and set through `threadpoolctl
<https://github.com/joblib/threadpoolctl>`_, which knows OpenBLAS, MKL and
BLIS wherever NumPy loaded them.

The tuned tier (:mod:`convlib.fast`) keeps its temporaries in a per-thread
workspace of bounded size (:data:`convlib.fast.workspace.WORKSPACE_LIMIT_BYTES`,
64 MiB a thread by default). :func:`workspace_nbytes` says how much it holds,
:func:`clear_workspace` gives it back, and :func:`set_workspace_limit`
changes the bound (0 turns the workspace off: every temporary is then a
fresh array).

**Compute threads** are convlib's own, for the element-wise passes BLAS
does not run: ReLU, max pooling and batch norm of the tuned tier
(:mod:`convlib.fast.threads`), about a third of the capstone's training step
(6.5 of about 21 ms at one thread, measured under load; ``benchmarks/README.md``).
With :func:`set_compute_threads` or the context manager
:func:`compute_threads` set to ``n > 1``, each such pass over an array of at
least :data:`convlib.fast.threads.MIN_PARALLEL_ELEMENTS` elements splits its
batch into ``n`` chunks, computed at the same time by the calling thread and
a small pool of ``n - 1`` worker threads that convlib creates on first use
(NumPy releases the GIL inside its loops). The results are bit-identical to
one thread's. The default, 1, runs every pass on the calling thread and
creates no pool. Like BLAS threads, more compute threads than idle cores
slow things down.

While BLAS runs **one** thread, the compute threads also split the tuned
**convolutions** (:mod:`convlib.fast.conv`): each thread fills and
multiplies the im2col rows of its chunk of examples; in the backward pass
the calling thread computes the weight and bias gradients (one product,
bit-identical to one thread's) while the workers compute the input
gradient chunk by chunk. The output and input gradient then agree with
one thread's up to rounding: OpenBLAS computes the last rows of a row
block with other kernel code than the same rows inside the whole product.
The products inside the chunks run on one BLAS thread each; with more
BLAS threads the convolutions are not split (two BLAS threads inside each
of two compute threads would oversubscribe the cores) and run on BLAS's
threads as with one compute thread.

Which is faster depends on the machine and its load. On the project's
2-core machine under load (6-7, ``benchmarks/README.md``) a capstone
training step took 18.9 ms with 1 BLAS and 2 compute threads (critical
path) against 24.4 ms at one thread and 40.7 ms with 2 BLAS threads. On
the idle machine the order turned round: 2 BLAS threads were fastest for
the capstone (17.8 ms a step against 22.6 ms split and 23.7 ms at one
thread), while the split stayed fastest for the book's residual network
(45.5 against 53.7 and 57.5 ms); compute threads added on top of 2 BLAS
threads made the capstone step slower, not faster. So ``python -m
convlib.train --threads N`` sets ``N`` BLAS threads and one compute thread,
and ``--compute-threads N`` asks for the split.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from threadpoolctl import ThreadpoolController

from ._checks import as_int
from .fast import threads as _threads, workspace as _workspace
from .fast.workspace import clear_workspace, workspace_nbytes

__all__ = [
    "blas_thread_count",
    "blas_threads",
    "clear_workspace",
    "compute_thread_count",
    "compute_threads",
    "set_blas_threads",
    "set_compute_threads",
    "set_workspace_limit",
    "tune_allocator",
    "workspace_nbytes",
]


# --- BLAS threads ---------------------------------------------------------


def _blas() -> ThreadpoolController:
    """The BLAS libraries loaded in the process (an empty selection if none)."""
    return ThreadpoolController().select(user_api="blas")


def blas_thread_count() -> int | None:
    """How many threads the BLAS that NumPy uses may run.

    Returns
    -------
    int or None
        The thread count of the first BLAS library loaded in the process, or
        ``None`` when threadpoolctl finds none it can control (e.g. Apple's
        Accelerate).
    """
    libs = _blas().info()
    return int(libs[0]["num_threads"]) if libs else None


@contextmanager
def blas_threads(n: int) -> Iterator[bool]:
    """Limit BLAS to ``n`` threads inside a ``with`` block, then restore it.

    The matrix products of a small CNN are small: splitting each over two
    threads gains little on an idle machine and, when other processes
    compete for the cores, costs a lot, because BLAS threads wait for each
    other at every product (measured in an earlier run: a LeNet training step
    15 times slower with 2 threads than with 1 on a busy 2-core machine).
    ``python -m convlib.train`` trains with one thread by default.

    The limit holds for the whole process (every thread, every library)
    until the block ends.

    Parameters
    ----------
    n : int
        Threads, >= 1.

    Yields
    ------
    bool
        Whether a BLAS library was found and limited.

    Examples
    --------
    >>> import convlib
    >>> with convlib.blas_threads(1):
    ...     assert convlib.blas_thread_count() in (1, None)
    """
    n = as_int("n", n, 1)
    blas = _blas()
    with blas.limit(limits=n):
        yield bool(blas.lib_controllers)


def set_blas_threads(n: int) -> bool:
    """Set the number of BLAS threads for the rest of the process.

    The same effect as starting Python with ``OPENBLAS_NUM_THREADS=n`` (or
    ``MKL_NUM_THREADS``), but possible after NumPy is imported. Kept for
    compatibility; :func:`blas_threads` limits the threads for a block of
    code and then restores them, which is what most code wants. Why one
    thread is often faster: see :func:`blas_threads`.

    Parameters
    ----------
    n : int
        Threads, >= 1.

    Returns
    -------
    bool
        Whether a BLAS library was found and set (False, for example, with
        Apple's Accelerate, which threadpoolctl cannot control).
    """
    n = as_int("n", n, 1)
    blas = _blas()
    blas.limit(limits=n)  # never restored: the limit holds from now on
    return bool(blas.lib_controllers)


# --- compute threads (convlib's own, for element-wise passes) ---------------

_BLAS_LIBS: list[Any] | None = None


def _blas_single_thread() -> bool:
    """Whether every BLAS library threadpoolctl controls runs one thread now.

    Asked by the tuned convolutions before they split a batch over the
    compute threads (:func:`convlib.fast.threads.conv_thread_count`); the
    libraries are looked up once (about 1 ms), their thread counts read at
    every call (under a microsecond).
    """
    global _BLAS_LIBS
    if _BLAS_LIBS is None:
        _BLAS_LIBS = list(_blas().lib_controllers)
    return all(lib.num_threads == 1 for lib in _BLAS_LIBS)


_threads._blas_single = _blas_single_thread


def compute_thread_count() -> int:
    """How many threads the tuned tier's element-wise passes may use (1 by default).

    Returns
    -------
    int
        The value set by :func:`set_compute_threads` or the innermost
        :func:`compute_threads` block, else 1.
    """
    return _threads.compute_thread_count()


def set_compute_threads(n: int) -> int:
    """Let ReLU, max pooling, batch norm and the convolutions split their batch over ``n`` threads.

    Opt-in and process-wide (every thread that calls these passes shares the
    setting). The passes of the tuned tier (:mod:`convlib.fast.threads`)
    then compute chunks of the batch at the same time, with results
    bit-identical to one thread's; arrays below
    :data:`convlib.fast.threads.MIN_PARALLEL_ELEMENTS` elements stay on one
    thread. The convolutions split only while BLAS runs one thread
    (:func:`blas_threads`), from
    :data:`convlib.fast.threads.MIN_PARALLEL_MACS` multiply-adds on, with
    the output and input gradient equal to one thread's up to rounding (see
    :mod:`convlib.runtime`). The worker pool (``n - 1`` threads) is created by the first pass
    that needs it; ``n = 1`` shuts it down. Prefer :func:`compute_threads`,
    which restores the previous value.

    Parameters
    ----------
    n : int
        Threads, >= 1. 1 (the default) runs every pass on the calling thread.

    Returns
    -------
    int
        The previous setting, so that a caller can put it back.
    """
    n = as_int("n", n, 1)
    return _threads._set_compute_threads(n)


@contextmanager
def compute_threads(n: int) -> Iterator[int]:
    """Split the element-wise passes over ``n`` threads inside a ``with`` block.

    :func:`set_compute_threads` for a block of code: the previous setting is
    restored when the block ends, also when it raises.

    Parameters
    ----------
    n : int
        Threads, >= 1.

    Yields
    ------
    int
        ``n``.

    Examples
    --------
    >>> import convlib
    >>> with convlib.compute_threads(2):
    ...     assert convlib.compute_thread_count() == 2
    >>> convlib.compute_thread_count()
    1
    """
    old = set_compute_threads(n)
    try:
        yield _threads.compute_thread_count()
    finally:
        set_compute_threads(old)


# --- the allocator --------------------------------------------------------

_ALLOCATOR_TUNED = False
_INT_MAX = 2**31 - 1


def tune_allocator(threshold: int = 1 << 30) -> bool:
    """Stop glibc's ``malloc`` from returning large blocks to the OS (irreversible).

    Each training step allocates and frees the same large temporaries (the
    im2col matrices, activations and their gradients). By default glibc
    serves blocks above a threshold with ``mmap`` and gives memory back to
    the OS when the top of the heap is free, so the next step takes a page
    fault for every 4 KiB page of those arrays again (about 2.5 us each on
    the 2-core benchmark machine, measured in an earlier run; on a small
    machine that can double the time of a step). Raising
    ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` keeps the memory in the
    process for reuse.

    This is a decision for the application, not for a library: it changes
    how every allocation of the **whole process** behaves (every library,
    every later cell of a notebook kernel), the process keeps up to
    ``threshold`` bytes of freed memory instead of returning it, and there is
    no way back short of restarting the process. ``python -m convlib.train``
    calls it (``--no-tuning`` turns it off); :func:`convlib.fit` does not.

    A no-op returning ``False`` where glibc's ``mallopt`` is not available
    (macOS, Windows, musl).

    Parameters
    ----------
    threshold : int
        Bytes, 0 to 2**31 - 1; both thresholds are set to it (the mmap threshold
        capped at glibc's maximum, 32 MiB on 64-bit systems).

    Returns
    -------
    bool
        Whether the settings were applied (now or by an earlier call).
    """
    global _ALLOCATOR_TUNED
    threshold = as_int("threshold", threshold, 0)
    if threshold > _INT_MAX:
        raise ValueError(
            f"threshold must be <= {_INT_MAX} (mallopt takes a C int), got {threshold}"
        )
    if _ALLOCATOR_TUNED:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    m_trim_threshold, m_mmap_threshold = -1, -3
    # glibc caps M_MMAP_THRESHOLD at HEAP_MAX/2 (32 MiB on 64-bit).
    ok = bool(mallopt(m_mmap_threshold, min(threshold, 32 << 20)))
    ok = bool(mallopt(m_trim_threshold, threshold)) and ok
    _ALLOCATOR_TUNED = ok
    return ok


# --- the tuned tier's workspace --------------------------------------------


def set_workspace_limit(nbytes: int) -> int:
    """Bound the bytes each thread's workspace may keep, and clear it.

    Parameters
    ----------
    nbytes : int
        New bound, >= 0. 0 disables the workspace (every temporary of the
        tuned tier is then allocated afresh, as NumPy code normally does).

    Returns
    -------
    int
        The previous bound, so that a caller can put it back.
    """
    nbytes = as_int("nbytes", nbytes, 0)
    old = _workspace.WORKSPACE_LIMIT_BYTES
    _workspace.WORKSPACE_LIMIT_BYTES = nbytes
    clear_workspace()
    return old
