"""Downloading a verified file: mirrors, retries with back-off, atomic writes.

Each file is streamed into a temporary file in the destination folder,
hashed on the way, and renamed into place with :func:`os.replace` only when
its digests match (:func:`convlib._files.atomic_write`, the rule
:meth:`convlib.Sequential.save` uses too), so an interrupted download never
leaves a file that looks complete. Installed files get the mode a new file
gets from the umask (``0o644`` under the usual ``022``), so a shared data
folder stays readable by everyone.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from .._files import atomic_write
from .checksums import _VERIFIED, _cache_key, _mismatch

__all__ = ["DOWNLOAD_RETRIES", "DOWNLOAD_TIMEOUT", "RETRY_BACKOFF"]

#: Seconds to wait for a mirror to answer (per socket operation).
DOWNLOAD_TIMEOUT = 30.0
#: Extra attempts per mirror after a transient failure.
DOWNLOAD_RETRIES = 2
#: Seconds before the first retry; doubled for each further one.
RETRY_BACKOFF = 1.0

_CHUNK = 1 << 16
_USER_AGENT = "convlib-datasets/0.1 (Python urllib)"


class _Transient(Exception):
    """A failure worth retrying on the same mirror."""


class _Permanent(Exception):
    """A failure that retrying the same mirror will not fix."""


class _TargetUnusable(Exception):
    """The destination folder cannot be written."""


def _progress(total: int | None, name: str, quiet: bool) -> Any:
    if quiet:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(
        total=total,
        desc=name,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        leave=False,
    )


def _fetch_into(
    url: str, dest: Path, expected: Mapping[str, str], timeout: float, quiet: bool
) -> None:
    """Download ``url`` and install it at ``dest`` only if its digests match.

    The bytes go through :func:`convlib._files.atomic_write`: a temporary
    file next to ``dest``, renamed into place when complete and verified;
    any failure (network, checksum, disk, Ctrl-C) removes it and leaves
    ``dest`` as it was.
    """
    folder, name = dest.parent, dest.name
    try:
        with atomic_write(dest) as out:
            _stream(url, out, folder, name, expected, timeout, quiet)
    except OSError as exc:  # creating, syncing or renaming the file (network errors are wrapped)
        raise _TargetUnusable(f"cannot write {dest}: {exc}") from exc


def _stream(
    url: str,
    out: BinaryIO,
    folder: Path,
    name: str,
    expected: Mapping[str, str],
    timeout: float,
    quiet: bool,
) -> None:
    """Copy ``url`` into ``out``, hashing on the way; raise unless the digests match."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        msg = f"HTTP {exc.code} {exc.reason}"
        if exc.code in (408, 425, 429) or exc.code >= 500:
            raise _Transient(msg) from exc
        raise _Permanent(msg) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, socket.gaierror):
            raise _Permanent(f"cannot resolve the host ({exc.reason})") from exc
        raise _Transient(f"cannot connect ({exc.reason})") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _Transient(f"{type(exc).__name__}: {exc}") from exc
    with response:
        length_header = response.headers.get("Content-Length")
        length = int(length_header) if length_header and length_header.isdigit() else None
        hashers = {a: hashlib.new(a, usedforsecurity=False) for a in expected}
        received = 0
        bar = _progress(length, name, quiet)
        try:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise _Transient(
                        f"connection failed after {received} bytes ({type(exc).__name__}: {exc})"
                    ) from exc
                if not chunk:
                    break
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise _TargetUnusable(f"cannot write into {folder}: {exc}") from exc
                for h in hashers.values():
                    h.update(chunk)
                received += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    if length is not None and received != length:
        raise _Transient(f"connection closed after {received} of {length} bytes (truncated)")
    reason = _mismatch({a: h.hexdigest() for a, h in hashers.items()}, expected)
    if reason is not None:
        raise _Permanent(f"{reason} ({received} bytes received)")


def _download(
    name: str,
    folder: Path,
    mirrors: Sequence[str],
    expected: Mapping[str, str],
    *,
    timeout: float,
    retries: int,
    quiet: bool,
    failures: list[str],
) -> Path | None:
    """Try every mirror; return the installed file or ``None`` (see ``failures``).

    Raises ``_TargetUnusable`` if ``folder`` cannot be written.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _TargetUnusable(f"cannot create {folder}: {exc}") from exc
    dest = folder / name
    for base in mirrors:
        url = base + name
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(RETRY_BACKOFF * 2 ** (attempt - 1))
            try:
                _fetch_into(url, dest, expected, timeout, quiet)
            except _Permanent as exc:
                failures.append(f"{url}: {exc}")
                break
            except _Transient as exc:
                failures.append(f"{url} (attempt {attempt + 1} of {retries + 1}): {exc}")
                continue
            _VERIFIED[_cache_key(dest, expected)] = (True, "")
            return dest
    return None


def _validate_mirrors(mirrors: Any) -> tuple[str, ...]:
    if isinstance(mirrors, str):
        mirrors = (mirrors,)
    if not isinstance(mirrors, Sequence) or not all(isinstance(m, str) and m for m in mirrors):
        raise TypeError(f"mirrors must be a sequence of base URLs (strings), got {mirrors!r}")
    if not mirrors:
        raise ValueError("mirrors must contain at least one base URL")
    return tuple(m if m.endswith("/") else m + "/" for m in mirrors)
