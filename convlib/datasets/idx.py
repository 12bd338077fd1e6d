"""The IDX file format of MNIST and Fashion-MNIST: parse it with NumPy.

An IDX file is a 4-byte magic number ``0x0000TTDD`` (``TT`` the element
type, ``DD`` the number of dimensions), ``DD`` big-endian 32-bit sizes, then
the elements in C order. MNIST's image files are ``(N, 28, 28)`` unsigned
bytes (magic 2051), its label files ``(N,)`` unsigned bytes (magic 2049).
"""

from __future__ import annotations

import math
import os
import zlib
from pathlib import Path
from typing import Any, Union

import numpy as np

from .._checks import as_int, as_path

__all__ = ["IDXFormatError", "IMAGES_MAGIC", "LABELS_MAGIC", "read_idx"]

PathLike = Union[str, "os.PathLike[str]"]

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (N, rows, cols)
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (N,)

# IDX type codes (third byte of the magic number) -> big-endian dtype.
_IDX_DTYPES: dict[int, np.dtype[Any]] = {
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


#: Deflate cannot compress better than about 1032:1, so a gzip file of n
#: bytes cannot hold more than this many times n bytes (plus a little).
_MAX_DEFLATE_RATIO = 1032
_CHUNK = 1 << 20
#: Bytes decompressed before the header is known: more than any IDX header (4 + 4 * 255).
_HEAD_ROOM = 1 << 12


def _declared_size(head: bytes) -> int | None:
    """Total size (header + data) the IDX header at the start of ``head`` declares.

    ``None`` while ``head`` is too short to tell; ``-1`` if it is not an IDX header.
    """
    if len(head) < 4:
        return None
    if head[0] or head[1] or head[2] not in _IDX_DTYPES or head[3] == 0:
        return -1
    header_len = 4 + 4 * head[3]
    if len(head) < header_len:
        return None
    dims = [int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(head[3])]
    return header_len + math.prod(dims) * _IDX_DTYPES[head[2]].itemsize


def _inflate_bounded(path: Path) -> bytes:
    """Decompress a gzip file (one or more members), never past one byte more than the IDX header declares.

    The IDX header at the start of the content says how many bytes the whole
    content has: decompression stops as soon as one byte more has come out,
    so a decompression bomb costs no more than the declared size. A header
    declaring more than the compressed file could hold (deflate compresses
    at most about 1032:1) is refused at once. Content that does not start
    with an IDX header is returned after its first block, for
    :func:`_parse_idx` to report.
    """
    compressed_size = path.stat().st_size
    limit: int | None = None  # declared size + 1, once the header is known
    out = bytearray()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    in_member = False
    with open(path, "rb") as f:
        pending, produced = b"", False
        while True:
            if not pending:
                pending = f.read(_CHUNK)
            # With the input used up, an unfinished member may still hold output that
            # max_length held back: keep asking while it gives some.
            if not pending and not (in_member and produced):
                break
            in_member = True
            before = len(out)
            out += inflater.decompress(pending, _HEAD_ROOM if limit is None else limit - len(out))
            produced = len(out) > before
            pending = inflater.unconsumed_tail
            if inflater.eof:  # the end of one gzip member; another may follow
                pending = inflater.unused_data + pending
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                in_member = produced = False
            if limit is None:
                declared = _declared_size(bytes(out[:_HEAD_ROOM]))
                if declared == -1:
                    return bytes(out)
                if declared is not None:
                    if declared > compressed_size * _MAX_DEFLATE_RATIO + _HEAD_ROOM:
                        raise IDXFormatError(
                            f"{path}: the IDX header declares {declared} bytes, more than a gzip file of "
                            f"{compressed_size} bytes can hold (truncated, or a forged header)"
                        )
                    limit = declared + 1
            if limit is not None and len(out) >= limit:
                raise IDXFormatError(
                    f"{path}: decompresses to more than the {limit - 1} bytes its IDX header declares "
                    "(trailing data, or a decompression bomb); stopped reading there"
                )
    if in_member:
        raise EOFError("compressed data ends before the end-of-stream marker (truncated)")
    return bytes(out)


def _read_bytes(path: Path) -> bytes:
    """Return the IDX content of ``path``, decompressing ``*.gz`` (bounded by the header)."""
    if not path.name.endswith(".gz"):
        return path.read_bytes()
    try:
        return _inflate_bounded(path)
    except (OSError, EOFError, zlib.error) as exc:
        raise IDXFormatError(f"{path}: not a valid gzip file ({exc})") from exc


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
    TypeError
        If ``path`` is not a ``str`` or ``os.PathLike``, or ``magic`` is
        neither ``None`` nor an int.

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
    p = as_path("path", path)
    expected = None if magic is None else as_int("magic", magic, 0)
    return _parse_idx(_read_bytes(p), p, expected)


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
