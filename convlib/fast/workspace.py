"""Per-thread scratch memory for the tuned tier's temporaries, with a size bound.

The tuned convolution and pooling passes need large temporaries that die
before the call returns (a transposed copy of the input, the column gradient,
one kernel tap's product, a stride phase's accumulator). Allocating them
afresh on every call is expensive: glibc hands freed multi-megabyte blocks
back to the operating system, and every 4 KiB page then costs a page fault
when it is touched again (about 2.5 us each on the 2-core benchmark machine,
more than the arithmetic of a small layer). Measured in an earlier run with
``benchmarks/bench_conv.py`` (its page-fault column): forward + backward of
shape A took ~1200 page faults and 4.3 ms with fresh temporaries, ~130 and
1.3 ms with this workspace (shape C: 9.5 -> 5.6 ms).

So :func:`scratch` keeps one buffer per name and per thread and hands it out
again on the next call. Rules:

* Only arrays that are dead when the tuned function returns may come from
  here: never an output, never a cache entry. (The tests check this with
  ``np.shares_memory``.)
* A thread's buffers total at most :data:`WORKSPACE_LIMIT_BYTES`. A request
  larger than the limit gets a fresh array that is not kept; growing one
  buffer past the limit first drops that thread's other buffers.
* :func:`clear_workspace` drops every thread's buffers (arrays still in use
  stay valid: they keep their memory alive until they die);
  :func:`workspace_nbytes` reports how much is held.
"""

from __future__ import annotations

import math
import threading
import weakref

import numpy as np

from .._checks import as_array_shape, as_dtype

__all__ = ["WORKSPACE_LIMIT_BYTES", "scratch", "clear_workspace", "workspace_nbytes"]

#: Most bytes one thread's workspace keeps between calls. 64 MiB holds every
#: temporary of the benchmark shapes (the largest, the per-tap product of
#: shape D in float64, is 25.7 MB). Read at every call, so assigning a new
#: value to ``convlib.fast.workspace.WORKSPACE_LIMIT_BYTES`` applies to the
#: next request (buffers kept under a higher limit stay until
#: :func:`clear_workspace`, or until a buffer grows).
WORKSPACE_LIMIT_BYTES = 64 * 2**20


class _Workspace:
    """One thread's buffers: name -> 1-D uint8 array."""

    __slots__ = ("__weakref__", "buffers")

    def __init__(self) -> None:
        self.buffers: dict[str, np.ndarray] = {}

    def nbytes(self) -> int:
        return sum(buf.nbytes for buf in list(self.buffers.values()))


_LOCAL = threading.local()
#: Every live thread's workspace (weak: a workspace dies with its thread).
_ALL: weakref.WeakSet[_Workspace] = weakref.WeakSet()
_REGISTRY_LOCK = threading.Lock()


def _own_workspace() -> _Workspace:
    ws = getattr(_LOCAL, "workspace", None)
    if ws is None:
        ws = _Workspace()
        _LOCAL.workspace = ws
        with _REGISTRY_LOCK:
            _ALL.add(ws)
    return ws


def scratch(name: str, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """An uninitialised array for a temporary that never leaves the caller.

    Parameters
    ----------
    name : str
        Which buffer: two temporaries alive at the same time need two names.
        The next request under the same name (in the same thread) returns the
        same memory again.
    shape : tuple of int
        Sizes >= 0.
    dtype : numpy dtype
        Numeric (bool, integer, floating point or complex).

    Returns
    -------
    ndarray, shape ``shape``
        C-contiguous, contents undefined. A view of the thread's buffer
        ``name`` (grown if it was too small), or a fresh array when the
        request alone exceeds :data:`WORKSPACE_LIMIT_BYTES`.

    Raises
    ------
    TypeError
        If ``name`` is not a string, ``shape`` not a tuple of ints or
        ``dtype`` not a numeric NumPy dtype.
    ValueError
        If a size in ``shape`` is negative.

    Examples
    --------
    >>> a = scratch("example", (2, 3), np.float32)
    >>> a.shape, a.dtype
    ((2, 3), dtype('float32'))
    """
    if not isinstance(name, str):
        raise TypeError(
            f"name must be a str naming the buffer, got {name!r} ({type(name).__name__})"
        )
    shape = as_array_shape("shape", shape)
    dtype = as_dtype("dtype", dtype)
    return _scratch(name, shape, dtype)


def _scratch(name: str, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """:func:`scratch` without argument checks: what the tuned tier calls (arguments already valid)."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    limit = WORKSPACE_LIMIT_BYTES
    if nbytes > limit:
        return np.empty(shape, dtype=dtype)
    ws = _own_workspace()
    buf = ws.buffers.get(name)
    if buf is None or buf.nbytes < nbytes:
        ws.buffers.pop(name, None)
        if ws.nbytes() + nbytes > limit:
            ws.buffers.clear()  # arrays handed out before stay valid: they own a reference
        buf = np.empty(nbytes, dtype=np.uint8)
        ws.buffers[name] = buf
    return buf[:nbytes].view(dtype).reshape(shape)


def workspace_nbytes() -> int:
    """Bytes held by the workspaces of all live threads."""
    with _REGISTRY_LOCK:
        spaces = list(_ALL)
    return sum(ws.nbytes() for ws in spaces)


def clear_workspace() -> int:
    """Drop the cached buffers of every thread; return how many bytes they held.

    Safe at any time: an array that a running call obtained from
    :func:`scratch` keeps its memory until it dies; the next call simply
    allocates again.
    """
    with _REGISTRY_LOCK:
        spaces = list(_ALL)
    released = 0
    for ws in spaces:
        released += ws.nbytes()
        ws.buffers.clear()
    return released


def _buffers() -> list[np.ndarray]:
    """Every cached buffer of every live thread (for tests)."""
    with _REGISTRY_LOCK:
        spaces = list(_ALL)
    return [buf for ws in spaces for buf in list(ws.buffers.values())]
