"""Compute threads (issue 12): opt-in, bit-identical, restored, no pool by default."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

import convlib
from convlib import fast
from convlib.fast import threads
from convlib.model import build_capstone


@pytest.fixture
def split_everything(monkeypatch):
    """Split even tiny arrays, and record which threads computed chunks."""
    monkeypatch.setattr(threads, "MIN_PARALLEL_ELEMENTS", 0)
    monkeypatch.setattr(fast.elementwise, "MIN_PARALLEL_ELEMENTS", 0)
    # the convolutions' split is not bit-identical (tests below, and test_conv.py)
    monkeypatch.setattr(threads, "MIN_PARALLEL_MACS", 2**62)
    seen: list[tuple[int, slice]] = []
    real = threads._run_chunk

    def spy(fn, rows):
        seen.append((threading.get_ident(), rows))
        return real(fn, rows)

    monkeypatch.setattr(threads, "_run_chunk", spy)
    yield seen
    convlib.set_compute_threads(1)


def _ops(x: np.ndarray, dout: np.ndarray, pool: dict, training: bool = True) -> list[np.ndarray]:
    """Every threaded pass, forward and backward, on ``x``; all arrays they return."""
    r, rc = fast.relu_forward_fast(x)
    dr = fast.relu_backward_fast(dout, rc)
    p, pc = convlib.maxpool2d_forward(x, **pool)
    dp = convlib.maxpool2d_backward(np.cos(p), pc)
    c = x.shape[-1]
    rng = np.random.default_rng(1)
    gamma = rng.standard_normal(c).astype(x.dtype)
    beta = rng.standard_normal(c).astype(x.dtype)
    rm, rv = rng.random(c).astype(x.dtype), 1 + rng.random(c).astype(x.dtype)
    b, bc = convlib.batchnorm_forward(x, gamma, beta, rm, rv, training=training)
    db = convlib.batchnorm_backward(dout, bc)
    return [r, rc.saved, dr, p, pc.argmax, dp, b, bc.xc, bc.xhat, *db, rm, rv]


SHAPES = [
    ((7, 6, 6, 3), {"pool_size": 2}),  # odd batch
    ((5, 7, 5, 2), {"pool_size": 3, "stride": 1, "padding": 1}),  # overlapping windows
    ((3, 5, 5, 4), {"pool_size": 2, "stride": 2, "padding": "same"}),  # padding
    ((2, 2, 2, 1), {"pool_size": 2}),  # tiny
    ((1, 4, 4, 2), {"pool_size": 2}),  # one image: nothing to split
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,pool", SHAPES)
@pytest.mark.parametrize("n_threads", [2, 3])
@pytest.mark.parametrize("training", [True, False])
def test_threaded_passes_are_bit_identical_to_one_thread(
    split_everything, dtype, shape, pool, n_threads, training
):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    x[0, 0, 0, 0] = 0.0  # ReLU's kink
    dout = rng.standard_normal(shape).astype(dtype)
    one = _ops(x, dout, pool, training)
    assert split_everything == [] or all(r == slice(0, shape[0]) for _, r in split_everything)
    with convlib.compute_threads(n_threads):
        many = _ops(x, dout, pool, training)
    for a, b in zip(one, many, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b, strict=True)
    if shape[0] > 1:  # the passes were really split, also onto a worker thread
        assert len({ident for ident, _ in split_everything}) >= 2
        assert any(r != slice(0, shape[0]) for _, r in split_everything)


def test_nan_in_max_pooling_is_found_in_every_chunk(split_everything):
    x = np.random.default_rng(0).standard_normal((4, 4, 4, 2))
    x[3, 1, 1, 1] = np.nan  # in the last chunk
    one, c1 = convlib.maxpool2d_forward(x, 2)
    with convlib.compute_threads(2):
        two, c2 = convlib.maxpool2d_forward(x, 2)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(c1.argmax, c2.argmax)
    assert np.isnan(two[3, 0, 0, 1])


def test_dense_batchnorm_and_capstone_gradients_are_bit_identical(split_everything):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, 9)

    def grads() -> list[np.ndarray]:
        model = build_capstone(0)
        logits = model.forward(x)
        _, dlogits = convlib.softmax_cross_entropy(logits, y)
        dx = model.backward(dlogits)
        return (
            [logits, dx]
            + [p.grad.copy() for p in model.parameters()]
            + list(model.state().values())
        )

    one = grads()
    with convlib.compute_threads(2):
        two = grads()
    assert len({ident for ident, _ in split_everything}) == 2
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b, strict=True)


def test_small_arrays_stay_on_the_calling_thread(monkeypatch):
    calls = []
    monkeypatch.setattr(threads, "_run_chunk", lambda fn, rows: calls.append(rows))
    x = np.ones((4, 8, 8, 2), dtype=np.float32)  # far below MIN_PARALLEL_ELEMENTS
    with convlib.compute_threads(2):
        convlib.maxpool2d_forward(x, 2)
        fast.relu_forward_fast(x)
    assert calls == []


def test_the_setting_is_checked_returned_and_restored():
    assert convlib.compute_thread_count() == 1
    with pytest.raises(ValueError, match="n"):
        convlib.set_compute_threads(0)
    with pytest.raises(TypeError, match="n"):
        convlib.set_compute_threads(1.5)
    assert convlib.compute_thread_count() == 1
    assert convlib.set_compute_threads(3) == 1
    try:
        assert convlib.compute_thread_count() == 3
        with convlib.compute_threads(2) as n:
            assert n == 2 and convlib.compute_thread_count() == 2
        assert convlib.compute_thread_count() == 3
        with pytest.raises(RuntimeError, match="inside"), convlib.compute_threads(2):
            raise RuntimeError("inside")
        assert convlib.compute_thread_count() == 3
    finally:
        assert convlib.set_compute_threads(1) == 3
    assert convlib.compute_thread_count() == 1
    assert not threads.pool_exists()  # going back to one thread shuts the pool down


def test_an_error_in_a_worker_chunk_reaches_the_caller():
    def fn(rows: slice) -> None:
        if rows.start > 0:
            raise ZeroDivisionError("worker chunk")

    with convlib.compute_threads(2), pytest.raises(ZeroDivisionError, match="worker chunk"):
        threads.run_batch_chunks(fn, 10, threads.MIN_PARALLEL_ELEMENTS)


def test_no_pool_and_one_thread_unless_opted_in():
    """In a fresh process: a capstone training step creates no thread at all by default."""
    code = """
