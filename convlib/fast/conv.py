"""Tuned convolution: the im2col products with faster memory layouts.

:func:`conv2d_forward_fast` and :func:`conv2d_backward_fast` compute what
:func:`convlib.conv2d_forward_im2col` and :func:`convlib.conv2d_backward_im2col`
compute -- ``Y = cols @ W + b``; ``dW = cols.T @ dY``, ``db = sum(dY)``,
``dx = col2im(dY @ W.T)`` -- with the same arguments and the same cache,
:class:`convlib.conv.Conv2DCache`. :func:`convlib.conv2d_forward` and
:func:`convlib.conv2d_backward`, which every layer calls, run them.

Each trick below is paid for by a benchmark figure. The figures were measured
in an earlier run of ``benchmarks/bench_conv.py`` (float32, single-threaded
CPU time on the shared 2-core machine; shapes A-E and the whole story are in
``benchmarks/README.md``); rerun the script to measure your machine:

* **One im2col copy from a strided view** (:func:`convlib.windows.window_view`).
  Copying one strided slice per kernel tap instead moves runs of only ``C``
  numbers: the copy was 3x (D, 21 -> 7.7 ms) to 7x (E, 4.6 -> 0.66 ms) slower.
* **A transposed, "channel-major" layout for few channels**
  (``C <= CHANNEL_MAJOR_MAX_C``): the row layout's copied runs would be only
  ``KW * C`` numbers long (3 for one channel); the ``(K, M)`` layout copies
  whole image rows (A: im2col 1.2 -> 0.17 ms, forward 1.2 -> 0.5 ms). From 8
  channels on the row layout is faster, in the backward especially.
* **The bias inside the products**: a column of ones in the im2col buffer and
  ``b`` as an extra row of the weights. ``out += b`` alone cost 0.36 ms on A
  (as much as the GEMM, because F = 8 makes NumPy's broadcast loop short), and
  ``dout.sum(axis=0)`` 0.9 ms against 0.06 ms for the extra GEMM row.
* **Row stride rounded up to** ``ROW_ALIGN`` **elements** in the row layout:
  with the bias column the rows had ``K + 1`` elements and the ``dw`` product
  ran ~10 % slower.
* **dx without the large dcols matrix**: one small GEMM per kernel tap, added
  into the padded gradient by :func:`convlib.fast.phases.phase_scatter`
  (``np.add.at`` was 4-10x slower than these additions); with a stride, the
  additions run phase by phase so that each is contiguous (E backward
  12.5 -> 9.5 ms).
* **A per-thread workspace** (:mod:`convlib.fast.workspace`) for the
  temporaries that die inside a call: A forward + backward 4.3 -> 1.3 ms
  (page faults ~1200 -> ~130), C 9.5 -> 5.6 ms.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .._checks import as_bool, check_memory
from ..conv import Conv2DCache, _check_backward, _prepare
from ..windows import WindowGeometry, _checked_windows_args, _strided_windows
from .phases import _phase_scatter
from .threads import conv_thread_count, run_chunks
from .workspace import _scratch

__all__ = [
    "CHANNEL_MAJOR_MAX_C",
    "ROW_ALIGN",
    "channel_major",
    "im2col_fast",
    "conv2d_forward_fast",
    "conv2d_backward_fast",
    "conv2d_param_grads_fast",
]

#: Inputs with at most this many channels use the channel-major im2col layout.
CHANNEL_MAJOR_MAX_C = 4

#: The row stride of the row-layout im2col buffer is rounded up to a multiple
#: of this many elements (an odd stride, K + 1 with the bias column, slowed
#: the dw product down by ~10 %).
ROW_ALIGN = 16


def channel_major(c: int) -> bool:
    """Whether inputs with ``c`` channels use the transposed (channel-major) layout."""
    return c <= CHANNEL_MAJOR_MAX_C


def _fill_cols(
    x_padded: np.ndarray,
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_hw: tuple[int, int],
    ones: bool,
) -> np.ndarray:
    """:func:`im2col_fast` for arguments that are already valid."""
    n, _, _, c = x_padded.shape
    (kh, kw), (oh, ow) = kernel_size, out_hw
    buf = _new_cols(n * oh * ow, kh * kw * c, c, x_padded.dtype, ones)
    _fill_rows(buf, x_padded, slice(0, n), kernel_size, stride, dilation, out_hw)
    return _cols_matrix(buf, kh * kw * c, c, ones)


def _new_cols(m: int, k: int, c: int, dtype: np.dtype, ones: bool) -> np.ndarray:
    """The im2col buffer of ``m`` rows and ``k`` columns (+ the ones), unfilled.

    Channel-major (``c <= CHANNEL_MAJOR_MAX_C``): shape ``(k [+ 1], m)``;
    otherwise ``(m, L)``, ``L >= k [+ 1]`` a multiple of ``ROW_ALIGN``.
    """
    width = k + 1 if ones else k
    if channel_major(c):
        # Few channels: fill the transposed (K, M) buffer, whose copied runs are
        # output rows instead of KW * C numbers (A: im2col 1.2 -> 0.17 ms).
        buf = np.empty((width, m), dtype=dtype)
        if ones:
            buf[k] = 1  # the bias row (out += b alone cost 0.36 ms on A)
        return buf
    row = -(-width // ROW_ALIGN) * ROW_ALIGN  # aligned rows: dw product ~10 % faster
    buf = np.empty((m, row), dtype=dtype)
    if ones:
        buf[:, k] = 1
    return buf


def _cols_matrix(buf: np.ndarray, k: int, c: int, ones: bool) -> np.ndarray:
    """The ``(M, K [+ 1])`` matrix view of a buffer from :func:`_new_cols`."""
    return buf.T if channel_major(c) else buf[:, : k + 1 if ones else k]


def _fill_rows(
    buf: np.ndarray,
    x_padded: np.ndarray,
    rows: slice,
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_hw: tuple[int, int],
) -> None:
    """Fill the im2col rows of the examples ``rows`` of ``x_padded`` into ``buf``."""
    n, hp, wp, c = x_padded.shape
    (kh, kw), (oh, ow) = kernel_size, out_hw
    k = kh * kw * c
    x_rows = x_padded[rows]
    nr = x_rows.shape[0]
    if channel_major(c):
        if c > 1:
            # Channels first in memory, so that each copied run is an image row;
            # a temporary, so it lives in the (calling thread's) workspace.
            xt = _scratch("x_chw", (c, nr, hp, wp), x_padded.dtype)
            xt[...] = x_rows.transpose(3, 0, 1, 2)
            x_rows = xt.transpose(1, 2, 3, 0)
        windows = _strided_windows(x_rows, kernel_size, stride, dilation, out_hw)
        target = buf[:k].reshape(kh, kw, c, n, oh, ow)[:, :, :, rows]
        target[...] = windows.transpose(3, 4, 5, 0, 1, 2)
        return
    windows = _strided_windows(x_rows, kernel_size, stride, dilation, out_hw)
    row = buf.shape[1]
    buf.reshape(n, oh, ow, row)[rows, ..., :k].reshape(nr, oh, ow, kh, kw, c)[...] = windows


def _batch_slices(n: int, parts: int) -> list[slice]:
    """``parts`` consecutive slices of ``range(n)``, sizes differing by at most one."""
    bounds = [n * i // parts for i in range(parts + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(parts)]


def im2col_fast(
    x_padded: Any, kernel_size: Any, stride: Any = 1, dilation: Any = 1, *, ones: bool = False
) -> np.ndarray:
    """:func:`convlib.im2col` in the tuned layout, optionally with a column of ones.

    Parameters
    ----------
    x_padded : array_like, shape (N, Hp, Wp, C)
    kernel_size, stride, dilation : int or (int, int)
    ones : bool
        Append a last column of ones (it multiplies the bias).

    Returns
    -------
    ndarray, shape (M, K) or (M, K + 1)
        ``M = N * OH * OW``, ``K = KH * KW * C``; the values of
        :func:`convlib.im2col`. With ``C <= CHANNEL_MAJOR_MAX_C`` this is a
        transposed view of a C-contiguous ``(K[+1], M)`` buffer, otherwise a
        view of the first columns of an ``(M, L)`` buffer, ``L >= K [+ 1]``
        a multiple of ``ROW_ALIGN``.
    """
    x_padded, kernel, step, dil, out_hw = _checked_windows_args(
        x_padded, kernel_size, stride, dilation
    )
    ones = as_bool("ones", ones)
    n, _, _, c = x_padded.shape
    check_memory(
        "im2col_fast",
        [
            (
                "im2col matrix",
                (n * out_hw[0] * out_hw[1], kernel[0] * kernel[1] * c + ones),
                x_padded.dtype,
            )
        ],
        f"x_padded {x_padded.shape} with kernel_size {kernel}",
    )
    return _fill_cols(x_padded, kernel, step, dil, out_hw, ones)


def conv2d_forward_fast(
    x: Any,
    w: Any,
    b: Any,
    stride: Any = 1,
    padding: Any = "valid",
    dilation: Any = 1,
    groups: Any = 1,
) -> tuple[np.ndarray, Conv2DCache]:
    """Convolution forward pass, tuned: one im2col copy and one matrix product.

    Same arguments, results and cache as :func:`convlib.conv2d_forward_im2col`.

    Parameters
    ----------
    x : array_like, shape (N, H, W, C)
    w : array_like, shape (KH, KW, C, F)
    b : array_like, shape (F,) or (1, 1, 1, F), or None
    stride : int or (int, int)
    padding : {"valid", "same", "full"}, int, (int, int) or ((int, int), (int, int))
    dilation : int or (int, int)
    groups : int
        With ``groups > 1`` (``w`` of shape ``(KH, KW, C // groups, F)``)
        the call goes to :func:`convlib.fast.grouped.conv2d_forward_grouped_fast`.

    Returns
    -------
    out : ndarray, shape (N, OH, OW, F)
    cache : Conv2DCache
        Holds the im2col matrix (``cols``, shape ``(N * OH * OW, KH * KW * C)``)
        and, with a bias, ``cols_with_ones``.
        It keeps ``w`` and, without padding, ``x`` themselves, not copies:
        do not modify them in place before the backward pass (caches hold
        references, see :mod:`convlib`).

    Notes
    -----
    With a bias, the im2col buffer gets an extra column of ones and the
    weight matrix an extra row holding ``b``, so a single product
    ``[cols | 1] @ [[W], [b]]`` computes ``cols @ W + b``.
    """
    if type(groups) is not int or groups != 1:  # grouped: convlib.fast.grouped
        from .grouped import conv2d_forward_grouped_fast

        return conv2d_forward_grouped_fast(x, w, b, stride, padding, dilation, groups)
    xp, w, b, cache = _prepare(x, w, b, stride, padding, dilation, call="conv2d_forward_fast")
    kh, kw, c, f = w.shape
    k = kh * kw * c
    n, oh, ow, _ = cache.out_shape
    wmat = w.reshape(k, f)
    if b is not None:
        wmat = np.concatenate([wmat, b.reshape(1, f)])
    threads = conv_thread_count(n, n * oh * ow * k * f)
    if threads == 1:
        mat = _fill_cols(xp, (kh, kw), cache.stride, cache.dilation, (oh, ow), b is not None)
        out = mat @ wmat
    else:
        mat, out = _forward_chunks(xp, wmat, cache, b is not None, threads)
    cache = replace(cache, cols=mat[:, :k], cols_with_ones=mat if b is not None else None)
    return out.reshape(cache.out_shape), cache


def conv2d_backward_fast(
    dout: Any, cache: Conv2DCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Convolution backward pass, tuned.

    Computes ``dW = cols.T @ dY``, ``db = sum(dY, axis=0)`` and
    ``dx = col2im(dY @ W.T)`` (cropped), like
    :func:`convlib.conv2d_backward_im2col`, and accepts a cache from any
    conv2d forward pass.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, F)
    cache : Conv2DCache

    Returns
    -------
    dx : ndarray, shape (N, H, W, C)
    dw : ndarray, shape (KH, KW, C, F)
    db : ndarray, shape of the ``b`` given to the forward, or None

    Notes
    -----
    ``db`` comes out of the same product as ``dw``: the forward's column of
    ones makes ``[cols | 1].T @ dY`` equal ``[[dW], [db]]``. ``dx`` is not
    built from the large ``dcols`` matrix: each kernel tap's share
    ``dY @ w[p, q].T`` (or, for few channels, one row block of ``W @ dY.T``)
    goes straight to :func:`convlib.fast.phases.phase_scatter`. A cache with
    ``groups > 1`` goes to :func:`convlib.fast.grouped.conv2d_backward_grouped_fast`.
    """
    if isinstance(cache, Conv2DCache) and cache.groups != 1:  # grouped: convlib.fast.grouped
        from .grouped import conv2d_backward_grouped_fast

        return conv2d_backward_grouped_fast(dout, cache)
    dout = _check_backward(dout, cache)
    n, oh, ow, f = cache.out_shape
    kh, kw, c, _ = cache.w.shape
    k = kh * kw * c
    dy = dout.reshape(-1, f)
    geometry = WindowGeometry(
        cache.x_shape, cache.pads, (kh, kw), cache.stride, cache.dilation, (oh, ow)
    )
    threads = conv_thread_count(n, n * oh * ow * k * f)
    if threads > 1:
        return _backward_chunks(dy, cache, geometry, threads)
    dw, db = _param_grads(dy, cache)

    # dx: one small product per tap, added by the phase scatter, instead of the
    # M x K matrix dcols and col2im (np.add.at was 4-10x slower than these
    # additions; phases: E backward 12.5 -> 9.5 ms).
    wmat = cache.w.reshape(k, f).astype(dy.dtype, copy=False)
    if channel_major(c):
        dcols_t = np.matmul(wmat, dy.T, out=_scratch("dcols_t", (k, n * oh * ow), dy.dtype))
        dcols_t = dcols_t.reshape(kh, kw, c, n, oh, ow)
        return (
            _phase_scatter(lambda p, q: dcols_t[p, q], geometry, dy.dtype, channel_major=True),
            dw,
            db,
        )

    w4 = wmat.reshape(kh, kw, c, f)
    tap = _scratch("tap", (n * oh * ow, c), dy.dtype)  # reused by every tap

    def tap_grad(p: int, q: int) -> np.ndarray:
        return np.matmul(dy, w4[p, q].T, out=tap).reshape(n, oh, ow, c)

    return _phase_scatter(tap_grad, geometry, dy.dtype), dw, db


def _param_grads(dy: np.ndarray, cache: Conv2DCache) -> tuple[np.ndarray, np.ndarray | None]:
    """``dW`` and ``db`` from ``dy = dout.reshape(-1, F)`` (already checked)."""
    _, oh, ow, f = cache.out_shape
    kh, kw, c, _ = cache.w.shape
    k = kh * kw * c
    if cache.b_shape is not None and cache.cols_with_ones is not None:
        # [cols | 1].T @ dy stacks dw (first K rows) on top of db (last row): on
        # A the extra row cost 0.06 ms, a separate dout.sum(axis=0) 0.9 ms.
        dwb = cache.cols_with_ones.T @ dy
        dw, db = dwb[:k], dwb[k].reshape(cache.b_shape)
    else:
        cols = cache.cols
        if cols is None:
            cols = _fill_cols(
                cache.x_padded, (kh, kw), cache.stride, cache.dilation, (oh, ow), False
            )
        dw = cols.T @ dy
        db = None
        if cache.b_shape is not None:
            db = (np.ones(dy.shape[0], dtype=dy.dtype) @ dy).reshape(cache.b_shape)
    return dw.reshape(cache.w.shape).astype(dy.dtype, copy=False), db


def conv2d_param_grads_fast(dout: Any, cache: Conv2DCache) -> tuple[np.ndarray, np.ndarray | None]:
    """The parameter gradients of a convolution, without the input gradient.

    What :func:`conv2d_backward_fast` returns as ``dw`` and ``db``, for a
    layer whose input gradient nobody uses: the first layer of a network,
    whose input is the data. Training the capstone network
    (``benchmarks/bench_capstone.py``), the input gradient of its first
    convolution took 2.1 of the 3.0 ms of that layer's backward pass, about
    10 % of a training step (float32, batch 128, 1 thread, CPU time, load
    average ~10). PyTorch skips it too: autograd computes no gradient for an
    input that does not require one.

    It stays one product on the calling thread whatever the compute threads
    (:mod:`convlib.fast.threads`): its only work is ``[cols | 1].T @ dY``, a
    reduction over all ``N * OH * OW`` rows, and splitting it (into partial
    sums, or into blocks of ``dW``'s rows or columns) gave results that differ
    from the whole product's in the last bits depending on OpenBLAS's kernel
    blocking (column halves of 8 of the capstone's 16 filters matched, blocks
    of 4 did not, on the Haswell kernels), so ``dw`` and ``db`` stay
    bit-identical to one thread's.

    Parameters
    ----------
    dout : array_like, shape (N, OH, OW, F)
    cache : Conv2DCache
        From any conv2d forward pass.

    Returns
    -------
    dw : ndarray, shape (KH, KW, C, F)
    db : ndarray, shape of the ``b`` given to the forward, or None
    """
    dout = _check_backward(dout, cache)
    return _param_grads(dout.reshape(-1, cache.out_shape[3]), cache)


# --- the batch split over the compute threads (opt-in, convlib.fast.threads) ---


def _forward_chunks(
    xp: np.ndarray, wmat: np.ndarray, cache: Conv2DCache, ones: bool, threads: int
) -> tuple[np.ndarray, np.ndarray]:
    """The forward's im2col matrix and ``(M, F)`` product, one batch chunk per thread.

    Each chunk fills its examples' rows of the im2col buffer and multiplies
    them into its rows of the output. Batch 128, float32, BLAS 1 thread,
    load 7-8, one thread CPU -> two threads' critical path
    (``benchmarks/bench_threads.py --only convs``, benchmarks/README.md):
    the capstone's second convolution 4.24 -> 2.48 ms, the book residual
    network's 14 x 14 x 16 one 4.58 -> 3.10 ms. The rows agree with
    the one-thread product up to rounding, not bit for bit: OpenBLAS computes
    the last ``M mod unroll`` rows of a product with other kernel code.
    """
    n, oh, ow, f = cache.out_shape
    kh, kw, c, _ = cache.w.shape
    k = kh * kw * c
    buf = _new_cols(n * oh * ow, k, c, xp.dtype, ones)
    mat = _cols_matrix(buf, k, c, ones)
    out = np.empty((n * oh * ow, f), dtype=np.result_type(mat.dtype, wmat.dtype))
    per_example = oh * ow

    def chunk(rows: slice) -> None:
        _fill_rows(buf, xp, rows, (kh, kw), cache.stride, cache.dilation, (oh, ow))
        m_rows = slice(rows.start * per_example, rows.stop * per_example)
        np.matmul(mat[m_rows], wmat, out=out[m_rows])

    run_chunks(chunk, _batch_slices(n, threads))
    return mat, out


def _backward_chunks(
    dy: np.ndarray, cache: Conv2DCache, geometry: WindowGeometry, threads: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The backward pass with ``dx`` in batch chunks and ``dW``, ``db`` as one product.

    Example ``i``'s input gradient depends only on its own rows of ``dY``,
    so the workers compute ``dx`` chunk by chunk (per-tap products and phase
    scatter of the chunk, into its rows of ``dx``) while the calling thread
    computes ``[dW; db]`` as the one product of the one-thread pass (so
    ``dw`` and ``db`` are bit-identical to it), then takes the chunks left.

    Measured (batch 128, float32, BLAS 1 thread, load 4.5-5.8, critical path
    at 2 compute threads, ``benchmarks/README.md``): the capstone's second
    convolution 5.48 -> 3.39 ms, the book residual network's 14 x 14 x 16 one
    6.41 -> 3.91 ms, shape D of ``bench_conv.py`` 118.8 -> 59.2 ms. Per-chunk
    partial sums of ``dW`` instead (each chunk its ``cols.T @ dY`` rows, added
    at the end) took 3.29, 3.81 and 61.8 ms: no clear gain, and a ``dW``
    whose rounding changes with the thread count (4e-7 relative in float32),
    so the one product stays.
    """
    n, oh, ow, f = cache.out_shape
    kh, kw, c, _ = cache.w.shape
    k = kh * kw * c
    wmat = cache.w.reshape(k, f).astype(dy.dtype, copy=False)
    w4 = wmat.reshape(kh, kw, c, f)
    dx = np.empty(cache.x_shape, dtype=dy.dtype)
    per_example = oh * ow
    grads: list[tuple[np.ndarray, np.ndarray | None]] = []

    def chunk(rows: slice) -> None:
        nr = rows.stop - rows.start
        dy_rows = dy[rows.start * per_example : rows.stop * per_example]
        geo = replace(geometry, x_shape=(nr, *geometry.x_shape[1:]))
        if channel_major(c):
            scratch = _scratch("dcols_t", (k, nr * per_example), dy.dtype)
            dcols_t = np.matmul(wmat, dy_rows.T, out=scratch).reshape(kh, kw, c, nr, oh, ow)
            _phase_scatter(
                lambda p, q: dcols_t[p, q], geo, dy.dtype, channel_major=True, out=dx[rows]
            )
            return
        tap = _scratch("tap", (nr * per_example, c), dy.dtype)

        def tap_grad(p: int, q: int) -> np.ndarray:
            return np.matmul(dy_rows, w4[p, q].T, out=tap).reshape(nr, oh, ow, c)

        _phase_scatter(tap_grad, geo, dy.dtype, out=dx[rows])

    # Twice as many chunks as threads, so that the thread that finishes first
    # (the caller, after dW) takes the chunks left: with as many chunks as
    # threads the same three backward passes took 3.69, 4.49 and 65.3 ms
    # instead of 3.39, 3.91 and 59.2 (benchmarks/README.md).
    run_chunks(
        chunk,
        _batch_slices(n, min(n, 2 * threads)),
        first=lambda: grads.append(_param_grads(dy, cache)),
    )
    dw, db = grads[0]
    return dx, dw, db
