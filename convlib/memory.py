"""The memory limit: refuse a call early instead of filling gigabytes first.

A convolution over a large batch needs its im2col matrix, ``KH * KW`` times
the size of the input, on top of the output and the padded input. A shape
typed with one zero too many asks for tens of GiB; NumPy would start filling
memory (and the machine swap) before failing with a bare ``MemoryError``.
Instead, convolution, pooling, :func:`convlib.im2col` and
:func:`convlib.col2im` add up the bytes of the large arrays they are about to
allocate -- from the shapes alone, before allocating anything -- and raise a
:class:`MemoryLimitError` naming the arrays, their shapes and the GiB when the
sum exceeds :func:`memory_limit`.

The limit is 80 % of the machine's physical memory
(:data:`DEFAULT_FRACTION`; no limit where the operating system does not tell
it). :func:`set_memory_limit` changes it for the process.
"""

from __future__ import annotations

import numbers
import os

__all__ = [
    "DEFAULT_FRACTION",
    "MemoryLimitError",
    "physical_memory",
    "memory_limit",
    "set_memory_limit",
]

#: Share of the physical memory one call may ask for by default.
DEFAULT_FRACTION = 0.8


class MemoryLimitError(MemoryError):
    """A call would need more memory than :func:`memory_limit` allows.

    Raised before anything is allocated; the message names the arrays the
    call would create, their shapes and sizes in GiB. A subclass of
    ``MemoryError``, so code that handles running out of memory handles it.
    """


def physical_memory() -> int | None:
    """Bytes of physical memory of the machine, or ``None`` if unknown."""
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None
    if pages <= 0 or page_size <= 0:
        return None
    return int(pages) * int(page_size)


_limit: int | None = None  # None: the default, computed when asked
_limit_set = False


def memory_limit() -> int | None:
    """Largest number of bytes one call may allocate, or ``None`` for no limit.

    ``DEFAULT_FRACTION`` of :func:`physical_memory` unless
    :func:`set_memory_limit` set another value.
    """
    if _limit_set:
        return _limit
    total = physical_memory()
    return None if total is None else int(total * DEFAULT_FRACTION)


def set_memory_limit(nbytes: int | None) -> int | None:
    """Set the memory limit of every later call; return the previous limit.

    Parameters
    ----------
    nbytes : int or None
        Bytes a single call may allocate (at least 1), or ``None`` to go back
        to the default (``DEFAULT_FRACTION`` of the physical memory).

    Returns
    -------
    int or None
        The limit in force before the call, for restoring it.

    Examples
    --------
    >>> previous = set_memory_limit(8 * 2**30)  # 8 GiB
    >>> memory_limit()
    8589934592
    >>> _ = set_memory_limit(None)  # back to the default
    """
    global _limit, _limit_set
    if nbytes is not None and (
        isinstance(nbytes, bool) or not isinstance(nbytes, numbers.Integral)
    ):
        raise TypeError(f"nbytes must be an int (bytes) or None, got {nbytes!r}")
    if nbytes is not None and nbytes < 1:
        raise ValueError(f"nbytes must be >= 1, got {nbytes}")
    previous = memory_limit()
    _limit, _limit_set = (None, False) if nbytes is None else (int(nbytes), True)
    return previous