import threading
import numpy as np
import convlib
from convlib.fast import threads
from convlib.model import build_capstone
assert convlib.compute_thread_count() == 1
model = build_capstone(0)
x = np.random.default_rng(0).standard_normal((128, 28, 28, 1)).astype(np.float32)
logits = model.forward(x)
_, d = convlib.softmax_cross_entropy(logits, np.zeros(128, dtype=np.int64))
model.backward(d)
assert not threads.pool_exists()
assert not [t for t in threading.enumerate() if t.name.startswith("convlib-compute")]
with convlib.compute_threads(2):
    model.forward(x)
    assert threads.pool_exists()
    assert [t for t in threading.enumerate() if t.name.startswith("convlib-compute")]
assert not threads.pool_exists()
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


# -- the convolutions (split when BLAS runs one thread) -------------------------


@pytest.fixture
def conv_chunks(monkeypatch):
    """Split every convolution; record (thread, chunk) of every chunk computed."""
    monkeypatch.setattr(threads, "MIN_PARALLEL_MACS", 0)
    seen: list[tuple[int, slice]] = []
    real = fast.conv.run_chunks

    def spy(fn, chunks, first=None):
        def recording(rows):
            seen.append((threading.get_ident(), rows))
            fn(rows)

        real(recording, chunks, first)

    monkeypatch.setattr(fast.conv, "run_chunks", spy)
    yield seen
    convlib.set_compute_threads(1)


def _conv_pass(x, w, b, dout, **kwargs):
    out, cache = convlib.conv2d_forward(x, w, b, **kwargs)
    return [out, *convlib.conv2d_backward(dout, cache)]


