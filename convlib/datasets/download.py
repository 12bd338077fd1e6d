"""Downloading a verified file with pooch: mirrors in order, retries, known digests.

Each attempt is one :func:`pooch.retrieve` call: pooch streams the file into
a temporary file in the destination folder, checks its known hash, and only
then moves it into place, so an interrupted or corrupt download never leaves
a file that looks complete. pooch has no list of mirrors and retries every
failure alike, so convlib keeps the loop: the mirrors are tried in order, a
transient failure (timeout, dropped connection, HTTP 5xx/429) is retried on
the same mirror with back-off, a 404 or a checksum mismatch moves on to the
next mirror at once. What convlib adds to each attempt is the downloader it
hands to pooch (:class:`_Attempt`):

* the temporary file gets the mode a new file gets from the umask
  (``0o644`` under the usual ``022``; pooch's :mod:`tempfile` would give
  ``0o600``, and the move keeps it), so a shared data folder stays readable;
* a tqdm bar named after the file (unless ``quiet``);
* every digest of the table beyond the one pooch checks (MD5 beside
  SHA-256) is checked before the move;
* ``file://`` mirrors (a folder on disk), which pooch does not know;
* failures come back as one line saying what went wrong.

pooch (and requests, which it uses) is imported only here and by
:func:`convlib.datasets.user_cache_dir`, when a download or the per-user
cache is needed: ``import convlib`` and loading from ``root=`` or
``$CONVLIB_DATA`` never import it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sys
import time
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from .checksums import _VERIFIED, _cache_key, _file_digests, _mismatch

__all__ = ["DOWNLOAD_RETRIES", "DOWNLOAD_TIMEOUT", "RETRY_BACKOFF"]

#: Seconds to wait for a mirror to answer (per socket operation).
DOWNLOAD_TIMEOUT = 30.0
#: Extra attempts per mirror after a transient failure.
DOWNLOAD_RETRIES = 2
#: Seconds before the first retry; doubled for each further one.
RETRY_BACKOFF = 1.0

_CHUNK = 1 << 16
_USER_AGENT = "convlib-datasets/0.3 (pooch)"


class _Transient(Exception):
    """A failure worth retrying on the same mirror."""


class _Permanent(Exception):
    """A failure that retrying the same mirror will not fix."""


class _TargetUnusable(Exception):
    """The destination folder cannot be written."""


def _import_pooch() -> ModuleType:
    """pooch, or an ImportError that says how to do without it.

    pooch imports ``tqdm.auto``, which inside a Jupyter kernel without
    ipywidgets warns "IProgress not found" as it is imported. convlib never
    uses pooch's progress bars (it draws its own), so that warning, which
    would otherwise appear on every book page that loads a data set, is
    silenced for this import only.
    """
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="IProgress not found")
            import pooch
    except ImportError as exc:
        raise ImportError(
            "downloading a data set (and finding the per-user cache) needs pooch, a dependency "
            "of convlib: pip install pooch -- or put the files in <dir>/mnist/ (or "
            "<dir>/fashion-mnist/) and pass root=<dir> or set CONVLIB_DATA=<dir>"
        ) from exc
    return pooch


@contextlib.contextmanager
def _pooch_log_muted(pooch: ModuleType) -> Iterator[None]:
    """Hide pooch's INFO lines ("Downloading data from ..."); convlib prints its own."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _recreate_with_umask(tmp: str) -> None:
    """Replace pooch's empty temporary file by one with the mode :func:`open` gives a new file."""
    os.unlink(tmp)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    os.close(os.open(tmp, flags, 0o666))  # the umask applies, as for any new file


def _copy_local(url: str, output_file: str) -> None:
    """Copy a ``file://`` URL (a mirror that is a folder on disk)."""
    source = urllib.request.url2pathname(urllib.parse.urlsplit(url).path)
    try:
        src = open(source, "rb")  # noqa: SIM115 -- closed by the with below
    except OSError as exc:
        raise _Permanent(f"cannot open {source} ({exc.strerror or exc})") from exc
    with src, open(output_file, "wb") as out:
        shutil.copyfileobj(src, out, _CHUNK)


