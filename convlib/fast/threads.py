"""Compute threads for the tuned tier's element-wise passes and convolutions (opt-in, default 1).

The capstone network spends about a third of a training step (6.5 of about
21 ms at one thread, measured under load; ``benchmarks/README.md``) in
element-wise passes -- ReLU, max pooling, batch norm, mostly over its first
block's ``(128, 26, 26, 16)`` maps -- which NumPy runs on one thread,
whatever the BLAS thread count. With more than one *compute thread*
(:func:`convlib.runtime.set_compute_threads` or the context manager
:func:`convlib.runtime.compute_threads`) these passes split their work
along the batch axis: the calling thread computes the first chunk, a small
persistent :class:`concurrent.futures.ThreadPoolExecutor` owned by convlib
the others. NumPy releases the GIL inside ufunc loops over large arrays,
so the chunks really run at the same time.

Every chunk runs the same operations on its elements as the one-thread
pass, so the results are bit-identical for every thread count (the tests
assert it). Sums over the batch (batch norm's statistics and parameter
gradients) are never split: they stay one product on the calling thread.

* The default, 1, is the behaviour without this module: no pool is ever
  created and every pass runs on the calling thread.
* Arrays below :data:`MIN_PARALLEL_ELEMENTS` elements, and batches of one
  example, stay on one thread: handing a chunk to a worker costs tens of
  microseconds.
* A pass started inside a chunk (a worker, or the caller while it computes
  its own chunk) runs on one thread, so chunks never wait for each other.

The **convolutions** (:mod:`convlib.fast.conv`) split their batch too, but
only while BLAS runs one thread (:func:`conv_thread_count`; the BLAS
thread count is read through :mod:`convlib.runtime`, since this layer may
not import threadpoolctl), through :func:`run_chunks`: the threads take
chunks from a shared counter, and the calling thread may first run a task
of its own (the weight gradient, one product). Their output and input
gradient agree with one thread's up to rounding, not bit for bit (see
:mod:`convlib.runtime`). On the 2-core machine, batch 128, BLAS 1 thread,
load 6-7 (``benchmarks/bench_threads.py --only steps``, critical path):
a capstone training step 24.4 -> 18.9 ms, a step of the book's residual
network 63.5 -> 41.8 ms at two compute threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

__all__ = [
    "MIN_PARALLEL_ELEMENTS",
    "MIN_PARALLEL_MACS",
    "compute_thread_count",
    "conv_thread_count",
    "elementwise_thread_count",
    "pool_exists",
    "run_batch_chunks",
    "run_chunks",
]

#: Arrays with fewer elements are processed on one thread. Handing a chunk
#: to a worker and waiting for it costs the calling thread about 20 us, and
#: the two threads contend for the GIL between NumPy calls. ReLU forward +
#: backward on 2**17 float32 elements took 67 us on one thread against 82 us
#: (critical path) on two, on 2**19 305 against 232 us; on the capstone's
#: second block, (128, 11, 11, 32) = 495,616 elements, ReLU and batch norm
#: gained nothing and max pooling lost; on its first block, (128, 26, 26,
#: 16) = 1,384,448 elements, ReLU and max pooling ran 1.4-1.8x faster (CPU
#: time, load ~6-8; benchmarks/README.md, issue 12).
MIN_PARALLEL_ELEMENTS = 1 << 19

#: Convolutions with fewer multiply-adds (``N * OH * OW * KH * KW * C * F``)
#: run on one thread (see :func:`conv_thread_count`). Batch 128, float32,
#: BLAS 1 thread, load 7-8 (``benchmarks/bench_threads.py --only convs``,
#: benchmarks/README.md): the book residual network's 1 x 1 projection,
#: 3.2 million multiply-adds, lost at 2 compute threads (forward 0.28 ->
#: 0.32 ms, backward 0.46 -> 0.69 ms critical path); the capstone's first
#: convolution, 12.5 million, gained (forward 1.76 -> 1.33 ms), as did every
#: larger 3 x 3 convolution (1.3-1.7x).
MIN_PARALLEL_MACS = 1 << 23

_threads = 1
#: Set by :mod:`convlib.runtime`: whether BLAS runs one thread now (None:
#: unknown, taken as yes). The core cannot import threadpoolctl itself.
_blas_single: Callable[[], bool] | None = None
_pool: ThreadPoolExecutor | None = None
_pool_workers = 0
_pool_lock = threading.Lock()
_inside = threading.local()


def compute_thread_count() -> int:
    """How many threads the tuned tier's element-wise passes may use (default 1)."""
    return _threads


def _set_compute_threads(n: int) -> int:
    """Set the thread count (already checked, >= 1); returns the previous one.

    The pool is not created here but by the first pass that needs it; going
    back to 1 thread shuts it down.
    """
    global _threads, _pool, _pool_workers
    old, _threads = _threads, n
    if n == 1:
        with _pool_lock:
            pool, _pool, _pool_workers = _pool, None, 0
        if pool is not None:
            pool.shutdown(wait=True)
    return old