def test_one_compute_thread_never_splits_a_convolution(conv_chunks):
    """The default: no chunk, no pool, the one-thread products as before."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 9, 9, 8))
    w, b = rng.standard_normal((3, 3, 8, 4)), rng.standard_normal(4)
    with convlib.blas_threads(1):
        assert threads.conv_thread_count(6, 10**12) == 1
        _conv_pass(x, w, b, np.ones((6, 7, 7, 4)))
    assert conv_chunks == [] and not threads.pool_exists()


def test_convolutions_split_only_when_blas_runs_one_thread(conv_chunks, monkeypatch):
    """With more BLAS threads the products stay whole (two BLAS threads in each of
    two compute threads oversubscribe the cores), and the results are exactly
    those of one compute thread."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 9, 9, 8))
    w, b = rng.standard_normal((3, 3, 8, 4)), rng.standard_normal(4)
    dout = rng.standard_normal((6, 7, 7, 4))
    one = _conv_pass(x, w, b, dout)
    monkeypatch.setattr(threads, "_blas_single", lambda: False)
    with convlib.compute_threads(2):
        assert threads.conv_thread_count(6, 10**12) == 1
        many = _conv_pass(x, w, b, dout)
    assert conv_chunks == []
    for a, c in zip(one, many, strict=True):
        np.testing.assert_array_equal(a, c, strict=True)
    monkeypatch.setattr(threads, "_blas_single", lambda: True)
    with convlib.compute_threads(2):
        assert threads.conv_thread_count(6, 10**12) == 2
        assert threads.conv_thread_count(1, 10**12) == 1  # one example: nothing to split
        assert threads.conv_thread_count(6, 0) == 2  # MIN_PARALLEL_MACS is 0 here
        _conv_pass(x, w, b, dout)
    assert len({ident for ident, _ in conv_chunks}) == 2  # a worker computed chunks


def test_the_blas_probe_reads_the_blas_thread_count():
    """convlib.runtime tells the core whether BLAS runs one thread, as threadpoolctl sees it."""
    with convlib.blas_threads(1) as found:
        assert threads._blas_single is not None
        assert threads._blas_single() is True
    if found:
        with convlib.blas_threads(2):
            assert threads._blas_single() is (convlib.blas_thread_count() == 1)


@pytest.mark.parametrize("n_threads", [2, 3])
@pytest.mark.parametrize("batch", [1, 2, 5, 7])
def test_a_training_step_with_split_convolutions(conv_chunks, n_threads, batch):
    """A capstone step (float64): every gradient within 1e-10 of one thread's,
    and the same bits in two runs at the same thread count.

    Odd batches give chunks of different sizes; a batch of one is not split.
    """
    rng = np.random.default_rng(batch)
    x = rng.standard_normal((batch, 28, 28, 1))
    y = rng.integers(0, 10, batch)

    def grads() -> list[np.ndarray]:
        model = build_capstone(0, dtype=np.float64)
        logits = model.forward(x)
        _, dlogits = convlib.softmax_cross_entropy(logits, y)
        model.backward_params(dlogits)
        return [logits] + [p.grad.copy() for p in model.parameters()]

    with convlib.blas_threads(1):
        one = grads()
        assert conv_chunks == []
        with convlib.compute_threads(n_threads):
            many = grads()
            again = grads()  # deterministic: the chunks do not depend on who computes them
    for a, c in zip(many, again, strict=True):
        np.testing.assert_array_equal(a, c, strict=True)
    if batch == 1:
        assert conv_chunks == []
    else:
        sizes = {r.stop - r.start for _, r in conv_chunks}
        assert conv_chunks and min(sizes) >= 1
    for a, c in zip(one, many, strict=True):
        scale = max(np.abs(a).max(), 1e-300)
        assert np.abs(a - c).max() <= 1e-10 * scale


def test_run_chunks_runs_first_on_the_caller_and_every_chunk_once():
    chunks = [slice(i, i + 1) for i in range(7)]
    done: list[tuple[int, int]] = []
    lock = threading.Lock()
    caller = threading.get_ident()
    first_thread: list[int] = []

    def fn(rows: slice) -> None:
        with lock:
            done.append((rows.start, threading.get_ident()))

    with convlib.compute_threads(3):
        threads.run_chunks(fn, chunks, first=lambda: first_thread.append(threading.get_ident()))
    assert first_thread == [caller]
    assert sorted(i for i, _ in done) == list(range(7))
    threads.run_chunks(fn, chunks[:2])  # one thread: in order, on the caller
    assert done[-2:] == [(0, caller), (1, caller)]


@pytest.mark.parametrize("where", ["chunk", "first"])
def test_an_error_in_run_chunks_reaches_the_caller(where):
    def fn(rows: slice) -> None:
        if where == "chunk" and rows.start == 3:
            raise ZeroDivisionError("chunk 3")

    def first() -> None:
        if where == "first":
            raise ZeroDivisionError("first")

    chunks = [slice(i, i + 1) for i in range(6)]
    with convlib.compute_threads(2), pytest.raises(ZeroDivisionError):
        threads.run_chunks(fn, chunks, first=first)