class _Attempt:
    """The downloader handed to :func:`pooch.retrieve`: one attempt on one URL.

    Raises ``_Transient`` or ``_Permanent`` (which pooch lets through, after
    removing its temporary file) with a one-line reason.
    """

    def __init__(
        self, pooch: ModuleType, others: Mapping[str, str], timeout: float, quiet: bool
    ) -> None:
        self.pooch = pooch
        self.others = others  # digests pooch does not check
        self.timeout = timeout
        self.quiet = quiet
        self.called = False

    def __call__(self, url: str, output_file: str, _pooch: Any) -> None:
        from requests import exceptions as rex  # requests is a dependency of pooch

        self.called = True
        _recreate_with_umask(output_file)
        if urllib.parse.urlsplit(url).scheme == "file":
            _copy_local(url, output_file)
        else:
            bar = self._progress(url)
            http = self.pooch.HTTPDownloader(
                progressbar=bar if bar is not None else False,
                chunk_size=_CHUNK,
                timeout=self.timeout,
                headers={"User-Agent": _USER_AGENT},
            )
            try:
                http(url, output_file, None)
            except rex.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else 0
                phrase = exc.response.reason if exc.response is not None else ""
                msg = f"HTTP {status} {phrase}".rstrip()
                if status in (408, 425, 429) or status >= 500:
                    raise _Transient(msg) from exc
                raise _Permanent(msg) from exc
            except rex.ChunkedEncodingError as exc:
                raise _Transient(
                    f"connection closed before the end of the file ({_cause(exc)})"
                ) from exc
            except (rex.Timeout, rex.ConnectionError) as exc:
                text = _cause(exc)
                if "timed out" in text.lower():
                    detail = "" if text.lower() == "timed out" else f" ({text})"
                    raise _Transient(f"timed out{detail}") from exc
                if "resolve" in text or "getaddrinfo" in text or "not known" in text:
                    raise _Permanent(f"cannot resolve the host ({text})") from exc
                raise _Transient(f"cannot connect ({text})") from exc
            except rex.RequestException as exc:  # invalid URL, too many redirects, ...
                raise _Permanent(f"{type(exc).__name__}: {_cause(exc)}") from exc
            finally:
                if bar is not None:
                    bar.close()
        if self.others:
            reason = _mismatch(_file_digests(Path(output_file), list(self.others)), self.others)
            if reason is not None:
                raise _Permanent(reason)

    def _progress(self, url: str) -> Any:
        if self.quiet:
            return None
        from tqdm import tqdm

        # A tqdm bar is false while its total is 0 or None, and pooch only
        # updates a bar that is true; pooch sets the real total (Content-Length).
        return tqdm(
            total=1,
            desc=url.rsplit("/", 1)[-1],
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=sys.stderr,
            leave=False,
        )


def _cause(exc: BaseException) -> str:
    """The innermost message of a requests/urllib3 exception chain, on one line."""
    inner: BaseException = exc
    while inner.__context__ is not None and inner.__context__ is not inner:
        inner = inner.__context__
    text = str(inner) or str(exc) or type(exc).__name__
    return " ".join(text.split())


def _fetch(url: str, dest: Path, expected: Mapping[str, str], timeout: float, quiet: bool) -> None:
    """One attempt: download ``url`` to ``dest`` with pooch, verified against ``expected``."""
    pooch = _import_pooch()
    algo = "sha256" if "sha256" in expected else sorted(expected)[0]
    others = {a: d for a, d in expected.items() if a != algo}
    attempt = _Attempt(pooch, others, timeout, quiet)
    try:
        with _pooch_log_muted(pooch):
            pooch.retrieve(
                url,
                known_hash=f"{algo}:{expected[algo]}",
                fname=dest.name,
                path=dest.parent,
                downloader=attempt,
                progressbar=False,
            )
    except (_Transient, _Permanent):
        raise
    except ValueError as exc:  # pooch: "... expected sha256:<hex> but got <hex>. ..."
        found = re.search(r"expected (\w+):(\w+) but got (\w+)", str(exc))
        if found is None:
            raise _Permanent(f"checksum mismatch ({exc})") from exc
        name, want, got = found.groups()
        raise _Permanent(f"checksum mismatch: {name} is {got}, expected {want}") from exc
    except OSError as exc:  # creating, writing or moving the file
        raise _TargetUnusable(f"cannot write {dest}: {exc}") from exc
    if not attempt.called and others:  # pooch found dest with the right {algo}: check the rest
        reason = _mismatch(_file_digests(dest, list(others)), others)
        if reason is not None:
            raise _Permanent(reason)


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
                _fetch(url, dest, expected, timeout, quiet)
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
