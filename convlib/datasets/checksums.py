"""Checking data-set files against known digests (SHA-256, MD5, ...).

A ``.gz`` file is accepted when its own digests match, or -- for copies that
were re-compressed, such as Debian's Fashion-MNIST -- when the digests of its
decompressed content match those known for the uncompressed file.
Decompression is bounded by the IDX header (:mod:`convlib.datasets.idx`).
A check's result is remembered under the file's ``(path, device, inode,
size, mtime)``, so repeated loads in one process hash each file once.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .idx import IDXFormatError, _check_idx_structure, _read_bytes

__all__: list[str] = []

# (abspath, dev, inode, size, mtime_ns, expected digests) -> (ok, reason)
_VERIFIED: dict[tuple[Any, ...], tuple[bool, str]] = {}


def _file_digests(path: Path, algorithms: Sequence[str]) -> dict[str, str]:
    """Hex digests of ``path`` for each algorithm, in one pass over the file."""
    hashers = {a: hashlib.new(a, usedforsecurity=False) for a in algorithms}
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            for h in hashers.values():
                h.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def _mismatch(got: Mapping[str, str], expected: Mapping[str, str]) -> str | None:
    """``None`` if every expected digest matches, else a description."""
    bad = [
        f"{a} is {got[a]}, expected {expected[a]}"
        for a in sorted(expected)
        if got[a] != expected[a]
    ]
    return "checksum mismatch: " + "; ".join(bad) if bad else None


def _cache_key(path: Path, expected: Mapping[str, str]) -> tuple[Any, ...]:
    st = path.stat()
    return (
        os.path.abspath(path),
        st.st_dev,
        st.st_ino,
        st.st_size,
        st.st_mtime_ns,
        tuple(sorted(expected.items())),
    )


def _verify_file(
    path: Path,
    expected: Mapping[str, str] | None,
    magic: int,
    content: Mapping[str, str] | None = None,
) -> str | None:
    """Check a file on disk; ``None`` if it may be used, else the reason.

    ``expected`` holds the digests of the file itself. ``content`` (for a
    ``.gz`` file) holds those of its decompressed content: a ``.gz`` whose
    own digests do not match (or are unknown) is still accepted when its
    content, decompressed with the IDX header's bound, matches them.
    Results are remembered per ``(path, dev, inode, size, mtime)``.
    """
    content = content if content and path.name.endswith(".gz") else None
    if not expected and not content:
        if path.name.endswith(".gz"):
            return "no checksum is known for this file"
        return _check_idx_structure(path, magic)
    reason = (
        _verify_digests(path, expected)
        if expected
        else "no checksum is known for the .gz file itself"
    )
    if reason is None or content is None:
        return reason
    content_reason = _verify_content(path, content)
    if content_reason is None:
        return None
    return f"{reason}; {content_reason}"


def _verify_digests(path: Path, expected: Mapping[str, str]) -> str | None:
    """Check the file's own digests (remembered per file)."""
    try:
        key = _cache_key(path, expected)
    except OSError as exc:
        return f"cannot stat ({exc})"
    cached = _VERIFIED.get(key)
    if cached is not None:
        return None if cached[0] else cached[1]
    try:
        got = _file_digests(path, list(expected))
    except OSError as exc:
        return f"unreadable ({exc})"
    reason = _mismatch(got, expected)
    if reason is not None:
        reason = f"{reason} (size {key[3]} bytes)"
    _VERIFIED[key] = (reason is None, reason or "")
    return reason


def _content_digests(path: Path, algorithms: Sequence[str]) -> tuple[dict[str, str], int]:
    """Hex digests of the decompressed content of a ``.gz`` file, and its size.

    Decompression stops one byte past the size the IDX header declares
    (:func:`convlib.datasets.idx._read_bytes`), so a bomb costs no more.
    """
    data = _read_bytes(path)
    return {a: hashlib.new(a, data, usedforsecurity=False).hexdigest() for a in algorithms}, len(
        data
    )


def _verify_content(path: Path, content: Mapping[str, str]) -> str | None:
    """Check the digests of a ``.gz`` file's decompressed content (remembered per file)."""
    try:
        key = (*_cache_key(path, content), "content")
    except OSError as exc:
        return f"cannot stat ({exc})"
    cached = _VERIFIED.get(key)
    if cached is not None:
        return None if cached[0] else cached[1]
    try:
        got, size = _content_digests(path, list(content))
    except IDXFormatError as exc:
        reason: str | None = f"its content cannot be checked: {exc}"
    except OSError as exc:
        return f"unreadable ({exc})"
    else:
        reason = _mismatch(got, content)
        if reason is not None:
            reason = (
                f"its decompressed content ({size} bytes) does not match either: "
                + reason.removeprefix("checksum mismatch: ")
            )
    _VERIFIED[key] = (reason is None, reason or "")
    return reason


def _normalize_checksums(
    table: Mapping[str, Any], dataset: str, required: Sequence[str]
) -> dict[str, dict[str, str]]:
    """Validate a checksum table; a bare string value means SHA-256.

    ``required`` lists the file names the table must cover (the archives).
    """
    if not isinstance(table, Mapping):
        raise TypeError(
            f"checksums must be a mapping from file name to digests, got {type(table).__name__}"
        )
    out: dict[str, dict[str, str]] = {}
    for name, value in table.items():
        if isinstance(value, str):
            value = {"sha256": value}
        if not isinstance(name, str) or not isinstance(value, Mapping) or not value:
            raise TypeError(
                f"checksums[{name!r}] must be a hex string (SHA-256) or a non-empty "
                f"mapping such as {{'sha256': '...'}}, got {value!r}"
            )
        digests: dict[str, str] = {}
        for algo, digest in value.items():
            algo_l = str(algo).lower()
            if algo_l not in hashlib.algorithms_guaranteed:
                raise ValueError(
                    f"checksums[{name!r}]: unknown hash algorithm {algo!r} "
                    f"(use one of {sorted(hashlib.algorithms_guaranteed)})"
                )
            if not isinstance(digest, str):
                raise TypeError(
                    f"checksums[{name!r}][{algo!r}] must be a hex string, got {digest!r}"
                )
            digests[algo_l] = digest.strip().lower()
        out[name] = digests
    missing = [n for n in required if n not in out]
    if missing:
        raise ValueError(
            f"checksums for {dataset} must cover every archive; missing: {', '.join(missing)}"
        )
    return out