def _get_pool(workers: int) -> ThreadPoolExecutor:
    """The shared pool with ``workers`` threads, created or resized lazily."""
    global _pool, _pool_workers
    with _pool_lock:
        old = None
        if _pool is None or _pool_workers != workers:
            old = _pool
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="convlib-compute")
            _pool_workers = workers
        pool = _pool
    if old is not None:
        old.shutdown(wait=False)
    return pool


def pool_exists() -> bool:
    """Whether convlib's compute pool has been created (for tests)."""
    return _pool is not None


def _run_chunk(fn: Callable[[slice], None], rows: slice) -> None:
    _inside.active = True
    try:
        fn(rows)
    finally:
        _inside.active = False


def run_batch_chunks(fn: Callable[[slice], None], batch: int, elements: int) -> None:
    """Call ``fn(rows)`` on slices of the batch axis that together cover ``range(batch)``.

    Parameters
    ----------
    fn : callable
        ``fn(slice)`` computes the rows ``slice`` of the pass (writing into
        preallocated outputs). Calls for different slices must not touch the
        same elements.
    batch : int
        Length of the batch axis.
    elements : int
        Elements of the largest array the pass touches, compared with
        :data:`MIN_PARALLEL_ELEMENTS`.
    """
    k = min(_threads, batch)
    if k <= 1 or elements < MIN_PARALLEL_ELEMENTS or getattr(_inside, "active", False):
        fn(slice(0, batch))
        return
    bounds = [batch * i // k for i in range(k + 1)]
    chunks = [slice(bounds[i], bounds[i + 1]) for i in range(k)]
    pool = _get_pool(_threads - 1)  # one size per setting: no resizing for small batches
    futures = [pool.submit(_run_chunk, fn, rows) for rows in chunks[1:]]
    try:
        _run_chunk(fn, chunks[0])
    finally:
        for future in futures:
            future.result()  # re-raises a worker's exception


def conv_thread_count(batch: int, macs: int) -> int:
    """How many compute threads a convolution should split its batch over (1: none).

    The tuned convolutions (:mod:`convlib.fast.conv`) split their products
    over the compute threads only when BLAS runs one thread: with two BLAS
    threads inside each of two compute threads, the threads oversubscribe
    the cores (on the 2-core machine, load 7-8, batch 128: the capstone's
    second convolution's backward took 43.8 ms of CPU against 6.8 ms with
    one BLAS thread in each; every 3 x 3 convolution measured was 2.4-5.9x
    slower, critical path; ``benchmarks/README.md``), so the products
    then run whole, on BLAS's own threads, as they do with one compute
    thread.

    Parameters
    ----------
    batch : int
        Examples in the batch (a chunk holds at least one).
    macs : int
        Multiply-adds of the convolution, compared with :data:`MIN_PARALLEL_MACS`.

    Returns
    -------
    int
        ``min(compute threads, batch)``, or 1 if the convolution is small,
        runs inside a chunk already, or BLAS runs more than one thread.
    """
    k = min(_threads, batch)
    if k <= 1 or macs < MIN_PARALLEL_MACS or getattr(_inside, "active", False):
        return 1
    if _blas_single is not None and not _blas_single():
        return 1
    return k


def elementwise_thread_count(batch: int, elements: int) -> int:
    """How many compute threads an element-wise pass over ``elements`` should use.

    The rule of :func:`run_batch_chunks`, for passes that schedule their
    chunks with :func:`run_chunks` (the depthwise convolution's backward):
    1 below :data:`MIN_PARALLEL_ELEMENTS` elements, for one example, or
    inside a chunk; else ``min(compute threads, batch)``.
    """
    k = min(_threads, batch)
    if k <= 1 or elements < MIN_PARALLEL_ELEMENTS or getattr(_inside, "active", False):
        return 1
    return k


def run_chunks(
    fn: Callable[[slice], None], chunks: list[slice], first: Callable[[], None] | None = None
) -> None:
    """Call ``fn(rows)`` for every slice of ``chunks`` over the calling thread and the pool.

    The workers and the calling thread take the chunks in order from a
    shared counter, so a thread that finishes early takes the next one. The
    calling thread first runs ``first()``, if given: a task of its own (the
    weight gradient of a convolution while the workers compute the input
    gradient's chunks). Which thread computes a chunk never changes its
    result: each chunk runs the same operations.

    Parameters
    ----------
    fn : callable
        ``fn(slice)`` writes its chunk's results into preallocated outputs;
        calls for different slices must not touch the same elements.
    chunks : list of slice
        At least one.
    first : callable, optional
        Run by the calling thread before it takes chunks.
    """
    workers = min(_threads - 1, len(chunks))
    if workers < 1:
        if first is not None:
            first()
        for rows in chunks:
            fn(rows)
        return
    lock = threading.Lock()
    position = [0]
    everything = slice(0, 0)  # the loops below ignore their argument

    def drain(_: slice) -> None:
        while True:
            with lock:
                i = position[0]
                position[0] += 1
            if i >= len(chunks):
                return
            fn(chunks[i])

    pool = _get_pool(_threads - 1)
    futures = [pool.submit(_run_chunk, drain, everything) for _ in range(workers)]
    try:
        if first is not None:
            _run_chunk(lambda _: first(), everything)
        _run_chunk(drain, everything)
    finally:
        for future in futures:
            future.result()  # re-raises a worker's exception
