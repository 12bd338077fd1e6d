"""The IDX file format of MNIST and Fashion-MNIST: parse it with NumPy.

An IDX file is a 4-byte magic number ``0x0000TTDD`` (``TT`` the element
type, ``DD`` the number of dimensions), ``DD`` big-endian 32-bit sizes, then
the elements in C order. MNIST's image files are ``(N, 28, 28)`` unsigned
bytes (magic 2051), its label files ``(N,)`` unsigned bytes (magic 2049).
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Union

import numpy as np

__all__ = ["IDXFormatError", "IMAGES_MAGIC", "LABELS_MAGIC", "read_idx"]

PathLike = Union[str, "os.PathLike[str]"]

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (N, rows, cols)
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (N,)

# IDX type codes (third byte of the magic number) -> big-endian dtype.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IDXFormatError(ValueError):
    """A file is not a well-formed IDX file of the expected kind.

    The message starts with the file's path.
    """


def _magic_meaning(magic: int) -> str:
    if magic == IMAGES_MAGIC:
        return "images"
    if magic == LABELS_MAGIC:
        return "labels"
    return "IDX"


def _parse_idx(buf: bytes, path: Path, expected_magic: int | None) -> np.ndarray:
    """Parse a complete in-memory IDX file; see :func:`read_idx`."""
    if len(buf) < 4:
        raise IDXFormatError(f"{path}: {len(buf)} bytes, too short for an IDX header")
    magic = int.from_bytes(buf[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise IDXFormatError(
            f"{path}: magic number {magic} (0x{magic:08x}), expected {expected_magic} "
            f"(0x{expected_magic:08x}, {_magic_meaning(expected_magic)}); "
            "is this the right file, and is it an IDX file at all?"
        )
    zero0, zero1, code, ndim = buf[0], buf[1], buf[2], buf[3]
    if zero0 or zero1 or code not in _IDX_DTYPES or ndim == 0:
        raise IDXFormatError(
            f"{path}: magic number 0x{magic:08x} is not an IDX header "
            "(expected 0x0000TTDD with a known type code TT and DD >= 1 dimensions)"
        )
    header_len = 4 + 4 * ndim
    if len(buf) < header_len:
        raise IDXFormatError(
            f"{path}: truncated header ({len(buf)} bytes, a {ndim}-D IDX header needs {header_len})"
        )
    dims = tuple(int.from_bytes(buf[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[code]
    count = math.prod(dims)
    expected_bytes = count * dtype.itemsize
    actual_bytes = len(buf) - header_len
    if actual_bytes != expected_bytes:
        what = "truncated" if actual_bytes < expected_bytes else "has trailing bytes"
        raise IDXFormatError(
            f"{path}: {what}: the header declares dimensions {dims} of {dtype.name}, "
            f"i.e. {expected_bytes} data bytes, but the file holds {actual_bytes}"
        )
    arr = np.frombuffer(buf, dtype=dtype, count=count, offset=header_len).reshape(dims)
    # A writable array in native byte order (a copy, so it owns its memory).
    return arr.astype(dtype.newbyteorder("="), copy=True)


def _read_bytes(path: Path) -> bytes:
    """Return the IDX content of ``path``, decompressing ``*.gz``."""
    raw = path.read_bytes()
    if not path.name.endswith(".gz"):
        return raw
    try:
        # One zlib call (it checks the gzip CRC and length trailer); only a
        # multi-member archive needs the slower gzip module.
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data = inflater.decompress(raw)
        if not inflater.eof:
            raise EOFError("compressed data ends before the end-of-stream marker (truncated)")
        if inflater.unused_data:
            data = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise IDXFormatError(f"{path}: not a valid gzip file ({exc})") from exc
    return data


def read_idx(path: PathLike, *, magic: int | None = None) -> np.ndarray:
    """Read one IDX file, gzipped (``*.gz``) or not.

    Parameters
    ----------
    path : str or os.PathLike
        The file. A name ending in ``.gz`` is decompressed first.
    magic : int, optional
        Required magic number, e.g. ``2051`` for images or ``2049`` for
        labels. ``None`` accepts any valid IDX header.

    Returns
    -------
    ndarray
        Shape as declared in the header, e.g. ``(N, rows, cols)`` for image
        files and ``(N,)`` for label files; dtype as declared (``uint8`` for
        MNIST), converted to native byte order. The array is writable.

    Raises
    ------
    IDXFormatError
        If the magic number is wrong, the header is not an IDX header, or the
        number of data bytes differs from what the header declares (a
        truncated file or trailing garbage), or a ``.gz`` file is corrupt.
        The message names the file.
    FileNotFoundError
        If ``path`` does not exist.

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> header = (2049).to_bytes(4, "big") + (3).to_bytes(4, "big")
    >>> folder = tempfile.mkdtemp()
    >>> name = os.path.join(folder, "labels.gz")
    >>> with open(name, "wb") as f:
    ...     _ = f.write(gzip.compress(header + bytes([7, 2, 1])))
    >>> read_idx(name, magic=2049)
    array([7, 2, 1], dtype=uint8)
    """
    p = Path(os.fspath(path))
    return _parse_idx(_read_bytes(p), p, magic)


def _check_idx_structure(path: Path, magic: int) -> str | None:
    """Cheap check of an uncompressed IDX file: header and size only.

    Returns ``None`` if fine, else the reason.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(4 + 4 * 3)
        if len(head) < 4:
            return f"{size} bytes, too short for an IDX header"
        found = int.from_bytes(head[:4], "big")
        if found != magic:
            return f"magic number {found}, expected {magic}"
        ndim = head[3]
        header_len = 4 + 4 * ndim
        if len(head) < header_len:
            return "truncated header"
        dims = [int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
        expected = header_len + math.prod(dims)
        if size != expected:
            return f"size {size} bytes, the header implies {expected}"
    except OSError as exc:
        return f"unreadable ({exc})"
    return None
